/**
 * BlockPublicSharing (src/worm/block-public-access.ts) built on a bare stack and read without
 * synthesis: what the mutation module `worm-block-public-access` runs (guard.test.ts reaches it
 * through synthesized guards, tens of seconds a mutant).
 *
 * What AWS documents: `AWS::EC2::SnapshotBlockPublicAccess` `State` is `block-all-sharing` (no
 * public sharing, and already public snapshots are treated as private) or `block-new-sharing`;
 * AMIs have no CloudFormation resource, only the EC2 API `EnableImageBlockPublicAccess` with
 * `ImageBlockPublicAccessState` `block-new-sharing` (its only value), which needs
 * `ec2:EnableImageBlockPublicAccess` on `*` (no resource-level permissions: Service Authorization
 * Reference, Amazon EC2).
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { GUARD_ACKNOWLEDGED_METADATA_KEY } from '../../src/core/acknowledge';
import { planOf } from '../../src/core/plan-report';
import { BlockPublicSharing, SnapshotSharingBlock } from '../../src/worm/block-public-access';
import { evaluate } from '../support/iam-evaluation';
import { renderIntrinsics, unsynthesizedTemplate } from '../support/intrinsics';

const ENV = { account: '111122223333', region: 'eu-west-1' };

let stack: Stack;
beforeEach(() => {
  stack = new Stack(new App(), 'Prod', { env: ENV });
});

const ofType = (template: any, type: string) => Object.entries<any>(template.Resources).filter(([, r]) => r.Type === type);
const metadataOf = (c: { node: { metadata: Array<{ type: string; data: unknown }> } }, type: string) =>
  Object.assign({}, ...c.node.metadata.filter((m) => m.type === type).map((m) => m.data as object));

describe('the defaults', () => {
  test('blocks all public sharing of snapshots, and new public sharing of AMIs, in the region', () => {
    const block = new BlockPublicSharing(stack, 'Block');
    const template = unsynthesizedTemplate(stack);
    expect(ofType(template, 'AWS::EC2::SnapshotBlockPublicAccess').map(([, r]) => r.Properties)).toEqual([{ State: 'block-all-sharing' }]);
    expect(stack.resolve(block.snapshotBlockPublicAccess.logicalId)).toBe(ofType(template, 'AWS::EC2::SnapshotBlockPublicAccess')[0][0]);

    // the custom resource calls EnableImageBlockPublicAccess on create and on update (the same call)
    const [[, images]] = ofType(template, 'Custom::AWS');
    const call = (json: any) => JSON.parse(renderIntrinsics(json, { region: ENV.region, account: ENV.account }));
    const expected = {
      service: 'EC2',
      action: 'enableImageBlockPublicAccess',
      parameters: { ImageBlockPublicAccessState: 'block-new-sharing' },
      physicalResourceId: { id: 'image-block-public-access-eu-west-1' },
    };
    expect(call(images.Properties.Create)).toEqual(expected);
    expect(call(images.Properties.Update)).toEqual(expected);
    expect(images.Properties.Delete).toBeUndefined();
    expect(images.Properties.InstallLatestAwsSdk).toBe(false);
  });

  test('the custom resource\'s role may enable the AMI block and nothing else', async () => {
    new BlockPublicSharing(stack, 'Block');
    const template = unsynthesizedTemplate(stack);
    const [[, policy]] = ofType(template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('BlockImagesCustomResourcePolicy'));
    const asRole = (action: string) => evaluate({ principal: 'arn:aws:iam::111122223333:role/Provider', action, resource: '*' },
      { identity: [renderIntrinsics(policy.Properties.PolicyDocument)] });
    expect([await asRole('ec2:EnableImageBlockPublicAccess'), await asRole('ec2:DisableImageBlockPublicAccess'), await asRole('ec2:EnableSnapshotBlockPublicAccess')])
      .toEqual(['Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied']);
  });

  test('acknowledges the findings of the AMI block and of aws-cdk-lib\'s provider function, with reasons', () => {
    const block = new BlockPublicSharing(stack, 'Block');
    const nag = metadataOf(block.node.findChild('Images'), Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(Object.keys(nag)).toEqual(['Annotation::AwsSolutions-IAM5[Resource::*]']);
    expect(nag['Annotation::AwsSolutions-IAM5[Resource::*]']).toMatch(/^ec2:EnableImageBlockPublicAccess is an account setting with no resource-level permissions$/);
    const provider = stack.node.findChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
    expect(Object.keys(metadataOf(provider, Validations.ACKNOWLEDGED_RULES_METADATA_KEY))).toEqual([
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    ]);
    expect(Object.keys(metadataOf(provider, GUARD_ACKNOWLEDGED_METADATA_KEY))).toEqual(['lambda_inside_vpc_check']);
  });

  test('the plan says it protects every snapshot and AMI of the account in the region, always', () => {
    new BlockPublicSharing(stack, 'Block');
    expect(planOf(stack)[0].protections).toEqual([{
      construct: 'Prod/Block',
      kind: 'BlockPublicSharing',
      mechanism: 'EBS snapshot and AMI block public access (account setting)',
      selects: 'every snapshot and AMI of the account in the region',
      schedule: 'always',
    }]);
  });
});

describe('options', () => {
  test('blocks only new public sharing of snapshots when asked', () => {
    new BlockPublicSharing(stack, 'Block', { snapshots: SnapshotSharingBlock.BLOCK_NEW_SHARING });
    expect(ofType(unsynthesizedTemplate(stack), 'AWS::EC2::SnapshotBlockPublicAccess').map(([, r]) => r.Properties)).toEqual([{ State: 'block-new-sharing' }]);
  });

  test('leaves AMIs alone when asked: no custom resource, no provider', () => {
    new BlockPublicSharing(stack, 'Block', { images: false });
    const template = unsynthesizedTemplate(stack);
    expect(ofType(template, 'Custom::AWS')).toEqual([]);
    expect(ofType(template, 'AWS::Lambda::Function')).toEqual([]);
    expect(ofType(template, 'AWS::EC2::SnapshotBlockPublicAccess')).toHaveLength(1);
  });

  test('a second one in the same account and region fails, naming the first', () => {
    new BlockPublicSharing(stack, 'First', { images: false });
    expect(() => new BlockPublicSharing(stack, 'Second', { images: false }))
      .toThrow('Prod/Second: BlockPublicSharing blocks public sharing, an account-and-region setting that Prod/First (BlockPublicSharing) already blocks');
  });
});
