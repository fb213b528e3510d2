import * as fs from 'fs';
import * as path from 'path';
import { createCheckedApp, inEnvironmentForm, SynthesisForm, synthesizeChecked } from './support';
import { listExamples, loadExample } from '../examples/catalogue';

const examples = listExamples();

/** Every scenario, and the resource types that are its point (README's examples section). */
const SCENARIOS: Record<string, string[]> = {
  'backup-workload-and-archive': ['AWS::Backup::BackupVault', 'AWS::Backup::BackupPlan', 'AWS::Backup::BackupSelection', 'AWS::Backup::RestoreTestingPlan', 'AWS::Backup::Framework', 'AWS::Backup::ReportPlan', 'AWS::KMS::Key', 'AWS::CloudWatch::Alarm'],
  'baseline-tiers': ['AWS::Backup::BackupVault', 'AWS::Backup::BackupPlan', 'AWS::DLM::LifecyclePolicy', 'AWS::Rbin::Rule', 'AWS::EC2::SnapshotBlockPublicAccess', 'AWS::SSM::MaintenanceWindowTask', 'AWS::CloudWatch::Dashboard', 'AWS::StepFunctions::StateMachine'],
  'consistent-snapshot-job': ['AWS::StepFunctions::StateMachine', 'AWS::Events::Rule', 'AWS::CloudWatch::Alarm', 'AWS::SNS::Topic'],
  'dlm-guidance': ['AWS::DLM::LifecyclePolicy', 'AWS::SSM::Document', 'AWS::IAM::Role'],
  'organization-stackset': ['AWS::CloudFormation::StackSet', 'AWS::Organizations::Policy', 'AWS::Backup::BackupVault'],
  'pre-change-patch-night': ['AWS::SSM::Document', 'AWS::Lambda::Function', 'AWS::IAM::ManagedPolicy'],
  'restore-drill': ['AWS::StepFunctions::StateMachine', 'AWS::DLM::LifecyclePolicy', 'AWS::EC2::VPC', 'AWS::EC2::LaunchTemplate', 'AWS::CloudWatch::Alarm'],
  'vss-maintenance-windows': ['AWS::SSM::MaintenanceWindow', 'AWS::SSM::MaintenanceWindowTarget', 'AWS::SSM::MaintenanceWindowTask', 'AWS::SSM::Document', 'AWS::S3::Bucket', 'AWS::CloudWatch::Alarm'],
  'worm-guard': ['AWS::IAM::ManagedPolicy', 'AWS::Rbin::Rule', 'AWS::EC2::SnapshotBlockPublicAccess', 'AWS::Organizations::Policy', 'AWS::Lambda::Function'],
};

describe('examples', () => {
  test('there is an example app for every scenario the README links', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    for (const name of examples) {
      expect(readme).toContain(`examples/${name}.app.ts`);
    }
  });

  test('examples use only the public API', () => {
    for (const name of examples) {
      const source = fs.readFileSync(path.join(__dirname, '..', 'examples', `${name}.app.ts`), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const spec of imports) {
        expect([spec, name]).toEqual([expect.stringMatching(/^(cdk-ebs-backup|aws-cdk-lib(\/[a-z0-9-]+)?|constructs)$/), name]);
      }
    }
  });

  test('the catalogue holds exactly the scenarios below (a vanished or new example fails here)', () => {
    expect(examples).toEqual(Object.keys(SCENARIOS).sort());
  });

  // Registered from the fixed table, not from the catalogue, so an empty catalogue cannot register
  // nothing: each scenario's point is a set of resource types that must be in the synthesized app.
  test.each(Object.entries(SCENARIOS))('%s synthesizes through every gate', (name, expectedTypes) => {
    const app = createCheckedApp();
    loadExample(name).build(app);
    const assembly = synthesizeChecked(app);
    expect(assembly.stacksRecursively.length).toBeGreaterThan(0);
    for (const stack of assembly.stacksRecursively) {
      expect(Object.keys(stack.template.Resources ?? {}).length).toBeGreaterThan(0);
    }
    const types = new Set(assembly.stacksRecursively.flatMap((stack) => Object.values<any>(stack.template.Resources ?? {}).map((r) => r.Type)));
    expect(expectedTypes.filter((t) => !types.has(t))).toEqual([]);
    // Drift guard: logical ids and types of every resource. A changed construct id replaces a
    // deployed resource (a vault, a policy), so it must be a reviewed snapshot update.
    const inventory = Object.fromEntries(assembly.stacksRecursively.map((stack) => [
      stack.hierarchicalId,
      Object.fromEntries(Object.entries<any>(stack.template.Resources ?? {}).map(([id, r]) => [id, r.Type]).sort()),
    ]));
    expect(inventory).toMatchSnapshot();
    // The plan report (README "Read the plan report"): written beside the templates for every
    // example, and named in one info message per stack that uses the library.
    const plan = JSON.parse(fs.readFileSync(path.join(app.outdir, 'plan-report.json'), 'utf8'));
    expect(fs.readFileSync(path.join(app.outdir, 'plan-report.md'), 'utf8')).toMatch(/^# EBS backup plan/);
    expect(plan.stacks.length).toBeGreaterThan(0);
    for (const stack of assembly.stacksRecursively.filter((s) => plan.stacks.some((p: any) => p.stack === s.hierarchicalId))) {
      expect(stack.messages.filter((m) => m.level === 'info' && String(m.entry.data).includes('plan-report')).map((m) => m.entry.data)).toEqual(
        [expect.stringMatching(/^cdk-ebs-backup: what this stack protects, what cannot be undone and what costs money every month: .*plan-report\.md$/)]);
    }
    if (name === 'baseline-tiers') {
      expectBaselinePlan(plan);
    }
  });

  // The library's acknowledgements must hold whatever environment the user gives a stack: the
  // same example without any account/region, and with accounts nobody else in the suite uses.
  const forms: SynthesisForm[] = ['agnostic', 'specific'];
  test.each(Object.keys(SCENARIOS).flatMap((name) => forms.map((form) => [name, form] as const)))('%s synthesizes through every gate in the %s environment form', (name, form) => {
    const app = createCheckedApp();
    inEnvironmentForm(form, () => loadExample(name).build(app));
    const assembly = synthesizeChecked(app);
    for (const stack of assembly.stacksRecursively) {
      expect([stack.stackName, stack.environment.account]).toEqual([stack.stackName, form === 'agnostic' ? 'unknown-account' : expect.not.stringMatching(/^(123456789012|111122223333)$/)]);
    }
  });
});

