import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

const BACKUP_TAG_PRESENT = { Null: { 'aws:ResourceTag/aws:backup:source-resource': 'false' } };

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
    new iam.PolicyStatement({
      sid: 'DescribeEc2',
      actions: [
        'ec2:DescribeVolumes', 'ec2:DescribeSnapshots', 'ec2:DescribeTags', 'ec2:DescribeImages', 'ec2:DescribeInstances',
        'ec2:DescribeInstanceAttribute', 'ec2:DescribeInstanceCreditSpecifications', 'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeElasticGpus', 'ec2:DescribeSpotInstanceRequests', 'ec2:DescribeSnapshotTierStatus', 'tag:GetResources',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'CreateRecoveryPoints',
      actions: ['ec2:CreateSnapshot', 'ec2:CreateImage', 'ec2:CopyImage'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'TagAndCopySnapshots',
      actions: ['ec2:CreateTags', 'ec2:CopySnapshot'],
      resources: [snapshotArn(), `arn:${p}:ec2:*:*:image/*`],
    }),
    new iam.PolicyStatement({
      sid: 'ExpireTierAndShareOwnRecoveryPoints',
      actions: ['ec2:DeleteSnapshot', 'ec2:DeregisterImage', 'ec2:ModifySnapshotTier', 'ec2:ModifySnapshotAttribute', 'ec2:ModifyImageAttribute'],
      resources: ['*'],
      conditions: BACKUP_TAG_PRESENT,
    }),
    new iam.PolicyStatement({
      sid: 'CopyBetweenVaults',
      actions: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'],
      resources: [`arn:${p}:backup:*:*:backup-vault:*`],
    }),
    new iam.PolicyStatement({
      sid: 'CopyFromVault',
      actions: ['backup:CopyFromBackupVault'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      // AWSBackupServiceRolePolicyForBackup (v30, RecoveryPointTaggingPermissions): the service
      // tags the recovery points of its own account
      sid: 'TagOwnRecoveryPoints',
      actions: ['backup:TagResource'],
      resources: [`arn:${p}:backup:*:*:recovery-point:*`],
      conditions: { StringEquals: { 'aws:PrincipalAccount': '${aws:ResourceAccount}' } },
    }),
    new iam.PolicyStatement({ sid: 'DescribeKeys', actions: ['kms:DescribeKey'], resources: ['*'] }),
    new iam.PolicyStatement({
      sid: 'GrantsForAwsResources',
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
    new iam.PolicyStatement({
      sid: 'EncryptedEbsSnapshots',
      actions: ['kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo', 'kms:ReEncryptFrom'],
      resources: [`arn:${p}:kms:*:*:key/*`],
      conditions: {
        'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'aws:ebs:id' },
        'StringLike': { 'kms:ViaService': 'ec2.*.amazonaws.com' },
      },
    }),
  ];
  if (options.windowsVss) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'WindowsVss',
        actions: ['ssm:SendCommand'],
        resources: [`arn:${p}:ssm:*:*:document/AWSEC2-CreateVssSnapshot`, `arn:${p}:ec2:*:*:instance/*`],
      }),
      new iam.PolicyStatement({
        sid: 'WindowsVssStatus',
        actions: ['ssm:CancelCommand', 'ssm:GetCommandInvocation'],
        resources: ['*'],
      }),
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
    new iam.PolicyStatement({
      sid: 'DescribeForRestore',
      actions: [
        'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeVolumes',
        'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones',
        'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeInternetGateways',
        'ec2:DescribeSnapshotTierStatus', 'ec2:DescribeRouteTables', 'kms:DescribeKey',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'RestoreVolumes',
      actions: ['ec2:CreateVolume', 'ec2:DeleteVolume'],
      resources: [snapshotArn(), `arn:${p}:ec2:*:*:volume/*`],
    }),
    new iam.PolicyStatement({
      sid: 'RestoreInstances',
      actions: ['ec2:RunInstances'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'CleanUpRestoredInstances',
      actions: ['ec2:TerminateInstances'],
      resources: [`arn:${p}:ec2:*:*:instance/*`],
    }),
    new iam.PolicyStatement({
      sid: 'TagOnCreate',
      actions: ['ec2:CreateTags'],
      resources: [`arn:${p}:ec2:*:*:instance/*`, `arn:${p}:ec2:*:*:volume/*`],
      conditions: { StringLike: { 'ec2:CreateAction': ['RunInstances', 'CreateVolume'] } },
    }),
    new iam.PolicyStatement({
      // AWSBackupServiceRolePolicyForRestores (v35, EC2DeleteAndRestorePermissions): archived
      // recovery points are restored to the standard tier, and the service cleans up its own
      // temporary snapshots; both only on recovery points AWS Backup created
      sid: 'RestoreFromArchiveTierAndCleanUp',
      actions: ['ec2:RestoreSnapshotTier', 'ec2:DeleteSnapshot'],
      resources: [snapshotArn()],
      conditions: BACKUP_TAG_PRESENT,
    }),
    new iam.PolicyStatement({
      // ... (EC2CreateTagsScopedPermissions): the source-resource tag only, on snapshots and instances
      sid: 'TagSourceResource',
      actions: ['ec2:CreateTags'],
      resources: [snapshotArn(), `arn:${p}:ec2:*:*:instance/*`],
      conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['aws:backup:source-resource'] } },
    }),
    new iam.PolicyStatement({
      sid: 'EncryptedVolumes',
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo', 'kms:ReEncryptFrom'],
      resources: ['*'],
      conditions: { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } },
    }),
    new iam.PolicyStatement({
      sid: 'GrantsForAwsResources',
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
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
