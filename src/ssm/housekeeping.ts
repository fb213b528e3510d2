import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, addAcknowledgedStatement, guard } from '../core/acknowledge';
import { failureAlarm } from '../core/failure-alarm';
import { protectAsMachinery } from '../core/machinery';
import { Retention } from '../core/retention';
import { RetentionRoles } from '../core/retention-roles';
import { aslDefinitionBody, SNAPSHOT_PAGE_SIZE } from '../core/sdk-call';
import { scopedRuleName, trustOnlyRules, trustOnlyStateMachine } from '../core/service-trust';
import { checkRetentionKnown } from '../core/validation';

/** The CloudWatch namespace of the window's health metrics. */
export const METRIC_NAMESPACE = 'CdkEbsBackup/MaintenanceWindow';

/** The health metrics the housekeeping publishes, by what they count: one name for each, here. */
export const HEALTH_METRICS = {
  snapshotsCreated: 'SnapshotsCreated',
  crashConsistent: 'CrashConsistentSnapshots',
  failedExecutions: 'FailedWindowExecutions',
  deleted: 'ExpiredSnapshotsDeleted',
  notDeleted: 'ExpiredSnapshotsNotDeleted',
  deferred: 'ExpiredSnapshotsDeferred',
} as const;

/** How often the housekeeping runs; each run judges the hour before the previous full hour. */
const PERIOD_MS = 3_600_000;

/** Page size of `DescribeMaintenanceWindowExecutions` (the API's maximum; a record is about 300 bytes). */
export const EXECUTION_PAGE_SIZE = 100;
/**
 * Deletions per run (age retention). Each deletion is about 7 history events of an inline Map; a
 * standard execution keeps at most 25,000. The rest waits for the next hourly run and is counted
 * in `ExpiredSnapshotsDeferred`.
 */
export const MAX_DELETES_PER_RUN = 1_000;
/** Volumes examined per run (count retention), and deletions per volume per run. */
export const MAX_VOLUMES_PER_RUN = 200;
export const MAX_DELETES_PER_VOLUME = 10;
/** The longest a maintenance window runs (AWS: Duration 1-24 hours). */
const MAX_WINDOW_MS = 24 * PERIOD_MS;
/** A run pages, deletes and publishes within its hour: a longer one is stuck, and the next hourly run starts anyway. */
const HOUSEKEEPING_TIMEOUT = Duration.minutes(30);

/**
 * JSONata (Step Functions) expressions of the housekeeping state machine. Kept as data so the
 * tests evaluate them with the jsonata engine against fixtures.
 *
 * Each page of a describe call is reduced as it arrives, and only ids, counters and per-volume
 * counts are kept: no variable grows with the records' size. Bindings: `$page` (one page's
 * `Snapshots` or `WindowExecutions`), `$now`, and the judged slot `$slot` = [from, to): one full
 * hour, an hour old, so that every snapshot and every window execution is judged exactly once,
 * after its tags (AppConsistent is added when VSS finishes) and its status have settled.
 */
