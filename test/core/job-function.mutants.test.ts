/**
 * The job-function builder on one small stack (module `core-job-function`; test/core/job-function.test.ts
 * asserts the same rules over every example app, which costs a minute a run). The role, the
 * trust, the key policy and the dead-letter queue are evaluated with the IAM policy evaluator:
 * - Lambda assumes the execution role with `aws:SourceAccount` (Lambda Developer Guide,
 *   "Defining Lambda function permissions with an execution role").
 * - AWSLambdaBasicExecutionRole is the reference for the log permissions (CreateLogStream,
 *   PutLogEvents; the stack creates the group, so no CreateLogGroup).
 * - CloudWatch Logs uses a customer managed key as `logs.<region>.amazonaws.com` with the
 *   encryption context `kms:EncryptionContext:aws:logs:arn` = the log group's ARN (CloudWatch Logs
 *   User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS").
 * - An asynchronously invoked function retries twice and then sends the event to its dead-letter
 *   queue (Lambda Developer Guide, "Asynchronous invocation"); the role must be allowed to send.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagRuleCompliance, rules } from 'cdk-nag';
import { Construct } from 'constructs';
import { createJobFunction, handlerAsset, JobFunctionOptions } from '../../src/core/job-function';
import { evaluate } from '../support/iam-evaluation';
import { renderIntrinsics, TEST_ACCOUNT, TEST_REGION } from '../support/intrinsics';

const OTHER_ACCOUNT = '999988887777';

function build(given: Partial<JobFunctionOptions> | ((stack: Stack) => Partial<JobFunctionOptions>) = {}) {
  const app = new App();
  const stack = new Stack(app, 'Jobs', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  const scope = new Construct(stack, 'Archiver');
  const options = typeof given === 'function' ? given(stack) : given;
  const made = createJobFunction(scope, {
    handler: 'worm/archive', description: 'Archives snapshots', timeout: Duration.minutes(5), ...options,
  });
  const template = Template.fromStack(stack).toJSON();
  const id = (c: Construct) => stack.resolve((c.node.defaultChild as any).logicalId) as string;
  const props = (c: Construct) => template.Resources[id(c)].Properties;
  /** The template with every `GetAtt Arn` of the log group and queue rendered as CloudFormation returns them. */
  const render = (value: unknown) => renderIntrinsics(value, {
    template,
    arns: {
      [id(made.logGroup)]: `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:${id(made.logGroup)}:*`,
      ...made.deadLetterQueue ? { [id(made.deadLetterQueue)]: `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:${id(made.deadLetterQueue)}` } : {},
    },
  });
  const roleId = id(made.role);
  const policies = Object.values<any>(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((x: any) => x.Ref === roleId))
    .map((r) => render(r.Properties.PolicyDocument));
  const asRole = (action: string, resource: string, context: Record<string, string> = {}) => evaluate({
    principal: `arn:aws:iam::${TEST_ACCOUNT}:role/${roleId}`, action, resource, context,
  }, { identity: policies });
  return { stack, template, made, id, props, render, asRole };
}

