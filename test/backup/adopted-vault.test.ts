import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupVaultPolicy, BackupVaultPolicyProps, Retention, VaultLock } from '../../src';
import { TEST_ENV } from '../support';

const rules = [{ name: 'daily', schedule: events.Schedule.cron({ hour: '5', minute: '0' }), retain: Retention.age(Duration.days(35)) }];

function adopt(props: Partial<BackupVaultPolicyProps> = {}): { stack: Stack; policy: BackupVaultPolicy } {
  const stack = new Stack(new App(), 'Db', { env: TEST_ENV });
  const vault = backup.BackupVault.fromBackupVaultName(stack, 'Existing', 'company-vault');
  const policy = new BackupVaultPolicy(stack, 'Backups', { purpose: 'db', rules, vault, allTags: { Backup: 'db' }, ...props });
  return { stack, policy };
}

describe('BackupVaultPolicy adopting an existing vault', () => {
  test('backs up into the adopted vault and creates no vault or vault key of its own', () => {
    // GIVEN a vault that another team created
    const { stack, policy } = adopt();
    // THEN the plan targets it by name and nothing vault-shaped is created here
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Backup::BackupVault', 0);
    const vaultKeys = Object.values(template.findResources('AWS::KMS::Key')).filter((k) => /AWS Backup vault/.test(String(k.Properties.Description)));
    expect(vaultKeys).toEqual([]);
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ TargetBackupVault: 'company-vault' })] },
    });
    template.resourceCountIs('AWS::Backup::BackupSelection', 1);
    expect(policy.vault.backupVaultName).toEqual('company-vault');
    expect(policy.key).toBeUndefined();
  });

  test('warns that the lock and access policy stay with the vault, with the acknowledgement id', () => {
    const { stack } = adopt();
    Annotations.fromStack(stack).hasWarning('/Db/Backups',
      Match.stringLikeRegexp('the adopted vault company-vault keeps its own Vault Lock and access policy.*lock it where it was created.*\\[ack: cdk-ebs-backup:backup:adopted-vault\\]'));
    // the warnings of a vault this construct owns do not apply
    Annotations.fromStack(stack).hasNoWarning('/Db/Backups', Match.stringLikeRegexp('ack: cdk-ebs-backup:backup:no-lock'));
  });

  test('lists every setting that belongs to the adopted vault at once, with the fix', () => {
    expect(() => adopt({
      vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }),
      vaultName: 'other',
      useAwsManagedKey: true,
    })).toThrow([
      'Db/Backups: 3 problems',
      "  - Db/Backups: vaultLock cannot be set with vault: the adopted vault keeps its own (CloudFormation sets it on the vault resource only), got 'GOVERNANCE'; " +
        'lock the vault in the stack or account that created it, or omit vault to create a new locked one',
      "  - Db/Backups: vaultName cannot be set with vault: the adopted vault has its name, got 'other'; name the vault in BackupVault.fromBackupVaultName(...) only",
      '  - Db/Backups: useAwsManagedKey cannot be set with vault: the adopted vault keeps its own (CloudFormation sets it on the vault resource only), got true; omit it',
    ].join('\n'));
  });
});
