import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { VaultLock, VaultLockMode } from './vault-lock';
import { actionsOf } from '../core/destructive-actions';
import { PlanIrreversible, planDays } from '../core/plan-report';
import { warn } from '../core/validation';

/**
 * The vault actions that change the vault's protection (its access policy and lock, the vault
 * itself) together with the recovery-point actions: one statement with `*` principal and
 * resource holding `backup:DeleteRecoveryPoint`, `backup:UpdateRecoveryPointLifecycle` and
 * `backup:PutBackupVaultAccessPolicy` is what AWS Config's
 * `BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED` looks for. Break-glass and the deployment
 * principals pass it, so that stack updates of the vault keep working.
 */
export const DESTRUCTIVE_VAULT_ACTIONS = actionsOf('recoveryPoints', 'vaultConfiguration');

/** The recovery-point actions (data class): only break-glass passes them. */
export const RECOVERY_POINT_ACTIONS = actionsOf('recoveryPoints');

/**
 * The key actions that would make every recovery point in the vault unreadable (Vault Lock does
 * not protect the key). `kms:PutKeyPolicy` is denied separately, to all but break-glass and the
 * deployment principals (who must keep updating the key policy).
 */
export const DESTRUCTIVE_KEY_ACTIONS = actionsOf('keyDestruction');

/** The vault's deny statements: configuration (break-glass and deployments pass) and data (break-glass only). */
export function vaultDenyStatements(breakGlass: readonly string[], deployment: readonly string[]): iam.PolicyStatement[] {
  return [
    denyExcept('DenyDestructiveActionsExceptBreakGlass', DESTRUCTIVE_VAULT_ACTIONS, [...breakGlass, ...deployment]),
    denyExcept('DenyRecoveryPointChangesExceptBreakGlass', RECOVERY_POINT_ACTIONS, breakGlass),
  ];
}

/**
 * The warning of a vault without break-glass principals: deployments stay possible when
 * deployment principals are declared (or found), and nobody can delete a recovery point early.
 */
export function warnNoBreakGlass(scope: IConstruct, breakGlass: readonly string[], deployment: readonly string[]): void {
  if (breakGlass.length > 0) {
    return;
  }
  warn(scope, 'backup:no-break-glass', deployment.length > 0
    ? `${scope.node.path}: no breakGlassPrincipalArns: nobody can delete a recovery point or shorten its lifecycle early; only the ` +
      'deployment principals (deploymentPrincipalArns, by default the CDK CloudFormation execution role) can change the vault\'s access policy or lock'
    : `${scope.node.path}: no breakGlassPrincipalArns and no deploymentPrincipalArns: nobody, not even a later deployment of this stack, ` +
      'will ever be able to change the vault\'s access policy or lock');
}

/**
 * A deny of `actions` to every principal except those whose ARN matches `exempt`, exempted with
 * a negated `aws:PrincipalArn` condition as AWS recommends over `NotPrincipal` (which behaves
 * surprisingly with assumed-role sessions and is not supported everywhere).
 */
export function denyExcept(sid: string, actions: string[], exempt: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.StarPrincipal()],
    actions,
    resources: ['*'],
    conditions: exempt.length > 0 ? { ArnNotLike: { 'aws:PrincipalArn': [...exempt] } } : undefined,
  });
}

/**
 * Deny creating grants on the key except for AWS services acting on AWS resources (AWS Backup
 * and EBS create such grants): the Control Tower control CT.KMS.PR.3.
 */
export function denyGrantsExceptForAwsServices(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyGrantsExceptForAwsResources',
    effect: iam.Effect.DENY,
    principals: [new iam.StarPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  });
}

/**
 * Protect a key this library created: deny its deletion, disabling and grant revocation to all
 * but the break-glass principals, and grants except for AWS resources.
 */
export function protectKey(key: kms.IKey, breakGlass: readonly string[], deployment: readonly string[] = []): boolean {
  const added = key.addToResourcePolicy(denyExcept('DenyKeyDestructionExceptBreakGlass', DESTRUCTIVE_KEY_ACTIONS, breakGlass)).statementAdded;
  if (added) {
    key.addToResourcePolicy(denyGrantsExceptForAwsServices());
    // Only with deployment principals: KMS rejects a key policy that would lock its creator (the
    // deploying role) out of changing it (the policy lockout safety check).
    if (deployment.length > 0) {
      key.addToResourcePolicy(denyExcept('DenyKeyPolicyChangesExceptDeployments', actionsOf('keyPolicies'), [...breakGlass, ...deployment]));
    }
  }
  return added;
}

/** A vault lock as the plan report shows it: the lock, and for compliance mode what can never be undone. */
export function vaultLockPlan(lock: VaultLock | undefined, vault: string): { locks: string[]; irreversible: PlanIrreversible[] } {
  if (!lock) {
    return { locks: [], irreversible: [] };
  }
  const bounds = `min ${planDays(lock.minRetention)}${lock.maxRetention ? `, max ${planDays(lock.maxRetention)}` : ''}`;
  if (lock.mode !== VaultLockMode.COMPLIANCE) {
    return { locks: [`Vault Lock governance (${bounds})`], irreversible: [] };
  }
  const grace = planDays(lock.changeableFor ?? Duration.days(3));
  return {
    locks: [`Vault Lock compliance (${bounds})`],
    irreversible: [{
      what: `compliance-mode Vault Lock on vault ${vault} (${bounds})`,
      consequence: `immutable ${grace} after deployment: from then on nobody, not even the root user or AWS, can remove the lock, ` +
        `delete the vault while it holds recovery points, or delete a recovery point before ${planDays(lock.minRetention)}; ` +
        'every recovery point is billed until its retention ends',
    }],
  };
}
