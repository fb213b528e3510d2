/**
 * Every mechanism watches its own machinery (issue 16, acceptance: "each mechanism (DLM policy,
 * Backup plan, each window, each job, lock, drill) has a heartbeat alarm with missing data
 * breaching, and a change-detection rule"), standalone, with or without a topic:
 * - semantics: a CloudTrail management event changing any resource of the mechanism (its
 *   function, state machine, document, window, association, rule, alarm, topic, key, policy,
 *   plan, vault) matches one of the mechanism's own rules; the same change to a resource of the
 *   app outside the mechanism matches none. Events follow "Events from AWS services" (EventBridge
 *   User Guide: detail-type `AWS API Call via CloudTrail`, CloudTrail's eventSource, eventName and
 *   requestParameters); patterns are evaluated with the matcher held to the EventBridge guide's
 *   examples (test/support/event-pattern.test.ts).
 * - the alarm: one per mechanism on `TriggeredRules` (namespace `AWS/Events`, dimension
 *   `RuleName`: "Monitoring Amazon EventBridge", EventBridge User Guide,
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html) of every one of
 *   its rules, alarming on one match, routed to the mechanism's own alarm actions, or
 *   acknowledged and exposed (`changeAlarm`) when it has none.
 * - one rule per change: `EbsBackupChangeDetection` added to the stack leaves the mechanisms'
 *   resources to them and still watches the user's own DLM policy.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { GUARD_ACKNOWLEDGED_METADATA_KEY } from '../../src/core/acknowledge';
import { CLOUDTRAIL_DETAIL_TYPE } from '../../src/core/change-detection';
import {
  BackupVaultPolicy, ConsistentSnapshotJob, DlmImagePolicy, DlmSnapshotPolicy, EbsBackupChangeDetection, FsfreezeMaintenanceWindow,
  MaintenanceTargets, PreChangeSnapshot, RestoreDrill, Retention, SnapshotLock, SnapshotLockMode, SnapshotTarget, VssMaintenanceWindow,
} from '../../src/index';
import { cloudTrailEvent, CLOUDTRAIL_CHANGES, matchesPattern, renderIntrinsicsForEvents } from '../support/event-pattern';

const ACCOUNT = '565656565656';
const REGION = 'ap-southeast-2';
const nightly = events.Schedule.cron({ hour: '1', minute: '0' });

/** The watched types, and associations (named by their generated id). */
const CHANGES: typeof CLOUDTRAIL_CHANGES = {
  ...CLOUDTRAIL_CHANGES,
  'AWS::SSM::Association': (_ref, id) => ['ssm:DeleteAssociation', { associationId: `AssociationId-${id}` }],
};

/** Where a mechanism's alarms go: the option that routes them, given an action. */
type Build = (scope: Construct, action?: cwActions.SnsAction, topic?: sns.ITopic) => IConstruct & { readonly changeAlarm?: unknown };

const MECHANISMS: Record<string, Build> = {
  'DLM snapshot policy': (s, action) => new DlmSnapshotPolicy(s, 'Mechanism', {
    purpose: 'sql',
    target: SnapshotTarget.volumes({ tags: { Backup: 'sql' } }),
    schedules: [{ name: 'nightly', schedule: nightly, retain: Retention.count(7) }],
    alarmActions: action ? [action] : undefined,
  }),
  'DLM image policy': (s, action) => new DlmImagePolicy(s, 'Mechanism', {
    purpose: 'amis',
    targetTags: { Ami: 'yes' },
    schedules: [{ name: 'nightly', schedule: nightly, retain: Retention.count(7) }],
    alarmActions: action ? [action] : undefined,
  }),
  'Backup plan': (s, _action, topic) => new BackupVaultPolicy(s, 'Mechanism', {
    purpose: 'dr',
    rules: [{ name: 'daily', schedule: nightly, retain: Retention.age(Duration.days(35)) }],
    resources: [backup.BackupResource.fromTag('Backup', 'daily')],
    notifications: topic !== undefined,
    notificationTopic: topic,
  }),
  'VSS window': (s, action) => new VssMaintenanceWindow(s, 'Mechanism', {
    purpose: 'sql-logs', schedule: nightly, targets: MaintenanceTargets.tagged({ Tier: 'sql' }), alarmActions: action ? [action] : undefined,
  }),
  'fsfreeze window': (s, action) => new FsfreezeMaintenanceWindow(s, 'Mechanism', {
    purpose: 'web',
    schedule: nightly,
    targets: MaintenanceTargets.tagged({ Tier: 'web' }),
    mountPoints: ['/data'],
    alarmActions: action ? [action] : undefined,
  }),
  'consistent snapshot job': (s, _action, topic) => new ConsistentSnapshotJob(s, 'Mechanism', {
    purpose: 'ledger', instances: { tags: { Ledger: 'gold' } }, retain: Retention.count(7), schedule: nightly, alarmTopic: topic,
  }),
  'pre-change runbook': (s, action) => new PreChangeSnapshot(s, 'Mechanism', { includeImage: true, alarmAction: action }),
  'snapshot lock': (s, action) => new SnapshotLock(s, 'Mechanism', { mode: SnapshotLockMode.governance(Duration.days(7)), alarmAction: action }),
  'restore drill': (s, _action, topic) => new RestoreDrill(s, 'Mechanism', {
    purpose: 'database-dr', schedule: events.Schedule.rate(Duration.days(7)), validation: ['test -f /data/PG_VERSION'], alarmTopic: topic,
  }),
};

