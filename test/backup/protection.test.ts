/**
 * The vault protection's statement builders (src/backup/protection.ts), evaluated with the IAM
 * policy evaluator (`@cloud-copilot/iam-simulate`) as AWS evaluates a resource policy with only
 * Deny statements next to an identity policy that allows everything: an explicit deny wins, and
 * the negated `aws:PrincipalArn` condition (`ArnNotLike`) is the only way past it.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 *
 * These tests build the statements and key policies directly (no synthesis): the same statements
 * synthesized through every gate are evaluated by test/backup/policy-evaluation.test.ts and
 * test/worm/deny-conditions.test.ts. This file is what the mutation module `protection` runs
 * (each of those synthesizes vaults with the gates, about a minute a mutant on this machine).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { VaultLock } from '../../src';
import {
  DESTRUCTIVE_KEY_ACTIONS, DESTRUCTIVE_VAULT_ACTIONS, RECOVERY_POINT_ACTIONS, denyExcept, denyGrantsExceptForAwsServices, protectKey,
  vaultDenyStatements, vaultLockPlan, warnNoBreakGlass,
} from '../../src/backup/protection';
import { actionsOf } from '../../src/core/destructive-actions';
import { FULL_ACCESS, evaluate } from '../support/iam-evaluation';
import { TEST_ACCOUNT, renderIntrinsics } from '../support/intrinsics';

const BREAK_GLASS = `arn:aws:iam::${TEST_ACCOUNT}:role/BreakGlass`;
const DEPLOYER = `arn:aws:iam::${TEST_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${TEST_ACCOUNT}-us-east-1`;
const ADMIN = `arn:aws:iam::${TEST_ACCOUNT}:role/Administrator`;
const VAULT = `arn:aws:backup:us-east-1:${TEST_ACCOUNT}:backup-vault:ebs`;
const RECOVERY_POINT = `arn:aws:backup:us-east-1:${TEST_ACCOUNT}:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45`;
const KEY = `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** The policy document as CDK resolves it into a template (not minimized). */
function policyOf(statements: iam.PolicyStatement[]): any {
  return new Stack().resolve(new iam.PolicyDocument({ statements }));
}

/** What `principal` may do with `action` on `resource` under an allow-everything identity policy and `resourcePolicy`. */
function decide(principal: string, action: string, resource: string, resourcePolicy: any, context?: Record<string, string>): Promise<string> {
  return evaluate({ principal, action, resource, context }, { identity: [FULL_ACCESS], resourcePolicy });
}

const resourceOf = (action: string): string => action.startsWith('kms:') ? KEY
  : RECOVERY_POINT_ACTIONS.includes(action) ? RECOVERY_POINT : VAULT;

