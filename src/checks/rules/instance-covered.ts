import { describeTags } from '../model';
import { COMPLIANT, defineRule, nonCompliant } from '../rule';

/** Every EC2 instance of the app is protected, at the instance level or through its volumes' tags. */
export const InstanceCovered = defineRule('InstanceCovered', 'AWS::EC2::Instance', {
  summary: 'every EC2 instance is covered by a DLM policy, an AWS Backup selection, a snapshot maintenance window or a declared snapshot job',
  fix: "tag the instance to match an instance policy's target tags or an AWS Backup selection",
}, (resource, { coverage }) => coverage.instanceCoverage(resource).length > 0 ? COMPLIANT : nonCompliant(
  `EC2 instance ${resource.path} (tags: ${describeTags(coverage.instanceTags(resource))}) is covered by no backup policy: ` +
  "tag it to match a DLM instance policy's target tags, an AWS Backup selection or a snapshot maintenance window's targets, " +
  'or propagate tags to its volumes (PropagateTagsToVolumeOnCreation) that a volume policy targets',
  'Properties/Tags',
));
