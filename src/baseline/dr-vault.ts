import { Duration, Stack, Stage, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type { EbsBackupBaseline } from './baseline';
import { BackupArchiveVault } from '../backup/archive-vault';
import { VaultLock } from '../backup/vault-lock';
import { checkRegion, collectProblems, fail, reportFactoryProblems } from '../core/validation';

/**
 * Options of `EbsBackupBaseline.addDrVaultStack()`.
 */
export interface DrVaultStackOptions {
  /**
   * The DR region of the vault.
   *
   * @default - the DR region the tiers' AWS Backup plans copy to (gold's `drRegion`); required
   *   when they copy to several
   */
  readonly region?: string;

  /**
   * The Vault Lock of the DR vault.
   *
   * @default VaultLock.governance({ minRetention: Duration.days(7) })
   */
  readonly vaultLock?: VaultLock;

  /**
   * Principals that may still change the vault's protection.
   *
   * @default - the baseline's `breakGlassPrincipalArns`
   */
  readonly breakGlassPrincipalArns?: string[];
}

/** The DR regions the tiers' AWS Backup plans copy to, with the first tier that does. */
function backupDrRegions(baseline: EbsBackupBaseline): Map<string, { tier: string; index: number }> {
  const regions = new Map<string, { tier: string; index: number }>();
  baseline.tiers.forEach((t, index) => {
    const region = t.definition.backupPlan?.drRegion;
    if (region !== undefined && !Token.isUnresolved(region) && !regions.has(region)) {
      regions.set(region, { tier: t.name, index });
    }
  });
  return regions;
}

/**
 * Add to the baseline's app a stack in the DR region holding the vault that receives the tiers'
 * AWS Backup copies (a `BackupArchiveVault` named `drVaultName`, admitting copies from the
 * baseline's account only).
 */
export function addDrVaultStack(baseline: EbsBackupBaseline, id: string, options: DrVaultStackOptions): Stack {
  const own = Stack.of(baseline);
  const regions = [...backupDrRegions(baseline).keys()];
  collectProblems(baseline, () => {
    checkRegion(baseline, 'region', options.region);
    reportFactoryProblems(baseline, 'vaultLock', options.vaultLock);
  });
  const region = options.region ?? (regions.length === 1 ? regions[0] : undefined);
  if (region === undefined) {
    fail(baseline, 'region', regions.length === 0
      ? 'has nothing to receive: no tier copies AWS Backup recovery points to a DR region (gold\'s drRegion)'
      : `must be given: the tiers copy to several DR regions (${regions.join(', ')}); call addDrVaultStack once per region`, options.region);
  }
  if (!Token.isUnresolved(own.region) && region === own.region) {
    fail(baseline, 'region', `must be another region than the baseline's own (${own.region})`, region);
  }
  const scope = Stage.of(baseline) ?? baseline.node.root;
  const stack = new Stack(scope, id, {
    env: { account: Token.isUnresolved(own.account) ? undefined : own.account, region },
    description: `Receives the AWS Backup DR copies of ${baseline.node.path} (cdk-ebs-backup)`,
  });
  new BackupArchiveVault(stack, 'DrVault', {
    sourceAccounts: [stack.account],
    vaultName: baseline.drVaultName,
    vaultLock: options.vaultLock ?? VaultLock.governance({ minRetention: Duration.days(7) }),
    breakGlassPrincipalArns: options.breakGlassPrincipalArns ?? baseline._drVaultDefaults.breakGlassPrincipalArns,
  });
  return stack;
}

/**
 * At synthesis: every DR region the tiers' AWS Backup plans copy to has a vault named
 * `drVaultName` in this app, in the baseline's account (a copy job to a vault that does not exist
 * fails every night, after the deployment succeeded).
 */
export function checkDrVaults(baseline: EbsBackupBaseline): string[] {
  if (baseline._drVaultDefaults.createdElsewhere) {
    return [];
  }
  const own = Stack.of(baseline);
  const vaults = baseline.node.root.node.findAll()
    .filter((c): c is backup.CfnBackupVault | backup.CfnLogicallyAirGappedBackupVault =>
      c instanceof backup.CfnBackupVault || c instanceof backup.CfnLogicallyAirGappedBackupVault)
    .filter((v) => v.backupVaultName === baseline.drVaultName)
    .map((v) => Stack.of(v));
  const sameAccount = (s: Stack) => Token.isUnresolved(s.account) || Token.isUnresolved(own.account) || s.account === own.account;
  const problems: string[] = [];
  for (const [region, { tier, index }] of backupDrRegions(baseline)) {
    if (vaults.some((s) => sameAccount(s) && (s.region === region || (Token.isUnresolved(s.region) && s !== own)))) {
      continue;
    }
    problems.push(`${baseline.node.path}: tiers[${index}] ('${tier}') copies AWS Backup recovery points to the vault '${baseline.drVaultName}' in ${region}, ` +
      `which nothing in this app creates (every copy job would fail): add baseline.addDrVaultStack('${own.node.id}DrVault'), a stack in ${region} with a ` +
      `BackupArchiveVault named '${baseline.drVaultName}', or set drVaultCreatedElsewhere: true if that vault is deployed another way`);
  }
  return problems;
}
