import { IResolvable, IResolveContext, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { ProtectedResources, WormDenyOptions } from './deny-policy';
import { RetentionRoles } from '../core/retention-roles';
import { BackupTagging } from '../core/tagging';
import { check, checkCount, fail, isUnresolved } from '../core/validation';

/** The destructive actions, grouped as the statements the guard renders. */
export const WORM_ACTIONS = {
  deletion: ['ec2:DeleteSnapshot', 'ec2:DeregisterImage', 'ec2:DisableImageDeregistrationProtection'],
  sharing: ['ec2:ModifySnapshotAttribute', 'ec2:ModifyImageAttribute'],
  lock: ['ec2:LockSnapshot', 'ec2:UnlockSnapshot'],
  purposeTag: ['ec2:CreateTags', 'ec2:DeleteTags'],
  recycleBin: ['rbin:DeleteRule', 'rbin:UpdateRule', 'rbin:UnlockRule'],
  backup: [
    'backup:DeleteRecoveryPoint',
    'backup:UpdateRecoveryPointLifecycle',
    'backup:DisassociateRecoveryPoint',
    'backup:DisassociateRecoveryPointFromParent',
    'backup:DeleteBackupVault',
    'backup:DeleteBackupVaultAccessPolicy',
    'backup:PutBackupVaultAccessPolicy',
    'backup:DeleteBackupVaultLockConfiguration',
    'backup:PutBackupVaultLockConfiguration',
  ],
  keys: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'],
  blockPublicAccess: ['ec2:DisableSnapshotBlockPublicAccess', 'ec2:DisableImageBlockPublicAccess'],
};

/**
 * A principal ARN or pattern as `aws:PrincipalArn` carries it: an IAM role, user or account root.
 * Wildcards (`*`, `?`) are allowed anywhere but the service.
 */
const PRINCIPAL_ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*|\*):iam::(\d{12}|[*?\d]+):(root|role\/.+|user\/.+|\*)$/;

/** Check a list of principal ARNs as the user wrote them. */
export function checkPrincipalArns(scope: IConstruct, property: string, arns: string[] | undefined): void {
  if (arns === undefined || isUnresolved(arns)) {
    return;
  }
  checkCount(scope, property, arns, 0, 100);
  arns.forEach((arn, i) => {
    if (isUnresolved(arn)) {
      return;
    }
    if (/^arn:[^:]+:sts::[^:]*:assumed-role\//.test(arn)) {
      fail(scope, `${property}[${i}]`,
        'must be a role ARN (arn:aws:iam::<account>:role/<name>), not an assumed-role session: aws:PrincipalArn carries the role', arn);
    }
    check(PRINCIPAL_ARN.test(arn), scope, `${property}[${i}]`,
      'must be an IAM principal ARN such as arn:aws:iam::123456789012:role/BreakGlass (wildcards allowed)', arn);
  });
}

/** The SCP and managed-policy statements the guard renders, as a list of statements. */
export interface DenyStatementOptions {
  /** Roles exempt from the snapshot lock statement only (the lock job's own role). */
  readonly lockRoles?: iam.IRole[];
  /** Include the block-public-access statement. */
  readonly blockPublicAccess: boolean;
}

/**
 * Builds the deny statements of the write-once guard. The principal lists are resolved at
 * synthesis (registered retention roles may be created after the guard), for the stack that
 * renders them.
 */
export class WormDenyStatements {
  private readonly breakGlass: string[];
  private readonly exemptArns: string[];
  private readonly exemptRoles: iam.IRole[];
  private readonly lockArns: string[];
  private readonly lockRoles: iam.IRole[];
  private readonly includeRegistered: boolean;
  private readonly resources: ProtectedResources;
  private readonly keys: kms.IKey[];
  private readonly purposeKey: string;

  constructor(private readonly scope: IConstruct, options: WormDenyOptions) {
    checkPrincipalArns(scope, 'breakGlassPrincipalArns', options.breakGlassPrincipalArns);
    checkPrincipalArns(scope, 'exemptPrincipalArns', options.exemptPrincipalArns);
    checkPrincipalArns(scope, 'exemptLockPrincipalArns', options.exemptLockPrincipalArns);
    this.breakGlass = [...options.breakGlassPrincipalArns ?? []];
    this.exemptArns = [...options.exemptPrincipalArns ?? []];
    this.exemptRoles = [...options.exemptRoles ?? []];
    this.lockArns = [...options.exemptLockPrincipalArns ?? []];
    this.lockRoles = [...options.exemptLockRoles ?? []];
    this.includeRegistered = options.exemptRegisteredRetentionRoles ?? true;
    this.resources = options.protectedResources ?? ProtectedResources.all();
    this.keys = [...options.keys ?? []];
    this.purposeKey = BackupTagging.keys(scope).purpose;
    for (const [i, purpose] of this.resources.purposeValues.entries()) {
      BackupTagging.validatePurpose(scope, `protectedResources.purposes[${i}]`, purpose);
    }
  }

