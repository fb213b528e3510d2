/**
 * The role trusts of `src/core/service-trust.ts`, built directly and evaluated with the IAM
 * policy evaluator (`@cloud-copilot/iam-simulate`, test/support/iam-evaluation.ts), without
 * synthesizing an app: each role's or policy's document is resolved as CloudFormation would read
 * it, and the service's assumption is evaluated with the keys AWS documents it sending.
 * (test/core/service-trust.test.ts evaluates the same trusts over every example app; this file is
 * the module's cheap test for mutation testing, module `core-service-trust`.)
 *
 * - Step Functions: `aws:SourceArn` = the state machine's ARN, `aws:SourceAccount` (Step Functions
 *   Developer Guide, "Prevent cross-service confused deputy issue").
 * - EventBridge: "For EventBridge event bus rule targets, the value of aws:SourceArn must be the
 *   rule ARN" (EventBridge User Guide, "Cross-service confused deputy prevention in Amazon EventBridge").
 * - Systems Manager Automation: `aws:SourceArn` on the account's and region's Systems Manager
 *   resources (Systems Manager User Guide, "Cross-service confused deputy prevention").
 * - Lambda: `lambda:SourceFunctionArn` on every call from a function's execution environment
 *   (Lambda Developer Guide, "Using source function ARN to control function access behavior").
 */
import { App, Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  denyOtherFunctions, OTHER_FUNCTIONS_DENY_SID, ruleSourceArnPattern, scopedRuleName, ssmAutomationPrincipal, trustOnlyRules, trustOnlyStateMachine,
} from '../../src/core/service-trust';
import { evaluate } from '../support/iam-evaluation';
import { renderIntrinsics, TEST_ACCOUNT, TEST_REGION } from '../support/intrinsics';

const OTHER_ACCOUNT = '999988887777';
const OTHER_REGION = 'eu-west-1';

