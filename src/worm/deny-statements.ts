import { IResolvable, IResolveContext, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { ProtectedResources, WormDenyOptions } from './deny-policy';
import {
  actionsOf, APP_CONSISTENT_TAG, DESTRUCTIVE_ACTIONS, DestructiveActionGroupName, TRUSTED_TAG_NAMES,
} from '../core/destructive-actions';
import { checkPrincipalArns, deploymentPrincipalArns, isRoleArn } from '../core/principal-arns';
import { RetentionRoles } from '../core/retention-roles';
import { BackupTagging } from '../core/tagging';
import { checkAccountId, checkCount, fail } from '../core/validation';

/** The SCP and managed-policy statements the guard renders, as a list of statements. */
export interface DenyStatementOptions {
  /** Roles exempt from the snapshot lock statement only (the lock job's own role). */
  readonly lockRoles?: iam.IRole[];
  /** Include the block-public-access statement. */
  readonly blockPublicAccess: boolean;
}

/** Who passes a statement. */
type Exemption = 'lifecycle' | 'lock' | 'breakGlass' | 'deployment';

const SNAPSHOTS_AND_IMAGES = ['arn:*:ec2:*::snapshot/*', 'arn:*:ec2:*::image/*'];

/**
 * Builds the deny statements of the write-once guard, in two classes (see
 * `core/destructive-actions.ts`): data (break-glass and the retention roles pass) and protection
 * configuration (break-glass and the deployment principals pass). The principal lists are
 * resolved at synthesis (registered retention roles may be created after the guard), for the
 * stack that renders them.
 */
export class WormDenyStatements {
  private readonly breakGlass: string[];
  private readonly exemptArns: string[];
  private readonly exemptRoles: iam.IRole[];
  private readonly lockArns: string[];
  private readonly lockRoles: iam.IRole[];
  private readonly deployment: string[];
  private readonly sharingAccounts: string[];
  private readonly includeRegistered: boolean;
  /** Which snapshots and AMIs the data statements protect (recovery points are protected whatever the scope). */
  public readonly resources: ProtectedResources;
  private readonly keys: kms.IKey[];
  private readonly purposeKey: string;
  private readonly managedByKey: string;
  private readonly trustedTagKeys: string[];

  constructor(private readonly scope: IConstruct, options: WormDenyOptions, organizationWide = false) {
    checkPrincipalArns(scope, 'breakGlassPrincipalArns', options.breakGlassPrincipalArns);
    checkPrincipalArns(scope, 'exemptPrincipalArns', options.exemptPrincipalArns);
    checkPrincipalArns(scope, 'exemptLockPrincipalArns', options.exemptLockPrincipalArns);
    this.deployment = deploymentPrincipalArns(scope, 'deploymentPrincipalArns', options.deploymentPrincipalArns, organizationWide);
    checkCount(scope, 'sharingAllowedAccounts', options.sharingAllowedAccounts, 0, 100);
    (options.sharingAllowedAccounts ?? []).forEach((a, i) => checkAccountId(scope, `sharingAllowedAccounts[${i}]`, a));
    this.sharingAccounts = [...options.sharingAllowedAccounts ?? []];
    this.breakGlass = [...options.breakGlassPrincipalArns ?? []];
    this.exemptArns = [...options.exemptPrincipalArns ?? []];
    this.exemptRoles = [...options.exemptRoles ?? []];
    this.lockArns = [...options.exemptLockPrincipalArns ?? []];
    this.lockRoles = [...options.exemptLockRoles ?? []];
    this.includeRegistered = options.exemptRegisteredRetentionRoles ?? true;
    this.resources = options.protectedResources ?? ProtectedResources.all();
    this.keys = [...options.keys ?? [], ...options.sourceKeys ?? []];
    const keys = BackupTagging.keys(scope);
    this.purposeKey = keys.purpose;
    this.managedByKey = keys.managedBy;
    this.trustedTagKeys = [...new Set([keys.purpose, keys.retention, keys.managedBy, ...TRUSTED_TAG_NAMES.map((n) => BackupTagging.key(scope, n))])];
    for (const [i, purpose] of this.resources.purposeValues.entries()) {
      BackupTagging.validatePurpose(scope, `protectedResources.purposes[${i}]`, purpose);
    }
  }

  /** Exempt one more role from the data statements (deletion, sharing, purpose tag, ...). */
  public addExemptRole(role: iam.IRole): void {
    // a role given twice is rendered once (protectedRoleArns, exemption)
    this.exemptRoles.push(role);
  }

  /** Exempt one more role from the snapshot-lock statement (a role that locks snapshots). */
  public addLockRole(role: iam.IRole): void {
    this.lockRoles.push(role);
  }

  /**
   * True when nobody at all is exempt from the data statements (registered retention roles
   * aside): no break-glass principal, no exempt principal pattern and no exempt role. Deployment
   * principals pass the configuration statements only, so they do not count.
   */
  public get nobodyExempt(): boolean {
    return this.breakGlass.length === 0 && this.exemptArns.length === 0 && this.exemptRoles.length === 0
      && this.lockArns.length === 0 && this.lockRoles.length === 0;
  }

  /** True when no break-glass principal is declared. */
  public get noBreakGlass(): boolean {
    return this.breakGlass.length === 0;
  }

  /** Protect one more key. */
  public addKey(key: kms.IKey): void {
    if (!this.keys.includes(key)) {
      this.keys.push(key);
    }
  }

  /** The purpose tag key the statements are scoped by. */
  public get tagKey(): string {
    return this.purposeKey;
  }

  /** Render the statements. */
  public statements(options: DenyStatementOptions): iam.PolicyStatement[] {
    const tagCondition = this.tagCondition();
    const out: iam.PolicyStatement[] = [];
    const deny = (sid: string, actions: string[], resources: string[], exempt: IResolvable, extra: Record<string, unknown> = {}) => {
      out.push(denyStatement(sid, actions, resources, exempt, extra));
    };
    const lifecycle = () => this.exemption('lifecycle', []);
    const configuration = () => this.exemption('deployment', []);
    const group = (...names: DestructiveActionGroupName[]) => actionsOf(...names);

    // --- data: protected backups themselves
    deny('DenyBackupDeletion', group('snapshotDeletion', 'imageDeletion'), ['*'], lifecycle(), tagCondition);
    deny('DenyBackupSharingChanges', group('sharing'), ['*'], lifecycle(), tagCondition);
    // ModifyImageAttribute has no ec2:Add/userId (Service Authorization Reference, EC2): AMIs are covered
    // by DenyBackupSharingChanges (protected ones) and image block public access only
    deny('DenySharingOutsideAllowedAccounts', ['ec2:ModifySnapshotAttribute'], ['*'], lifecycle(), this.sharingCondition());
    deny('DenySnapshotArchiving', group('archive'), ['*'], lifecycle(), tagCondition);
    // Only lock roles (the guard's lock job, roles exempted for locking) lock; nobody else but
    // break-glass unlocks or shortens a lock. Deletion roles are deliberately not exempt: a role
    // that may unlock could lift a governance lock and then delete.
    deny('DenySnapshotLockChanges', group('lock'), ['*'], this.exemption('lock', options.lockRoles ?? []), tagCondition);
    if (this.resources.tagScoped) {
      // Without this, removing (or re-valuing) the purpose tag would take a snapshot out of the guard.
      deny('DenyPurposeTagChanges', group('purposeTag'), SNAPSHOTS_AND_IMAGES, lifecycle(), {
        ...tagCondition,
        'ForAnyValue:StringEquals': { 'aws:TagKeys': [this.purposeKey] },
      });
    }
    // DeleteTags without a Tags list removes every user tag (EC2 API Reference, DeleteTags) and
    // carries no aws:TagKeys at all: the statements on named keys never see it.
    deny('DenyRemovingAllTags', ['ec2:DeleteTags'], SNAPSHOTS_AND_IMAGES, lifecycle(), {
      ...tagCondition,
      Null: { ...(tagCondition.Null as object ?? {}), 'aws:TagKeys': 'true' },
    });
    out.push(...this.trustedTagStatements(lifecycle));
    // the copy must be protected too: it carries the purpose tag from its creation
    deny('DenyCopiesWithoutPurposeTag', group('copy'), SNAPSHOTS_AND_IMAGES, lifecycle(), {
      ...tagCondition,
      ...this.requestTagMissing(tagCondition),
    });
    deny('DenyReadingBackupsOut', group('directRead', 'imageExport'), ['*'], this.exemption('breakGlass', []), tagCondition);
    deny('DenyRecoveryPointChanges', group('recoveryPoints'), ['*'], lifecycle());
    deny('DenyBackupKeyDestruction', group('keyDestruction'), ['arn:*:kms:*:*:key/*'], this.exemption('breakGlass', []),
      { Null: { [`aws:ResourceTag/${this.purposeKey}`]: 'false' } });
    if (this.keys.length > 0) {
      out.push(...this.keyStatements());
    }

    // --- protection configuration
    deny('DenyVaultConfigurationChanges', group('vaultConfiguration'), ['*'], configuration());
    deny('DenyVaultSharingChanges', group('vaultSharing'), ['*'], configuration());
    deny('DenyBackupPlanChanges', group('backupPlans'), ['*'], configuration());
    deny('DenyDlmPolicyChanges', group('dlmPolicies'), ['*'], configuration());
    deny('DenyRecycleBinChanges', group('recycleBin'), ['*'], configuration());
    deny('DenyKeyPolicyChanges', group('keyPolicies'), ['arn:*:kms:*:*:key/*'], configuration(),
      { Null: { [`aws:ResourceTag/${this.purposeKey}`]: 'false' } });
    deny('DenyEbsEncryptionDefaultChanges', group('ebsEncryptionDefaults'), ['*'], configuration());
    if (options.blockPublicAccess) {
      deny('DenyBlockPublicAccessChanges', group('blockPublicAccess'), ['*'], configuration());
    }
    out.push(...this.machineryStatements(configuration));
    const roles = new ResolvedAt({ produce: (context) => this.protectedRoleArns(context.scope, options.lockRoles ?? []) });
    out.push(new iam.PolicyStatement({
      sid: 'DenyExemptRoleChanges',
      effect: iam.Effect.DENY,
      actions: group('exemptRoles'),
      resources: Token.asList(roles),
      conditions: { ArnNotLike: configuration() },
    }));
    return out;
  }

  /**
   * The tags the library's jobs trust (purpose, retention, managed-by, execution ids, source
   * instance, window id, `AppConsistent`) are set at creation only, on every snapshot and AMI
   * whatever `ProtectedResources` says: re-tagging a backup `age:0d`, or a look-alike into a job's
   * history, would make the exempt jobs delete for the attacker. `ec2:CreateAction` is present
   * only when CreateTags is authorized as part of the call that creates the resource (EC2 User
   * Guide, "Grant permission to tag Amazon EC2 resources during creation").
   *
   * `AppConsistent` keeps AWS's VSS flow: `AWSEC2VssSnapshotPolicy` lets the agent add it after
   * creation, on snapshots carrying `AwsVssConfig`, from the instance (`ec2:SourceInstanceARN` is
   * present only for requests signed with an instance's role credentials, EC2 User Guide, "IAM
   * roles for Amazon EC2"). Anything else adding it after creation is denied.
   */
  private trustedTagStatements(lifecycle: () => IResolvable): iam.PolicyStatement[] {
    const afterCreation = { 'ec2:CreateAction': 'true' };
    const app = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': [APP_CONSISTENT_TAG] } };
    return [
      denyStatement('DenyTrustedTagChanges', actionsOf('trustedTags'), SNAPSHOTS_AND_IMAGES, lifecycle(), {
        'ForAnyValue:StringEquals': { 'aws:TagKeys': this.trustedTagKeys },
        'Null': afterCreation,
      }),
      denyStatement('DenyAppConsistentOutsideVss', ['ec2:CreateTags'], SNAPSHOTS_AND_IMAGES, lifecycle(), {
        ...app,
        Null: { ...afterCreation, 'aws:ResourceTag/AwsVssConfig': 'true' },
      }),
      denyStatement('DenyAppConsistentFromOutsideInstances', ['ec2:CreateTags'], SNAPSHOTS_AND_IMAGES, lifecycle(), {
        ...app,
        Null: { ...afterCreation, 'ec2:SourceInstanceARN': 'true' },
      }),
    ];
  }

  /**
   * The library's own jobs are protected like the data they expire: their code, definitions,
   * documents, windows, schedules, alarms, topics and keys (every resource carrying the managed-by
   * tag, which `MACHINERY_RESOURCE_TYPES` get at creation) change only through break-glass and
   * the deployment principals, and so does the tag itself. Every service here lists
   * `aws:ResourceTag` for the resource types of these actions (Service Authorization Reference).
   */
  private machineryStatements(configuration: () => IResolvable): iam.PolicyStatement[] {
    const tagged = { Null: { [`aws:ResourceTag/${this.managedByKey}`]: 'false' } };
    return [
      denyStatement('DenyMachineryChanges', actionsOf('machineryFunctions', 'machineryStateMachines', 'machineryExecutions',
        'machineryDocuments', 'machineryWindows', 'machineryAssociations', 'machineryRules', 'machineryAlarms', 'machineryTopics',
        'machineryKeys'), ['*'], configuration(), tagged),
      denyStatement('DenyMachineryTagChanges', actionsOf('machineryTags'), ['*'], configuration(),
        { 'ForAnyValue:StringEquals': { 'aws:TagKeys': [this.managedByKey] } }),
    ];
  }

  /** The statements on the explicitly named keys (protectKey(), keys, sourceKeys). */
  public keyStatements(): iam.PolicyStatement[] {
    const keys = new ResolvedAt({ produce: () => this.keys.map((k) => k.keyArn) });
    return [
      denyStatement('DenyNamedKeyDestruction', actionsOf('keyDestruction'), Token.asList(keys), this.exemption('breakGlass', [])),
      denyStatement('DenyNamedKeyPolicyChanges', actionsOf('keyPolicies'), Token.asList(keys), this.exemption('deployment', [])),
    ];
  }

  /**
   * The statements that keep the guard's own policies in place: no new version, no deleting
   * them, no detaching them (the policy detached is in `iam:PolicyARN`; the resource is the role,
   * user or group).
   */
  public guardPolicyStatements(policyArns: () => string[]): iam.PolicyStatement[] {
    const exempt = this.exemption('deployment', []);
    const policies = new ResolvedAt({ produce: () => policyArns() });
    const detach = ['iam:DetachRolePolicy', 'iam:DetachUserPolicy', 'iam:DetachGroupPolicy'];
    const versions = DESTRUCTIVE_ACTIONS.guardPolicies.actions.filter((a) => !detach.includes(a));
    return [
      denyStatement('DenyGuardPolicyVersions', versions, Token.asList(policies), exempt),
      denyStatement('DenyGuardPolicyDetachment', detach, ['*'], exempt, { ArnLike: { 'iam:PolicyARN': policies } }),
    ];
  }

  /**
   * The statements that keep the permissions boundary on: `iam:PermissionsBoundary` is the
   * boundary currently set for the Delete actions and the one being set for the Put actions
   * (Service Authorization Reference, IAM), so removing it, or swapping it for another, is denied.
   */
  public boundaryStatements(boundaryArn: string): iam.PolicyStatement[] {
    const exempt = this.exemption('deployment', []);
    return [
      denyStatement('DenyGuardBoundaryRemoval', ['iam:DeleteRolePermissionsBoundary', 'iam:DeleteUserPermissionsBoundary'], ['*'], exempt,
        { ArnLike: { 'iam:PermissionsBoundary': [boundaryArn] } }),
      denyStatement('DenyBoundaryReplacement', ['iam:PutRolePermissionsBoundary', 'iam:PutUserPermissionsBoundary'], ['*'], exempt,
        { ArnNotEquals: { 'iam:PermissionsBoundary': [boundaryArn] } }),
    ];
  }

  private tagCondition(): Record<string, any> {
    if (!this.resources.tagScoped) {
      return {};
    }
    const key = `aws:ResourceTag/${this.purposeKey}`;
    return this.resources.purposeValues.length > 0
      ? { StringEquals: { [key]: this.resources.purposeValues } }
      : { Null: { [key]: 'false' } };
  }

  /** The request does not tag the new copy as protected. */
  private requestTagMissing(tagCondition: Record<string, any>): Record<string, unknown> {
    const key = `aws:RequestTag/${this.purposeKey}`;
    if (this.resources.purposeValues.length > 0) {
      // negated operators are true when the key is absent
      return { StringNotEquals: { [key]: this.resources.purposeValues } };
    }
    return { Null: { ...(tagCondition.Null ?? {}), [key]: 'true' } };
  }

  /**
   * Adding any account outside the allow-list: `ec2:Add/userId` (single-valued, present only
   * when accounts are added) carries the account added to a snapshot's createVolumePermission.
   */
  private sharingCondition(): Record<string, unknown> {
    const key = 'ec2:Add/userId';
    return this.sharingAccounts.length > 0
      ? { StringNotEquals: { [key]: this.sharingAccounts }, Null: { [key]: 'false' } }
      : { Null: { [key]: 'false' } };
  }

  /**
   * Every role the statements exempt, as ARNs or patterns: re-trusting one of them, giving it
   * more rights or passing it to a resource the attacker controls would walk around the denies.
   * `lockRoles` are the statement's own lock roles (the guard's lock job): exempt from the lock
   * statement, so protected like the others (re-trusted, it would unlock or shorten locks).
   */
  private protectedRoleArns(consumer: IConstruct, lockRoles: iam.IRole[]): string[] {
    const roles = [...this.exemptRoles, ...this.lockRoles, ...lockRoles, ...this.includeRegistered ? RetentionRoles.roles(this.scope) : []];
    const arns = [...this.breakGlass, ...this.exemptArns, ...this.lockArns, ...this.deployment]
      .filter((a) => Token.isUnresolved(a) || isRoleArn(a));
    for (const role of new Set(roles)) {
      arns.push(roleArnFor(consumer, role));
    }
    return [...new Set(arns)];
  }

  /**
   * The `ArnNotLike` condition value, resolved for the stack that renders it. It resolves to
   * nothing when nobody is exempt (every principal is denied); `WormPolicyDocument` then drops
   * the empty `Condition` block.
   */
  private exemption(group: Exemption, extraRoles: iam.IRole[]): IResolvable {
    return new ResolvedAt({
      produce: (context: IResolveContext) => {
        const arns = [...this.breakGlass];
        const roles = [...extraRoles];
        if (group === 'lifecycle') {
          arns.push(...this.exemptArns);
          roles.push(...this.exemptRoles);
          if (this.includeRegistered) {
            roles.push(...RetentionRoles.roles(this.scope));
          }
        } else if (group === 'lock') {
          arns.push(...this.lockArns);
          roles.push(...this.lockRoles);
        } else if (group === 'deployment') {
          arns.push(...this.deployment);
        }
        for (const role of new Set(roles)) {
          arns.push(roleArnFor(context.scope, role));
        }
        const unique = [...new Set(arns)];
        return unique.length === 0 ? undefined : { 'aws:PrincipalArn': unique };
      },
    });
  }
}

function denyStatement(
  sid: string, actions: string[], resources: string[], exempt: IResolvable, extra: Record<string, unknown> = {},
): iam.PolicyStatement {
  const statement = new iam.PolicyStatement({ sid, effect: iam.Effect.DENY, actions, resources });
  statement.addCondition('ArnNotLike', exempt);
  for (const [op, value] of Object.entries(extra)) {
    statement.addCondition(op, value);
  }
  return statement;
}

/**
 * The ARN of `role` as the stack rendering `consumer` may name it. Within one environment CDK
 * wires the reference; across accounts (an SCP in the management account naming a member
 * account's DLM role) only a role with a physical name can be named, so say what to do.
 */
function roleArnFor(consumer: IConstruct, role: iam.IRole): string {
  if (!Token.isUnresolved(role.roleArn)) {
    return role.roleArn;
  }
  const from = Stack.of(consumer);
  const owner = Stack.of(role);
  const sameEnv = from === owner || (owner.account === from.account && owner.region === from.region);
  const physicalName = (role as unknown as { physicalName?: string }).physicalName;
  if (!sameEnv && (physicalName === undefined || Token.isUnresolved(physicalName))) {
    fail(consumer, 'exempt role',
      `${role.node.path} lives in another environment (${owner.account}/${owner.region}) and has a generated name, so the ` +
      'policy cannot name it; give it a roleName, or exempt it by pattern with exemptPrincipalArns and set exemptRegisteredRetentionRoles: false',
      from.account);
  }
  return role.roleArn;
}

/** A value computed when the stack that renders it resolves it (Lazy producers do not see the scope). */
class ResolvedAt implements IResolvable {
  public readonly creationStack: string[] = [];
  constructor(private readonly producer: { produce(context: IResolveContext): unknown }) {}
  public resolve(context: IResolveContext): unknown {
    return this.producer.produce(context);
  }
  public toString(): string {
    return Token.asString(this);
  }
}

/**
 * A policy document that drops the `Condition` block of a statement when every condition in it
 * resolved to nothing (no exempt principal): the statement then denies everyone, which is the
 * intent, and IAM gets no empty `"Condition": {}`.
 */
export class WormPolicyDocument extends iam.PolicyDocument {
  public resolve(context: IResolveContext): any {
    const wrapped: IResolveContext = {
      scope: context.scope,
      preparing: context.preparing,
      documentPath: context.documentPath,
      resolve: (x, options) => context.resolve(x, options),
      registerPostProcessor: (pp) => context.registerPostProcessor({
        postProcess: (input, ctx) => dropEmptyConditions(pp.postProcess(input, ctx)),
      }),
    };
    return super.resolve(wrapped);
  }
}

function dropEmptyConditions(document: any): any {
  if (!document || !Array.isArray(document.Statement)) {
    return document;
  }
  return {
    ...document,
    // a statement on a resource list that resolved empty (nobody to protect) is dropped
    Statement: document.Statement.filter((statement: any) => !(Array.isArray(statement.Resource) && statement.Resource.length === 0))
      .map((statement: any) => {
        // resolving drops an operator whose value resolved to undefined (nobody exempt); a block left empty goes
        if (statement.Condition === undefined || Object.keys(statement.Condition).length > 0) {
          return statement;
        }
        const { Condition: _empty, ...rest } = statement;
        return rest;
      }),
  };
}
