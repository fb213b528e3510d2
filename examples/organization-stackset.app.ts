/**
 * The baseline for a whole AWS Organization, with CloudFormation StackSets.
 *
 * - `BackupOrganization` (the management account): the baseline as a service-managed StackSet,
 *   auto-deployed to every account of the workloads OU in us-east-1 and us-west-2 (and to
 *   accounts that join later), a second StackSet with the vault receiving DR copies in eu-west-1,
 *   the write-once SCP and the EC2 declarative policy that blocks public sharing. The member
 *   template is self-contained: no assets, no bootstrap in the member accounts.
 * - `BackupArchive` (the archive account): the vault that receives every account's archive
 *   copies, admitting the whole organization.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { BackupArchiveVault, BackupTier, BaselineStackSet, DeploymentPrerequisites, EbsBackupBaseline, VaultLock } from 'cdk-ebs-backup';

const ARCHIVE = '111122223333';

export function build(app: App): void {
  // what CloudFormation cannot create is in place (README "Before you deploy")
  Validations.of(app).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the management account activated StackSets trusted access, enabled the SCP and declarative policy types and turned on cross-account backup' });
  const management = new Stack(app, 'BackupOrganization', { env: { account: '999999999999', region: 'us-east-1' } });
  new BaselineStackSet(management, 'Baseline', {
    baseline: {
      tiers: [BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: ARCHIVE }), BackupTier.silver(), BackupTier.bronze()],
      // the role of that name in every member account (the SCP keeps the wildcard)
      breakGlassPrincipalArns: ['arn:aws:iam::*:role/BreakGlass'],
    },
    organizationalUnitIds: ['ou-ab12-workloads1'],
    regions: ['us-east-1', 'us-west-2'],
  });

  const archive = new Stack(app, 'BackupArchive', { env: { account: ARCHIVE, region: 'us-east-1' } });
  new BackupArchiveVault(archive, 'ArchiveVault', {
    sourceOrganizationId: 'o-a1b2c3d4e5',
    vaultName: EbsBackupBaseline.DEFAULT_ARCHIVE_VAULT_NAME,
    vaultLock: VaultLock.governance({ minRetention: Duration.days(30), maxRetention: Duration.days(3650) }),
    breakGlassPrincipalArns: [`arn:aws:iam::${ARCHIVE}:role/BreakGlass`],
  });
}