describe('the function', () => {
  test('ARM64, Node.js 24, JSON logs into its own group, 256 MB, its timeout, environment and description; no reservation', () => {
    const { made, props, id } = build({ environment: { TABLE: 't' } });
    expect(props(made.function)).toMatchObject({
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: id(made.logGroup) } },
      MemorySize: 256,
      Timeout: 300,
      Environment: { Variables: { TABLE: 't' } },
      Description: 'Archives snapshots',
      Role: { 'Fn::GetAtt': [id(made.role), 'Arn'] },
    });
    expect(props(made.function).ReservedConcurrentExecutions).toBeUndefined();
    expect(props(made.function).DeadLetterConfig).toBeUndefined();
    expect([made.deadLetterQueue, made.alarm]).toEqual([undefined, undefined]);
    expect(props(made.logGroup).RetentionInDays).toBe(365);
    expect(props(made.logGroup).KmsKeyId).toBeUndefined();
    // tagged as the library's machinery, which the write-once guard protects
    expect(props(made.function).Tags).toEqual([{ Key: 'backup:managed-by', Value: 'cdk-ebs-backup' }]);
    // without a prefix, the ids are the bare names (existing stacks keep their resources)
    expect([id(made.function), id(made.role), id(made.logGroup)].map((x) => x.replace(/[0-9A-F]{8}$/, '')))
      .toEqual(['ArchiverFunction', 'ArchiverRole', 'ArchiverLogs']);
    // outside a VPC on purpose: acknowledged for cfn-guard with the reason
    expect(made.function.node.metadata.filter((m) => m.type === 'cdk-ebs-backup:acknowledged').map((m) => Object.keys(m.data)))
      .toEqual([['lambda_inside_vpc_check']]);
  });

  test('its code is the handler\'s bundle as the package ships it (assets/lambda/<family>/<handler>/index.js)', () => {
    const code = handlerAsset('worm/archive') as lambda.AssetCode;
    expect(code.path).toBe(path.join(__dirname, '..', '..', 'assets', 'lambda', 'worm', 'archive'));
    expect(fs.existsSync(path.join(code.path, 'index.js'))).toBe(true);
  });

  test('the options: memory, reservation, retention, ids; descriptions cut to Lambda\'s 256 and IAM\'s 1000 characters', () => {
    const long = 'd'.repeat(1200);
    const { made, props, id } = build({
      memorySize: 1024,
      reservedConcurrentExecutions: 2,
      logRetention: logs.RetentionDays.ONE_MONTH,
      idPrefix: 'Expiry',
      logGroupId: 'OldLogs',
      description: long,
    });
    expect([props(made.function).MemorySize, props(made.function).ReservedConcurrentExecutions, props(made.logGroup).RetentionInDays])
      .toEqual([1024, 2, 30]);
    expect([id(made.function), id(made.role), id(made.logGroup)].map((x) => x.replace(/[0-9A-F]{8}$/, '')))
      .toEqual(['ArchiverExpiryFunction', 'ArchiverExpiryRole', 'ArchiverOldLogs']);
    expect(props(made.function).Description).toBe('d'.repeat(256));
    expect(props(made.role).Description).toBe('d'.repeat(1000));
    expect(build({ description: 'Locks' }).props(build({ description: 'Locks' }).made.role).Description).toBe('Locks (cdk-ebs-backup)');
    expect(build({ idPrefix: 'X' }).id(build({ idPrefix: 'X' }).made.logGroup)).toMatch(/^ArchiverXLogs[0-9A-F]{8}$/);
  });

  test('a reservation Lambda would refuse or that stops the function is a synth-time error naming the prop', () => {
    expect(() => build({ reservedConcurrentExecutions: 0 })).toThrow('Jobs/Archiver: reservedConcurrentExecutions must be an integer between 1 and 10000, got 0');
    expect(() => build({ reservedConcurrentExecutions: 10001 })).toThrow('reservedConcurrentExecutions must be an integer between 1 and 10000, got 10001');
    expect(() => build({ reservedConcurrentExecutions: 10000 })).not.toThrow();
  });
});

