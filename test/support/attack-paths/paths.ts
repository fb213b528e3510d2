/**
 * The paths, as data. Attack paths come from issue 15 ("Write-once that holds against an
 * attacker"); each names the statements expected to break it (the README's threat model lists
 * them). Legitimate paths are what retention, deployments and break-glass must keep doing.
 */
import { Path, Step } from './index';
import { World } from './world';
import { OTHER_FUNCTIONS_DENY_SID } from '../../../src/core/service-trust';

export function attackPaths(w: World): Path[] {
  const p = w.principals;
  const r = w.resources;
  const a = p.attacker;
  const tags = w.protectedTags;
  const untagged = { [`${w.purposeKey.replace(/purpose$/, '')}retention`]: 'count:9' };
  const deleteNow = (principal: string, stepTags: Record<string, string> = tags): Step =>
    ({ principal, action: 'ec2:DeleteSnapshot', resource: r.snapshot, tags: stepTags, note: 'delete the backup' });
  const path = (source: string, name: string, brokenBy: string[], ...steps: Step[]): Path => ({ source, name, brokenBy, steps });

  return [
    path('direct', 'delete a protected snapshot', ['DenyBackupDeletion'], deleteNow(a)),
    path('direct', 'deregister a protected AMI', ['DenyBackupDeletion'],
      { principal: a, action: 'ec2:DeregisterImage', resource: r.image, tags }),
    path('direct', 'delete a recovery point', ['DenyRecoveryPointChanges', 'DenyRecoveryPointChangesExceptBreakGlass'],
      { principal: a, action: 'backup:DeleteRecoveryPoint', resource: r.recoveryPoint }),
    path('direct', 'expire a recovery point early', ['DenyRecoveryPointChanges', 'DenyRecoveryPointChangesExceptBreakGlass'],
      { principal: a, action: 'backup:UpdateRecoveryPointLifecycle', resource: r.recoveryPoint }),
    path('direct', 'unlock a locked snapshot, then delete it', ['DenySnapshotLockChanges', 'DenyBackupDeletion'],
      { principal: a, action: 'ec2:UnlockSnapshot', resource: r.snapshot, tags }, deleteNow(a)),
    path('direct', 'shorten the Recycle Bin, then delete', ['DenyRecycleBinChanges'],
      { principal: a, action: 'rbin:UpdateRule', resource: r.recycleBinRule },
      { principal: a, action: 'rbin:DeleteRule', resource: r.recycleBinRule }),
    path('direct', 'remove the vault lock and the access policy', ['DenyVaultConfigurationChanges', 'DenyDestructiveActionsExceptBreakGlass'],
      { principal: a, action: 'backup:DeleteBackupVaultLockConfiguration', resource: r.vault },
      { principal: a, action: 'backup:DeleteBackupVaultAccessPolicy', resource: r.vault }),
    path('direct', 'share the vault with another account, remove its restore approval team', ['DenyVaultSharingChanges'],
      { principal: a, action: 'backup:PutBackupVaultSharingPolicy', resource: r.vault },
      { principal: a, action: 'backup:DisassociateBackupVaultMpaApprovalTeam', resource: r.vault }),
    path('direct', 'turn off block public access, then share publicly', ['DenyBlockPublicAccessChanges', 'DenyBackupSharingChanges'],
      { principal: a, action: 'ec2:DisableSnapshotBlockPublicAccess', resource: '*' },
      { principal: a, action: 'ec2:ModifySnapshotAttribute', resource: r.snapshot, tags, context: { 'ec2:Add/group': 'all' } }),

    // 1. strip the tag, then delete
    path('issue 15 #1', 'DeleteTags without a Tags list (removes every tag), then delete the now untagged snapshot', ['DenyRemovingAllTags'],
      { principal: a, action: 'ec2:DeleteTags', resource: r.snapshot, tags }, deleteNow(a, untagged)),
    path('issue 15 #1', 'remove the purpose tag by name, then delete', ['DenyPurposeTagChanges'],
      { principal: a, action: 'ec2:DeleteTags', resource: r.snapshot, tags, context: { 'aws:TagKeys': [w.purposeKey] } }, deleteNow(a, untagged)),
    path('issue 15 #1', 'change the purpose tag to an unprotected value, then delete', ['DenyPurposeTagChanges'],
      {
        principal: a,
        action: 'ec2:CreateTags',
        resource: r.snapshot,
        tags,
        context: { 'aws:TagKeys': [w.purposeKey], [`aws:RequestTag/${w.purposeKey}`]: 'scratch' },
      },
      deleteNow(a, { [w.purposeKey]: 'scratch' })),

    // 2. become an exempt role
    ...([
      ['iam:UpdateAssumeRolePolicy', 're-trust'], ['iam:PutRolePolicy', 'add an inline policy to'],
      ['iam:AttachRolePolicy', 'attach a policy to'], ['iam:DeleteRolePermissionsBoundary', 'remove the boundary of'],
    ] as const).map(([action, verb]) => path('issue 15 #2', `${verb} the registered DLM role, then delete as it`, ['DenyExemptRoleChanges'],
      { principal: a, action, resource: p.dlmRole }, deleteNow(p.dlmRole))),
    path('issue 15 #2', 'create a role with the exempt DLM default role name, then delete as it', ['DenyExemptRoleChanges'],
      { principal: a, action: 'iam:CreateRole', resource: p.dlmDefaultRole }, deleteNow(p.dlmDefaultRole)),
    path('issue 15 #2', 're-trust the break-glass role, then do anything as it', ['DenyExemptRoleChanges'],
      { principal: a, action: 'iam:UpdateAssumeRolePolicy', resource: p.breakGlass }, deleteNow(p.breakGlass)),
    path('issue 15 #2', 're-trust the deployment role, then change the DLM policy as it', ['DenyExemptRoleChanges'],
      { principal: a, action: 'iam:UpdateAssumeRolePolicy', resource: p.deployer },
      { principal: p.deployer, action: 'dlm:UpdateLifecyclePolicy', resource: r.dlmPolicy }),

    // 3. take the guard off
    path('issue 15 #3', 'detach the guard policy from yourself, then delete', ['DenyGuardPolicyDetachment'],
      { principal: a, action: 'iam:DetachRolePolicy', resource: a, context: { 'iam:PolicyARN': r.guardPolicy } }, deleteNow(a)),
    path('issue 15 #3', 'publish a permissive version of the guard policy', ['DenyGuardPolicyVersions'],
      { principal: a, action: 'iam:CreatePolicyVersion', resource: r.guardPolicy },
      { principal: a, action: 'iam:SetDefaultPolicyVersion', resource: r.guardPolicy }),
    path('issue 15 #3', 'remove your permissions boundary, then delete', ['DenyGuardBoundaryRemoval'],
      { principal: a, action: 'iam:DeleteRolePermissionsBoundary', resource: a, context: { 'iam:PermissionsBoundary': r.boundaryPolicy } },
      deleteNow(a)),
    path('issue 15 #3', 'swap your permissions boundary for an allow-all, then delete', ['DenyBoundaryReplacement'],
      {
        principal: a,
        action: 'iam:PutRolePermissionsBoundary',
        resource: a,
        context: { 'iam:PermissionsBoundary': `arn:aws:iam::${w.account}:policy/AllowEverything` },
      },
      deleteNow(a)),

    // 4. steer the exempt services
    path('issue 15 #4', 'cut the DLM policy\'s count to 1 so that DLM deletes the rest', ['DenyDlmPolicyChanges'],
      { principal: a, action: 'dlm:UpdateLifecyclePolicy', resource: r.dlmPolicy }, deleteNow(p.dlmRole)),
    path('issue 15 #4', 'delete the DLM policy', ['DenyDlmPolicyChanges'],
      { principal: a, action: 'dlm:DeleteLifecyclePolicy', resource: r.dlmPolicy }),
    path('issue 15 #4', 'shorten the Backup plan\'s lifecycle, drop its selection', ['DenyBackupPlanChanges'],
      { principal: a, action: 'backup:UpdateBackupPlan', resource: r.backupPlan },
      { principal: a, action: 'backup:DeleteBackupSelection', resource: r.backupPlan }),
    path('issue 15 #4', 'pass the DLM role to a lifecycle policy of your own', ['DenyExemptRoleChanges'],
      { principal: a, action: 'iam:PassRole', resource: p.dlmRole, context: { 'iam:PassedToService': 'dlm.amazonaws.com' } },
      { principal: a, action: 'dlm:CreateLifecyclePolicy', resource: '*' }),
    path('issue 15 #4', 'archive protected snapshots (24-72 hours to restore)', ['DenySnapshotArchiving'],
      { principal: a, action: 'ec2:ModifySnapshotTier', resource: r.snapshot, tags }),

    // issue 16 #4: the lock job's own role shortens governance locks (rewritten or reused job)
    path('issue 16 #4', 'have the lock job shorten a governance lock to one day, then delete when it lapses', ['DenyShorterSnapshotLocks'],
      { principal: p.lockRole, action: 'ec2:LockSnapshot', resource: r.snapshot, tags, ownPolicies: [w.lockRolePolicy], context: { 'ec2:SnapshotLockDuration': '1' } }),

    ...machineryPaths(w),

    // 5 and 10. the keys
    path('issue 15 #5', 'rewrite a protected key\'s policy, then schedule its deletion', ['DenyNamedKeyPolicyChanges', 'DenyNamedKeyDestruction'],
      { principal: a, action: 'kms:PutKeyPolicy', resource: r.sourceKey },
      { principal: a, action: 'kms:ScheduleKeyDeletion', resource: r.sourceKey }),
    path('issue 15 #10', 'schedule deletion of the source volumes\' key', ['DenyNamedKeyDestruction'],
      { principal: a, action: 'kms:ScheduleKeyDeletion', resource: r.sourceKey }),
    path('issue 15 #10', 'rewrite the policy of a purpose-tagged key, then disable it', ['DenyKeyPolicyChanges', 'DenyBackupKeyDestruction'],
      { principal: a, action: 'kms:PutKeyPolicy', resource: r.taggedKey, tags: { [w.purposeKey]: 'ledger-volumes' } },
      { principal: a, action: 'kms:DisableKey', resource: r.taggedKey, tags: { [w.purposeKey]: 'ledger-volumes' } }),
    path('issue 15 #10', 'point EBS default encryption at a key you will delete', ['DenyEbsEncryptionDefaultChanges'],
      { principal: a, action: 'ec2:ModifyEbsDefaultKmsKeyId', resource: '*' }),
    path('issue 15 #10', 'turn EBS encryption by default off', ['DenyEbsEncryptionDefaultChanges'],
      { principal: a, action: 'ec2:DisableEbsEncryptionByDefault', resource: '*' }),

    // 11. leaks
    path('issue 15 #11', 'copy a protected snapshot without the purpose tag, then share the copy', ['DenyCopiesWithoutPurposeTag', 'DenySharingOutsideAllowedAccounts'],
      { principal: a, action: 'ec2:CopySnapshot', resource: r.snapshot, tags },
      {
        principal: a,
        action: 'ec2:ModifySnapshotAttribute',
        resource: `arn:aws:ec2:${w.region}::snapshot/snap-0c0c0c0c0c0c0c0c0`,
        context: { 'ec2:Add/userId': w.foreignAccount },
      }),
    path('issue 15 #11', 'share an unprotected snapshot with an account outside the allow-list', ['DenySharingOutsideAllowedAccounts'],
      {
        principal: a,
        action: 'ec2:ModifySnapshotAttribute',
        resource: `arn:aws:ec2:${w.region}::snapshot/snap-0c0c0c0c0c0c0c0c0`,
        context: { 'ec2:Add/userId': w.foreignAccount },
      }),
    path('issue 15 #11', 'share a protected AMI with another account', ['DenyBackupSharingChanges'],
      { principal: a, action: 'ec2:ModifyImageAttribute', resource: r.image, tags, context: { 'ec2:Attribute': 'launchPermission' } }),
    path('issue 15 #11', 'read a protected snapshot\'s blocks with the EBS direct APIs', ['DenyReadingBackupsOut'],
      { principal: a, action: 'ebs:ListSnapshotBlocks', resource: r.snapshot, tags },
      { principal: a, action: 'ebs:GetSnapshotBlock', resource: r.snapshot, tags }),
    path('issue 15 #11', 'store a protected AMI in your own bucket, or export it', ['DenyReadingBackupsOut'],
      { principal: a, action: 'ec2:CreateStoreImageTask', resource: r.image, tags },
      { principal: a, action: 'ec2:ExportImage', resource: r.image, tags }),
  ];
}

