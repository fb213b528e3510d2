/**
 * Change detection on one small stack (module `core-change-detection`; the example-wide suites
 * test/core/change-detection*.test.ts cost a minute a run): a resource of every watched kind, the
 * detection's rules rendered, and CloudTrail management events as EventBridge delivers them
 * ("Events from AWS services", EventBridge User Guide: detail-type `AWS API Call via CloudTrail`,
 * the record's eventSource, eventName and requestParameters) run through the event-pattern
 * matcher of test/support, which follows "Comparison operators for use in event patterns".
 * The alarm reads `TriggeredRules` per rule ("Monitoring Amazon EventBridge").
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rbin from 'aws-cdk-lib/aws-rbin';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import {
  ChangeDetection, CLOUDTRAIL_DETAIL_TYPE, eventNameOf, eventSourceOf, isWatchable, metricTriggeredRule, watchedGroups,
} from '../../src/core/change-detection';
import { cloudTrailEvent, matchesPattern, renderIntrinsicsForEvents } from '../support/event-pattern';

const ACCOUNT = '565656565656';
const REGION = 'ap-southeast-2';
const render = (v: unknown) => renderIntrinsicsForEvents(v, ACCOUNT, REGION);

/** One resource of each kind the detection watches, under `scope`. */
function machinery(scope: Construct) {
  return {
    fn: new lambda.CfnFunction(scope, 'Fn', { code: { zipFile: 'x' }, role: 'arn:aws:iam::565656565656:role/r', runtime: 'nodejs22.x', handler: 'index.handler' }),
    machine: new sfn.CfnStateMachine(scope, 'Machine', { roleArn: 'arn:aws:iam::565656565656:role/r', definitionString: '{}' }),
    document: new ssm.CfnDocument(scope, 'Document', { content: {}, documentType: 'Command' }),
    window: new ssm.CfnMaintenanceWindow(scope, 'Window', { name: 'w', schedule: 'rate(1 day)', duration: 2, cutoff: 1, allowUnassociatedTargets: false }),
    association: new ssm.CfnAssociation(scope, 'Association', { name: 'AWS-RunPatchBaseline' }),
    rule: new events.CfnRule(scope, 'Rule', { scheduleExpression: 'rate(1 day)' }),
    alarm: new cloudwatch.CfnAlarm(scope, 'Alarm', { comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, threshold: 0 }),
    topic: new sns.CfnTopic(scope, 'Topic'),
    key: new kms.CfnKey(scope, 'Key', { keyPolicy: {} }),
    policy: new dlm.CfnLifecyclePolicy(scope, 'Policy', { description: 'p', state: 'ENABLED', executionRoleArn: 'arn:aws:iam::565656565656:role/dlm' }),
    plan: new backup.CfnBackupPlan(scope, 'Plan', { backupPlan: { backupPlanName: 'p', backupPlanRule: [] } }),
    vault: new backup.CfnBackupVault(scope, 'Vault', { backupVaultName: 'v' }),
    rbinRule: new rbin.CfnRule(scope, 'RbinRule', { resourceType: 'EBS_SNAPSHOT', retentionPeriod: { retentionPeriodValue: 7, retentionPeriodUnit: 'DAYS' } }),
  };
}

let stack: Stack;
beforeEach(() => {
  stack = new Stack(new App(), 'Jobs', { env: { account: ACCOUNT, region: REGION } });
});

const idOf = (c: IConstruct) => stack.resolve((c as any).logicalId) as string;
const ref = (c: IConstruct) => render({ Ref: idOf(c) });
const att = (c: IConstruct, a: string) => render({ 'Fn::GetAtt': [idOf(c), a] });
const patternsOf = (d: ChangeDetection) => d.rules.map((r) => render(stack.resolve((r.node.defaultChild as events.CfnRule).eventPattern)));
const detected = (d: ChangeDetection, action: string, requestParameters: Record<string, unknown>) =>
  patternsOf(d).filter((p) => matchesPattern(p, cloudTrailEvent(action, requestParameters, ACCOUNT, REGION))).length;

