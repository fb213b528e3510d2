// The plan report's plumbing called directly (no example synthesis): the assembly writers, the
// ownership and pricing of resources, how tokens are read, and the Markdown tables.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { App, Aws, CfnResource, Duration, Fn, Stack, Stage, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  onAssemblySynthesis, planDays, planOf, planRetention, planSchedule, planTags, registerPlan, renderPlanMarkdown, PlanReport, PlanStack,
} from '../../src/core/plan-report';
import { Retention } from '../../src/core/retention';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'plan-report-'));
/** A stack with one resource (an empty template is a CloudFormation validation warning). */
const stackIn = (scope: Construct, id: string, env?: { account: string; region: string }) => {
  const stack = new Stack(scope, id, { env });
  new CfnResource(stack, 'Handle', { type: 'AWS::CloudFormation::WaitConditionHandle' });
  return stack;
};

describe('assembly writers', () => {
  test('a construct carrying two writers runs both (aws-cdk-lib takes one custom synthesis per construct)', () => {
    const app = new App({ outdir: tmp() });
    const owner = new Construct(stackIn(app, 'S'), 'Owner');
    onAssemblySynthesis(owner, Symbol('first'), (dir) => fs.writeFileSync(path.join(dir, 'first.txt'), 'a'));
    onAssemblySynthesis(owner, Symbol('second'), (dir) => fs.writeFileSync(path.join(dir, 'second.txt'), 'b'));
    app.synth();
    expect(fs.readFileSync(path.join(app.outdir, 'first.txt'), 'utf8')).toBe('a');
    expect(fs.readFileSync(path.join(app.outdir, 'second.txt'), 'utf8')).toBe('b');
  });

  test('one key writes once per synthesis, whichever constructs ask', () => {
    const app = new App({ outdir: tmp() });
    const stack = stackIn(app, 'S');
    const key = Symbol('once');
    let writes = 0;
    onAssemblySynthesis(new Construct(stack, 'A'), key, () => writes++);
    onAssemblySynthesis(new Construct(stack, 'B'), key, () => writes++);
    app.synth();
    expect(writes).toBe(1);
  });

  test('a nested stage writes to its own directory and to the app\'s', () => {
    const app = new App({ outdir: tmp() });
    const stage = new Stage(app, 'Prod');
    const owner = new Construct(stackIn(stage, 'S'), 'Owner');
    const dirs: string[] = [];
    onAssemblySynthesis(owner, Symbol('nested'), (dir) => dirs.push(path.resolve(dir)));
    app.synth();
    expect(dirs).toEqual([path.resolve(stage.outdir), path.resolve(app.outdir)]);
  });

  test('without aws-cdk-lib\'s custom synthesis hook the writer still runs once per synthesis, for the stage and the app', () => {
    // attachCustomSynthesis is recent (aws-cdk-lib 2.x minor releases); the library must not lose
    // its report on a release without it
    const hook = Object.getOwnPropertyDescriptor(cdk, 'attachCustomSynthesis')!;
    Object.defineProperty(cdk, 'attachCustomSynthesis', { value: undefined, configurable: true });
    try {
      const app = new App({ outdir: tmp() });
      const stage = new Stage(app, 'Prod');
      const owner = new Construct(stackIn(stage, 'S'), 'Owner');
      const dirs: string[] = [];
      onAssemblySynthesis(owner, Symbol('fallback'), (dir) => dirs.push(path.resolve(dir)));
      app.synth();
      expect(dirs).toEqual([path.resolve(stage.outdir), path.resolve(app.outdir)]);
    } finally {
      Object.defineProperty(cdk, 'attachCustomSynthesis', hook);
    }
  });

  test('the plan report is written as JSON and Markdown next to the templates', () => {
    const app = new App({ outdir: tmp() });
    const stack = stackIn(app, 'S', { account: '111122223333', region: 'eu-west-1' });
    registerPlan(new Construct(stack, 'Job'), 'Job', () => ({ protects: [{ mechanism: 'DLM schedule', selects: 'every volume' }] }));
    app.synth();
    const json = JSON.parse(fs.readFileSync(path.join(app.outdir, 'plan-report.json'), 'utf8'));
    expect(json.stacks.map((s: PlanStack) => [s.stack, s.account, s.region, s.protections.length])).toEqual([['S', '111122223333', 'eu-west-1', 1]]);
    expect(fs.readFileSync(path.join(app.outdir, 'plan-report.md'), 'utf8')).toContain('| S/Job | DLM schedule | every volume |');
  });
});

