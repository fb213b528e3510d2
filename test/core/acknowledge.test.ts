import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledge, ANY_RESOURCE_FINDING, environmentForms, nag, nagRendering, wildcardArn, wildcardFindings } from '../../src/core/acknowledge';
import { createCheckedApp, synthesizeChecked } from '../support';

describe('cdk-nag finding ids', () => {
  test('granular ids name the finding as cdk-nag prints it', () => {
    expect(nag('IAM5', 'r', 'Resource::*').id).toEqual('AwsSolutions-IAM5[Resource::*]');
    expect(nag('L1', 'r').id).toEqual('AwsSolutions-L1');
  });

  test.each<[string, unknown, string]>([
    ['a literal', 'arn:aws:ec2:*:*:snapshot/*', 'arn:aws:ec2:*:*:snapshot/*'],
    ['a Ref', { Ref: 'AWS::Partition' }, '<AWS::Partition>'],
    ['a GetAtt', { 'Fn::GetAtt': ['Key1234', 'Arn'] }, '<Key1234.Arn>'],
    ['a Join', { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, '::snapshot/*']] },
      'arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*'],
  ])('renders %s', (_n, value, expected) => {
    expect(nagRendering(value)).toEqual(expected);
  });
});

describe('acknowledgements match both environment forms', () => {
  // cdk-nag prints a wildcard ARN as the template spells it: `<AWS::Region>` where the stack is
  // environment-agnostic, the literal region where the stack has an `env` (Stack.formatArn).
  test.each([
    ['environment-agnostic', undefined],
    ['environment-specific', { account: '210987654321', region: 'eu-central-1' }],
  ])('an IAM5 acknowledgement keyed to the agnostic form holds in an %s stack', (_form, env) => {
    // GIVEN
    const app = createCheckedApp();
    const stack = new Stack(app, 'S', { env });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ec2:DeleteSnapshot'],
      resources: [stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' })],
    }));
    // WHEN
    acknowledge(role, nag('IAM5', 'tag-scoped deletion', 'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*'));
    // THEN
    expect(() => synthesizeChecked(app)).not.toThrow();
  });

  test('the concrete form is derived from the stack, never invented for an agnostic one', () => {
    const app = createCheckedApp({ rules: false });
    const agnostic = new Stack(app, 'A');
    const specific = new Stack(app, 'B', { env: { account: '210987654321', region: 'eu-central-1' } });
    const id = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*]';
    expect(environmentForms(agnostic, id)).toEqual([id]);
    expect(environmentForms(specific, id)).toEqual([id, 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:eu-central-1:210987654321:volume/*]']);
  });
});

describe('wildcardFindings', () => {
  test('names every wildcard resource and action of Allow statements as cdk-nag does, never a Deny', () => {
    // GIVEN
    const stack = new Stack(createCheckedApp({ rules: false }), 'S');
    const statements = [
      new iam.PolicyStatement({ actions: ['ec2:Describe*'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['ec2:DeleteSnapshot'], resources: [wildcardArn('ec2', 'snapshot/*', false).arn] }),
      new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['ec2:*'], resources: ['arn:aws:ec2:*:*:volume/*'] }),
    ];
    // WHEN / THEN
    expect(wildcardFindings(stack, statements).sort()).toEqual([
      'AwsSolutions-IAM5[Action::ec2:Describe*]',
      ANY_RESOURCE_FINDING,
      wildcardArn('ec2', 'snapshot/*', false).nagId,
    ].sort());
  });
});
