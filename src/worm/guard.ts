import { Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, IConstruct } from 'constructs';
import { claimPublicSharingBlock } from './account-settings';
import { BlockPublicSharing, SnapshotSharingBlock } from './block-public-access';
import { WormDenyOptions } from './deny-policy';
import { WormDenyStatements, WormPolicyDocument } from './deny-statements';
import { RecycleBinResourceType, RecycleBinRule, RecycleBinRuleOptions } from './recycle-bin';
import { checkScpSize, splitStatements, statementLength } from './scp-size';
import { SnapshotArchiver, SnapshotArchiverOptions } from './snapshot-archiver';
import { SnapshotLock, SnapshotLockOptions } from './snapshot-lock';
import { acknowledge, guard, nag } from '../core/acknowledge';
import { registerPlan } from '../core/plan-report';
import { check, checkCount, checkLength, collectProblems, fail, reportFactoryProblems, warn } from '../core/validation';

/**
 * The guard's Recycle Bin: one rule per resource type.
 */
export interface RecycleBinOptions extends RecycleBinRuleOptions {
  /**
   * What the Recycle Bin retains.
   *
   * @default - EBS snapshots and EBS-backed AMIs
   */
  readonly resourceTypes?: RecycleBinResourceType[];
}

/**
 * Which deny statements an exempt role passes.
 */
export interface ExemptRoleOptions {
  /**
   * Exempt the role from the deletion, sharing and purpose-tag statements: it expires backups.
   *
   * @default true
   */
  readonly lifecycle?: boolean;

  /**
   * Exempt the role from the snapshot-lock statement (`ec2:LockSnapshot`, `ec2:UnlockSnapshot`):
   * only for a role that locks snapshots. Off by default because a role that may also unlock
   * could lift a governance lock and then delete the snapshot.
   *
   * @default false
   */
  readonly snapshotLock?: boolean;
}

const NO_EXEMPTION_WARNING = 'worm:no-exempt-principal';

/**
 * Properties of `WormSnapshotGuard`.
 */
export interface WormSnapshotGuardProps extends WormDenyOptions {
  /**
   * Keep deleted snapshots and AMIs recoverable in the Recycle Bin, optionally with a locked rule
   * that cannot itself be switched off.
   *
   * @default - no Recycle Bin rule
   */
  readonly recycleBin?: RecycleBinOptions;

  /**
   * Lock every new purpose-tagged snapshot with EBS Snapshot Lock.
   *
   * @default - snapshots are not locked
   */
  readonly snapshotLock?: SnapshotLockOptions;

  /**
   * Archive rather than delete: move purpose-tagged snapshots of deleted volumes to the archive
   * tier after a minimum age.
   *
   * @default - no archive job
   */
  readonly archive?: SnapshotArchiverOptions;

  /**
   * Block public sharing of snapshots and AMIs in this account and region, and deny turning it
   * off. Set false where another stack (or an EC2 declarative policy) manages the setting.
   *
   * @default true
   */
  readonly blockPublicSharing?: boolean;

  /**
   * How strictly public sharing of snapshots is blocked.
   *
   * @default SnapshotSharingBlock.BLOCK_ALL_SHARING
   */
  readonly snapshotSharingBlock?: SnapshotSharingBlock;

  /**
   * The name of the managed policy that carries the deny statements.
   *
   * @default - a generated name
   */
  readonly managedPolicyName?: string;
}

/**
 * Write-once protection for EBS snapshots and AMIs in one account, and the same rules as an SCP
 * for an AWS Organization (the guidance's "Protecting your Amazon EC2 backups").
 *
 * - deny statements against deleting, sharing, unlocking and re-tagging backups, against
 *   weakening the Recycle Bin, the backup vaults and their KMS keys, exempting break-glass
 *   principals and the roles that expire backups (every role registered with `RetentionRoles`,
 *   read at synthesis), delivered as a managed policy (`protect()`), a permissions boundary
 *   (`applyPermissionsBoundary()`) and a service control policy (`toServiceControlPolicy()`);
 * - Recycle Bin rules for snapshots and AMIs, optionally locked;
 * - EBS Snapshot Lock for new purpose-tagged snapshots;
 * - block public access for snapshots and AMIs;
 * - an archive job for snapshots of deleted volumes.
 *
 * @example
 * declare const operatorsRole: iam.IRole;
 * const guard = new WormSnapshotGuard(stack, 'Guard', {
 *   breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
 *   recycleBin: { retain: Retention.age(Duration.days(30)), lockUnlockDelay: Duration.days(7) },
 *   blockPublicSharing: true,
 * });
 * guard.protect(operatorsRole);
 */