describe('the vault deny statements', () => {
  // built in each test, not in the describe body: Stryker's per-test coverage sees only what a test runs
  const vaultPolicy = (): any => policyOf(vaultDenyStatements([BREAK_GLASS], [DEPLOYER]));
  const configuration = DESTRUCTIVE_VAULT_ACTIONS.filter((a) => !RECOVERY_POINT_ACTIONS.includes(a));

  test('each statement names its class and exempts exactly the principals of that class', () => {
    // the Sids are what the plan, the deny-condition witnesses and an auditor's Config query name
    expect(vaultPolicy().Statement).toEqual([
      {
        Sid: 'DenyDestructiveActionsExceptBreakGlass',
        Effect: 'Deny',
        Principal: '*',
        Action: DESTRUCTIVE_VAULT_ACTIONS,
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS, DEPLOYER] } },
      },
      {
        Sid: 'DenyRecoveryPointChangesExceptBreakGlass',
        Effect: 'Deny',
        Principal: '*',
        Action: RECOVERY_POINT_ACTIONS,
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] } },
      },
    ]);
    // the three actions AWS Config's BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED looks for, in one statement
    expect(DESTRUCTIVE_VAULT_ACTIONS).toEqual(expect.arrayContaining(
      ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle', 'backup:PutBackupVaultAccessPolicy']));
  });

  test.each(DESTRUCTIVE_VAULT_ACTIONS)('%s: an administrator is denied, break-glass is allowed', async (action) => {
    const policy = vaultPolicy();
    expect(await decide(ADMIN, action, resourceOf(action), policy)).toBe('ExplicitlyDenied');
    expect(await decide(BREAK_GLASS, action, resourceOf(action), policy)).toBe('Allowed');
  });

  test.each(configuration)('%s: the deployment principal passes (stack updates of the vault keep working)', async (action) => {
    expect(await decide(DEPLOYER, action, VAULT, vaultPolicy())).toBe('Allowed');
  });

  test.each(RECOVERY_POINT_ACTIONS)('%s: the deployment principal is denied (only break-glass touches data)', async (action) => {
    expect(await decide(DEPLOYER, action, RECOVERY_POINT, vaultPolicy())).toBe('ExplicitlyDenied');
  });

  test('a session of the break-glass role is exempt by its role ARN (aws:PrincipalArn is the role, not the session)', async () => {
    // for an assumed-role session AWS sets aws:PrincipalArn to the role's ARN
    expect(await evaluate({
      principal: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/BreakGlass/alice`,
      action: 'backup:DeleteRecoveryPoint',
      resource: RECOVERY_POINT,
      context: { 'aws:PrincipalArn': BREAK_GLASS },
    }, { identity: [FULL_ACCESS], resourcePolicy: vaultPolicy() })).toBe('Allowed');
  });

  test('without break-glass principals, recovery points are denied to everyone, the deployment principal included', async () => {
    const none = policyOf(vaultDenyStatements([], [DEPLOYER]));
    expect(none.Statement[1]).not.toHaveProperty('Condition');
    expect(await decide(DEPLOYER, 'backup:DeleteRecoveryPoint', RECOVERY_POINT, none)).toBe('ExplicitlyDenied');
    expect(await decide(DEPLOYER, 'backup:PutBackupVaultAccessPolicy', VAULT, none)).toBe('Allowed');
    expect(await decide(ADMIN, 'backup:PutBackupVaultAccessPolicy', VAULT, none)).toBe('ExplicitlyDenied');
  });
});

describe('denyExcept', () => {
  test('no exempt principal: a deny without any condition (a condition with no ARN is not a valid policy)', async () => {
    expect(policyOf([denyExcept('DenyAll', ['backup:DeleteBackupVault'], [])]).Statement).toEqual([{ Sid: 'DenyAll', Effect: 'Deny', Principal: '*', Action: 'backup:DeleteBackupVault', Resource: '*' }]);
    expect(await decide(BREAK_GLASS, 'backup:DeleteBackupVault', VAULT, policyOf([denyExcept('DenyAll', ['backup:DeleteBackupVault'], [])])))
      .toBe('ExplicitlyDenied');
  });

  test('wildcard exemptions match as ArnLike patterns; the exempt list is copied, not shared', async () => {
    const exempt = [`arn:aws:iam::${TEST_ACCOUNT}:role/BreakGlass-*`];
    const statement = denyExcept('DenyDelete', ['backup:DeleteBackupVault'], exempt);
    exempt.push(ADMIN);
    const policy = policyOf([statement]);
    expect(policy.Statement[0].Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${TEST_ACCOUNT}:role/BreakGlass-*`] } });
    expect(await decide(`arn:aws:iam::${TEST_ACCOUNT}:role/BreakGlass-eu`, 'backup:DeleteBackupVault', VAULT, policy)).toBe('Allowed');
    expect(await decide(ADMIN, 'backup:DeleteBackupVault', VAULT, policy)).toBe('ExplicitlyDenied');
  });
});

