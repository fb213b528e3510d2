/**
 * Every Lambda function the library creates comes from one builder (src/core/job-function.ts)
 * and follows lambda/README.md: ARM64, Node.js 24, JSON logs, a log group with a retention, its
 * own role without AWS managed policies trusted only by Lambda for this account, no reserved
 * concurrency unless asked for, and a dead-letter queue with an alarm where EventBridge invokes
 * it asynchronously. Asserted over every example app (what users run), not one fixture.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { listExamples, loadExample } from '../../examples/catalogue';
import { ConsistentSnapshotJob, PreChangeSnapshot, Retention, SnapshotArchiver } from '../../src';
import { evaluateAsRole } from '../runbooks/helpers';
import { createCheckedApp, createTestStack } from '../support';

interface Fn { stack: string; id: string; props: any; template: any }

/**
 * aws-cdk-lib's own AwsCustomResource provider (one per stack), which BlockPublicSharing needs
 * because CloudFormation has no resource for EC2's image block public access: it is not built by
 * the library, so it is listed apart (`providers`) and excluded here, by its fixed id.
 */
const AWS_CDK_PROVIDER = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;
const providers: string[] = [];
const teamFunctions: string[] = [];

const functions: Fn[] = [];

beforeAll(() => {
  for (const name of listExamples()) {
    const app = new App();
    loadExample(name).build(app);
    // The library's functions live inside its constructs; a function created directly in a stack
    // is the example team's own code (or aws-cdk-lib's provider), which the library does not build.
    const teams = new Set<string>();
    for (const c of app.node.findAll()) {
      if (c instanceof lambda.CfnFunction && Stack.isStack(c.node.scope?.node.scope)) {
        teams.add(`${Stack.of(c).artifactId}/${Stack.of(c).resolve(c.logicalId)}`);
      }
    }
    for (const stack of app.synth().stacksRecursively) {
      const template = stack.template;
      for (const [id, r] of Object.entries<any>(template.Resources ?? {})) {
        if (r.Type !== 'AWS::Lambda::Function') {
          continue;
        }
        if (id.startsWith(AWS_CDK_PROVIDER)) {
          providers.push(`${name}/${stack.hierarchicalId}/${id}`);
        } else if (teams.has(`${stack.id}/${id}`)) {
          teamFunctions.push(`${name}/${stack.hierarchicalId}/${id}`);
        } else {
          functions.push({ stack: `${name}/${stack.hierarchicalId}`, id, props: r.Properties, template });
        }
      }
    }
  }
}, 900_000);

function roleOf(fn: Fn): [string, any] {
  const roleId = fn.props.Role['Fn::GetAtt'][0];
  return [roleId, fn.template.Resources[roleId]];
}