export class WormSnapshotGuard extends Construct {
  /**
   * The id to acknowledge (`Validations.of(guard).acknowledge(...)`) once you have decided that a
   * guard without break-glass principals and without exempt roles is what you want: then only the
   * registered retention roles (and the lock job) pass the denies, and only detaching the policy
   * (or the SCP) lifts them.
   */
  public static readonly NO_EXEMPTION_WARNING = `Annotation::cdk-ebs-backup:${NO_EXEMPTION_WARNING}`;

  /** The deny statements as a managed policy; attach it with `protect()`. */
  public readonly managedPolicy: iam.ManagedPolicy;
  /** The Recycle Bin rules, one per resource type. */
  public readonly recycleBinRules: RecycleBinRule[];
  /**
   * The snapshot lock job.
   *
   * @default - none unless `snapshotLock` is set
   */
  public readonly snapshotLock?: SnapshotLock;
  /**
   * The end-of-life archive job.
   *
   * @default - none unless `archive` is set
   */
  public readonly archiver?: SnapshotArchiver;
  /**
   * Block public access for snapshots and AMIs.
   *
   * @default - none when `blockPublicSharing` is false
   */
  public readonly publicSharingBlock?: BlockPublicSharing;

  private readonly statements: WormDenyStatements;
  private readonly blocksPublicAccess: boolean;
  private readonly lockRoles: iam.IRole[];
  private readonly documents: iam.PolicyDocument[] = [];
  /** Each SCP rendering is a list of documents; statements added later go to the last of each. */
  private readonly scpSets: iam.PolicyDocument[][] = [];
  private boundary?: iam.ManagedPolicy;
  private boundaryName?: string;
  private readonly policyName: string;
  private keyStatementRendered: boolean;

  constructor(scope: Construct, id: string, props: WormSnapshotGuardProps = {}) {
    super(scope, id);
    const recycleBinTypes = props.recycleBin?.resourceTypes ?? [RecycleBinResourceType.EBS_SNAPSHOT, RecycleBinResourceType.EC2_IMAGE];
    // every problem of the guard's own props at once (its rules, lock and archiver check theirs)
    this.statements = collectProblems(this, () => {
      checkLength(this, 'managedPolicyName', props.managedPolicyName, 1, 128);
      check(props.blockPublicSharing !== false || props.snapshotSharingBlock === undefined, this, 'snapshotSharingBlock',
        'needs blockPublicSharing: true', props.snapshotSharingBlock);
      if (props.recycleBin) {
        checkCount(this, 'recycleBin.resourceTypes', recycleBinTypes, 1, 2);
        check(new Set(recycleBinTypes).size === recycleBinTypes.length, this, 'recycleBin.resourceTypes', 'must not repeat a resource type', recycleBinTypes);
        reportFactoryProblems(this, 'recycleBin.retain', props.recycleBin.retain);
        reportFactoryProblems(this, 'recycleBin.ruleScope', props.recycleBin.ruleScope);
      }
      reportFactoryProblems(this, 'snapshotLock.mode', props.snapshotLock?.mode);
      return new WormDenyStatements(this, props);
    });
    this.blocksPublicAccess = props.blockPublicSharing ?? true;

    if (this.blocksPublicAccess) {
      claimPublicSharingBlock(this, 'blockPublicSharing');
      this.publicSharingBlock = new BlockPublicSharing(this, 'BlockPublicSharing', { snapshots: props.snapshotSharingBlock });
    }

    this.recycleBinRules = [];
    if (props.recycleBin) {
      for (const type of recycleBinTypes) {
        const rule = new RecycleBinRule(this, type === RecycleBinResourceType.EC2_IMAGE ? 'ImageRecycleBin' : 'SnapshotRecycleBin', {
          ...props.recycleBin,
          resourceType: type,
        });
        this.recycleBinRules.push(rule);
      }
    }

    this.lockRoles = [];
    if (props.snapshotLock) {
      this.snapshotLock = new SnapshotLock(this, 'SnapshotLock', props.snapshotLock);
      this.lockRoles.push(this.snapshotLock.role);
    }

    if (props.archive) {
      this.archiver = new SnapshotArchiver(this, 'Archiver', props.archive);
    }

    // Read at synthesis: exemptRole() may add roles after construction.
    this.node.addValidation({
      validate: () => {
        if (this.statements.nobodyExempt) {
          warn(this, NO_EXEMPTION_WARNING,
            'no break-glass principal and no exempt role: nobody can ever delete, unlock or share a protected backup, nor delete its ' +
            'keys, except the registered retention roles (and the lock job), and only the deployment principals can change the ' +
            'Recycle Bin, vault policies, key policies or block public access, until the policy is detached; set breakGlassPrincipalArns, or acknowledge this');
        }
        return [];
      },
    });

    this.keyStatementRendered = (props.keys ?? []).length + (props.sourceKeys ?? []).length > 0;
    // Named, so that the statements can name the policy without a reference to itself (a cycle).
    this.policyName = props.managedPolicyName ?? Names.uniqueResourceName(this, { maxLength: 100 });
    const document = this.newDocument(this.documents);
    this.managedPolicy = new iam.ManagedPolicy(this, 'DenyPolicy', {
      managedPolicyName: this.policyName,
      description: 'Write-once protection of EBS snapshots, AMIs and backups (cdk-ebs-backup WormSnapshotGuard)',
      document,
    });
    registerPlan(this, 'WormSnapshotGuard', () => {
      // the deletion of recovery points is denied whatever the scope; the scope narrows snapshots and AMIs
      const r = this.statements.resources;
      const selects = !r.tagScoped ? 'every snapshot, AMI and recovery point'
        : `${r.purposeValues.length > 0 ? `snapshots and AMIs with purpose ${r.purposeValues.join(', ')}` : 'purpose-tagged snapshots and AMIs'}, and every recovery point`;
      return {
        protects: [{
          mechanism: `write-once deny policy ${this.policyName} (attached with protect(); SCPs with toServiceControlPolicies())`,
          selects,
          schedule: 'always',
          locks: ['deny deleting, unlocking, sharing and re-tagging except break-glass'],
        }],
      };
    });
  }

