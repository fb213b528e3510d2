import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { checkLockAgainstRetentions } from './lock-retention';
import { snapshotLockDefinition } from './snapshot-lock-definition';
import { acknowledge, guard, nag } from '../core/acknowledge';
import { ChangeDetection } from '../core/change-detection';
import { failureAlarm } from '../core/failure-alarm';
import { heartbeatAlarm } from '../core/heartbeat';
import { protectAsMachinery } from '../core/machinery';
import { planDays, planRetention, registerPlan } from '../core/plan-report';
import { aslDefinitionBody } from '../core/sdk-call';
import { scopedRuleName, trustOnlyRules, trustOnlyStateMachine } from '../core/service-trust';
import { BackupTagging } from '../core/tagging';
import { checkCount, collectProblems, present, recordFactoryProblems, reportFactoryProblems, warn, wholeDurationProblem } from '../core/validation';

/**
 * How new snapshots are locked (EBS Snapshot Lock).
 *
 * A duration out of bounds is reported by the construct that uses the mode, with its path and
 * prop, together with the construct's other problems.
 *
 * @example
 * SnapshotLockMode.governance(Duration.days(30));
 * SnapshotLockMode.compliance(Duration.days(365), Duration.hours(24));
 */
export class SnapshotLockMode {
  /**
   * Governance mode: users with `ec2:UnlockSnapshot` (the guard denies it to all but break-glass
   * principals) can unlock or shorten the lock. Duration 1-36500 days.
   */
  public static governance(duration: Duration): SnapshotLockMode {
    return recordFactoryProblems(new SnapshotLockMode('governance', duration, undefined),
      present([wholeDurationProblem('SnapshotLockMode.governance', 'duration', duration, 'days', 1, 36500)]));
  }

  /**
   * Compliance mode: after the cool-off period nobody, not even the root user, can unlock or
   * shorten the lock; it can only be extended. Duration 1-36500 days, cool-off 1-72 hours.
   *
   * @param coolOffPeriod the window in which the lock can still be changed, for testing it
   * @default coolOffPeriod - no cool-off: the lock is immutable at once
   */
  public static compliance(duration: Duration, coolOffPeriod?: Duration): SnapshotLockMode {
    const factory = 'SnapshotLockMode.compliance';
    return recordFactoryProblems(new SnapshotLockMode('compliance', duration, coolOffPeriod), present([
      wholeDurationProblem(factory, 'duration', duration, 'days', 1, 36500),
      coolOffPeriod === undefined ? undefined : wholeDurationProblem(factory, 'coolOffPeriod', coolOffPeriod, 'hours', 1, 72),
    ]));
  }

  /** `governance` or `compliance`, as the EC2 API names it. */
  public readonly mode: string;
  /** How long each snapshot stays locked. */
  public readonly duration: Duration;
  /**
   * The cool-off period of a compliance lock.
   *
   * @default - none
   */
  public readonly coolOffPeriod?: Duration;

  private constructor(mode: string, duration: Duration, coolOffPeriod: Duration | undefined) {
    this.mode = mode;
    this.duration = duration;
    this.coolOffPeriod = coolOffPeriod;
  }
}

const SNAPSHOT_LOCK_COMPLIANCE_WARNING = 'worm:compliance-snapshot-lock';

/**
 * Settings of the snapshot lock job.
 */
export interface SnapshotLockOptions {
  /** The lock mode and duration. */
  readonly mode: SnapshotLockMode;

  /**
   * Lock only snapshots whose purpose tag has one of these values (at most 200, the values a
   * `DescribeSnapshots` filter takes).
   *
   * @default - every snapshot that carries the purpose tag
   */
  readonly purposes?: string[];

