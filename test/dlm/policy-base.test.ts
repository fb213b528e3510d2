/**
 * What every DLM policy construct shares (src/dlm/policy-base.ts), tested directly on a bare
 * stack with a minimal subclass: no policy props, no synthesis.
 * - metrics: "Monitor your policies using Amazon CloudWatch" (Amazon Data Lifecycle Manager user
 *   guide): namespace `AWS/EBS`, dimension `DLMPolicyId`, statistic `sum`, unit count, and the
 *   page's alarms all sum over a 1 hour period (`--period 3600`);
 * - imports: a policy id is `policy-` and alphanumerics, its ARN
 *   `arn:<partition>:dlm:<region>:<account>:policy/<id>` (Service Authorization Reference,
 *   "Resource types defined by Amazon Data Lifecycle Manager");
 * - the change alarm (a CloudTrail management event changing the policy) and the heartbeat (no
 *   snapshot or AMI within 1.5 times the schedule's interval), evaluated with the alarm model of
 *   test/support as CloudWatch evaluates them.
 */
import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { renderedProperties } from '../../src/core/rendered-properties';
import { DlmPolicyBase, DlmPolicyOptions } from '../../src/dlm/policy-base';
import { inAlarm } from '../support/alarm-evaluation';
import { cloudTrailEvent, matchesPattern, renderIntrinsicsForEvents } from '../support/event-pattern';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** The smallest policy construct: the base class with an L1 of its own. */
class Policy extends DlmPolicyBase {
  public readonly resource: dlm.CfnLifecyclePolicy;

  constructor(scope: Construct, id: string, options: DlmPolicyOptions = {}) {
    super(scope, id, options);
    this.resource = new dlm.CfnLifecyclePolicy(this, 'Resource', {
      description: 'test', state: 'ENABLED', executionRoleArn: this.executionRole.roleArn,
    });
  }

  public changes(actions?: cloudwatch.IAlarmAction[]) {
    return this.detectChanges(actions);
  }

  public heartbeat(what: 'snapshots' | 'images', schedules: Array<string | number>, actions?: cloudwatch.IAlarmAction[]) {
    return this.createHeartbeatAlarm(what, schedules, actions);
  }
}

let stack: Stack;
let policy: Policy;
beforeEach(() => {
  stack = new Stack(new App(), 'Dlm', { env: { account: ACCOUNT, region: REGION } });
  policy = new Policy(stack, 'Policy');
});

const ref = () => ({ Ref: stack.getLogicalId(policy.resource) });
const action = (arn: string): cloudwatch.IAlarmAction => ({ bind: () => ({ alarmActionArn: arn }) });
const acks = (a: cloudwatch.Alarm) => a.node.metadata.filter((m) => m.type === 'cdk-ebs-backup:acknowledged').map((m) => m.data);
const infos = (scope: Construct) => scope.node.metadata.filter((m) => m.type === 'aws:cdk:info').map((m) => m.data);
const alarmProps = (a: cloudwatch.Alarm) => renderedProperties(a.node.defaultChild as cloudwatch.CfnAlarm);

