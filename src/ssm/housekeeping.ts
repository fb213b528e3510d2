import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, addAcknowledgedStatement, guard } from '../core/acknowledge';
import { Retention } from '../core/retention';
import { RetentionRoles } from '../core/retention-roles';

/** The CloudWatch namespace of the window's health metrics. */
export const METRIC_NAMESPACE = 'CdkEbsBackup/MaintenanceWindow';

/** How often the housekeeping runs; each run judges the hour before the previous full hour. */
const PERIOD_MS = 3_600_000;

/**
 * JSONata (Step Functions) expressions of the housekeeping state machine. Kept as data so the
 * tests evaluate them with the jsonata engine against fixtures.
 *
 * Variables: `$snapshots` (DescribeSnapshots results), `$executions` (window executions),
 * `$now` (execution start in ms). The judged slot is [$from, $to): one full hour, an hour old,
 * so that every snapshot and every window execution is judged exactly once, after its tags
 * (AppConsistent is added when VSS finishes) and its status have settled.
 */
export const HOUSEKEEPING_EXPRESSIONS = {
  slot: `{% ( $h := $floor($toMillis($states.context.Execution.StartTime) / ${PERIOD_MS}) * ${PERIOD_MS}; { "now": $toMillis($states.context.Execution.StartTime), "from": $h - ${2 * PERIOD_MS}, "to": $h - ${PERIOD_MS} } ) %}`,
  expiredByAge: (maxAgeMs: number) =>
    `{% [$snapshots[$toMillis(StartTime) < $slot.now - ${maxAgeMs}].SnapshotId] %}`,
  expiredByCount: (count: number) =>
    `{% [$distinct($snapshots.VolumeId).( $v := $; $sort($snapshots[VolumeId = $v], function($l, $r) { $toMillis($l.StartTime) < $toMillis($r.StartTime) })#$i[$i >= ${count}].SnapshotId )] %}`,
  created: '{% $count($snapshots[$toMillis(StartTime) >= $slot.from and $toMillis(StartTime) < $slot.to]) %}',
  crashConsistent: "{% $count($snapshots[$toMillis(StartTime) >= $slot.from and $toMillis(StartTime) < $slot.to and $count(Tags[Key = 'AppConsistent' and $lowercase(Value) = 'true']) = 0]) %}",
  failedExecutions: "{% $count($executions[$exists(EndTime) and $toMillis(EndTime) >= $slot.from and $toMillis(EndTime) < $slot.to and Status in ['FAILED', 'TIMED_OUT', 'CANCELLED', 'SKIPPED_OVERLAPPING']]) %}",
};

export interface SnapshotHousekeepingProps {
  /** The maintenance window whose executions are judged. */
  readonly windowId: string;
  /** The three library tags the window's snapshots carry. */
  readonly purposeKey: string;
  readonly purpose: string;
  readonly managedByKey: string;
  readonly managedBy: string;
  /** How long the window's snapshots are kept. */
  readonly retention: Retention;
}