test('the examples create functions (the assertions below are not vacuous); the only other is aws-cdk-lib\'s provider', () => {
  expect(functions.length).toBeGreaterThanOrEqual(5);
  // the write-once examples block public AMI sharing through the provider; nothing else may add one
  expect(providers.every((p) => /^(baseline-tiers|worm-guard)\//.test(p))).toBe(true);
  // the consistent snapshot job example's own pre/post steps
  expect(teamFunctions.map((f) => f.replace(/[0-9A-F]{8}$/, ''))).toEqual(['consistent-snapshot-job/OrdersBackup/PauseIntake', 'consistent-snapshot-job/OrdersBackup/ResumeIntake']);
});

test('every function runs on ARM64 and Node.js 24 with JSON logs into its own log group with a retention', () => {
  for (const fn of functions) {
    const where = `${fn.stack}/${fn.id}`;
    expect([where, fn.props.Architectures]).toEqual([where, ['arm64']]);
    expect([where, fn.props.Runtime]).toEqual([where, 'nodejs24.x']);
    expect([where, fn.props.LoggingConfig?.LogFormat]).toEqual([where, 'JSON']);
    const groupId = fn.props.LoggingConfig.LogGroup.Ref;
    expect([where, fn.template.Resources[groupId].Properties.RetentionInDays]).toEqual([where, expect.any(Number)]);
  }
});

test('no function role holds an AWS managed policy; each is trusted by Lambda for this account only', () => {
  for (const fn of functions) {
    const [roleId, role] = roleOf(fn);
    const where = `${fn.stack}/${roleId}`;
    expect([where, role.Properties.ManagedPolicyArns]).toEqual([where, undefined]);
    const trust = role.Properties.AssumeRolePolicyDocument.Statement;
    expect([where, trust]).toEqual([where, [expect.objectContaining({
      Principal: { Service: 'lambda.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': expect.anything() } },
    })]]);
  }
});

test('no function reserves concurrency by default (accounts with a quota of 10 reject any reservation)', () => {
  for (const fn of functions) {
    expect([`${fn.stack}/${fn.id}`, fn.props.ReservedConcurrentExecutions]).toEqual([`${fn.stack}/${fn.id}`, undefined]);
  }
});

test('every function EventBridge invokes (asynchronously) has a dead-letter queue', () => {
  let asyncCount = 0;
  for (const fn of functions) {
    const invokedByEvents = Object.values<any>(fn.template.Resources).some((r) => r.Type === 'AWS::Lambda::Permission'
      && r.Properties.Principal === 'events.amazonaws.com' && JSON.stringify(r.Properties.FunctionName).includes(`"${fn.id}"`));
    if (invokedByEvents) {
      asyncCount++;
      expect([`${fn.stack}/${fn.id}`, fn.props.DeadLetterConfig?.TargetArn]).toEqual([`${fn.stack}/${fn.id}`, expect.anything()]);
    }
  }
  expect(asyncCount).toBeGreaterThan(0);
});

/**
 * The reference is AWS's AWSLambdaBasicExecutionRole (logs:CreateLogGroup, logs:CreateLogStream,
 * logs:PutLogEvents on `*`; AWS Managed Policy Reference). The builder's role keeps the two
 * actions a function needs on its own log group (which the stack creates, so CreateLogGroup is
 * deliberately left out), and nothing on any other log group.
 */
test('each role may write its own log group only (evaluated with iam-simulate)', async () => {
  for (const fn of functions) {
    const [roleId] = roleOf(fn);
    const groupId = fn.props.LoggingConfig.LogGroup.Ref;
    // the log group's Arn as CloudFormation returns it (ends in :*); a log stream is below it
    const groupArn = `arn:aws:logs:us-east-1:123456789012:log-group:${groupId}`;
    const template = JSON.parse(JSON.stringify(fn.template).split(JSON.stringify({ 'Fn::GetAtt': [groupId, 'Arn'] })).join(JSON.stringify(`${groupArn}:*`)));
    const own = `${groupArn}:log-stream:2026/11/30/[$LATEST]abc`;
    const other = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/someone-else:log-stream:x';
    const where = `${fn.stack}/${roleId}`;
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
      expect([where, action, await evaluateAsRole(template, roleId, { action, resource: own })]).toEqual([where, action, 'Allowed']);
      expect([where, action, await evaluateAsRole(template, roleId, { action, resource: other })]).toEqual([where, action, 'ImplicitlyDenied']);
    }
    expect([where, await evaluateAsRole(template, roleId, { action: 'logs:CreateLogGroup', resource: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x' })]).toEqual([where, 'ImplicitlyDenied']);
  }
}, 300_000);

test('Lambda functions are constructed in one file of src/', () => {
  const files: string[] = [];
  const walk = (dir: string) => fs.readdirSync(dir, { withFileTypes: true }).forEach((d) =>
    d.isDirectory() ? walk(path.join(dir, d.name)) : d.name.endsWith('.ts') && files.push(path.join(dir, d.name)));
  walk(path.join(__dirname, '..', '..', 'src'));
  // a construct's first argument is its scope, never a string (`new Function("return this")` is
  // the JavaScript global-object idiom, e.g. in Stryker's instrumented copies of src/)
  const constructing = files.filter((f) => /new lambda\.(Function|SingletonFunction)\(|new (NodejsFunction|Function)\((?!["'])/.test(fs.readFileSync(f, 'utf8')));
  expect(constructing.map((f) => path.relative(path.join(__dirname, '..', '..'), f))).toEqual([path.join('src', 'core', 'job-function.ts')]);
});

describe('reserved concurrency is opt-in', () => {
  const instances = { tags: { Database: 'orders' } };

  test('ConsistentSnapshotJob reserves for both functions only when asked', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    new ConsistentSnapshotJob(stack, 'Job', {
      purpose: 'orders-db', instances, retain: Retention.count(7), reservedConcurrentExecutions: 1,
    });
    const fns = Object.values<any>(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    expect(fns.map((f) => f.Properties.ReservedConcurrentExecutions)).toEqual([1, 1]);
  });

  test('PreChangeSnapshot and SnapshotArchiver reserve only when asked', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    new PreChangeSnapshot(stack, 'PreChange', { expiryReservedConcurrentExecutions: 2 });
    new SnapshotArchiver(stack, 'Archiver', { reservedConcurrentExecutions: 3 });
    const fns = Object.values<any>(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    expect(fns.map((f) => f.Properties.ReservedConcurrentExecutions).sort()).toEqual([2, 3]);
  });

  test('a reservation of 0 (which would stop the function) is a synth-time error naming the construct and the prop', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    expect(() => new SnapshotArchiver(stack, 'Archiver', { reservedConcurrentExecutions: 0 }))
      .toThrow('TestStack/Archiver: reservedConcurrentExecutions must be an integer between 1 and 10000, got 0');
  });
});