describe('the role', () => {
  test('assumable by Lambda for this account only', async () => {
    const { made, props, render } = build();
    const trust = render(props(made.role).AssumeRolePolicyDocument);
    const assume = (principal: string, account?: string) => evaluate({
      principal,
      action: 'sts:AssumeRole',
      resource: `arn:aws:iam::${TEST_ACCOUNT}:role/JobRole`,
      context: account ? { 'aws:SourceAccount': account } : {},
    }, { resourcePolicy: trust });
    expect(await Promise.all([
      assume('lambda.amazonaws.com', TEST_ACCOUNT),
      assume('lambda.amazonaws.com', OTHER_ACCOUNT),
      assume('lambda.amazonaws.com'),
      assume('states.amazonaws.com', TEST_ACCOUNT),
    ])).toEqual(['Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied']);
    expect(props(made.role).ManagedPolicyArns).toBeUndefined();
  });

  test('writes its own log group only; its statements granted; other functions\' code denied everything', async () => {
    const { made, asRole, id } = build({
      statements: [new iam.PolicyStatement({ actions: ['ec2:DescribeSnapshots'], resources: ['*'] })],
      wildcards: { 'Resource::*': 'DescribeSnapshots takes no resource' },
    });
    const own = `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:${id(made.logGroup)}:log-stream:2026/11/30/[$LATEST]abc`;
    const other = `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:/aws/lambda/someone-else:log-stream:x`;
    const fnArn = `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:${id(made.function)}`;
    expect(await Promise.all([
      asRole('logs:CreateLogStream', own),
      asRole('logs:PutLogEvents', own),
      asRole('ec2:DescribeSnapshots', '*'),
      asRole('logs:PutLogEvents', other),
      asRole('logs:CreateLogGroup', `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:/aws/lambda/x`),
      asRole('ec2:DeleteSnapshot', `arn:aws:ec2:${TEST_REGION}::snapshot/snap-1`),
    ])).toEqual(['Allowed', 'Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied']);
    // its statements hold only from its own function's code (denyOtherFunctions, on lambda:SourceFunctionArn)
    expect([
      await asRole('ec2:DescribeSnapshots', '*', { 'lambda:SourceFunctionArn': fnArn }),
      await asRole('ec2:DescribeSnapshots', '*', { 'lambda:SourceFunctionArn': `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:Mine` }),
    ]).toEqual(['Allowed', 'ExplicitlyDenied']);
    const acks = made.role.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules' || /acknowledged/.test(m.type)).map((m) => m.data);
    expect(acks).toContainEqual({ 'Annotation::AwsSolutions-IAM5[Resource::*]': 'DescribeSnapshots takes no resource' });
  });

  test('no wildcard given: nothing acknowledged on the role', () => {
    const { made } = build();
    expect(made.role.node.metadata.filter((m) => /acknowledged/.test(m.type))).toEqual([]);
  });
});

describe('the log group\'s key', () => {
  test('without a key: CloudWatch Logs\' own encryption, acknowledged for cfn-guard', () => {
    const { made } = build();
    expect(made.logGroup.node.metadata.filter((m) => m.type === 'cdk-ebs-backup:acknowledged').map((m) => Object.keys(m.data)))
      .toEqual([['cloudwatch_log_group_encrypted_check']]);
  });

  test('with a key: CloudWatch Logs of this region may use it for this account\'s log groups only', async () => {
    let key: kms.Key | undefined;
    const { made, props, id, stack } = build((s) => ({ logEncryptionKey: key = new kms.Key(s, 'LogKey') }));
    expect(props(made.logGroup).KmsKeyId).toBeDefined();
    expect(made.logGroup.node.metadata.filter((m) => m.type === 'cdk-ebs-backup:acknowledged')).toEqual([]);
    const keyPolicy = renderIntrinsics(stack.resolve((key as any).policy.toJSON()));
    const own = `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:${id(made.logGroup)}`;
    // iam-simulate ignores `kms:EncryptionContext:<key>` keys whose key holds a colon (its
    // `ignoredContextKeys` lists `kms:EncryptionContext:aws:logs:arn`), so the condition is read here
    // and matched as ArnLike does (IAM User Guide, "ARN condition operators"); the evaluator decides
    // the principal and the actions with the condition taken out
    const statement = keyPolicy.Statement.find((st: any) => JSON.stringify(st.Principal).includes('logs.'));
    const pattern: string = statement.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn'];
    const arnLike = (arn: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.?+^$()[\]{}|\\]/g, '\\$&')).join('.*')}$`).test(arn);
    expect([
      arnLike(own),
      arnLike(`arn:aws:logs:${TEST_REGION}:${OTHER_ACCOUNT}:log-group:theirs`),
      arnLike(`arn:aws:logs:eu-west-1:${TEST_ACCOUNT}:log-group:x`),
    ]).toEqual([true, false, false]);
    expect(Object.keys(statement.Condition)).toEqual(['ArnLike']);
    // in a key policy, "Resource": "*" is the key itself (KMS Developer Guide, "Key policies in AWS KMS")
    expect(statement.Resource).toBe('*');
    const withoutCondition = {
      ...keyPolicy,
      Statement: keyPolicy.Statement.map((st: any) => st === statement ? { ...st, Condition: undefined } : st),
    };
    const use = (principal: string, action = 'kms:GenerateDataKey') => evaluate({
      principal, action, resource: `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    }, { resourcePolicy: withoutCondition });
    expect(await Promise.all([
      use(`logs.${TEST_REGION}.amazonaws.com`),
      use(`logs.${TEST_REGION}.amazonaws.com`, 'kms:Decrypt'),
      use(`logs.${TEST_REGION}.amazonaws.com`, 'kms:Encrypt'),
      use(`logs.${TEST_REGION}.amazonaws.com`, 'kms:ReEncryptFrom'),
      use(`logs.${TEST_REGION}.amazonaws.com`, 'kms:DescribeKey'),
      use('logs.eu-west-1.amazonaws.com'),
      use(`logs.${TEST_REGION}.amazonaws.com`, 'kms:ScheduleKeyDeletion'),
    ])).toEqual(['Allowed', 'Allowed', 'Allowed', 'Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied']);
  });
});

