import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeFindings, wildcardArn } from '../core/acknowledge';
import { createJobFunction } from '../core/job-function';
import { protectAsMachinery } from '../core/machinery';
import { BackupTagging } from '../core/tagging';
import { checkPattern } from '../core/validation';

/**
 * Properties of a BackupOrphanSweeper.
 */
export interface BackupOrphanSweeperProps {
  /**
   * When to look for orphans.
   *
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Only report orphans (logs and metrics). Set to false to also delete the orphans that carry the
   * library's purpose tag; a write-once guard that denies a deletion still wins, because this
   * function is deliberately not one of the exempted retention roles.
   *
   * @default true
   */
  readonly dryRun?: boolean;

  /**
   * The CloudWatch namespace of the orphan counts.
   *
   * @default 'CdkEbsBackup/Orphans'
   */
  readonly metricNamespace?: string;

  /**
   * What the failure alarm does (a run failed every retry).
   *
   * @default - no action; route `alarm` yourself
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * Find backup orphans on a schedule: snapshots whose AMI is gone (paid for, never bootable) and
 * AMIs whose snapshots are missing (they look like backups and cannot be launched). Reported as
 * JSON log lines and metrics; deleted only when `dryRun` is false. Restored volumes a failed
 * drill left behind are removed by each RestoreDrill's own sweeper.
 */
export class BackupOrphanSweeper extends Construct {
  /** The function that finds (and, without dry run, deletes) the orphans. */
  public readonly function: lambda.Function;
  /** The metric namespace. */
  public readonly metricNamespace: string;
  /** In alarm when a run failed every retry (its event is in the dead-letter queue). */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BackupOrphanSweeperProps = {}) {
    super(scope, id);
    protectAsMachinery(this);
    this.metricNamespace = props.metricNamespace ?? 'CdkEbsBackup/Orphans';
    checkPattern(this, 'metricNamespace', this.metricNamespace, /^(?!AWS\/)[^:]{1,255}$/, "a namespace of 1-255 characters without ':' that does not start with 'AWS/'");
    const dryRun = props.dryRun ?? true;
    const purposeKey = BackupTagging.keys(this).purpose;

    const job = createJobFunction(this, {
      handler: 'restore/orphans',
      timeout: Duration.minutes(10),
      memorySize: 512,
      description: `Backup orphans (${dryRun ? 'report only' : 'report and delete'})`,
      async: {
        alarmDescription: 'The backup orphan sweeper failed every retry (see its dead-letter queue and logs): orphans are neither counted nor removed',
        alarmAction: props.alarmAction,
      },
    });
    this.function = job.function;
    this.alarm = job.alarm!;
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeImages', 'ec2:DescribeSnapshots'], resources: ['*'] }));
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': this.metricNamespace } },
    }));
    const findings = ['AwsSolutions-IAM5[Resource::*]'];
    if (!dryRun) {
      const arn = (resource: string) => Stack.of(this).formatArn({ service: 'ec2', resource, resourceName: '*', account: '' });
      this.function.addToRolePolicy(new iam.PolicyStatement({
        sid: 'DeleteOnlyTheLibrarysOrphans',
        actions: ['ec2:DeleteSnapshot', 'ec2:DeregisterImage'],
        resources: [arn('snapshot'), arn('image')],
        conditions: { Null: { [`aws:ResourceTag/${purposeKey}`]: 'false' } },
      }));
      findings.push(wildcardArn('ec2', 'snapshot/*', false).nagId, wildcardArn('ec2', 'image/*', false).nagId);
    }
    acknowledgeFindings(job.role, 'Describe and PutMetricData support no resource-level permissions; deletions are limited to artefacts with the purpose tag', ...findings);

    new events.Rule(this, 'Schedule', {
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      description: 'Find backup orphans: snapshots without their AMI, AMIs without their snapshots',
      targets: [new targets.LambdaFunction(this.function, {
        event: events.RuleTargetInput.fromObject({ purposeTagKey: purposeKey, dryRun, namespace: this.metricNamespace }),
        retryAttempts: 2,
        deadLetterQueue: job.deadLetterQueue,
      })],
    });
  }

  /** Snapshots whose AMI is gone, per run. */
  public metricSnapshotsWithoutImage(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.metricNamespace, metricName: 'SnapshotsWithoutImage', statistic: 'Maximum', ...props });
  }

  /** AMIs with a missing snapshot, per run. */
  public metricImagesWithoutSnapshots(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.metricNamespace, metricName: 'ImagesWithoutSnapshots', statistic: 'Maximum', ...props });
  }
}
