import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupArchiveVault, BackupVaultPolicy, DlmSnapshotPolicy, PlanReport, Retention, SnapshotTarget, VaultLock, WormSnapshotGuard } from '../../src';

// The plan report is the app's, not the baseline's: any construct of the library registers with it.

const ENV = { account: '123456789012', region: 'us-east-1' };
const nightly = events.Schedule.cron({ hour: '4', minute: '0' });

function dlmApp(app: App): Stack {
  const stack = new Stack(app, 'Dlm', { env: ENV });
  new DlmSnapshotPolicy(stack, 'Db', {
    purpose: 'database-dr',
    target: SnapshotTarget.instances({ tags: { Backup: 'database' } }),
    schedules: [{
      name: 'nightly',
      schedule: nightly,
      retain: Retention.count(14),
      crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(30)) }],
      fastRestore: { availabilityZones: ['us-east-1a', 'us-east-1b'], retain: Retention.count(2) },
    }],
  });
  return stack;
}

describe('the plan report', () => {
  test('a standalone DLM policy is reported with its schedule, retention, copies and the cost of fast snapshot restore', () => {
    // GIVEN an app with no baseline
    const app = new App();
    dlmApp(app);
    // WHEN
    const assembly = app.synth();
    // THEN the report is in the assembly directory, as JSON and Markdown
    const plan = JSON.parse(fs.readFileSync(path.join(assembly.directory, PlanReport.JSON_FILE), 'utf8'));
    expect(fs.readFileSync(path.join(assembly.directory, PlanReport.MARKDOWN_FILE), 'utf8')).toBe(PlanReport.markdown(app));
    expect(plan.stacks).toHaveLength(1);
    const [stack] = plan.stacks;
    expect([stack.stack, stack.account, stack.region]).toEqual(['Dlm', '123456789012', 'us-east-1']);
    expect(stack.protections).toEqual([expect.objectContaining({
      construct: 'Dlm/Db',
      kind: 'DlmSnapshotPolicy',
      mechanism: "DLM schedule 'nightly'",
      selects: 'instances tagged Backup=database',
      schedule: 'cron(0 4 * * ? *)',
      retention: 'count:14',
      copies: ['eu-west-1 (age:30d)'],
    })]);
    // Amazon EBS pricing: fast snapshot restore is $0.75 per DSU-hour for each snapshot in each
    // AZ; 2 snapshots kept enabled in 2 AZs for a 730-hour month
    const fsr = stack.costs.find((c: any) => c.item.startsWith('fast snapshot restore'));
    expect([fsr.units, fsr.monthlyUsd, fsr.page]).toEqual([4, 2190, 'Amazon EBS pricing']);
    expect(stack.irreversible).toEqual([]);
    // Amazon CloudWatch pricing: $0.10 per standard-resolution metric an alarm reads, a metric
    // math alarm billed per metric in its expression: the policy's heartbeat alarm (one metric)
    // and its change alarm (one TriggeredRules metric per change-detection rule)
    const alarms = Object.values<any>(assembly.getStackByName('Dlm').template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const read = alarms.map((a) => (a.Properties.Metrics ?? [{ MetricStat: {} }]).filter((m: any) => m.MetricStat)
      .map((m: any) => m.MetricStat?.Metric?.MetricName ?? a.Properties.MetricName));
    expect(read.map((names: string[]) => [...new Set(names)].join()).sort()).toEqual(['SnapshotsCreateCompleted', 'TriggeredRules']);
    const metrics = read.flat().length;
    expect(metrics).toBeGreaterThan(2);
    const alarm = stack.costs.find((c: any) => c.item.includes('alarm'));
    expect([alarm.units, alarm.monthlyUsd]).toEqual([metrics, Math.round(metrics * 0.1 * 100) / 100]);
    expect(stack.monthlyUsd).toBeCloseTo(2190 + metrics * 0.1, 6);
  });

  test('a compliance-mode Vault Lock is irreversible, a governance one is not', () => {
    const app = new App();
    const stack = new Stack(app, 'Backup', { env: ENV });
    const rules = [{ name: 'daily', schedule: nightly, retain: Retention.age(Duration.days(35)) }];
    new BackupVaultPolicy(stack, 'Compliance', {
      purpose: 'compliance',
      rules,
      allTags: { Backup: 'daily' },
      vaultName: 'locked-for-good',
      notifications: false,
      vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(3650), changeableFor: Duration.days(5) }),
    });
    new BackupVaultPolicy(stack, 'Governance', {
      purpose: 'governance',
      rules,
      allTags: { Backup: 'weekly' },
      notifications: false,
      vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }),
    });
    const [plan] = JSON.parse(PlanReport.json(app)).stacks;
    expect(plan.irreversible).toEqual([{
      construct: 'Backup/Compliance',
      kind: 'BackupVaultPolicy',
      what: 'compliance-mode Vault Lock on vault locked-for-good (min 7 days, max 3650 days)',
      consequence: expect.stringMatching(/^immutable 5 days after deployment: .*delete a recovery point before 7 days/),
    }]);
    expect(plan.protections.map((p: any) => [p.construct, p.locks])).toEqual([
      ['Backup/Compliance', ['Vault Lock compliance (min 7 days, max 3650 days)']],
      ['Backup/Governance', ['Vault Lock governance (min 7 days)']],
    ]);
    // each vault has its customer managed key: $1 a month (AWS Key Management Service pricing)
    expect(plan.costs.filter((c: any) => c.item === 'KMS customer managed key').map((c: any) => [c.construct, c.monthlyUsd])).toEqual([
      ['Backup/Compliance', 1], ['Backup/Governance', 1],
    ]);
  });

  test('a locked Recycle Bin rule is irreversible until its unlock delay, and owns its resources once', () => {
    const app = new App();
    const stack = new Stack(app, 'Guard', { env: ENV });
    new WormSnapshotGuard(stack, 'Guard', {
      recycleBin: { retain: Retention.age(Duration.days(30)), lockUnlockDelay: Duration.days(10) }, blockPublicSharing: false,
    });
    const [plan] = JSON.parse(PlanReport.json(app)).stacks;
    expect(plan.irreversible.map((i: any) => [i.construct, i.what])).toEqual([
      ['Guard/Guard/SnapshotRecycleBin', 'locked Recycle Bin rule for EBS snapshots (retention 30 days)'],
      ['Guard/Guard/ImageRecycleBin', 'locked Recycle Bin rule for AMIs (retention 30 days)'],
    ]);
    expect(plan.irreversible[0].consequence).toMatch(/unlock takes effect only 10 days after it is requested/);
  });

  test('one info line per stack names the file, and nested stages get the report in their directory and the app\'s', () => {
    const app = new App();
    const stack = dlmApp(app);
    new BackupArchiveVault(stack, 'Vault', { sourceAccounts: ['111122223333'], vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }) });
    const stage = new Stage(app, 'Prod');
    new BackupArchiveVault(new Stack(stage, 'Archive', { env: ENV }), 'Vault', { sourceAccounts: ['111122223333'], vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }) });
    const assembly = app.synth();
    const infos = assembly.getStackByName('Dlm').messages.filter((m) => m.level === 'info').map((m) => m.entry.data);
    expect(infos).toEqual([`cdk-ebs-backup: what this stack protects, what cannot be undone and what costs money every month: ${path.relative(process.cwd(), path.join(app.outdir, 'plan-report.md'))}`]);
    const nested = JSON.parse(fs.readFileSync(path.join(stage.outdir, PlanReport.JSON_FILE), 'utf8'));
    const top = JSON.parse(fs.readFileSync(path.join(app.outdir, PlanReport.JSON_FILE), 'utf8'));
    expect(top.stacks.map((s: any) => s.stack)).toEqual(['Dlm', 'Prod/Archive']);
    expect(nested.stacks.map((s: any) => s.stack)).toEqual(['Dlm', 'Prod/Archive']);
  });
});
