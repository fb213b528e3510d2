import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Which snapshots and AMIs the deny statements protect.
 *
 * @example
 * ProtectedResources.all();
 * ProtectedResources.purposeTagged();
 * ProtectedResources.purposes('database-dr', 'golden-ami');
 */
export class ProtectedResources {
  /**
   * Every snapshot and AMI in the account, whoever created it (the safe default).
   */
  public static all(): ProtectedResources {
    return new ProtectedResources(false, []);
  }

  /**
   * Only snapshots and AMIs that carry the library's purpose tag (any value). Removing or changing
   * that tag is denied as well, so the tag cannot be used to escape the guard.
   */
  public static purposeTagged(): ProtectedResources {
    return new ProtectedResources(true, []);
  }

  /**
   * Only snapshots and AMIs whose purpose tag has one of `purposes`. Changing the tag is denied.
   */
  public static purposes(...purposes: string[]): ProtectedResources {
    if (purposes.length === 0) {
      throw new Error('ProtectedResources.purposes: purposes must have at least 1 item, got [] (0 items)');
    }
    return new ProtectedResources(true, purposes);
  }

  /** True when only purpose-tagged snapshots and AMIs are protected. */
  public readonly tagScoped: boolean;

  /**
   * The purpose tag values protected.
   *
   * @default - empty: any value (or every resource when not tag-scoped)
   */
  public readonly purposeValues: string[];

  private constructor(tagScoped: boolean, purposes: string[]) {
    this.tagScoped = tagScoped;
    this.purposeValues = purposes;
  }
}

/**
 * Who may still do what the guard denies, and what it protects: shared by the account guard
 * (`WormSnapshotGuard`) and the organization-wide `WormServiceControlPolicy`.
 */
export interface WormDenyOptions {
  /**
   * Principals allowed past every deny, for an emergency (matched with `ArnNotLike` on
   * `aws:PrincipalArn`, so wildcards such as `arn:aws:iam::*:role/BreakGlass` work across
   * accounts). Give role ARNs, not assumed-role session ARNs: `aws:PrincipalArn` carries the role.
   *
   * @default - no break-glass principal: only detaching the policy (or the SCP, from the
   *   management account) lifts the protection
   */
  readonly breakGlassPrincipalArns?: string[];

  /**
   * ARN patterns of further principals that legitimately expire backups, such as the DLM default
   * role of every member account (`arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole`).
   * They are exempt from the deletion, sharing and purpose-tag statements, not from the snapshot-lock
   * statement (see `exemptLockPrincipalArns`) nor from the statements that protect the Recycle Bin,
   * the vaults' policies and the keys.
   *
   * @default - none besides the registered and given roles
   */
  readonly exemptPrincipalArns?: string[];

  /**
   * Roles that legitimately delete expired snapshots and AMIs and that this library did not create
   * (your own DLM or AWS Backup roles). Exempt like `exemptPrincipalArns`: not from the
   * snapshot-lock statement.
   *
   * @default - none besides the roles registered with `RetentionRoles`
   */
  readonly exemptRoles?: iam.IRole[];

  /**
   * ARN patterns of principals that lock snapshots (your own lock jobs, such as a lock role on a
   * known IAM path in every member account). They are exempt from the snapshot-lock statement
   * (`ec2:LockSnapshot`, `ec2:UnlockSnapshot`) only. Deletion roles are deliberately not exempt
   * from it: a role that may unlock could lift a governance lock and then delete.
   *
   * @default - only break-glass principals and the guard's own lock job may lock
   */
  readonly exemptLockPrincipalArns?: string[];

  /**
   * Roles that lock snapshots and that this library did not create. Exempt like
   * `exemptLockPrincipalArns`: from the snapshot-lock statement only.
   *
   * @default - only break-glass principals and the guard's own lock job may lock
   */
  readonly exemptLockRoles?: iam.IRole[];

  /**
   * Exempt every role registered with `RetentionRoles` in this app (the DLM execution roles and
   * AWS Backup roles of this library), read at synthesis so roles created after the guard count.
   * Without it the deny stops retention silently and snapshots pile up.
   *
   * @default true
   */
  readonly exemptRegisteredRetentionRoles?: boolean;

  /**
   * Which snapshots and AMIs are protected.
   *
   * @default ProtectedResources.all()
   */
  readonly protectedResources?: ProtectedResources;

  /**
   * KMS keys that encrypt snapshots and vaults: scheduling their deletion or disabling them is
   * denied too, since a backup whose key is gone is gone (Vault Lock does not protect the key).
   *
   * @default - no key statement
   */
  readonly keys?: kms.IKey[];

  /**
   * The KMS keys of the protected volumes. EBS snapshots, and AWS Backup's EBS and EC2 recovery
   * points, stay encrypted with the source volume's key, not the vault key: scheduling its
   * deletion, disabling it or changing its policy would make them unreadable, lock or not. Keys
   * carrying the purpose tag (any value) are protected the same way without being named here.
   *
   * @default - only the keys in `keys` and the keys tagged with the purpose tag
   */
  readonly sourceKeys?: kms.IKey[];

  /**
   * The roles that deploy the protected configuration (DLM policies, Backup plans, vault
   * policies and locks, Recycle Bin rules, key policies): they pass the protection
   * configuration statements, not the data statements. Give role ARNs (wildcards allowed);
   * anything else is an error. An empty list exempts no deployment.
   *
   * @default - the CDK bootstrap CloudFormation execution role of the stack's account and region
   *   (`cdk-<qualifier>-cfn-exec-role-<account>-<region>`) under the `DefaultStackSynthesizer`
   *   (for `WormServiceControlPolicy`: that role in any account and region), none under other
   *   synthesizers
   */
  readonly deploymentPrincipalArns?: string[];

  /**
   * The accounts snapshots and AMIs may be shared with (`createVolumePermission` and
   * `launchPermission` adds, matched on `ec2:Add/userId`). Sharing any snapshot or AMI with
   * another account is denied to all but break-glass and the retention roles.
   *
   * @default - none: no snapshot or AMI may be shared with another account
   */
  readonly sharingAllowedAccounts?: string[];

  /**
   * Deny turning off block public access for snapshots and AMIs.
   *
   * @default true
   */
  readonly denyDisablingBlockPublicAccess?: boolean;
}
