import { App, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { MaintenanceTargets, Retention, RetentionRoles, VssMaintenanceWindow } from '../../src';
import { createCheckedApp, createTestStack, checkedTemplate, synthesizeChecked } from '../support';
import { isAllowed, renderIntrinsics } from '../support/managed-policy-parity';

describe('VssMaintenanceWindow', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  test('the public contract compiles and synthesizes through every gate', () => {
    // GIVEN / WHEN: the contract, verbatim
    const window = new VssMaintenanceWindow(stack, 'WindowsVss', {
      purpose: 'windows-app-consistent',
      schedule: events.Schedule.cron({ hour: '4', minute: '0' }), // daily at 04:00 UTC
      duration: Duration.hours(1),
      targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' }),
      maxConcurrency: '100%',
      maxErrors: '10',
    });
    // window.instanceRole: the role (and instance profile) to attach to the protected instances

    // THEN
    const t = Template.fromJSON(checkedTemplate(stack));
    expect(window.instanceRole).toBeDefined();
    t.hasResourceProperties('AWS::SSM::MaintenanceWindow', {
      Schedule: 'cron(0 4 * * ? *)',
      Duration: 1,
      Cutoff: 0,
      AllowUnassociatedTargets: false,
    });
    t.hasResourceProperties('AWS::SSM::MaintenanceWindowTarget', {
      ResourceType: 'INSTANCE',
      Targets: [{ Key: 'tag:VSS-Snapshot', Values: ['True'] }],
    });
    t.hasResourceProperties('AWS::SSM::MaintenanceWindowTask', {
      TaskType: 'RUN_COMMAND',
      TaskArn: 'AWSEC2-CreateVssSnapshot',
      MaxConcurrency: '100%',
      MaxErrors: '10',
      Targets: [{ Key: 'WindowTargetIds', Values: [{ Ref: Match.stringLikeRegexp('WindowsVssTarget') }] }],
      TaskInvocationParameters: {
        MaintenanceWindowRunCommandParameters: Match.objectLike({
          Parameters: {
            ExcludeBootVolume: ['False'],
            CopyOnly: ['False'],
            NoWriters: ['False'],
            CreateAmi: ['False'],
            description: ['cdk-ebs-backup windows-app-consistent (VSS)'],
            tags: ['Key=backup:purpose,Value=windows-app-consistent;Key=backup:retention,Value=age:14d;Key=backup:managed-by,Value=TestStack/WindowsVss;Key=backup:window-id,Value={{WINDOW_ID}}'],
            executionTimeout: ['600'],
          },
          OutputS3BucketName: { Ref: Match.stringLikeRegexp('WindowsVssOutputBucket') },
          OutputS3KeyPrefix: 'run-command/windows-app-consistent/',
          CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: { Ref: Match.stringLikeRegexp('WindowsVssOutput') } },
        }),
      },
    });
    // deprecated settings are not used
    const task = Object.values(t.findResources('AWS::SSM::MaintenanceWindowTask'))[0] as any;
    expect(task.Properties.LoggingInfo).toBeUndefined();
    expect(task.Properties.TaskParameters).toBeUndefined();
  });

  test('the instance role grants what the VSS policy grants, scoped to the caller\'s own instance, plus the SSM core policy', () => {
    const window = new VssMaintenanceWindow(stack, 'Vss', baseProps());
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
    });
    t.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: Match.stringLikeRegexp('VssInstanceRole') }] });
    const statements = policyStatements(t, 'VssInstanceRoleDefaultPolicy');
    // no ec2:* anywhere, and the only Resource '*' is for Describe actions
    for (const s of statements) {
      expect([s.Action].flat()).not.toContain('ec2:*');
      if (s.Resource === '*') {
        expect([s.Action].flat().every((a: string) => a.startsWith('ec2:Describe') || a === 'logs:DescribeLogGroups')).toBe(true);
      }
    }
    expect(window.instanceProfile).toBeDefined();
  });

  test('the task role trusts only this account\'s Systems Manager and sends only the VSS document', () => {
    new VssMaintenanceWindow(stack, 'Vss', baseProps());
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Service: 'ssm.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
        })],
      },
    });
    const send = policyStatements(t, 'VssTaskRoleDefaultPolicy').find((s) => s.Sid === 'SendSnapshotCommand');
    expect(send.Resource).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1::document/AWSEC2-CreateVssSnapshot']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:instance/*']] },
    ]);
  });

  test('installs and keeps AwsVssComponents current on the same targets', () => {
    new VssMaintenanceWindow(stack, 'Vss', baseProps());
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::SSM::Association', {
      Name: 'AWS-ConfigureAWSPackage',
      Parameters: { action: ['Install'], installationType: ['In-place update'], name: ['AwsVssComponents'] },
      Targets: [{ Key: 'tag:VSS-Snapshot', Values: ['True'] }],
      ScheduleExpression: 'rate(7 days)',
    });
  });

  test('passes the VSS options, the schedule settings and instance-id targets through', () => {
    new VssMaintenanceWindow(stack, 'Vss', {
      ...baseProps(),
      schedule: events.Schedule.cron({ minute: '30', hour: '23', weekDay: 'TUE#3' }),
      scheduleOffset: 2,
      scheduleTimezone: 'Europe/Berlin',
      duration: Duration.hours(4),
      cutoff: Duration.hours(1),
      startDate: new Date('2030-01-01T00:00:00Z'),
      endDate: new Date('2031-01-01T00:00:00Z'),
      targets: MaintenanceTargets.instanceIds(['i-0123456789abcdef0', 'i-0fedcba9876543210']),
      excludeBootVolume: true,
      copyOnly: true,
      noWriters: true,
      installVssComponents: false,
      tags: { CostCenter: 'db' },
      retain: Retention.count(7),
    });
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::SSM::MaintenanceWindow', {
      Schedule: 'cron(30 23 ? * TUE#3 *)',
      ScheduleOffset: 2,
      ScheduleTimezone: 'Europe/Berlin',
      Duration: 4,
      Cutoff: 1,
      StartDate: '2030-01-01T00:00:00.000Z',
      EndDate: '2031-01-01T00:00:00.000Z',
    });
    t.hasResourceProperties('AWS::SSM::MaintenanceWindowTarget', {
      Targets: [{ Key: 'InstanceIds', Values: ['i-0123456789abcdef0', 'i-0fedcba9876543210'] }],
    });
    t.hasResourceProperties('AWS::SSM::MaintenanceWindowTask', {
      TaskInvocationParameters: {
        MaintenanceWindowRunCommandParameters: Match.objectLike({
          Parameters: Match.objectLike({
            ExcludeBootVolume: ['True'],
            CopyOnly: ['True'],
            NoWriters: ['True'],
            tags: ['Key=CostCenter,Value=db;Key=backup:purpose,Value=windows-app-consistent;Key=backup:retention,Value=count:7;Key=backup:managed-by,Value=TestStack/Vss;Key=backup:window-id,Value={{WINDOW_ID}}'],
          }),
        }),
      },
    });
    t.resourceCountIs('AWS::SSM::Association', 0);
  });

  test('the output bucket is encrypted, versioned, TLS-only and private; access logs when a bucket is given', () => {
    const accessLogs = new s3.Bucket(stack, 'AccessLogs', { enforceSSL: true, versioned: true });
    acknowledgeTestBucket(accessLogs);
    new VssMaintenanceWindow(stack, 'Vss', { ...baseProps(), outputAccessLogsBucket: accessLogs });
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'ssm-output/' }),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the housekeeping expires the window\'s snapshots, judges them hourly, and its role is a retention role', () => {
    const topic = new sns.Topic(stack, 'Pager', { enforceSSL: true, masterKey: undefined });
    acknowledgeTestTopic(topic);
    const window = new VssMaintenanceWindow(stack, 'Vss', { ...baseProps(), alarmActions: [new cw_actions.SnsAction(topic)] });
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CrashConsistentSnapshots',
      Namespace: 'CdkEbsBackup/MaintenanceWindow',
      Dimensions: [{ Name: 'ManagedBy', Value: 'TestStack/Vss' }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Pager') }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'FailedWindowExecutions' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExpiredSnapshotsNotDeleted' });
    const del = policyStatements(t, 'VssHousekeepingRoleDefaultPolicy').find((s) => s.Sid === 'DeleteOnlyThisWindowsSnapshots');
    expect(del.Condition).toEqual({
      // only snapshots this window created: its id is tagged at creation ({{WINDOW_ID}})
      StringEquals: {
        'aws:ResourceTag/backup:purpose': 'windows-app-consistent',
        'aws:ResourceTag/backup:managed-by': 'TestStack/Vss',
        'aws:ResourceTag/backup:window-id': { Ref: 'Vss1FB0B949' },
      },
    });
    expect(RetentionRoles.roles(stack)).toContain(window.node.findChild('Housekeeping').node.findChild('Role'));
    expect(window.crashConsistentAlarm).toBeInstanceOf(cloudwatch.Alarm);
  });

  test('an existing instance role receives the permissions', () => {
    const role = new iam.Role(stack, 'Existing', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const window = new VssMaintenanceWindow(stack, 'Vss', { ...baseProps(), instanceRole: role });
    expect(window.instanceRole).toBe(role);
    const t = Template.fromJSON(checkedTemplate(stack));
    expect(policyStatements(t, 'ExistingDefaultPolicy').map((s) => s.Sid)).toContain('SnapshotOwnInstanceOnly');
  });

  test('validation skips tokens', () => {
    expect(() => new VssMaintenanceWindow(stack, 'Vss', {
      ...baseProps(),
      maxConcurrency: Fn.importValue('Concurrency'),
      maxErrors: Fn.importValue('Errors'),
      scheduleTimezone: Fn.importValue('Tz'),
      windowName: Fn.importValue('Name'),
      targets: MaintenanceTargets.instanceIds([Fn.importValue('InstanceId')]),
    })).not.toThrow();
  });

  test.each([
    ['duration above 24 hours', { duration: Duration.hours(25) }, 'TestStack/Bad: duration must be between 1 hour and 1 day, got 1 day 1 hour'],
    ['a duration in minutes', { duration: Duration.minutes(90) }, 'duration must be a whole number of hours, got 1 hour 30 minutes'],
    ['a cutoff as long as the duration', { duration: Duration.hours(2), cutoff: Duration.hours(2) }, 'cutoff must be shorter than duration (2 hours), got 2 hours'],
    ['a cutoff of 24 hours', { duration: Duration.hours(24), cutoff: Duration.hours(24) }, 'cutoff must be between 0 hours and 23 hours, got 1 day'],
    ['maxConcurrency 0', { maxConcurrency: '0' }, "maxConcurrency must be a count from 1 or a percentage from 1% to 100% (e.g. 10 or 25%), got '0'"],
    ['maxConcurrency 101%', { maxConcurrency: '101%' }, 'maxConcurrency must be a count from 1 or a percentage'],
    ['maxErrors -1', { maxErrors: '-1' }, 'maxErrors must be a count from 0 or a percentage from 0% to 100%'],
    ['maxErrors 05', { maxErrors: '05' }, 'maxErrors must be a count from 0'],
    ['a 5-field cron', { schedule: events.Schedule.expression('cron(0 4 * * ?)') }, 'schedule must be a cron expression with 6 fields'],
    ['a cron without ?', { schedule: events.Schedule.expression('cron(0 4 * * MON *)') }, "schedule must use '?' in either day-of-month or day-of-week"],
    ['a rate in minutes', { schedule: events.Schedule.rate(Duration.minutes(30)) }, 'schedule must be a rate in hours or days'],
    ['rate(5 hour)', { schedule: events.Schedule.expression('rate(5 hour)') }, "schedule must be 'rate(1 hour)'"],
    ['a random expression', { schedule: events.Schedule.expression('daily') }, 'schedule must be a cron(...), rate(...) or at('],
    ['an offset with a rate', { schedule: events.Schedule.rate(Duration.days(1)), scheduleOffset: 2 }, 'scheduleOffset is only allowed with a cron schedule'],
    ['an offset of 7 days', { scheduleOffset: 7 }, 'scheduleOffset must be an integer between 1 and 6 days, got 7'],
    ['an unknown time zone', { scheduleTimezone: 'Mars/Olympus' }, "scheduleTimezone must be an IANA time zone such as Europe/Berlin or America/Chicago, got 'Mars/Olympus'"],
    ['an end before the start', { startDate: new Date('2031-01-01T00:00:00Z'), endDate: new Date('2030-01-01T00:00:00Z') }, 'endDate must be after startDate'],
    ['a bad window name', { windowName: 'a b' }, "windowName must be 3-128 characters of letters, digits, _ . -, got 'a b'"],
    ['a delivery timeout under 30 s', { deliveryTimeout: Duration.seconds(10) }, 'deliveryTimeout must be between 30 seconds and 30 days'],
    ['a reserved VSS tag', { tags: { AppConsistent: 'true' } }, "tags must not set 'AppConsistent' (reserved: the snapshot agent sets it)"],
    ['a tag value with a semicolon', { tags: { Team: 'a;b' } }, "tags must not contain ',' or ';'"],
    ['a library tag', { tags: { 'backup:purpose': 'other' } }, "tags must not set the library's tag 'backup:purpose'"],
    ['a bad purpose', { purpose: 'db#1' }, 'purpose must be a tag value of letters'],
    ['an execution timeout of 10 s', { executionTimeout: Duration.seconds(10) }, 'executionTimeout must be between 1 minute and 2 hours'],
  ])('rejects %s', (_name, overrides, message) => {
    expect(() => new VssMaintenanceWindow(stack, 'Bad', { ...baseProps(), ...(overrides as object) })).toThrow(message);
  });

  test('warns about an end date in the past (the gates fail on it until it is acknowledged)', () => {
    const old = new VssMaintenanceWindow(stack, 'Old', { ...baseProps(), endDate: new Date('2020-01-01T00:00:00Z') });
    expect(() => synthesizeChecked(app)).toThrow(/endDate 2020-01-01T00:00:00.000Z is in the past: the maintenance window will never run/);

    const app2 = createCheckedApp();
    const stack2 = createTestStack(app2);
    const again = new VssMaintenanceWindow(stack2, 'Old', { ...baseProps(), endDate: new Date('2020-01-01T00:00:00Z') });
    Validations.of(again).acknowledge({ id: 'Annotation::cdk-ebs-backup:ssm:window-end-in-past', reason: 'a retired regime kept for its history' });
    expect(() => synthesizeChecked(app2)).not.toThrow();
    expect(old.windowId).toBeDefined();
  });
});

