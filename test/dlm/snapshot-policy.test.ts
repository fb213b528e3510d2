import { App, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  DeploymentPrerequisites,
  DlmSnapshotPolicy, Retention, ScriptFailureAction, ScriptStage, SnapshotScript, SnapshotTarget, VariableTagValue,
} from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

let app: App;
let stack: Stack;
beforeEach(() => {
  app = createCheckedApp();
  stack = createTestStack(app);
  Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the shared volumes are encrypted with a customer key shared with the target account (README Before you deploy)' });
});

function policyProps(t: any): any {
  return Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::DLM::LifecyclePolicy').Properties;
}

function roleStatements(t: any): any[] {
  return Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::IAM::Policy').flatMap((r) => r.Properties.PolicyDocument.Statement);
}

const nightly = (extra: object = {}) => ({
  name: 'nightly',
  schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
  retain: Retention.count(14),
  ...extra,
});

describe('DlmSnapshotPolicy', () => {
  test('the public contract of the issue synthesizes through every gate', () => {
    // GIVEN / WHEN the contract, verbatim
    new DlmSnapshotPolicy(stack, 'DatabaseSnapshots', {
      purpose: 'database-dr',
      target: SnapshotTarget.instances({ tags: { Backup: 'database' }, excludeBootVolume: true }),
      schedules: [{
        name: 'nightly',
        schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
        retain: Retention.count(14),
        crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(30)) }],
        fastRestore: { availabilityZones: ['us-east-1a'], retain: Retention.count(1) },
      }],
    });

    new DlmSnapshotPolicy(stack, 'RecordsArchive', {
      purpose: 'records',
      target: SnapshotTarget.volumes({ tags: { Records: 'keep' } }),
      schedules: [{
        name: 'monthly',
        schedule: events.Schedule.cron({ day: '1', hour: '5', minute: '0' }),
        retain: Retention.count(3),
        archive: { retain: Retention.age(Duration.days(365)) },
      }],
    });
    // events.Schedule.rate(Duration.hours(12)) maps to an interval schedule.

    // THEN
    const template = Template.fromJSON(checkedTemplate(stack));
    template.resourceCountIs('AWS::DLM::LifecyclePolicy', 2);
    template.resourceCountIs('AWS::IAM::Role', 1); // one execution role per stack
    template.hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      State: 'ENABLED',
      Description: 'EBS snapshots for database-dr by cdk-ebs-backup at TestStack-DatabaseSnapshots',
      PolicyDetails: {
        PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
        PolicyLanguage: 'STANDARD',
        ResourceTypes: ['INSTANCE'],
        ResourceLocations: ['CLOUD'],
        TargetTags: [{ Key: 'Backup', Value: 'database' }],
        Parameters: { ExcludeBootVolume: true },
        Schedules: [{
          Name: 'nightly',
          CreateRule: { CronExpression: 'cron(0 4 * * ? *)' },
          RetainRule: { Count: 14 },
          CopyTags: false,
          TagsToAdd: [
            { Key: 'backup:purpose', Value: 'database-dr' },
            { Key: 'backup:retention', Value: 'count:14' },
            { Key: 'backup:managed-by', Value: 'TestStack/DatabaseSnapshots' },
          ],
          CrossRegionCopyRules: [{
            Target: 'eu-west-1', Encrypted: true, CopyTags: true, RetainRule: { Interval: 30, IntervalUnit: 'DAYS' },
          }],
          FastRestoreRule: { AvailabilityZones: ['us-east-1a'], Count: 1 },
        }],
      },
    });
    template.hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      PolicyDetails: Match.objectLike({
        ResourceTypes: ['VOLUME'],
        Parameters: Match.absent(),
        Schedules: [Match.objectLike({
          CreateRule: { CronExpression: 'cron(0 5 1 * ? *)' },
          RetainRule: { Count: 3 },
          // 365 days at the shortest monthly gap (28 days) needs 14 archived snapshots
          ArchiveRule: { RetainRule: { RetentionArchiveTier: { Count: 14 } } },
        })],
      }),
    });
  });

  test('a rate schedule becomes an interval in hours with its start time', () => {
    // WHEN
    new DlmSnapshotPolicy(stack, 'Policy', {
      purpose: 'app',
      target: SnapshotTarget.volumes({ tags: { Backup: 'app' } }),
      schedules: [{ name: 'twice-daily', schedule: events.Schedule.rate(Duration.hours(12)), startTime: '03:30', retain: Retention.age(Duration.days(7)) }],
    });

    // THEN
    const t = checkedTemplate(stack);
    expect(policyProps(t).PolicyDetails.Schedules[0]).toMatchObject({
      CreateRule: { Interval: 12, IntervalUnit: 'HOURS', Times: ['03:30'] },
      RetainRule: { Interval: 7, IntervalUnit: 'DAYS' },
    });
    expect(policyProps(t).PolicyDetails.Schedules[0].CreateRule.CronExpression).toBeUndefined();
  });

  test('a daily rate is 24 hours, and up to four schedules share one policy', () => {
    new DlmSnapshotPolicy(stack, 'Policy', {
      purpose: 'app',
      target: SnapshotTarget.volumes({ tags: { Backup: 'app' } }),
      schedules: [
        { name: 'hourly', schedule: events.Schedule.rate(Duration.hours(1)), retain: Retention.count(24) },
        { name: 'daily', schedule: events.Schedule.rate(Duration.days(1)), retain: Retention.count(7) },
        { name: 'weekly', schedule: events.Schedule.cron({ weekDay: 'SUN', hour: '2', minute: '0' }), retain: Retention.age(Duration.days(35)) },
        { name: 'yearly', schedule: events.Schedule.cron({ month: '1', day: '1', hour: '0', minute: '0' }), retain: Retention.age(Duration.days(36500)) },
      ],
    });
    const schedules = policyProps(checkedTemplate(stack)).PolicyDetails.Schedules;
    expect(schedules.map((s: any) => s.CreateRule)).toEqual([
      { Interval: 1, IntervalUnit: 'HOURS' },
      { Interval: 24, IntervalUnit: 'HOURS' },
      { CronExpression: 'cron(0 2 ? * SUN *)' },
      { CronExpression: 'cron(0 0 1 1 ? *)' },
    ]);
    expect(schedules[3].RetainRule).toEqual({ Interval: 36500, IntervalUnit: 'DAYS' });
    expect(schedules[3].TagsToAdd).toContainEqual({ Key: 'backup:retention', Value: 'age:36500d' });
  });

  test('multi-volume instance snapshots exclude the boot volume and tagged data volumes, with variable tags', () => {
    new DlmSnapshotPolicy(stack, 'Raid', {
      purpose: 'raid-array',
      target: SnapshotTarget.instances({ tags: { Backup: 'raid' }, excludeBootVolume: true, excludeDataVolumeTags: { Scratch: 'true' } }),
      schedules: [nightly({
        tags: { CostCenter: '42' },
        variableTags: { instance: VariableTagValue.INSTANCE_ID, taken: VariableTagValue.TIMESTAMP },
        copyTags: true,
      })],
    });
    const details = policyProps(checkedTemplate(stack)).PolicyDetails;
    expect(details.Parameters).toEqual({ ExcludeBootVolume: true, ExcludeDataVolumeTags: [{ Key: 'Scratch', Value: 'true' }] });
    expect(details.Schedules[0].VariableTags).toEqual([
      { Key: 'instance', Value: '$(instance-id)' }, { Key: 'taken', Value: '$(timestamp)' },
    ]);
    expect(details.Schedules[0].TagsToAdd[0]).toEqual({ Key: 'CostCenter', Value: '42' });
    expect(details.Schedules[0].CopyTags).toBe(true);
  });

  test('cross-region copies carry their own retention and KMS key, and the role may use the key', () => {
    const key = kms.Key.fromKeyArn(stack, 'DrKey', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555');
    new DlmSnapshotPolicy(stack, 'Dr', {
      purpose: 'dr',
      target: SnapshotTarget.volumes({ tags: { Backup: 'dr' } }),
      schedules: [nightly({
        crossRegionCopies: [
          { region: 'eu-west-1', retain: Retention.age(Duration.days(30)), encryptionKey: key },
          { region: 'us-west-2', retain: Retention.age(Duration.days(7)), encrypted: false },
        ],
      })],
    });
    const t = checkedTemplate(stack);
    expect(policyProps(t).PolicyDetails.Schedules[0].CrossRegionCopyRules).toEqual([
      {
        Target: 'eu-west-1',
        Encrypted: true,
        CopyTags: true,
        CmkArn: key.keyArn,
        RetainRule: { Interval: 30, IntervalUnit: 'DAYS' },
      },
      { Target: 'us-west-2', Encrypted: false, CopyTags: true, RetainRule: { Interval: 7, IntervalUnit: 'DAYS' } },
    ]);
    const statements = roleStatements(t);
    expect(statements).toContainEqual(expect.objectContaining({
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: key.keyArn,
    }));
    expect(statements).toContainEqual(expect.objectContaining({
      Action: 'kms:CreateGrant', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } }, Resource: key.keyArn,
    }));
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'ec2:CopySnapshot' }));
    expect(JSON.stringify(statements)).toContain(':ec2:us-west-2::snapshot/*');
  });

  test('shares with other accounts, unshares after a period, and the role may share with those accounts only', () => {
    new DlmSnapshotPolicy(stack, 'Shared', {
      purpose: 'archive',
      target: SnapshotTarget.volumes({ tags: { Backup: 'archive' } }),
      schedules: [nightly({ share: { accounts: ['222222222222'], unshareAfter: Duration.days(14) } })],
    });
    const t = checkedTemplate(stack);
    expect(policyProps(t).PolicyDetails.Schedules[0].ShareRules).toEqual([
      { TargetAccounts: ['222222222222'], UnshareInterval: 14, UnshareIntervalUnit: 'DAYS' },
    ]);
    expect(roleStatements(t)).toContainEqual(expect.objectContaining({
      Action: 'ec2:ModifySnapshotAttribute',
      Condition: {
        'ForAllValues:StringEquals': { 'ec2:Add/userId': ['222222222222'], 'ec2:Remove/userId': ['222222222222'] },
        'Null': { 'ec2:Add/group': 'true' },
      },
    }));
  });

  test('fast snapshot restore by age in several zones', () => {
    new DlmSnapshotPolicy(stack, 'Fsr', {
      purpose: 'fast',
      target: SnapshotTarget.volumes({ tags: { Backup: 'fast' } }),
      schedules: [nightly({ fastRestore: { availabilityZones: ['us-east-1a', 'us-east-1b'], retain: Retention.age(Duration.days(2)) } })],
    });
    const t = checkedTemplate(stack);
    expect(policyProps(t).PolicyDetails.Schedules[0].FastRestoreRule).toEqual({
      AvailabilityZones: ['us-east-1a', 'us-east-1b'], Interval: 2, IntervalUnit: 'DAYS',
    });
    expect(roleStatements(t)).toContainEqual(expect.objectContaining({ Action: ['ec2:EnableFastSnapshotRestores', 'ec2:DisableFastSnapshotRestores'] }));
  });

  test('age-based archive keeps its days in the archive tier', () => {
    new DlmSnapshotPolicy(stack, 'Archive', {
      purpose: 'records',
      target: SnapshotTarget.volumes({ tags: { Records: 'keep' } }),
      schedules: [{
        name: 'monthly',
        schedule: events.Schedule.cron({ day: '1', hour: '5', minute: '0' }),
        retain: Retention.age(Duration.days(90)),
        archive: { retain: Retention.age(Duration.days(730)) },
      }],
    });
    const t = checkedTemplate(stack);
    expect(policyProps(t).PolicyDetails.Schedules[0].ArchiveRule).toEqual({
      RetainRule: { RetentionArchiveTier: { Interval: 730, IntervalUnit: 'DAYS' } },
    });
    expect(roleStatements(t)).toContainEqual(expect.objectContaining({ Action: 'ec2:ModifySnapshotTier' }));
  });

  test('Windows VSS scripts omit the stages, service and timeout DLM fixes, and grant the AWS document', () => {
    new DlmSnapshotPolicy(stack, 'Vss', {
      purpose: 'sql-server',
      target: SnapshotTarget.instances({ tags: { Backup: 'sql' } }),
      schedules: [nightly({ script: SnapshotScript.windowsVss({ maxRetries: 2, onPreScriptFailure: ScriptFailureAction.SKIP_INSTANCE }) })],
    });
    const t = checkedTemplate(stack);
    expect(policyProps(t).PolicyDetails.Schedules[0].CreateRule.Scripts).toEqual([
      { ExecutionHandler: 'AWS_VSS_BACKUP', MaximumRetryCount: 2, ExecuteOperationOnScriptFailure: false },
    ]);
    const statements = roleStatements(t);
    expect(statements).toContainEqual(expect.objectContaining({
      Action: ['ssm:SendCommand', 'ssm:DescribeDocument', 'ssm:GetDocument'],
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1::document/AWSEC2-CreateVssSnapshot']] },
    }));
    expect(statements).toContainEqual(expect.objectContaining({
      Action: 'ssm:SendCommand',
      Condition: { StringEquals: { 'ssm:resourceTag/Backup': 'sql' } },
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:instance/*']] },
    }));
  });

  test('a custom SSM document script (fsfreeze) with timeout, retries and stages', () => {
    new DlmSnapshotPolicy(stack, 'Linux', {
      purpose: 'postgres',
      target: SnapshotTarget.instances({ tags: { Backup: 'pg' } }),
      schedules: [nightly({
        script: SnapshotScript.ssmDocument('fsfreeze-for-dlm', { timeout: Duration.seconds(60), maxRetries: 3, stages: [ScriptStage.PRE, ScriptStage.POST] }),
      })],
    });
    const t = checkedTemplate(stack);
    expect(policyProps(t).PolicyDetails.Schedules[0].CreateRule.Scripts).toEqual([{
      ExecutionHandler: 'fsfreeze-for-dlm',
      ExecutionHandlerService: 'AWS_SYSTEMS_MANAGER',
      ExecutionTimeout: 60,
      MaximumRetryCount: 3,
      Stages: ['PRE', 'POST'],
      ExecuteOperationOnScriptFailure: true,
    }]);
    expect(roleStatements(t)).toContainEqual(expect.objectContaining({
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:123456789012:document/fsfreeze-for-dlm']] },
    }));
  });

  test('a post-only script omits the failure action', () => {
    new DlmSnapshotPolicy(stack, 'Post', {
      purpose: 'app',
      target: SnapshotTarget.instances({ tags: { Backup: 'app' } }),
      schedules: [nightly({ script: SnapshotScript.ssmDocument('arn:aws:ssm:us-east-1:111122223333:document/shared-thaw', { stages: [ScriptStage.POST] }) })],
    });
    const t = checkedTemplate(stack);
    expect(policyProps(t).PolicyDetails.Schedules[0].CreateRule.Scripts[0]).toEqual({
      ExecutionHandler: 'arn:aws:ssm:us-east-1:111122223333:document/shared-thaw',
      ExecutionHandlerService: 'AWS_SYSTEMS_MANAGER',
      ExecutionTimeout: 10,
      MaximumRetryCount: 0,
      Stages: ['POST'],
    });
  });

  test('an existing role is used, granted and registered as a retention role; policyId and policyArn are exposed', () => {
    const role = new iam.Role(stack, 'MyRole', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    const policy = new DlmSnapshotPolicy(stack, 'Own', {
      purpose: 'app',
      executionRole: role,
      enabled: false,
      description: 'my policy',
      target: SnapshotTarget.volumes({ tags: { Backup: 'app' } }),
      schedules: [nightly()],
    });
    expect(policy.executionRole).toBe(role);
    const t = checkedTemplate(stack);
    expect(policyProps(t)).toMatchObject({ State: 'DISABLED', Description: 'my policy', ExecutionRoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^MyRole/), 'Arn'] } });
    Template.fromJSON(t).resourceCountIs('AWS::IAM::Role', 1);
    // AWS::DLM::LifecyclePolicy return values: "Ref returns the ID of the lifecycle policy" in every
    // aws-cdk-lib, whereas the Id attribute's L1 getter was renamed (attrId -> attrPolicyId).
    expect(stack.resolve(policy.policyId)).toEqual({ Ref: expect.stringMatching(/^Own/) });
    expect(stack.resolve(policy.policyArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Own/), 'Arn'] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RetentionRoles } = require('../../src');
    expect(RetentionRoles.roles(stack)).toContain(role);
  });

  test('tokens are not validated', () => {
    const count = Token.asNumber(Fn.importValue('Count'));
    new DlmSnapshotPolicy(stack, 'Tokens', {
      purpose: 'app',
      target: SnapshotTarget.volumes({ tags: { Backup: 'app' } }),
      schedules: [nightly({
        retain: Retention.count(count),
        share: { accounts: [Fn.importValue('ArchiveAccount')] },
        crossRegionCopies: [{ region: Fn.importValue('DrRegion'), retain: Retention.age(Duration.days(3)) }],
      })],
    });
    const schedule = policyProps(checkedTemplate(stack)).PolicyDetails.Schedules[0];
    expect(schedule.RetainRule).toEqual({ Count: { 'Fn::ImportValue': 'Count' } });
    expect(schedule.ShareRules[0].TargetAccounts).toEqual([{ 'Fn::ImportValue': 'ArchiveAccount' }]);
    expect(schedule.CrossRegionCopyRules[0].Target).toEqual({ 'Fn::ImportValue': 'DrRegion' });
  });
});
