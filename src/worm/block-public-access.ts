import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { claimPublicSharingBlock } from './account-settings';
import { acknowledge, guard, nag } from '../core/acknowledge';
import { registerPlan } from '../core/plan-report';

/**
 * How strictly public sharing of snapshots is blocked in the region.
 */
export enum SnapshotSharingBlock {
  /** Block new public sharing and make already-public snapshots private in effect. */
  BLOCK_ALL_SHARING = 'block-all-sharing',
  /** Block only new public sharing; already-public snapshots stay public. */
  BLOCK_NEW_SHARING = 'block-new-sharing',
}

/**
 * Properties of `BlockPublicSharing`.
 */
export interface BlockPublicSharingProps {
  /**
   * The block public access state for snapshots.
   *
   * @default SnapshotSharingBlock.BLOCK_ALL_SHARING
   */
  readonly snapshots?: SnapshotSharingBlock;

  /**
   * Block new public sharing of AMIs too. There is no CloudFormation resource for it, so a
   * custom resource calls `EnableImageBlockPublicAccess` (it takes up to 10 minutes to apply).
   * It is left enabled when the stack is deleted. Organizations can use a declarative policy for
   * EC2 instead (`WormServiceControlPolicy` with `blockPublicSharing`).
   *
   * @default true
   */
  readonly images?: boolean;
}

/**
 * Block public access for EBS snapshots and AMIs in one account and region, so that a backup
 * cannot be made public by mistake or by an attacker.
 *
 * These are account-and-region settings: one per stack environment.
 */
export class BlockPublicSharing extends Construct {
  /** The snapshot block public access setting. */
  public readonly snapshotBlockPublicAccess: ec2.CfnSnapshotBlockPublicAccess;

  constructor(scope: Construct, id: string, props: BlockPublicSharingProps = {}) {
    super(scope, id);
    registerPlan(this, 'BlockPublicSharing', () => ({
      protects: [{ mechanism: 'EBS snapshot and AMI block public access (account setting)', selects: 'every snapshot and AMI of the account in the region', schedule: 'always' }],
    }));
    const stack = Stack.of(this);
    // An environment-agnostic stack may deploy anywhere, so only a second one in the same stack is
    // known to clash; a concrete environment is checked across the app.
    claimPublicSharingBlock(this, 'BlockPublicSharing');

    this.snapshotBlockPublicAccess = new ec2.CfnSnapshotBlockPublicAccess(this, 'Snapshots', {
      state: props.snapshots ?? SnapshotSharingBlock.BLOCK_ALL_SHARING,
    });

    if (props.images ?? true) {
      const enable: cr.AwsSdkCall = {
        service: 'EC2',
        action: 'enableImageBlockPublicAccess',
        parameters: { ImageBlockPublicAccessState: 'block-new-sharing' },
        physicalResourceId: cr.PhysicalResourceId.of(`image-block-public-access-${stack.region}`),
      };
      const images = new cr.AwsCustomResource(this, 'Images', {
        onCreate: enable,
        onUpdate: enable,
        policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
          actions: ['ec2:EnableImageBlockPublicAccess'],
          resources: ['*'],
        })]),
        installLatestAwsSdk: false,
      });
      acknowledge(images, nag('IAM5', 'ec2:EnableImageBlockPublicAccess is an account setting with no resource-level permissions', 'Resource::*'));
      acknowledgeSingletonProvider(stack);
    }
  }
}

/**
 * The AwsCustomResource provider function is one per stack, outside this construct: acknowledge
 * the findings of aws-cdk-lib's own provider there, with the reasons.
 */
function acknowledgeSingletonProvider(stack: Stack): void {
  const provider: IConstruct | undefined = stack.node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
  if (!provider) {
    return;
  }
  acknowledge(provider,
    nag('IAM4', "aws-cdk-lib's AwsCustomResource provider uses AWSLambdaBasicExecutionRole for its own logs only",
      'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'),
    guard('lambda_inside_vpc_check', "aws-cdk-lib's deployment-time provider only calls regional AWS APIs; a VPC adds nothing but NAT cost"),
  );
}