export const HOUSEKEEPING_EXPRESSIONS = {
  slot: `{% ( $h := $floor($toMillis($states.context.Execution.StartTime) / ${PERIOD_MS}) * ${PERIOD_MS}; { "now": $toMillis($states.context.Execution.StartTime), "from": $h - ${2 * PERIOD_MS}, "to": $h - ${PERIOD_MS} } ) %}`,
  /** The ids of `$page` past the age, appended to `$expired` (at most `MAX_DELETES_PER_RUN`). */
  expiredByAge: (maxAgeMs: number) =>
    `{% ( $all := $append($expired, [$page[$toMillis(StartTime) < $slot.now - ${maxAgeMs}].SnapshotId]); [$filter($all, function($v, $i) { $i < ${MAX_DELETES_PER_RUN} })] ) %}`,
  /** Expired ids of `$page` beyond the budget (counted, deleted next run). */
  deferredByAge: (maxAgeMs: number) =>
    `{% $deferred + $max([0, $count($expired) + $count($page[$toMillis(StartTime) < $slot.now - ${maxAgeMs}]) - ${MAX_DELETES_PER_RUN}]) %}`,
  /** `$counts` ({ volumeId: snapshots }) with `$page` added. */
  volumeCounts: '{% ( $c := $counts; $merge($append([$c], [$page{ VolumeId: $count(SnapshotId) }.$each(function($n, $v) { { $v: $n + ($exists($lookup($c, $v)) ? $lookup($c, $v) : 0) } })])) ) %}',
  /** The volumes holding more than `count` snapshots (at most `MAX_VOLUMES_PER_RUN`). */
  volumesOverCount: (count: number) =>
    `{% ( $v := [$filter($keys($counts), function($k) { $lookup($counts, $k) > ${count} })]; [$filter($v, function($x, $i) { $i < ${MAX_VOLUMES_PER_RUN} })] ) %}`,
  /** Volumes over the count that wait for the next run. */
  deferredVolumes: (count: number) =>
    `{% $max([0, $count([$filter($keys($counts), function($k) { $lookup($counts, $k) > ${count} })]) - ${MAX_VOLUMES_PER_RUN}]) %}`,
  /** One volume's snapshots (`$vsnaps`), trimmed to id and start time, with `$page` appended. */
  volumeSnapshots: '{% $append($vsnaps, [$page.{ "id": SnapshotId, "t": $toMillis(StartTime) }]) %}',
  /**
   * The ids beyond the newest `count` of one volume's `$vsnaps`, oldest first, at most
   * `MAX_DELETES_PER_VOLUME`, and only those created before `$keepAfter`: the floor.
   */
  expiredByCount: (count: number) =>
    `{% ( $old := [$sort($vsnaps, function($l, $r) { $l.t < $r.t })#$i[$i >= ${count} and t < $keepAfter].id]; $e := $reverse($old); [$filter($e, function($x, $i) { $i < ${MAX_DELETES_PER_VOLUME} })] ) %}`,
  /**
   * The start times (ms) of the newest `count` executions of the window that ran (`$starts`, newest
   * first), with `$page` of `DescribeMaintenanceWindowExecutions` added: SSM's record, which no tag
   * can forge. Skipped executions made no snapshots.
   */
  recentStarts: (count: number) =>
    `{% ( $s := $append($starts, [$page[Status != 'SKIPPED_OVERLAPPING' and $exists(StartTime)].$toMillis(StartTime)]); [$filter($sort($s, function($l, $r) { $l < $r }), function($v, $i) { $i < ${count} })] ) %}`,
  /**
   * The floor of count retention: nothing created since the `count`-th newest recorded execution
   * started is deleted, so snapshots tagged like the window's after the fact cannot push the real
   * ones out. SSM keeps 30 days of executions: with fewer recorded, the oldest recorded start;
   * with none, now (nothing is deleted by count).
   */
  keepAfter: (count: number) =>
    `{% $count($starts) >= ${count} ? $starts[${count} - 1] : ($count($starts) > 0 ? $min($starts) : $slot.now) %}`,
  created: '{% $created + $count($page[$toMillis(StartTime) >= $slot.from and $toMillis(StartTime) < $slot.to]) %}',
  crashConsistent: "{% $crashConsistent + $count($page[$toMillis(StartTime) >= $slot.from and $toMillis(StartTime) < $slot.to and $count(Tags[Key = 'AppConsistent' and $lowercase(Value) = 'true']) = 0]) %}",
  /** Executions are listed from a bounded start (ExecutedAfter): the API documents no order. */
  executedAfter: `{% $fromMillis($slot.from - ${MAX_WINDOW_MS}, '[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]Z') %}`,
  failedExecutions: "{% $failedExecutions + $count($page[$exists(EndTime) and $toMillis(EndTime) >= $slot.from and $toMillis(EndTime) < $slot.to and Status in ['FAILED', 'TIMED_OUT', 'CANCELLED', 'SKIPPED_OVERLAPPING']]) %}",
};

export interface SnapshotHousekeepingProps {
  /** The maintenance window whose executions are judged. */
  readonly windowId: string;
  /** The three library tags the window's snapshots carry. */
  readonly purposeKey: string;
  readonly purpose: string;
  readonly managedByKey: string;
  readonly managedBy: string;
  /**
   * The tag the window's task sets at creation to the window's id. Only snapshots carrying it
   * with this window's id are listed and deleted (the delete is also conditioned on it).
   */
  readonly windowTagKey: string;
  /** How long the window's snapshots are kept. */
  readonly retain: Retention;
}

/**
 * Expiry and health of the snapshots a maintenance window makes, with no Lambda: an hourly
 * Step Functions state machine (JSONata, AWS SDK integrations) that
 * - deletes the window's snapshots past their retention (DLM cannot: it only expires what it made);
 *   under count retention never one created since the count-th newest execution of the window
 *   that SSM records, so look-alikes tagged after the fact cannot push the real ones out,
 * - counts the snapshots of the judged hour that lack `AppConsistent=true` (VSS or the freeze fell
 *   back to crash-consistent: the silent failure mode), and the failed window executions,
 * - publishes both as metrics, each with an alarm.
 */