/** Mechanisms that always have a topic of their own (the job creates one when none is given). */
const ALWAYS_ROUTED = new Set(['consistent snapshot job']);

const isDetectionRule = (r: any) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.['detail-type']?.includes(CLOUDTRAIL_DETAIL_TYPE);
const pathOf = (r: any): string => r.Metadata?.['aws:cdk:path'] ?? '';

interface Built {
  readonly stack: Stack;
  readonly resources: Record<string, any>;
  readonly mechanism: IConstruct & { readonly changeAlarm?: unknown };
  /** The user's own resources of watched types (outside any mechanism). */
  readonly own: string[];
  /** The logical id of the topic the mechanism's alarms notify, when routed. */
  readonly topicId?: string;
}

function build(kind: string, routed: boolean, stackDetection = false): Built {
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': true } });
  const stack = new Stack(app, 'Jobs', { env: { account: ACCOUNT, region: REGION } });
  const topic = routed ? new sns.Topic(stack, 'TeamTopic') : undefined;
  const mechanism = MECHANISMS[kind](stack, topic ? new cwActions.SnsAction(topic) : undefined, topic);
  // the app's own resources, of the kinds a mechanism has
  const userPolicy = new dlm.CfnLifecyclePolicy(stack, 'UserPolicy', { description: 'u', state: 'ENABLED', executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/dlm` });
  const userFunction = new lambda.Function(stack, 'UserFunction', {
    runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
  const userRule = new events.Rule(stack, 'UserRule', { schedule: events.Schedule.rate(Duration.hours(1)) });
  if (stackDetection) {
    new EbsBackupChangeDetection(stack, 'StackDetection', { topic: new sns.Topic(stack, 'StackTopic') });
  }
  const resources = app.synth().getStackByName('Jobs').template.Resources;
  const own = [userPolicy.node.defaultChild ?? userPolicy, userFunction.node.defaultChild!, userRule.node.defaultChild!]
    .map((c) => stack.getLogicalId(c as any));
  return { stack, resources, mechanism, own, topicId: topic ? stack.getLogicalId(topic.node.defaultChild as any) : undefined };
}

const render = (v: unknown) => renderIntrinsicsForEvents(v, ACCOUNT, REGION);

/** The detection rules under `path` (the mechanism's own), by logical id. */
function rulesUnder(resources: Record<string, any>, path: string): Array<[string, any]> {
  return Object.entries(resources).filter(([, r]) => isDetectionRule(r) && pathOf(r).startsWith(`${path}/`));
}

/** The CloudTrail event changing resource `id`, or undefined for a type no detection names. */
function changeOf(resources: Record<string, any>, id: string) {
  const change = CHANGES[resources[id].Type];
  if (!change) {
    return undefined;
  }
  const [action, requestParameters] = change(render({ Ref: id }), id);
  return cloudTrailEvent(action, requestParameters, ACCOUNT, REGION);
}

/** Every problem of a mechanism's change detection, as a reader would state it. */
function detectionProblems(b: Built, path: string): string[] {
  const problems: string[] = [];
  const rules = rulesUnder(b.resources, path);
  const patterns = rules.map(([, r]) => render(r.Properties.EventPattern));
  const own = Object.entries(b.resources).filter(([, r]) => pathOf(r).startsWith(`${path}/`)
    && !pathOf(r).startsWith(`${path}/ChangeDetection/`) && CHANGES[r.Type] !== undefined);
  if (own.length === 0) {
    problems.push(`${path}: no resource of a watched type (vacuous)`);
  }
  for (const [id, r] of own) {
    if (!patterns.some((p) => matchesPattern(p, changeOf(b.resources, id)))) {
      problems.push(`${path}: a change to its ${r.Type} ${id} matches none of its rules`);
    }
  }
  for (const id of b.own) {
    if (patterns.some((p) => matchesPattern(p, changeOf(b.resources, id)))) {
      problems.push(`${path}: a change to the app's own ${b.resources[id].Type} ${id} matches its rules`);
    }
  }
  return problems;
}

