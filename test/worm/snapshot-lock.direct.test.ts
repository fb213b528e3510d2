/**
 * SnapshotLock (src/worm/snapshot-lock.ts) built on a bare stack and read without synthesis (a
 * synthesis runs the CloudFormation Validate engine: tens of seconds a mutant): its template is
 * resolved directly, its state machine run with the local JSONata runner against EC2's lock
 * semantics (test/support/ec2-snapshot-locks.ts), every call of the run replayed against the role
 * with the IAM policy evaluator, its rule matched with the EventBridge pattern matcher and its
 * alarms evaluated with the CloudWatch model of test/support. This file is what the mutation
 * module `worm-snapshot-lock` runs; test/worm/snapshot-lock.test.ts synthesizes through the gates.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { IConstruct } from 'constructs';
import { GUARD_ACKNOWLEDGED_METADATA_KEY, wildcardFindings } from '../../src/core/acknowledge';
import { isMachinery } from '../../src/core/machinery';
import { planOf } from '../../src/core/plan-report';
import { BackupTagging } from '../../src/core/tagging';
import { SnapshotLock, SnapshotLockMode, SnapshotLockProps } from '../../src/worm/snapshot-lock';
import { datapointsOf, inAlarm } from '../support/alarm-evaluation';
import { replayRun } from '../support/call-replay';
import { created, Ec2World, event, NOW } from '../support/ec2-snapshot-locks';
import { matchesPattern } from '../support/event-pattern';
import { evaluate } from '../support/iam-evaluation';
import { renderIntrinsics, stateMachineDefinitions, TEST_ACCOUNT, TEST_REGION, unsynthesizedTemplate } from '../support/intrinsics';
import { runJsonataMachine } from '../support/jsonata-machine';

const ENV = { account: TEST_ACCOUNT, region: TEST_REGION };
const DAY = 86_400_000;

interface Built {
  readonly stack: Stack;
  readonly lock: SnapshotLock;
  readonly template: any;
  readonly definition: any;
  /** The resources of the template of one type, by logical id. */
  readonly ofType: (type: string) => Record<string, any>;
  /** The properties of the L1 behind a construct of the lock. */
  readonly props: (construct: { node: { defaultChild?: unknown } } | undefined) => any;
}

function build(props: SnapshotLockProps, configure?: (app: App) => void): Built {
  const app = new App();
  configure?.(app);
  const stack = new Stack(app, 'Vault', { env: ENV });
  const lock = new SnapshotLock(stack, 'Lock', props);
  const template = unsynthesizedTemplate(stack);
  const machineId = stack.resolve((lock.stateMachine.node.defaultChild as sfn.CfnStateMachine).logicalId);
  return {
    stack,
    lock,
    template,
    definition: stateMachineDefinitions(template)[machineId],
    ofType: (type) => Object.fromEntries(Object.entries<any>(template.Resources).filter(([, r]) => r.Type === type)),
    props: (c) => template.Resources[stack.resolve((c!.node.defaultChild as any).logicalId)].Properties,
  };
}

const tagged = (purpose: string, key = 'backup:purpose') => ({ tags: { [key]: purpose } });