  /** Exempt one more role from the deletion, sharing and purpose-tag statements. */
  public addExemptRole(role: iam.IRole): void {
    if (!this.exemptRoles.includes(role)) {
      this.exemptRoles.push(role);
    }
  }

  /** Exempt one more role from the snapshot-lock statement (a role that locks snapshots). */
  public addLockRole(role: iam.IRole): void {
    if (!this.lockRoles.includes(role)) {
      this.lockRoles.push(role);
    }
  }

  /**
   * True when nobody at all is exempt from the statements that protect the guard's own settings
   * and from the deletion statement (registered retention roles aside): no break-glass principal,
   * no exempt principal pattern and no exempt role.
   */
  public get nobodyExempt(): boolean {
    return this.breakGlass.length === 0 && this.exemptArns.length === 0 && this.exemptRoles.length === 0
      && this.lockArns.length === 0 && this.lockRoles.length === 0;
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
    const lifecycle = () => this.exemption('lifecycle', []);
    const breakGlassOnly = this.exemption('breakGlass', []);
    const tagCondition = this.tagCondition();
    const out: iam.PolicyStatement[] = [];

    const deny = (sid: string, actions: string[], resources: string[], exempt: IResolvable, extra: Record<string, unknown> = {}) => {
      const statement = new iam.PolicyStatement({ sid, effect: iam.Effect.DENY, actions, resources });
      statement.addCondition('ArnNotLike', exempt);
      for (const [op, value] of Object.entries(extra)) {
        statement.addCondition(op, value);
      }
      out.push(statement);
    };

    deny('DenyBackupDeletion', WORM_ACTIONS.deletion, ['*'], lifecycle(), tagCondition);
    deny('DenyBackupSharingChanges', WORM_ACTIONS.sharing, ['*'], lifecycle(), tagCondition);
    // Only lock roles (the guard's lock job, roles exempted for locking) lock; nobody else but
    // break-glass unlocks or shortens a lock. Deletion roles are deliberately not exempt: a role
    // that may unlock could lift a governance lock and then delete.
    deny('DenySnapshotLockChanges', WORM_ACTIONS.lock, ['*'], this.exemption('lock', options.lockRoles ?? []), tagCondition);
    if (this.resources.tagScoped) {
      // Without this, removing (or re-valuing) the purpose tag would take a snapshot out of the guard.
      deny('DenyPurposeTagChanges', WORM_ACTIONS.purposeTag, ['arn:*:ec2:*::snapshot/*', 'arn:*:ec2:*::image/*'], lifecycle(), {
        ...tagCondition,
        'ForAnyValue:StringEquals': { 'aws:TagKeys': [this.purposeKey] },
      });
    }
    deny('DenyRecycleBinChanges', WORM_ACTIONS.recycleBin, ['*'], breakGlassOnly);
    deny('DenyBackupVaultChanges', WORM_ACTIONS.backup, ['*'], lifecycle());
    if (this.keys.length > 0) {
      deny('DenyBackupKeyDestruction', WORM_ACTIONS.keys, Lazy.list({ produce: () => this.keys.map((k) => k.keyArn) }), breakGlassOnly);
    }
    if (options.blockPublicAccess) {
      deny('DenyBlockPublicAccessChanges', WORM_ACTIONS.blockPublicAccess, ['*'], breakGlassOnly);
    }
    return out;
  }

  private tagCondition(): Record<string, unknown> {
    if (!this.resources.tagScoped) {
      return {};
    }
    const key = `aws:ResourceTag/${this.purposeKey}`;
    return this.resources.purposeValues.length > 0
      ? { StringEquals: { [key]: this.resources.purposeValues } }
      : { Null: { [key]: 'false' } };
  }

  /**
   * The `ArnNotLike` condition value, resolved for the stack that renders it. It resolves to
   * nothing when nobody is exempt (every principal is denied); `WormPolicyDocument` then drops
   * the empty `Condition` block.
   */
  private exemption(group: 'lifecycle' | 'lock' | 'breakGlass', extraRoles: iam.IRole[]): IResolvable {
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
    Statement: document.Statement.map((statement: any) => {
      const condition = statement?.Condition;
      if (condition === undefined || condition === null || typeof condition !== 'object' || Token.isUnresolved(condition)) {
        return statement;
      }
      const kept = Object.fromEntries(Object.entries(condition)
        .filter(([, value]) => value !== undefined && !(typeof value === 'object' && value !== null && Object.keys(value).length === 0)));
      const rest = { ...statement };
      delete rest.Condition;
      return Object.keys(kept).length === 0 ? rest : { ...rest, Condition: kept };
    }),
  };
}
