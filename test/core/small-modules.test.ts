/**
 * The small plumbing of src/core, each on its own (modules `core-machinery`, `core-alarm-routing`,
 * `core-sdk-call`, `core-stack-change-detection`), without synthesis:
 * - machinery: the managed-by tag the write-once guard's machinery denies key on, on the library's
 *   job resources only (`MACHINERY_RESOURCE_TYPES`);
 * - alarm routing: every action given, or cfn-guard's `cloudwatch_alarm_action_check` acknowledged;
 * - sdkCall: the Step Functions AWS SDK integration `arn:aws:states:::aws-sdk:<service>:<apiAction>`
 *   with the action in camel case ("AWS SDK service integrations", Step Functions Developer Guide)
 *   and the IAM action it needs;
 * - mergeTags: the user's tags beside the library's, never overriding one (`core-merge-tags`);
 * - failureAlarm: evaluated with the alarm evaluator of test/support as CloudWatch evaluates an alarm
 *   ("Using Amazon CloudWatch alarms": periods, threshold, missing data) (`core-failure-alarm`);
 * - RetentionRoles: the roles registered per app, rendered when the template is written (`core-retention-roles`);
 * - BackupCoverage: what a resource declares it covers, as the checks read it (`core-coverage`);
 * - artefact retentions: how long a count of runs keeps an artefact, from the schedule's shortest
 *   interval (a time zone's daylight-saving shift takes an hour off a cron's) (`core-artefact-retentions`);
 * - EbsBackupChangeDetection: the stack's configuration and machinery outside any mechanism,
 *   CloudTrail events run through the event-pattern matcher, and a resource added later refused.
 */