describe('compliance, 30 days, a 24-hour cool-off, one purpose', () => {
  let b: Built;
  // built for each test, not once in beforeAll: Stryker credits code run in a beforeAll hook to no
  // test, so with ignoreStatic it never runs these tests against a mutant of the construct
  beforeEach(() => {
    b = build({ mode: SnapshotLockMode.compliance(Duration.days(30), Duration.hours(24)), purposes: ['database-dr'] });
  });

  // "State machine structure in Amazon States Language" (Step Functions Developer Guide):
  // TimeoutSeconds is the longest an execution runs; past it, it fails with States.Timeout.
  // aws-cdk-lib drops StateMachineProps.timeout for a string definition, so it must be in it.
  test('a run is bounded: the definition carries its 15-minute timeout and a hanging run times out', async () => {
    expect(b.definition.TimeoutSeconds).toBe(900);
    const world = new Ec2World({ 'snap-01': tagged('database-dr') });
    let clock = 0;
    const stubs = {
      ...world.stubs(),
      Lock: async (args: any) => {
        clock += 16 * 60_000; // EC2 answers after 16 minutes
        return world.stubs().Lock(args);
      },
    };
    await expect(runJsonataMachine(b.definition, created('snap-01'), stubs, { startTime: NOW, clock: () => clock }))
      .rejects.toThrow('States.Timeout');
    // a run within the bound completes
    const quick = new Ec2World({ 'snap-01': tagged('database-dr') });
    let slow = 0;
    const within = {
      ...quick.stubs(),
      Lock: async (args: any) => {
        slow += 14 * 60_000;
        return quick.stubs().Lock(args);
      },
    };
    await expect(runJsonataMachine(b.definition, created('snap-01'), within, { startTime: NOW, clock: () => slow })).resolves.toEqual([
      { snapshotId: 'snap-01', outcome: 'locked', lockState: 'compliance-cooloff' },
    ]);
  });

  test('locks a purpose-tagged snapshot in compliance mode for 30 days with the cool-off; other purposes are left alone', async () => {
    const world = new Ec2World({ 'snap-01': tagged('database-dr'), 'snap-02': tagged('scratch') });
    const out = await runJsonataMachine(b.definition, event({
      event: 'createSnapshots', result: 'succeeded', snapshots: [{ snapshot_id: 'snap-01' }, { snapshot_id: 'snap-02' }],
    }), world.stubs(), { startTime: NOW });
    expect(world.api('DescribeSnapshots')[0].args.Filters).toEqual([{ Name: 'tag:backup:purpose', Values: ['database-dr'] }]);
    expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([{ SnapshotId: 'snap-01', LockMode: 'compliance', LockDuration: 30, CoolOffPeriod: 24 }]);
    expect(out).toEqual([{ snapshotId: 'snap-01', outcome: 'locked', lockState: 'compliance-cooloff' }]);
  });

  test('every call of a run is allowed to the role the machine runs as; a shorter, duration-less or foreign lock is not', async () => {
    const world = new Ec2World({
      'snap-01': tagged('database-dr'),
      'snap-02': { tags: { 'backup:purpose': 'database-dr' }, lock: { LockState: 'governance', LockExpiresOn: new Date(Date.parse(NOW) + DAY).toISOString() } },
    });
    const runCalls: Array<{ state: string; input: any }> = [];
    const record = (state: string, stub: (a: any, n: number) => Promise<any>) => async (args: any, n: number) => {
      runCalls.push({ state, input: args });
      return stub(args, n);
    };
    const stubs = world.stubs();
    await runJsonataMachine(b.definition, event({
      event: 'createSnapshots', result: 'succeeded', snapshots: [{ snapshot_id: 'snap-01' }, { snapshot_id: 'snap-02' }],
    }), Object.fromEntries(Object.entries(stubs).map(([k, f]) => [k, record(k, f)])), { startTime: NOW });
    const machineId = Object.keys(b.ofType('AWS::StepFunctions::StateMachine'))[0];
    const tagsOf = (id: string) => world.snapshots[id]?.tags;
    const replay = await replayRun(b.template, machineId, b.definition, runCalls, { tagsOf });
    expect(replay.denied).toEqual([]);
    expect(replay.notReached).toEqual([]);
    expect(replay.results.map((r) => r.action).sort()).toEqual([
      'cloudwatch:PutMetricData', 'ec2:DescribeLockedSnapshots', 'ec2:DescribeSnapshots', 'ec2:LockSnapshot', 'ec2:LockSnapshot',
    ]);

    // EBS User Guide, "Control access to Amazon EBS snapshot lock": ec2:SnapshotLockDuration is the requested days
    const lockCall = runCalls.find((c) => c.state === 'Lock')!;
    const asRole = (input: any, tags = tagsOf(input.SnapshotId)) => replayRun(b.template, machineId, b.definition, [{ state: 'Lock', input }], { tagsOf: () => tags });
    const denied = async (input: any, tags?: Record<string, string>) => (await asRole(input, tags)).results.map((r) => r.result);
    expect(await denied({ ...lockCall.input, LockDuration: 29 })).toEqual(['ExplicitlyDenied']);
    expect(await denied({ ...lockCall.input, LockDuration: 31 })).toEqual(['Allowed']);
    expect(await denied({ SnapshotId: 'snap-01', LockMode: 'governance', ExpirationDate: '2030-01-01' })).toEqual(['ExplicitlyDenied']);
    expect(await denied(lockCall.input, { 'backup:purpose': 'scratch' })).toEqual(['ImplicitlyDenied']);
    expect(await denied(lockCall.input, {})).toEqual(['ImplicitlyDenied']);
  });

  test('the heartbeat: a run that locks records one datapoint under the lock\'s own dimension, which quiets the alarm', async () => {
    const world = new Ec2World({ 'snap-01': tagged('database-dr') });
    await runJsonataMachine(b.definition, created('snap-01'), world.stubs(), { startTime: NOW });
    const heartbeat = b.props(b.lock.heartbeatAlarm);
    const at = Date.parse(NOW);
    const points = datapointsOf(heartbeat, world.api('PutMetricData').map((c) => c.args), at);
    expect(points).toEqual([{ at, value: 1 }]);
    expect(heartbeat).toMatchObject({ Namespace: 'CdkEbsBackup/SnapshotLock', MetricName: 'SnapshotsLocked', Dimensions: [{ Name: 'LockJob', Value: 'Vault/Lock' }] });
    expect(inAlarm(heartbeat, points, at + heartbeat.Period * 1000)).toBe(false);
    // silence alarms: the default heartbeat is 7 days of no locked snapshot (CloudWatch's longest window)
    expect(heartbeat.Period * heartbeat.EvaluationPeriods).toBe(7 * 86_400);
    expect(inAlarm(heartbeat, [], at + 7 * DAY)).toBe(true);
    // the public metric is the one the heartbeat reads
    const metric = b.lock.metricSnapshotsLocked({ period: Duration.hours(2) }).toMetricConfig().metricStat!;
    expect([metric.namespace, metric.metricName, b.stack.resolve(metric.dimensions), metric.statistic, metric.period.toHours()])
      .toEqual(['CdkEbsBackup/SnapshotLock', 'SnapshotsLocked', [{ name: 'LockJob', value: 'Vault/Lock' }], 'Sum', 2]);
  });

  test('the role may publish the heartbeat only to its own namespace', async () => {
    const role = Object.keys(b.ofType('AWS::IAM::Role'))[0];
    const [policy] = Object.values<any>(b.ofType('AWS::IAM::Policy')).filter((p) => p.Properties.Roles[0].Ref === role);
    const put = (namespace: string) => evaluate({
      principal: `arn:aws:iam::${TEST_ACCOUNT}:role/${role}`, action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': namespace },
    }, { identity: [renderIntrinsics(policy.Properties.PolicyDocument)] });
    expect([await put(SnapshotLock.METRIC_NAMESPACE), await put('AWS/EBS')]).toEqual(['Allowed', 'ImplicitlyDenied']);
  });

  test('starts on every created, multi-volume and copied snapshot that succeeded, and nothing else', () => {
    const rule = b.props(b.lock.rule);
    const pattern = renderIntrinsics(rule.EventPattern);
    const ebs = (detail: object, source = 'aws.ec2') => ({ 'source': source, 'detail-type': 'EBS Snapshot Notification', 'account': TEST_ACCOUNT, 'region': TEST_REGION, detail });
    const matches = (e: object) => matchesPattern(pattern, e);
    expect(['createSnapshot', 'createSnapshots', 'copySnapshot'].map((name) => matches(ebs({ event: name, result: 'succeeded' })))).toEqual([true, true, true]);
    expect([
      matches(ebs({ event: 'createSnapshot', result: 'failed' })),
      matches(ebs({ event: 'shareSnapshot', result: 'succeeded' })),
      matches(ebs({ event: 'createSnapshot', result: 'succeeded' }, 'aws.backup')),
      matches({ ...ebs({ event: 'createSnapshot', result: 'succeeded' }), 'detail-type': 'EBS Volume Notification' }),
    ]).toEqual([false, false, false, false]);
    expect(rule.Description).toBe('New EBS snapshots (created or copied) to lock');
    expect(rule.Name).toMatch(/OnSnapshotCompleted/);
    // an event that cannot start an execution is retried 8 times for up to 6 hours, then kept
    expect(rule.Targets).toEqual([expect.objectContaining({
      Arn: { Ref: Object.keys(b.ofType('AWS::StepFunctions::StateMachine'))[0] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Object.keys(b.ofType('AWS::SQS::Queue'))[0], 'Arn'] } },
      RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
    })]);
  });

  test('the dead-letter queue keeps dropped events 14 days, encrypted, over TLS only', async () => {
    const [queueId, queue] = Object.entries<any>(b.ofType('AWS::SQS::Queue'))[0];
    expect(queue.Properties).toEqual({ MessageRetentionPeriod: 14 * 86_400, SqsManagedSseEnabled: true });
    const [policy] = Object.values<any>(b.ofType('AWS::SQS::QueuePolicy'));
    expect(policy.Properties.Queues).toEqual([{ Ref: queueId }]);
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
      Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
    expect(b.lock.deadLetterQueue).toBe(b.lock.node.findChild('DeadLetterQueue'));
  });

  test('one failure alarm: any failed, timed-out or aborted execution or dropped event, each 5 minutes', () => {
    const alarm = b.props(b.lock.alarm);
    const [expression] = alarm.Metrics.filter((m: any) => m.Expression);
    expect(expression.Expression).toBe('FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0) + FILL(dropped, 0)');
    const stats = Object.fromEntries(alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id,
      [m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName, m.MetricStat.Stat, m.MetricStat.Period]]));
    expect(stats).toEqual({
      failed: ['AWS/States', 'ExecutionsFailed', 'Sum', 300],
      timedOut: ['AWS/States', 'ExecutionsTimedOut', 'Sum', 300],
      aborted: ['AWS/States', 'ExecutionsAborted', 'Sum', 300],
      dropped: ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 300],
    });
    expect(alarm.Threshold).toBe(1);
    expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    expect(alarm.AlarmDescription).toMatch(/^Snapshots may be unlocked: a snapshot lock execution failed, timed out or was aborted/);
    expect(alarm.Metrics.find((m: any) => m.Expression).Label).toBe('failed lock runs');
    expect(b.props(b.lock.heartbeatAlarm).AlarmDescription).toMatch(
      /^No snapshot was locked: the snapshot lock rule, machine or role may be disabled or changed, or no purpose-tagged snapshot was created/);
  });

  test('the machine logs every state transition but no execution data, and is traced', () => {
    const machine = b.props(b.lock.stateMachine);
    expect(machine.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(machine.TracingConfiguration).toEqual({ Enabled: true });
    const [logGroup] = Object.values<any>(b.ofType('AWS::Logs::LogGroup'));
    expect(logGroup.Properties.RetentionInDays).toBe(365);
    expect(logGroup.Properties.KmsKeyId).toBeUndefined();
    const acknowledged = JSON.stringify(b.lock.node.findChild('Logs').node.metadata);
    expect(acknowledged).toContain('cloudwatch_log_group_encrypted_check');
    expect(b.lock.stateMachine).toBe(b.lock.node.findChild('Resource'));
    expect(b.lock.role).toBe(b.lock.node.findChild('Role'));
  });

  test('the lock job is machinery; the plan names what it locks, for how long, and that it cannot be undone', () => {
    expect(isMachinery(b.lock)).toBe(true);
    const [plan] = planOf(b.stack);
    expect(plan.protections).toEqual([{
      construct: 'Vault/Lock',
      kind: 'SnapshotLock',
      mechanism: 'EBS Snapshot Lock (compliance)',
      selects: 'new snapshots with purpose database-dr',
      schedule: 'on creation',
      retention: 'age:30d',
      locks: ['compliance 30 days'],
    }]);
    expect(plan.irreversible).toEqual([expect.objectContaining({ construct: 'Vault/Lock', what: 'compliance-mode EBS Snapshot Lock of 30 days' })]);
    // the cool-off is named
    expect(plan.irreversible[0].consequence).toMatch(/^once a snapshot's cool-off \(1 day\) ends, nobody, not even the root user, can delete it, unlock it or shorten the lock before it expires; it is billed until then$/);
  });

  // cdk-nag matches an acknowledgement on the resource and its ancestors: every wildcard finding
  // of the role's policy (and the dead-letter queue's, the log group's cfn-guard rule) must be
  // acknowledged with a reason, or the user's synthesis fails
  test('acknowledges every wildcard finding of the role, and the queue\'s and log group\'s findings, with reasons', () => {
    const policy = b.lock.role.node.findChild('DefaultPolicy') as iam.Policy;
    const findings = wildcardFindings(policy, policy.document);
    expect(findings.sort()).toEqual(['AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]']);
    const acknowledged = (c: IConstruct, key: string) => Object.assign({}, ...c.node.scopes.flatMap((x) => x.node.metadata)
      .filter((m) => m.type === key).map((m) => m.data as Record<string, string>));
    const nag = acknowledged(policy, Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(Object.fromEntries(findings.map((f) => [f, nag[`Annotation::${f}`]]))).toEqual({
      'AwsSolutions-IAM5[Resource::*]': 'ec2:DescribeSnapshots and ec2:DescribeLockedSnapshots support no resource-level permissions; '
        + 'X-Ray and CloudWatch Logs delivery take no resource ARN',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]':
        'ec2:LockSnapshot is limited to snapshots carrying the purpose tag; their ids are not known before they are created',
    });
    const queue = b.lock.deadLetterQueue.node.defaultChild as IConstruct;
    expect(acknowledged(queue, Validations.ACKNOWLEDGED_RULES_METADATA_KEY)['Annotation::AwsSolutions-SQS3']).toBe('this queue is the dead-letter queue of the snapshot lock rule');
    expect(acknowledged(queue, GUARD_ACKNOWLEDGED_METADATA_KEY).sqs_dlq_check).toBe('this queue is the dead-letter queue of the snapshot lock rule');
    expect(acknowledged(b.lock.node.findChild('Logs'), GUARD_ACKNOWLEDGED_METADATA_KEY).cloudwatch_log_group_encrypted_check).toMatch(/^execution data is excluded/);
  });

  test('warns that compliance locks cannot be removed', () => {
    const warnings = b.lock.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringContaining('snapshots are locked in compliance mode for 30 days: once the cool-off ends nobody, not even root, can delete them before')]);
    expect(SnapshotLock.COMPLIANCE_WARNING).toBe('Annotation::cdk-ebs-backup:worm:compliance-snapshot-lock');
  });
});

