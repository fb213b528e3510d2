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
import { createJob } from './job';
import { checkLockAgainstRetentions } from './lock-retention';
import { BackupTagging } from '../core/tagging';
import { warn } from '../core/validation';

/**
 * How new snapshots are locked (EBS Snapshot Lock).
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
    checkLockDuration('SnapshotLockMode.governance', duration);
    return new SnapshotLockMode('governance', duration, undefined);
  }

  /**
   * Compliance mode: after the cool-off period nobody, not even the root user, can unlock or
   * shorten the lock; it can only be extended. Duration 1-36500 days, cool-off 1-72 hours.
   *
   * @param coolOffPeriod the window in which the lock can still be changed, for testing it
   * @default coolOffPeriod - no cool-off: the lock is immutable at once
   */
  public static compliance(duration: Duration, coolOffPeriod?: Duration): SnapshotLockMode {
    checkLockDuration('SnapshotLockMode.compliance', duration);
    if (coolOffPeriod !== undefined && !coolOffPeriod.isUnresolved()) {
      const hours = coolOffPeriod.toHours({ integral: false });
      if (!Number.isInteger(hours) || hours < 1 || hours > 72) {
        throw new Error(`SnapshotLockMode.compliance: coolOffPeriod must be a whole number of hours between 1 and 72, got ${coolOffPeriod.toHumanString()}`);
      }
    }
    return new SnapshotLockMode('compliance', duration, coolOffPeriod);
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

function checkLockDuration(where: string, duration: Duration): void {
  if (duration.isUnresolved()) {
    return;
  }
  const days = duration.toDays({ integral: false });
  if (!Number.isInteger(days) || days < 1 || days > 36500) {
    throw new Error(`${where}: duration must be a whole number of days between 1 and 36500, got ${duration.toHumanString()}`);
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
   * Lock only snapshots whose purpose tag has one of these values.
   *
   * @default - every snapshot that carries the purpose tag
   */
  readonly purposes?: string[];

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
   * What the failure alarm does (page someone: a snapshot may be unlocked).
   *
   * @default - no action; route `alarm` yourself
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
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
 * "EBS Snapshot Notification" events drives a small handler. It is idempotent (a snapshot that is
 * already locked long enough is left alone), retries throttling with backoff, and every event it
 * cannot handle ends in a dead-letter queue watched by an alarm.
 */
export class SnapshotLock extends Construct {
  /**
   * The id to acknowledge (`Validations.of(lock).acknowledge(...)`) once you have decided that
   * compliance-mode locks, which nobody can remove, are what you want.
   */
  public static readonly COMPLIANCE_WARNING = `Annotation::cdk-ebs-backup:${SNAPSHOT_LOCK_COMPLIANCE_WARNING}`;

  /** The function that locks snapshots. */
  public readonly function: lambda.IFunction;
  /** Its role: exempt it from any deny on `ec2:LockSnapshot`. */
  public readonly role: iam.IRole;
  /** Events that could not be handled after every retry. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** In alarm when the dead-letter queue holds anything: a snapshot may be unlocked. */
  public readonly alarm: cloudwatch.Alarm;
  /** The EventBridge rule on snapshot completion. */
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SnapshotLockProps) {
    super(scope, id);
    const tagKey = BackupTagging.keys(this).purpose;
    (props.purposes ?? []).forEach((p, i) => BackupTagging.validatePurpose(this, `purposes[${i}]`, p));
    // read at synthesis: the policies and plans whose snapshots it locks may be added later
    this.node.addValidation({ validate: () => checkLockAgainstRetentions(this, 'mode duration', props.mode.duration, props.purposes ?? []) });
    if (props.mode.mode === 'compliance') {
      warn(this, SNAPSHOT_LOCK_COMPLIANCE_WARNING,
        `snapshots are locked in compliance mode for ${props.mode.duration.toHumanString()}: once the cool-off ends nobody, not even root, can delete them before`);
    }

    const job = createJob(this, {
      handler: 'worm-snapshot-lock',
      description: 'Locks new purpose-tagged EBS snapshots',
      // caps the burst of LockSnapshot calls after a fleet-wide snapshot run
      reservedConcurrency: 5,
      timeout: Duration.minutes(2),
      environment: {
        LOCK_MODE: props.mode.mode,
        LOCK_DURATION_DAYS: String(props.mode.duration.toDays()),
        ...props.mode.coolOffPeriod ? { COOL_OFF_HOURS: String(props.mode.coolOffPeriod.toHours()) } : {},
        PURPOSE_TAG_KEY: tagKey,
        ...props.purposes && props.purposes.length > 0 ? { PURPOSES: JSON.stringify(props.purposes) } : {},
      },
      statements: [
        new iam.PolicyStatement({ actions: ['ec2:DescribeSnapshots', 'ec2:DescribeLockedSnapshots'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['ec2:LockSnapshot'],
          resources: [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}::snapshot/*`],
          conditions: { Null: { [`aws:ResourceTag/${tagKey}`]: 'false' } },
        }),
      ],
      wildcards: {
        'Resource::*': 'ec2:DescribeSnapshots and ec2:DescribeLockedSnapshots support no resource-level permissions',
        'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*':
          'ec2:LockSnapshot is limited to snapshots carrying the purpose tag; their ids are not known before they are created',
      },
      alarmDescription: 'Snapshots may be unlocked: the snapshot lock job could not handle some events (see its dead-letter queue)',
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
      alarmAction: props.alarmAction,
    });
    this.function = job.function;
    this.role = job.role;
    this.deadLetterQueue = job.deadLetterQueue;
    this.alarm = job.alarm;
    const fn = job.function;
    const dlq = job.deadLetterQueue;

    this.rule = new events.Rule(this, 'OnSnapshotCompleted', {
      description: 'New EBS snapshots (created or copied) to lock',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EBS Snapshot Notification'],
        detail: { event: ['createSnapshot', 'createSnapshots', 'copySnapshot'], result: ['succeeded'] },
      },
      targets: [new targets.LambdaFunction(fn, {
        deadLetterQueue: dlq,
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
      })],
    });

  }
}