describe('announcement', () => {
  test('each stack names the report file once, however many constructs register in it', () => {
    const app = new App({ outdir: tmp() });
    const a = stackIn(app, 'A');
    const b = stackIn(app, 'B');
    registerPlan(new Construct(a, 'One'), 'One', () => ({}));
    registerPlan(new Construct(a, 'Two'), 'Two', () => ({}));
    registerPlan(new Construct(b, 'Three'), 'Three', () => ({}));
    const file = path.relative(process.cwd(), path.join(app.outdir, 'plan-report.md'));
    const message = `cdk-ebs-backup: what this stack protects, what cannot be undone and what costs money every month: ${file}`;
    const infos = (s: Stack) => s.node.metadata.filter((m) => m.type === 'aws:cdk:info').map((m) => m.data);
    expect(infos(a)).toEqual([message]);
    expect(infos(b)).toEqual([message]);
  });
});

describe('planOf', () => {
  test('the most specific registered construct owns a resource, and a resource is priced once', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const outer = new Construct(stack, 'Outer');
    const inner = new Construct(outer, 'Inner');
    new kms.Key(inner, 'Key');
    new kms.Key(inner, 'Key2');
    new kms.Key(outer, 'Own');
    registerPlan(outer, 'Outer', () => ({}));
    registerPlan(inner, 'Inner', () => ({}));
    const [plan] = planOf(stack);
    expect(plan.costs.map((c) => [c.construct, c.item, c.units, c.monthlyUsd])).toEqual([
      ['S/Outer', 'KMS customer managed key', 1, 1],
      ['S/Outer/Inner', 'KMS customer managed key', 2, 2],
    ]);
    expect(plan.monthlyUsd).toBe(3);
  });

  test('a stack without an environment is an unknown account and region; resources of another stack are not priced', () => {
    const app = new App();
    const a = new Stack(app, 'A');
    const b = new Stack(app, 'B');
    const owner = new Construct(a, 'Owner');
    new kms.Key(owner, 'Key');
    new CfnResource(b, 'Elsewhere', { type: 'AWS::KMS::Key', properties: {} });
    registerPlan(owner, 'Owner', () => ({ extraCosts: [{ construct: '', item: 'fast snapshot restore', units: 1, monthlyUsd: 540.004, basis: 'b', page: 'p' }] }));
    const plans = planOf(app);
    expect(plans.map((p) => [p.stack, p.account, p.region])).toEqual([['A', 'unknown-account', 'unknown-region']]);
    expect(plans[0].costs.map((c) => [c.construct, c.item, c.monthlyUsd])).toEqual([
      ['A/Owner', 'fast snapshot restore', 540.004], // by construct, then item (locale order: f before K)
      ['A/Owner', 'KMS customer managed key', 1],
    ]);
    expect(plans[0].monthlyUsd).toBe(541);
  });

  test('a standing cost is units times the list price, and the stack total adds them', () => {
    // AWS PrivateLink pricing: $0.01 per VPC endpoint per Availability Zone per hour (730 h a month);
    // Amazon CloudWatch pricing: $3 per dashboard per month
    const app = new App();
    const stack = new Stack(app, 'S');
    const owner = new Construct(stack, 'Owner');
    new ec2.CfnVPCEndpoint(owner, 'Ebs', {
      vpcId: 'vpc-1', serviceName: 'com.amazonaws.us-east-1.ebs', vpcEndpointType: 'Interface', subnetIds: ['subnet-a', 'subnet-b'],
    });
    new cloudwatch.CfnDashboard(owner, 'Dashboard', { dashboardBody: '{}' });
    registerPlan(owner, 'Owner', () => ({}));
    const [plan] = planOf(stack);
    expect(plan.costs.map((c) => [c.item, c.units, c.monthlyUsd])).toEqual([
      ['CloudWatch dashboard', 1, 3],
      ['interface VPC endpoint (one Availability Zone)', 2, 14.6],
    ]);
    expect(plan.monthlyUsd).toBe(17.6);
  });

  test('a stack defined inside a registered construct is billed in its own plan, not its parent\'s', () => {
    const app = new App();
    const parent = new Stack(app, 'Parent');
    const owner = new Construct(parent, 'Owner');
    new kms.Key(owner, 'Key');
    const child = new Stack(owner, 'Child');
    const childOwner = new Construct(child, 'Vault');
    new kms.Key(childOwner, 'Key');
    registerPlan(owner, 'Owner', () => ({}));
    registerPlan(childOwner, 'Vault', () => ({}));
    expect(planOf(app).map((p) => [p.stack, p.costs.map((c) => [c.construct, c.units])])).toEqual([
      ['Parent', [['Parent/Owner', 1]]],
      ['Parent/Owner/Child', [['Parent/Owner/Child/Vault', 1]]],
    ]);
  });

  test('PlanReport gives the same plan as JSON and as Markdown', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
    registerPlan(new Construct(stack, 'Job'), 'Job', () => ({ protects: [{ mechanism: 'DLM schedule', selects: 'every volume' }] }));
    const json = JSON.parse(PlanReport.json(app));
    expect(json.stacks.map((s: PlanStack) => [s.stack, s.protections.map((p) => [p.construct, p.kind, p.mechanism, p.selects])]))
      .toEqual([['S', [['S/Job', 'Job', 'DLM schedule', 'every volume']]]]);
    expect(PlanReport.markdown(app)).toContain('## S (111122223333/eu-west-1)');
    expect(PlanReport.markdown(app)).toContain('| S/Job | DLM schedule | every volume |');
  });

  test('tokens read as the template says them', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const key = new kms.Key(stack, 'Key');
    registerPlan(stack, 'S', () => ({
      protects: [{
        mechanism: `vault in ${Aws.PARTITION}`,
        selects: key.keyArn,
        schedule: Fn.join('-', ['a', Aws.REGION]),
        retention: Fn.select(1, Fn.split(',', key.keyId)),
        copies: [Token.asString({ Unknown: 1 }), Token.asString(7), Fn.select(1, [Aws.REGION, 'b'])],
      }],
    }));
    const [p] = planOf(stack)[0].protections;
    expect([p.mechanism, p.selects, p.schedule, p.copies]).toEqual([
      'vault in <AWS::Partition>', `<${stack.getLogicalId(key.node.defaultChild as CfnResource)}.Arn>`, 'a-<AWS::Region>',
      // a number as it is written; element 1 of the list '<AWS::Region>,b'
      ['{"Unknown":1}', '7', '<<AWS::Region>,b[1]>'],
    ]);
    expect(p.retention).toMatch(/^<.+\[1\]>$/);
  });
});

