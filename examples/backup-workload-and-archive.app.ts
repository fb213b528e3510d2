/**
 * A workload account backs up its EBS volumes and EC2 instances with AWS Backup into a
 * compliance-locked vault, copies every recovery point to a vault in an archive account, tests
 * restores weekly and delivers audit evidence; the archive account's stack creates the receiving
 * vault, which admits copies only from the workload account.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupArchiveVault, BackupCondition, BackupVaultPolicy, DeploymentPrerequisites, Retention, VaultLock } from 'cdk-ebs-backup';

const WORKLOAD = { account: '123456789012', region: 'us-east-1' };
const ARCHIVE = { account: '111122223333', region: 'eu-west-1' };
const ARCHIVE_VAULT_NAME = 'ebs-archive';

export function build(app: App): void {
  // what CloudFormation cannot create is in place (README "Before you deploy")
  Validations.of(app).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: "the management account turned on AWS Backup's cross-account backup for the organization" });
  // --- archive account: the receiving vault
  const archiveStack = new Stack(app, 'EbsBackupArchive', { env: ARCHIVE });
  const archive = new BackupArchiveVault(archiveStack, 'ReceivingVault', {
    sourceAccounts: [WORKLOAD.account],
    vaultName: ARCHIVE_VAULT_NAME,
    vaultLock: VaultLock.compliance({ minRetention: Duration.days(90), maxRetention: Duration.days(3650), changeableFor: Duration.days(7) }),
    breakGlassPrincipalArns: [`arn:aws:iam::${ARCHIVE.account}:role/BreakGlass`],
  });
  Validations.of(archive).acknowledge({ id: BackupVaultPolicy.COMPLIANCE_LOCK_WARNING, reason: 'regulatory WORM retention' });

  // --- workload account: plan, locked vault, copies, restore testing, audit
  const workload = new Stack(app, 'EbsBackupWorkload', { env: WORKLOAD });
  const policy = new BackupVaultPolicy(workload, 'EbsVault', {
    purpose: 'ebs-dr',
    vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(3650), changeableFor: Duration.days(3) }),
    rules: [
      {
        name: 'daily',
        schedule: events.Schedule.cron({ hour: '5', minute: '0' }),
        retain: Retention.age(Duration.days(35)),
        copyTo: [{
          // literal ARN: the archive stack lives in another account, so no cross-stack reference
          vaultArn: `arn:aws:backup:${ARCHIVE.region}:${ARCHIVE.account}:backup-vault:${ARCHIVE_VAULT_NAME}`,
          retain: Retention.age(Duration.days(365)),
          destinationLock: archive.vaultLock,
        }],
      },
      {
        name: 'monthly',
        schedule: events.Schedule.cron({ day: '1', hour: '3', minute: '0' }),
        retain: Retention.age(Duration.days(400)),
        moveToColdStorageAfter: Duration.days(30),
      },
    ],
    resources: [backup.BackupResource.fromTag('Backup', 'daily')],
    conditions: [BackupCondition.tagNotEquals('Environment', 'dev')],
    windowsVss: true,
    breakGlassPrincipalArns: [`arn:aws:iam::${WORKLOAD.account}:role/BreakGlass`],
    restoreTesting: {
      schedule: events.Schedule.cron({ weekDay: 'SAT', hour: '2', minute: '0' }),
      validationWindow: Duration.hours(4),
    },
    audit: { reportKeyPrefix: 'ebs-backup-audit' },
  });
  // the immutability of both compliance locks is intended
  Validations.of(policy).acknowledge({ id: BackupVaultPolicy.COMPLIANCE_LOCK_WARNING, reason: 'regulatory WORM retention' });
}
