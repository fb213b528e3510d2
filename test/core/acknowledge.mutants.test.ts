/**
 * Acknowledgements value by value (module `core-acknowledge`), without synthesis: what
 * `acknowledge` records on the construct, in the form the validation plugins read it.
 * aws-cdk-lib's `Validations.acknowledge(id)` writes `Annotation::<id>: <reason>` under
 * `Validations.ACKNOWLEDGED_RULES_METADATA_KEY` on the construct, and cdk-nag 3 matches a finding
 * with that metadata on the resource and its ancestors (test/core/acknowledge.test.ts and
 * test/support/acknowledge.test.ts prove the match through cdk-nag and cfn-guard themselves).
 */
import { App, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import {
  acknowledge, acknowledgeFindings, acknowledgeWildcards, addAcknowledgedStatement, ANY_RESOURCE_FINDING, attributeWildcardFinding,
  environmentForms, GUARD_ACKNOWLEDGED_METADATA_KEY, guard, nag, nagRendering, wildcardArn, wildcardFindings,
} from '../../src/core/acknowledge';

const metadata = (c: IConstruct, key: string) => c.node.metadata.filter((m) => m.type === key).map((m) => m.data);
const nagAcks = (c: IConstruct) => metadata(c, Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
const guardAcks = (c: IConstruct) => metadata(c, GUARD_ACKNOWLEDGED_METADATA_KEY);

let agnostic: Stack;
let specific: Stack;
beforeEach(() => {
  const app = new App();
  agnostic = new Stack(app, 'A');
  specific = new Stack(app, 'B', { env: { account: '210987654321', region: 'eu-central-1' } });
});

describe('acknowledge: on the construct only, in the plugins\' forms', () => {
  test('cdk-nag ids as Annotation::<id>, cfn-guard rules under the library\'s key, one entry each, reasons kept', () => {
    const c = new Construct(agnostic, 'Job');
    acknowledge(c, nag('IAM5', 'scoped by tag', 'Resource::*'), guard('sns_topic_encrypted_check', 'no data'), nag('L1', 'pinned runtime'),
      { id: 'AwsSolutions::AwsSolutions-SF1', reason: 'errors logged' });
    expect(nagAcks(c)).toEqual([{
      'Annotation::AwsSolutions-IAM5[Resource::*]': 'scoped by tag',
      'Annotation::AwsSolutions-L1': 'pinned runtime',
      'Annotation::AwsSolutions-SF1': 'errors logged',
    }]);
    expect(guardAcks(c)).toEqual([{ sns_topic_encrypted_check: 'no data' }]);
    expect([nagAcks(agnostic), guardAcks(agnostic)]).toEqual([[], []]);
  });

  test('nothing recorded for no findings; only the kind given', () => {
    const none = new Construct(agnostic, 'None');
    acknowledge(none);
    const onlyGuard = new Construct(agnostic, 'Guard');
    acknowledge(onlyGuard, guard('x_check', 'r'));
    const onlyNag = new Construct(agnostic, 'Nag');
    acknowledge(onlyNag, nag('L1', 'r'));
    expect([none.node.metadata.length, nagAcks(onlyGuard), guardAcks(onlyNag), guardAcks(onlyGuard), nagAcks(onlyNag)])
      .toEqual([0, [], [], [{ x_check: 'r' }], [{ 'Annotation::AwsSolutions-L1': 'r' }]]);
  });

  test('a granular id with pseudo parameters in both forms in an environment-specific stack', () => {
    const c = new Construct(specific, 'Job');
    acknowledge(c, nag('IAM5', 'r', 'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*'));
    expect(nagAcks(c)).toEqual([{
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]': 'r',
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:eu-central-1::snapshot/*]': 'r',
    }]);
  });
});

describe('acknowledge: a reason is required', () => {
  // an acknowledgement is the record a reviewer reads instead of the finding (cdk-nag "Suppressing
  // a rule": the reason is mandatory); a blank one hides the finding with no record of why
  test.each([
    ['an empty', nag('L1', '')],
    ['a blank', guard('lambda_inside_vpc_check', '  \n ')],
    ['an empty granular', nag('IAM5', '', 'Resource::*')],
  ])('%s reason is a synth-time error naming the construct, the finding and the fix', (_name, finding) => {
    const c = new Construct(agnostic, 'Job');
    expect(() => acknowledge(c, nag('L1', 'pinned runtime'), finding)).toThrow(
      `A/Job: acknowledgement of ${finding.id} needs a reason, got '${finding.reason}'; say why the finding is accepted here, for the reviewer who reads it instead of the finding`);
    expect(c.node.metadata).toEqual([]);
  });
});

describe('environmentForms', () => {
  test.each([
    ['region only', 'X[arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]', 'X[arn:<AWS::Partition>:ec2:eu-central-1::snapshot/*]'],
    ['account only', 'X[arn:aws:iam::<AWS::AccountId>:role/*]', 'X[arn:aws:iam::210987654321:role/*]'],
    ['region and account, twice', 'X[<AWS::Region>:<AWS::AccountId>:<AWS::Region>:<AWS::AccountId>]', 'X[eu-central-1:210987654321:eu-central-1:210987654321]'],
  ])('%s', (_name, id, concrete) => {
    expect(environmentForms(specific, id)).toEqual([id, concrete]);
    expect(environmentForms(agnostic, id)).toEqual([id]);
  });

  test('an id without pseudo parameters, and a partition-only id (the partition is a token in every stack), in one form', () => {
    expect(environmentForms(specific, 'AwsSolutions-IAM5[Resource::*]')).toEqual(['AwsSolutions-IAM5[Resource::*]']);
    expect(environmentForms(specific, 'X[arn:<AWS::Partition>:s3:::bucket/*]')).toEqual(['X[arn:<AWS::Partition>:s3:::bucket/*]']);
    const cn = new Stack(new App(), 'C', { env: { account: '210987654321', region: 'cn-north-1' } });
    expect(environmentForms(cn, 'X[arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]'))
      .toEqual(['X[arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]', `X[arn:${cn.partition.startsWith('${') ? '<AWS::Partition>' : cn.partition}:ec2:cn-north-1::snapshot/*]`]);
  });
});

describe('finding ids as cdk-nag prints them', () => {
  test('nag and guard', () => {
    expect(nag('IAM5', 'r', 'Action::ec2:Describe*')).toEqual({ id: 'AwsSolutions-IAM5[Action::ec2:Describe*]', reason: 'r' });
    expect(nag('IAM4', 'r')).toEqual({ id: 'AwsSolutions-IAM4', reason: 'r' });
    expect(guard('lambda_inside_vpc', 'r')).toEqual({ id: 'cdk-validator-cfnguard::lambda_inside_vpc', reason: 'r' });
  });

  test('nagRendering: Ref, GetAtt in either form, nested Join, anything else as JSON', () => {
    expect(nagRendering({ Ref: 'Topic1' })).toBe('<Topic1>');
    expect(nagRendering({ 'Fn::GetAtt': ['Fn1', 'Arn'] })).toBe('<Fn1.Arn>');
    expect(nagRendering({ 'Fn::GetAtt': 'Fn1.Arn' })).toBe('<Fn1.Arn>');
    expect(nagRendering({ 'Fn::Join': [':', ['a', { Ref: 'B' }, { 'Fn::Join': ['', ['c', { 'Fn::GetAtt': ['D', 'Arn'] }]] }]] })).toBe('a:<B>:c<D.Arn>');
    expect(nagRendering({ 'Fn::Sub': 'x' })).toBe('{"Fn::Sub":"x"}');
    expect(nagRendering(undefined)).toBe(undefined);
    expect(nagRendering(null)).toBe('null');
  });

  test('wildcardArn with and without the account; attributeWildcardFinding', () => {
    const withAccount = wildcardArn('ssm', 'automation-execution/*');
    expect(agnostic.resolve(withAccount.arn)).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':automation-execution/*']] });
    expect(withAccount.nagId).toBe('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:automation-execution/*]');
    // the id is what cdk-nag prints for the ARN
    expect(`AwsSolutions-IAM5[Resource::${nagRendering(agnostic.resolve(withAccount.arn))}]`).toBe(withAccount.nagId);
    const noAccount = wildcardArn('ec2', 'snapshot/*', false);
    expect(`AwsSolutions-IAM5[Resource::${nagRendering(agnostic.resolve(noAccount.arn))}]`).toBe(noAccount.nagId);
    expect(noAccount.nagId).toBe('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]');
    const topic = new sns.Topic(agnostic, 'Topic');
    const cfn = topic.node.defaultChild as sns.CfnTopic;
    expect(attributeWildcardFinding(cfn)).toBe(`AwsSolutions-IAM5[Resource::<${agnostic.resolve(cfn.logicalId)}.Arn>:*]`);
  });
});

describe('wildcardFindings and the acknowledging helpers', () => {
  const statements = () => [
    new iam.PolicyStatement({ actions: ['ec2:Describe*', 'ec2:CreateTags'], resources: ['*'] }),
    new iam.PolicyStatement({ actions: ['ec2:DeleteSnapshot'], resources: [wildcardArn('ec2', 'snapshot/*', false).arn, 'arn:aws:ec2:us-east-1::image/ami-1'] }),
    new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['ec2:*'], resources: ['arn:aws:ec2:*:*:volume/*'] }),
    new iam.PolicyStatement({ notActions: ['iam:*'], resources: ['arn:aws:s3:::b'] }),
  ];
  const expected = [ANY_RESOURCE_FINDING, 'AwsSolutions-IAM5[Action::ec2:Describe*]', wildcardArn('ec2', 'snapshot/*', false).nagId];

  test('from statements or a document: Allow statements only, each id once', () => {
    expect(wildcardFindings(agnostic, [...statements(), ...statements()])).toEqual(expected);
    expect(wildcardFindings(agnostic, new iam.PolicyDocument({ statements: statements() }))).toEqual(expected);
    expect(wildcardFindings(agnostic, new iam.PolicyDocument())).toEqual([]);
    // a statement read from JSON without an Effect is an Allow (IAM's only default is none: aws-cdk-lib fills it in)
    const read = iam.PolicyDocument.fromJson({ Statement: [{ Action: 'ec2:Describe*', Resource: 'arn:aws:ec2:us-east-1:111111111111:volume/vol-1' }] });
    expect(wildcardFindings(agnostic, read)).toEqual(['AwsSolutions-IAM5[Action::ec2:Describe*]']);
    // an action known only at deployment resolves to an intrinsic, not a string: no finding, no error
    const deployTime = new iam.PolicyStatement({ actions: [Fn.ref('Action'), 'ec2:Get*'], resources: ['arn:aws:ec2:us-east-1:111111111111:volume/vol-1'] });
    expect(wildcardFindings(agnostic, [deployTime])).toEqual(['AwsSolutions-IAM5[Action::ec2:Get*]']);
  });

  test('acknowledgeWildcards and addAcknowledgedStatement record exactly those ids for the reason', () => {
    const c = new Construct(agnostic, 'Job');
    acknowledgeWildcards(c, 'read-only describe', statements());
    expect(nagAcks(c)).toEqual([Object.fromEntries(expected.map((id) => [`Annotation::${id}`, 'read-only describe']))]);
    const role = new iam.Role(agnostic, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    addAcknowledgedStatement(role, new iam.PolicyStatement({ actions: ['ec2:DescribeSnapshots'], resources: ['*'] }), 'describe takes no resource');
    expect(nagAcks(role)).toEqual([{ [`Annotation::${ANY_RESOURCE_FINDING}`]: 'describe takes no resource' }]);
    const policy = role.node.findChild('DefaultPolicy') as iam.Policy;
    expect(agnostic.resolve(policy.document.toJSON()).Statement).toEqual([{ Action: 'ec2:DescribeSnapshots', Effect: 'Allow', Resource: '*' }]);
    const d = new Construct(agnostic, 'D');
    acknowledgeFindings(d, 'why', 'AwsSolutions-L1', 'AwsSolutions-IAM4');
    expect(nagAcks(d)).toEqual([{ 'Annotation::AwsSolutions-L1': 'why', 'Annotation::AwsSolutions-IAM4': 'why' }]);
  });
});
