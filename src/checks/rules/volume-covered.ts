import { BackupCoverage } from '../../core/coverage';
import { describeTags, tagsOf } from '../model';
import { COMPLIANT, defineRule, nonCompliant } from '../rule';

/** Every EBS volume of the app is protected by some backup mechanism. */
export const VolumeCovered = defineRule('VolumeCovered', 'AWS::EC2::Volume', {
  summary: 'every EBS volume is covered by a DLM policy, an AWS Backup selection, a snapshot maintenance window or a declared snapshot job',
  fix: "tag the volume to match a policy's target tags, select it in an AWS Backup plan, or attach it to a covered instance",
}, (resource, { coverage }) => {
  if (coverage.volumeCoverage(resource).length > 0) {
    return COMPLIANT;
  }
  const attached = coverage.instancesOf(resource).map((i) => i.path);
  return nonCompliant(
    `EBS volume ${resource.path} (tags: ${describeTags(tagsOf(resource.properties.Tags))}` +
    `${attached.length > 0 ? `; attached to ${attached.join(', ')}` : ''}) is covered by no backup policy: ` +
    "tag it to match a DLM policy's target tags or an AWS Backup selection, attach it to a covered instance, " +
    `or declare the job that snapshots it with the '${BackupCoverage.METADATA_KEY}' metadata (BackupCoverage.declare)`,
    'Properties/Tags',
  );
});
