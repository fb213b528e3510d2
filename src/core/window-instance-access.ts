/**
 * The template metadata key under which a snapshot maintenance window records, on its snapshot
 * task, what gives a targeted instance the window's instance permissions: its instance profile,
 * its instance role and its attachable managed policy. `EbsBackupChecks` reads it to flag targeted
 * instances whose role has none of them.
 */
export const WINDOW_INSTANCE_ACCESS_METADATA = 'cdk-ebs-backup:window-instance-access';

/** The value of `WINDOW_INSTANCE_ACCESS_METADATA` (logical ids in the task's stack). */
export interface WindowInstanceAccess {
  /** Logical id of the window's `AWS::IAM::InstanceProfile`. */
  readonly instanceProfile: string;
  /** Logical id of the window's `AWS::IAM::Role`, when the window created it. */
  readonly instanceRole?: string;
  /** Logical id of the window's `AWS::IAM::ManagedPolicy`. */
  readonly instancePolicy: string;
  /** The managed policy's name as rendered (a string, or `Fn::Join` when it holds the region). */
  readonly instancePolicyName: unknown;
}
