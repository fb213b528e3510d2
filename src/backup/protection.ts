import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { checkPattern } from '../core/validation';

/**
 * The vault actions that destroy or weaken backups: deleting recovery points, shortening their
 * lifecycle, and changing or removing the vault's access policy or lock. The first three in one
 * statement with `*` principal and resource is what AWS Config's
 * `BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED` looks for.
 */
export const DESTRUCTIVE_VAULT_ACTIONS = [
  'backup:DeleteRecoveryPoint',
  'backup:UpdateRecoveryPointLifecycle',
  'backup:PutBackupVaultAccessPolicy',
  'backup:DeleteBackupVaultAccessPolicy',
  'backup:PutBackupVaultLockConfiguration',
  'backup:DeleteBackupVaultLockConfiguration',
  'backup:DeleteBackupVault',
];

/**
 * The key actions that would make every recovery point in the vault unreadable (Vault Lock does
 * not protect the key). `kms:PutKeyPolicy` is not denied: KMS rejects a key policy that locks its
 * own creator out of changing it (the policy lockout safety check).
 */
export const DESTRUCTIVE_KEY_ACTIONS = ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:RevokeGrant'];

/** Check break-glass principal ARNs: IAM role, user or account root ARNs, `*` allowed. */
export function checkPrincipalArns(scope: IConstruct, property: string, arns: readonly string[]): void {
  arns.forEach((arn, i) => checkPattern(scope, `${property}[${i}]`, arn,
    /^arn:aws[a-z-]*:(iam::\d{12}:(role|user)\/[\w+=,.@\-/*]+|iam::\d{12}:root|sts::\d{12}:assumed-role\/[\w+=,.@\-/*]+)$/,
    'an IAM role, user or root ARN such as arn:aws:iam::123456789012:role/BreakGlass'));
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
export function protectKey(key: kms.IKey, breakGlass: readonly string[]): boolean {
  const added = key.addToResourcePolicy(denyExcept('DenyKeyDestructionExceptBreakGlass', DESTRUCTIVE_KEY_ACTIONS, breakGlass)).statementAdded;
  if (added) {
    key.addToResourcePolicy(denyGrantsExceptForAwsServices());
  }
  return added;
}
