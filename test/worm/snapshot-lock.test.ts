import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SnapshotLock, SnapshotLockMode } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { evaluate, render } from './iam-simulation';
import { datapointsOf, inAlarm } from '../support/alarm-evaluation';
import { created, Ec2World, event, NOW } from '../support/ec2-snapshot-locks';
import { runJsonataMachine } from '../support/jsonata-machine';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (d: unknown, o?: object) => { isValid: boolean; errorsText: (s?: string) => string };

const DAY = 86_400_000;

function definitionOf(template: Template): any {
  const machine = Object.values<any>(template.toJSON().Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  return JSON.parse(machine.Properties.DefinitionString);
}

describe('SnapshotLock', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  describe('compliance, 30 days with a 24-hour cool-off, one purpose', () => {
    let template: Template;
    let definition: any;
    let heartbeat: any;
    beforeAll(() => {
      const a = createCheckedApp();
      const s = createTestStack(a);
      const topic = new sns.Topic(s, 'Pager', { enforceSSL: true });
      const lock = new SnapshotLock(s, 'Lock', {
        mode: SnapshotLockMode.compliance(Duration.days(30), Duration.hours(24)),
        purposes: ['database-dr'],
        alarmAction: new cloudwatchActions.SnsAction(topic),
      });
      Validations.of(lock).acknowledge({ id: SnapshotLock.COMPLIANCE_WARNING, reason: 'regulatory retention: immutable is the point' });
      template = Template.fromJSON(checkedTemplate(s));
      definition = definitionOf(template);
      heartbeat = template.toJSON().Resources[s.getLogicalId(lock.heartbeatAlarm.node.defaultChild as any)].Properties;
    }, 600_000);

    // Issue 16: silence alarms. A run that left purpose-tagged snapshots locked records its
    // heartbeat (a local run of the synthesized definition); the alarm, evaluated with the
    // CloudWatch model of test/support/alarm-evaluation, is quiet after it and in alarm when the
    // lock fell silent (a disabled rule, a rewritten machine: no datapoint at all).
    test('the heartbeat: a run that locks records it and quiets the alarm; silence alarms (missing data breaching)', async () => {
      expect(heartbeat).toMatchObject({ TreatMissingData: 'breaching', ComparisonOperator: 'LessThanThreshold', Threshold: 1, Statistic: 'Sum' });
      expect(heartbeat.Period * heartbeat.EvaluationPeriods).toBe(7 * 86_400);
      expect(heartbeat.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Pager/) }]);
      const at = Date.parse(NOW);
      const world = new Ec2World({ 'snap-01': { tags: { 'backup:purpose': 'database-dr' } } });
      await runJsonataMachine(definition, created('snap-01'), world.stubs(), { startTime: NOW });
      const points = datapointsOf(heartbeat, world.api('PutMetricData').map((c) => c.args), at);
      expect(points).toEqual([{ at, value: 1 }]);
      expect(inAlarm(heartbeat, points, at + heartbeat.Period * 1000)).toBe(false);

      // a redelivered event finds the snapshot locked already: still a heartbeat
      await runJsonataMachine(definition, created('snap-01'), world.stubs(), { startTime: NOW });
      expect(datapointsOf(heartbeat, world.api('PutMetricData').map((c) => c.args), at)).toHaveLength(2);

      const untagged = new Ec2World({ 'snap-x': { tags: {} } });
      await runJsonataMachine(definition, created('snap-x'), untagged.stubs(), { startTime: NOW });
      expect(untagged.api('PutMetricData')).toEqual([]);
      expect(inAlarm(heartbeat, [], at + heartbeat.Period * 1000)).toBe(true);
    });

    test('a failed heartbeat publication does not fail the run (the locks stand; the heartbeat alarm tells)', async () => {
      const world = new Ec2World({ 'snap-01': { tags: { 'backup:purpose': 'database-dr' } } });
      const stubs = { ...world.stubs(), RecordHeartbeat: async () => { throw new Error('CloudWatch.InternalServiceFault'); } };
      await expect(runJsonataMachine(definition, created('snap-01'), stubs, { startTime: NOW })).resolves.toBeDefined();
      expect(world.api('LockSnapshot')).toHaveLength(1);
    });

    test('the role may record the heartbeat in its own namespace only', async () => {
      const policy = render(Object.values<any>(template.findResources('AWS::IAM::Policy'))[0].Properties.PolicyDocument);
      const put = (namespace: string) => evaluate({
        principal: 'arn:aws:iam::123456789012:role/LockRole',
        action: 'cloudwatch:PutMetricData',
        resource: '*',
        context: { 'cloudwatch:namespace': namespace },
      }, { identity: [policy] });
      expect([await put(SnapshotLock.METRIC_NAMESPACE), await put('AWS/EBS')]).toEqual(['Allowed', 'ImplicitlyDenied']);
      expect(heartbeat.Namespace).toBe(SnapshotLock.METRIC_NAMESPACE);
    });

    test('is valid ASL of AWS SDK integrations only: no function, no asset', () => {
      const result = aslValidator(definition, { checkPaths: true, checkArn: true });
      expect(result.errorsText('\n')).toBe('');
      template.resourceCountIs('AWS::Lambda::Function', 0);
      const resources = JSON.stringify(Object.values<any>(definition.States).map((st) => st.Resource ?? st.ItemProcessor?.States));
      expect(resources).not.toMatch(/lambda/);
    });

    test('runs on created and copied snapshots; events that cannot start an execution go to a dead-letter queue', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { 'source': ['aws.ec2'], 'detail-type': ['EBS Snapshot Notification'], 'detail': { event: ['createSnapshot', 'createSnapshots', 'copySnapshot'], result: ['succeeded'] } },
        Targets: [Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LockDeadLetterQueue'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
        })],
      });
    });

    test('one alarm on failed, timed-out and aborted executions and on dropped events, routed to the action', () => {
      const alarm = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'))[0].Properties;
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Pager/) }]);
      const ids = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, m.MetricStat.Metric.MetricName]);
      expect(ids).toEqual(expect.arrayContaining([['failed', 'ExecutionsFailed'], ['timedOut', 'ExecutionsTimedOut'],
        ['aborted', 'ExecutionsAborted'], ['dropped', 'ApproximateNumberOfMessagesVisible']]));
      expect(alarm.Threshold).toBe(1);
    });

    test('the role is trusted by Step Functions for the lock job\'s machine only, and locks only the purpose', () => {
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({
            Principal: { Service: 'states.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': stack.account },
              // the lock job's own machine only, as CloudFormation names it (test/core/service-trust.test.ts evaluates it)
              ArnLike: { 'aws:SourceArn': Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':stateMachine:[A-Za-z0-9]+-\\*$')])] }) },
            },
          })],
        },
        ManagedPolicyArns: Match.absent(),
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Action: 'ec2:LockSnapshot',
            Condition: { StringEquals: { 'aws:ResourceTag/backup:purpose': ['database-dr'] } },
          })]),
        },
      });
    });

    test('locks a new tagged snapshot in compliance mode with the cool-off', async () => {
      const world = new Ec2World({ 'snap-01': { tags: { 'backup:purpose': 'database-dr' } } });
      const out = await runJsonataMachine(definition, created('snap-01'), world.stubs(), { startTime: NOW });
      expect(world.api('DescribeSnapshots')[0].args).toEqual({ SnapshotIds: ['snap-01'], Filters: [{ Name: 'tag:backup:purpose', Values: ['database-dr'] }] });
      expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([{ SnapshotId: 'snap-01', LockMode: 'compliance', LockDuration: 30, CoolOffPeriod: 24 }]);
      expect(out).toEqual([{ snapshotId: 'snap-01', outcome: 'locked', lockState: 'compliance-cooloff' }]);
    });

    // EBS User Guide, "Control access to Amazon EBS snapshot lock": ec2:SnapshotLockDuration is the
    // requested lock duration in days. A governance lock (or a compliance lock in its cool-off) can
    // be shortened by LockSnapshot, so the role may only ask for at least the configured 30 days.
    test('the role can only lengthen: the job\'s own LockSnapshot is allowed, a shorter or duration-less one denied', async () => {
      const policy = render(Object.values<any>(template.findResources('AWS::IAM::Policy'))[0].Properties.PolicyDocument);
      const lockAs = (context: Record<string, string>) => evaluate({
        principal: 'arn:aws:iam::123456789012:role/LockRole',
        action: 'ec2:LockSnapshot',
        resource: 'arn:aws:ec2:us-east-1::snapshot/snap-01',
        tags: { 'backup:purpose': 'database-dr' },
        context,
      }, { identity: [policy] });
      const world = new Ec2World({ 'snap-01': { tags: { 'backup:purpose': 'database-dr' } } });
      await runJsonataMachine(definition, created('snap-01'), world.stubs(), { startTime: NOW });
      const requested = world.api('LockSnapshot').map((c) => `${c.args.LockDuration}`);
      expect(requested).toEqual(['30']);
      const outcomes = await Promise.all([...requested, '31', '36500', '29', '1', '0']
        .map(async (days) => [days, await lockAs({ 'ec2:SnapshotLockDuration': days })]));
      expect(outcomes).toEqual([['30', 'Allowed'], ['31', 'Allowed'], ['36500', 'Allowed'],
        ['29', 'ExplicitlyDenied'], ['1', 'ExplicitlyDenied'], ['0', 'ExplicitlyDenied']]);
      // ExpirationDate instead of LockDuration: no duration in the request, denied
      expect(await lockAs({})).toBe('ExplicitlyDenied');
    });

    test('a redelivered event leaves the snapshot alone (already locked long enough): no second LockSnapshot', async () => {
      const world = new Ec2World({ 'snap-01': { tags: { 'backup:purpose': 'database-dr' } } });
      await runJsonataMachine(definition, created('snap-01'), world.stubs(), { startTime: NOW });
      // EC2 would reject a second cool-off on the same compliance lock once the cool-off is over
      world.snapshots['snap-01'].lock!.LockState = 'compliance';
      const out = await runJsonataMachine(definition, created('snap-01'), world.stubs(), { startTime: NOW });
      expect(world.api('LockSnapshot')).toHaveLength(1);
      expect(out).toEqual([{ snapshotId: 'snap-01', outcome: 'already-locked' }]);
    });

    test('extends a compliance lock that runs out too soon, without a cool-off (EC2 allows only that)', async () => {
      const world = new Ec2World({
        'snap-02': { tags: { 'backup:purpose': 'database-dr' }, lock: { LockState: 'compliance', LockExpiresOn: new Date(Date.parse(NOW) + 3 * DAY).toISOString() } },
      });
      await runJsonataMachine(definition, created('snap-02'), world.stubs(), { startTime: NOW });
      expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([{ SnapshotId: 'snap-02', LockMode: 'compliance', LockDuration: 30 }]);
    });

    test('locks only the tagged snapshots of a multi-volume createSnapshots event; never describes without ids', async () => {
      const world = new Ec2World({ 'snap-a': { tags: {} }, 'snap-b': { tags: { 'backup:purpose': 'database-dr' } }, 'snap-c': { tags: { 'backup:purpose': 'other' } } });
      await runJsonataMachine(definition, event({
        event: 'createSnapshots',
        result: 'succeeded',
        snapshots: ['snap-a', 'snap-b', 'snap-c'].map((id) => ({ snapshot_id: `arn:aws:ec2::us-east-1:snapshot/${id}` })),
      }), world.stubs(), { startTime: NOW });
      expect(world.api('DescribeLockedSnapshots').map((c) => c.args)).toEqual([{ SnapshotIds: ['snap-b'] }]);
      expect(world.api('LockSnapshot').map((c) => c.args.SnapshotId)).toEqual(['snap-b']);

      const untagged = new Ec2World({ 'snap-x': { tags: {} } });
      await runJsonataMachine(definition, created('snap-x'), untagged.stubs(), { startTime: NOW });
      expect(untagged.calls.map((c) => c.api)).toEqual(['DescribeSnapshots']);

      const empty = new Ec2World({});
      await runJsonataMachine(definition, event({ event: 'createSnapshots', result: 'succeeded' }), empty.stubs(), { startTime: NOW });
      expect(empty.calls).toEqual([]);
    });

    test('retries a throttled LockSnapshot', async () => {
      const world = new Ec2World({ 'snap-01': { tags: { 'backup:purpose': 'database-dr' } } });
      world.throttleLocks = 2;
      const out = await runJsonataMachine(definition, created('snap-01'), world.stubs(), { startTime: NOW });
      expect(world.api('LockSnapshot')).toHaveLength(3);
      expect(out[0].outcome).toBe('locked');
    });
  });

  test('governance without purposes: any purpose-tagged snapshot, a compliance lock stays compliance, no warning', async () => {
    new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)) });
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ec2:LockSnapshot', Condition: { Null: { 'aws:ResourceTag/backup:purpose': 'false' } } })]) },
    });
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Lock', Match.anyValue());
    const definition = definitionOf(template);
    const world = new Ec2World({
      'snap-g': { tags: { 'backup:purpose': 'anything' } },
      'snap-c': { tags: { 'backup:purpose': 'x' }, lock: { LockState: 'compliance', LockExpiresOn: new Date(Date.parse(NOW) + DAY).toISOString() } },
    });
    await runJsonataMachine(definition, event({
      event: 'createSnapshots', result: 'succeeded', snapshots: [{ snapshot_id: 'snap-g' }, { snapshot_id: 'snap-c' }],
    }), world.stubs(), { startTime: NOW });
    expect(world.api('DescribeSnapshots')[0].args.Filters).toEqual([{ Name: 'tag-key', Values: ['backup:purpose'] }]);
    expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([
      { SnapshotId: 'snap-g', LockMode: 'governance', LockDuration: 7 },
      { SnapshotId: 'snap-c', LockMode: 'compliance', LockDuration: 7 },
    ]);
  });

  test('the heartbeat follows heartbeatInterval: 1.5 times it', () => {
    const lock = new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)), heartbeatInterval: Duration.days(1) });
    const resources = Template.fromJSON(checkedTemplate(stack)).toJSON().Resources;
    const alarm = resources[stack.getLogicalId(lock.heartbeatAlarm.node.defaultChild as any)].Properties;
    expect(alarm.Period * alarm.EvaluationPeriods).toBe(1.5 * 86_400);
  });

  test('warns that a compliance lock cannot be removed, until acknowledged', () => {
    new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.compliance(Duration.days(30)) });
    expect(() => checkedTemplate(stack)).toThrow(/snapshots are locked in compliance mode for 30 days: once the cool-off ends nobody, not even root, can delete them before/);
  });

  // a mode's arguments are reported by the lock that uses the mode, with its path and prop
  test.each<[string, () => SnapshotLockMode, string]>([
    ['a zero duration', () => SnapshotLockMode.governance(Duration.days(0)),
      'TestStack/Lock: mode SnapshotLockMode.governance(...): duration must be a whole number of days between 1 and 36500, got 0 days; pass Duration.days(n)'],
    ['a duration over 100 years', () => SnapshotLockMode.compliance(Duration.days(36501)), 'mode SnapshotLockMode.compliance(...): duration must be a whole number of days between 1 and 36500'],
    ['a duration in hours', () => SnapshotLockMode.governance(Duration.hours(12)), 'duration must be a whole number of days between 1 and 36500, got 12 hours'],
    ['a cool-off over 72 hours', () => SnapshotLockMode.compliance(Duration.days(30), Duration.hours(73)),
      'TestStack/Lock: mode SnapshotLockMode.compliance(...): coolOffPeriod must be a whole number of hours between 1 and 72, got 3 days 1 hour; pass Duration.hours(n)'],
    ['a cool-off in minutes', () => SnapshotLockMode.compliance(Duration.days(30), Duration.minutes(30)), 'coolOffPeriod must be a whole number of hours between 1 and 72, got 30 minutes'],
  ])('rejects %s', (_name, mode, fragment) => {
    expect(() => new SnapshotLock(stack, 'Lock', { mode: mode() })).toThrow(fragment);
  });

  test('rejects a bad purpose with the construct path', () => {
    expect(() => new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(1)), purposes: [''] }))
      .toThrow("TestStack/Lock: purposes[0] must be between 1 and 256 characters long, got ''");
  });
});
