import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createJobFunction } from '../core/job-function';
import { protectAsMachinery } from '../core/machinery';
import { BackupTagging } from '../core/tagging';
import { checkDuration, checkTags, wholeDays } from '../core/validation';

/**
 * Settings of the end-of-life archive job.
 */
export interface SnapshotArchiverOptions {
  /**
   * Archive snapshots at least this old whose volume no longer exists. The archive tier bills at
   * least 90 days and restores take up to 72 hours, so archive only what is kept for the record.
   *
   * @default Duration.days(90)
   */
  readonly minimumAge?: Duration;

  /**
   * When the job runs.
   *
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Only report what would be archived, changing nothing: run it so before the first real run.
   *
   * @default false
   */
  readonly dryRun?: boolean;

  /**
   * Only snapshots whose purpose tag has one of these values.
   *
   * @default - every snapshot carrying the purpose tag
   */
  readonly purposes?: string[];

  /**
   * The tag the job puts on each archived snapshot, with the date as its value.
   *
   * @default - `<tag prefix>archived-at`, e.g. `backup:archived-at`
   */
  readonly archivedTagKey?: string;

  /**
   * How long the job's logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A customer managed key for the job's logs.
   *
   * @default - CloudWatch Logs' own encryption at rest
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * What the failure alarm does.
   *
   * @default - no action; route `alarm` yourself
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * Reserve this many concurrent executions for the job's function. Opt-in: Lambda keeps at
   * least 100 unreserved executions per account, so an account whose concurrency quota is 10
   * (new accounts) rejects any reservation and the deployment fails. Runs are daily and the
   * handler is idempotent, so overlapping runs are harmless.
   *
   * @default - no reservation
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * Properties of `SnapshotArchiver`.
 */
export interface SnapshotArchiverProps extends SnapshotArchiverOptions {}

/**
 * Archive rather than delete: a scheduled job that moves purpose-tagged snapshots of volumes that
 * no longer exist, older than `minimumAge`, to the EBS Snapshots Archive tier and tags them.
 */
export class SnapshotArchiver extends Construct {
  /** The function that archives. */
  public readonly function: lambda.IFunction;
  /** Its role. */
  public readonly role: iam.IRole;
  /** Runs that failed after every retry. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** In alarm when a run failed. */
  public readonly alarm: cloudwatch.Alarm;
  /** The schedule rule. */
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SnapshotArchiverProps = {}) {
    super(scope, id);
    protectAsMachinery(this);
    const minimumAge = props.minimumAge ?? Duration.days(90);
    checkDuration(this, 'minimumAge', minimumAge, Duration.days(1), Duration.days(36500));
    const days = wholeDays(this, 'minimumAge', minimumAge);
    (props.purposes ?? []).forEach((p, i) => BackupTagging.validatePurpose(this, `purposes[${i}]`, p));
    const keys = BackupTagging.keys(this);
    const archivedTagKey = props.archivedTagKey ?? BackupTagging.key(this, 'archived-at');
    checkTags(this, 'archivedTagKey', { [archivedTagKey]: '' });
    const snapshots = `arn:${Aws.PARTITION}:ec2:${Aws.REGION}::snapshot/*`;
    const purposeTagged = { Null: { [`aws:ResourceTag/${keys.purpose}`]: 'false' } };

    const job = createJobFunction(this, {
      handler: 'worm/archive',
      description: 'Archives purpose-tagged EBS snapshots of deleted volumes',
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      timeout: Duration.minutes(15),
      environment: {
        PURPOSE_TAG_KEY: keys.purpose,
        MINIMUM_AGE_DAYS: String(days),
        ARCHIVED_TAG_KEY: archivedTagKey,
        DRY_RUN: String(props.dryRun ?? false),
        ...props.purposes && props.purposes.length > 0 ? { PURPOSES: JSON.stringify(props.purposes) } : {},
      },
      statements: [
        new iam.PolicyStatement({ actions: ['ec2:DescribeSnapshots', 'ec2:DescribeVolumes'], resources: ['*'] }),
        new iam.PolicyStatement({ actions: ['ec2:ModifySnapshotTier'], resources: [snapshots], conditions: purposeTagged }),
        new iam.PolicyStatement({
          actions: ['ec2:CreateTags'],
          resources: [snapshots],
          conditions: { ...purposeTagged, 'ForAllValues:StringEquals': { 'aws:TagKeys': [archivedTagKey] } },
        }),
      ],
      wildcards: {
        'Resource::*': 'ec2:DescribeSnapshots and ec2:DescribeVolumes support no resource-level permissions',
        'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*':
          'archiving and its tag are limited to snapshots carrying the purpose tag; which ones is decided at run time',
      },
      async: { alarmDescription: 'The snapshot archive job failed (see its dead-letter queue and logs)', alarmAction: props.alarmAction },
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
    });
    this.function = job.function;
    this.role = job.role;
    this.deadLetterQueue = job.deadLetterQueue!;
    this.alarm = job.alarm!;

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Archives EBS snapshots of deleted volumes',
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(job.function, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 4 })],
    });
  }
}
