import * as path from 'path';
import { ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, guard, nag } from './acknowledge';
import { failureAlarm } from './failure-alarm';
import { protectAsMachinery } from './machinery';
import { denyOtherFunctions } from './service-trust';
import { checkInteger } from './validation';

/**
 * How a job function is invoked asynchronously (EventBridge, a schedule): events that fail every
 * retry land in a dead-letter queue, and an alarm fires when it holds anything.
 */
export interface AsyncInvocation {
  /** What the failure alarm tells the person it pages. */
  readonly alarmDescription: string;
  /** @default - no action; the alarm is exposed for the team to route */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * One Lambda function of the library. Internal (not exported from the package): constructs
 * expose the resulting `lambda.IFunction`, `iam.IRole` and alarm, never these options.
 */
export interface JobFunctionOptions {
  /** The bundle, as `<family>/<handler>` (`lambda/<family>/<handler>/index.ts`). */
  readonly handler: string;
  /** What the function does (function and role description). */
  readonly description: string;
  /**
   * Prefix of the construct ids (`<idPrefix>Function`, `<idPrefix>Role`, `<idPrefix>Logs`, ...),
   * so a construct with two functions keeps them apart and existing ids stay stable.
   *
   * @default ''
   */
  readonly idPrefix?: string;
  /**
   * The id of the log group, where an existing one differs from `<idPrefix>Logs`.
   *
   * @default `${idPrefix}Logs`
   */
  readonly logGroupId?: string;
  readonly environment?: Record<string, string>;
  /** What the role may do beyond writing its own log group. */
  readonly statements?: iam.PolicyStatement[];
  /** Wildcard resources as cdk-nag renders them (`Resource::*`), and why each is needed. */
  readonly wildcards?: Record<string, string>;
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * Reserved concurrency. Opt-in only: Lambda keeps at least 100 unreserved executions per
   * account, so an account whose concurrency quota is 10 (new accounts) rejects any reservation
   * and the whole stack fails to deploy.
   *
   * @default - no reservation
   */
  readonly reservedConcurrentExecutions?: number;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default - CloudWatch Logs' own encryption at rest */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Set when the function is invoked asynchronously: adds a dead-letter queue, two retries and a
   * failure alarm on the queue. Functions called synchronously by a state machine leave it out
   * (the state machine's Catch and its alarm see the failure).
   *
   * @default - invoked synchronously
   */
  readonly async?: AsyncInvocation;
}

/** What `createJobFunction` made. */
export interface JobFunction {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Only for asynchronous invocation. */
  readonly deadLetterQueue?: sqs.Queue;
  /** Only for asynchronous invocation. */
  readonly alarm?: cloudwatch.Alarm;
}

/** Where the bundles are: `assets/lambda/<family>/<handler>/index.js` in the package. */
export function handlerAsset(handler: string): lambda.Code {
  return lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', 'lambda', ...handler.split('/')));
}

/**
 * The one place the library constructs a Lambda function (lambda/README.md): ARM64, Node.js 24,
 * JSON logs, a log group with retention (and the given KMS key), its own role trusted only by
 * Lambda acting for this account (`aws:SourceAccount`) that holds no AWS managed policy and may
 * write only its own log group, no reserved concurrency unless asked, and for asynchronous
 * invocation a dead-letter queue with a failure alarm.
 *
 * The trust has no `aws:SourceArn`: it would have to name the function, whose name
 * CloudFormation generates after the role exists (a physical name would be needed), and Lambda
 * does not document sending the key when it assumes the execution role. Instead the role denies
 * itself every call made from any other function's code (`denyOtherFunctions`, on
 * `lambda:SourceFunctionArn`): passed into someone else's function, it can do nothing.
 */
export function createJobFunction(scope: Construct, options: JobFunctionOptions): JobFunction {
  const prefix = options.idPrefix ?? '';
  const stack = Stack.of(scope);
  // 0 would stop the function altogether; the account's own limit is checked by Lambda at deploy time
  checkInteger(scope, 'reservedConcurrentExecutions', options.reservedConcurrentExecutions, 1, 10000);

  const logGroup = new logs.LogGroup(scope, options.logGroupId ?? `${prefix}Logs`, {
    retention: options.logRetention ?? logs.RetentionDays.ONE_YEAR,
    encryptionKey: options.logEncryptionKey,
  });
  if (options.logEncryptionKey) {
    // CloudWatch Logs uses the key for log groups of this account and region only
    // (Encrypt log data in CloudWatch Logs using AWS KMS: the key policy names logs.<region>.amazonaws.com)
    options.logEncryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      },
    }));
  } else {
    acknowledge(logGroup, guard('cloudwatch_log_group_encrypted_check',
      'the log holds resource ids, counts and outcomes, no customer data; CloudWatch Logs encrypts it at rest (pass logEncryptionKey for a customer managed key)'));
  }

  const role = new iam.Role(scope, `${prefix}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
    description: `${options.description} (cdk-ebs-backup)`.slice(0, 1000),
  });
  logGroup.grantWrite(role);
  (options.statements ?? []).forEach((s) => role.addToPrincipalPolicy(s));
  const wildcards = Object.entries(options.wildcards ?? {});
  if (wildcards.length > 0) {
    acknowledge(role, ...wildcards.map(([resource, why]) => nag('IAM5', why, resource)));
  }

  let deadLetterQueue: sqs.Queue | undefined;
  if (options.async) {
    deadLetterQueue = new sqs.Queue(scope, `${prefix}DeadLetterQueue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // cdk-nag's SQS3 sees the function's DeadLetterConfig naming the queue; cfn-guard cannot
    acknowledge(deadLetterQueue, guard('sqs_dlq_check', 'this queue is the dead-letter queue of the function'));
    deadLetterQueue.grantSendMessages(role);
  }

  const fn = new lambda.Function(scope, `${prefix}Function`, {
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: handlerAsset(options.handler),
    role,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    timeout: options.timeout,
    memorySize: options.memorySize ?? 256,
    reservedConcurrentExecutions: options.reservedConcurrentExecutions,
    description: options.description.slice(0, 256),
    environment: options.environment,
    ...deadLetterQueue ? { deadLetterQueue, retryAttempts: 2 } : {},
  });
  protectAsMachinery(fn);
  // the role is this function's only: passed to another function, it can do nothing (issue 16)
  denyOtherFunctions(scope, `${prefix}OnlyThisFunction`, fn, role);
  acknowledge(fn, guard('lambda_inside_vpc_check',
    'the function calls only regional AWS APIs and reaches no private resource; a VPC would add NAT or endpoints without reducing exposure'));

  const alarm = options.async && deadLetterQueue
    ? failureAlarm(scope, `${prefix}FailureAlarm`, {
      description: options.async.alarmDescription,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      alarmAction: options.async.alarmAction,
    })
    : undefined;
  return { function: fn, role, logGroup, deadLetterQueue, alarm };
}
