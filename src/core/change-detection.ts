/**
 * Change detection: disabling or changing a piece of the library's machinery (functions, state
 * machines, documents, maintenance windows, associations, EventBridge rules, alarms, topics, keys,
 * DLM policies, Backup plans and vaults, Recycle Bin rules) is an alarm.
 *
 * CloudTrail delivers every management API call to the default event bus as an event with
 * `detail-type: AWS API Call via CloudTrail` ("Events from AWS services", EventBridge User
 * Guide), `detail.eventSource` the service's endpoint (`lambda.amazonaws.com`) and
 * `detail.eventName` the API operation. The rules here are built from the same catalogue the
 * machinery and configuration denies are rendered from (`destructive-actions.ts`): the event name
 * is the IAM action without its service prefix, except Lambda, whose CloudTrail event names carry
 * the API version (`UpdateFunctionCode20150331v2`), matched by prefix. Each rule is scoped to the
 * library's own resources by the request parameter that names them, and notifies the alarm topic.
 *
 * Not detected: a change to the detection rules themselves and the deletion of the topic they
 * notify (the machinery deny denies both to all but break-glass and the deployment principals),
 * and tag changes (denied, not alarmed).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rbin from 'aws-cdk-lib/aws-rbin';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import { routeAlarm } from './alarm-routing';
import { DESTRUCTIVE_ACTIONS, DestructiveActionGroup } from './destructive-actions';
import { protectAsMachinery } from './machinery';

/** `detail-type` of the management events CloudTrail sends to EventBridge. */
export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';

/** The CloudTrail event source of each IAM service prefix (CloudWatch's API host is `monitoring`). */
export const CLOUDTRAIL_EVENT_SOURCES: Readonly<Record<string, string>> = {
  lambda: 'lambda.amazonaws.com',
  states: 'states.amazonaws.com',
  ssm: 'ssm.amazonaws.com',
  events: 'events.amazonaws.com',
  cloudwatch: 'monitoring.amazonaws.com',
  sns: 'sns.amazonaws.com',
  kms: 'kms.amazonaws.com',
  dlm: 'dlm.amazonaws.com',
  backup: 'backup.amazonaws.com',
  rbin: 'rbin.amazonaws.com',
};

/** Services whose CloudTrail event names carry the API version after the operation name. */
const VERSIONED_EVENT_NAMES = new Set(['lambda']);

/** One matcher of an event pattern: a value or a content filter. */
export type PatternValue = string | { readonly prefix: string } | { readonly suffix: string } | { readonly wildcard: string };

/**
 * How the library's resources of one kind appear in the request parameters of a change: the
 * parameter, and the values that name one resource (the forms callers may pass).
 */
interface ResourceNaming {
  /** The `requestParameters` fields that name the resource (any of them). */
  readonly fields: readonly string[];
  /** The values naming one resource of the scope. */
  readonly values: (c: IConstruct) => PatternValue[] | undefined;
}

// Lambda's FunctionName takes the name, the ARN or the partial ARN `<account>:function:<name>`; both ARNs end `:function:<name>`
const arnSuffix = (kind: string, name: string): PatternValue => ({ suffix: `:${kind}:${name}` });

/** The naming of the resources of one L1 type: `values` is asked of those constructs only. */
function namedBy<T extends IConstruct>(fields: readonly string[], type: abstract new (...args: any[]) => T,
  values: (c: T) => PatternValue[] | undefined): ResourceNaming {
  return { fields, values: (c) => c instanceof type ? values(c) : undefined };
}

/**
 * The catalogue's targets the detection watches, with the resources that carry them (groups of
 * other targets — snapshots, roles, the account — are data or IAM changes: denied, and not
 * machinery a rule can name).
 */