describe('the key policy protection', () => {
  function keyPolicy(breakGlass: string[], deployment?: string[]): { policy: any; added: boolean } {
    const stack = new Stack(new App(), 'Keys', { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
    const key = new kms.Key(stack, 'Key');
    const added = deployment === undefined ? protectKey(key, breakGlass) : protectKey(key, breakGlass, deployment);
    // the key policy as it is rendered, without synthesis (the document is a protected member)
    const document = (key as unknown as { policy: iam.PolicyDocument }).policy;
    return { policy: renderIntrinsics(stack.resolve(document.toJSON())), added };
  }
  const sids = (policy: any): string[] => policy.Statement.map((s: any) => s.Sid).filter((s: any) => s !== undefined);

  test('a key of this library: destruction denied but to break-glass, grants only for AWS resources, policy changes only by deployments', async () => {
    const { policy, added } = keyPolicy([BREAK_GLASS], [DEPLOYER]);
    expect(added).toBe(true);
    expect(sids(policy)).toEqual(['DenyKeyDestructionExceptBreakGlass', 'DenyGrantsExceptForAwsResources', 'DenyKeyPolicyChangesExceptDeployments']);
    for (const action of DESTRUCTIVE_KEY_ACTIONS) {
      expect([action, await decide(ADMIN, action, KEY, policy)]).toEqual([action, 'ExplicitlyDenied']);
      expect([action, await decide(DEPLOYER, action, KEY, policy)]).toEqual([action, 'ExplicitlyDenied']);
      expect([action, await decide(BREAK_GLASS, action, KEY, policy)]).toEqual([action, 'Allowed']);
    }
    expect(actionsOf('keyPolicies')).toEqual(['kms:PutKeyPolicy']);
    expect(await decide(ADMIN, 'kms:PutKeyPolicy', KEY, policy)).toBe('ExplicitlyDenied');
    expect(await decide(DEPLOYER, 'kms:PutKeyPolicy', KEY, policy)).toBe('Allowed');
    expect(await decide(BREAK_GLASS, 'kms:PutKeyPolicy', KEY, policy)).toBe('Allowed');
  });

  test('without deployment principals the key policy stays changeable (KMS\'s policy lockout safety check)', async () => {
    for (const { policy, added } of [keyPolicy([BREAK_GLASS]), keyPolicy([BREAK_GLASS], [])]) {
      expect(added).toBe(true);
      expect(sids(policy)).toEqual(['DenyKeyDestructionExceptBreakGlass', 'DenyGrantsExceptForAwsResources']);
      expect(await decide(ADMIN, 'kms:PutKeyPolicy', KEY, policy)).toBe('Allowed');
      expect(await decide(ADMIN, 'kms:ScheduleKeyDeletion', KEY, policy)).toBe('ExplicitlyDenied');
    }
  });

  test('grants: only for AWS resources (CT.KMS.PR.3); AWS Backup and EBS create theirs', async () => {
    const { policy } = keyPolicy([BREAK_GLASS], [DEPLOYER]);
    const grant = (context: Record<string, string>, principal = ADMIN): Promise<string> => decide(principal, 'kms:CreateGrant', KEY, policy, context);
    expect(await grant({ 'kms:GrantIsForAWSResource': 'false' })).toBe('ExplicitlyDenied');
    expect(await grant({})).toBe('ExplicitlyDenied');
    expect(await grant({ 'kms:GrantIsForAWSResource': 'false' }, BREAK_GLASS)).toBe('ExplicitlyDenied');
    expect(await grant({ 'kms:GrantIsForAWSResource': 'true' })).toBe('Allowed');
    expect(policyOf([denyGrantsExceptForAwsServices()]).Statement).toEqual([{
      Sid: 'DenyGrantsExceptForAwsResources',
      Effect: 'Deny',
      Principal: '*',
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }]);
  });

  test('an imported key cannot be protected: false, and the caller reports it', () => {
    const stack = new Stack(new App(), 'Imported');
    expect(protectKey(kms.Key.fromKeyArn(stack, 'Key', KEY), [BREAK_GLASS], [DEPLOYER])).toBe(false);
  });
});

describe('warnNoBreakGlass', () => {
  function warnings(breakGlass: string[], deployment: string[]): string[] {
    const stack = new Stack(new App(), 'Warn');
    warnNoBreakGlass(stack, breakGlass, deployment);
    return stack.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
  }

  test('break-glass principals declared: no warning', () => {
    expect(warnings([BREAK_GLASS], [])).toEqual([]);
    expect(warnings([BREAK_GLASS], [DEPLOYER])).toEqual([]);
  });

  test('no break-glass, deployments declared: the vault stays deployable, recovery points untouchable', () => {
    expect(warnings([], [DEPLOYER])).toEqual(['Warn: no breakGlassPrincipalArns: nobody can delete a recovery point or shorten its lifecycle early; only the '
      + 'deployment principals (deploymentPrincipalArns, by default the CDK CloudFormation execution role) can change the vault\'s access policy or lock '
      + '[ack: cdk-ebs-backup:backup:no-break-glass]']);
  });

  test('neither: nobody can ever change the vault again', () => {
    expect(warnings([], [])).toEqual(['Warn: no breakGlassPrincipalArns and no deploymentPrincipalArns: nobody, not even a later deployment of this stack, '
      + 'will ever be able to change the vault\'s access policy or lock [ack: cdk-ebs-backup:backup:no-break-glass]']);
  });
});

describe('vaultLockPlan', () => {
  test('no lock: nothing', () => {
    expect(vaultLockPlan(undefined, 'Vault')).toEqual({ locks: [], irreversible: [] });
  });

  test('governance: the lock and its bounds, nothing irreversible', () => {
    expect(vaultLockPlan(VaultLock.governance({ minRetention: Duration.days(7) }), 'Vault'))
      .toEqual({ locks: ['Vault Lock governance (min 7 days)'], irreversible: [] });
    expect(vaultLockPlan(VaultLock.governance({ minRetention: Duration.days(7), maxRetention: Duration.days(30) }), 'Vault'))
      .toEqual({ locks: ['Vault Lock governance (min 7 days, max 30 days)'], irreversible: [] });
  });

  test('compliance: irreversible after its grace period (3 days unless given)', () => {
    const consequence = (grace: string): string => `immutable ${grace} after deployment: from then on nobody, not even the root user or AWS, can remove the lock, `
      + 'delete the vault while it holds recovery points, or delete a recovery point before 7 days; every recovery point is billed until its retention ends';
    expect(vaultLockPlan(VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(3650) }), 'Vault')).toEqual({
      locks: ['Vault Lock compliance (min 7 days, max 3650 days)'],
      irreversible: [{ what: 'compliance-mode Vault Lock on vault Vault (min 7 days, max 3650 days)', consequence: consequence('3 days') }],
    });
    expect(vaultLockPlan(VaultLock.compliance({ minRetention: Duration.days(7), changeableFor: Duration.days(5) }), 'Vault')).toEqual({
      locks: ['Vault Lock compliance (min 7 days)'],
      irreversible: [{ what: 'compliance-mode Vault Lock on vault Vault (min 7 days)', consequence: consequence('5 days') }],
    });
  });
});
