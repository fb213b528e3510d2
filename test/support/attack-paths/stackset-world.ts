/**
 * The organization world of the attack paths: a `BaselineStackSet`'s write-once SCP, the one form
 * in which the StackSets execution role and the member roles that expire backups are exempted by
 * name across accounts (issue 15 item 12). Account ids, tier names and the StackSet name are
 * deliberately not the ones of the docs and examples.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Path, Step } from './index';
import { BackupTagging, BackupTier, BaselineStackSet } from '../../../src';
import { render } from '../../worm/iam-simulation';

export interface StackSetWorld {
  readonly account: string;
  readonly region: string;
  /** The SCP parts, rendered. */
  readonly scps: readonly any[];
  /** The tags of a snapshot the SCP protects. */
  readonly protectedTags: Record<string, string>;
  readonly snapshot: string;
  readonly principals: {
    readonly attacker: string;
    readonly breakGlass: string;
    /** The StackSets execution role AWS creates in every member account. */
    readonly stackSetsExec: string;
    /** A member role that expires backups, as deployed in this account and region (exact name). */
    readonly retentionRole: string;
    /** The member role that locks snapshots (exact name). */
    readonly lockRole: string;
  };
  /** The exact name of the retention role, without the path. */
  readonly retentionRoleName: string;
}

const ACCOUNT = '737373737373';
const REGION = 'us-east-1'; // the region the renderer gives AWS::Region