import { App, Aspects, Duration, Lazy, NestedStack, Stack, Tags, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import { routeAlarm, UNROUTED_ALARM_REASON } from '../../src/core/alarm-routing';
import { artefactRetentions, registerScheduledRetention, retentionLifetimeDays } from '../../src/core/artefact-retentions';
import { BackupCoverage, CoverageResourceType } from '../../src/core/coverage';
import { failureAlarm } from '../../src/core/failure-alarm';
import { isMachinery, MACHINERY_TAG_VALUE, protectAsMachinery } from '../../src/core/machinery';
import { mergeTags } from '../../src/core/merge-tags';
import { quantity } from '../../src/core/quantity';
import { Retention } from '../../src/core/retention';
import { RetentionRoles } from '../../src/core/retention-roles';
import { aslDefinitionBody, SNAPSHOT_PAGE_SIZE, sdkCall } from '../../src/core/sdk-call';
import { sourceInstanceTagKey } from '../../src/core/source-instance';
import { EbsBackupChangeDetection } from '../../src/core/stack-change-detection';
import { BackupTagging } from '../../src/core/tagging';
import { inAlarm } from '../support/alarm-evaluation';
import { cloudTrailEvent, matchesPattern, renderIntrinsicsForEvents } from '../support/event-pattern';

const ACCOUNT = '565656565656';
const REGION = 'ap-southeast-2';

/** The tags the Tags aspect puts on `c`'s L1 (what the template will carry). */
function tagsOf(c: IConstruct): Record<string, string> {
  const stack = Stack.of(c);
  // what synthesis does: each construct's aspects visit it and everything below it
  for (const scope of stack.node.findAll()) {
    for (const aspect of Aspects.of(scope).all) {
      scope.node.findAll().forEach((x) => aspect.visit(x));
    }
  }
  const rendered = stack.resolve((c as any).tags.renderTags()) ?? [];
  return Object.fromEntries(rendered.map((t: any) => [t.Key ?? t.key, t.Value ?? t.value]));
}

describe('machinery', () => {
  test('the library\'s job resources under the construct carry the managed-by tag; other resources and other constructs do not', () => {
    const stack = new Stack(new App(), 'Jobs');
    const job = new Construct(stack, 'Job');
    const fn = new lambda.CfnFunction(job, 'Fn', { code: { zipFile: 'x' }, role: 'r' });
    const topic = new sns.CfnTopic(job, 'Topic');
    const placement = new ec2.CfnPlacementGroup(job, 'Placement', { strategy: 'cluster' });
    const outside = new sns.CfnTopic(stack, 'Outside');
    protectAsMachinery(job);
    Tags.of(stack).add('team', 'db');
    expect([tagsOf(fn), tagsOf(topic)]).toEqual([{ 'backup:managed-by': MACHINERY_TAG_VALUE, 'team': 'db' }, { 'backup:managed-by': MACHINERY_TAG_VALUE, 'team': 'db' }]);
    expect([tagsOf(placement), tagsOf(outside)]).toEqual([{ team: 'db' }, { team: 'db' }]);
    expect([isMachinery(job), isMachinery(fn), isMachinery(outside), isMachinery(stack)]).toEqual([true, true, false, false]);
    expect(MACHINERY_TAG_VALUE).toBe('cdk-ebs-backup');
  });

  test('the configured key', () => {
    const app = new App();
    BackupTagging.configure(app, { prefix: 'acme:' });
    const job = new Construct(new Stack(app, 'Jobs'), 'Job');
    const topic = new sns.CfnTopic(job, 'Topic');
    protectAsMachinery(job);
    expect(tagsOf(topic)).toEqual({ 'acme:managed-by': 'cdk-ebs-backup' });
  });
});

describe('alarm routing', () => {
  const alarmIn = (stack: Stack) => new cloudwatch.Alarm(stack, 'Alarm', {
    metric: new cloudwatch.Metric({ namespace: 'N', metricName: 'M' }), threshold: 1, evaluationPeriods: 1,
  });
  const acks = (a: cloudwatch.Alarm) => a.node.metadata.filter((m) => m.type === 'cdk-ebs-backup:acknowledged').map((m) => m.data);
  const actionsOf = (a: cloudwatch.Alarm) => Stack.of(a).resolve((a.node.defaultChild as cloudwatch.CfnAlarm).alarmActions);
  const action = (arn: string): cloudwatch.IAlarmAction => ({ bind: () => ({ alarmActionArn: arn }) });

  test('every action given; nothing acknowledged', () => {
    const a = alarmIn(new Stack(new App(), 'S'));
    routeAlarm(a, [action('arn:aws:sns:eu-west-1:111111111111:a'), action('arn:aws:sns:eu-west-1:111111111111:b')], 'unused');
    expect([actionsOf(a), acks(a)]).toEqual([['arn:aws:sns:eu-west-1:111111111111:a', 'arn:aws:sns:eu-west-1:111111111111:b'], []]);
  });

  test.each<[string, cloudwatch.IAlarmAction[] | undefined, string | undefined, string]>([
    ['no actions', undefined, undefined, UNROUTED_ALARM_REASON],
    ['an empty list', [], undefined, UNROUTED_ALARM_REASON],
    ['a reason of its own', [], 'routed by the baseline', 'routed by the baseline'],
  ])('%s: cfn-guard\'s alarm action check acknowledged with the reason', (_name, actions, reason, expected) => {
    const a = alarmIn(new Stack(new App(), 'S'));
    routeAlarm(a, actions, reason);
    expect([actionsOf(a), acks(a)]).toEqual([undefined, [{ cloudwatch_alarm_action_check: expected }]]);
    expect(UNROUTED_ALARM_REASON).toBe('no alarm action was given: the alarm is exposed for the team to route');
  });
});

describe('sdkCall', () => {
  test('the service, the API action and the IAM action never disagree', () => {
    const stack = new Stack(new App(), 'S');
    const call = sdkCall(stack, 'DescribePage', 'ec2:DescribeSnapshots', {
      parameters: { MaxResults: SNAPSHOT_PAGE_SIZE }, iamResources: ['*'], resultPath: '$.page',
    });
    const state = (call.toStateJson() as any);
    expect(state).toMatchObject({ Type: 'Task', Resource: expect.stringMatching(/:states:::aws-sdk:ec2:describeSnapshots"?\]?/), Parameters: { MaxResults: 100 } });
    expect(stack.resolve(state.Resource)).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::aws-sdk:ec2:describeSnapshots']] });
    expect(call.id).toBe('DescribePage');
    expect(call.stateId).toBe('DescribePage');
    // the role of the machine gets exactly the IAM action
    const machine = new sfn.StateMachine(stack, 'M', { definitionBody: sfn.DefinitionBody.fromChainable(call) });
    const policy = stack.resolve((machine.role.node.findChild('DefaultPolicy') as any).document.toJSON());
    expect(policy.Statement).toEqual([{ Action: 'ec2:DescribeSnapshots', Effect: 'Allow', Resource: '*' }]);
    const lock = sdkCall(stack, 'Lock', 'ec2:LockSnapshot', { iamResources: ['*'] });
    expect(stack.resolve(lock.toStateJson() as any).Resource['Fn::Join'][1][2]).toBe(':states:::aws-sdk:ec2:lockSnapshot');
  });

  test('the page size keeps 100 records of about 690 bytes within a quarter of the 256 KiB result limit', () => {
    expect(SNAPSHOT_PAGE_SIZE * 690).toBeLessThanOrEqual(256 * 1024 / 3.5);
    expect(SNAPSHOT_PAGE_SIZE).toBe(100);
  });

  // "State machine structure in Amazon States Language": the top-level TimeoutSeconds bounds an
  // execution; aws-cdk-lib writes StateMachineProps.timeout only into chainable definitions
  test('aslDefinitionBody puts the execution timeout into the definition, beside every state, tokens resolved', () => {
    const stack = new Stack(new App(), 'S');
    const topic = new sns.Topic(stack, 'T');
    const machine = new sfn.StateMachine(stack, 'M', {
      definitionBody: aslDefinitionBody(stack, { StartAt: 'P', States: { P: { Type: 'Pass', Output: topic.topicArn, End: true } } }, Duration.minutes(15)),
    });
    const rendered = stack.resolve((machine.node.defaultChild as sfn.CfnStateMachine).definitionString);
    const [, parts] = rendered['Fn::Join'];
    expect(JSON.parse(parts.map((p: any) => (typeof p === 'string' ? p : 'arn:topic')).join(''))).toEqual({
      StartAt: 'P', States: { P: { Type: 'Pass', Output: 'arn:topic', End: true } }, TimeoutSeconds: 900,
    });
  });
});

describe('EbsBackupChangeDetection', () => {
  const render = (v: unknown) => renderIntrinsicsForEvents(v, ACCOUNT, REGION);

  test('the stack\'s configuration and the machinery outside a mechanism, whoever created them; not the app\'s own resources', () => {
    const stack = new Stack(new App(), 'Jobs', { env: { account: ACCOUNT, region: REGION } });
    const policy = new dlm.CfnLifecyclePolicy(stack, 'Policy', { description: 'p', state: 'ENABLED', executionRoleArn: 'arn:aws:iam::565656565656:role/dlm' });
    const guard = new Construct(stack, 'Guard');
    const guardTopic = new sns.CfnTopic(guard, 'Topic');
    protectAsMachinery(guard);
    const appRule = new events.CfnRule(stack, 'AppRule', { scheduleExpression: 'rate(1 day)' });
    const topic = new sns.Topic(stack, 'Changes');
    const detection = new EbsBackupChangeDetection(stack, 'Detection', { topic });
    const patterns = detection.rules
      .map((r) => render(stack.resolve(((r as events.Rule).node.defaultChild as events.CfnRule).eventPattern)));
    const detected = (action: string, params: Record<string, unknown>) =>
      patterns.some((p) => matchesPattern(p, cloudTrailEvent(action, params, ACCOUNT, REGION)));
    const ref = (c: IConstruct) => render({ Ref: stack.resolve((c as any).logicalId) });
    expect([
      detected('dlm:UpdateLifecyclePolicy', { policyId: ref(policy), state: 'DISABLED' }),
      detected('sns:SetTopicAttributes', { topicArn: ref(guardTopic), attributeName: 'Policy' }),
      detected('events:DisableRule', { name: ref(appRule) }),
      detected('sns:DeleteTopic', { topicArn: ref(topic.node.defaultChild!) }),
    ]).toEqual([true, true, false, false]);
    // the alarm notifies the topic too
    const alarm = detection.node.findAll().find((c): c is cloudwatch.CfnAlarm => c instanceof cloudwatch.CfnAlarm)!;
    expect(stack.resolve(alarm.alarmActions)).toEqual([stack.resolve(topic.topicArn)]);
    expect(detection.node.validate()).toEqual([]);
  });

  test('a resource added later is a validation error naming it and the fix (one or several)', () => {
    const stack = new Stack(new App(), 'Jobs');
    new dlm.CfnLifecyclePolicy(stack, 'Policy', { description: 'p', state: 'ENABLED', executionRoleArn: 'arn:aws:iam::565656565656:role/dlm' });
    const detection = new EbsBackupChangeDetection(stack, 'Detection', { topic: new sns.Topic(stack, 'Changes') });
    new sns.CfnTopic(stack, 'AppTopic');
    expect(detection.node.validate()).toEqual([]);
    new dlm.CfnLifecyclePolicy(stack, 'Late', { description: 'p', state: 'ENABLED', executionRoleArn: 'arn:aws:iam::565656565656:role/dlm' });
    expect(detection.node.validate()).toEqual(['EbsBackupChangeDetection: Jobs/Late was added to the stack after the detection and would not be watched. '
      + 'Fix: create the EbsBackupChangeDetection last in the stack.']);
    const job = new Construct(stack, 'LateJob');
    new sns.CfnTopic(job, 'Topic');
    protectAsMachinery(job);
    expect(detection.node.validate()).toEqual(['EbsBackupChangeDetection: Jobs/Late, Jobs/LateJob/Topic were added to the stack after the detection and would not be watched. '
      + 'Fix: create the EbsBackupChangeDetection last in the stack.']);
  });

  test('a nested stack is a stack of its own: its detection watches its resources, the parent\'s does not', () => {
    // "Add one to each stack": a nested stack's resources are left to its own detection, so no
    // change alarms twice and the parent's detection does not refuse them as added later
    const stack = new Stack(new App(), 'Jobs', { env: { account: ACCOUNT, region: REGION } });
    const policy = new dlm.CfnLifecyclePolicy(stack, 'Policy', { description: 'p', state: 'ENABLED', executionRoleArn: 'arn:aws:iam::565656565656:role/dlm' });
    const parent = new EbsBackupChangeDetection(stack, 'Detection', { topic: new sns.Topic(stack, 'Changes') });
    const nested = new NestedStack(stack, 'Nested');
    const nestedPolicy = new dlm.CfnLifecyclePolicy(nested, 'NestedPolicy', { description: 'p', state: 'ENABLED', executionRoleArn: 'arn:aws:iam::565656565656:role/dlm' });
    const own = new EbsBackupChangeDetection(nested, 'Detection', { topic: new sns.Topic(nested, 'Changes') });
    expect([parent.node.validate(), own.node.validate()]).toEqual([[], []]);
    const detects = (d: EbsBackupChangeDetection, p: dlm.CfnLifecyclePolicy) => d.rules.some((r) => {
      const s = Stack.of(r);
      const pattern = renderIntrinsicsForEvents(s.resolve(((r as events.Rule).node.defaultChild as events.CfnRule).eventPattern), ACCOUNT, REGION);
      const id = renderIntrinsicsForEvents({ Ref: Stack.of(p).resolve(p.logicalId) }, ACCOUNT, REGION);
      return matchesPattern(pattern, cloudTrailEvent('dlm:UpdateLifecyclePolicy', { policyId: id, state: 'DISABLED' }, ACCOUNT, REGION));
    });
    expect([detects(parent, policy), detects(own, nestedPolicy), detects(parent, nestedPolicy)]).toEqual([true, true, false]);
  });
});

describe('mergeTags', () => {
  test('the user\'s tags kept beside the library\'s; a library tag set to its own value is no conflict', () => {
    const scope = new Construct(new Stack(new App(), 'Jobs'), 'Db');
    const library = { 'backup:purpose': 'db', 'backup:retention': 'count:7' };
    expect(mergeTags(scope, 'tags', undefined, library)).toEqual(library);
    expect(mergeTags(scope, 'tags', { 'team': 'a', 'backup:purpose': 'db' }, library)).toEqual({ team: 'a', ...library });
    expect(Object.keys(mergeTags(scope, 'tags', { team: 'a' }, library))).toEqual(['team', 'backup:purpose', 'backup:retention']);
  });

  test('a library tag the user sets otherwise is an error naming the prop, the key and the value', () => {
    const scope = new Construct(new Stack(new App(), 'Jobs'), 'Db');
    expect(() => mergeTags(scope, 'copyTags', { 'team': 'a', 'backup:retention': 'forever' }, { 'backup:retention': 'count:7' }))
      .toThrow("Jobs/Db: copyTags must not set the library's tag 'backup:retention' (it is derived from the construct's settings), got 'forever'");
    expect(sourceInstanceTagKey(scope)).toBe('backup:source-instance');
  });
});

describe('failureAlarm', () => {
  const metric = new cloudwatch.Metric({ namespace: 'AWS/States', metricName: 'ExecutionsFailed', period: Duration.minutes(5), statistic: 'Sum' });
  const rendered = (a: cloudwatch.Alarm) => Stack.of(a).resolve((a.node.defaultChild as cloudwatch.CfnAlarm)._toCloudFormation() as any).Resources;
  const propsOf = (a: cloudwatch.Alarm) => (Object.values<any>(rendered(a))[0]).Properties;
  const acks = (a: cloudwatch.Alarm) => a.node.metadata.filter((m) => m.type === 'cdk-ebs-backup:acknowledged').map((m) => m.data);
  const NOW = Date.UTC(2026, 10, 30, 12, 0);

  test('one failure in the last period alarms; none, or no data at all, does not', () => {
    const a = failureAlarm(new Stack(new App(), 'S'), 'Failed', { description: 'the job failed', metric });
    const p = propsOf(a);
    expect([
      inAlarm(p, [{ at: NOW - 4 * 60_000, value: 1 }], NOW),
      inAlarm(p, [{ at: NOW - 4 * 60_000, value: 0 }], NOW),
      inAlarm(p, [], NOW),
      inAlarm(p, [{ at: NOW - 11 * 60_000, value: 3 }], NOW),
    ]).toEqual([true, false, false, false]);
    expect([p.AlarmDescription, p.EvaluationPeriods]).toEqual(['the job failed', 1]);
    expect(acks(a)).toEqual([{ cloudwatch_alarm_action_check: 'no alarm action was given: the alarm is exposed as `alarm` for the team to route (or pass alarmAction)' }]);
    expect(isMachinery(a)).toBe(true);
  });

  test('threshold and comparison given; description cut to CloudWatch\'s 1024 characters; routed, or acknowledged for the reason given, or left to the caller', () => {
    const stack = new Stack(new App(), 'S');
    const action: cloudwatch.IAlarmAction = { bind: () => ({ alarmActionArn: 'arn:aws:sns:eu-west-1:111111111111:pager' }) };
    const a = failureAlarm(stack, 'Low', {
      description: 'd'.repeat(1100), metric, threshold: 2, comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, alarmAction: action,
    });
    const p = propsOf(a);
    expect([inAlarm(p, [{ at: NOW - 60_000, value: 1 }], NOW), inAlarm(p, [{ at: NOW - 60_000, value: 2 }], NOW)]).toEqual([true, false]);
    expect([p.AlarmDescription, p.AlarmActions, acks(a)]).toEqual(['d'.repeat(1024), ['arn:aws:sns:eu-west-1:111111111111:pager'], []]);
    expect(acks(failureAlarm(stack, 'Reason', { description: 'x', metric, noActionReason: 'the baseline routes it' })))
      .toEqual([{ cloudwatch_alarm_action_check: 'the baseline routes it' }]);
    expect(acks(failureAlarm(stack, 'Later', { description: 'x', metric, actionAddedLater: true }))).toEqual([]);
  });
});

describe('RetentionRoles', () => {
  test('each role once per app, whoever registers it; rendered when the template is written, an empty list when none', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const empty = RetentionRoles.lazyArns(stack);
    expect(stack.resolve(empty)).toEqual([]);
    const a = iam.Role.fromRoleArn(stack, 'A', 'arn:aws:iam::111111111111:role/a');
    const b = iam.Role.fromRoleArn(stack, 'B', 'arn:aws:iam::111111111111:role/b');
    const arns = RetentionRoles.lazyArns(stack);
    RetentionRoles.register(new Construct(stack, 'Job1'), a, 'expires snapshots');
    RetentionRoles.register(new Construct(stack, 'Job2'), a, 'expires snapshots too');
    RetentionRoles.register(new Stack(app, 'T'), b, 'expires images');
    expect(RetentionRoles.roles(stack)).toEqual([a, b]);
    expect(stack.resolve(arns)).toEqual(['arn:aws:iam::111111111111:role/a', 'arn:aws:iam::111111111111:role/b']);
    expect(RetentionRoles.roles(new Stack(new App(), 'Other'))).toEqual([]);
  });
});

describe('BackupCoverage', () => {
  const { INSTANCE, VOLUME } = CoverageResourceType;
  test('declarations accumulate on the resource, resource types once each', () => {
    const policy = new dlm.CfnLifecyclePolicy(new Stack(new App(), 'S'), 'Policy', { description: 'p' });
    BackupCoverage.declare(policy, { resourceTypes: [VOLUME, VOLUME], tags: { Backup: 'daily' } });
    expect(policy.getMetadata(BackupCoverage.METADATA_KEY)).toEqual([{ resourceTypes: ['VOLUME'], tags: { Backup: 'daily' } }]);
    BackupCoverage.declare(policy, { resourceTypes: [INSTANCE, VOLUME], tags: { Tier: 'gold', Env: 'prod' } });
    expect(policy.getMetadata(BackupCoverage.METADATA_KEY)).toEqual([
      { resourceTypes: ['VOLUME'], tags: { Backup: 'daily' } },
      { resourceTypes: ['INSTANCE', 'VOLUME'], tags: { Tier: 'gold', Env: 'prod' } },
    ]);
    expect(BackupCoverage.METADATA_KEY).toBe('cdk-ebs-backup:coverage');
  });

  test('a single declaration written by hand (the documented "one declaration or a list") is kept when another is declared', () => {
    const policy = new dlm.CfnLifecyclePolicy(new Stack(new App(), 'S'), 'Policy', { description: 'p' });
    policy.addMetadata(BackupCoverage.METADATA_KEY, { resourceTypes: ['INSTANCE'], tags: { App: 'orders' } });
    BackupCoverage.declare(policy, { resourceTypes: [VOLUME], tags: { Backup: 'daily' } });
    expect(policy.getMetadata(BackupCoverage.METADATA_KEY)).toEqual([
      { resourceTypes: ['INSTANCE'], tags: { App: 'orders' } },
      { resourceTypes: ['VOLUME'], tags: { Backup: 'daily' } },
    ]);
  });

  test.each<[string, CoverageResourceType[], Record<string, string>, string]>([
    ['no resource type', [], { Backup: 'daily' }, 'S/Policy: resourceTypes must have between 1 and 2 items, got [] (0 items)'],
    ['three resource types', [INSTANCE, VOLUME, VOLUME], { Backup: 'daily' }, "S/Policy: resourceTypes must have between 1 and 2 items, got ['INSTANCE', 'VOLUME', 'VOLUME'] (3 items)"],
    ['no tag', [VOLUME], {}, 'S/Policy: tags must name at least one tag (coverage of every resource is what DLM default policies are for), got {}'],
    ['a reserved key', [VOLUME], { 'aws:x': 'y' }, "S/Policy: tags key must not start with 'aws:' (reserved by AWS), got 'aws:x'"],
  ])('%s is refused, naming the prop', (_name, resourceTypes, tags, message) => {
    const policy = new dlm.CfnLifecyclePolicy(new Stack(new App(), 'S'), 'Policy', { description: 'p' });
    expect(() => BackupCoverage.declare(policy, { resourceTypes, tags })).toThrow(message);
    expect(policy.getMetadata(BackupCoverage.METADATA_KEY)).toBeUndefined();
  });
});

describe('artefact retentions', () => {
  const register = (retention: Retention, schedule?: string, timeZone?: string) => {
    const app = new App();
    const c = new Construct(new Stack(app, 'S'), 'Job');
    registerScheduledRetention({ construct: c, property: 'retain', purpose: 'db', retention, schedule, timeZone });
    const [entry] = artefactRetentions(c);
    return { entry, days: retentionLifetimeDays(entry.retention, entry.creationInterval), all: artefactRetentions(c) };
  };

  test('a count on a schedule: the count times the shortest interval', () => {
    expect(register(Retention.count(14), 'rate(1 day)').days).toBe(14);
    expect(register(Retention.count(14), 'cron(0 4 ? * MON-FRI *)').days).toBe(14);
    expect(register(Retention.count(4), 'cron(0 4 ? * SUN *)').days).toBe(28);
    expect(register(Retention.count(2), 'rate(30 minutes)').days).toBeCloseTo(2 / 48, 10);
    // in a time zone with daylight saving a daily cron may fire 23 hours apart
    expect(register(Retention.count(24), 'cron(0 4 * * ? *)', 'Europe/Berlin').days).toBe(23);
    // a rate is not shifted by a time zone
    expect(register(Retention.count(24), 'rate(1 day)', 'Europe/Berlin').days).toBe(24);
    // never less than a minute apart
    expect(register(Retention.count(60), 'cron(0/1 * * * ? *)', 'Europe/Berlin').entry.creationInterval!.toMilliseconds()).toBe(60_000);
  });

  test('an age is the age, whatever the schedule; a count without a known interval is unknown, with the reason', () => {
    const age = register(Retention.age(Duration.hours(36)), 'rate(1 day)');
    expect([age.days, age.entry.unknownReason, age.entry.creationInterval]).toEqual([1.5, undefined, undefined]);
    expect(register(Retention.count(3)).entry.unknownReason).toBe('a count of runs started on demand (no schedule): no interval to turn the count into an age');
    expect(register(Retention.count(3), Lazy.string({ produce: () => 'rate(1 day)' })).entry.unknownReason).toBe('a count on a schedule given as a token');
    expect(register(Retention.count(3), 'at(2026-12-24T18:00:00)').entry.unknownReason).toBe('a count on schedule at(2026-12-24T18:00:00), which does not repeat at a known interval');
    expect(register(Retention.count(3), 'cron(0 4 1 1 ? 2030)').entry.unknownReason).toBe('a count on schedule cron(0 4 1 1 ? 2030), which does not repeat at a known interval');
    expect(register(Retention.count(3), 'every day').entry.unknownReason).toBe('a count on schedule every day, which does not repeat at a known interval');
    expect(register(Retention.count(3)).days).toBeUndefined();
    expect(retentionLifetimeDays(Retention.count(3), Duration.days(Token.asNumber({ Ref: 'P' })))).toBeUndefined();
    expect(retentionLifetimeDays(Retention.age(Duration.days(Token.asNumber({ Ref: 'P' }))))).toBeUndefined();
  });

  test('registered per app, in order', () => {
    const app = new App();
    const a = new Construct(new Stack(app, 'A'), 'Job');
    const b = new Construct(new Stack(app, 'B'), 'Job');
    registerScheduledRetention({ construct: a, property: 'retain', purpose: 'a', retention: Retention.count(1), schedule: 'rate(1 day)' });
    registerScheduledRetention({ construct: b, property: 'schedules[0].retain', purpose: 'b', retention: Retention.age(Duration.days(7)) });
    expect(artefactRetentions(a).map((r) => [r.construct.node.path, r.property, r.purpose])).toEqual([['A/Job', 'retain', 'a'], ['B/Job', 'schedules[0].retain', 'b']]);
    expect(artefactRetentions(new App())).toEqual([]);
  });
});

describe('quantity', () => {
  test('singular for exactly one, plural otherwise (0.5, 0, 2, 1.5)', () => {
    expect([quantity(1, 'day'), quantity(2, 'day'), quantity(0.5, 'day'), quantity(0, 'hour'), quantity(1.5, 'hour'), quantity(1, 'minute')])
      .toEqual(['1 day', '2 days', '0.5 days', '0 hours', '1.5 hours', '1 minute']);
  });
});