/**
 * Issue 16: the library's own jobs turned against the backups, and silenced. Each path is a
 * sequence: the machinery change the attacker needs, then what the rewritten or silenced job does.
 */
export function machineryPaths(w: World): Path[] {
  const p = w.principals;
  const r = w.resources;
  const m = w.machinery;
  const a = p.attacker;
  const jt = w.machineryTags;
  const key = w.tagKey;
  const path = (source: string, name: string, brokenBy: string[], ...steps: Step[]): Path => ({ source, name, brokenBy, steps });
  const deleteAll = (principal: string): Step => ({
    principal, action: 'ec2:DeleteSnapshot', resource: r.snapshot, tags: w.protectedTags, note: 'the exempt job deletes every snapshot of the tier',
  });
  const planted = `arn:aws:ec2:${w.region}::snapshot/snap-0e0e0e0e0e0e0e0e1`;
  const ownMachine = `arn:aws:states:${w.region}:${w.account}:stateMachine:mine`;
  const ownFunction = `arn:aws:lambda:${w.region}:${w.account}:function:mine`;
  const afterCreation = (keys: string[], values: Record<string, string>, resource = planted, tags?: Record<string, string>): Step => ({
    principal: a,
    action: 'ec2:CreateTags',
    resource,
    tags,
    context: { 'aws:TagKeys': keys, ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`aws:RequestTag/${k}`, v])) },
  });
  return [
    // 1. rewrite or reuse an exempt deleter
    path('issue 16 #1', 'rewrite the housekeeping state machine, then let its exempt role delete every snapshot', ['DenyMachineryChanges'],
      { principal: a, action: 'states:UpdateStateMachine', resource: m.stateMachine, tags: jt }, deleteAll(p.dlmRole)),
    path('issue 16 #1', 'replace the expiry function\'s code or configuration, then let it delete', ['DenyMachineryChanges'],
      { principal: a, action: 'lambda:UpdateFunctionCode', resource: m.function, tags: jt },
      { principal: a, action: 'lambda:UpdateFunctionConfiguration', resource: m.function, tags: jt }, deleteAll(p.dlmRole)),
    path('issue 16 #1', 'untag the expiry function, then rewrite it', ['DenyMachineryTagChanges'],
      { principal: a, action: 'lambda:UntagResource', resource: m.function, tags: jt, context: { 'aws:TagKeys': [w.managedByKey] } },
      { principal: a, action: 'lambda:UpdateFunctionCode', resource: m.function }, deleteAll(p.dlmRole)),
    path('issue 16 #1', 'pass an exempt role to a state machine of your own, then delete as it', ['DenyExemptRoleChanges'],
      { principal: a, action: 'iam:PassRole', resource: p.dlmRole, context: { 'iam:PassedToService': 'states.amazonaws.com' } },
      { principal: a, action: 'states:CreateStateMachine', resource: `arn:aws:states:${w.region}:${w.account}:stateMachine:mine` },
      deleteAll(p.dlmRole)),
    // the roles hold on their own too: Step Functions assumes the lock role only for the lock
    // job's machine (aws:SourceArn), and the expiry role denies calls from any other function's code
    path('issue 16 #1', 'pass the lock role to a state machine of your own, have Step Functions assume it, cut a lock to one day',
      ['DenyExemptRoleChanges', 'DenyShorterSnapshotLocks'],
      { principal: a, action: 'iam:PassRole', resource: p.lockRole, context: { 'iam:PassedToService': 'states.amazonaws.com' } },
      { principal: a, action: 'states:CreateStateMachine', resource: ownMachine },
      {
        principal: 'states.amazonaws.com',
        action: 'sts:AssumeRole',
        resource: p.lockRole,
        resourcePolicy: w.lockRoleTrust,
        context: { 'aws:SourceArn': ownMachine, 'aws:SourceAccount': w.account },
        note: 'the trust names the lock job\'s machine only',
      },
      {
        principal: p.lockRole,
        action: 'ec2:LockSnapshot',
        resource: r.snapshot,
        tags: w.protectedTags,
        ownPolicies: [w.lockRolePolicy],
        context: { 'ec2:SnapshotLockDuration': '1' },
      }),
    path('issue 16 #1', 'pass the job\'s expiry role to a function of your own, then delete every snapshot from its code',
      ['DenyExemptRoleChanges', OTHER_FUNCTIONS_DENY_SID],
      { principal: a, action: 'iam:PassRole', resource: w.expiry.role, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      { principal: a, action: 'lambda:CreateFunction', resource: ownFunction },
      {
        principal: w.expiry.role,
        action: 'ec2:DeleteSnapshot',
        resource: r.snapshot,
        tags: w.protectedTags,
        ownPolicies: w.expiry.rolePolicies,
        context: { 'lambda:SourceFunctionArn': ownFunction },
        note: 'the role denies calls from any other function\'s code',
      }),
    path('issue 16 #1', 'publish a new version of the fsfreeze document and make it the default the window runs as root', ['DenyMachineryChanges'],
      { principal: a, action: 'ssm:UpdateDocument', resource: m.document, tags: jt },
      { principal: a, action: 'ssm:UpdateDocumentDefaultVersion', resource: m.document, tags: jt }),
    path('issue 16 #1', 'point the window\'s task at another document or role', ['DenyMachineryChanges'],
      { principal: a, action: 'ssm:UpdateMaintenanceWindowTask', resource: m.window, tags: jt }),

    // 2. re-tag a backup into a deleter
    path('issue 16 #2', 're-tag a backup retention=age:0d so that its expiry job deletes it', ['DenyTrustedTagChanges'],
      afterCreation([key('retention')], { [key('retention')]: 'age:0d' }, r.snapshot, w.protectedTags), deleteAll(p.dlmRole)),
    path('issue 16 #2', 'give an untagged snapshot a runbook\'s purpose, managed-by and retention tags', ['DenyTrustedTagChanges'],
      afterCreation([w.purposeKey, key('managed-by'), key('retention')], { [w.purposeKey]: 'ledger-prechange', [key('retention')]: 'age:0d' })),

    // 3. plant look-alikes in a job's history
    path('issue 16 #3', 'snapshot the real volume, then tag the copies with a window\'s id and execution id after creation', ['DenyTrustedTagChanges'],
      { principal: a, action: 'ec2:CreateSnapshot', resource: planted },
      afterCreation([w.purposeKey, key('window-id'), key('execution'), key('managed-by')],
        { [w.purposeKey]: 'ledger-archive', [key('window-id')]: 'mw-0a1b2c3d4e5f60718', [key('execution')]: 'forged' })),
    path('issue 16 #3', 'remove a real run\'s execution id so that count retention no longer counts it', ['DenyTrustedTagChanges'],
      { principal: a, action: 'ec2:DeleteTags', resource: r.snapshot, tags: w.protectedTags, context: { 'aws:TagKeys': [key('execution')] } }),

    // 4. the lock job rewritten
    path('issue 16 #4', 'rewrite the lock job\'s definition to lock for one day', ['DenyMachineryChanges'],
      { principal: a, action: 'states:UpdateStateMachine', resource: m.stateMachine, tags: jt }),

    // 5. stop or fake the backups without an alarm
    path('issue 16 #5', 'disable the maintenance window, deregister its task and targets', ['DenyMachineryChanges'],
      { principal: a, action: 'ssm:UpdateMaintenanceWindow', resource: m.window, tags: jt },
      { principal: a, action: 'ssm:DeregisterTaskFromMaintenanceWindow', resource: m.window, tags: jt },
      { principal: a, action: 'ssm:DeregisterTargetFromMaintenanceWindow', resource: m.window, tags: jt }),
    path('issue 16 #5', 'delete the VSS components association', ['DenyMachineryChanges'],
      { principal: a, action: 'ssm:DeleteAssociation', resource: m.association, tags: jt }),
    path('issue 16 #5', 'disable the schedules of the lock, housekeeping and drill, or remove their targets', ['DenyMachineryChanges'],
      { principal: a, action: 'events:DisableRule', resource: m.rule, tags: jt },
      { principal: a, action: 'events:RemoveTargets', resource: m.rule, tags: jt }),
    path('issue 16 #5', 'stop the running lock job', ['DenyMachineryChanges'],
      { principal: a, action: 'states:StopExecution', resource: m.execution, tags: jt }),
    path('issue 16 #5', 'silence the alarms: disable their actions, delete them', ['DenyMachineryChanges'],
      { principal: a, action: 'cloudwatch:DisableAlarmActions', resource: m.alarm, tags: jt },
      { principal: a, action: 'cloudwatch:DeleteAlarms', resource: m.alarm, tags: jt }),
    path('issue 16 #5', 'unsubscribe the on-call endpoint, re-point the topic', ['DenyMachineryChanges'],
      { principal: a, action: 'sns:Unsubscribe', resource: m.topic, tags: jt },
      { principal: a, action: 'sns:SetTopicAttributes', resource: m.topic, tags: jt }),
    path('issue 16 #5', 'disable the alarm topic\'s key (alarms can no longer publish)', ['DenyMachineryChanges'],
      { principal: a, action: 'kms:DisableKey', resource: m.topicKey, tags: jt }),
    path('issue 16 #5', 'tag a crash-consistent snapshot AppConsistent=true after creation', ['DenyAppConsistentOutsideVss'],
      afterCreation(['AppConsistent'], { AppConsistent: 'true' }, r.snapshot, w.protectedTags)),
    path('issue 16 #5', 'tag a VSS snapshot AppConsistent=true from outside its instance', ['DenyAppConsistentFromOutsideInstances'],
      afterCreation(['AppConsistent'], { AppConsistent: 'true' }, r.snapshot, { ...w.protectedTags, AwsVssConfig: 'FullBackup' })),
    path('issue 16 #5', 'plant a fresh snapshot with the drill\'s purpose after creation, so that the drill restores it', ['DenyTrustedTagChanges'],
      { principal: a, action: 'ec2:CreateSnapshot', resource: planted },
      afterCreation([w.purposeKey, key('source-instance')], { [w.purposeKey]: 'ledger-dr', [key('source-instance')]: 'i-0123456789abcdef0' })),
  ];
}

