/**
 * What the VSS agent (`AWSEC2-CreateVssSnapshot`, and DLM's `AWS_VSS_BACKUP` pre-script) does with
 * the instance's role: the actions of AWS's `AWSEC2VssSnapshotPolicy` (read at version v2) that a
 * snapshot-only run uses, each with the resource types it is authorized on. `ec2:CreateImage` is
 * left out: the library's windows pass `CreateAmi=False`. The role parity test keeps this list
 * equal to the managed policy's current version.
 */
export const VSS_AGENT_PERMISSIONS: ReadonlyArray<{ readonly action: string; readonly resourceTypes: readonly string[] }> = [
  { action: 'ec2:DescribeInstanceAttribute', resourceTypes: ['instance'] },
  { action: 'ec2:CreateSnapshots', resourceTypes: ['instance', 'volume', 'snapshot'] },
  { action: 'ec2:CreateTags', resourceTypes: ['snapshot'] },
  { action: 'ec2:DescribeSnapshots', resourceTypes: ['*'] },
  { action: 'ec2:DescribeImages', resourceTypes: ['*'] },
];

/** The AWS managed policy whose attachment grants all of `VSS_AGENT_PERMISSIONS`. */
export const VSS_MANAGED_POLICY = 'AWSEC2VssSnapshotPolicy';
