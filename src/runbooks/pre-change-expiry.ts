import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeFindings, ANY_RESOURCE_FINDING, wildcardArn } from '../core/acknowledge';
import { createJobFunction } from '../core/job-function';
import { protectAsMachinery } from '../core/machinery';
import { RetentionRoles } from '../core/retention-roles';

/** What the expiry job needs to find and judge the runbook's artefacts. */
export interface PreChangeExpiryProps {
  readonly purposeKey: string;
  readonly purpose: string;
  readonly managedByKey: string;
  readonly managedBy: string;
  readonly retentionKey: string;
  /** Used only while the retention tag could not be rendered at synthesis (a token). */
  readonly expireAfter: Duration;
  readonly schedule?: events.Schedule;
  /** Opt-in reserved concurrency (see `PreChangeSnapshotProps.expiryReservedConcurrentExecutions`). */
  readonly reservedConcurrentExecutions?: number;
  /** Where the failure alarm notifies. @default - none: exposed for the team to route */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * The scheduled job that deregisters pre-change AMIs and deletes pre-change snapshots once
 * their retention tag (`age:<days>d`) has run out; an artefact re-tagged with anything else
 * (`keep`) stays. A retention tag below `expireAfter` is rejected: retention can be lengthened by
 * re-tagging, never shortened. Its role may delete only artefacts carrying this runbook's purpose and
 * managed-by tags, and is registered with `RetentionRoles` so that the write-once guard
 * exempts exactly it.
 */
export class PreChangeExpiry extends Construct {
  public readonly role: iam.Role;
  public readonly function: lambda.Function;
  public readonly rule: events.Rule;
  /** In alarm when a scheduled run failed every retry. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PreChangeExpiryProps) {
    super(scope, id);
    protectAsMachinery(this);
    const ownArtefacts = {
      StringEquals: {
        [`aws:ResourceTag/${props.purposeKey}`]: props.purpose,
        [`aws:ResourceTag/${props.managedByKey}`]: props.managedBy,
      },
    };
    const artefacts = [wildcardArn('ec2', 'snapshot/*', false), wildcardArn('ec2', 'image/*', false)];
    const job = createJobFunction(this, {
      handler: 'runbooks/prechange-expiry',
      description: `Expires ${props.purpose} snapshots and AMIs of ${props.managedBy}`,
      timeout: Duration.minutes(10),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      statements: [
        new iam.PolicyStatement({
          sid: 'FindArtefacts',
          actions: ['ec2:DescribeSnapshots', 'ec2:DescribeImages'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'DeleteOwnArtefactsOnly',
          actions: ['ec2:DeleteSnapshot', 'ec2:DeregisterImage'],
          resources: artefacts.map((a) => a.arn),
          conditions: ownArtefacts,
        }),
      ],
      environment: {
        PURPOSE_KEY: props.purposeKey,
        PURPOSE: props.purpose,
        MANAGED_BY_KEY: props.managedByKey,
        MANAGED_BY: props.managedBy,
        RETENTION_KEY: props.retentionKey,
        EXPIRE_AFTER_DAYS: props.expireAfter.isUnresolved() ? Token.asString(props.expireAfter.toDays()) : String(props.expireAfter.toDays()),
        // the floor: a retention tag asking for less is rejected (a re-tag cannot shorten retention)
        MIN_RETENTION_DAYS: props.expireAfter.isUnresolved() ? Token.asString(props.expireAfter.toDays()) : String(props.expireAfter.toDays()),
      },
      async: {
        alarmDescription: `Expired ${props.purpose} artefacts of ${props.managedBy} may be left: the expiry job failed (see its dead-letter queue and logs)`,
        alarmAction: props.alarmAction,
      },
    });
    this.role = job.role;
    this.function = job.function;
    this.alarm = job.alarm!;

    // an EventBridge rule invokes through the function's resource policy: no role to hold
    this.rule = new events.Rule(this, 'Schedule', {
      description: `Expire ${props.purpose} artefacts of ${props.managedBy}`.slice(0, 512),
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(6)),
      targets: [new targets.LambdaFunction(this.function, {
        retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: job.deadLetterQueue,
      })],
    });

    RetentionRoles.register(this, this.role,
      `expires ${props.purpose} snapshots and AMIs of ${props.managedBy} after their retention tag runs out`);

    acknowledgeFindings(this.role,
      'DescribeSnapshots/DescribeImages support no resource-level permissions; deletion is limited by ' +
      'aws:ResourceTag to artefacts carrying this runbook\'s purpose and managed-by tags',
      ANY_RESOURCE_FINDING, ...artefacts.map((a) => a.nagId));
  }
}
