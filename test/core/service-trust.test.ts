/**
 * A job's role serves the job only (issue 16, path 1: `iam:PassRole` of a deleter's role into the
 * attacker's own state machine or function, then acting as it). Evaluated with
 * `@cloud-copilot/iam-simulate` over every state machine and function of the example apps that
 * hold them (what users run):
 *
 * - Step Functions assumes a machine's role with `aws:SourceArn` = the machine's ARN and
 *   `aws:SourceAccount` (Step Functions Developer Guide, "Creating an IAM role for your state
 *   machine", "Prevent cross-service confused deputy issue"); the machine is named by
 *   CloudFormation `<logical id>-<12 random characters>`. The trust must allow the machine as
 *   deployed and nothing else: not another machine of the account, not another account.
 * - Lambda puts `lambda:SourceFunctionArn` into every call from a function's execution
 *   environment (Lambda Developer Guide, "Using source function ARN to control function access
 *   behavior"); calls it makes outside (the dead-letter queue) carry no key. The role must deny a
 *   call from any other function's code and leave its own function's and Lambda's own calls alone.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { listExamples, loadExample } from '../../examples/catalogue';
import { ConsistentSnapshotJob, MaintenanceTargets, Retention, VssMaintenanceWindow } from '../../src';
import { scopedRuleName, stateMachineNamePatterns } from '../../src/core/service-trust';
import { evaluate } from '../support/iam-evaluation';
import { renderIntrinsics, TEST_ACCOUNT, TEST_REGION } from '../support/intrinsics';

interface Job { where: string; logicalId: string; template: any; props: any }

const machines: Job[] = [];
const functions: Job[] = [];
/** The roles of the examples by the service principal their trust names. */
const trusted: Record<string, Job[]> = {};
const EXAMPLES = ['baseline-tiers', 'consistent-snapshot-job', 'pre-change-patch-night', 'worm-guard'];

beforeAll(() => {
  expect(EXAMPLES.every((e) => listExamples().includes(e))).toBe(true);
  for (const name of EXAMPLES) {
    const app = new App();
    loadExample(name).build(app);
    for (const stack of app.synth().stacksRecursively) {
      const template = stack.template;
      for (const [logicalId, r] of Object.entries<any>(template.Resources ?? {})) {
        const job = { where: `${name}/${stack.hierarchicalId}/${logicalId}`, logicalId, template, props: r.Properties };
        if (r.Type === 'AWS::IAM::Role') {
          for (const st of r.Properties.AssumeRolePolicyDocument.Statement) {
            for (const service of [st.Principal?.Service ?? []].flat()) {
              (trusted[service] ??= []).push(job);
            }
          }
        }
        if (r.Type === 'AWS::StepFunctions::StateMachine') {
          machines.push(job);
        } else if (r.Type === 'AWS::Lambda::Function' && !logicalId.startsWith('AWS') && !/Intake/.test(logicalId)) {
          // the library's functions: not aws-cdk-lib's provider nor the example team's own steps
          functions.push(job);
        }
      }
    }
  }
}, 600_000);

