import { Names } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as organizations from 'aws-cdk-lib/aws-organizations';
import { Construct } from 'constructs';
import { WormDenyOptions } from './deny-policy';
import { WormDenyStatements, WormPolicyDocument } from './deny-statements';
import { checkScpSize, EMPTY_POLICY_LENGTH, SCP_MAX_CHARACTERS, statementLength } from './scp-size';
import { registerPlan } from '../core/plan-report';
import { requirePrerequisite } from '../core/prerequisites';
import { checkCount, checkLength, checkPattern } from '../core/validation';


/**
 * Properties of `WormServiceControlPolicy`.
 */
export interface WormServiceControlPolicyProps extends WormDenyOptions {
  /**
   * Where to attach the policy: the organization root (`r-...`), OUs (`ou-...`) or account ids.
   *
   * @default - the policy is created but not attached
   */
  readonly targetIds?: string[];

  /**
   * The policy's name in AWS Organizations.
   *
   * @default - a name derived from the construct path
   */
  readonly policyName?: string;

  /**
   * The policy's description.
   *
   * @default - a description of what it denies
   */
  readonly description?: string;

  /**
   * Also create an EC2 declarative policy that blocks public sharing of snapshots (all sharing)
   * and AMIs (new sharing) in every targeted account and region: the organization-wide form of
   * block public access, which accounts cannot turn off.
   *
   * @default false
   */
  readonly blockPublicSharing?: boolean;
}

const TARGET_ID = /^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;

/** AWS Organizations quota: at most five SCPs attached to a root, OU or account (FullAWSAccess included). */
const MAX_ATTACHED_SCPS = 5;

/**
 * The write-once deny statements as an AWS Organizations service control policy, for the whole
 * organization or some OUs and accounts. Deploy it in the management account (or a delegated
 * administrator).
 *
 * SCPs do not apply to the management account or to service-linked roles (AWS Backup deletes
 * expired recovery points with its service-linked role). They do apply to DLM execution roles:
 * exempt them by pattern across accounts with `exemptPrincipalArns`.
 */
export class WormServiceControlPolicy extends Construct {
  /** The first policy document (5,120 characters at most, checked at synthesis). */
  public readonly document: iam.PolicyDocument;
  /** The first service control policy. */
  public readonly policy: organizations.CfnPolicy;
  /**
   * Every policy document: the statements are split over several policies when they outgrow the
   * 5,120-character quota of one (an account or OU may have up to five SCPs attached).
   */
  public readonly documents: iam.PolicyDocument[] = [];
  /** Every service control policy, in the order of `documents`. */
  public readonly policies: organizations.CfnPolicy[] = [];
  /**
   * The EC2 declarative policy that blocks public sharing.
   *
   * @default - none unless `blockPublicSharing`
   */
  public readonly declarativePolicy?: organizations.CfnPolicy;
  /** @attribute */
  public readonly policyId: string;

  private readonly baseName: string;
  private readonly description: string;
  private readonly targetIds: string[];
  private lastSize = 0;

  constructor(scope: Construct, id: string, props: WormServiceControlPolicyProps = {}) {
    super(scope, id);
    const targetIds = props.targetIds ?? [];
    checkCount(this, 'targetIds', targetIds, 0, 1000);
    targetIds.forEach((t, i) => checkPattern(this, `targetIds[${i}]`, t, TARGET_ID,
      'an organization root (r-...), OU (ou-...-...) or 12-digit account id'));
    checkLength(this, 'policyName', props.policyName, 1, 128);
    if (props.description !== undefined) {
      checkLength(this, 'description', props.description, 0, 512);
    }
    this.baseName = props.policyName ?? Names.uniqueResourceName(this, { maxLength: 128 });
    this.description = props.description ?? 'Write-once protection of EBS snapshots, AMIs and backups (cdk-ebs-backup)';
    this.targetIds = targetIds;
    const statements = new WormDenyStatements(this, props, true);
    registerPlan(this, 'WormServiceControlPolicy', () => ({
      protects: [{
        mechanism: `write-once SCP ${this.baseName} (AWS Organizations)`,
        selects: `every principal of ${this.targetIds.join(', ') || 'the targets it is attached to'} but the management account`,
        schedule: 'always',
        locks: ['deny deleting, unlocking, sharing and re-tagging except break-glass'],
      }],
    }));
    this.addStatements(...statements.statements({ blockPublicAccess: props.blockPublicSharing ?? false }));
    // read at synthesis: addStatements() may add parts after construction
    this.node.addValidation({
      validate: () => this.policies.length > MAX_ATTACHED_SCPS
        ? [`${this.node.path}: the statements need ${this.policies.length} service control policies of 5,120 characters, and a root, OU or `
          + `account takes at most ${MAX_ATTACHED_SCPS} SCPs (AWS Organizations quota, FullAWSAccess included); exempt principals by pattern `
          + '(arn:aws:iam::*:role/...) instead of one ARN each']
        : [],
    });
    this.document = this.documents[0];
    this.policy = this.policies[0];
    this.policyId = this.policy.ref; // Ref is the policy id; no version-specific attribute
    requirePrerequisite(this, 'scp-policy-type');

    if (props.blockPublicSharing) {
      this.declarativePolicy = new organizations.CfnPolicy(this, 'BlockPublicSharing', {
        type: 'DECLARATIVE_POLICY_EC2',
        name: `${(props.policyName ?? Names.uniqueResourceName(this, { maxLength: 100 })).slice(0, 100)}-block-public-sharing`,
        description: 'Blocks public sharing of EBS snapshots and AMIs (cdk-ebs-backup)',
        content: {
          ec2_attributes: {
            snapshot_block_public_access: { state: { '@@assign': 'block_all_sharing' } },
            image_block_public_access: { state: { '@@assign': 'block_new_sharing' } },
          },
        },
        targetIds: targetIds.length > 0 ? targetIds : undefined,
      });
      requirePrerequisite(this, 'declarative-policy-type');
    }
  }

  /**
   * Add statements: to the last policy while it stays within the quota, to a new policy (attached
   * to the same targets) otherwise.
   */
  public addStatements(...statements: iam.PolicyStatement[]): void {
    for (const statement of statements) {
      const size = statementLength(this, statement);
      if (this.documents.length === 0 || this.lastSize + size > SCP_MAX_CHARACTERS) {
        this.newPolicy();
      }
      this.documents[this.documents.length - 1].addStatements(statement);
      this.lastSize += size;
    }
  }

  private newPolicy(): void {
    const n = this.documents.length;
    const document = new WormPolicyDocument();
    // the first keeps the id and name it always had
    const policy = new organizations.CfnPolicy(this, n === 0 ? 'Resource' : `Part${n + 1}`, {
      type: 'SERVICE_CONTROL_POLICY',
      name: n === 0 ? this.baseName : `${this.baseName.slice(0, 120)}-${n + 1}`,
      description: n === 0 ? this.description : `${this.description.slice(0, 490)} (part ${n + 1})`,
      content: document,
      targetIds: this.targetIds.length > 0 ? this.targetIds : undefined,
    });
    this.documents.push(document);
    this.policies.push(policy);
    this.lastSize = EMPTY_POLICY_LENGTH;
    this.node.addValidation({ validate: () => checkScpSize(policy, document) });
  }
}
