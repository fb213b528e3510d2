import { App, Stack, Validations } from 'aws-cdk-lib';
import { BackupTier, DeploymentPrerequisites, EbsBackupBaseline } from '../../src';
import { createCheckedApp, createTestStack, synthesizeChecked } from '../support';

// AWS Backup copies a recovery point to the vault that DestinationBackupVaultArn names; a copy to
// a vault that does not exist fails as a copy job, every night, after a deployment that succeeded
// (AWS Backup Developer Guide, "Creating backup copies across AWS Regions": "the destination
// backup vault must exist"). So the app must hold a vault whose ARN is exactly that one.

const BREAK_GLASS = 'arn:aws:iam::123456789012:role/BreakGlass';

function baselineIn(app: App, stack: Stack, tiers = [BackupTier.gold({ drRegion: 'eu-west-1' }), BackupTier.silver()], extra = {}): EbsBackupBaseline {
  Validations.of(app).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'prerequisites in place (README Before you deploy)' });
  return new EbsBackupBaseline(stack, 'Baseline', { tiers, breakGlassPrincipalArns: [BREAK_GLASS], ...extra });
}

/** A template ARN with the partition and the stack's own account and region filled in. */
function arnOf(value: any, env: { account: string; region: string }): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value.Ref === 'AWS::Partition') {
    return 'aws';
  }
  if (value.Ref === 'AWS::AccountId') {
    return env.account;
  }
  if (value.Ref === 'AWS::Region') {
    return env.region;
  }
  if (value['Fn::Join']) {
    return value['Fn::Join'][1].map((v: any) => arnOf(v, env)).join(value['Fn::Join'][0]);
  }
  throw new Error(`cannot read ${JSON.stringify(value)}`);
}

describe('gold copies to a DR vault that the app creates', () => {
  test('without one, synthesis fails naming the tier, the vault, the region and the helper that adds it', () => {
    // GIVEN gold copying to eu-west-1 and nothing in the app in eu-west-1
    const app = createCheckedApp();
    baselineIn(app, createTestStack(app, 'BackupBaseline'));
    // THEN
    expect(() => synthesizeChecked(app)).toThrow(
      "BackupBaseline/Baseline: tiers[0] ('gold') copies AWS Backup recovery points to the vault 'ebs-backup-dr' in eu-west-1, which nothing in this app " +
      "creates (every copy job would fail): add baseline.addDrVaultStack('BackupBaselineDrVault'), a stack in eu-west-1 with a BackupArchiveVault named 'ebs-backup-dr'");
  });

  test('a vault of that name in another region or another account does not count', () => {
    const app = createCheckedApp();
    const baseline = baselineIn(app, createTestStack(app, 'BackupBaseline'));
    baseline.addDrVaultStack('WrongRegion', { region: 'eu-central-1' });
    expect(() => synthesizeChecked(app)).toThrow(/vault 'ebs-backup-dr' in eu-west-1, which nothing in this app creates/);
  });

  test('addDrVaultStack adds the vault whose ARN every DR copy action names, admitting the baseline account', () => {
    // GIVEN
    const app = createCheckedApp();
    const stack = createTestStack(app, 'BackupBaseline');
    const baseline = baselineIn(app, stack);
    // WHEN
    const dr = baseline.addDrVaultStack('BackupDrVault');
    const assembly = synthesizeChecked(app);
    // THEN the DR stack is in the DR region of the baseline's account
    expect([dr.region, dr.account]).toEqual(['eu-west-1', stack.account]);
    const drTemplate = assembly.getStackArtifact(dr.artifactId).template;
    const vaults = Object.values<any>(drTemplate.Resources).filter((r) => r.Type === 'AWS::Backup::BackupVault');
    expect(vaults.map((v) => v.Properties.BackupVaultName)).toEqual([EbsBackupBaseline.DEFAULT_DR_VAULT_NAME]);
    const vaultArn = `arn:aws:backup:${dr.region}:${dr.account}:backup-vault:${vaults[0].Properties.BackupVaultName}`;
    // every copy action of the baseline's plans that leaves the region targets exactly that vault
    const plans = Object.values<any>(assembly.getStackArtifact(stack.artifactId).template.Resources).filter((r) => r.Type === 'AWS::Backup::BackupPlan');
    const targets = plans.flatMap((p) => p.Properties.BackupPlan.BackupPlanRule.flatMap((r: any) => r.CopyActions ?? []))
      .map((c: any) => arnOf(c.DestinationBackupVaultArn, { account: stack.account, region: stack.region }))
      .filter((arn: string) => arn.includes(':eu-west-1:'));
    expect(targets).toEqual([vaultArn]);
    // and the vault admits copies from the baseline's account only
    const policy = vaults[0].Properties.AccessPolicy;
    const admits = policy.Statement.filter((s: any) => s.Effect === 'Allow' && ([] as string[]).concat(s.Action).includes('backup:CopyIntoBackupVault'));
    expect(JSON.stringify(admits)).toContain(stack.account);
  });

  test('an environment-agnostic baseline gets a DR stack in the DR region of the deploying account', () => {
    const app = createCheckedApp();
    const stack = new Stack(app, 'Agnostic');
    const baseline = baselineIn(app, stack);
    const dr = baseline.addDrVaultStack('AgnosticDrVault');
    synthesizeChecked(app);
    expect(dr.region).toBe('eu-west-1');
    expect(Stack.of(dr).resolve(dr.account)).toEqual({ Ref: 'AWS::AccountId' });
  });

  test('drVaultCreatedElsewhere skips the check (a StackSet or another app deploys the vault)', () => {
    const app = createCheckedApp();
    baselineIn(app, createTestStack(app, 'BackupBaseline'), undefined, { drVaultCreatedElsewhere: true });
    expect(() => synthesizeChecked(app)).not.toThrow();
  });

  test('tiers without AWS Backup DR copies need no DR vault (silver copies snapshots with DLM)', () => {
    const app = createCheckedApp();
    baselineIn(app, createTestStack(app, 'BackupBaseline'), [BackupTier.silver({ drRegion: 'eu-west-1' }), BackupTier.bronze()]);
    expect(() => synthesizeChecked(app)).not.toThrow();
  });

  test('addDrVaultStack names the region when the tiers copy to several, and refuses the own region', () => {
    const app = new App();
    const stack = createTestStack(app, 'BackupBaseline');
    const baseline = baselineIn(app, stack, [
      BackupTier.gold({ drRegion: 'eu-west-1' }),
      BackupTier.gold({ name: 'platinum', drRegion: 'us-west-2' }),
    ]);
    expect(() => baseline.addDrVaultStack('Dr')).toThrow(
      'BackupBaseline/Baseline: region must be given: the tiers copy to several DR regions (eu-west-1, us-west-2); call addDrVaultStack once per region');
    expect(() => baseline.addDrVaultStack('Own', { region: 'us-east-1' })).toThrow("region must be another region than the baseline's own (us-east-1)");
    const west = baseline.addDrVaultStack('West', { region: 'us-west-2' });
    expect(west.region).toBe('us-west-2');
  });
});
