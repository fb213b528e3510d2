import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

const BACKUP_TAG_PRESENT = { Null: { 'aws:ResourceTag/aws:backup:source-resource': 'false' } };

/** One Allow statement, as AWS's managed policies name theirs (by `Sid`). */
function allow(sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions, resources, conditions });
}

/** KMS grants for the EBS volumes and snapshots the service creates, in both roles. */
function grantsForAwsResources(): iam.PolicyStatement {
  return allow('GrantsForAwsResources', ['kms:CreateGrant'], ['*'], { Bool: { 'kms:GrantIsForAWSResource': 'true' } });
}

function snapshotArn(): string {
  return `arn:${Aws.PARTITION}:ec2:*::snapshot/*`;
}

/**
 * The permissions AWS Backup needs to back up, copy, tier and expire EBS volumes and EC2
 * instances: the EBS and EC2 part of AWS's `AWSBackupServiceRolePolicyForBackup`, without the
 * other services that policy covers. Deletion and tiering are limited to recovery points that
 * AWS Backup itself created (tagged `aws:backup:source-resource`).
 */
export function backupRoleStatements(options: { readonly windowsVss: boolean }): iam.PolicyStatement[] {
  const p = Aws.PARTITION;
  const statements = [
    allow('DescribeEc2', [
      'ec2:DescribeVolumes', 'ec2:DescribeSnapshots', 'ec2:DescribeTags', 'ec2:DescribeImages', 'ec2:DescribeInstances',
      'ec2:DescribeInstanceAttribute', 'ec2:DescribeInstanceCreditSpecifications', 'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeElasticGpus', 'ec2:DescribeSpotInstanceRequests', 'ec2:DescribeSnapshotTierStatus', 'tag:GetResources',
    ], ['*']),
    allow('CreateRecoveryPoints', ['ec2:CreateSnapshot', 'ec2:CreateImage', 'ec2:CopyImage'], ['*']),
    allow('TagAndCopySnapshots', ['ec2:CreateTags', 'ec2:CopySnapshot'], [snapshotArn(), `arn:${p}:ec2:*:*:image/*`]),
    allow('ExpireTierAndShareOwnRecoveryPoints', ['ec2:DeleteSnapshot', 'ec2:DeregisterImage', 'ec2:ModifySnapshotTier', 'ec2:ModifySnapshotAttribute', 'ec2:ModifyImageAttribute'], ['*'], BACKUP_TAG_PRESENT),
    allow('CopyBetweenVaults', ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'], [`arn:${p}:backup:*:*:backup-vault:*`]),
    allow('CopyFromVault', ['backup:CopyFromBackupVault'], ['*']),
    // AWSBackupServiceRolePolicyForBackup (v30, RecoveryPointTaggingPermissions): the service
    // tags the recovery points of its own account
    allow('TagOwnRecoveryPoints', ['backup:TagResource'], [`arn:${p}:backup:*:*:recovery-point:*`], { StringEquals: { 'aws:PrincipalAccount': '${aws:ResourceAccount}' } }),
    allow('DescribeKeys', ['kms:DescribeKey'], ['*']),
    grantsForAwsResources(),
    allow('EncryptedEbsSnapshots', ['kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo', 'kms:ReEncryptFrom'], [`arn:${p}:kms:*:*:key/*`], {
      'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'aws:ebs:id' },
      'StringLike': { 'kms:ViaService': 'ec2.*.amazonaws.com' },
    }),
  ];
  if (options.windowsVss) {
    statements.push(
      allow('WindowsVss', ['ssm:SendCommand'], [`arn:${p}:ssm:*:*:document/AWSEC2-CreateVssSnapshot`, `arn:${p}:ec2:*:*:instance/*`]),
      allow('WindowsVssStatus', ['ssm:CancelCommand', 'ssm:GetCommandInvocation'], ['*']),
    );
  }
  return statements;
}

/**
 * The permissions AWS Backup needs to restore EBS volumes and EC2 instances, and for restore
 * testing to delete what it restored: the EBS and EC2 part of AWS's
 * `AWSBackupServiceRolePolicyForRestores`.
 */
export function restoreRoleStatements(): iam.PolicyStatement[] {
  const p = Aws.PARTITION;
  return [
    allow('DescribeForRestore', [
      'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeVolumes',
      'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones',
      'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeInternetGateways',
      'ec2:DescribeSnapshotTierStatus', 'ec2:DescribeRouteTables', 'kms:DescribeKey',
    ], ['*']),
    allow('RestoreVolumes', ['ec2:CreateVolume', 'ec2:DeleteVolume'], [snapshotArn(), `arn:${p}:ec2:*:*:volume/*`]),
    allow('RestoreInstances', ['ec2:RunInstances'], ['*']),
    allow('CleanUpRestoredInstances', ['ec2:TerminateInstances'], [`arn:${p}:ec2:*:*:instance/*`]),
    allow('TagOnCreate', ['ec2:CreateTags'], [`arn:${p}:ec2:*:*:instance/*`, `arn:${p}:ec2:*:*:volume/*`], { StringLike: { 'ec2:CreateAction': ['RunInstances', 'CreateVolume'] } }),
    // AWSBackupServiceRolePolicyForRestores (v35, EC2DeleteAndRestorePermissions): archived
    // recovery points are restored to the standard tier, and the service cleans up its own
    // temporary snapshots; both only on recovery points AWS Backup created
    allow('RestoreFromArchiveTierAndCleanUp', ['ec2:RestoreSnapshotTier', 'ec2:DeleteSnapshot'], [snapshotArn()], BACKUP_TAG_PRESENT),
    // ... (EC2CreateTagsScopedPermissions): the source-resource tag only, on snapshots and instances
    allow('TagSourceResource', ['ec2:CreateTags'], [snapshotArn(), `arn:${p}:ec2:*:*:instance/*`], { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['aws:backup:source-resource'] } }),
    allow('EncryptedVolumes', ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo', 'kms:ReEncryptFrom'], ['*'], { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } }),
    grantsForAwsResources(),
  ];
}

/**
 * The principal of roles that AWS Backup assumes. No `aws:SourceAccount` condition here: AWS
 * documents that condition for the service's access to SNS topics, not for role assumption, and
 * a condition the service does not send would stop every backup silently.
 */
export function backupServicePrincipal(): iam.IPrincipal {
  return new iam.ServicePrincipal('backup.amazonaws.com');
}