/**
 * Expiry and health of the snapshots a maintenance window makes, with no Lambda: an hourly
 * Step Functions state machine (JSONata, AWS SDK integrations) that
 * - deletes the window's snapshots past their retention (DLM cannot: it only expires what it made),
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
    const stack = Stack.of(this);
    this.dimensions = { ManagedBy: props.managedBy };
    const dimensions = [{ Name: 'ManagedBy', Value: props.managedBy }];

    const expired = props.retention.maxCount !== undefined
      ? HOUSEKEEPING_EXPRESSIONS.expiredByCount(props.retention.maxCount)
      : HOUSEKEEPING_EXPRESSIONS.expiredByAge(props.retention.maxAge!.toMilliseconds());

    const filters = [
      { Name: `tag:${props.purposeKey}`, Values: [props.purpose] },
      { Name: `tag:${props.managedByKey}`, Values: [props.managedBy] },
    ];
    const definition = {
      Comment: `Expire and judge the snapshots of maintenance window ${props.managedBy}`,
      QueryLanguage: 'JSONata',
      StartAt: 'Init',
      States: {
        Init: {
          Type: 'Pass',
          Assign: { snapshots: [], next: null, slot: HOUSEKEEPING_EXPRESSIONS.slot },
          Next: 'DescribeSnapshots',
        },
        DescribeSnapshots: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ec2:describeSnapshots',
          Arguments: `{% $merge([{ "OwnerIds": ["self"], "MaxResults": 1000, "Filters": ${JSON.stringify(filters)} }, $next ? { "NextToken": $next } : {}]) %}`,
          Assign: {
            snapshots: '{% $append($snapshots, $exists($states.result.Snapshots) ? $states.result.Snapshots : []) %}',
            next: '{% $exists($states.result.NextToken) ? $states.result.NextToken : null %}',
          },
          Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 }],
          Next: 'MorePages',
        },
        MorePages: {
          Type: 'Choice',
          Choices: [{ Condition: '{% $next != null %}', Next: 'DescribeSnapshots' }],
          Default: 'DescribeExecutions',
        },
        DescribeExecutions: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ssm:describeMaintenanceWindowExecutions',
          Arguments: { WindowId: props.windowId, MaxResults: 100 },
          Assign: { executions: '{% $exists($states.result.WindowExecutions) ? $states.result.WindowExecutions : [] %}' },
          Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 }],
          Next: 'Judge',
        },
        Judge: {
          Type: 'Pass',
          Assign: {
            expired,
            created: HOUSEKEEPING_EXPRESSIONS.created,
            crashConsistent: HOUSEKEEPING_EXPRESSIONS.crashConsistent,
            failedExecutions: HOUSEKEEPING_EXPRESSIONS.failedExecutions,
          },
          Next: 'DeleteExpired',
        },
        DeleteExpired: {
          Type: 'Map',
          Items: '{% $expired %}',
          MaxConcurrency: 5,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'DeleteSnapshot',
            States: {
              DeleteSnapshot: {
                Type: 'Task',
                Resource: 'arn:aws:states:::aws-sdk:ec2:deleteSnapshot',
                Arguments: { SnapshotId: '{% $states.input %}' },
                Output: '{% { "deleted": 1, "failed": 0 } %}',
                Retry: [{ ErrorEquals: ['Ec2.RequestLimitExceededException', 'Ec2.Ec2Exception'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2 }],
                // in use by an AMI, locked, or denied: counted and alarmed, never fatal for the rest
                Catch: [{ ErrorEquals: ['States.ALL'], Next: 'NotDeleted' }],
                End: true,
              },
              NotDeleted: { Type: 'Pass', Output: '{% { "deleted": 0, "failed": 1 } %}', End: true },
            },
          },
          Assign: {
            deleted: '{% $sum([$states.result.deleted]) %}',
            notDeleted: '{% $sum([$states.result.failed]) %}',
          },
          Next: 'PublishMetrics',
        },
        PublishMetrics: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData',
          Arguments: {
            Namespace: METRIC_NAMESPACE,
            MetricData: [
              ['SnapshotsCreated', '{% $created %}'],
              ['CrashConsistentSnapshots', '{% $crashConsistent %}'],
              ['FailedWindowExecutions', '{% $failedExecutions %}'],
              ['ExpiredSnapshotsDeleted', '{% $deleted %}'],
              ['ExpiredSnapshotsNotDeleted', '{% $notDeleted %}'],
            ].map(([MetricName, Value]) => ({ MetricName, Value, Unit: 'Count', Dimensions: dimensions })),
          },
          Output: '{% { "created": $created, "crashConsistent": $crashConsistent, "failedExecutions": $failedExecutions, "deleted": $deleted, "notDeleted": $notDeleted } %}',
          End: true,
        },
      },
    };

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
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
        },
      },
    }), 'the snapshot ids are known only at run time; the statement allows only snapshots that carry this window\'s purpose and managed-by tags');
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
      definitionBody: sfn.DefinitionBody.fromString(stack.toJsonString(definition)),
      role: this.role,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      timeout: Duration.minutes(30),
    });

    new events.Rule(this, 'Hourly', {
      description: `Expire and judge the snapshots of maintenance window ${props.managedBy}`,
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.SfnStateMachine(this.stateMachine)],
    });

    const alarm = (alarmId: string, metricName: string, description: string) => new cloudwatch.Alarm(this, alarmId, {
      alarmDescription: description,
      metric: new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE, metricName, dimensionsMap: this.dimensions, statistic: 'Sum', period: Duration.hours(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.crashConsistentAlarm = alarm('CrashConsistentAlarm', 'CrashConsistentSnapshots',
      `Snapshots of ${props.managedBy} without AppConsistent=true: VSS or the file-system freeze fell back to crash-consistent`);
    this.failedRunsAlarm = alarm('FailedRunsAlarm', 'FailedWindowExecutions',
      `Executions of maintenance window ${props.managedBy} that failed, timed out, were cancelled or skipped`);
    this.expiryFailedAlarm = alarm('ExpiryFailedAlarm', 'ExpiredSnapshotsNotDeleted',
      `Expired snapshots of ${props.managedBy} that could not be deleted (in use by an AMI, locked, or denied)`);

    acknowledge(logGroup, guard('cloudwatch_log_group_encrypted_check',
      'CloudWatch Logs encrypts every log group at rest; execution data is excluded from these logs, which hold state transitions only'));
  }
}