export class SnapshotHousekeeping extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly role: iam.Role;
  public readonly crashConsistentAlarm: cloudwatch.Alarm;
  public readonly failedRunsAlarm: cloudwatch.Alarm;
  public readonly expiryFailedAlarm: cloudwatch.Alarm;
  public readonly dimensions: Record<string, string>;

  constructor(scope: Construct, id: string, props: SnapshotHousekeepingProps) {
    super(scope, id);
    checkRetentionKnown(this, 'retain', props.retain);
    protectAsMachinery(this);
    const stack = Stack.of(this);
    this.dimensions = { ManagedBy: props.managedBy };
    const dimensions = [{ Name: 'ManagedBy', Value: props.managedBy }];

    const filters = [
      { Name: `tag:${props.purposeKey}`, Values: [props.purpose] },
      { Name: `tag:${props.managedByKey}`, Values: [props.managedBy] },
      { Name: `tag:${props.windowTagKey}`, Values: [props.windowId] },
    ];
    const retry = [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 }];
    const describeArguments = (extraFilters: string, token: string) =>
      `{% $merge([{ "OwnerIds": ["self"], "MaxResults": ${SNAPSHOT_PAGE_SIZE}, "Filters": $append(${JSON.stringify(filters)}, ${extraFilters}) }, ${token} ? { "NextToken": ${token} } : {}]) %}`;
    const page = '$page := $exists($states.result.Snapshots) ? $states.result.Snapshots : [];';
    const withPage = (expression: string) => expression.replace(/^\{% /, `{% ( ${page} `).replace(/ %\}$/, ' ) %}');
    const nextToken = '{% $exists($states.result.NextToken) ? $states.result.NextToken : null %}';
    // one deletion, counted; in use by an AMI, locked, or denied: counted and alarmed, never fatal
    const deleteProcessor = {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: 'DeleteSnapshot',
      States: {
        DeleteSnapshot: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ec2:deleteSnapshot',
          Arguments: { SnapshotId: '{% $states.input %}' },
          Output: '{% { "deleted": 1, "failed": 0 } %}',
          Retry: [{ ErrorEquals: ['Ec2.RequestLimitExceededException', 'Ec2.Ec2Exception'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'NotDeleted' }],
          End: true,
        },
        NotDeleted: { Type: 'Pass', Output: '{% { "deleted": 0, "failed": 1 } %}', End: true },
      },
    };
    const sums = '{% { "deleted": $sum([$states.result.deleted]), "failed": $sum([$states.result.failed]) } %}';

    const maxCount = props.retain.maxCount;
    const byCount = maxCount !== undefined;
    // the page loop: only counters, ids and (count retention) per-volume counts survive a page
    const pageAssign: Record<string, string> = {
      created: withPage(HOUSEKEEPING_EXPRESSIONS.created),
      crashConsistent: withPage(HOUSEKEEPING_EXPRESSIONS.crashConsistent),
      next: nextToken,
    };
    let expiry: Record<string, any>;
    if (byCount) {
      pageAssign.counts = withPage(HOUSEKEEPING_EXPRESSIONS.volumeCounts);
      expiry = {
        // the floor first: the window's own executions, as SSM records them
        DescribeRecentExecutions: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ssm:describeMaintenanceWindowExecutions',
          Arguments: `{% $merge([{ "WindowId": "${props.windowId}", "MaxResults": ${EXECUTION_PAGE_SIZE} }, $enext ? { "NextToken": $enext } : {}]) %}`,
          Assign: {
            starts: HOUSEKEEPING_EXPRESSIONS.recentStarts(maxCount).replace(/^\{% /, '{% ( $page := $exists($states.result.WindowExecutions) ? $states.result.WindowExecutions : []; ').replace(/ %\}$/, ' ) %}'),
            enext: nextToken,
          },
          Output: '{% {} %}',
          Retry: retry,
          Next: 'MoreRecentExecutions',
        },
        MoreRecentExecutions: {
          Type: 'Choice',
          Choices: [{ Condition: '{% $enext != null %}', Next: 'DescribeRecentExecutions' }],
          Default: 'SelectVolumes',
        },
        SelectVolumes: {
          Type: 'Pass',
          Assign: {
            keepAfter: HOUSEKEEPING_EXPRESSIONS.keepAfter(maxCount),
            volumes: HOUSEKEEPING_EXPRESSIONS.volumesOverCount(maxCount),
            deferred: HOUSEKEEPING_EXPRESSIONS.deferredVolumes(maxCount),
            counts: '{% {} %}',
          },
          Next: 'DeleteExpired',
        },
        DeleteExpired: {
          Type: 'Map',
          Items: '{% $volumes %}',
          MaxConcurrency: 5,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'StartVolume',
            States: {
              StartVolume: {
                Type: 'Pass',
                Assign: { volume: '{% $states.input %}', vsnaps: [], vnext: null },
                Next: 'DescribeVolumeSnapshots',
              },
              DescribeVolumeSnapshots: {
                Type: 'Task',
                Resource: 'arn:aws:states:::aws-sdk:ec2:describeSnapshots',
                Arguments: describeArguments('[{ "Name": "volume-id", "Values": [$volume] }]', '$vnext'),
                Assign: {
                  vsnaps: withPage(HOUSEKEEPING_EXPRESSIONS.volumeSnapshots),
                  vnext: nextToken,
                },
                Output: '{% {} %}',
                Retry: retry,
                Next: 'MoreVolumePages',
              },
              MoreVolumePages: {
                Type: 'Choice',
                Choices: [{ Condition: '{% $vnext != null %}', Next: 'DescribeVolumeSnapshots' }],
                Default: 'DeleteVolumeExpired',
              },
              DeleteVolumeExpired: {
                Type: 'Map',
                Items: HOUSEKEEPING_EXPRESSIONS.expiredByCount(maxCount),
                MaxConcurrency: 2,
                ItemProcessor: deleteProcessor,
                Output: sums,
                End: true,
              },
            },
          },
          Assign: {
            deleted: '{% $sum([$states.result.deleted]) %}',
            notDeleted: '{% $sum([$states.result.failed]) %}',
          },
          Output: '{% {} %}',
          Next: 'DescribeExecutions',
        },
      };
    } else {
      const maxAge = props.retain.maxAge!.toMilliseconds();
      pageAssign.expired = withPage(HOUSEKEEPING_EXPRESSIONS.expiredByAge(maxAge));
      pageAssign.deferred = withPage(HOUSEKEEPING_EXPRESSIONS.deferredByAge(maxAge));
      expiry = {
        DeleteExpired: {
          Type: 'Map',
          Items: '{% $expired %}',
          MaxConcurrency: 5,
          ItemProcessor: deleteProcessor,
          Assign: {
            deleted: '{% $sum([$states.result.deleted]) %}',
            notDeleted: '{% $sum([$states.result.failed]) %}',
            expired: '{% [] %}',
          },
          Output: '{% {} %}',
          Next: 'DescribeExecutions',
        },
      };
    }

    const definition = {
      Comment: `Expire and judge the snapshots of maintenance window ${props.managedBy}`,
      QueryLanguage: 'JSONata',
      StartAt: 'Init',
      States: {
        Init: {
          Type: 'Pass',
          Assign: {
            next: null,
            slot: HOUSEKEEPING_EXPRESSIONS.slot,
            created: 0,
            crashConsistent: 0,
            failedExecutions: 0,
            expired: [],
            counts: {},
            deferred: 0,
            deleted: 0,
            notDeleted: 0,
            ...byCount ? { starts: [], enext: null } : {},
          },
          Next: 'DescribeSnapshots',
        },
        DescribeSnapshots: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ec2:describeSnapshots',
          Arguments: describeArguments('[]', '$next'),
          Assign: pageAssign,
          Output: '{% {} %}',
          Retry: retry,
          Next: 'MorePages',
        },
        MorePages: {
          Type: 'Choice',
          Choices: [{ Condition: '{% $next != null %}', Next: 'DescribeSnapshots' }],
          Default: byCount ? 'DescribeRecentExecutions' : 'DeleteExpired',
        },
        ...expiry,
        DescribeExecutions: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ssm:describeMaintenanceWindowExecutions',
          Arguments: `{% $merge([{ "WindowId": "${props.windowId}", "MaxResults": ${EXECUTION_PAGE_SIZE}, "Filters": [{ "Key": "ExecutedAfter", "Values": [${HOUSEKEEPING_EXPRESSIONS.executedAfter.slice(3, -3).trim()}] }] }, $next ? { "NextToken": $next } : {}]) %}`,
          Assign: {
            failedExecutions: HOUSEKEEPING_EXPRESSIONS.failedExecutions.replace(/^\{% /, '{% ( $page := $exists($states.result.WindowExecutions) ? $states.result.WindowExecutions : []; ').replace(/ %\}$/, ' ) %}'),
            next: nextToken,
          },
          Output: '{% {} %}',
          Retry: retry,
          Next: 'MoreExecutions',
        },
        MoreExecutions: {
          Type: 'Choice',
          Choices: [{ Condition: '{% $next != null %}', Next: 'DescribeExecutions' }],
          Default: 'PublishMetrics',
        },
        PublishMetrics: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData',
          Arguments: {
            Namespace: METRIC_NAMESPACE,
            MetricData: [
              [HEALTH_METRICS.snapshotsCreated, '{% $created %}'],
              [HEALTH_METRICS.crashConsistent, '{% $crashConsistent %}'],
              [HEALTH_METRICS.failedExecutions, '{% $failedExecutions %}'],
              [HEALTH_METRICS.deleted, '{% $deleted %}'],
              [HEALTH_METRICS.notDeleted, '{% $notDeleted %}'],
              [HEALTH_METRICS.deferred, '{% $deferred %}'],
            ].map(([MetricName, Value]) => ({ MetricName, Value, Unit: 'Count', Dimensions: dimensions })),
          },
          Output: '{% { "created": $created, "crashConsistent": $crashConsistent, "failedExecutions": $failedExecutions, "deleted": $deleted, "notDeleted": $notDeleted, "deferred": $deferred } %}',
          End: true,
        },
      },
    };

    this.role = new iam.Role(this, 'Role', {
      // trusted by Step Functions acting for this machine only (trustOnlyStateMachine below)
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `Expires the snapshots of maintenance window ${props.managedBy} and publishes their health`,
    });
    addAcknowledgedStatement(this.role, new iam.PolicyStatement({
      sid: 'DescribeSnapshots',
      actions: ['ec2:DescribeSnapshots'],
      resources: ['*'],
    }), 'ec2:DescribeSnapshots has no resource-level permissions');
    addAcknowledgedStatement(this.role, new iam.PolicyStatement({
      sid: 'DeleteOnlyThisWindowsSnapshots',
      actions: ['ec2:DeleteSnapshot'],
      resources: [stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' })],
      conditions: {
        StringEquals: {
          [`aws:ResourceTag/${props.purposeKey}`]: props.purpose,
          [`aws:ResourceTag/${props.managedByKey}`]: props.managedBy,
          [`aws:ResourceTag/${props.windowTagKey}`]: props.windowId,
        },
      },
    }), 'the snapshot ids are known only at run time; the statement allows only snapshots that carry this window\'s purpose and managed-by tags and its id, set at creation');
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadWindowExecutions',
      actions: ['ssm:DescribeMaintenanceWindowExecutions'],
      resources: [stack.formatArn({ service: 'ssm', resource: 'maintenancewindow', resourceName: props.windowId })],
    }));
    addAcknowledgedStatement(this.role, new iam.PolicyStatement({
      sid: 'PublishHealthMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
    }), 'cloudwatch:PutMetricData has no resource-level permissions; the cloudwatch:namespace condition limits it to this library\'s namespace');
    RetentionRoles.register(this, this.role, `deletes the expired snapshots of maintenance window ${props.managedBy}`);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: aslDefinitionBody(this, definition, HOUSEKEEPING_TIMEOUT),
      role: this.role,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    trustOnlyStateMachine(this.stateMachine);

    new events.Rule(this, 'Hourly', {
      ruleName: scopedRuleName(this, 'Hourly'),
      description: `Expire and judge the snapshots of maintenance window ${props.managedBy}`,
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.SfnStateMachine(this.stateMachine)],
    });
    trustOnlyRules(this.stateMachine);

    // the window routes these alarms to its alarmActions (or acknowledges that none were given)
    const alarm = (alarmId: string, metricName: string, description: string) => failureAlarm(this, alarmId, {
      description,
      metric: new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE, metricName, dimensionsMap: this.dimensions, statistic: 'Sum', period: Duration.hours(1),
      }),
      actionAddedLater: true,
    });
    this.crashConsistentAlarm = alarm('CrashConsistentAlarm', HEALTH_METRICS.crashConsistent,
      `Snapshots of ${props.managedBy} without AppConsistent=true: VSS or the file-system freeze fell back to crash-consistent`);
    this.failedRunsAlarm = alarm('FailedRunsAlarm', HEALTH_METRICS.failedExecutions,
      `Executions of maintenance window ${props.managedBy} that failed, timed out, were cancelled or skipped`);
    this.expiryFailedAlarm = alarm('ExpiryFailedAlarm', HEALTH_METRICS.notDeleted,
      `Expired snapshots of ${props.managedBy} that could not be deleted (in use by an AMI, locked, or denied)`);

    acknowledge(logGroup, guard('cloudwatch_log_group_encrypted_check',
      'CloudWatch Logs encrypts every log group at rest; execution data is excluded from these logs, which hold state transitions only'));
  }
}