let app: App;
let stack: Stack;
beforeEach(() => {
  app = new App();
  stack = new Stack(app, 'Jobs', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
});

const machine = (id: string, props: Partial<sfn.StateMachineProps> = {}) =>
  new sfn.StateMachine(stack, id, { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Start`)), ...props });

/** The role's trust as CloudFormation reads it (property overrides applied, tokens resolved). */
function trustOf(role: iam.IRole): any {
  const cfn = role.node.defaultChild as iam.CfnRole;
  const rendered = Stack.of(cfn).resolve((cfn as any)._toCloudFormation());
  return renderIntrinsics(Object.values<any>(rendered.Resources)[0].Properties.AssumeRolePolicyDocument);
}

/** `principal` assuming `role` acting for `sourceArn` of `account` (no source keys when `sourceArn` is undefined). */
const assume = (role: iam.IRole, principal: string, sourceArn: string | undefined, account = TEST_ACCOUNT) => evaluate({
  principal,
  action: 'sts:AssumeRole',
  resource: `arn:aws:iam::${TEST_ACCOUNT}:role/JobRole`,
  context: sourceArn === undefined ? {} : { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': account },
}, { resourcePolicy: trustOf(role) });

const logicalIdOf = (m: sfn.StateMachine) => stack.resolve((m.node.defaultChild as sfn.CfnStateMachine).logicalId) as string;
/** CloudFormation's generated name: the logical id's first `maxLength - 13` characters, `-`, 12 random characters. */
const generated = (logicalId: string, maxLength: 40 | 80) => `${logicalId.slice(0, maxLength - 13)}-Nz4Kq7Wd2Lp9`;
const machineArn = (name: string, account = TEST_ACCOUNT, region = TEST_REGION) => `arn:aws:states:${region}:${account}:stateMachine:${name}`;
const ruleArn = (name: string, account = TEST_ACCOUNT, region = TEST_REGION) => `arn:aws:events:${region}:${account}:rule/${name}`;

describe('trustOnlyStateMachine: Step Functions acting for this machine only', () => {
  test('a machine with a short logical id: its generated name allowed; another machine, account, region, service or no source denied', async () => {
    const m = machine('Lock');
    trustOnlyStateMachine(m);
    const id = logicalIdOf(m);
    expect(id.length).toBeLessThan(27);
    expect(await Promise.all([
      assume(m.role, 'states.amazonaws.com', machineArn(generated(id, 80))),
      assume(m.role, 'states.amazonaws.com', machineArn('Mine-Nz4Kq7Wd2Lp9')),
      assume(m.role, 'states.amazonaws.com', machineArn(id)),
      assume(m.role, 'states.amazonaws.com', machineArn(generated(id, 80), OTHER_ACCOUNT), OTHER_ACCOUNT),
      assume(m.role, 'states.amazonaws.com', machineArn(generated(id, 80)), OTHER_ACCOUNT),
      assume(m.role, 'states.amazonaws.com', machineArn(generated(id, 80), TEST_ACCOUNT, OTHER_REGION)),
      assume(m.role, 'events.amazonaws.com', machineArn(generated(id, 80))),
      assume(m.role, 'states.amazonaws.com', undefined),
    ])).toEqual(['Allowed', ...Array(7).fill('ImplicitlyDenied')]);
  });

  test('a logical id longer than 27 characters: the names of both CloudFormation generators allowed, a name that only starts alike denied', async () => {
    const m = machine('BaselinegoldDrillStateMachine');
    trustOnlyStateMachine(m);
    const id = logicalIdOf(m);
    expect(id.length).toBeGreaterThan(27);
    expect(await Promise.all([
      assume(m.role, 'states.amazonaws.com', machineArn(generated(id, 80))),
      assume(m.role, 'states.amazonaws.com', machineArn(generated(id, 40))),
      assume(m.role, 'states.amazonaws.com', machineArn(`${id.slice(0, 26)}-Nz4Kq7Wd2Lp9`)),
      assume(m.role, 'states.amazonaws.com', machineArn(generated(id, 40), OTHER_ACCOUNT), OTHER_ACCOUNT),
    ])).toEqual(['Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied']);
  });

  test('an imported role keeps its own trust; a role trusted by more than Step Functions is refused, naming the machine', () => {
    const imported = machine('Imported', { role: iam.Role.fromRoleArn(stack, 'Theirs', `arn:aws:iam::${TEST_ACCOUNT}:role/Theirs`) });
    expect(() => trustOnlyStateMachine(imported)).not.toThrow();
    const shared = machine('Shared');
    (shared.role as iam.Role).assumeRolePolicy!.addStatements(new iam.PolicyStatement({
      actions: ['sts:AssumeRole'], principals: [new iam.ServicePrincipal('lambda.amazonaws.com')],
    }));
    expect(() => trustOnlyStateMachine(shared)).toThrow("Jobs/Shared: the state machine's role must be trusted by Step Functions alone to be scoped to the machine");
  });
});

describe('trustOnlyRules: EventBridge acting for the rules that target the role only', () => {
  const target = (m: sfn.StateMachine) => new targets.SfnStateMachine(m);

  test('the library\'s named rules: each allowed; another rule, account, region, service or no source denied; another machine\'s rule denied', async () => {
    const m = machine('Job');
    const other = machine('Other');
    // a rule without targets and one targeting another machine: neither is among this role's rules
    new events.Rule(stack, 'Idle', { ruleName: 'Jobs-Idle', schedule: events.Schedule.expression('rate(1 day)') });
    new events.Rule(stack, 'OtherSchedule', { ruleName: 'Jobs-OtherSchedule', schedule: events.Schedule.expression('rate(1 day)'), targets: [target(other)] });
    new events.Rule(stack, 'Schedule', { ruleName: 'Jobs-Schedule', schedule: events.Schedule.expression('rate(1 day)'), targets: [target(m)] });
    new events.Rule(stack, 'OnPatch', { ruleName: 'Jobs-OnPatch', eventPattern: { source: ['corp.patching'] }, targets: [target(m)] });
    trustOnlyRules(m);
    const role = m.node.findChild('EventsRole') as iam.Role;
    expect(await Promise.all([
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule')),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-OnPatch')),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-OtherSchedule')),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Idle')),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule-lookalike')),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule', OTHER_ACCOUNT), OTHER_ACCOUNT),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule'), OTHER_ACCOUNT),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule', TEST_ACCOUNT, OTHER_REGION)),
      assume(role, 'states.amazonaws.com', ruleArn('Jobs-Schedule')),
      assume(role, 'events.amazonaws.com', machineArn('Mine')),
      assume(role, 'events.amazonaws.com', undefined),
    ])).toEqual(['Allowed', 'Allowed', ...Array(9).fill('ImplicitlyDenied')]);
  });

  test.each<[string, (m: sfn.StateMachine) => void]>([
    ['named by CloudFormation', (m) => new events.Rule(stack, 'Theirs', { eventPattern: { source: ['corp.patching'] }, targets: [target(m)] })],
    ['named by a token', (m) => new events.Rule(stack, 'Theirs', {
      ruleName: Lazy.string({ produce: () => 'Jobs-Theirs' }), eventPattern: { source: ['corp.patching'] }, targets: [target(m)],
    })],
  ])('a rule of the team\'s own %s keeps working: this account\'s and region\'s rules allowed, no other', async (_name, addRule) => {
    const m = machine('Job');
    new events.Rule(stack, 'Schedule', { ruleName: 'Jobs-Schedule', schedule: events.Schedule.expression('rate(1 day)'), targets: [target(m)] });
    addRule(m);
    trustOnlyRules(m);
    const role = m.node.findChild('EventsRole') as iam.Role;
    expect(await Promise.all([
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule')),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-TheirsABC123-XYZ')),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule', OTHER_ACCOUNT), OTHER_ACCOUNT),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule', TEST_ACCOUNT, OTHER_REGION)),
      assume(role, 'events.amazonaws.com', machineArn('Mine')),
    ])).toEqual(['Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied']);
    expect(renderIntrinsics(stack.resolve(ruleSourceArnPattern(stack)))).toEqual(`arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:rule/*`);
  });

  test('a rule in another stack of the app (its target role named through an export) and an L1 rule without a name keep working', async () => {
    const m = machine('Job');
    new events.Rule(stack, 'Schedule', { ruleName: 'Jobs-Schedule', schedule: events.Schedule.expression('rate(1 day)'), targets: [target(m)] });
    const other = new Stack(app, 'Ops', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
    new events.Rule(other, 'OnPatch', { ruleName: 'Ops-OnPatch', eventPattern: { source: ['corp.patching'] }, targets: [target(m)] });
    trustOnlyRules(m);
    const role = m.node.findChild('EventsRole') as iam.Role;
    expect(await Promise.all([
      assume(role, 'events.amazonaws.com', ruleArn('Ops-OnPatch')),
      assume(role, 'events.amazonaws.com', ruleArn('Jobs-Schedule')),
      assume(role, 'events.amazonaws.com', ruleArn('Ops-OnPatch', OTHER_ACCOUNT), OTHER_ACCOUNT),
    ])).toEqual(['Allowed', 'Allowed', 'ImplicitlyDenied']);

    const l1 = machine('L1Job');
    new events.Rule(stack, 'L1Schedule', { ruleName: 'Jobs-L1Schedule', schedule: events.Schedule.expression('rate(1 day)'), targets: [target(l1)] });
    const l1Role = l1.node.findChild('EventsRole') as iam.Role;
    new events.CfnRule(stack, 'Raw', { scheduleExpression: 'rate(1 hour)', targets: [{ id: 'Job', arn: l1.stateMachineArn, roleArn: l1Role.roleArn }] });
    trustOnlyRules(l1);
    expect(await assume(l1Role, 'events.amazonaws.com', ruleArn('Jobs-RawA1B2C3D4-XYZ'))).toBe('Allowed');
  });

  test('rules added after the call are trusted too (the trust is read when the template is written)', async () => {
    const m = machine('Job');
    new events.Rule(stack, 'Schedule', { ruleName: 'Jobs-Schedule', schedule: events.Schedule.expression('rate(1 day)'), targets: [target(m)] });
    trustOnlyRules(m);
    new events.Rule(stack, 'Later', { ruleName: 'Jobs-Later', schedule: events.Schedule.expression('rate(1 day)'), targets: [target(m)] });
    const role = m.node.findChild('EventsRole') as iam.Role;
    expect(await assume(role, 'events.amazonaws.com', ruleArn('Jobs-Later'))).toBe('Allowed');
  });

  test('refused, naming the target: no rule yet (nothing to protect), or a role trusted by more than EventBridge', () => {
    const lonely = machine('Lonely');
    expect(() => trustOnlyRules(lonely)).toThrow('Jobs/Lonely: no EventBridge role to scope (add the rule that targets it first)');
    const shared = machine('Shared');
    new events.Rule(stack, 'Schedule', { ruleName: 'Jobs-Schedule', schedule: events.Schedule.expression('rate(1 day)'), targets: [target(shared)] });
    (shared.node.findChild('EventsRole') as iam.Role).assumeRolePolicy!.addStatements(new iam.PolicyStatement({
      actions: ['sts:AssumeRole'], principals: [new iam.ServicePrincipal('lambda.amazonaws.com')],
    }));
    expect(() => trustOnlyRules(shared)).toThrow("Jobs/Shared: the target's role must be trusted by EventBridge alone to be scoped to the rules");
  });
});

describe('scopedRuleName: EventBridge rule names (PutRule Name: 1 to 64 of [.-_A-Za-z0-9])', () => {
  const NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
  test('<stack>-<path>-<hash>: readable, valid, unique per stack name and path', () => {
    const a = new Stack(app, 'Ledger', { stackName: 'ledger-prod' });
    const b = new Stack(app, 'Ledger2', { stackName: 'ledger-ci' });
    const db = new sfn.Pass(a, 'Db Job (nightly)');
    const name = scopedRuleName(db, 'Schedule');
    expect(name).toMatch(/^ledger-prod-DbJobnightlySchedule-[0-9a-f]{8}$/);
    expect(name).toMatch(NAME);
    const same = new sfn.Pass(b, 'Db Job (nightly)');
    expect(scopedRuleName(same, 'Schedule')).not.toEqual(name);
    expect(scopedRuleName(same, 'Schedule').slice(-8)).not.toEqual(name.slice(-8));
    expect(scopedRuleName(db, 'Hourly').slice(-8)).not.toEqual(name.slice(-8));
    // the same stack name and path: the same name (a rule keeps its name across deployments)
    expect(scopedRuleName(new sfn.Pass(new Stack(new App(), 'Ledger', { stackName: 'ledger-prod' }), 'Db Job (nightly)'), 'Schedule')).toEqual(name);
  });

  test('a long stack name: cut to 64 characters, the hash kept whole', () => {
    const long = new Stack(app, 'Long', { stackName: 'x'.repeat(128) });
    const name = scopedRuleName(long, 'Schedule');
    expect(name).toMatch(NAME);
    expect(name).toMatch(/^x{55}-[0-9a-f]{8}$/);
  });
});

describe('ssmAutomationPrincipal: Automation acting for this account\'s and region\'s Systems Manager resources only', () => {
  test('an execution of this account and region allowed; another account, region, service or no source denied', async () => {
    const role = new iam.Role(stack, 'AutomationRole', { assumedBy: ssmAutomationPrincipal(stack) });
    const execution = (account: string, region: string) => `arn:aws:ssm:${region}:${account}:automation-execution/3a1d2c4b-5e6f-4a7b-8c9d-0e1f2a3b4c5d`;
    const trust = renderIntrinsics(stack.resolve(role.assumeRolePolicy!.toJSON()));
    const run = (principal: string, sourceArn: string | undefined, account = TEST_ACCOUNT) => evaluate({
      principal,
      action: 'sts:AssumeRole',
      resource: `arn:aws:iam::${TEST_ACCOUNT}:role/AutomationRole`,
      context: sourceArn === undefined ? {} : { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': account },
    }, { resourcePolicy: trust });
    expect(await Promise.all([
      run('ssm.amazonaws.com', execution(TEST_ACCOUNT, TEST_REGION)),
      run('ssm.amazonaws.com', execution(OTHER_ACCOUNT, TEST_REGION), OTHER_ACCOUNT),
      run('ssm.amazonaws.com', execution(TEST_ACCOUNT, TEST_REGION), OTHER_ACCOUNT),
      run('ssm.amazonaws.com', execution(TEST_ACCOUNT, OTHER_REGION)),
      run('ssm.amazonaws.com', `arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}:stateMachine:Mine`),
      run('states.amazonaws.com', execution(TEST_ACCOUNT, TEST_REGION)),
      run('ssm.amazonaws.com', undefined),
    ])).toEqual(['Allowed', ...Array(6).fill('ImplicitlyDenied')]);
  });
});

describe('denyOtherFunctions: the role serves its own function\'s code only', () => {
  test('its own function (any version) and Lambda\'s calls without the key allowed; any other function\'s code denied', async () => {
    const own = `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:Job`;
    const fn = lambda.Function.fromFunctionArn(stack, 'Fn', own);
    const role = new iam.Role(stack, 'JobRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const policy = denyOtherFunctions(stack, 'OnlyThisFunction', fn, role);
    expect(stack.resolve(policy.document.toJSON()).Statement.map((s: any) => s.Sid)).toEqual([OTHER_FUNCTIONS_DENY_SID]);
    // the policy is attached to the role
    expect(stack.resolve((policy.node.defaultChild as iam.CfnPolicy).roles)).toEqual([stack.resolve(role.roleName)]);
    const identity = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, renderIntrinsics(stack.resolve(policy.document.toJSON()))];
    const call = (action: string, source?: string) => evaluate({
      principal: `arn:aws:iam::${TEST_ACCOUNT}:role/JobRole`,
      action,
      resource: action.startsWith('ec2') ? `arn:aws:ec2:${TEST_REGION}::snapshot/snap-0f1e2d3c4b5a69788` : `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:dlq`,
      context: source ? { 'lambda:SourceFunctionArn': source } : {},
    }, { identity });
    expect(await Promise.all([
      call('ec2:DeleteSnapshot', own),
      call('ec2:DeleteSnapshot', `${own}:7`),
      call('sqs:SendMessage', undefined),
      call('ec2:DeleteSnapshot', `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:Mine`),
      call('ec2:DeleteSnapshot', `${own}-lookalike`),
      call('sqs:SendMessage', `arn:aws:lambda:${TEST_REGION}:${OTHER_ACCOUNT}:function:Job`),
    ])).toEqual(['Allowed', 'Allowed', 'Allowed', 'ExplicitlyDenied', 'ExplicitlyDenied', 'ExplicitlyDenied']);
  });
});
