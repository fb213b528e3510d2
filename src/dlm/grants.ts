import { Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { DlmExecutionRole } from './execution-role';
import { acknowledge, nag, nagRendering } from '../core/acknowledge';
import { RetentionRoles } from '../core/retention-roles';

/** The execution role to use for `scope`: the given one, or the stack's shared one. */
export function executionRoleFor(scope: IConstruct, given: iam.IRole | undefined): iam.IRole {
  const role = given ?? DlmExecutionRole.of(scope).role;
  if (given) {
    RetentionRoles.register(scope, given,
      'DLM execution role passed to a policy: deletes snapshots and deregisters AMIs whose retention has expired');
  }
  return role;
}

const grantsByRole = new WeakMap<iam.IRole, ExecutionGrants>();

/**
 * The permissions added to one execution role, each once: a policy asks for what it needs,
 * statements already present are not repeated.
 */
export class ExecutionGrants {
  /** The grants object of `role` (one per role, shared by every policy using it). */
  public static of(scope: IConstruct, role: iam.IRole): ExecutionGrants {
    let grants = grantsByRole.get(role);
    if (!grants) {
      grants = new ExecutionGrants(Stack.of(scope), role);
      grantsByRole.set(role, grants);
    }
    return grants;
  }

  private readonly added = new Set<string>();
  private readonly shareAccounts = new Set<string>();
  private readonly acknowledged = new Set<string>();

  private constructor(private readonly stack: Stack, private readonly role: iam.IRole) {}

  /** Create, tag and expire snapshots of volumes and instances in the stack's region. */
  public snapshots(): void {
    const r = this.region;
    this.add('describe', ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeSnapshots'], ['*']);
    this.add('snapshots', ['ec2:CreateSnapshot', 'ec2:CreateSnapshots'], [
      this.ec2Arn(r, 'volume', true), this.ec2Arn(r, 'instance', true), this.ec2Arn(r, 'snapshot', false),
    ]);
    this.expireSnapshotsIn(r);
  }

  /** Copy snapshots from the stack's region to `region` and expire the copies there. */
  public snapshotCopies(region: string): void {
    this.add(`copy:${region}`, ['ec2:CopySnapshot'], [this.ec2Arn(this.region, 'snapshot', false), this.ec2Arn(region, 'snapshot', false)]);
    this.expireSnapshotsIn(region);
  }

  /** Enable and disable fast snapshot restore on the policies' snapshots. */
  public fastRestore(): void {
    this.add('fsr', ['ec2:EnableFastSnapshotRestores', 'ec2:DisableFastSnapshotRestores'], [this.ec2Arn(this.region, 'snapshot', false)]);
    this.add('fsr-describe', ['ec2:DescribeFastSnapshotRestores', 'ec2:DescribeAvailabilityZones'], ['*']);
  }

  /**
   * Share snapshots with (and unshare them from) `accounts` only: never with other accounts,
   * never publicly.
   */
  public share(accounts: string[]): void {
    accounts.forEach((a) => this.shareAccounts.add(a));
    const list = () => [...this.shareAccounts].sort();
    this.addStatement('share', new iam.PolicyStatement({
      actions: ['ec2:ModifySnapshotAttribute'],
      resources: [this.ec2Arn(this.region, 'snapshot', false)],
      conditions: {
        'ForAllValues:StringEquals': {
          'ec2:Add/userId': lazyList(list),
          'ec2:Remove/userId': lazyList(list),
        },
        'Null': { 'ec2:Add/group': 'true' },
      },
    }));
    this.add('share-describe', ['ec2:DescribeSnapshotAttribute'], ['*']);
  }

  /** Move snapshots to the archive tier. */
  public archive(): void {
    this.add('archive', ['ec2:ModifySnapshotTier'], [this.ec2Arn(this.region, 'snapshot', false)]);
    this.add('archive-describe', ['ec2:DescribeSnapshotTierStatus'], ['*']);
  }

  /** Create, tag, deprecate and deregister AMIs of instances in the stack's region. */
  public images(): void {
    const r = this.region;
    this.add('image-describe', ['ec2:DescribeImages', 'ec2:DescribeImageAttribute', 'ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeSnapshots'], ['*']);
    this.add('image-create', ['ec2:CreateImage'], [this.ec2Arn(r, 'instance', true), this.ec2Arn(r, 'image', false), this.ec2Arn(r, 'snapshot', false)]);
    this.expireImagesIn(r);
  }

  /** Copy AMIs (and their snapshots) to `region` and expire the copies there. */
  public imageCopies(region: string): void {
    this.add(`image-copy:${region}`, ['ec2:CopyImage'], [
      this.ec2Arn(this.region, 'image', false), this.ec2Arn(region, 'image', false),
      this.ec2Arn(this.region, 'snapshot', false), this.ec2Arn(region, 'snapshot', false),
    ]);
    this.expireImagesIn(region);
  }

  /**
   * Event-based policies: DLM manages its own EventBridge rule, then copies snapshots shared
   * with this account to `regions`.
   */
  public sharedSnapshotCopies(regions: string[]): void {
    this.add('events', [
      'events:PutRule', 'events:DeleteRule', 'events:DescribeRule', 'events:EnableRule', 'events:DisableRule',
      'events:ListTargetsByRule', 'events:PutTargets', 'events:RemoveTargets',
    ], [this.stack.formatArn({ service: 'events', region: this.region, resource: 'rule', resourceName: 'AwsDataLifecycleRule.managed-cwe.*' })]);
    this.add('describe', ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeSnapshots'], ['*']);
    for (const region of regions) {
      this.snapshotCopies(region);
    }
  }

  /** Encrypt copies with (or decrypt shared snapshots through) `key`. */
  public key(key: kms.IKey): void {
    const id = `kms:${Token.isUnresolved(key.keyArn) ? key.node.path : key.keyArn}`;
    if (this.added.has(id)) {
      return;
    }
    this.added.add(id);
    // The EBS service uses the key on DLM's behalf through grants, as for any encrypted copy.
    key.grant(this.role, 'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey');
    this.acknowledgeWildcards(['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'],
      'the EBS copy needs every ReEncrypt and GenerateDataKey variant, on this one key only');
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['kms:CreateGrant'],
      resourceArns: [key.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    });
  }

  /**
   * Run the script's SSM `document` on the instances that carry any of `instanceTags`, and
   * follow the commands.
   */
  public script(documentArn: string, instanceTags: Record<string, string>): void {
    this.add(`doc:${documentArn}`, ['ssm:SendCommand', 'ssm:DescribeDocument', 'ssm:GetDocument'], [documentArn]);
    for (const [key, value] of Object.entries(instanceTags)) {
      this.addStatement(`send:${key}=${value}`, new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [this.ec2Arn(this.region, 'instance', true)],
        conditions: { StringEquals: { [`ssm:resourceTag/${key}`]: value } },
      }));
    }
    this.add('ssm-read', ['ssm:GetCommandInvocation', 'ssm:ListCommands', 'ssm:DescribeInstanceInformation'], ['*']);
  }

  /** The ARN of an SSM document: AWS-owned documents have no account in their ARN. */
  public documentArn(nameOrArn: string, awsOwned: boolean): string {
    if (!Token.isUnresolved(nameOrArn) && nameOrArn.startsWith('arn:')) {
      return nameOrArn;
    }
    return this.stack.formatArn({ service: 'ssm', region: this.region, account: awsOwned ? '' : undefined, resource: 'document', resourceName: nameOrArn });
  }

  private expireSnapshotsIn(region: string): void {
    this.add(`expire:${region}`, ['ec2:CreateTags', 'ec2:DeleteSnapshot'], [this.ec2Arn(region, 'snapshot', false)]);
  }

  private expireImagesIn(region: string): void {
    this.add(`image-expire:${region}`, [
      'ec2:CreateTags', 'ec2:DeregisterImage', 'ec2:EnableImageDeprecation', 'ec2:DisableImageDeprecation',
      'ec2:ModifyImageAttribute', 'ec2:ResetImageAttribute',
    ], [this.ec2Arn(region, 'image', false)]);
    this.expireSnapshotsIn(region);
  }

  private get region(): string {
    return Token.isUnresolved(this.stack.region) ? '*' : this.stack.region;
  }

  /** Snapshots and images have no account in their ARN; instances and volumes do. */
  private ec2Arn(region: string, type: string, withAccount: boolean): string {
    return this.stack.formatArn({ service: 'ec2', region, account: withAccount ? undefined : '', resource: type, resourceName: '*' });
  }

  private add(id: string, actions: string[], resources: string[]): void {
    this.addStatement(id, new iam.PolicyStatement({ actions, resources }));
  }

  private addStatement(id: string, statement: iam.PolicyStatement): void {
    if (this.added.has(id)) {
      return;
    }
    this.added.add(id);
    this.role.addToPrincipalPolicy(statement);
    const resources: unknown[] = statement.resources.map((r) => this.stack.resolve(r));
    this.acknowledgeWildcards(resources.map(nagRendering).filter((r) => r.includes('*')).map((r) => `Resource::${r}`),
      resources.some((r) => r === '*')
        ? 'EC2 Describe and SSM command-status actions support no resource-level permissions'
        : 'DLM acts on snapshots, AMIs and instances it creates or selects by tag at run time, so their ids are unknown here; ' +
          'the ARN is scoped to the resource type, the regions and (for instances and volumes) the account the policies use');
  }

  /**
   * cdk-nag reports IAM5 with one granular id per wildcard (`AwsSolutions-IAM5[Resource::...]`):
   * each one this role needs is acknowledged on the role itself (so on its policies only), with
   * the reason.
   */
  private acknowledgeWildcards(findings: string[], reason: string): void {
    const fresh = findings.filter((f) => !this.acknowledged.has(f));
    fresh.forEach((f) => this.acknowledged.add(f));
    if (fresh.length > 0) {
      acknowledge(this.role, ...fresh.map((f) => nag(`IAM5[${f}]`, reason)));
    }
  }
}


/** A list computed at synthesis, so that accounts added by later policies are included. */
function lazyList(produce: () => string[]): string[] {
  return Lazy.uncachedList({ produce });
}
