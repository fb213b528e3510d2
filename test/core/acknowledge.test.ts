import { nag, nagRendering } from '../../src/core/acknowledge';

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