  /** The ARN of one of the guard's own policies, by name (a Ref would make the policy refer to itself). */
  private policyArn(name: string): string {
    return Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: name });
  }

  /**
   * Attach the deny policy to a role, user or group (an imported one too).
   */
  public protect(principal: iam.IIdentity): void {
    const p = principal as unknown as Partial<iam.IRole & iam.IUser & iam.IGroup>;
    if (p.roleArn !== undefined) {
      this.managedPolicy.attachToRole(principal as iam.IRole);
    } else if (p.userArn !== undefined) {
      this.managedPolicy.attachToUser(principal as iam.IUser);
      acknowledge(this.managedPolicy, guard('iam_user_no_policies_check',
        'this policy only denies: attaching it to a user restricts the user and grants nothing (protect the user\'s groups where you can)'));
    } else if (p.groupArn !== undefined) {
      this.managedPolicy.attachToGroup(principal as iam.IGroup);
    } else {
      fail(this, 'protect(principal)', 'must be an IAM role, user or group', principal.node.path);
    }
  }

  /**
   * The deny statements under an allow-all, as a permissions boundary: the ceiling of every
   * role or user it is applied to. Created on first use.
   */
  public get permissionsBoundary(): iam.ManagedPolicy {
    if (!this.boundary) {
      const document = new WormPolicyDocument({
        statements: [new iam.PolicyStatement({ sid: 'AllowWithinBoundary', actions: ['*'], resources: ['*'] })],
      });
      const boundaryName = `${this.policyName.slice(0, 100)}-boundary`;
      // the documents rendered so far learn of the boundary; the boundary's own gets it from newDocument
      for (const doc of [...this.documents, ...this.scpSets.map((set) => set[set.length - 1])]) {
        doc.addStatements(...this.statements.boundaryStatements(this.policyArn(boundaryName)));
      }
      this.boundaryName = boundaryName;
      this.boundary = new iam.ManagedPolicy(this, 'PermissionsBoundary', {
        managedPolicyName: boundaryName,
        description: 'Permissions boundary: anything the identity policies allow, except destroying or sharing backups (cdk-ebs-backup)',
        document: this.newDocument(this.documents, document),
      });
      const why = 'a permissions boundary is a ceiling, not a grant: its Allow * only lets the identity policies through, and the deny statements under it are its purpose';
      acknowledge(this.boundary,
        nag('IAM5', why, 'Action::*'),
        nag('IAM5', why, 'Resource::*'),
        guard('iam_managed_policy_no_statements_with_admin_access_check', why),
        guard('iam_managed_policy_no_statements_with_full_access_check', why),
      );
    }
    return this.boundary;
  }

  /**
   * Apply the permissions boundary to every role and user in `scope` (a stack, a construct or
   * one role).
   */
  public applyPermissionsBoundary(scope: IConstruct): void {
    iam.PermissionsBoundary.of(scope).apply(this.permissionsBoundary);
  }

  /**
   * Deny scheduling deletion of, or disabling, a key that encrypts snapshots or vaults.
   */
  public protectKey(key: kms.IKey): void {
    this.statements.addKey(key);
    if (!this.keyStatementRendered) {
      this.keyStatementRendered = true;
      for (const doc of [...this.documents, ...this.scpSets.map((set) => set[set.length - 1])]) {
        doc.addStatements(...this.statements.keyStatements());
      }
    }
  }

  /**
   * Exempt one more role: by default one that legitimately deletes expired snapshots or AMIs
   * (deletion, sharing and purpose-tag statements). A role that locks snapshots needs
   * `{ snapshotLock: true }` to pass the snapshot-lock statement; deletion roles do not get it,
   * since a role that may unlock could lift a governance lock and then delete.
   */
  public exemptRole(role: iam.IRole, options: ExemptRoleOptions = {}): void {
    const lifecycle = options.lifecycle ?? true;
    const lock = options.snapshotLock ?? false;
    if (!lifecycle && !lock) {
      fail(this, 'exemptRole(options)', 'must exempt the role from at least one statement group (lifecycle or snapshotLock)', role.node.path);
    }
    if (lifecycle) {
      this.statements.addExemptRole(role);
    }
    if (lock) {
      this.statements.addLockRole(role);
    }
  }

  /**
   * The deny statements as one service control policy document for AWS Organizations (checked
   * against the 5,120-character quota at synthesis; `toServiceControlPolicies()` splits them when
   * they outgrow it). Attach it with an `AWS::Organizations::Policy` in the management account.
   */
  public toServiceControlPolicy(): iam.PolicyDocument {
    const doc = this.newDocument([]);
    this.scpSets.push([doc]);
    this.node.addValidation({ validate: () => checkScpSize(this, doc) });
    return doc;
  }

  /**
   * The deny statements as service control policy documents of at most 5,120 characters each
   * (split when they outgrow one): attach all of them to the same targets.
   */
  public toServiceControlPolicies(): iam.PolicyDocument[] {
    const docs = splitStatements(this, this.allStatements(), this.laterStatementsLength());
    this.scpSets.push(docs);
    docs.forEach((doc) => this.node.addValidation({ validate: () => checkScpSize(this, doc) }));
    return docs;
  }

  /**
   * The room statements added later need in the last SCP document: the key statements
   * (`protectKey()`, about one ARN token per key, two keys assumed) and the boundary statements
   * (`permissionsBoundary`), when they are not rendered yet.
   */
  private laterStatementsLength(): number {
    const keys = this.keyStatementRendered ? 0
      : this.statements.keyStatements().reduce((n, s) => n + statementLength(this, s), 0) + 2 * 2 * 100;
    const boundary = this.boundaryName ? 0
      : this.statements.boundaryStatements(this.policyArn(`${this.policyName.slice(0, 100)}-boundary`))
        .reduce((n, s) => n + statementLength(this, s), 0);
    return keys + boundary;
  }

  private newDocument(sink: iam.PolicyDocument[], document: iam.PolicyDocument = new WormPolicyDocument()): iam.PolicyDocument {
    document.addStatements(...this.allStatements());
    sink.push(document);
    return document;
  }

  private allStatements(): iam.PolicyStatement[] {
    return [
      ...this.statements.statements({ blockPublicAccess: this.blocksPublicAccess, lockRoles: this.lockRoles }),
      ...this.statements.guardPolicyStatements(() => [
        this.policyArn(this.policyName), ...this.boundaryName ? [this.policyArn(this.boundaryName)] : [],
      ]),
      ...this.boundaryName ? this.statements.boundaryStatements(this.policyArn(this.boundaryName)) : [],
    ];
  }
}