function baseProps() {
  return {
    purpose: 'windows-app-consistent',
    schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
    targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' }),
  };
}

function policyStatements(t: Template, logicalIdPrefix: string): any[] {
  const policies = t.findResources('AWS::IAM::Policy');
  const id = Object.keys(policies).find((k) => k.startsWith(logicalIdPrefix));
  if (!id) {
    throw new Error(`no policy ${logicalIdPrefix}* in ${Object.keys(policies).join(', ')}`);
  }
  return policies[id].Properties.PolicyDocument.Statement;
}

/** Test fixtures outside the construct under test: their findings are the fixture's, not the window's. */
function acknowledgeTestBucket(bucket: s3.Bucket) {
  Validations.of(bucket).acknowledge(
    { id: 'AwsSolutions::AwsSolutions-S1', reason: 'test fixture: the access-log bucket itself' },
    { id: 'cdk-validator-cfnguard::s3_bucket_logging_enabled_check', reason: 'test fixture' },
    { id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check', reason: 'test fixture' },
    { id: 'cdk-validator-cfnguard::s3_event_notifications_enabled_check', reason: 'test fixture' },
    { id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check', reason: 'test fixture' },
    { id: 'cdk-validator-cfnguard::s3_bucket_versioning_enabled_check', reason: 'test fixture' },
    { id: 'cdk-validator-cfnguard::s3_bucket_public_access_prohibited_check', reason: 'test fixture' },
    { id: 'cdk-validator-cfnguard::s3_bucket_level_public_access_prohibited_check', reason: 'test fixture' },
    { id: 'cdk-validator-cfnguard::s3_bucket_acl_prohibited_check', reason: 'test fixture' },
    { id: 'cdk-validator-cfnguard::s3_lifecycle_policy_check', reason: 'test fixture' },
  );
}

function acknowledgeTestTopic(topic: sns.Topic) {
  Validations.of(topic).acknowledge(
    { id: 'AwsSolutions::AwsSolutions-SNS2', reason: 'test fixture: the pager topic' },
    { id: 'cdk-validator-cfnguard::sns_topic_encrypted_kms_check', reason: 'test fixture' },
  );
}

/**
 * The VSS instance role as AWS's agent uses it, evaluated with the IAM policy evaluator. The
 * reference is AWSEC2VssSnapshotPolicy ("Create an IAM role for VSS-enabled snapshots", Amazon EC2
 * User Guide for Windows): the agent reads its own instance, snapshots it with AwsVssConfig, tags at
 * creation, and afterwards adds only AppConsistent and Device to snapshots carrying AwsVssConfig.
 */
describe('VssMaintenanceWindow instance role, evaluated', () => {
  const me = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1';
  const other = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0bbbbbbbbbbbbbbb2';
  const snapshot = 'arn:aws:ec2:us-east-1::snapshot/snap-0ccccccccccccccc3';
  let policies: any[];
  beforeAll(() => {
    const stack = new Stack(new App(), 'Eval', { env: { account: '123456789012', region: 'us-east-1' } });
    new VssMaintenanceWindow(stack, 'Vss', { purpose: 'erp', schedule: events.Schedule.cron({ hour: '2', minute: '0' }), targets: MaintenanceTargets.tagged({ App: 'erp' }) });
    const t = Template.fromStack(stack).toJSON();
    policies = Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('VssInstanceRole'))
      .map((r) => renderIntrinsics(r.Properties.PolicyDocument));
  });
  // the credentials are the instance profile's of `me` (ec2:SourceInstanceARN); ec2:InstanceId is
  // the id of the instance the request acts on
  const fromInstance = { 'ec2:SourceInstanceARN': me, 'ec2:InstanceId': 'i-0aaaaaaaaaaaaaaa1' };
  const onOther = { 'ec2:SourceInstanceARN': me, 'ec2:InstanceId': 'i-0bbbbbbbbbbbbbbb2' };

  test('ec2:DescribeInstanceAttribute on its own instance only', async () => {
    expect(await isAllowed(policies, 'ec2:DescribeInstanceAttribute', me, fromInstance)).toBe(true);
    expect(await isAllowed(policies, 'ec2:DescribeInstanceAttribute', other, onOther)).toBe(false);
    expect(await isAllowed(policies, 'ec2:CreateSnapshots', other, onOther)).toBe(false);
  });

  test('new snapshots carry AwsVssConfig; the library tags come only with CreateSnapshots', async () => {
    expect(await isAllowed(policies, 'ec2:CreateSnapshots', snapshot, { ...fromInstance, 'aws:RequestTag/AwsVssConfig': 'v1' })).toBe(true);
    expect(await isAllowed(policies, 'ec2:CreateSnapshots', snapshot, fromInstance)).toBe(false);
    expect(await isAllowed(policies, 'ec2:CreateTags', snapshot,
      { 'ec2:CreateAction': 'CreateSnapshots', 'aws:TagKeys': ['backup:purpose', 'backup:retention', 'AwsVssConfig'] })).toBe(true);
  });

  test('afterwards only AppConsistent and Device, only on snapshots that carry AwsVssConfig: no expiry tags on anyone else\'s snapshot', async () => {
    const vssSnapshot = { 'ec2:ResourceTag/AwsVssConfig': 'v1', 'aws:ResourceTag/AwsVssConfig': 'v1' };
    expect(await isAllowed(policies, 'ec2:CreateTags', snapshot, { ...vssSnapshot, 'aws:TagKeys': ['AppConsistent', 'Device'] })).toBe(true);
    // the attack of issue 15 (6): put the purpose/retention tags on a foreign snapshot so the housekeeping deletes it
    expect(await isAllowed(policies, 'ec2:CreateTags', snapshot, { 'aws:TagKeys': ['backup:purpose', 'backup:retention'] })).toBe(false);
    expect(await isAllowed(policies, 'ec2:CreateTags', snapshot, { ...vssSnapshot, 'aws:TagKeys': ['backup:retention'] })).toBe(false);
    expect(await isAllowed(policies, 'ec2:CreateTags', snapshot, { 'aws:TagKeys': ['AppConsistent'] })).toBe(false);
  });

  test('a resource-group window installs the VSS components with an association target State Manager accepts', () => {
    // "Understanding targets and rate controls in State Manager associations": InstanceIds,
    // tag:<key>, tag-key and resource-groups:Name; ResourceTypeFilters is a window-target key only
    const accepted = (key: string) => /^(InstanceIds|tag:.+|tag-key|resource-groups:Name)$/.test(key);
    const stack = new Stack(new App(), 'Rg', { env: { account: '123456789012', region: 'us-east-1' } });
    new VssMaintenanceWindow(stack, 'Vss', { purpose: 'erp', schedule: events.Schedule.cron({ hour: '2', minute: '0' }), targets: MaintenanceTargets.resourceGroup('erp-servers') });
    const t = Template.fromStack(stack).toJSON();
    const association = Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::SSM::Association');
    const keys = association.Properties.Targets.map((x: any) => x.Key);
    expect(keys).toEqual(['resource-groups:Name']);
    expect(keys.every(accepted)).toBe(true);
    const window = Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::SSM::MaintenanceWindowTarget');
    expect(window.Properties.Targets.map((x: any) => x.Key)).toContain('resource-groups:ResourceTypeFilters');
  });
});
