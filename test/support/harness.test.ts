import { CfnResource, Fn } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  checkIamAction, checkTemplateAgainstSchema, checkTemplateIamActions, createCheckedApp, createTestStack, synthesizeChecked,
} from './index';

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