const NAMING: Readonly<Record<string, ResourceNaming>> = {
  'function': namedBy(['functionName'], lambda.CfnFunction, (c) => [c.ref, arnSuffix('function', c.ref)]),
  'state-machine': namedBy(['stateMachineArn'], sfn.CfnStateMachine, (c) => [c.ref]),
  'execution': namedBy(['executionArn'], sfn.CfnStateMachine, (c) => [{ wildcard: `*:execution:${c.attrName}:*` }]),
  'document': namedBy(['name'], ssm.CfnDocument, (c) => [c.ref]),
  'maintenance-window': namedBy(['windowId'], ssm.CfnMaintenanceWindow, (c) => [c.ref]),
  'association': namedBy(['associationId'], ssm.CfnAssociation, (c) => [c.attrAssociationId]),
  // DisableRule/DeleteRule/PutRule name it `name`, PutTargets/RemoveTargets `rule`: by its name
  // only (pattern [\.\-_A-Za-z0-9]+, EventBridge API Reference), never by ARN
  'rule': namedBy(['name', 'rule'], events.CfnRule, (c) => DETECTION_RULES.has(c) ? undefined : [c.ref]),
  // DeleteAlarms/DisableAlarmActions take a list, PutMetricAlarm one name
  'alarm': namedBy(['alarmNames', 'alarmName'], cloudwatch.CfnAlarm, (c) => [c.ref]),
  // Unsubscribe names the subscription: `<topic ARN>:<id>`
  'topic': namedBy(['topicArn', 'subscriptionArn'], sns.CfnTopic, (c) => [c.ref, { prefix: `${c.ref}:` }]),
  'machinery-key': namedBy(['keyId'], kms.CfnKey, (c) => [c.ref, c.attrArn]),
  'dlm-policy': namedBy(['policyId'], dlm.CfnLifecyclePolicy, (c) => [c.ref]),
  'backup-plan': namedBy(['backupPlanId'], backup.CfnBackupPlan, (c) => [c.attrBackupPlanId]),
  'vault': namedBy(['backupVaultName'], backup.CfnBackupVault, (c) => [c.ref]),
  'rbin-rule': namedBy(['identifier'], rbin.CfnRule, (c) => [c.attrIdentifier]),
};

/** The rules this module creates: never watched by themselves (a rule cannot name itself). */
const DETECTION_RULES = new WeakSet<IConstruct>();

/**
 * The resources a `ChangeDetection` already names in a rule. The one place that decides who
 * watches what: a detection created later (a baseline's, a stack's `EbsBackupChangeDetection`)
 * skips them, so a change matches exactly one rule: the mechanism's own, routed as its other alarms.
 */
const WATCHED = new WeakSet<IConstruct>();

/**
 * Whether a change detection created now would name `c` in a rule (a resource of a watched kind,
 * neither a detection rule nor already watched by another detection).
 */
export function isWatchable(c: IConstruct): boolean {
  return !DETECTION_RULES.has(c) && !WATCHED.has(c) && Object.values(NAMING).some((n) => n.values(c) !== undefined);
}

/**
 * The metric EventBridge publishes for a rule of the default bus each time it matches an event:
 * `TriggeredRules`, namespace `AWS/Events`, dimension `RuleName` ("Monitoring Amazon EventBridge",
 * EventBridge User Guide, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html:
 * "The number of rules that have run and matched with any event"; metrics with only the `RuleName`
 * dimension are the default bus's). "Best practices when defining Amazon EventBridge rules"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rules-best-practices.html) names it
 * for alarming on a rule's matches. `MatchedEvents` has no `RuleName` dimension, and `Invocations`
 * counts target invocations, which a rule without a target has none of.
 */
