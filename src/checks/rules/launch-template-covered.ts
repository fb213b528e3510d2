import { COMPLIANT, defineRule, nonCompliant, NOT_APPLICABLE } from '../rule';

/**
 * Instances launched from a launch template (alone or by Auto Scaling groups) are protected.
 * Templates used by an `AWS::EC2::Instance` are checked through that instance.
 */
export const LaunchTemplateCovered = defineRule('LaunchTemplateCovered', 'AWS::EC2::LaunchTemplate', {
  summary: 'instances launched from every launch template carry tags that a backup policy targets',
  fix: "add an instance or volume TagSpecification (or a PropagateAtLaunch tag on the Auto Scaling group) that a policy's target tags match",
}, (resource, { app, coverage }) => {
  if (app.referrers(resource, 'AWS::EC2::Instance').length > 0) {
    return NOT_APPLICABLE;
  }
  const uncovered = coverage.launchTemplateCoverage(resource).filter((u) => u.sources.length === 0);
  if (uncovered.length === 0) {
    return COMPLIANT;
  }
  return nonCompliant(
    `launch template ${resource.path}: ${uncovered.map((u) => u.use).join(', ')} would be covered by no backup policy: ` +
    'add an instance or volume TagSpecification, or a PropagateAtLaunch tag on the Auto Scaling group, ' +
    "that a DLM policy's target tags or an AWS Backup selection match",
    'Properties/LaunchTemplateData/TagSpecifications',
  );
});