describe('renderPlanMarkdown', () => {
  const plan = (over: Partial<PlanStack>): PlanStack => ({
    stack: 'S', account: '1', region: 'r', protections: [], irreversible: [], costs: [], monthlyUsd: 0, ...over,
  });

  test('empty sections say so, with the total', () => {
    const md = renderPlanMarkdown([plan({})]);
    expect(md).toContain('## S (1/r)');
    expect(md).toContain('### Protected\n\nNothing in this stack takes backups.');
    expect(md).toContain('### Cannot be undone\n\nNothing: every choice in this stack can be changed or removed by a later deployment.');
    expect(md).toContain('### Standing monthly cost\n\nNone: only usage (storage, runs) is billed.');
    expect(md).not.toContain('Total:');
  });

  test('a plan with every section reads as one Markdown document: title, intro, a heading per stack, one table per section', () => {
    const md = renderPlanMarkdown([
      plan({
        stack: 'Prod',
        account: '111122223333',
        region: 'eu-west-1',
        protections: [{
          construct: 'Prod/Nightly',
          kind: 'DlmSnapshotPolicy',
          mechanism: 'DLM schedule',
          selects: 'Backup=true',
          schedule: 'cron(0 1 * * ? *)',
          retention: 'count:14',
          copies: ['eu-central-1', 'us-east-1'],
          locks: ['governance 7 days', 'Vault Lock compliance'],
        }],
        irreversible: [{ construct: 'Prod/Vault', kind: 'BackupArchiveVault', what: 'compliance lock', consequence: 'never deleted' }],
        costs: [
          { construct: 'Prod/Vault', item: 'KMS key', units: 1, monthlyUsd: 1, basis: '$1 per key', page: 'AWS KMS pricing' },
          { construct: 'Prod/Nightly', item: 'alarm', units: 2, monthlyUsd: 0.2, basis: '$0.10 per alarm', page: 'CloudWatch pricing' },
        ],
        monthlyUsd: 1.2,
      }),
      plan({ stack: 'Dev', account: 'unknown-account', region: 'unknown-region' }),
    ]);
    expect(md).toBe(`# EBS backup plan

Per stack: what is protected by what, what cannot be undone once deployed, and the resources that cost money every month
whether or not a backup runs (US East (N. Virginia) list prices; snapshot and recovery point storage, data processed and runs come on top).

## Prod (111122223333/eu-west-1)

### Protected

| Construct | Mechanism | Selects | Schedule | Retention | Copies | Locks |
|---|---|---|---|---|---|---|
| Prod/Nightly | DLM schedule | Backup=true | cron(0 1 * * ? *) | count:14 | eu-central-1, us-east-1 | governance 7 days, Vault Lock compliance |

### Cannot be undone

| Construct | What | Consequence |
|---|---|---|
| Prod/Vault | compliance lock | never deleted |

### Standing monthly cost

| Construct | Resource | Units | Per month | Basis | Pricing page |
|---|---|---|---|---|---|
| Prod/Vault | KMS key | 1 | $1.00 | $1 per key | AWS KMS pricing |
| Prod/Nightly | alarm | 2 | $0.20 | $0.10 per alarm | CloudWatch pricing |

Total: $1.20 per month before usage.

## Dev (unknown-account/unknown-region)

### Protected

Nothing in this stack takes backups.

### Cannot be undone

Nothing: every choice in this stack can be changed or removed by a later deployment.

### Standing monthly cost

None: only usage (storage, runs) is billed.
`);
  });

  test('a protection without copies or locks leaves those cells empty', () => {
    const md = renderPlanMarkdown([plan({ protections: [{ construct: 'S/J', kind: 'k', mechanism: 'm', selects: 's' }] })]);
    expect(md).toContain('| S/J | m | s |  |  |  |  |\n');
  });

  test('a cell with a pipe or a line break stays one GFM table cell', () => {
    const md = renderPlanMarkdown([plan({
      protections: [{ construct: 'S/J', kind: 'k', mechanism: 'a|b', selects: 'x\ny', copies: ['c1', 'c2'], locks: ['l'] }],
      irreversible: [{ construct: 'S/L', kind: 'k', what: 'w', consequence: 'c' }],
      costs: [{ construct: 'S/K', item: 'key', units: 2, monthlyUsd: 2.5, basis: 'b', page: 'p' }],
      monthlyUsd: 2.5,
    })]);
    expect(md).toContain('| Construct | Mechanism | Selects | Schedule | Retention | Copies | Locks |\n|---|---|---|---|---|---|---|');
    expect(md).toContain('| S/J | a\\|b | x y |  |  | c1, c2 | l |');
    expect(md).toContain('| S/L | w | c |');
    expect(md).toContain('| S/K | key | 2 | $2.50 | b | p |');
    expect(md).toContain('Total: $2.50 per month before usage.');
  });
});