describe('what a change looks like to EventBridge, and which changes alarm', () => {
  test('a change to each kind of machinery and configuration, in each form a caller names it, matches exactly one rule', () => {
    const m = machinery(new Construct(stack, 'Job'));
    const d = new ChangeDetection(stack, 'Detection', { mechanism: 'Jobs/Job', watch: [stack.node.findChild('Job')] });
    const cases: Array<[string, Record<string, unknown>]> = [
      ['lambda:UpdateFunctionCode', { functionName: ref(m.fn) }],
      ['lambda:UpdateFunctionConfiguration', { functionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${ref(m.fn)}` }],
      ['lambda:DeleteFunction', { functionName: ref(m.fn) }],
      ['states:UpdateStateMachine', { stateMachineArn: ref(m.machine) }],
      ['states:DeleteStateMachine', { stateMachineArn: ref(m.machine) }],
      ['states:StopExecution', { executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${att(m.machine, 'Name')}:run-1` }],
      ['ssm:UpdateDocument', { name: ref(m.document), documentVersion: '$LATEST' }],
      ['ssm:DeleteDocument', { name: ref(m.document) }],
      ['ssm:UpdateMaintenanceWindow', { windowId: ref(m.window), enabled: false }],
      ['ssm:UpdateAssociation', { associationId: att(m.association, 'AssociationId') }],
      ['events:DisableRule', { name: ref(m.rule) }],
      ['events:RemoveTargets', { rule: ref(m.rule), ids: ['Target0'] }],
      ['events:PutRule', { name: ref(m.rule), state: 'DISABLED' }],
      ['cloudwatch:DisableAlarmActions', { alarmNames: ['someone-elses-alarm', ref(m.alarm)] }],
      ['cloudwatch:PutMetricAlarm', { alarmName: ref(m.alarm) }],
      ['sns:SetTopicAttributes', { topicArn: ref(m.topic), attributeName: 'Policy' }],
      ['sns:Unsubscribe', { subscriptionArn: `${ref(m.topic)}:3f1a2b4c-5d6e-4f70-8192-a3b4c5d6e7f8` }],
      ['kms:DisableKey', { keyId: ref(m.key) }],
      ['kms:ScheduleKeyDeletion', { keyId: att(m.key, 'Arn'), pendingWindowInDays: 7 }],
      ['dlm:UpdateLifecyclePolicy', { policyId: ref(m.policy), state: 'DISABLED' }],
      ['backup:UpdateBackupPlan', { backupPlanId: att(m.plan, 'BackupPlanId') }],
      ['backup:DeleteBackupSelection', { backupPlanId: att(m.plan, 'BackupPlanId'), selectionId: 's' }],
      ['backup:DeleteBackupVaultAccessPolicy', { backupVaultName: ref(m.vault) }],
      ['rbin:UpdateRule', { identifier: att(m.rbinRule, 'Identifier') }],
      ['rbin:UnlockRule', { identifier: att(m.rbinRule, 'Identifier') }],
    ];
    expect(cases.map(([action, params]) => [action, detected(d, action, params)])).toEqual(cases.map(([action]) => [action, 1]));
  });

  test('not a change to the machinery: other resources, reads, and other accounts\' look-alike ARNs', () => {
    const m = machinery(new Construct(stack, 'Job'));
    const d = new ChangeDetection(stack, 'Detection', { mechanism: 'Jobs/Job', watch: [stack.node.findChild('Job')] });
    const cases: Array<[string, Record<string, unknown>]> = [
      ['lambda:UpdateFunctionCode', { functionName: 'someone-elses-function' }],
      ['lambda:UpdateFunctionCode', { functionName: `${ref(m.fn)}-lookalike` }],
      ['states:UpdateStateMachine', { stateMachineArn: `${ref(m.machine)}x` }],
      ['states:StopExecution', { executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:Other:run-1` }],
      ['ssm:UpdateDocument', { name: 'AWS-RunShellScript' }],
      ['ssm:UpdateMaintenanceWindow', { windowId: 'mw-0123456789abcdef0' }],
      ['events:DisableRule', { name: 'someone-elses-rule' }],
      ['cloudwatch:DisableAlarmActions', { alarmNames: ['someone-elses-alarm'] }],
      ['sns:SetTopicAttributes', { topicArn: `${ref(m.topic)}-other`, attributeName: 'Policy' }],
      ['kms:DisableKey', { keyId: 'alias/other' }],
      ['dlm:UpdateLifecyclePolicy', { policyId: 'policy-0123456789abcdef0' }],
      ['rbin:UpdateRule', { identifier: 'other' }],
      // reads and tag changes are not changes the detection alarms on
      ['lambda:GetFunction', { functionName: ref(m.fn) }],
      ['ssm:DescribeDocument', { name: ref(m.document) }],
    ];
    expect(cases.map(([action, params]) => [action, detected(d, action, params)])).toEqual(cases.map(([action]) => [action, 0]));
    // an event of another detail-type never matches
    const event = { ...cloudTrailEvent('lambda:UpdateFunctionCode', { functionName: ref(m.fn) }, ACCOUNT, REGION), 'detail-type': 'AWS Console Sign In via CloudTrail' };
    expect(patternsOf(d).some((p) => matchesPattern(p, event))).toBe(false);
  });

  test('one rule per service, each scoped to its event source; no rule names itself', () => {
    machinery(new Construct(stack, 'Job'));
    const d = new ChangeDetection(stack, 'Detection', { mechanism: 'Jobs/Job', watch: [stack.node.findChild('Job')] });
    const patterns = patternsOf(d);
    expect(d.rules.map((r) => r.node.id).sort()).toEqual(['backup', 'dlm', 'events', 'kms', 'lambda', 'monitoring', 'rbin', 'sns', 'ssm', 'states']);
    for (const p of patterns) {
      expect(p['detail-type']).toEqual([CLOUDTRAIL_DETAIL_TYPE]);
      expect(p.detail.eventSource).toHaveLength(1);
    }
    const own = d.rules.map((r) => render(stack.resolve((r.node.defaultChild as events.CfnRule).ref)));
    expect(own.map((name) => detected(d, 'events:DisableRule', { name }))).toEqual(own.map(() => 0));
    expect(stack.resolve((d.rules.find((r) => r.node.id === 'lambda')!.node.defaultChild as events.CfnRule).description))
      .toBe('Jobs/Job: a change to its lambda resources (CloudTrail management event) alarms');
  });
});

describe('who watches what', () => {
  test('the scope by default; only resources of this stack; a resource is watched by the first detection only', () => {
    const m = machinery(stack);
    const otherStack = new Stack(stack.node.root as App, 'Other', { env: { account: ACCOUNT, region: REGION } });
    const elsewhere = new lambda.CfnFunction(otherStack, 'Elsewhere', { code: { zipFile: 'x' }, role: 'r', runtime: 'nodejs22.x', handler: 'h' });
    expect([isWatchable(m.fn), isWatchable(new Construct(stack, 'Plain'))]).toEqual([true, false]);
    const first = new ChangeDetection(stack, 'First', { mechanism: 'Jobs', watch: [stack, otherStack] });
    expect(detected(first, 'lambda:UpdateFunctionCode', { functionName: ref(m.fn) })).toBe(1);
    expect(patternsOf(first).some((p) => JSON.stringify(p).includes(render({ Ref: otherStack.resolve(elsewhere.logicalId) })))).toBe(false);
    expect([isWatchable(m.fn), isWatchable(first.rules[0].node.defaultChild!)]).toEqual([false, false]);
    // a second detection finds nothing left but the first one's alarm
    const late = new lambda.CfnFunction(stack, 'Late', { code: { zipFile: 'x' }, role: 'r', runtime: 'nodejs22.x', handler: 'h' });
    const second = new ChangeDetection(stack, 'Second', { mechanism: 'Jobs' });
    expect(detected(second, 'lambda:UpdateFunctionCode', { functionName: ref(m.fn) })).toBe(0);
    expect(detected(second, 'lambda:UpdateFunctionCode', { functionName: ref(late) })).toBe(1);
    expect(detected(second, 'events:DisableRule', { name: ref(first.rules[0].node.defaultChild!) })).toBe(0);
    expect(detected(second, 'cloudwatch:DeleteAlarms', { alarmNames: [ref(first.alarm!.node.defaultChild!)] })).toBe(1);
  });

  test('a resource is taken from later detections only when this one names it: a detection of some groups leaves the rest to the next', () => {
    const m = machinery(stack);
    const onlyDlm = new ChangeDetection(stack, 'OnlyDlm', { mechanism: 'Jobs', groups: watchedGroups().filter((g) => g.name === 'dlmPolicies') });
    expect(onlyDlm.rules.map((r) => r.node.id)).toEqual(['dlm']);
    expect([isWatchable(m.policy), isWatchable(m.fn), isWatchable(m.alarm)]).toEqual([false, true, true]);
    const rest = new ChangeDetection(stack, 'Rest', { mechanism: 'Jobs' });
    expect(detected(rest, 'lambda:UpdateFunctionCode', { functionName: ref(m.fn) })).toBe(1);
    expect(detected(rest, 'dlm:DeleteLifecyclePolicy', { policyId: ref(m.policy) })).toBe(0);
  });

  test('only the groups given; nothing to watch: no rule and no alarm', () => {
    const m = machinery(stack);
    const onlyDlm = watchedGroups().filter((g) => g.name === 'dlmPolicies');
    const d = new ChangeDetection(stack, 'Detection', { mechanism: 'Jobs', groups: [...onlyDlm, { name: 'snapshots', group: { denyClass: 'data', target: 'snapshot', actions: ['ec2:DeleteSnapshot'] } as any }] });
    expect(d.rules.map((r) => r.node.id)).toEqual(['dlm']);
    expect(detected(d, 'dlm:DeleteLifecyclePolicy', { policyId: ref(m.policy) })).toBe(1);
    expect(detected(d, 'lambda:UpdateFunctionCode', { functionName: ref(m.fn) })).toBe(0);
    const empty = new ChangeDetection(new Stack(new App(), 'Empty'), 'Detection', { mechanism: 'Empty' });
    expect([empty.rules.length, empty.alarm]).toEqual([0, undefined]);
  });

  test('the watched groups: the machinery and the configuration of the services that expire backups, never data', () => {
    const groups = watchedGroups();
    expect(groups.map((g) => g.name)).toEqual(expect.arrayContaining(['machineryFunctions', 'machineryExecutions', 'machineryRules', 'dlmPolicies',
      'backupPlans', 'vaultConfiguration', 'recycleBin', 'machineryKeys']));
    expect(groups.some((g) => g.group.denyClass === 'data')).toBe(false);
    expect(groups.map((g) => g.name)).not.toContain('ebsEncryptionDefaults');
    expect(groups.map((g) => g.name)).not.toContain('machineryTags');
  });
});

describe('what a rule renders', () => {
  test('each event name of the watched groups once, nothing else; each value naming a resource once; one field without $or', () => {
    const m = machinery(new Construct(stack, 'Job'));
    const d = new ChangeDetection(stack, 'Detection', { mechanism: 'Jobs/Job', watch: [stack.node.findChild('Job')] });
    const patterns = patternsOf(d);
    const patternOf = (id: string) => patterns[d.rules.findIndex((r) => r.node.id === id)];
    for (const [rule, pattern] of d.rules.map((r, i) => [r, patterns[i]] as const)) {
      const source = pattern.detail.eventSource[0];
      const expected = new Set(watchedGroups().flatMap((g) => g.group.actions)
        .filter((a) => eventSourceOf(a) === source).map((a) => JSON.stringify(eventNameOf(a))));
      const names = pattern.detail.eventName.map((n: unknown) => JSON.stringify(n));
      expect([rule.node.id, names.length, new Set(names)]).toEqual([rule.node.id, expected.size, expected]);
    }
    // the function is named by several groups through one field: its values once each, and no $or around a single field
    expect(patternOf('lambda').detail.requestParameters).toEqual({ functionName: [ref(m.fn), { suffix: `:function:${ref(m.fn)}` }] });
    // two fields (PutTargets names the rule `rule`, DeleteRule `name`): either matches
    expect(patternOf('events').detail.requestParameters).toEqual({ $or: [{ name: [ref(m.rule)] }, { rule: [ref(m.rule)] }] });
  });

  test('descriptions are cut to what the APIs take: a rule\'s 512 characters (PutRule), an alarm\'s 1024 (PutMetricAlarm)', () => {
    machinery(stack);
    const long = `Jobs/${'Deeply/Nested/'.repeat(80)}Job`;
    const d = new ChangeDetection(stack, 'Detection', { mechanism: long });
    const descriptions = d.rules.map((r) => stack.resolve((r.node.defaultChild as events.CfnRule).description) as string);
    expect(descriptions.map((x) => x.length)).toEqual(d.rules.map(() => 512));
    expect(descriptions.every((x) => x.startsWith(long.slice(0, 512)))).toBe(true);
    const alarmDescription = stack.resolve((d.alarm!.node.defaultChild as cloudwatch.CfnAlarm).alarmDescription) as string;
    expect([alarmDescription.length, alarmDescription.startsWith(long.slice(0, 1024))]).toEqual([1024, true]);
  });
});

describe('event names and sources', () => {
  test('Lambda\'s event names carry the API version (matched by prefix); others are the IAM action\'s name', () => {
    expect(eventNameOf('lambda:UpdateFunctionCode')).toEqual({ prefix: 'UpdateFunctionCode' });
    expect(eventNameOf('ssm:UpdateDocument')).toBe('UpdateDocument');
    expect(eventSourceOf('cloudwatch:DeleteAlarms')).toBe('monitoring.amazonaws.com');
    expect(eventSourceOf('states:StopExecution')).toBe('states.amazonaws.com');
    expect(() => eventSourceOf('ec2:DeleteSnapshot')).toThrow('change detection: no CloudTrail event source known for ec2:DeleteSnapshot');
  });
});

describe('the alarm', () => {
  test('on the sum of every rule\'s TriggeredRules, any match in 5 minutes, no match no alarm; routed, or acknowledged when unrouted', () => {
    machinery(stack);
    const topic = new sns.Topic(stack, 'Changes');
    const action: cloudwatch.IAlarmAction = { bind: () => ({ alarmActionArn: `arn:aws:sns:${REGION}:${ACCOUNT}:pager` }) };
    const d = new ChangeDetection(stack, 'Detection', { mechanism: 'Jobs/Job', topic, alarmActions: [action] });
    const alarm = stack.resolve((d.alarm!.node.defaultChild as cloudwatch.CfnAlarm)._toCloudFormation() as any);
    const props = Object.values<any>(alarm.Resources)[0].Properties;
    expect(props).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:pager`],
    });
    expect(props.AlarmDescription).toBe(`Jobs/Job: a piece of its machinery or configuration was changed or disabled (rules ${d.rules.map((r) => r.node.id).join(', ')} `
      + 'matched a CloudTrail management event; a deployment counts too): find who made the call in CloudTrail event history');
    expect(props.Metrics.find((x: any) => x.Expression).Label).toBe('changes to the machinery');
    const expression = props.Metrics.find((x: any) => x.Expression);
    expect([expression.Expression, expression.ReturnData ?? true]).toEqual(['SUM(METRICS())', true]);
    const metrics = props.Metrics.filter((x: any) => x.MetricStat);
    expect(metrics.map((x: any) => [x.MetricStat.Metric.Namespace, x.MetricStat.Metric.MetricName, x.MetricStat.Stat, x.MetricStat.Period]))
      .toEqual(d.rules.map(() => ['AWS/Events', 'TriggeredRules', 'Sum', 300]));
    expect(metrics.map((x: any) => x.MetricStat.Metric.Dimensions)).toEqual(d.rules.map((r) => [{ Name: 'RuleName', Value: stack.resolve(r.ruleName) }]));
    // every rule notifies the topic with the event
    for (const r of d.rules) {
      expect(stack.resolve((r.node.defaultChild as events.CfnRule).targets))
        .toEqual([expect.objectContaining({ arn: stack.resolve(topic.topicArn) })]);
    }
    const unrouted = new ChangeDetection(new Stack(new App(), 'S'), 'D', { mechanism: 'S', watch: [] });
    expect(unrouted.alarm).toBeUndefined();
    const s2 = new Stack(new App(), 'S2');
    machinery(s2);
    const quiet = new ChangeDetection(s2, 'D', { mechanism: 'S2', noActionReason: 'routed by the baseline' });
    expect(quiet.alarm!.node.metadata.filter((x) => x.type === 'cdk-ebs-backup:acknowledged').map((x) => x.data))
      .toEqual([{ cloudwatch_alarm_action_check: 'routed by the baseline' }]);
    expect(quiet.rules.map((r) => s2.resolve((r.node.defaultChild as events.CfnRule).targets))).toEqual(quiet.rules.map(() => undefined));
  });

  test('metricTriggeredRule', () => {
    const rule = new events.Rule(stack, 'R', { schedule: events.Schedule.expression('rate(1 day)') });
    const metric = metricTriggeredRule(rule, Duration.minutes(1));
    expect([metric.namespace, metric.metricName, metric.statistic, metric.period.toMinutes(), stack.resolve(metric.dimensions)])
      .toEqual(['AWS/Events', 'TriggeredRules', 'Sum', 1, { RuleName: stack.resolve(rule.ruleName) }]);
  });
});