const render = (job: Job, value: unknown) => renderIntrinsics(value, { template: job.template });
const roleOf = (job: Job) => {
  const roleId = job.props.RoleArn?.['Fn::GetAtt']?.[0] ?? job.props.Role?.['Fn::GetAtt']?.[0];
  return { roleId, roleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/${roleId}`, role: job.template.Resources[roleId] };
};
/** Step Functions assuming the role for the machine `name` of `account`. */
const assumeFor = (job: Job, name: string, account = TEST_ACCOUNT) => evaluate({
  principal: 'states.amazonaws.com',
  action: 'sts:AssumeRole',
  resource: roleOf(job).roleArn,
  context: { 'aws:SourceArn': `arn:aws:states:${TEST_REGION}:${account}:stateMachine:${name}`, 'aws:SourceAccount': account },
}, { resourcePolicy: render(job, roleOf(job).role.Properties.AssumeRolePolicyDocument) });

test('the examples hold every kind of state machine and function the library makes (the tests below are not vacuous)', () => {
  const kinds = (jobs: Job[], re: RegExp) => jobs.filter((j) => re.test(j.logicalId)).length;
  for (const re of [/Lock/, /Housekeeping/, /DrillStateMachine/, /DrillSweeper/, /StateMachine/]) {
    expect([String(re), kinds(machines, re)]).toEqual([String(re), expect.any(Number)]);
    expect(kinds(machines, re)).toBeGreaterThan(0);
  }
  expect(functions.length).toBeGreaterThanOrEqual(5);
});

/**
 * CloudFormation's name for a machine without a name (the Step Functions resource provider calls
 * `IdentifierUtils.generateResourceIdentifier(logicalId, token, maxLength)` of the CloudFormation
 * Java plugin library: the logical id's first `maxLength - 13` characters, `-`, 12 random
 * characters), with the library's default `maxLength` of 40 (older machines) and the provider's
 * `STATE_MACHINE_NAME_MAXLEN` of 80 (today's).
 */
const generatedName = (logicalId: string, maxLength: 40 | 80) => `${logicalId.slice(0, maxLength - 13)}-Nz4Kq7Wd2Lp9`;

test('Step Functions may assume each machine\'s role for that machine as CloudFormation names it (either generator), and for no other machine', async () => {
  // the examples hold logical ids longer than 27 characters: the older generator's truncation is exercised
  expect(machines.some((m) => m.logicalId.length > 27)).toBe(true);
  for (const job of machines) {
    const results = [
      await assumeFor(job, generatedName(job.logicalId, 80)),
      await assumeFor(job, generatedName(job.logicalId, 40)),
      await assumeFor(job, 'mine'),
      // a look-alike of another of the library's machines, or an attacker's name that only starts alike
      await assumeFor(job, generatedName(machines.find((m) => m.logicalId.slice(0, 27) !== job.logicalId.slice(0, 27))!.logicalId, 80)),
      await assumeFor(job, `${job.logicalId.slice(0, 27)}`),
      await assumeFor(job, generatedName(job.logicalId, 80), '999988887777'),
    ];
    expect([job.where, results]).toEqual([job.where, ['Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied']]);
  }
});

test('the name patterns follow both generators: the whole logical id up to 67 characters, and its first 27', () => {
  expect(stateMachineNamePatterns('BaselinesilverLockA1DC76F2')).toEqual(['BaselinesilverLockA1DC76F2-*']);
  const id = 'BaselinegoldDrillStateMachine1A2B3C4D';
  expect(stateMachineNamePatterns(id)).toEqual(['BaselinegoldDrillStateMachi-*', `${id}-*`]);
  const long = 'A'.repeat(70);
  expect(stateMachineNamePatterns(long)).toEqual([`${'A'.repeat(27)}-*`, `${'A'.repeat(67)}-*`]);
  expect(generatedName(long, 80).length).toBe(80);
  expect(generatedName(long, 40).length).toBe(40);
});

test('each function\'s role denies calls from any other function\'s code, not from its own nor Lambda\'s calls without the key', async () => {
  for (const job of functions) {
    const { roleId } = roleOf(job);
    const own = `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:${job.logicalId}`;
    const policies = Object.values<any>(job.template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((x: any) => x.Ref === roleId))
      .map((r) => render(job, r.Properties.PolicyDocument));
    // the role may do what the job does: the broadest allow stands in for it, the denies decide
    const identity = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, ...policies];
    const call = (source?: string) => evaluate({
      principal: `arn:aws:iam::${TEST_ACCOUNT}:role/${roleId}`,
      action: 'ec2:DeleteSnapshot',
      resource: `arn:aws:ec2:${TEST_REGION}::snapshot/snap-0f1e2d3c4b5a69788`,
      context: source ? { 'lambda:SourceFunctionArn': source } : {},
    }, { identity });
    const results = [
      await call(own),
      await call(`${own}:7`),
      await call(`arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:mine`),
      await call(`${own}-lookalike`),
      await call(undefined),
    ];
    expect([job.where, results]).toEqual([job.where, ['Allowed', 'Allowed', 'ExplicitlyDenied', 'ExplicitlyDenied', 'Allowed']]);
  }
});

/** `principal` assuming `job`'s role, acting for `sourceArn` of `account` (no keys at all when `sourceArn` is undefined). */
const assumeAs = (job: Job, principal: string, sourceArn: string | undefined, account = TEST_ACCOUNT) => evaluate({
  principal,
  action: 'sts:AssumeRole',
  resource: `arn:aws:iam::${TEST_ACCOUNT}:role/${job.logicalId}`,
  context: sourceArn === undefined ? {} : { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': account },
}, { resourcePolicy: render(job, job.props.AssumeRolePolicyDocument) });

/** The names of the template's rules whose targets use `job`'s role. */
const rulesTargeting = (job: Job): string[] => Object.values<any>(job.template.Resources)
  .filter((r) => r.Type === 'AWS::Events::Rule' && (r.Properties.Targets ?? []).some((t: any) => t.RoleArn?.['Fn::GetAtt']?.[0] === job.logicalId))
  .map((r) => r.Properties.Name);

/**
 * "For EventBridge event bus rule targets, the value of aws:SourceArn must be the rule ARN"
 * (EventBridge User Guide, "Cross-service confused deputy prevention in Amazon EventBridge",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html):
 * every role EventBridge assumes for a rule of the library (the state machine targets of the
 * job, lock, drill, sweeper and housekeeping schedules) is assumable for that rule only: not for
 * another rule of the account (one an attacker creates to target the machine), not for another
 * account's or region's rule.
 */
test('EventBridge may assume each rule target\'s role for the library\'s own rule only, not for another rule of the account, another account\'s or region\'s', async () => {
  const roles = trusted['events.amazonaws.com'] ?? [];
  // the examples hold every state machine a rule of the library targets: lock, drill, sweeper, housekeeping, job
  for (const re of [/LockEventsRole/, /DrillStateMachineEventsRole/, /DrillSweeperEventsRole/, /HousekeepingEventsRole/, /^(OrdersDb|Bastions)StateMachineEventsRole/]) {
    expect([String(re), roles.some((r) => re.test(r.logicalId))]).toEqual([String(re), true]);
  }
  for (const job of roles) {
    const names = rulesTargeting(job);
    // named by the library: a literal name, at most 64 characters of EventBridge's alphabet
    expect([job.where, names.length > 0 && names.every((n) => typeof n === 'string' && /^[.\-_A-Za-z0-9]{1,64}$/.test(n))]).toEqual([job.where, true]);
    const rule = (name: string, region = TEST_REGION, account = TEST_ACCOUNT) => `arn:aws:events:${region}:${account}:rule/${name}`;
    const results = [
      await assumeAs(job, 'events.amazonaws.com', rule(names[0])),
      await assumeAs(job, 'events.amazonaws.com', rule('Mine-ScheduleRule9C1B7C0E-1XYZ0ABCDEF2')),
      await assumeAs(job, 'events.amazonaws.com', rule(`${names[0]}-lookalike`)),
      await assumeAs(job, 'events.amazonaws.com', rule(names[0], TEST_REGION, '999988887777'), '999988887777'),
      await assumeAs(job, 'events.amazonaws.com', rule(names[0], 'eu-west-1')),
      await assumeAs(job, 'events.amazonaws.com', `arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}:stateMachine:mine`),
      await assumeAs(job, 'events.amazonaws.com', undefined),
    ];
    expect([job.where, results]).toEqual([job.where, ['Allowed', ...Array(6).fill('ImplicitlyDenied')]]);
  }
});

test('rule names: unique per stack name and path, within EventBridge\'s 64 characters', () => {
  const app = new App();
  const a = new Stack(app, 'Ledger', { stackName: 'ledger-prod' });
  const b = new Stack(app, 'Ledger2', { stackName: 'ledger-ci' });
  const long = new Stack(app, 'Long', { stackName: 'x'.repeat(128) });
  expect(scopedRuleName(a, 'Schedule')).toMatch(/^ledger-prod-Schedule-[0-9a-f]{8}$/);
  expect(scopedRuleName(a, 'Schedule')).not.toBe(scopedRuleName(b, 'Schedule'));
  expect(scopedRuleName(long, 'Schedule')!.length).toBe(64);
  expect(scopedRuleName(long, 'Schedule')).not.toBe(scopedRuleName(long, 'Hourly'));
});

test('a rule of the user\'s own targeting a job (named by CloudFormation) keeps working: the trust then takes the account\'s and region\'s rules', async () => {
  const app = new App();
  const stack = new Stack(app, 'Jobs', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  new ConsistentSnapshotJob(stack, 'Db', {
    purpose: 'db', instances: { tags: { App: 'db' } }, retain: Retention.count(3), schedule: events.Schedule.rate(Duration.days(1)),
  });
  const trustOf = () => {
    const template = app.synth().getStackByName(stack.stackName).template;
    const [id, role] = Object.entries<any>(template.Resources).find(([k, r]) => r.Type === 'AWS::IAM::Role' && /^DbStateMachineEventsRole/.test(k))!;
    return { job: { where: id, logicalId: id, template, props: role.Properties } };
  };
  const own = trustOf();
  expect(render(own.job, own.job.props.AssumeRolePolicyDocument.Statement[0].Condition.ArnLike['aws:SourceArn']))
    .toEqual([`arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:rule/${rulesTargeting(own.job)[0]}`]);

  // WHEN the team adds its own rule that starts the job on an event
  const app2 = new App();
  const stack2 = new Stack(app2, 'Jobs', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  const job2 = new ConsistentSnapshotJob(stack2, 'Db', {
    purpose: 'db', instances: { tags: { App: 'db' } }, retain: Retention.count(3), schedule: events.Schedule.rate(Duration.days(1)),
  });
  new events.Rule(stack2, 'OnPatch', { eventPattern: { source: ['corp.patching'] }, targets: [new targets.SfnStateMachine(job2.stateMachine)] });
  const template = app2.synth().getStackByName(stack2.stackName).template;
  const [id, role] = Object.entries<any>(template.Resources).find(([k, r]) => r.Type === 'AWS::IAM::Role' && /^DbStateMachineEventsRole/.test(k))!;
  const user = { where: id, logicalId: id, template, props: role.Properties };
  // THEN its rule (named by CloudFormation) may still start the job; another account's may not
  expect(await assumeAs(user, 'events.amazonaws.com', `arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:rule/Jobs-OnPatch1A2B3C4D-XYZ`)).toBe('Allowed');
  expect(await assumeAs(user, 'events.amazonaws.com', `arn:aws:events:${TEST_REGION}:999988887777:rule/Jobs-OnPatch1A2B3C4D-XYZ`, '999988887777'))
    .toBe('ImplicitlyDenied');
});

/**
 * Systems Manager Automation, assuming the image task's `AutomationAssumeRole`, with
 * `aws:SourceArn` on this account's and region's Systems Manager resources (Systems Manager User
 * Guide, "Cross-service confused deputy prevention", the Automation example:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/cross-service-confused-deputy-prevention.html).
 */
test('Automation may assume a window\'s image automation role for this account\'s executions only', async () => {
  const app = new App();
  const stack = new Stack(app, 'Jobs', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  const window = new VssMaintenanceWindow(stack, 'Window', {
    purpose: 'sql', schedule: events.Schedule.cron({ hour: '1', minute: '0' }), targets: MaintenanceTargets.tagged({ Tier: 'sql' }),
  });
  window.addImageTask({ reboot: false });
  const template = app.synth().getStackByName('Jobs').template;
  const [logicalId, role] = Object.entries<any>(template.Resources).find(([id, r]) => r.Type === 'AWS::IAM::Role' && /ImageAutomationRole/.test(id))!;
  const job: Job = { where: logicalId, logicalId, template, props: role.Properties };
  const execution = (region: string, account: string) => `arn:aws:ssm:${region}:${account}:automation-execution/3a1d2c4b-5e6f-4a7b-8c9d-0e1f2a3b4c5d`;
  expect([
    await assumeAs(job, 'ssm.amazonaws.com', execution(TEST_REGION, TEST_ACCOUNT)),
    await assumeAs(job, 'ssm.amazonaws.com', execution(TEST_REGION, '999988887777'), '999988887777'),
    await assumeAs(job, 'ssm.amazonaws.com', execution('eu-west-1', TEST_ACCOUNT)),
    await assumeAs(job, 'ssm.amazonaws.com', undefined),
  ]).toEqual(['Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied']);
});

/**
 * Where AWS documents no `aws:SourceArn` for the role's assumption, the trust has none (a key the
 * service does not send would stop every run): a maintenance window's task role keeps
 * `aws:SourceAccount` only ("Cross-service confused deputy prevention", Systems Manager: examples
 * for hybrid activations and Automation only), the DLM execution role and AWS Backup's roles name
 * the service alone ("IAM service roles for Amazon Data Lifecycle Manager",
 * https://docs.aws.amazon.com/ebs/latest/userguide/service-role.html; AWS Backup's
 * "Cross-service confused deputy prevention" documents aws:SourceArn for SNS publishing only).
 */
test('the service roles AWS documents no aws:SourceArn for stay assumable by their service without one', async () => {
  const windowTasks = (trusted['ssm.amazonaws.com'] ?? []).filter((j) => /TaskRole/.test(j.logicalId));
  const dlmRoles = trusted['dlm.amazonaws.com'] ?? [];
  const backupRoles = trusted['backup.amazonaws.com'] ?? [];
  expect([windowTasks.length > 0, dlmRoles.length > 0, backupRoles.length > 0]).toEqual([true, true, true]);
  for (const job of windowTasks) {
    // the window's own account only: the key the service sends
    const own = await evaluate({
      principal: 'ssm.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: `arn:aws:iam::${TEST_ACCOUNT}:role/${job.logicalId}`,
      context: { 'aws:SourceAccount': TEST_ACCOUNT },
    }, { resourcePolicy: render(job, job.props.AssumeRolePolicyDocument) });
    const other = await evaluate({
      principal: 'ssm.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: `arn:aws:iam::${TEST_ACCOUNT}:role/${job.logicalId}`,
      context: { 'aws:SourceAccount': '999988887777' },
    }, { resourcePolicy: render(job, job.props.AssumeRolePolicyDocument) });
    expect([job.where, own, other]).toEqual([job.where, 'Allowed', 'ImplicitlyDenied']);
  }
  for (const [service, roles] of [['dlm.amazonaws.com', dlmRoles], ['backup.amazonaws.com', backupRoles]] as const) {
    for (const job of roles) {
      expect([job.where, await assumeAs(job, service, undefined)]).toEqual([job.where, 'Allowed']);
    }
  }
});