describe('governance, 7 days, any purpose, a tag prefix of its own', () => {
  let b: Built;
  // built for each test, not once in beforeAll: Stryker credits code run in a beforeAll hook to no
  // test, so with ignoreStatic it never runs these tests against a mutant of the construct
  beforeEach(() => {
    b = build({ mode: SnapshotLockMode.governance(Duration.days(7)) }, (app) => BackupTagging.configure(app, { prefix: 'acme:' }));
  });

  test('locks any snapshot with the configured purpose tag key, in governance mode, and leaves a compliance lock compliance', async () => {
    const world = new Ec2World({
      'snap-a': tagged('anything', 'acme:purpose'),
      'snap-b': tagged('x', 'backup:purpose'),
      'snap-c': { tags: { 'acme:purpose': 'y' }, lock: { LockState: 'compliance', LockExpiresOn: new Date(Date.parse(NOW) + DAY).toISOString() } },
    });
    await runJsonataMachine(b.definition, event({
      event: 'createSnapshots', result: 'succeeded', snapshots: ['snap-a', 'snap-b', 'snap-c'].map((id) => ({ snapshot_id: id })),
    }), world.stubs(), { startTime: NOW });
    expect(world.api('DescribeSnapshots')[0].args.Filters).toEqual([{ Name: 'tag-key', Values: ['acme:purpose'] }]);
    expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([
      { SnapshotId: 'snap-a', LockMode: 'governance', LockDuration: 7 },
      { SnapshotId: 'snap-c', LockMode: 'compliance', LockDuration: 7 },
    ]);
  });

  test('the role locks any snapshot carrying the purpose tag key, for at least 7 days', async () => {
    const machineId = Object.keys(b.ofType('AWS::StepFunctions::StateMachine'))[0];
    const results = async (tags: Record<string, string>, days: number) => (await replayRun(b.template, machineId, b.definition,
      [{ state: 'Lock', input: { SnapshotId: 'snap-a', LockMode: 'governance', LockDuration: days } }], { tagsOf: () => tags })).results[0].result;
    expect([await results({ 'acme:purpose': 'anything' }, 7), await results({ 'backup:purpose': 'x' }, 7), await results({ 'acme:purpose': 'a' }, 6)])
      .toEqual(['Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied']);
  });

  test('gives no warning, no cool-off, nothing irreversible; the plan says it locks what it is sent', () => {
    expect(b.lock.node.metadata.filter((m) => m.type === 'aws:cdk:warning')).toEqual([]);
    const [plan] = planOf(b.stack);
    expect(plan.protections).toEqual([expect.objectContaining({ mechanism: 'EBS Snapshot Lock (governance)', selects: 'new snapshots it is sent', locks: ['governance 7 days'] })]);
    expect(plan.irreversible).toEqual([]);
  });

  test('no alarm action: the alarms have none and the change alarm, naming the lock job, is exposed for the team to route', () => {
    expect(b.props(b.lock.alarm).AlarmActions ?? []).toEqual([]);
    expect(b.props(b.lock.heartbeatAlarm).AlarmActions ?? []).toEqual([]);
    const change = b.template.Resources[b.stack.resolve((b.lock.changeAlarm!.node.defaultChild as any).logicalId)].Properties;
    expect(change.AlarmActions ?? []).toEqual([]);
    // the on-call reads which mechanism was changed
    expect(change.AlarmDescription).toMatch(/^Snapshot lock Vault\/Lock: a piece of its machinery or configuration was changed or disabled/);
  });
});

