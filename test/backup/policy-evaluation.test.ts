/**
 * Evaluates the SYNTHESIZED vault access policy and key policy with an IAM policy evaluator
 * (`@cloud-copilot/iam-simulate`), not the code that built them: every destructive action is
 * denied to an ordinary administrator and allowed to the break-glass role.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupVaultPolicy, Retention, VaultLock } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

const ACCOUNT = '123456789012';
const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/BreakGlass`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/Administrator`;
const VAULT_ARN = `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:ebs`;
const RECOVERY_POINT = `arn:aws:backup:us-east-1:${ACCOUNT}:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45`;
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ADMIN_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/** Replace `{ Ref: AWS::Partition }` etc. and joins by what CloudFormation would render. */
function render(value: any): any {
  if (Array.isArray(value)) {
    return value.map(render);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (value.Ref === 'AWS::Partition') {
    return 'aws';
  }
  if (value.Ref === 'AWS::AccountId') {
    return ACCOUNT;
  }
  if (value['Fn::Join']) {
    return render(value['Fn::Join'][1]).join(value['Fn::Join'][0]);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v)]));
}

async function evaluate(principal: string, action: string, resource: string, resourcePolicy: any): Promise<string> {
  const result = await runSimulation({
    request: { principal, action, resource: { resource, accountId: ACCOUNT }, contextVariables: { 'aws:PrincipalArn': principal } },
    identityPolicies: [{ name: 'admin', policy: ADMIN_POLICY }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  }, {});
  if (result.resultType === 'error') {
    throw new Error(JSON.stringify(result.errors));
  }
  return result.overallResult;
}

describe('the synthesized policies, evaluated', () => {
  let vaultPolicy: any;
  let keyPolicy: any;
  beforeAll(() => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    new BackupVaultPolicy(stack, 'EbsVault', {
      purpose: 'ebs-dr',
      vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }),
      rules: [{ name: 'daily', schedule: events.Schedule.cron({ hour: '5', minute: '0' }), retain: Retention.age(Duration.days(35)) }],
      allTags: { Backup: 'daily' },
      breakGlassPrincipalArns: [BREAK_GLASS],
      notifications: false,
    });
    Validations.of(stack).acknowledge({ id: 'Annotation::cdk-ebs-backup:backup:no-lock', reason: 'governance lock under test' });
    const template = checkedTemplate(stack);
    const resources = Object.values<any>(template.Resources);
    vaultPolicy = render(resources.find((r) => r.Type === 'AWS::Backup::BackupVault').Properties.AccessPolicy);
    keyPolicy = render(resources.find((r) => r.Type === 'AWS::KMS::Key').Properties.KeyPolicy);
  });

  test.each([
    ['backup:DeleteRecoveryPoint', RECOVERY_POINT],
    ['backup:UpdateRecoveryPointLifecycle', RECOVERY_POINT],
    ['backup:PutBackupVaultAccessPolicy', VAULT_ARN],
    ['backup:DeleteBackupVaultAccessPolicy', VAULT_ARN],
    ['backup:PutBackupVaultLockConfiguration', VAULT_ARN],
    ['backup:DeleteBackupVaultLockConfiguration', VAULT_ARN],
    ['backup:DeleteBackupVault', VAULT_ARN],
  ])('vault: %s is denied to an administrator and allowed to break-glass', async (action, resource) => {
    expect(await evaluate(ADMIN, action, resource, vaultPolicy)).toEqual('ExplicitlyDenied');
    expect(await evaluate(BREAK_GLASS, action, resource, vaultPolicy)).toEqual('Allowed');
  });

  test('vault: ordinary work (restores) is not affected', async () => {
    expect(await evaluate(ADMIN, 'backup:StartRestoreJob', RECOVERY_POINT, vaultPolicy)).toEqual('Allowed');
  });

  test.each(['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:RevokeGrant'])(
    'key: %s is denied to an administrator and allowed to break-glass', async (action) => {
      expect(await evaluate(ADMIN, action, KEY_ARN, keyPolicy)).toEqual('ExplicitlyDenied');
      expect(await evaluate(BREAK_GLASS, action, KEY_ARN, keyPolicy)).toEqual('Allowed');
    });

  test('key: the administrator can still use and describe the key', async () => {
    expect(await evaluate(ADMIN, 'kms:DescribeKey', KEY_ARN, keyPolicy)).toEqual('Allowed');
  });
});
