import { Annotations, CfnResource, Fn } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  checkConditionKey, checkConditionOperator, checkIamAction, checkTemplateAgainstSchema, checkTemplateIamActions,
  createCheckedApp, createTestStack, synthesizeChecked,
} from './index';
import { runJsonata } from './jsonata';

describe('schema gate', () => {
  test.each([
    ['an unknown property', { PolicyType: 'EBS_SNAPSHOT_MANAGEMENT', Bogus: 1 }, 'Bogus is not a property of LifecyclePolicy'],
    ['a wrong type', { Description: { nested: true } }, 'Description must be a string'],
    ['a wrong nested type', { PolicyDetails: { Schedules: 'nightly' } }, 'PolicyDetails.Schedules must be a list'],
  ])('rejects %s with the resource and property named', (_name, properties, fragment) => {
    // GIVEN a raw L1 resource with a bad property
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new CfnResource(stack, 'Broken', { type: 'AWS::DLM::LifecyclePolicy', properties });

    // THEN synthesis fails and names the resource, the type and the property
    expect(() => synthesizeChecked(app)).toThrow(/Broken[0-9A-F]* \(AWS::DLM::LifecyclePolicy at TestStack\/Broken\)/);
    expect(() => synthesizeChecked(app)).toThrow(fragment);
  });

  test('rejects a value outside the allowed set with the resource and property named', () => {
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new CfnResource(stack, 'Bin', { type: 'AWS::Rbin::Rule', properties: { ResourceType: 'EBS_SNAPSHOTS', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' } } });
    expect(() => synthesizeChecked(app)).toThrow(
      'schema: Bin (AWS::Rbin::Rule at TestStack/Bin): ResourceType must be one of EBS_SNAPSHOT, EC2_IMAGE, EBS_VOLUME, got "EBS_SNAPSHOTS"',
    );
  });

  test('rejects a missing required property', () => {
    const findings = checkTemplateAgainstSchema({ Resources: { Rule: { Type: 'AWS::Rbin::Rule', Properties: { ResourceType: 'EBS_SNAPSHOT' } } } });
    expect(findings).toEqual([expect.objectContaining({ logicalId: 'Rule', property: 'RetentionPeriod', message: 'is required but missing' })]);
  });

  test('rejects an unknown resource type', () => {
    const findings = checkTemplateAgainstSchema({ Resources: { X: { Type: 'AWS::EC2::SnapshotLock', Properties: {} } } });
    expect(findings[0].message).toMatch(/is not a CloudFormation resource type/);
  });

  test('accepts intrinsics wherever a value is expected', () => {
    const findings = checkTemplateAgainstSchema({
      Resources: {
        P: {
          Type: 'AWS::DLM::LifecyclePolicy',
          Properties: { State: { Ref: 'StateParam' }, PolicyDetails: { Schedules: { 'Fn::If': ['C', [], []] } } },
        },
      },
    });
    expect(findings).toEqual([]);
  });

  test('passes a well-formed L1 resource', () => {
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new dlm.CfnLifecyclePolicy(stack, 'Ok', {
      description: 'ok',
      state: 'ENABLED',
      executionRoleArn: Fn.importValue('RoleArn'),
      policyDetails: { policyType: 'EBS_SNAPSHOT_MANAGEMENT', resourceTypes: ['VOLUME'], targetTags: [{ key: 'a', value: 'b' }] },
    });
    expect(() => synthesizeChecked(app)).not.toThrow();
  });
});

describe('IAM action gate', () => {
  test.each([
    ['ec2:CreateSnapshots', undefined],
    ['ec2:Describe*', undefined],
    ['dlm:GetLifecyclePolicy', undefined],
    ['ec2:CreateSnapshotz', "'ec2:CreateSnapshotz' is not an action of ec2"],
    ['ec3:CreateSnapshot', "'ec3:CreateSnapshot' names an unknown service 'ec3'"],
    ['ec2:Frobnicate*', "'ec2:Frobnicate*' matches no ec2 action"],
    ['CreateSnapshot', "'CreateSnapshot' is not of the form service:Action"],
  ])('%s', (action, expected) => {
    expect(checkIamAction(action)).toEqual(expected);
  });

  test('a typo in a policy fails synthesis naming the resource and the action', () => {
    // GIVEN
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new iam.ManagedPolicy(stack, 'Typo', {
      statements: [new iam.PolicyStatement({ actions: ['ec2:DeleteSnapshot', 'ec2:DeleteSnapshots'], resources: ['*'] })],
    });
    // THEN
    expect(() => synthesizeChecked(app)).toThrow(/iam: Typo[0-9A-F]+ Properties.PolicyDocument.Statement\[0\].Action: 'ec2:DeleteSnapshots' is not an action of ec2/);
  });

  test('finds actions in JSON string policies too', () => {
    const findings = checkTemplateIamActions({
      Resources: { P: { Type: 'AWS::Organizations::Policy', Properties: { Content: JSON.stringify({ Statement: [{ Effect: 'Deny', Action: 'ec2:Nope' }] }) } } },
    });
    expect(findings.map((f) => f.message)).toEqual(["'ec2:Nope' is not an action of ec2"]);
  });
});

describe('IAM condition gate', () => {
  test.each([
    // global keys, against the documented global list (tag keys are any text after the slash)
    ['aws:ResourceTag/backup:purpose', undefined],
    ['aws:PrincipalArn', undefined],
    ['aws:RequestTag/backup:purpose', undefined],
    ['aws:ResourceTags/backup:purpose', "'aws:ResourceTags/backup:purpose' is not a global condition key"],
    ['aws:PrincipalArns', "'aws:PrincipalArns' is not a global condition key"],
    ['aws:ResourceTag/', "'aws:ResourceTag/' is not a global condition key"],
    // service keys, against that service's keys in the Service Authorization Reference
    ['ec2:ResourceTag/x', undefined],
    ['ec2:CreateAction', undefined],
    ['backup:CopyTargets', undefined],
    ['ec2:CreateActions', "'ec2:CreateActions' is not a condition key of ec2"],
    ['backup:CopyTarget', "'backup:CopyTarget' is not a condition key of backup"],
    ['dlm:CopyTargets', "'dlm:CopyTargets' is not a condition key of dlm"],
    ['ec3:CreateAction', "condition key 'ec3:CreateAction' names an unknown service 'ec3'"],
  ])('%s', (conditionKey, expected) => {
    expect(checkConditionKey(conditionKey)).toEqual(expected);
  });

  test.each([
    ['StringEquals', undefined],
    ['ForAnyValue:StringLikeIfExists', undefined],
    ['Null', undefined],
    ['StringEqual', "'StringEqual' is not a condition operator"],
    ['ForSomeValues:StringEquals', "'ForSomeValues:StringEquals' is not a condition operator"],
  ])('operator %s', (operator, expected) => {
    expect(checkConditionOperator(operator)).toEqual(expected);
  });

  test('a mistyped tag condition in a deny fails synthesis naming the resource, the operator and the key', () => {
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new iam.ManagedPolicy(stack, 'Typo', {
      statements: [new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['ec2:DeleteSnapshot'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:ResouceTag/backup:purpose': 'nightly' } },
      })],
    });
    expect(() => synthesizeChecked(app)).toThrow(
      /iam: Typo[0-9A-F]+ Properties.PolicyDocument.Statement\[0\].Condition.StringEquals: 'aws:ResouceTag\/backup:purpose' is not a global condition key/,
    );
  });

  test('finds condition keys in JSON string policies (SCPs) too', () => {
    const findings = checkTemplateIamActions({
      Resources: {
        P: {
          Type: 'AWS::Organizations::Policy',
          Properties: { Content: JSON.stringify({ Statement: [{ Effect: 'Deny', Action: 'ec2:DeleteSnapshot', Resource: '*', Condition: { StringNotEquals: { 'ec2:ResourceTagg/x': 'y' } } }] }) },
        },
      },
    });
    expect(findings.map((f) => f.message)).toEqual(["'ec2:ResourceTagg/x' is not a condition key of ec2"]);
  });
});

describe('rule gates', () => {
  test('an unacknowledged cdk-nag finding fails synthesis', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    new iam.ManagedPolicy(stack, 'Wide', {
      statements: [new iam.PolicyStatement({ actions: ['ec2:*'], resources: ['*'] })],
    });
    expect(() => synthesizeChecked(app)).toThrow(/AwsSolutions-IAM5/);
  });
});

describe('error annotation gate', () => {
  test('an error annotation fails synthesis with its text, wherever the assembly keeps stack metadata', () => {
    // GIVEN a well-formed resource and an error annotation on its stack
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new CfnResource(stack, 'Topic', { type: 'AWS::SNS::Topic' });
    Annotations.of(stack).addError('the planted error');

    // THEN synthesis fails naming it (the app's annotation check, and the stack messages read after synthesis)
    expect(() => synthesizeChecked(app)).toThrow(/the planted error/);
  });
});

// "State machine structure in Amazon States Language": an execution running longer than the
// definition's TimeoutSeconds fails with States.Timeout; the execution itself ends, so no
// state's Catch (not even States.ALL) handles it.
describe('the local JSONata runner honours the execution timeout', () => {
  const machine = (timeoutSeconds?: number) => ({
    QueryLanguage: 'JSONata',
    ...timeoutSeconds === undefined ? {} : { TimeoutSeconds: timeoutSeconds },
    StartAt: 'Slow',
    States: {
      Slow: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:ec2:describeSnapshots', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }], Next: 'Done' },
      Caught: { Type: 'Pass', Output: 'caught', End: true },
      Done: { Type: 'Pass', Output: 'done', End: true },
    },
  });
  const runFor = (ms: number, timeoutSeconds?: number) => {
    let clock = 0;
    return runJsonata(machine(timeoutSeconds), { handlers: { Slow: () => { clock += ms; return {}; } }, clock: () => clock });
  };

  test('a run past TimeoutSeconds times out, whatever Catch the state has', async () => {
    const run = await runFor(61_000, 60);
    expect(run.error).toEqual({ error: 'States.Timeout', cause: expect.stringContaining('TimeoutSeconds (60)') });
    expect(run.output).toBeUndefined();
  });

  test('a run within it, or a machine without one, completes', async () => {
    expect((await runFor(60_000, 60)).output).toBe('done');
    expect((await runFor(365 * 86_400_000)).output).toBe('done');
  });
});
