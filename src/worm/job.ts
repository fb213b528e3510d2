import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, guard, nag } from '../core/acknowledge';

/** What every event-driven job of the family shares. */
export interface JobSettings {
  readonly handler: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly statements: iam.PolicyStatement[];
  /** Wildcard resources as cdk-nag renders them (`Resource::*`), and why each is needed. */
  readonly wildcards: Record<string, string>;
  readonly alarmDescription: string;
  readonly timeout: Duration;
  readonly reservedConcurrency: number;
  readonly logRetention?: logs.RetentionDays;
  readonly logEncryptionKey?: kms.IKey;
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

export interface Job {
  readonly deadLetterQueue: sqs.Queue;
  readonly role: iam.Role;
  readonly function: lambda.Function;
  readonly alarm: cloudwatch.Alarm;
}

/**
 * A handler with its own role and log group, async retries, a dead-letter queue and an alarm on
 * it: the pieces of the snapshot lock and archive jobs, with the same construct ids.
 */
export function createJob(scope: Construct, settings: JobSettings): Job {
  const dlq = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(dlq,
    nag('SQS3', 'this queue is the dead-letter queue of the job'),
    guard('sqs_dlq_check', 'this queue is the dead-letter queue of the job'));

  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: settings.logRetention ?? logs.RetentionDays.ONE_YEAR,
    encryptionKey: settings.logEncryptionKey,
  });
  if (!settings.logEncryptionKey) {
    acknowledge(logGroup, guard('cloudwatch_log_group_encrypted_check',
      'the logs hold snapshot ids and outcomes only, encrypted at rest by CloudWatch Logs; pass logEncryptionKey for a customer managed key'));
  }
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: `${settings.description} (cdk-ebs-backup)`,
  });
  logGroup.grantWrite(role);
  settings.statements.forEach((s) => role.addToPrincipalPolicy(s));
  dlq.grantSendMessages(role);
  acknowledge(role, ...Object.entries(settings.wildcards).map(([resource, why]) => nag('IAM5', why, resource)));

  const fn = new lambda.Function(scope, 'Function', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', 'lambda', settings.handler)),
    role,
    logGroup,
    timeout: settings.timeout,
    memorySize: 256,
    reservedConcurrentExecutions: settings.reservedConcurrency,
    retryAttempts: 2,
    deadLetterQueue: dlq,
    description: settings.description,
    environment: settings.environment,
  });
  acknowledge(fn, guard('lambda_inside_vpc_check', 'the function only calls the regional EC2 API; a VPC would add NAT or endpoints without reducing exposure'));

  const alarm = new cloudwatch.Alarm(scope, 'FailureAlarm', {
    alarmDescription: settings.alarmDescription,
    metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (settings.alarmAction) {
    alarm.addAlarmAction(settings.alarmAction);
  } else {
    acknowledge(alarm, guard('cloudwatch_alarm_action_check', 'no alarm action was given: the alarm is exposed as `alarm` for the team to route (or pass alarmAction)'));
  }
  return { deadLetterQueue: dlq, role, function: fn, alarm };
}
