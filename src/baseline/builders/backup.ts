import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import { Built, TierContext } from './builder';
import { ProtectedResourceType } from '../../backup/selection';
import { VaultLockMode } from '../../backup/vault-lock';
import { BackupCopyTarget, BackupVaultPolicy } from '../../backup/vault-policy';
import { Retention } from '../../core/retention';
import { check, checkAccountId, isUnresolved, retentionAge } from '../../core/validation';
import { intervalHours, MechanismFacts, retentionText } from '../report';

/** Why `Retention.count` is refused for a tier's AWS Backup plan. */
const BACKUP_AGE_ONLY = 'AWS Backup keeps recovery points by age only (Lifecycle.DeleteAfterDays)';

/**
 * A tier's AWS Backup plan: a locked vault, copies to the DR region's vault and to the archive
 * account's vault, and AWS Backup restore testing.
 */
export function buildBackupPlan(ctx: TierContext): Built | undefined {
  const { tier, at, baseline } = ctx;
  const b = tier.definition.backupPlan;
  if (!b) {
    return undefined;
  }
  const stack = Stack.of(baseline);
  ctx.checkRegionAway(`${at}.backupPlan.drRegion`, b.drRegion);
  checkAccountId(baseline, `${at}.backupPlan.archiveAccount`, b.archiveAccount);
  const own = stack.account;
  check(b.archiveAccount === undefined || isUnresolved(b.archiveAccount) || Token.isUnresolved(own) || b.archiveAccount !== own,
    baseline, `${at}.backupPlan.archiveAccount`, "must be another account than the baseline's own", b.archiveAccount);
  const keep = retentionAge(baseline, `${at}.backupPlan.retain`, b.retain, BACKUP_AGE_ONLY);
  const drKeep = b.drRetain === undefined ? keep : retentionAge(baseline, `${at}.backupPlan.drRetain`, b.drRetain, BACKUP_AGE_ONLY);
  const copyTo: BackupCopyTarget[] = [];
  const copies: string[] = [];
  if (b.drRegion !== undefined) {
    copyTo.push({
      vaultArn: stack.formatArn({
        service: 'backup', region: b.drRegion, resource: 'backup-vault', resourceName: ctx.drVaultName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      retain: Retention.age(drKeep),
    });
    copies.push(`region ${b.drRegion} vault ${ctx.drVaultName} (${retentionText(drKeep)})`);
  }
  if (b.archiveAccount !== undefined) {
    const archiveDays = b.archiveRetain === undefined ? Duration.days(365)
      : retentionAge(baseline, `${at}.backupPlan.archiveRetain`, b.archiveRetain, BACKUP_AGE_ONLY);
    copyTo.push({
      vaultArn: stack.formatArn({
        service: 'backup', account: b.archiveAccount, resource: 'backup-vault', resourceName: ctx.archiveVaultName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      retain: Retention.age(archiveDays),
    });
    copies.push(`account ${b.archiveAccount} vault ${ctx.archiveVaultName} (${retentionText(archiveDays)})`);
  }
  const policy = new BackupVaultPolicy(ctx.scope, 'Backup', {
    purpose: tier.backupPurpose,
    rules: [{ name: `${tier.name}-daily`.slice(0, 50), schedule: b.schedule, retain: Retention.age(keep), copyTo }],
    resources: [backup.BackupResource.fromTag(ctx.tierTagKey, tier.name)],
    resourceTypes: [ProtectedResourceType.EC2],
    vaultLock: b.vaultLock,
    breakGlassPrincipalArns: ctx.breakGlassPrincipalArns,
    deploymentPrincipalArns: ctx.deploymentPrincipalArns,
    windowsVss: b.windowsVss ?? true,
    notificationTopic: ctx.alarmTopic,
    restoreTesting: b.restoreTesting === false ? undefined : {},
  });
  if (b.vaultLock?.mode === VaultLockMode.COMPLIANCE) {
    Validations.of(policy).acknowledge({
      id: 'Annotation::cdk-ebs-backup:backup:compliance-lock',
      reason: `tier '${tier.name}' promises a compliance-mode Vault Lock; the coverage report and the dashboard state it`,
    });
  }
  const covers: MechanismFacts[] = [{
    mechanism: 'aws-backup',
    selection: ctx.selection,
    purpose: tier.backupPurpose,
    schedule: b.schedule.expressionString,
    intervalHours: intervalHours(b.schedule),
    retention: retentionText(keep),
    copies,
    lock: b.vaultLock ? `vault lock ${b.vaultLock.mode.toLowerCase()}` : undefined,
    coversWholeTier: true,
  }];
  if (b.restoreTesting !== false) {
    covers.push({ mechanism: 'aws-backup-restore-testing', selection: ctx.selection, schedule: 'weekly', copies: [], coversWholeTier: true });
  }
  return { backupPolicies: [{ construct: policy, purpose: tier.backupPurpose }], covers };
}
