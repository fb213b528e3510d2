import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
// eslint-disable-next-line import/no-duplicates
import { ProtectedResources, RecycleBinResourceType, Retention, RetentionRoles, SnapshotLockMode, SnapshotSharingBlock } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
// the contract imports the package by name, as users will (jest and eslint map it to src/)
// eslint-disable-next-line import/no-duplicates, import/order
import { WormSnapshotGuard } from 'cdk-ebs-backup';

const BREAK_GLASS = 'arn:aws:iam::123456789012:role/BreakGlass';

/** The statements of the guard's deny policy, by Sid. */
function denyStatements(template: Template): Record<string, any> {
  const policies = template.findResources('AWS::IAM::ManagedPolicy', {
    Properties: { Description: Match.stringLikeRegexp('WormSnapshotGuard') },
  });
  const [policy] = Object.values(policies);
  return Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]));
}

describe('WormSnapshotGuard', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  test('the public contract compiles and synthesizes as written', () => {
    // GIVEN
    const operatorsRole = new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN (the contract, verbatim)
    /* eslint-disable @stylistic/no-multi-spaces */
    const guard = new WormSnapshotGuard(stack, 'Guard', {
      breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
      recycleBin: { retain: Retention.age(Duration.days(30)), lockUnlockDelay: Duration.days(7) },
      blockPublicSharing: true,
    });
    guard.protect(operatorsRole);              // an iam.IRole, IUser or IGroup
    const scps = guard.toServiceControlPolicies(); // iam.PolicyDocuments for AWS Organizations
    /* eslint-enable @stylistic/no-multi-spaces */

    // THEN
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Operators') }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'DenyBackupDeletion',
          Effect: 'Deny',
          Action: ['ec2:DeleteSnapshot', 'ec2:DeregisterImage', 'ec2:DisableImageDeregistrationProtection'],
          Condition: { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] } },
        })]),
      },
    });
    for (const type of ['EBS_SNAPSHOT', 'EC2_IMAGE']) {
      template.hasResourceProperties('AWS::Rbin::Rule', {
        ResourceType: type,
        RetentionPeriod: { RetentionPeriodValue: 30, RetentionPeriodUnit: 'DAYS' },
        LockConfiguration: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' },
        ResourceTags: Match.absent(),
        ExcludeResourceTags: Match.absent(),
      });
    }
    template.hasResourceProperties('AWS::EC2::SnapshotBlockPublicAccess', { State: 'block-all-sharing' });
    template.hasResourceProperties('Custom::AWS', { Create: Match.stringLikeRegexp('enableImageBlockPublicAccess.*block-new-sharing') });

    const scpJson = scps.map((scp) => stack.resolve(scp.toJSON()));
    // split over policies that each fit the AWS Organizations quota, every statement once
    expect(scpJson.every((doc) => JSON.stringify(doc).length <= 5120)).toBe(true);
    const sids = scpJson.flatMap((doc) => doc.Statement.map((s: any) => s.Sid));
    expect(sids).toEqual(expect.arrayContaining([
      'DenyBackupDeletion', 'DenyBackupSharingChanges', 'DenySnapshotLockChanges', 'DenyRecycleBinChanges',
      'DenyRecoveryPointChanges', 'DenyVaultConfigurationChanges', 'DenyBlockPublicAccessChanges', 'DenyExemptRoleChanges',
    ]));
    expect(new Set(sids).size).toBe(sids.length);
    // an SCP names no principal: the statements apply to every principal of the targeted accounts
    expect(scpJson.flatMap((doc) => doc.Statement).every((s: any) => s.Principal === undefined && s.NotPrincipal === undefined)).toBe(true);
  });

  test('exempts every registered retention role, even one registered after the guard', () => {
    // GIVEN a guard created first
    const guard = new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [BREAK_GLASS], blockPublicSharing: false });
    guard.protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));

    // WHEN a DLM role and an AWS Backup role register afterwards, and one role is exempted by hand
    const dlm = new iam.Role(stack, 'DlmRole', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    const backup = new iam.Role(stack, 'BackupRole', { assumedBy: new iam.ServicePrincipal('backup.amazonaws.com') });
    RetentionRoles.register(dlm, dlm, 'DLM execution role');
    RetentionRoles.register(backup, backup, 'AWS Backup role');
    guard.exemptRole(iam.Role.fromRoleArn(stack, 'Expiry', 'arn:aws:iam::123456789012:role/expiry-job'));

    // THEN the lifecycle statements exempt them all; the Recycle Bin statement only the break-glass role
    const statements = denyStatements(Template.fromJSON(checkedTemplate(stack)));
    for (const sid of ['DenyBackupDeletion', 'DenyBackupSharingChanges', 'DenyRecoveryPointChanges']) {
      expect(statements[sid].Condition.ArnNotLike['aws:PrincipalArn']).toEqual([
        BREAK_GLASS,
        'arn:aws:iam::123456789012:role/expiry-job',
        { 'Fn::GetAtt': [expect.stringMatching(/^DlmRole/), 'Arn'] },
        { 'Fn::GetAtt': [expect.stringMatching(/^BackupRole/), 'Arn'] },
      ]);
    }
    // configuration: break-glass and the deployment principal (the CDK bootstrap execution role by default)
    expect(statements.DenyRecycleBinChanges.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([BREAK_GLASS, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1']] }]);
    expect(statements.DenySnapshotLockChanges.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([BREAK_GLASS]);
  });

  test('can leave the registered roles to explicit patterns', () => {
    const dlm = new iam.Role(stack, 'DlmRole', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    RetentionRoles.register(dlm, dlm, 'DLM execution role');
    const guard = new WormSnapshotGuard(stack, 'Guard', {
      exemptRegisteredRetentionRoles: false,
      exemptPrincipalArns: ['arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole'],
      blockPublicSharing: false,
      deploymentPrincipalArns: [],
    });
    guard.protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    const statements = denyStatements(Template.fromJSON(checkedTemplate(stack)));
    expect(statements.DenyBackupDeletion.Condition.ArnNotLike['aws:PrincipalArn']).toEqual(['arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole']);
    // nobody is exempt from the Recycle Bin statement when there is no break-glass principal: no
    // Condition block at all (never an empty one)
    expect(statements.DenyRecycleBinChanges.Condition).toBeUndefined();
  });

  test('protects a user, a group and an imported role alike', () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [BREAK_GLASS], blockPublicSharing: false });
    guard.protect(iam.User.fromUserName(stack, 'Alice', 'alice'));
    guard.protect(iam.Group.fromGroupName(stack, 'Admins', 'admins'));
    guard.protect(iam.Role.fromRoleName(stack, 'Imported', 'existing-operators'));

    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Users: ['alice'],
      Groups: ['admins'],
      Roles: ['existing-operators'],
    });
  });

  test('scopes the snapshot and AMI statements to purpose-tagged resources and denies removing the tag', () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', {
      breakGlassPrincipalArns: [BREAK_GLASS],
      protectedResources: ProtectedResources.purposes('database-dr'),
      blockPublicSharing: false,
    });
    guard.protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    const statements = denyStatements(Template.fromJSON(checkedTemplate(stack)));
    expect(statements.DenyBackupDeletion.Condition.StringEquals).toEqual({ 'aws:ResourceTag/backup:purpose': ['database-dr'] });
    expect(statements.DenyPurposeTagChanges).toMatchObject({
      Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
      Resource: ['arn:*:ec2:*::snapshot/*', 'arn:*:ec2:*::image/*'],
      Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['backup:purpose'] } },
    });
    // vaults, the Recycle Bin and keys are not artefacts: never tag-scoped
    expect(statements.DenyRecycleBinChanges.Condition.StringEquals).toBeUndefined();
  });

  test('denies deleting or disabling the keys that encrypt backups, also keys added later', () => {
    const first = kms.Key.fromKeyArn(stack, 'SnapshotKey', 'arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111');
    const later = kms.Key.fromKeyArn(stack, 'VaultKey', 'arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222');
    const guard = new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [BREAK_GLASS], keys: [first], blockPublicSharing: false });
    const scps = guard.toServiceControlPolicies();
    guard.protectKey(later);
    guard.protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));

    const statements = denyStatements(Template.fromJSON(checkedTemplate(stack)));
    expect(statements.DenyNamedKeyDestruction).toMatchObject({
      Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:RevokeGrant', 'kms:DeleteImportedKeyMaterial'],
      Resource: [first.keyArn, later.keyArn],
      Condition: { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] } },
    });
    expect(scps.flatMap((scp) => stack.resolve(scp.toJSON()).Statement).filter((s: any) => s.Sid === 'DenyNamedKeyDestruction')).toHaveLength(1);
  });

  test('adds a key statement on the first protected key when none was given', () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [BREAK_GLASS], blockPublicSharing: false });
    guard.protectKey(kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111'));
    guard.protectKey(kms.Key.fromKeyArn(stack, 'Key2', 'arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222'));
    guard.protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    const statements = denyStatements(Template.fromJSON(checkedTemplate(stack)));
    expect(statements.DenyNamedKeyDestruction.Resource).toEqual([
      'arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111',
      'arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222',
    ]);
  });

  test('applies the same denies as a permissions boundary under an allow-all ceiling', () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [BREAK_GLASS], blockPublicSharing: false });
    const developers = new iam.Role(stack, 'Developers', { assumedBy: new iam.AccountRootPrincipal() });
    guard.applyPermissionsBoundary(developers);

    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::IAM::Role', {
      PermissionsBoundary: { Ref: Match.stringLikeRegexp('^GuardPermissionsBoundary') },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Description: Match.stringLikeRegexp('^Permissions boundary'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Sid: 'AllowWithinBoundary', Effect: 'Allow', Action: '*', Resource: '*' },
          Match.objectLike({ Sid: 'DenyBackupDeletion', Effect: 'Deny' }),
        ]),
      },
    });
    expect(guard.permissionsBoundary).toBe(guard.permissionsBoundary);
  });

  test('exempts its snapshot lock job from the lock statement only', () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', {
      breakGlassPrincipalArns: [BREAK_GLASS],
      snapshotLock: { mode: SnapshotLockMode.governance(Duration.days(14)) },
      snapshotSharingBlock: SnapshotSharingBlock.BLOCK_NEW_SHARING,
    });
    guard.protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    const template = Template.fromJSON(checkedTemplate(stack));
    const statements = denyStatements(template);
    expect(statements.DenySnapshotLockChanges.Condition.ArnNotLike['aws:PrincipalArn'])
      .toEqual([BREAK_GLASS, { 'Fn::GetAtt': [expect.stringMatching(/^GuardSnapshotLockRole/), 'Arn'] }]);
    expect(statements.DenyBackupDeletion.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([BREAK_GLASS]);
    template.hasResourceProperties('AWS::EC2::SnapshotBlockPublicAccess', { State: 'block-new-sharing' });
  });

  test('skips validation of unresolved values', () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', {
      breakGlassPrincipalArns: [Fn.importValue('BreakGlassRoleArn')],
      recycleBin: { retain: Retention.age(Duration.days(Token.asNumber(Fn.importValue('RecycleDays')))) },
      blockPublicSharing: false,
    });
    guard.protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::Rbin::Rule', {
      RetentionPeriod: { RetentionPeriodValue: { 'Fn::ImportValue': 'RecycleDays' } },
    });
  });

  test('fails synthesis when the SCP outgrows the 5,120-character quota', () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', {
      breakGlassPrincipalArns: [BREAK_GLASS],
      exemptPrincipalArns: Array.from({ length: 40 }, (_, i) => `arn:aws:iam::1234567890${String(i).padStart(2, '0')}:role/dlm-execution-role-for-account-${i}`),
      blockPublicSharing: false,
    });
    guard.toServiceControlPolicy();
    expect(() => app.synth()).toThrow(/TestStack\/Guard: service control policy must be at most 5120 characters \(AWS Organizations quota\), got about \d+/);
  });

  test.each([
    ['an assumed-role session ARN', { breakGlassPrincipalArns: ['arn:aws:sts::123456789012:assumed-role/BreakGlass/alice'] },
      'breakGlassPrincipalArns[0] must be a role ARN, not an assumed-role session: aws:PrincipalArn carries the role ARN'],
    ['a malformed ARN', { breakGlassPrincipalArns: ['BreakGlass'] }, "breakGlassPrincipalArns[0] must be an IAM role, user or root ARN such as arn:aws:iam::123456789012:role/BreakGlass (wildcards allowed), got 'BreakGlass'"],
    ['a non-IAM pattern', { exemptPrincipalArns: ['arn:aws:s3:::bucket'] }, 'exemptPrincipalArns[0] must be an IAM role, user or root ARN'],
    ['a bad protected purpose', { protectedResources: ProtectedResources.purposes('db#1') }, 'protectedResources.purposes[0] must be a tag value'],
    ['a sharing block without blocking', { blockPublicSharing: false, snapshotSharingBlock: SnapshotSharingBlock.BLOCK_NEW_SHARING }, 'snapshotSharingBlock needs blockPublicSharing: true'],
    ['a repeated Recycle Bin type', { blockPublicSharing: false, recycleBin: { retain: Retention.age(Duration.days(7)), resourceTypes: [RecycleBinResourceType.EBS_SNAPSHOT, RecycleBinResourceType.EBS_SNAPSHOT] } }, 'recycleBin.resourceTypes must not repeat a resource type'],
    ['a Recycle Bin retention over a year', { blockPublicSharing: false, recycleBin: { retain: Retention.age(Duration.days(366)) } }, 'retain must be between 1 day and 365 days, got 366 days'],
    ['a managed policy name too long', { managedPolicyName: 'x'.repeat(129) }, 'managedPolicyName must be between 1 and 128 characters long'],
  ])('rejects %s', (_name, props, fragment) => {
    expect(() => new WormSnapshotGuard(stack, 'Guard', props as any)).toThrow(fragment);
  });

  test('rejects a second block-public-access setting for the same account and region', () => {
    new WormSnapshotGuard(stack, 'One');
    expect(() => new WormSnapshotGuard(stack, 'Two')).toThrow(
      /TestStack\/Two: blockPublicSharing blocks public sharing, an account-and-region setting that TestStack\/One \(blockPublicSharing\) already blocks .*; set blockPublicSharing: false on TestStack\/Two;/,
    );
  });

  test('rejects an empty purpose list', () => {
    expect(() => ProtectedResources.purposes()).toThrow('ProtectedResources.purposes: purposes must have at least 1 item');
  });
});
