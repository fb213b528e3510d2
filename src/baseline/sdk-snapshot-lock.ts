import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, addAcknowledgedStatement, guard } from '../core/acknowledge';
import { BackupTagging } from '../core/tagging';
import { SnapshotLockMode } from '../worm/snapshot-lock';

/**
 * Properties of `SdkSnapshotLock`.
 */
export interface SdkSnapshotLockProps {
  /** The lock mode and duration. */
  readonly mode: SnapshotLockMode;
  /** Lock only snapshots whose purpose tag has one of these values (1-200). */
  readonly purposes: string[];
  /**
   * What the failure alarm does.
   *
   * @default - no action
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * The same job as `SnapshotLock` without a function: an EventBridge rule on completed snapshots
 * starts a Step Functions state machine that reads the snapshots' purpose tags and calls
 * `LockSnapshot` through the AWS SDK integration. No code asset, so it fits a self-contained
 * template (a StackSet member, a template deployed without bootstrap).
 */
export class SdkSnapshotLock extends Construct {
  /** The state machine that locks snapshots. */
  public readonly stateMachine: sfn.StateMachine;
  /** Its role. */
  public readonly role: iam.Role;
  /** In alarm when an execution failed: a snapshot may be unlocked. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: SdkSnapshotLockProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const purposeKey = BackupTagging.keys(this).purpose;
    props.purposes.forEach((p, i) => BackupTagging.validatePurpose(this, `purposes[${i}]`, p));

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Locks new purpose-tagged EBS snapshots through the AWS SDK integration (cdk-ebs-backup)',
    });
    addAcknowledgedStatement(this.role, new iam.PolicyStatement({
      actions: ['ec2:DescribeSnapshots'],
      resources: ['*'],
    }), 'ec2:DescribeSnapshots has no resource-level permissions');
    addAcknowledgedStatement(this.role, new iam.PolicyStatement({
      actions: ['ec2:LockSnapshot'],
      resources: [stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' })],
      conditions: { StringEquals: { [`aws:ResourceTag/${purposeKey}`]: props.purposes } },
    }), "snapshot ids are known only at run time; the statement allows only snapshots carrying one of the tier's purpose tags");

    const lockArgs: Record<string, unknown> = {
      SnapshotId: '{% $states.input %}',
      LockMode: props.mode.mode,
      LockDuration: props.mode.duration.toDays(),
    };
    if (props.mode.coolOffPeriod) {
      lockArgs.CoolOffPeriod = props.mode.coolOffPeriod.toHours();
    }
    const retry = [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 6, JitterStrategy: 'FULL' }];
    const definition = {
      Comment: 'Lock new EBS snapshots that carry one of the purpose tags (cdk-ebs-backup)',
      QueryLanguage: 'JSONata',
      StartAt: 'SnapshotIds',
      States: {
        SnapshotIds: {
          Type: 'Pass',
          // createSnapshot/copySnapshot events carry one snapshot_id, createSnapshots a list
          Assign: {
            ids: "{% $append([], $map($append([$states.input.detail.snapshot_id], $states.input.detail.snapshots.snapshot_id), function($a) { $split($a, '/')[-1] })) %}",
          },
          Next: 'AnySnapshot',
        },
        AnySnapshot: {
          Type: 'Choice',
          // never call DescribeSnapshots without ids: it would list every tagged snapshot
          Choices: [{ Condition: '{% $count($ids) > 0 %}', Next: 'FindTaggedSnapshots' }],
          Default: 'NothingToLock',
        },
        NothingToLock: { Type: 'Succeed' },
        FindTaggedSnapshots: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ec2:describeSnapshots',
          Arguments: {
            SnapshotIds: '{% $ids %}',
            Filters: [{ Name: `tag:${purposeKey}`, Values: props.purposes }],
          },
          Output: '{% $append([], $states.result.Snapshots.SnapshotId) %}',
          Retry: retry,
          Next: 'LockEach',
        },
        LockEach: {
          Type: 'Map',
          Items: '{% $states.input %}',
          MaxConcurrency: 5,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Lock',
            States: {
              Lock: {
                Type: 'Task',
                Resource: 'arn:aws:states:::aws-sdk:ec2:lockSnapshot',
                Arguments: lockArgs,
                Output: '{% $states.result.SnapshotId %}',
                Retry: retry,
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    acknowledge(logGroup, guard('cloudwatch_log_group_encrypted_check',
      'CloudWatch Logs encrypts every log group at rest; execution data is excluded, the logs hold state transitions only'));
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: sfn.DefinitionBody.fromString(stack.toJsonString(definition)),
      role: this.role,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      timeout: Duration.minutes(15),
    });

    new events.Rule(this, 'OnSnapshotCompleted', {
      description: 'New EBS snapshots (created or copied) to lock',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EBS Snapshot Notification'],
        detail: { event: ['createSnapshot', 'createSnapshots', 'copySnapshot'], result: ['succeeded'] },
      },
      targets: [new targets.SfnStateMachine(this.stateMachine, { retryAttempts: 8, maxEventAge: Duration.hours(6) })],
    });

    this.alarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: 'Snapshots may be unlocked: an execution of the snapshot lock state machine failed',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmAction) {
      this.alarm.addAlarmAction(props.alarmAction);
    } else {
      acknowledge(this.alarm, guard('cloudwatch_alarm_action_check', 'no alarm action was given: the alarm is exposed as `alarm` for the team to route (or pass alarmAction)'));
    }
  }
}
