/**
 * The gold/silver/bronze baseline: one tag (`backup-tier`) decides how every instance of the
 * account is protected, for the whole account and region.
 *
 * - `BackupBaseline` (the workload account, us-east-1): gold = VSS (Windows) and fsfreeze (Linux)
 *   snapshots every 4 hours by the `backup-platform` tag, a daily AWS Backup plan with a
 *   compliance-mode Vault Lock copied to eu-west-1 and to the archive account, restore testing
 *   and a weekly RestoreDrill; silver = daily DLM snapshots copied to eu-west-1 and locked in
 *   governance mode; bronze = daily DLM snapshots kept locally. Always on: the write-once guard
 *   (attached to the operators' role), a locked Recycle Bin, block public sharing, the DLM default
 *   policy as the safety net for untagged volumes, alarms, a dashboard, EbsBackupChecks on the app,
 *   and `coverage-report.md` in cdk.out.
 * - `BackupDrVault` (the workload account, eu-west-1): the vault that receives gold's DR copies.
 * - `BackupArchive` (the archive account): the vault that receives gold's archive copies.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BackupArchiveVault, BackupTier, DeploymentPrerequisites, EbsBackupBaseline, Retention, VaultLock } from 'cdk-ebs-backup';

const WORKLOAD = '123456789012';
const ARCHIVE = '111122223333';

export function build(app: App): void {
  // what CloudFormation cannot create is in place (README "Before you deploy")
  Validations.of(app).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: "the management account turned on AWS Backup's cross-account backup for the organization (gold copies to the archive account)" });
  const stack = new Stack(app, 'BackupBaseline', { env: { account: WORKLOAD, region: 'us-east-1' } });
  const baseline = new EbsBackupBaseline(stack, 'Baseline', {
    tiers: [
      BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: ARCHIVE, linuxMountPoints: ['/data', '/var/lib/postgresql'] }),
      BackupTier.silver({ retain: Retention.count(21), drRetain: Retention.age(Duration.days(21)) }),
      BackupTier.bronze(),
    ],
    breakGlassPrincipalArns: [`arn:aws:iam::${WORKLOAD}:role/BreakGlass`],
    defaultPolicy: true,
    dashboardName: 'ebs-backup-baseline',
  });
  baseline.protect(iam.Role.fromRoleName(stack, 'Operators', 'platform-operators'));

  // the vault in eu-west-1 that receives gold's DR copies (synthesis fails without it)
  baseline.addDrVaultStack('BackupDrVault');

  const archive = new Stack(app, 'BackupArchive', { env: { account: ARCHIVE, region: 'us-east-1' } });
  new BackupArchiveVault(archive, 'ArchiveVault', {
    sourceAccounts: [WORKLOAD],
    vaultName: EbsBackupBaseline.DEFAULT_ARCHIVE_VAULT_NAME,
    vaultLock: VaultLock.governance({ minRetention: Duration.days(30), maxRetention: Duration.days(3650) }),
    breakGlassPrincipalArns: [`arn:aws:iam::${ARCHIVE}:role/BreakGlass`],
  });
}