describe('metrics: as DLM publishes them ("Monitor your policies using Amazon CloudWatch")', () => {
  test('namespace AWS/EBS, the policy id as DLMPolicyId, summed over 1 hour', () => {
    const m = policy.metric('SnapshotsCreateFailed');
    expect(stack.resolve({ namespace: m.namespace, name: m.metricName, dimensions: m.dimensions, statistic: m.statistic }))
      .toEqual({ namespace: 'AWS/EBS', name: 'SnapshotsCreateFailed', dimensions: { DLMPolicyId: ref() }, statistic: 'Sum' });
    // the user guide's alarms all sum over a 1 hour period; 5 minutes (CloudWatch's default)
    // graphs and alarms mostly on empty periods
    expect(m.period.toSeconds()).toBe(3600);
  });

  test('the caller\'s period and statistic are kept, and an explicitly undefined period is the default', () => {
    const m = policy.metric('ResourcesTargeted', { period: Duration.days(1), statistic: 'Average', label: 'targeted' });
    expect([m.period.toSeconds(), m.statistic, m.label]).toEqual([86400, 'Average', 'targeted']);
    expect(policy.metric('ResourcesTargeted', { period: undefined }).period.toSeconds()).toBe(3600);
  });

  test.each<[string, (p: DlmPolicyBase) => cloudwatch.Metric]>([
    ['ResourcesTargeted', (p) => p.metricResourcesTargeted()],
    ['SnapshotsCreateStarted', (p) => p.metricSnapshotsCreateStarted()],
    ['SnapshotsCreateCompleted', (p) => p.metricSnapshotsCreateCompleted()],
    ['SnapshotsCreateFailed', (p) => p.metricSnapshotsCreateFailed()],
    ['SnapshotsDeleteCompleted', (p) => p.metricSnapshotsDeleteCompleted()],
    ['SnapshotsDeleteFailed', (p) => p.metricSnapshotsDeleteFailed()],
    ['SnapshotsCopiedRegionCompleted', (p) => p.metricSnapshotsCopiedRegionCompleted()],
    ['SnapshotsCopiedRegionFailed', (p) => p.metricSnapshotsCopiedRegionFailed()],
    ['ImagesCreateCompleted', (p) => p.metricImagesCreateCompleted()],
    ['ImagesCreateFailed', (p) => p.metricImagesCreateFailed()],
    ['SnapshotsCopiedAccountCompleted', (p) => p.metricSnapshotsCopiedAccountCompleted()],
    ['SnapshotsCopiedAccountFailed', (p) => p.metricSnapshotsCopiedAccountFailed()],
  ])('%s: the documented metric of this policy, with the caller\'s options', (name, metric) => {
    const m = metric(policy);
    expect([m.namespace, m.metricName, stack.resolve(m.dimensions), m.statistic, m.period.toSeconds()])
      .toEqual(['AWS/EBS', name, { DLMPolicyId: ref() }, 'Sum', 3600]);
  });

  test('each metric*() passes the caller\'s options on', () => {
    const day = { period: Duration.days(1) };
    const metrics = [
      policy.metricResourcesTargeted(day), policy.metricSnapshotsCreateStarted(day), policy.metricSnapshotsCreateCompleted(day),
      policy.metricSnapshotsCreateFailed(day), policy.metricSnapshotsDeleteCompleted(day), policy.metricSnapshotsDeleteFailed(day),
      policy.metricSnapshotsCopiedRegionCompleted(day), policy.metricSnapshotsCopiedRegionFailed(day), policy.metricImagesCreateCompleted(day),
      policy.metricImagesCreateFailed(day), policy.metricSnapshotsCopiedAccountCompleted(day), policy.metricSnapshotsCopiedAccountFailed(day),
    ];
    expect(metrics.map((m) => m.period.toSeconds())).toEqual(metrics.map(() => 86400));
  });

  test('an alarm on a failure metric as the user guide writes it fires for the failure, whenever in the hour it came', () => {
    // "Example 2: SnapshotDeleteFailed metric": sum greater than 0 over a 1 hour period
    const alarm = policy.metricSnapshotsDeleteFailed().createAlarm(stack, 'DeleteFailed', {
      threshold: 0, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    const hour = Date.UTC(2026, 10, 30, 12);
    const rendered = alarmProps(alarm) as any;
    // DLM publishes a run's failures once; an alarm evaluated later in the hour still sees them
    expect(inAlarm(rendered, [{ at: hour + 2 * 60_000, value: 1 }], hour + 3600_000 + 30_000)).toBe(true);
    expect(inAlarm(rendered, [{ at: hour + 2 * 60_000, value: 1 }], hour + 2 * 3600_000 + 30_000)).toBe(false);
  });

  test('the policy\'s id and ARN are the L1\'s Ref and Arn attribute', () => {
    expect(stack.resolve([policy.policyId, policy.policyArn])).toEqual([ref(), { 'Fn::GetAtt': [ref().Ref, 'Arn'] }]);
    expect(policy.executionRole).toBeDefined();
  });

  test('a given execution role is the one DLM assumes', () => {
    const role = iam.Role.fromRoleArn(stack, 'Role', `arn:aws:iam::${ACCOUNT}:role/dlm`, { mutable: false });
    expect(new Policy(stack, 'Own', { executionRole: role }).executionRole).toBe(role);
  });
});

describe('imports: a policy id or ARN as DLM writes it', () => {
  test('by id: the ARN in the stack\'s partition, region and account', () => {
    const imported = DlmPolicyBase.fromPolicyId(stack, 'ById', 'policy-0123456789abcdef0');
    expect(imported.policyId).toBe('policy-0123456789abcdef0');
    expect(stack.resolve(imported.policyArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:dlm:${REGION}:${ACCOUNT}:policy/policy-0123456789abcdef0`]],
    });
  });

  test.each(['0123456789abcdef0', 'xpolicy-0123', 'policy-', 'policy-0123!', 'policy-01_23', 'Policy-0123'])(
    'by id: %p is no policy id', (id) => {
      expect(() => DlmPolicyBase.fromPolicyId(stack, 'ById', id))
        .toThrow(`Dlm: ById policyId must be a DLM policy id such as policy-0123456789abcdef0, got '${id}'`);
    });

  test('by id: a token is taken (known at deploy time)', () => {
    const token = Lazy.string({ produce: () => 'nope' });
    expect(DlmPolicyBase.fromPolicyId(stack, 'ById', token).policyId).toBe(token);
  });

  test.each([
    ['arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0', 'policy-0123456789abcdef0'],
    ['arn:aws-us-gov:dlm:us-gov-west-1:123456789012:policy/policy-ABC9', 'policy-ABC9'],
    ['arn:aws-cn:dlm:cn-north-1:123456789012:policy/policy-1', 'policy-1'],
  ])('by ARN: %s is policy %s', (arn, id) => {
    const imported = DlmPolicyBase.fromPolicyArn(stack, 'ByArn', arn);
    expect([imported.policyId, imported.policyArn]).toEqual([id, arn]);
  });

  test.each([
    'arn:aws:ec2:us-east-1:123456789012:policy/policy-1',
    'arn:aws:dlm:us-east-1:12345678901:policy/policy-1',
    'arn:aws:dlm:us-east-1:1234567890123:policy/policy-1',
    'arn:aws:dlm:us-east-1:123456789012:policy/policy-1/x',
    'xarn:aws:dlm:us-east-1:123456789012:policy/policy-1',
    'arn:aws:dlm:us-east-1:123456789012:policy/1',
    'arn:aws:dlm:us-east-1:123456789012:policy:policy-1',
    'arn::dlm:us-east-1:123456789012:policy/policy-1',
    'arn:aws:dlm:US_EAST:123456789012:policy/policy-1',
    'arn:aws:dlm::123456789012:policy/policy-1',
    'arn:a.b:dlm:us-east-1:123456789012:policy/policy-1',
  ])('by ARN: %s is no DLM policy ARN', (arn) => {
    expect(() => DlmPolicyBase.fromPolicyArn(stack, 'ByArn', arn)).toThrow(
      `Dlm: ByArn policyArn must be a DLM policy ARN such as arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0, got '${arn}'`);
  });

  test('by ARN: a token ARN gives the id as its resource name, at deploy time', () => {
    const arn = Lazy.string({ produce: () => 'arn:aws:dlm:us-east-1:123456789012:policy/policy-1' });
    const imported = DlmPolicyBase.fromPolicyArn(stack, 'ByArn', arn);
    expect(imported.policyArn).toBe(arn);
    expect(stack.resolve(imported.policyId)).toEqual({ 'Fn::Select': [1, { 'Fn::Split': ['/', { 'Fn::Select': [5, { 'Fn::Split': [':', 'arn:aws:dlm:us-east-1:123456789012:policy/policy-1'] }] }] }] });
  });
});

describe('change detection: a change to the policy alarms, routed as the policy\'s other alarms', () => {
  const policyChange = (id: string) => cloudTrailEvent('dlm:UpdateLifecyclePolicy', { policyId: id, state: 'DISABLED' }, ACCOUNT, REGION);

  test('disabling this policy (CloudTrail UpdateLifecyclePolicy) matches its rule; another policy does not', () => {
    policy.changes();
    const rule = policy.node.findChild('ChangeDetection').node.children.find((c) => c.node.id === 'dlm')!;
    const props = renderedProperties(rule.node.defaultChild as any);
    const pattern = renderIntrinsicsForEvents(props.EventPattern, ACCOUNT, REGION);
    const id = renderIntrinsicsForEvents(ref(), ACCOUNT, REGION);
    expect(matchesPattern(pattern, policyChange(id))).toBe(true);
    expect(matchesPattern(pattern, policyChange('policy-0someoneelse0'))).toBe(false);
    expect(props.Description).toBe('DLM policy Dlm/Policy: a change to its dlm resources (CloudTrail management event) alarms');
  });

  test('the alarm names the policy, and without alarmActions its cfn-guard finding says why it has none', () => {
    const alarm = policy.changes()!;
    expect(alarmProps(alarm).AlarmDescription).toMatch(/^DLM policy Dlm\/Policy: a piece of its machinery or configuration was changed/);
    expect(alarmProps(alarm).AlarmActions).toBeUndefined();
    expect(acks(alarm)).toEqual([{ cloudwatch_alarm_action_check: 'no alarmActions were given: changeAlarm is exposed for the team to route' }]);
  });

  test('with alarmActions the alarm notifies them', () => {
    const alarm = policy.changes([action('arn:aws:sns:us-east-1:123456789012:ops')])!;
    expect(alarmProps(alarm).AlarmActions).toEqual(['arn:aws:sns:us-east-1:123456789012:ops']);
    expect(acks(alarm)).toEqual([]);
  });
});

describe('heartbeat: no snapshot or AMI within 1.5 times the shortest schedule interval alarms', () => {
  const HOUR = 3600_000;
  const NOW = Date.UTC(2026, 10, 30, 12);

  test('snapshots: the policy\'s SnapshotsCreateCompleted, in alarm only when the whole window is silent', () => {
    const alarm = policy.heartbeat('snapshots', ['rate(12 hours)']);
    const p = alarmProps(alarm);
    expect([p.Namespace, p.MetricName, p.Dimensions, p.Statistic]).toEqual([
      'AWS/EBS', 'SnapshotsCreateCompleted', [{ Name: 'DLMPolicyId', Value: ref() }], 'Sum',
    ]);
    expect(p.Period * p.EvaluationPeriods).toBe(18 * 3600);
    // evaluated at the end of a period (CloudWatch aligns periods to their length)
    const end = Math.ceil(NOW / (18 * HOUR)) * 18 * HOUR;
    expect(inAlarm(p as any, [{ at: end - 17 * HOUR, value: 3 }], end)).toBe(false);
    expect(inAlarm(p as any, [{ at: end - 19 * HOUR, value: 3 }], end)).toBe(true);
    expect(inAlarm(p as any, [], end)).toBe(true);
    expect(p.AlarmDescription).toBe(
      'DLM policy Dlm/Policy created no snapshots: disabled, failing, or its targets lost their tags (no success within 18 hours)');
    expect(acks(alarm)).toEqual([{ cloudwatch_alarm_action_check: 'no alarm action was given: the heartbeat alarm is exposed for the team to route' }]);
  });

  test('images: the policy\'s ImagesCreateCompleted, routed to the given actions', () => {
    const alarm = policy.heartbeat('images', ['rate(24 hours)'], [action('arn:aws:sns:us-east-1:123456789012:ops')]);
    const p = alarmProps(alarm);
    expect([p.MetricName, p.AlarmActions, p.Period * p.EvaluationPeriods]).toEqual(['ImagesCreateCompleted', ['arn:aws:sns:us-east-1:123456789012:ops'], 36 * 3600]);
    expect(p.AlarmDescription).toMatch(/^DLM policy Dlm\/Policy created no images: /);
  });

  test('several schedules: the shortest interval counts (any schedule\'s snapshots prove the policy runs)', () => {
    const p = alarmProps(policy.heartbeat('snapshots', ['rate(24 hours)', 'rate(2 hours)', 'cron(0 4 ? * MON *)']));
    expect(p.Period * p.EvaluationPeriods).toBe(3 * 3600);
    expect(infos(policy)).toEqual([]);
  });

  test('an interval given in milliseconds is taken as is', () => {
    expect(alarmProps(policy.heartbeat('snapshots', [4 * HOUR])).Period).toBe(6 * 3600);
  });

  test.each<[string, Array<string | number>]>([
    ['no schedule', []],
    ['a token schedule among known ones', ['rate(1 hour)', Lazy.string({ produce: () => 'rate(1 hour)' })]],
    ['only a token schedule', [Lazy.string({ produce: () => 'rate(1 hour)' })]],
  ])('%s: the 7 days CloudWatch allows, and an info naming `schedules`', (_name, schedules) => {
    const p = alarmProps(policy.heartbeat('snapshots', schedules));
    expect(p.Period * p.EvaluationPeriods).toBe(7 * 86400);
    expect(infos(policy)).toEqual([
      'schedules is a token or fires once, so the heartbeat cannot follow its interval: HeartbeatAlarm alarms after 7 days without a success, CloudWatch\'s longest window',
    ]);
  });

  test('a schedule beyond the 7-day window: the info names `schedules`', () => {
    policy.heartbeat('snapshots', ['cron(0 4 1 * ? *)']);
    expect(infos(policy)).toHaveLength(1);
    expect(infos(policy)[0]).toMatch(/^schedules runs up to 31 days apart; /);
  });
});