export function synthesizeStackSetWorld(): StackSetWorld {
  // the gates (cdk-nag, cfn-guard, schemas) run over the same construct in baseline-stackset.test.ts
  const app = new App();
  const stack = new Stack(app, 'LedgerOrg', { env: { account: '202020202020', region: REGION } });
  const breakGlass = 'arn:aws:iam::*:role/ledger-vault-keeper';
  const rollout = new BaselineStackSet(stack, 'LedgerRollout', {
    baseline: {
      tiers: [BackupTier.silver({ name: 'ledger', drRegion: 'us-west-2' })],
      breakGlassPrincipalArns: [breakGlass],
    },
    organizationalUnitIds: ['ou-zx9y-ledger01'],
    regions: [REGION, 'ca-central-1'],
    stackSetName: 'ledger-backup-baseline',
  });
  const scps = rollout.serviceControlPolicy!.documents.map((d) => render(stack.resolve(d.toJSON())));
  const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role${BaselineStackSet.RETENTION_ROLE_PATH}${name}-${REGION}`;
  const purposeKey = BackupTagging.keys(rollout.memberStack).purpose;
  return {
    account: ACCOUNT,
    region: REGION,
    scps,
    protectedTags: { [purposeKey]: rollout.memberBaseline.tiers[0].snapshotPurpose },
    snapshot: `arn:aws:ec2:${REGION}::snapshot/snap-07a6b5c4d3e2f1a09`,
    principals: {
      attacker: `arn:aws:iam::${ACCOUNT}:role/ledger-platform-admin`,
      breakGlass: `arn:aws:iam::${ACCOUNT}:role/ledger-vault-keeper`,
      stackSetsExec: `arn:aws:iam::${ACCOUNT}:role/stacksets-exec-9f8e7d6c5b4a39281706f5e4d3c2b1a0`,
      retentionRole: role(rollout.retentionRoleNames[0]),
      lockRole: role(rollout.lockRoleNames[0]),
    },
    retentionRoleName: `${rollout.retentionRoleNames[0]}-${REGION}`,
  };
}

/** Issue 15 item 12, and the ways around exact names, as sequences. */
export function stackSetAttackPaths(w: StackSetWorld): Path[] {
  const p = w.principals;
  const a = p.attacker;
  const roleArn = (pathAndName: string) => `arn:aws:iam::${w.account}:role/${pathAndName}`;
  const lookalike = roleArn('stacksets-exec-0badc0de0badc0de0badc0de0badc0de');
  const onPath = roleArn('cdk-ebs-backup/retention/ledger-cleaner');
  const nameElsewhere = roleArn(`ledger/${w.retentionRoleName}`);
  const deleteAs = (principal: string): Step =>
    ({ principal, action: 'ec2:DeleteSnapshot', resource: w.snapshot, tags: w.protectedTags, note: 'delete the backup' });
  const path = (name: string, brokenBy: string[], ...steps: Step[]): Path => ({ source: 'issue 15 #12', name, brokenBy, steps });
  return [
    path('create a role named like the StackSets execution role, then as it create a role on the retention path and delete as that',
      ['DenyStackSetsExecutionRoleLookalikes'],
      { principal: a, action: 'iam:CreateRole', resource: lookalike },
      { principal: lookalike, action: 'iam:CreateRole', resource: onPath },
      deleteAs(onPath)),
    path('create a role of your own on the retention path, then delete as it', ['DenyRetentionRolePathExceptStackSets', 'DenyBackupDeletion'],
      { principal: a, action: 'iam:CreateRole', resource: onPath },
      deleteAs(onPath)),
    path('create a role with a retention role\'s exact name on another path, then delete as it',
      ['DenyRetentionRoleNamesExceptStackSets', 'DenyBackupDeletion'],
      { principal: a, action: 'iam:CreateRole', resource: nameElsewhere },
      deleteAs(nameElsewhere)),
    ...([
      ['iam:UpdateAssumeRolePolicy', 're-trust'], ['iam:PutRolePolicy', 'add an inline policy to'],
      ['iam:AttachRolePolicy', 'attach a policy to'], ['iam:DeleteRolePermissionsBoundary', 'remove the boundary of'],
    ] as const).map(([action, verb]) => path(`${verb} a member retention role, then delete as it`, ['DenyRetentionRolePathExceptStackSets'],
      { principal: a, action, resource: p.retentionRole }, deleteAs(p.retentionRole))),
    path('pass a member retention role to a lifecycle policy of your own', ['DenyRetentionRolePathExceptStackSets'],
      { principal: a, action: 'iam:PassRole', resource: p.retentionRole, context: { 'iam:PassedToService': 'dlm.amazonaws.com' } },
      { principal: a, action: 'dlm:CreateLifecyclePolicy', resource: '*' }),
    path('re-trust the member lock role, then unlock as it', ['DenyRetentionRolePathExceptStackSets', 'DenySnapshotLockChanges'],
      { principal: a, action: 'iam:UpdateAssumeRolePolicy', resource: p.lockRole },
      { principal: p.lockRole, action: 'ec2:UnlockSnapshot', resource: w.snapshot, tags: w.protectedTags }),
  ];
}

/** What the StackSet, the member roles and break-glass must keep doing under the SCP. */
export function stackSetLegitimatePaths(w: StackSetWorld): Path[] {
  const p = w.principals;
  const path = (name: string, ...steps: Step[]): Path => ({ source: 'legitimate', name, brokenBy: [], steps });
  return [
    path('the member retention role expires a protected snapshot',
      { principal: p.retentionRole, action: 'ec2:DeleteSnapshot', resource: w.snapshot, tags: w.protectedTags }),
    path('the member lock role locks a new snapshot',
      { principal: p.lockRole, action: 'ec2:LockSnapshot', resource: w.snapshot, tags: w.protectedTags }),
    path('the StackSets execution role creates, re-trusts and passes a retention role',
      { principal: p.stackSetsExec, action: 'iam:CreateRole', resource: p.retentionRole },
      { principal: p.stackSetsExec, action: 'iam:UpdateAssumeRolePolicy', resource: p.retentionRole },
      { principal: p.stackSetsExec, action: 'iam:PassRole', resource: p.retentionRole, context: { 'iam:PassedToService': 'dlm.amazonaws.com' } }),
    path('break-glass re-trusts a retention role and deletes a protected snapshot',
      { principal: p.breakGlass, action: 'iam:UpdateAssumeRolePolicy', resource: p.retentionRole },
      { principal: p.breakGlass, action: 'ec2:DeleteSnapshot', resource: w.snapshot, tags: w.protectedTags }),
  ];
}
