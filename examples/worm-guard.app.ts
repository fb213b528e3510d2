/**
 * Write-once protection for EBS backups, in one account and across an AWS Organization.
 *
 * - `WormGuard` (a workload account): deny statements attached to the operators' role, a locked
 *   Recycle Bin for snapshots and AMIs, compliance-mode snapshot lock for new purpose-tagged
 *   snapshots, block public access, and the backup KMS key protected from deletion.
 * - `WormOrganization` (the management account): the same deny statements as a service control
 *   policy on the workloads OU, exempting every member account's DLM and AWS Backup roles by
 *   pattern, plus an EC2 declarative policy that blocks public sharing.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DeploymentPrerequisites, Retention, SnapshotLock, SnapshotLockMode, WormServiceControlPolicy, WormSnapshotGuard } from 'cdk-ebs-backup';

export function build(app: App): void {
  // what CloudFormation cannot create is in place (README "Before you deploy")
  Validations.of(app).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the SERVICE_CONTROL_POLICY and DECLARATIVE_POLICY_EC2 policy types are enabled on the organization root' });
  const account = new Stack(app, 'WormGuard', { env: { account: '123456789012', region: 'us-east-1' } });
  const operatorsRole = iam.Role.fromRoleName(account, 'Operators', 'platform-operators');
  const backupKey = kms.Key.fromKeyArn(account, 'BackupKey',
    'arn:aws:kms:us-east-1:123456789012:key/0b9e1f3c-7a51-4c8e-9d2b-5f6a7c8d9e0f');

  const guard = new WormSnapshotGuard(account, 'Guard', {
    breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
    recycleBin: { retain: Retention.age(Duration.days(30)), lockUnlockDelay: Duration.days(7) },
    blockPublicSharing: true,
    snapshotLock: { mode: SnapshotLockMode.compliance(Duration.days(35), Duration.hours(24)) },
    keys: [backupKey],
  });
  guard.protect(operatorsRole);
  // compliance-mode locks cannot be removed by anyone: acknowledged as the deliberate choice it is
  Validations.of(guard).acknowledge({ id: SnapshotLock.COMPLIANCE_WARNING, reason: 'backups must be immutable for 35 days (regulatory retention)' });

  const org = new Stack(app, 'WormOrganization', { env: { account: '111111111111', region: 'us-east-1' } });
  new WormServiceControlPolicy(org, 'WormScp', {
    breakGlassPrincipalArns: ['arn:aws:iam::*:role/BreakGlass'],
    exemptPrincipalArns: [
      'arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole',
      'arn:aws:iam::*:role/service-role/AWSBackupDefaultServiceRole',
    ],
    // this app's own DLM roles live in the workload account: the patterns above name them
    exemptRegisteredRetentionRoles: false,
    targetIds: ['ou-ab12-workloads1'],
    blockPublicSharing: true,
  });
}