/**
 * The baseline example's plan, value by value: gold's compliance Vault Lock and the two locked
 * Recycle Bin rules are what cannot be undone; the drill's scratch VPC (3 interface endpoints in
 * one zone at $0.01 an hour, AWS PrivateLink pricing) and the dashboard ($3, Amazon CloudWatch
 * pricing) are standing costs.
 */
function expectBaselinePlan(plan: any): void {
  const workload = plan.stacks.find((s: any) => s.stack === 'BackupBaseline');
  expect(workload.irreversible.map((i: any) => [i.construct, i.what])).toEqual([
    ['BackupBaseline/Baseline/gold/Backup', 'compliance-mode Vault Lock on vault BackupBaseline/Baseline/gold/Backup/Vault (min 7 days, max 3650 days)'],
    ['BackupBaseline/Baseline/Guard/SnapshotRecycleBin', 'locked Recycle Bin rule for EBS snapshots (retention 7 days)'],
    ['BackupBaseline/Baseline/Guard/ImageRecycleBin', 'locked Recycle Bin rule for AMIs (retention 7 days)'],
  ]);
  expect(workload.irreversible[0].consequence).toMatch(/^immutable 3 days after deployment: .*before 7 days/);
  expect(workload.irreversible[1].consequence).toMatch(/unlock takes effect only 7 days after it is requested/);
  const cost = (construct: string, item: string) => workload.costs.find((c: any) => c.construct === construct && c.item.startsWith(item));
  expect(cost('BackupBaseline/Baseline/gold/Drill', 'interface VPC endpoint')).toMatchObject({ units: 3, monthlyUsd: 21.9, page: 'AWS PrivateLink pricing' });
  expect(cost('BackupBaseline/Baseline/gold/Drill', 'VPC flow log')).toMatchObject({ units: 1, monthlyUsd: 0 });
  expect(cost('BackupBaseline/Baseline', 'CloudWatch dashboard')).toMatchObject({ units: 1, monthlyUsd: 3, page: 'Amazon CloudWatch pricing' });
  expect(cost('BackupBaseline/Baseline/gold/Backup', 'KMS customer managed key')).toMatchObject({ units: 1, monthlyUsd: 1 });
  expect(workload.monthlyUsd).toBeCloseTo(workload.costs.reduce((sum: number, c: any) => sum + c.monthlyUsd, 0), 2);
  // the receiving vaults: a governance lock is reversible (break-glass), so nothing irreversible there
  const dr = plan.stacks.find((s: any) => s.stack === 'BackupDrVault');
  expect([dr.region, dr.irreversible, dr.protections[0].locks]).toEqual(['eu-west-1', [], ['Vault Lock governance (min 7 days)']]);
}