describe('asynchronous invocation', () => {
  test('two retries, then a dead-letter queue (encrypted, TLS only, 14 days) the role may send to, and an alarm on it', async () => {
    const { made, props, id, template, asRole } = build({ async: { alarmDescription: 'archive events failed', alarmAction: { bind: () => ({ alarmActionArn: 'arn:aws:sns:us-east-1:123456789012:pager' }) } } });
    const queue = made.deadLetterQueue!;
    expect(props(made.function).DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [id(queue), 'Arn'] } });
    const invokeConfig = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
    expect(invokeConfig.Properties.MaximumRetryAttempts).toBe(2);
    expect(props(queue)).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    const queueArn = `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:${id(queue)}`;
    expect(await asRole('sqs:SendMessage', queueArn)).toBe('Allowed');
    expect(await asRole('sqs:SendMessage', `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:other`)).toBe('ImplicitlyDenied');
    // the queue refuses requests without TLS (SQS Developer Guide, "Amazon SQS security best practices")
    const queuePolicy = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::SQS::QueuePolicy');
    const insecure = await evaluate({
      principal: `arn:aws:iam::${TEST_ACCOUNT}:role/Anyone`, action: 'sqs:SendMessage', resource: queueArn, context: { 'aws:SecureTransport': 'false' },
    }, { identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }], resourcePolicy: renderIntrinsics(queuePolicy.Properties.PolicyDocument, { template, arns: { [id(queue)]: queueArn } }) });
    expect(insecure).toBe('ExplicitlyDenied');
    const alarm = props(made.alarm!);
    expect(alarm).toMatchObject({
      AlarmDescription: 'archive events failed',
      AlarmActions: ['arn:aws:sns:us-east-1:123456789012:pager'],
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(queue), 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(made.alarm).toBeInstanceOf(cloudwatch.Alarm);
    // the queue is the function's dead-letter queue: cdk-nag's own SQS3 rule sees that in the
    // function's DeadLetterConfig, cfn-guard's sqs_dlq_check does not and is acknowledged
    expect(rules.sqs.SQSQueueDLQ(queue.node.defaultChild as sqs.CfnQueue)).toBe(NagRuleCompliance.COMPLIANT);
    expect(queue.node.metadata.filter((m) => /acknowledged/.test(m.type)).map((m) => m.data))
      .toEqual([{ sqs_dlq_check: 'this queue is the dead-letter queue of the function' }]);
  });
});
