import { Duration, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupVaultPolicy, DeploymentPrerequisites, Retention, VaultLock } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

test('the public contract of issue 4 compiles and synthesizes through every gate', () => {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: "the organization's cross-account backup setting is on (README Before you deploy)" });

  // --- verbatim from the issue ---
  const vault = new BackupVaultPolicy(stack, 'EbsVault', {
    purpose: 'ebs-dr',
    vaultLock: VaultLock.compliance({
      minRetention: Duration.days(7),
      maxRetention: Duration.days(3650),
      changeableFor: Duration.days(3),
    }),
    rules: [{
      name: 'daily',
      schedule: events.Schedule.cron({ hour: '5', minute: '0' }),
      retain: Retention.age(Duration.days(35)),
      copyTo: [{
        vaultArn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:ebs-archive',
        retain: Retention.age(Duration.days(365)),
      }],
    }],
    resources: [backup.BackupResource.fromTag('Backup', 'daily')],
    windowsVss: true,
    breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
  });
  // VaultLock.governance({ minRetention, maxRetention }) is the reversible mode.
  // --- end of contract ---
  // the compliance lock's warning is the point of the contract: acknowledged as a user would
  Validations.of(vault).acknowledge({ id: BackupVaultPolicy.COMPLIANCE_LOCK_WARNING, reason: 'immutability is intended' });

  const template = Template.fromJSON(checkedTemplate(stack));
  template.resourceCountIs('AWS::Backup::BackupVault', 1);
  template.hasResourceProperties('AWS::Backup::BackupVault', {
    LockConfiguration: { MinRetentionDays: 7, MaxRetentionDays: 3650, ChangeableForDays: 3 },
  });
  expect(vault.vault.backupVaultArn).toBeDefined();
  expect(vault.plan).toBeDefined();
  expect(vault.key).toBeDefined();
});
