/**
 * The one catalogue of actions that destroy, expire, unlock, leak or weaken backups. The guard's
 * managed policy, its permissions boundary, the organization SCP and the vault and key policies
 * all render their denies from these groups, so that they cannot drift apart.
 *
 * Two classes:
 * - `data`: what touches a protected backup itself (delete, deregister, expire, unlock, share,
 *   archive, re-tag, copy without the purpose tag, read out of the account). Exempt: break-glass
 *   and the registered retention roles (and, for locking only, the lock roles).
 * - `configuration`: what changes the protection (the guard's own policies and attachments, the
 *   exempt roles' trust and permissions, DLM policies, Backup plans, vault policies and locks,
 *   Recycle Bin rules, block public access, the keys' policies). Exempt: break-glass and the
 *   declared deployment principals, so that stack updates keep working.
 */

/** The class of a group of destructive actions. */
export type DenyClass = 'data' | 'configuration';

/** What an action of a group acts on: the attack-path suite builds its sample requests from it. */
export type ActionTarget = 'snapshot' | 'image' | 'recovery-point' | 'vault' | 'backup-plan' | 'dlm-policy' | 'rbin-rule'
| 'key' | 'account' | 'role' | 'policy';

/** A group of actions rendered as one deny statement. */
export interface DestructiveActionGroup {
  readonly denyClass: DenyClass;
  readonly target: ActionTarget;
  readonly actions: readonly string[];
}

function group(denyClass: DenyClass, target: ActionTarget, ...actions: string[]): DestructiveActionGroup {
  return { denyClass, target, actions };
}

/** Every group, by the name of the statement that renders it. */
export const DESTRUCTIVE_ACTIONS = {
  // --- data
  snapshotDeletion: group('data', 'snapshot', 'ec2:DeleteSnapshot'),
  imageDeletion: group('data', 'image', 'ec2:DeregisterImage', 'ec2:DisableImageDeregistrationProtection'),
  sharing: group('data', 'snapshot', 'ec2:ModifySnapshotAttribute', 'ec2:ModifyImageAttribute'),
  // archived snapshots take 24-72 hours to restore and lose fast snapshot restore and sharing
  archive: group('data', 'snapshot', 'ec2:ModifySnapshotTier'),
  lock: group('data', 'snapshot', 'ec2:LockSnapshot', 'ec2:UnlockSnapshot'),
  purposeTag: group('data', 'snapshot', 'ec2:CreateTags', 'ec2:DeleteTags'),
  // a copy that does not carry the purpose tag escapes a tag-scoped guard
  copy: group('data', 'snapshot', 'ec2:CopySnapshot', 'ec2:CopyImage'),
  // reading the blocks out, or exporting the image, leaks the data without sharing
  directRead: group('data', 'snapshot', 'ebs:GetSnapshotBlock', 'ebs:ListSnapshotBlocks', 'ebs:ListChangedBlocks'),
  imageExport: group('data', 'image', 'ec2:CreateStoreImageTask', 'ec2:ExportImage'),
  recoveryPoints: group('data', 'recovery-point',
    'backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle',
    'backup:DisassociateRecoveryPoint', 'backup:DisassociateRecoveryPointFromParent'),
  // a backup whose key is gone is gone: EBS snapshots keep the source volume's key
  keyDestruction: group('data', 'key', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:RevokeGrant', 'kms:DeleteImportedKeyMaterial'),

  // --- protection configuration
  vaultConfiguration: group('configuration', 'vault',
    'backup:DeleteBackupVault', 'backup:PutBackupVaultAccessPolicy', 'backup:DeleteBackupVaultAccessPolicy',
    'backup:PutBackupVaultLockConfiguration', 'backup:DeleteBackupVaultLockConfiguration'),
  // sharing a logically air-gapped vault with another account; removing its restore approval team
  vaultSharing: group('configuration', 'vault', 'backup:PutBackupVaultSharingPolicy', 'backup:DisassociateBackupVaultMpaApprovalTeam'),
  backupPlans: group('configuration', 'backup-plan', 'backup:UpdateBackupPlan', 'backup:DeleteBackupPlan', 'backup:DeleteBackupSelection'),
  // cut a count to 1 and DLM's exempt role deletes the rest at the next run
  dlmPolicies: group('configuration', 'dlm-policy', 'dlm:UpdateLifecyclePolicy', 'dlm:DeleteLifecyclePolicy'),
  recycleBin: group('configuration', 'rbin-rule', 'rbin:DeleteRule', 'rbin:UpdateRule', 'rbin:UnlockRule'),
  keyPolicies: group('configuration', 'key', 'kms:PutKeyPolicy'),
  // new copies encrypted without a named key would use a key the attacker deletes later
  ebsEncryptionDefaults: group('configuration', 'account', 'ec2:ModifyEbsDefaultKmsKeyId', 'ec2:DisableEbsEncryptionByDefault'),
  blockPublicAccess: group('configuration', 'account', 'ec2:DisableSnapshotBlockPublicAccess', 'ec2:DisableImageBlockPublicAccess'),
  guardPolicies: group('configuration', 'policy',
    'iam:DetachRolePolicy', 'iam:DetachUserPolicy', 'iam:DetachGroupPolicy',
    'iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicyVersion', 'iam:DeletePolicy'),
  permissionsBoundary: group('configuration', 'role',
    'iam:DeleteRolePermissionsBoundary', 'iam:DeleteUserPermissionsBoundary', 'iam:PutRolePermissionsBoundary', 'iam:PutUserPermissionsBoundary'),
  // re-trust an exempt role and assume it, or give it to a resource the attacker controls
  exemptRoles: group('configuration', 'role',
    'iam:CreateRole', 'iam:UpdateAssumeRolePolicy', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:DeleteRolePolicy',
    'iam:DetachRolePolicy', 'iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary', 'iam:DeleteRole',
    'iam:UpdateRole', 'iam:PassRole'),
} satisfies Record<string, DestructiveActionGroup>;

/** The name of a group of the catalogue. */
export type DestructiveActionGroupName = keyof typeof DESTRUCTIVE_ACTIONS;

/** The actions of some groups, in catalogue order, without repeats. */
export function actionsOf(...groups: DestructiveActionGroupName[]): string[] {
  return [...new Set(groups.flatMap((g) => DESTRUCTIVE_ACTIONS[g].actions))];
}