describe.each(Object.keys(MECHANISMS))('%s', (kind) => {
  const routedToo = ALWAYS_ROUTED.has(kind) ? [true] : [true, false];

  test.each(routedToo)('watches its own resources and nothing else (routed to a topic: %s)', (routed) => {
    const b = build(kind, routed);
    const path = b.mechanism.node.path;
    expect(rulesUnder(b.resources, path).length).toBeGreaterThan(0);
    expect(detectionProblems(b, path)).toEqual([]);
  });

  test.each(routedToo)('alarms on any match of its rules, routed like its heartbeat (routed to a topic: %s)', (routed) => {
    const b = build(kind, routed);
    const path = b.mechanism.node.path;
    const ruleIds = rulesUnder(b.resources, path).map(([id]) => id).sort();
    const alarms = Object.entries<any>(b.resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm'
      && (r.Properties.Metrics ?? []).some((m: any) => m.MetricStat?.Metric?.MetricName === 'TriggeredRules'));
    expect(alarms.map(([, r]) => pathOf(r))).toEqual([`${path}/ChangeDetection/Alarm/Resource`]);
    const [alarmId, alarm] = alarms[0];
    expect(b.stack.resolve((b.mechanism.changeAlarm as any).node.defaultChild.logicalId)).toBe(alarmId);
    const p = alarm.Properties;
    // every rule's matches count, per rule of the default bus
    const watched = p.Metrics.filter((m: any) => m.MetricStat).map((m: any) => {
      expect(m.MetricStat.Metric.MetricName).toBe('TriggeredRules');
      expect(m.MetricStat.Stat).toBe('Sum');
      expect(m.MetricStat.Metric.Dimensions.map((d: any) => d.Name)).toEqual(['RuleName']);
      return m.MetricStat.Metric.Dimensions[0].Value.Ref;
    }).sort();
    expect(watched).toEqual(ruleIds);
    expect(p.Metrics.find((m: any) => m.ReturnData !== false && m.Expression).Expression).toBe('SUM(METRICS())');
    // one match alarms; no match (no data) is not a change
    expect([p.Threshold, p.ComparisonOperator, p.EvaluationPeriods, p.TreatMissingData])
      .toEqual([1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching']);
    const heartbeat = Object.values<any>(b.resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && pathOf(r) === `${path}/HeartbeatAlarm/Resource`);
    if (routed) {
      const topic = b.topicId ?? Object.entries<any>(b.resources).find(([, r]) => r.Type === 'AWS::SNS::Topic' && pathOf(r).startsWith(`${path}/`))![0];
      expect(p.AlarmActions).toEqual([{ Ref: topic }]);
      if (heartbeat) {
        expect(heartbeat.Properties.AlarmActions).toEqual(p.AlarmActions);
      }
    } else {
      expect(p.AlarmActions).toBeUndefined();
      const acknowledged = (b.mechanism.changeAlarm as any).node.metadata.filter((m: any) => m.type === GUARD_ACKNOWLEDGED_METADATA_KEY);
      expect(acknowledged.map((m: any) => Object.keys(m.data))).toEqual([['cloudwatch_alarm_action_check']]);
    }
  });

  test('with EbsBackupChangeDetection in the stack, a change to the mechanism matches its own rules only; the user\'s policy the stack\'s', () => {
    const b = build(kind, true, true);
    const path = b.mechanism.node.path;
    const stackPatterns = rulesUnder(b.resources, 'Jobs/StackDetection').map(([, r]) => render(r.Properties.EventPattern));
    const own = Object.keys(b.resources).filter((id) => pathOf(b.resources[id]).startsWith(`${path}/`)
      && !pathOf(b.resources[id]).startsWith(`${path}/ChangeDetection/`) && CHANGES[b.resources[id].Type]);
    const twice = own.filter((id) => stackPatterns.some((p) => matchesPattern(p, changeOf(b.resources, id))));
    expect(twice).toEqual([]);
    expect(detectionProblems(b, path)).toEqual([]);
    const userPolicy = b.own[0];
    expect(stackPatterns.some((p) => matchesPattern(p, changeOf(b.resources, userPolicy)))).toBe(true);
  });
});

test('a planted bug fails the check: a mechanism\'s rule dropped from the template', () => {
  const b = build('VSS window', true);
  const path = b.mechanism.node.path;
  expect(detectionProblems(b, path)).toEqual([]);
  const [ssmRule] = rulesUnder(b.resources, path).find(([, r]) => r.Properties.EventPattern.detail.eventSource[0] === 'ssm.amazonaws.com')!;
  delete b.resources[ssmRule];
  expect(detectionProblems(b, path).join('\n')).toMatch(/a change to its AWS::SSM::MaintenanceWindow \S+ matches none of its rules/);
});