export function legitimatePaths(w: World): Path[] {
  const p = w.principals;
  const r = w.resources;
  const tags = w.protectedTags;
  const path = (source: string, name: string, ...steps: Step[]): Path => ({ source, name, brokenBy: [], steps });
  const expire = (principal: string): Step[] => [
    { principal, action: 'ec2:DeleteSnapshot', resource: r.snapshot, tags },
    { principal, action: 'ec2:DeregisterImage', resource: r.image, tags },
  ];
  return [
    path('retention', 'the registered DLM role expires what is due', ...expire(p.dlmRole)),
    path('retention', 'the DLM default role (exempt by pattern) expires what is due', ...expire(p.dlmDefaultRole)),
    path('retention', 'AWS Backup\'s role expires the snapshots and AMIs of its recovery points', ...expire(p.backupRole)),
    path('retention', 'DLM copies a protected snapshot across regions and shares it as the policy says',
      { principal: p.dlmRole, action: 'ec2:CopySnapshot', resource: r.snapshot, tags },
      { principal: p.dlmRole, action: 'ec2:ModifySnapshotAttribute', resource: r.snapshot, tags, context: { 'ec2:Add/userId': w.foreignAccount } }),
    path('lock', 'the lock job locks new snapshots for the configured duration, or extends a lock',
      ...[w.lockDurationDays, 365].map((days): Step => ({
        principal: p.lockRole,
        action: 'ec2:LockSnapshot',
        resource: r.snapshot,
        tags,
        ownPolicies: [w.lockRolePolicy],
        context: { 'ec2:SnapshotLockDuration': `${days}` },
      }))),
    path('jobs', 'Step Functions assumes the lock role for the lock job\'s machine; the expiry function deletes what is due from its own code',
      {
        principal: 'states.amazonaws.com',
        action: 'sts:AssumeRole',
        resource: p.lockRole,
        resourcePolicy: w.lockRoleTrust,
        context: { 'aws:SourceArn': w.lockMachineArn, 'aws:SourceAccount': w.account },
      },
      {
        principal: w.expiry.role,
        action: 'ec2:DeleteSnapshot',
        resource: r.snapshot,
        tags,
        ownPolicies: w.expiry.rolePolicies,
        context: { 'lambda:SourceFunctionArn': w.expiry.functionArn },
      }),
    path('deployment', 'a deployment updates a DLM policy and passes it its role',
      { principal: p.deployer, action: 'iam:PassRole', resource: p.dlmRole, context: { 'iam:PassedToService': 'dlm.amazonaws.com' } },
      { principal: p.deployer, action: 'dlm:UpdateLifecyclePolicy', resource: r.dlmPolicy }),
    path('deployment', 'a deployment updates the vault\'s access policy and lock, the plan, the Recycle Bin and key policies',
      { principal: p.deployer, action: 'backup:PutBackupVaultAccessPolicy', resource: r.vault },
      { principal: p.deployer, action: 'backup:PutBackupVaultLockConfiguration', resource: r.vault },
      { principal: p.deployer, action: 'backup:UpdateBackupPlan', resource: r.backupPlan },
      { principal: p.deployer, action: 'rbin:UpdateRule', resource: r.recycleBinRule },
      { principal: p.deployer, action: 'kms:PutKeyPolicy', resource: r.sourceKey },
      { principal: p.deployer, action: 'iam:PutRolePolicy', resource: p.dlmRole }),
    path('deployment', 'a deployment updates the jobs: code, definition, document and its default version, window, schedule, alarm, topic, tags',
      { principal: p.deployer, action: 'lambda:UpdateFunctionCode', resource: w.machinery.function, tags: w.machineryTags },
      { principal: p.deployer, action: 'states:UpdateStateMachine', resource: w.machinery.stateMachine, tags: w.machineryTags },
      { principal: p.deployer, action: 'ssm:UpdateDocument', resource: w.machinery.document, tags: w.machineryTags },
      { principal: p.deployer, action: 'ssm:UpdateDocumentDefaultVersion', resource: w.machinery.document, tags: w.machineryTags },
      { principal: p.deployer, action: 'ssm:UpdateMaintenanceWindowTask', resource: w.machinery.window, tags: w.machineryTags },
      { principal: p.deployer, action: 'events:PutTargets', resource: w.machinery.rule, tags: w.machineryTags },
      { principal: p.deployer, action: 'cloudwatch:PutMetricAlarm', resource: w.machinery.alarm, tags: w.machineryTags },
      { principal: p.deployer, action: 'sns:SetTopicAttributes', resource: w.machinery.topic, tags: w.machineryTags },
      { principal: p.deployer, action: 'lambda:TagResource', resource: w.machinery.function, tags: w.machineryTags, context: { 'aws:TagKeys': [w.managedByKey] } }),
    path('jobs', 'a window\'s instance snapshots its volumes with every trusted tag at creation; the VSS agent then adds AppConsistent and Device',
      {
        principal: p.vssInstance,
        action: 'ec2:CreateTags',
        resource: `arn:aws:ec2:${w.region}::snapshot/snap-0d0d0d0d0d0d0d0d1`,
        context: {
          'ec2:CreateAction': 'CreateSnapshots',
          'aws:TagKeys': [w.purposeKey, w.tagKey('retention'), w.managedByKey, w.tagKey('window-id'), w.tagKey('source-instance'), 'AwsVssConfig'],
        },
      },
      {
        principal: p.vssInstance,
        action: 'ec2:CreateTags',
        resource: `arn:aws:ec2:${w.region}::snapshot/snap-0d0d0d0d0d0d0d0d1`,
        tags: { [w.purposeKey]: w.purpose, AwsVssConfig: 'FullBackup' },
        context: {
          'aws:TagKeys': ['AppConsistent', 'Device'],
          'aws:RequestTag/AppConsistent': 'true',
          'ec2:SourceInstanceARN': `arn:aws:ec2:${w.region}:${w.account}:instance/i-0d0d0d0d0d0d0d0d1`,
        },
      }),
    path('retention', 'AWS Backup copies the source\'s tags onto its snapshots after creation', {
      principal: p.backupRole,
      action: 'ec2:CreateTags',
      resource: r.snapshot,
      tags: w.protectedTags,
      context: { 'aws:TagKeys': [w.purposeKey, w.tagKey('source-instance')] },
    }),
    path('everyday', 'an operator changes an untagged function and state machine of their own',
      { principal: p.attacker, action: 'lambda:UpdateFunctionCode', resource: `arn:aws:lambda:${w.region}:${w.account}:function:ledger-api` },
      { principal: p.attacker, action: 'states:UpdateStateMachine', resource: `arn:aws:states:${w.region}:${w.account}:stateMachine:ledger-etl` }),
    path('everyday', 'an operator snapshots, copies with the purpose tag, shares with the allowed account and tags new snapshots at creation',
      { principal: p.attacker, action: 'ec2:CreateSnapshot', resource: r.snapshot },
      { principal: p.attacker, action: 'ec2:CopySnapshot', resource: r.snapshot, tags, context: { [`aws:RequestTag/${w.purposeKey}`]: w.purpose } },
      {
        principal: p.attacker,
        action: 'ec2:ModifySnapshotAttribute',
        resource: `arn:aws:ec2:${w.region}::snapshot/snap-0c0c0c0c0c0c0c0c0`,
        context: { 'ec2:Add/userId': w.partnerAccount },
      },
      {
        principal: p.attacker,
        action: 'ec2:CreateTags',
        resource: `arn:aws:ec2:${w.region}::snapshot/snap-0c0c0c0c0c0c0c0c0`,
        context: { 'aws:TagKeys': [w.purposeKey], 'ec2:CreateAction': 'CreateSnapshot' },
      },
      { principal: p.attacker, action: 'ec2:DeleteTags', resource: r.snapshot, tags, context: { 'aws:TagKeys': ['scratch-note'] } }),
  ];
}
