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
 * - `machinery`: what changes the library's own jobs (function code and configuration, state
 *   machine definitions and executions, the SSM documents and windows that run on instances, the
 *   schedules, the alarms, the alarm topics and keys), scoped to resources carrying the library's
 *   managed-by tag (`MACHINERY_RESOURCE_TYPES` are tagged at creation), and changing that tag.
 *   Exempt like `configuration`: break-glass and the deployment principals. A third class, not
 *   part of `configuration`, because its scope is the tag rather than the resource kind: a
 *   rewritten or silenced job is the easiest way around the data denies, since its roles are
 *   exempt from them.
 */

/** The class of a group of destructive actions. */
export type DenyClass = 'data' | 'configuration' | 'machinery';

/** What an action of a group acts on: the attack-path suite builds its sample requests from it. */
export type ActionTarget = 'snapshot' | 'image' | 'recovery-point' | 'vault' | 'backup-plan' | 'dlm-policy' | 'rbin-rule'
| 'key' | 'account' | 'role' | 'policy'
| 'function' | 'state-machine' | 'execution' | 'document' | 'maintenance-window' | 'association' | 'rule' | 'alarm' | 'topic'
| 'machinery-key' | 'machinery-tag';

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

  // --- machinery (resources tagged with the managed-by key)
  // rewrite the code or the role of an exempt deleter, or silence it (concurrency 0, no invoke
  // permission for its schedule, event invoke config that drops its events)
  machineryFunctions: group('machinery', 'function',
    'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration', 'lambda:DeleteFunction', 'lambda:PutFunctionConcurrency',
    'lambda:AddPermission', 'lambda:RemovePermission', 'lambda:PutFunctionEventInvokeConfig', 'lambda:UpdateFunctionEventInvokeConfig',
    'lambda:DeleteFunctionEventInvokeConfig', 'lambda:CreateAlias', 'lambda:UpdateAlias', 'lambda:DeleteAlias', 'lambda:PublishVersion',
    'lambda:PutFunctionCodeSigningConfig', 'lambda:DeleteFunctionCodeSigningConfig', 'lambda:PutRuntimeManagementConfig',
    'lambda:PutFunctionRecursionConfig', 'lambda:PutResourcePolicy', 'lambda:DeleteResourcePolicy'),
  // rewrite a housekeeping, lock or expiry definition (its role is exempt from the data denies)
  machineryStateMachines: group('machinery', 'state-machine',
    'states:UpdateStateMachine', 'states:DeleteStateMachine', 'states:PublishStateMachineVersion',
    'states:CreateStateMachineAlias', 'states:UpdateStateMachineAlias', 'states:DeleteStateMachineAlias'),
  // stop a running lock or housekeeping job: the Service Authorization Reference lists
  // aws:ResourceTag on the execution resource type
  machineryExecutions: group('machinery', 'execution', 'states:StopExecution'),
  // the window runs the document as root on every instance it targets
  machineryDocuments: group('machinery', 'document', 'ssm:UpdateDocument', 'ssm:UpdateDocumentDefaultVersion', 'ssm:DeleteDocument'),
  machineryWindows: group('machinery', 'maintenance-window',
    'ssm:UpdateMaintenanceWindow', 'ssm:DeleteMaintenanceWindow', 'ssm:UpdateMaintenanceWindowTask', 'ssm:UpdateMaintenanceWindowTarget',
    'ssm:RegisterTaskWithMaintenanceWindow', 'ssm:DeregisterTaskFromMaintenanceWindow', 'ssm:DeregisterTargetFromMaintenanceWindow',
    'ssm:CancelMaintenanceWindowExecution'),
  machineryAssociations: group('machinery', 'association', 'ssm:UpdateAssociation', 'ssm:DeleteAssociation'),
  machineryRules: group('machinery', 'rule', 'events:DisableRule', 'events:DeleteRule', 'events:PutRule', 'events:PutTargets', 'events:RemoveTargets'),
  // SetAlarmState is left out: the alarm re-evaluates at its next period and alarms again
  // a mute rule silences the actions of the alarms it names, as DisableAlarmActions does
  machineryAlarms: group('machinery', 'alarm', 'cloudwatch:DisableAlarmActions', 'cloudwatch:DeleteAlarms', 'cloudwatch:PutMetricAlarm',
    'cloudwatch:PutAlarmMuteRule'),
  // Unsubscribe through an e-mail endpoint's link is unauthenticated: IAM cannot stop it
  // a subscription filter that matches nothing, or a data protection policy that denies the
  // alarms' publish, silences the topic as Unsubscribe does
  machineryTopics: group('machinery', 'topic', 'sns:DeleteTopic', 'sns:SetTopicAttributes', 'sns:RemovePermission', 'sns:Unsubscribe',
    'sns:SetSubscriptionAttributes', 'sns:PutDataProtectionPolicy'),
  machineryKeys: group('machinery', 'machinery-key', 'kms:DisableKey', 'kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy'),
  // without its tag, a job's resource would fall out of every statement above
  machineryTags: group('machinery', 'machinery-tag',
    'lambda:TagResource', 'lambda:UntagResource', 'states:TagResource', 'states:UntagResource',
    'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource', 'events:TagResource', 'events:UntagResource',
    'cloudwatch:TagResource', 'cloudwatch:UntagResource', 'sns:TagResource', 'sns:UntagResource', 'kms:TagResource', 'kms:UntagResource'),

  // --- data: the tags the machinery trusts, set at creation only
  trustedTags: group('data', 'snapshot', 'ec2:CreateTags', 'ec2:DeleteTags'),
} satisfies Record<string, DestructiveActionGroup>;

/** The name of a group of the catalogue. */
export type DestructiveActionGroupName = keyof typeof DESTRUCTIVE_ACTIONS;

/** The actions of some groups, in catalogue order, without repeats. */
export function actionsOf(...groups: DestructiveActionGroupName[]): string[] {
  return [...new Set(groups.flatMap((g) => DESTRUCTIVE_ACTIONS[g].actions))];
}

/**
 * The CloudFormation resource types of the library's machinery: each one carries the managed-by
 * tag from its creation, and the `machinery` groups deny changing what carries it.
 */
export const MACHINERY_RESOURCE_TYPES: readonly string[] = [
  'AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine', 'AWS::SSM::Document', 'AWS::SSM::MaintenanceWindow',
  'AWS::SSM::Association', 'AWS::Events::Rule', 'AWS::CloudWatch::Alarm', 'AWS::SNS::Topic', 'AWS::KMS::Key',
];

/**
 * The names (after the tag prefix) of the tags the library's jobs read besides purpose,
 * retention and managed-by: execution ids (ConsistentSnapshotJob, the pre-change runbooks), the
 * source instance (RestoreDrill), the window id (housekeeping), the change reference. They are
 * set at creation only: re-tagging a backup into a deleter, or a look-alike into a job's history,
 * is denied (`trustedTags`).
 */
export const TRUSTED_TAG_NAMES: readonly string[] = [
  'execution', 'automation-execution', 'source-instance', 'window-id', 'change-ref', 'executed-by',
];

/**
 * The tag AWS's VSS agent adds after creation (with `Device`) to snapshots carrying
 * `AwsVssConfig`; housekeeping counts a snapshot without `AppConsistent=true` as crash-consistent.
 */
export const APP_CONSISTENT_TAG = 'AppConsistent';