  /**
   * How long the job's execution logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A customer managed key for the job's logs. Its key policy must let CloudWatch Logs use it.
   *
   * @default - CloudWatch Logs' own encryption at rest
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * What the failure alarm does (page someone: a snapshot may be unlocked).
   *
   * @default - no action; route `alarm` yourself
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * The longest time in which at least one purpose-tagged snapshot is created (the most frequent
   * creator's interval): the heartbeat alarm fires when no snapshot was locked within 1.5 times
   * it. The lock runs on snapshot events, so it has no schedule of its own to follow.
   *
   * @default - 7 days without a locked snapshot (CloudWatch's longest alarm window)
   */
  readonly heartbeatInterval?: Duration;
}

/**
 * Properties of `SnapshotLock`.
 */
export interface SnapshotLockProps extends SnapshotLockOptions {}

/**
 * Locks every new EBS snapshot that carries the library's purpose tag, in governance or
 * compliance mode, as soon as it is created or copied into this region.
 *
 * CloudFormation has no resource for EBS Snapshot Lock, so an EventBridge rule on the
 * "EBS Snapshot Notification" events starts a Step Functions state machine that calls EC2
 * through AWS SDK integrations: no function, no code asset, so the same construct serves an app
 * and a self-contained template (a StackSet member, a template deployed without bootstrap).
 *
 * It is idempotent: a snapshot already locked long enough (within a day of the wanted expiry),
 * in a mode at least as strict, is left alone, a compliance lock is only ever extended, and a
 * cool-off period is given only to a new lock. Throttling and transient faults are retried
 * with backoff; an event that could not start an execution after EventBridge's retries lands in
 * a dead-letter queue, and one alarm fires on a failed, timed-out or aborted execution or on
 * anything in that queue.
 */
export class SnapshotLock extends Construct {
  /**
   * The id to acknowledge (`Validations.of(lock).acknowledge(...)`) once you have decided that
   * compliance-mode locks, which nobody can remove, are what you want.
   */
  public static readonly COMPLIANCE_WARNING = `Annotation::cdk-ebs-backup:${SNAPSHOT_LOCK_COMPLIANCE_WARNING}`;

  /** The CloudWatch namespace of the lock's heartbeat. */
  public static readonly METRIC_NAMESPACE = 'CdkEbsBackup/SnapshotLock';

