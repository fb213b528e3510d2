import { quantity } from '../../core/quantity';
import { TemplateResource } from '../model';
import { defineRule, NOT_APPLICABLE, RuleContext, verdictOf } from '../rule';

/**
 * Every AWS Backup rule and copy keeps its recovery points within the lock of the vault it writes
 * to: jobs whose retention falls outside [MinRetentionDays, MaxRetentionDays] fail at run time
 * ("AWS Backup Vault Lock", AWS Backup guide), and a rule without an expiry never fits a maximum.
 */
export const BackupRetentionWithinVaultLock = defineRule('BackupRetentionWithinVaultLock', 'AWS::Backup::BackupPlan', {
  summary: "every backup rule and copy retains recovery points within the target vault's lock",
  fix: "set the rule's or copy's DeleteAfterDays between the vault lock's MinRetentionDays and MaxRetentionDays",
}, (resource, context) => {
  const rules: any[] = resource.properties.BackupPlan?.BackupPlanRule ?? [];
  const problems: string[] = [];
  let locked = false;
  rules.forEach((rule, i) => {
    const name = typeof rule?.RuleName === 'string' ? rule.RuleName : `#${i}`;
    const vault = findVault(resource, rule?.TargetBackupVault, context);
    if (vault) {
      locked = true;
      problems.push(...outside(`rule '${name}'`, rule?.Lifecycle, vault));
    }
    (Array.isArray(rule?.CopyActions) ? rule.CopyActions : []).forEach((copy: any, j: number) => {
      const target = findVault(resource, copy?.DestinationBackupVaultArn, context);
      if (target) {
        locked = true;
        problems.push(...outside(`rule '${name}' copy #${j}`, copy?.Lifecycle ?? rule?.Lifecycle, target));
      }
    });
  });
  if (!locked) {
    return NOT_APPLICABLE;
  }
  return verdictOf(problems, (all) => `backup plan ${resource.path}: ${all}; such jobs fail at run time: set DeleteAfterDays within the vault lock's range`,
    'Properties/BackupPlan/BackupPlanRule');
});

interface LockedVault {
  readonly path: string;
  readonly min?: number;
  readonly max?: number;
}

/** The locked vault a rule or copy writes to, found by `Ref`/`Fn::GetAtt` in the same stack. */
function findVault(plan: TemplateResource, value: unknown, { app }: RuleContext): LockedVault | undefined {
  const vault = app.target(plan, value);
  const lock = vault?.type === 'AWS::Backup::BackupVault' ? vault.properties.LockConfiguration : undefined;
  if (!vault || !lock) {
    return undefined;
  }
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return { path: vault.path, min: num(lock.MinRetentionDays), max: num(lock.MaxRetentionDays) };
}

function outside(what: string, lifecycle: any, vault: LockedVault): string[] {
  const days = lifecycle?.DeleteAfterDays;
  if (days !== undefined && typeof days !== 'number') {
    return [];
  }
  if (days === undefined) {
    return vault.max === undefined ? [] : [`${what} never expires its recovery points, but vault ${vault.path} is locked to at most ${quantity(vault.max, 'day')}`];
  }
  if (vault.min !== undefined && days < vault.min) {
    return [`${what} keeps recovery points ${quantity(days, 'day')}, but vault ${vault.path} is locked to at least ${quantity(vault.min, 'day')}`];
  }
  if (vault.max !== undefined && days > vault.max) {
    return [`${what} keeps recovery points ${quantity(days, 'day')}, but vault ${vault.path} is locked to at most ${quantity(vault.max, 'day')}`];
  }
  return [];
}
