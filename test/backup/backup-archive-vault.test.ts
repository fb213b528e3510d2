import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DeploymentPrerequisites, BackupArchiveVault, VaultLock } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

const BREAK_GLASS = 'arn:aws:iam::111122223333:role/BreakGlass';

describe('BackupArchiveVault', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app, 'Archive', { env: { account: '111122223333', region: 'eu-west-1' } });
    Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: "the organization's cross-account backup setting is on (README Before you deploy)" });
  });

  test('admits copies only from the source accounts and denies destruction to all but break-glass', () => {
    const archive = new BackupArchiveVault(stack, 'Receiving', {
      sourceAccounts: ['123456789012'],
      vaultName: 'ebs-archive',
      vaultLock: VaultLock.governance({ minRetention: Duration.days(30), maxRetention: Duration.days(3650) }),
      breakGlassPrincipalArns: [BREAK_GLASS],
    });
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::Backup::BackupVault', {
      BackupVaultName: 'ebs-archive',
      EncryptionKeyArn: Match.anyValue(),
      LockConfiguration: { MinRetentionDays: 30, MaxRetentionDays: 3650 },
      AccessPolicy: {
        Statement: [
          {
            Sid: 'AllowCopiesFromSourceAccounts',
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] } },
            Action: 'backup:CopyIntoBackupVault',
            Resource: '*',
          },
          // configuration: break-glass and the deployment principal (the CDK bootstrap execution role)
          Match.objectLike({
            Effect: 'Deny',
            Principal: '*',
            Condition: {
              ArnNotLike: {
                'aws:PrincipalArn': [BREAK_GLASS,
                  { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1']] }],
              },
            },
          }),
          // recovery points: break-glass only
          Match.objectLike({ Effect: 'Deny', Principal: '*', Condition: { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] } } }),
        ],
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'DenyKeyDestructionExceptBreakGlass' })]) },
    });
    expect(archive.vaultLock).toBeDefined();
  });

  test('admits a whole organization by aws:PrincipalOrgID', () => {
    new BackupArchiveVault(stack, 'Receiving', {
      sourceOrganizationId: 'o-a1b2c3d4e5',
      vaultLock: VaultLock.governance({ minRetention: Duration.days(30) }),
      breakGlassPrincipalArns: [BREAK_GLASS],
    });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Backup::BackupVault', {
      AccessPolicy: {
        Statement: Match.arrayWith([{
          Sid: 'AllowCopiesFromOrganization',
          Effect: 'Allow',
          Principal: '*',
          Action: 'backup:CopyIntoBackupVault',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
        }]),
      },
    });
  });

  test('a logically air-gapped vault uses an AWS-owned key and the lock bounds', () => {
    const archive = new BackupArchiveVault(stack, 'AirGapped', {
      sourceAccounts: ['123456789012'],
      logicallyAirGapped: true,
      vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(365) }),
      breakGlassPrincipalArns: [BREAK_GLASS],
    });
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResource('AWS::Backup::LogicallyAirGappedBackupVault', {
      DeletionPolicy: 'Retain',
      Properties: {
        BackupVaultName: Match.stringLikeRegexp('AirGapped'),
        MinRetentionDays: 7,
        MaxRetentionDays: 365,
        EncryptionKeyArn: Match.absent(),
        AccessPolicy: { Statement: Match.arrayWith([Match.objectLike({ Action: 'backup:CopyIntoBackupVault' })]) },
      },
    });
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(archive.key).toBeUndefined();
    expect(archive.vault.backupVaultArn).toBeDefined();
  });

  test('warns when the archive vault has no lock', () => {
    const archive = new BackupArchiveVault(stack, 'Unlocked', { sourceAccounts: ['123456789012'], breakGlassPrincipalArns: [BREAK_GLASS] });
    expect(() => checkedTemplate(stack)).toThrow(/the archive vault has no Vault Lock/);
    Validations.of(archive).acknowledge({ id: 'Annotation::cdk-ebs-backup:backup:no-lock', reason: 'test' });
  });
});