  /** The state machine that locks snapshots. */
  public readonly stateMachine: sfn.IStateMachine;
  /**
   * Its role: exempt it from any deny on `ec2:LockSnapshot`. It may lock only purpose-tagged
   * snapshots and only for at least the configured duration: it can lengthen a lock, never shorten it.
   */
  public readonly role: iam.IRole;
  /** Events that could not start an execution after every retry. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** In alarm when an execution failed, timed out or was aborted, or an event was dropped: a snapshot may be unlocked. */
  public readonly alarm: cloudwatch.Alarm;
  /** The EventBridge rule on snapshot completion. */
  public readonly rule: events.Rule;
  /**
   * In alarm when no snapshot was locked within 1.5 times `heartbeatInterval`, missing data
   * breaching: a disabled rule, a rewritten machine or a role that can no longer lock is silent.
   */
  public readonly heartbeatAlarm: cloudwatch.Alarm;
  /**
   * In alarm when a piece of the lock job was changed or disabled: its rule, state machine,
   * alarms (a CloudTrail management event matched its change-detection rules; a deployment
   * counts too). Routed to `alarmAction`.
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;

  constructor(scope: Construct, id: string, props: SnapshotLockProps) {
    super(scope, id);
    protectAsMachinery(this);
    const tagKey = BackupTagging.keys(this).purpose;
    const purposes = props.purposes ?? [];
    collectProblems(this, () => {
      reportFactoryProblems(this, 'mode', props.mode);
      checkCount(this, 'purposes', purposes, 0, 200);
      purposes.forEach((p, i) => BackupTagging.validatePurpose(this, `purposes[${i}]`, p));
    });
    // read at synthesis: the policies and plans whose snapshots it locks may be added later
    this.node.addValidation({ validate: () => checkLockAgainstRetentions(this, 'mode duration', props.mode.duration, purposes) });
    if (props.mode.mode === 'compliance') {
      warn(this, SNAPSHOT_LOCK_COMPLIANCE_WARNING,
        `snapshots are locked in compliance mode for ${props.mode.duration.toHumanString()}: once the cool-off ends nobody, not even root, can delete them before`);
    }

    registerPlan(this, 'SnapshotLock', () => ({
      protects: [{
        mechanism: `EBS Snapshot Lock (${props.mode.mode})`,
        selects: purposes.length > 0 ? `new snapshots with purpose ${purposes.join(', ')}` : 'new snapshots it is sent',
        schedule: 'on creation',
        retention: planRetention(props.mode.duration),
        locks: [`${props.mode.mode} ${planDays(props.mode.duration)}`],
      }],
      irreversible: props.mode.mode === 'compliance' ? [{
        what: `compliance-mode EBS Snapshot Lock of ${planDays(props.mode.duration)}`,
        consequence: `once a snapshot's cool-off${props.mode.coolOffPeriod ? ` (${planDays(props.mode.coolOffPeriod)})` : ''} ends, nobody, not even the root user, ` +
          'can delete it, unlock it or shorten the lock before it expires; it is billed until then',
      }] : [],
    }));
    // Trusted by Step Functions acting for this lock job's machine only (trustOnlyStateMachine,
    // once the machine exists)
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Locks new purpose-tagged EBS snapshots through AWS SDK integrations (cdk-ebs-backup)',
    });
    this.role = role;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'RecordHeartbeat',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': SnapshotLock.METRIC_NAMESPACE } },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadSnapshotsAndTheirLocks',
      actions: ['ec2:DescribeSnapshots', 'ec2:DescribeLockedSnapshots'],
      resources: ['*'],
    }));
    // The role can only lengthen: LockSnapshot also shortens a governance lock (or a compliance
    // lock in its cool-off), so a rewritten or reused lock job could cut every lock to one day.
    // ec2:SnapshotLockDuration is the requested LockDuration in days (EBS User Guide, "Control
    // access to Amazon EBS snapshot lock"); the explicit denies hold even if someone attaches a
    // broader policy to this role. A request without a duration (ExpirationDate) is denied too.
    const snapshots = `arn:${Aws.PARTITION}:ec2:${Aws.REGION}::snapshot/*`;
    const durationDays = props.mode.duration.toDays();
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'LockPurposeTaggedSnapshotsOnly',
      actions: ['ec2:LockSnapshot'],
      resources: [snapshots],
      conditions: {
        ...purposes.length > 0
          ? { StringEquals: { [`aws:ResourceTag/${tagKey}`]: purposes } }
          : { Null: { [`aws:ResourceTag/${tagKey}`]: 'false' } },
        NumericGreaterThanEquals: { 'ec2:SnapshotLockDuration': durationDays },
      },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DenyShorterSnapshotLocks',
      effect: iam.Effect.DENY,
      actions: ['ec2:LockSnapshot'],
      resources: ['*'],
      conditions: { NumericLessThan: { 'ec2:SnapshotLockDuration': durationDays } },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DenySnapshotLocksWithoutDuration',
      effect: iam.Effect.DENY,
      actions: ['ec2:LockSnapshot'],
      resources: ['*'],
      conditions: { Null: { 'ec2:SnapshotLockDuration': 'true' } },
    }));
    acknowledge(role,
      nag('IAM5', 'ec2:DescribeSnapshots and ec2:DescribeLockedSnapshots support no resource-level permissions; ' +
        'X-Ray and CloudWatch Logs delivery take no resource ARN', 'Resource::*'),
      nag('IAM5', 'ec2:LockSnapshot is limited to snapshots carrying the purpose tag; their ids are not known before they are created',
        'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*'));

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
    });
    if (!props.logEncryptionKey) {
      acknowledge(logGroup, guard('cloudwatch_log_group_encrypted_check',
        'execution data is excluded: the logs hold state transitions only, encrypted at rest by CloudWatch Logs; pass logEncryptionKey for a customer managed key'));
    }
    const machine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: aslDefinitionBody(this, snapshotLockDefinition({
        purposeTagKey: tagKey,
        purposes,
        mode: props.mode.mode,
        durationDays,
        coolOffHours: props.mode.coolOffPeriod?.toHours(),
        heartbeat: {
          namespace: SnapshotLock.METRIC_NAMESPACE,
          metricName: LOCKED_METRIC,
          dimensions: [{ Name: LOCK_DIMENSION, Value: this.node.path }],
        },
      }), LOCK_TIMEOUT),
      role,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.stateMachine = machine;
    trustOnlyStateMachine(machine);

    const dlq = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(dlq,
      nag('SQS3', 'this queue is the dead-letter queue of the snapshot lock rule'),
      guard('sqs_dlq_check', 'this queue is the dead-letter queue of the snapshot lock rule'));
    this.deadLetterQueue = dlq;

    this.rule = new events.Rule(this, 'OnSnapshotCompleted', {
      ruleName: scopedRuleName(this, 'OnSnapshotCompleted'),
      description: 'New EBS snapshots (created or copied) to lock',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EBS Snapshot Notification'],
        detail: { event: ['createSnapshot', 'createSnapshots', 'copySnapshot'], result: ['succeeded'] },
      },
      targets: [new targets.SfnStateMachine(machine, { deadLetterQueue: dlq, retryAttempts: 8, maxEventAge: Duration.hours(6) })],
    });
    trustOnlyRules(machine);

    const period = Duration.minutes(5);
    this.alarm = failureAlarm(this, 'FailureAlarm', {
      description: 'Snapshots may be unlocked: a snapshot lock execution failed, timed out or was aborted, or an event could not start one (see the dead-letter queue)',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0) + FILL(dropped, 0)',
        usingMetrics: {
          failed: machine.metricFailed({ period, statistic: 'Sum' }),
          timedOut: machine.metricTimedOut({ period, statistic: 'Sum' }),
          aborted: machine.metricAborted({ period, statistic: 'Sum' }),
          dropped: dlq.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        },
        period,
        label: 'failed lock runs',
      }),
      alarmAction: props.alarmAction,
    });

    this.heartbeatAlarm = heartbeatAlarm(this, 'HeartbeatAlarm', {
      description: 'No snapshot was locked: the snapshot lock rule, machine or role may be disabled or changed, or no purpose-tagged snapshot was created',
      metric: (o) => this.metricSnapshotsLocked(o),
      schedule: props.heartbeatInterval?.toMilliseconds() ?? DEFAULT_HEARTBEAT_MS,
      scheduleProp: 'heartbeatInterval',
      alarmActions: props.alarmAction ? [props.alarmAction] : [],
    });
    this.changeAlarm = new ChangeDetection(this, 'ChangeDetection', {
      mechanism: `Snapshot lock ${this.node.path}`,
      alarmActions: props.alarmAction ? [props.alarmAction] : [],
      noActionReason: 'no alarmAction was given: changeAlarm is exposed for the team to route',
    }).alarm;
  }

  /**
   * Snapshots each run left locked (newly locked or already locked long enough), one datapoint
   * per run that found purpose-tagged snapshots. Sum over the period by default.
   */
  public metricSnapshotsLocked(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: SnapshotLock.METRIC_NAMESPACE,
      metricName: LOCKED_METRIC,
      dimensionsMap: { [LOCK_DIMENSION]: this.node.path },
      statistic: 'Sum',
      ...props,
    });
  }
}

const LOCKED_METRIC = 'SnapshotsLocked';
/** A run makes a few calls per snapshot of one event: a longer one is stuck, and its timeout fires the failure alarm. */
const LOCK_TIMEOUT = Duration.minutes(15);
const LOCK_DIMENSION = 'LockJob';
/** 1.5 times this is CloudWatch's longest alarm window, 7 days. */
const DEFAULT_HEARTBEAT_MS = (7 * 86_400_000) / 1.5;