export function metricTriggeredRule(rule: events.IRule, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Events',
    metricName: 'TriggeredRules',
    dimensionsMap: { RuleName: rule.ruleName },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

/** The period of the change alarm: a change is an alarm within minutes, and clears after one quiet period. */
const CHANGE_ALARM_PERIOD = Duration.minutes(5);

/** A catalogue group the detection watches. */
export interface WatchedGroup {
  readonly name: string;
  readonly group: DestructiveActionGroup;
}

/**
 * The catalogue's groups whose changes alarm: every group of the `machinery` class and the
 * configuration groups of the services that expire backups (DLM, AWS Backup, Recycle Bin), as far
 * as a rule can name their resources.
 */
export function watchedGroups(): WatchedGroup[] {
  return Object.entries(DESTRUCTIVE_ACTIONS as Record<string, DestructiveActionGroup>)
    .filter(([, g]) => NAMING[g.target] !== undefined && (String(g.denyClass) === 'machinery' || g.denyClass === 'configuration'))
    .map(([name, group]) => ({ name, group }));
}

/** The `eventName` matcher of an IAM action: the name after the prefix (Lambda: as a prefix). */
export function eventNameOf(action: string): PatternValue {
  const [service, name] = action.split(':');
  return VERSIONED_EVENT_NAMES.has(service) ? { prefix: name } : name;
}

/** The CloudTrail event source of an IAM action. */
export function eventSourceOf(action: string): string {
  const service = action.split(':')[0];
  const source = CLOUDTRAIL_EVENT_SOURCES[service];
  if (!source) {
    throw new Error(`change detection: no CloudTrail event source known for ${action}`);
  }
  return source;
}

/** Properties of `ChangeDetection`. */
export interface ChangeDetectionProps {
  /**
   * The topic the rules notify with the CloudTrail event itself (who changed what).
   *
   * @default - the rules have no target: the alarm is the signal
   */
  readonly topic?: sns.ITopic;
  /**
   * Where the alarm on the rules' matches notifies: the mechanism's own alarm actions.
   *
   * @default - none: the alarm is acknowledged for cfn-guard and exposed for the team to route
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /** @default - the reason of `routeAlarm` */
  readonly noActionReason?: string;
  /** The constructs whose resources are the machinery. @default - the scope */
  readonly watch?: IConstruct[];
  /** What the rules' descriptions name (the mechanism's construct path). */
  readonly mechanism: string;
  /** The catalogue groups to watch. @default watchedGroups() */
  readonly groups?: WatchedGroup[];
}

/**
 * EventBridge rules, one per service with watched resources, matching CloudTrail management
 * events that change the machinery under `watch` (the resources that exist when it is created and
 * no other detection watches yet: create it last), notifying `topic` when there is one; and, in
 * every case, an alarm on the rules' matches (`TriggeredRules`) routed to `alarmActions`, so a
 * change alarms even where no topic was given.
 */
export class ChangeDetection extends Construct {
  /** The rules, one per service with watched resources. */
  public readonly rules: events.Rule[] = [];
  /** In alarm when any of the rules matched a change; none when nothing was left to watch. */
  public readonly alarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ChangeDetectionProps) {
    super(scope, id);
    const resources = (props.watch ?? [scope]).flatMap((root) => root.node.findAll())
      .filter((c) => !DETECTION_RULES.has(c) && !WATCHED.has(c) && Stack.of(c) === Stack.of(this));
    const named = new Set<IConstruct>();
    const bySource = new Map<string, { names: PatternValue[]; fields: Map<string, PatternValue[]> }>();
    for (const { group } of props.groups ?? watchedGroups()) {
      const naming = NAMING[group.target];
      if (!naming) {
        continue;
      }
      const values = resources.flatMap((c) => {
        const v = naming.values(c);
        if (v !== undefined) {
          named.add(c);
        }
        return v ?? [];
      });
      if (values.length === 0) {
        continue;
      }
      for (const action of group.actions) {
        const source = eventSourceOf(action);
        const entry = bySource.get(source) ?? { names: [], fields: new Map<string, PatternValue[]>() };
        entry.names.push(eventNameOf(action));
        for (const field of naming.fields) {
          entry.fields.set(field, [...entry.fields.get(field) ?? [], ...values]);
        }
        bySource.set(source, entry);
      }
    }
    for (const [source, entry] of bySource) {
      const service = source.split('.')[0];
      const alternatives = [...entry.fields.entries()].map(([field, values]) => ({ [field]: dedupe(values) }));
      const rule = new events.Rule(this, service, {
        description: `${props.mechanism}: a change to its ${service} resources (CloudTrail management event) alarms`.slice(0, 512),
        eventPattern: {
          detailType: [CLOUDTRAIL_DETAIL_TYPE],
          detail: {
            eventSource: [source],
            eventName: dedupe(entry.names),
            requestParameters: alternatives.length === 1 ? alternatives[0] : { $or: alternatives },
          },
        },
      });
      DETECTION_RULES.add(rule.node.defaultChild!);
      if (props.topic) {
        rule.addTarget(new targets.SnsTopic(props.topic));
      }
      this.rules.push(rule);
    }
    named.forEach((c) => WATCHED.add(c));
    if (this.rules.length > 0) {
      // one metric per rule: at most one rule per service of CLOUDTRAIL_EVENT_SOURCES (10), within
      // the 10 metrics a metric-math alarm may use (PutMetricAlarm, "Metrics")
      const usingMetrics = Object.fromEntries(this.rules.map((r, i) => [`rule${i}`, metricTriggeredRule(r, CHANGE_ALARM_PERIOD)]));
      this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
        alarmDescription: (`${props.mechanism}: a piece of its machinery or configuration was changed or disabled (rules `
          + `${this.rules.map((r) => r.node.id).join(', ')} matched a CloudTrail management event; a deployment counts too): `
          + 'find who made the call in CloudTrail event history').slice(0, 1024),
        metric: new cloudwatch.MathExpression({
          expression: 'SUM(METRICS())',
          usingMetrics,
          period: CHANGE_ALARM_PERIOD,
          label: 'changes to the machinery',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // no change, no match: a rule publishes nothing until it matches
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      routeAlarm(this.alarm, props.alarmActions, props.noActionReason);
    }
    protectAsMachinery(this);
  }
}

function dedupe(values: PatternValue[]): PatternValue[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = typeof v === 'string' ? v : JSON.stringify(v);
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

