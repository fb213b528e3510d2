import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { FsfreezeMaintenanceWindow, ImageTaskOptions, MaintenanceTargets, VssMaintenanceWindow } from '../../src';
import { createCheckedApp, createTestStack, checkedTemplate } from '../support';

describe('SnapshotMaintenanceWindowBase.addImageTask (AWS-CreateImage)', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  function vss(targets = MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' })): VssMaintenanceWindow {
    return new VssMaintenanceWindow(stack, 'WindowsVss', {
      purpose: 'windows-app-consistent',
      schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
      duration: Duration.hours(1),
      targets,
      maxConcurrency: '100%',
      maxErrors: '10',
    });
  }

  test('a rebooting image task runs AWS-CreateImage one instance at a time, after the snapshots', () => {
    // GIVEN
    const window = vss();
    // WHEN
    window.addImageTask({ reboot: true });
    // THEN
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::SSM::MaintenanceWindowTask', {
      TaskType: 'AUTOMATION',
      TaskArn: 'AWS-CreateImage',
      Priority: 2,
      MaxConcurrency: '1',
      MaxErrors: '100%',
      ServiceRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('WindowsVssTaskRole'), 'Arn'] },
      Targets: [{ Key: 'WindowTargetIds', Values: [{ Ref: Match.stringLikeRegexp('WindowsVssTarget') }] }],
      TaskInvocationParameters: {
        MaintenanceWindowAutomationParameters: {
          DocumentVersion: '$DEFAULT',
          Parameters: {
            InstanceId: ['{{TARGET_ID}}'],
            NoReboot: ['false'],
            AutomationAssumeRole: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('WindowsVssImageAutomationRole'), 'Arn'] }],
          },
        },
      },
    });
    t.resourceCountIs('AWS::SSM::MaintenanceWindowTask', 2);
  });

  test('the automation role may image only the tagged targets, and nothing else', () => {
    // GIVEN / WHEN
    vss().addImageTask({ reboot: false, maxConcurrency: '10%', maxErrors: '0' });
    // THEN
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Service: 'ssm.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
        })],
      },
      Description: Match.stringLikeRegexp('^Creates AMIs'),
    });
    const policies = t.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('WindowsVssImageAutomationRole') }] },
    });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((s: any) => s.Sid).sort()).toEqual(['CreateImageArtefacts', 'CreateImageOfTargets', 'WaitForImage']);
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions).not.toContain('ec2:StopInstances');
    expect(actions).not.toContain('ec2:StartInstances');
    expect(statements.find((s: any) => s.Sid === 'CreateImageOfTargets')).toMatchObject({
      Action: 'ec2:CreateImage',
      Condition: { StringEquals: { 'ec2:ResourceTag/VSS-Snapshot': ['True'] } },
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:instance/*']] },
    });
    t.hasResourceProperties('AWS::SSM::MaintenanceWindowTask', {
      TaskType: 'AUTOMATION',
      MaxConcurrency: '10%',
      MaxErrors: '0',
      TaskInvocationParameters: { MaintenanceWindowAutomationParameters: { Parameters: Match.objectLike({ NoReboot: ['true'] }) } },
    });
  });

  test('the task role passes only the automation role, to SSM, and starts only AWS-CreateImage', () => {
    // GIVEN / WHEN
    vss().addImageTask({ reboot: true });
    // THEN
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('WindowsVssTaskRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'iam:PassRole',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('WindowsVssImageAutomationRole'), 'Arn'] },
          }),
          Match.objectLike({
            Sid: 'StartImageAutomation',
            Action: 'ssm:StartAutomationExecution',
            Resource: Match.arrayWith([{ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':automation-definition/AWS-CreateImage:\\*$')])] }]),
          }),
        ]),
      },
    });
  });

  test('instance-id targets scope CreateImage to those instances (Linux window)', () => {
    // GIVEN
    const window = new FsfreezeMaintenanceWindow(stack, 'Linux', {
      purpose: 'linux-root',
      schedule: events.Schedule.cron({ hour: '3', minute: '0' }),
      targets: MaintenanceTargets.instanceIds(['i-0123456789abcdef0']),
      mountPoints: ['/data'], // the root cannot be frozen: the AMI task covers it
    });
    // WHEN
    window.addImageTask({ reboot: false });
    // THEN
    const t = Template.fromJSON(checkedTemplate(stack));
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'CreateImageOfTargets',
          Condition: Match.absent(),
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:instance/i-0123456789abcdef0']] },
        })]),
      },
    });
  });

  test.each<[string, ImageTaskOptions, string]>([
    ['maxConcurrency 0', { reboot: true, maxConcurrency: '0' }, "TestStack/WindowsVss: imageTask.maxConcurrency must be a count from 1 or a percentage from 1% to 100% (e.g. 10 or 25%), got '0'"],
    ['maxErrors 101%', { reboot: false, maxErrors: '101%' }, 'imageTask.maxErrors must be a count from 0 or a percentage from 0% to 100%'],
  ])('rejects %s', (_name, options, message) => {
    expect(() => vss().addImageTask(options)).toThrow(message);
  });

  test('rejects a second image task on the same window', () => {
    const window = vss();
    window.addImageTask({ reboot: true });
    expect(() => window.addImageTask({ reboot: false })).toThrow('TestStack/WindowsVss: addImageTask must be called at most once per window');
  });
});