describe('options', () => {
  test('routes every alarm to the action, and the heartbeat follows heartbeatInterval (1.5 times it)', () => {
    const app = new App();
    const stack = new Stack(app, 'Vault', { env: ENV });
    const topic = new sns.Topic(stack, 'Pager');
    const lock = new SnapshotLock(stack, 'Lock', {
      mode: SnapshotLockMode.governance(Duration.days(7)), alarmAction: new cloudwatchActions.SnsAction(topic), heartbeatInterval: Duration.days(1),
    });
    const t = unsynthesizedTemplate(stack);
    const props = (c: cloudwatch.IAlarm) => t.Resources[stack.resolve((c.node.defaultChild as any).logicalId)].Properties;
    const pager = { Ref: stack.resolve((topic.node.defaultChild as sns.CfnTopic).logicalId) };
    expect([props(lock.alarm).AlarmActions, props(lock.heartbeatAlarm).AlarmActions, props(lock.changeAlarm!).AlarmActions])
      .toEqual([[pager], [pager], [pager]]);
    const heartbeat = props(lock.heartbeatAlarm);
    expect(heartbeat.Period * heartbeat.EvaluationPeriods).toBe(1.5 * 86_400);
  });

  test('a heartbeat interval whose 1.5 times exceeds CloudWatch\'s 7-day window is reported, naming heartbeatInterval', () => {
    const stack = new Stack(new App(), 'Vault', { env: ENV });
    const lock = new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)), heartbeatInterval: Duration.days(5) });
    const info = lock.node.metadata.filter((m) => m.type === 'aws:cdk:info').map((m) => String(m.data));
    expect(info).toEqual([expect.stringMatching(/^heartbeatInterval runs up to .* beyond CloudWatch's 7-day alarm window/)]);
  });

  test('keeps the logs as long as asked, encrypted with the given key', () => {
    const app = new App();
    const stack = new Stack(app, 'Vault', { env: ENV });
    const key = new kms.Key(stack, 'Key');
    const lock = new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)), logRetention: logs.RetentionDays.TEN_YEARS, logEncryptionKey: key });
    const t = unsynthesizedTemplate(stack);
    const [logGroup] = Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroup.Properties).toMatchObject({ RetentionInDays: 3653, KmsKeyId: { 'Fn::GetAtt': [stack.resolve((key.node.defaultChild as kms.CfnKey).logicalId), 'Arn'] } });
    expect(JSON.stringify(lock.node.findChild('Logs').node.metadata)).not.toContain(GUARD_ACKNOWLEDGED_METADATA_KEY);
  });

  // "Lock Amazon EBS snapshots": a locked snapshot cannot be deleted, so DLM fails to delete one
  // whose retention ended; the lock checks, at synthesis, the retentions of the purposes it locks
  test('is checked against the retention of the snapshots it locks, of its own purposes only, once everything is added', () => {
    const stack = new Stack(new App(), 'Vault', { env: ENV });
    const locked = new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)), purposes: ['database-dr'] });
    const other = new SnapshotLock(stack, 'Other', { mode: SnapshotLockMode.governance(Duration.days(7)), purposes: ['scratch'] });
    // added after the locks: a user's DLM policy keeping 5 daily snapshots of database-dr
    new dlm.CfnLifecyclePolicy(stack, 'Nightly', {
      description: 'database-dr snapshots',
      state: 'ENABLED',
      executionRoleArn: 'arn:aws:iam::123456789012:role/dlm',
      policyDetails: {
        policyType: 'EBS_SNAPSHOT_MANAGEMENT',
        resourceTypes: ['VOLUME'],
        targetTags: [{ key: 'Tier', value: 'gold' }],
        schedules: [{
          name: 'nightly',
          createRule: { interval: 24, intervalUnit: 'HOURS' },
          retainRule: { count: 5 },
          tagsToAdd: [{ key: 'backup:purpose', value: 'database-dr' }],
        }],
      },
    });
    expect(locked.node.validate()).toEqual([expect.stringMatching(/^Vault\/Lock: mode duration of 7 days must be shorter than the retention of the snapshots it locks, got longer than Vault\/Nightly/)]);
    expect(other.node.validate()).toEqual([]);
  });

  // the props are made inside the test (a function per row): a factory called while jest collects
  // the table runs before any test, and Stryker would credit it to none
  test.each<[string, () => Partial<SnapshotLockProps>, string]>([
    ['201 purposes (a DescribeSnapshots filter takes 200 values)', () => ({ purposes: Array.from({ length: 201 }, (_, i) => `p${i}`) }), 'purposes'],
    ['an empty purpose', () => ({ purposes: ['ok', ''] }), "Vault/Lock: purposes[1] must be between 1 and 256 characters long, got ''"],
    ['a purpose that is no tag value', () => ({ purposes: ['a#b'] }), 'purposes[0] must be a tag value'],
    ['a duration in hours', () => ({ mode: SnapshotLockMode.governance(Duration.hours(12)) }), 'Vault/Lock: mode SnapshotLockMode.governance(...): duration must be a whole number of days between 1 and 36500, got 12 hours'],
    ['a compliance duration in hours', () => ({ mode: SnapshotLockMode.compliance(Duration.hours(36)) }),
      'Vault/Lock: mode SnapshotLockMode.compliance(...): duration must be a whole number of days between 1 and 36500, got 1 day 12 hours; pass Duration.days(n) with 1 <= n <= 36500'],
    ['a compliance duration over 100 years', () => ({ mode: SnapshotLockMode.compliance(Duration.days(36501)) }), 'SnapshotLockMode.compliance(...): duration must be a whole number of days between 1 and 36500'],
    ['a cool-off of 73 hours', () => ({ mode: SnapshotLockMode.compliance(Duration.days(3), Duration.hours(73)) }),
      'Vault/Lock: mode SnapshotLockMode.compliance(...): coolOffPeriod must be a whole number of hours between 1 and 72, got 3 days 1 hour; pass Duration.hours(n) with 1 <= n <= 72'],
    ['a cool-off in minutes', () => ({ mode: SnapshotLockMode.compliance(Duration.days(3), Duration.minutes(90)) }), 'coolOffPeriod must be a whole number of hours between 1 and 72'],
  ])('rejects %s', (_name, props, fragment) => {
    const stack = new Stack(new App(), 'Vault', { env: ENV });
    expect(() => new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)), ...props() })).toThrow(fragment);
  });

  test('the plan lists every purpose; the role is Step Functions\' and says what it does', () => {
    const stack = new Stack(new App(), 'Vault', { env: ENV });
    const lock = new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)), purposes: ['database-dr', 'ledger'] });
    expect(planOf(stack)[0].protections[0].selects).toBe('new snapshots with purpose database-dr, ledger');
    const role = stack.resolve((lock.role.node.defaultChild as iam.CfnRole)._toCloudFormation() as any);
    const [props] = Object.values<any>(role.Resources).map((r) => r.Properties);
    expect(props.AssumeRolePolicyDocument.Statement.map((st: any) => [st.Effect, st.Action, st.Principal]))
      .toEqual([['Allow', 'sts:AssumeRole', { Service: 'states.amazonaws.com' }]]);
    expect(props.Description).toBe('Locks new purpose-tagged EBS snapshots through AWS SDK integrations (cdk-ebs-backup)');
  });

  test('a compliance lock without a cool-off is immutable at once, and the plan says so', () => {
    const stack = new Stack(new App(), 'Vault', { env: ENV });
    new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.compliance(Duration.days(30)) });
    expect(planOf(stack)[0].irreversible.map((i: any) => i.consequence)).toEqual([
      "once a snapshot's cool-off ends, nobody, not even the root user, can delete it, unlock it or shorten the lock before it expires; it is billed until then",
    ]);
  });

  test('accepts 200 purposes, and a compliance mode of 36500 days with a 72-hour cool-off', () => {
    const stack = new Stack(new App(), 'Vault', { env: ENV });
    expect(() => new SnapshotLock(stack, 'A', { mode: SnapshotLockMode.governance(Duration.days(7)), purposes: Array.from({ length: 200 }, (_, i) => `p${i}`) })).not.toThrow();
    expect(() => new SnapshotLock(stack, 'B', { mode: SnapshotLockMode.compliance(Duration.days(36500), Duration.hours(72)) })).not.toThrow();
  });
});