describe('plan value helpers', () => {
  test('schedules, retentions, tags and days as the report shows them', () => {
    expect(planSchedule(undefined)).toBe('on demand');
    expect(planSchedule({ expressionString: 'cron(0 1 * * ? *)' })).toBe('cron(0 1 * * ? *)');
    expect(planSchedule({ expressionString: Aws.REGION })).toBe('(deploy-time value)');
    expect(planRetention(undefined)).toBeUndefined();
    expect(planRetention(Duration.hours(36))).toBe('age:1.5d');
    expect(planRetention(Duration.days(Token.asNumber(Aws.NO_VALUE)))).toBe('(deploy-time value)');
    expect(planRetention(Retention.count(14))).toBe('count:14');
    expect(planRetention(Retention.age(Duration.days(35)))).toBe('age:35d');
    expect(planRetention(Retention.count(Token.asNumber(Aws.NO_VALUE)))).toBe('(deploy-time value)');
    expect(planTags(undefined)).toBe('every resource');
    expect(planTags({ A: '1', B: '2' })).toBe('A=1 AND B=2');
    expect(planDays(undefined)).toBe('');
    expect(planDays(Duration.hours(12))).toBe('0.5 days');
    expect([planDays(Duration.hours(24)), planDays(Duration.days(2))]).toEqual(['1 day', '2 days']);
    expect(planDays(Duration.days(Token.asNumber(Aws.NO_VALUE)))).toBe('(deploy-time value)');
  });
});
