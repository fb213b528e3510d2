import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SnapshotLock, SnapshotLockMode } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

describe('SnapshotLock', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  test('drives the lock handler from snapshot completion events, with a dead-letter queue and an alarm', () => {
    const topic = new sns.Topic(stack, 'Pager', { enforceSSL: true });
    const lock = new SnapshotLock(stack, 'Lock', {
      mode: SnapshotLockMode.compliance(Duration.days(365), Duration.hours(24)),
      purposes: ['database-dr'],
      alarmAction: new cloudwatchActions.SnsAction(topic),
    });
    // the user's deliberate choice: compliance-mode locks nobody can remove
    Validations.of(lock).acknowledge({ id: SnapshotLock.COMPLIANCE_WARNING, reason: 'regulatory retention: immutable for a year is the point' });
    const template = Template.fromJSON(checkedTemplate(stack));

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ec2'],
        'detail-type': ['EBS Snapshot Notification'],
        'detail': { event: ['createSnapshot', 'createSnapshots', 'copySnapshot'], result: ['succeeded'] },
      },
      Targets: [Match.objectLike({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LockDeadLetterQueue'), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
      })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 5,
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LockDeadLetterQueue'), 'Arn'] } },
      Environment: {
        Variables: {
          LOCK_MODE: 'compliance',
          LOCK_DURATION_DAYS: '365',
          COOL_OFF_HOURS: '24',
          PURPOSE_TAG_KEY: 'backup:purpose',
          PURPOSES: '["database-dr"]',
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 'ec2:LockSnapshot',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, '::snapshot/*']] },
          Condition: { Null: { 'aws:ResourceTag/backup:purpose': 'false' } },
        }]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Pager') }],
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Lock', Match.stringLikeRegexp('compliance mode for 365 days'));
  });

  test('warns that a compliance lock cannot be removed, until acknowledged', () => {
    new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.compliance(Duration.days(30)) });
    expect(() => checkedTemplate(stack)).toThrow(/snapshots are locked in compliance mode for 30 days: once the cool-off ends nobody, not even root, can delete them before/);
  });

  test('a governance lock sends no cool-off and no warning', () => {
    new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)) });
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { LOCK_MODE: 'governance', LOCK_DURATION_DAYS: '7', COOL_OFF_HOURS: Match.absent(), PURPOSES: Match.absent() } },
    });
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Lock', Match.anyValue());
  });

  test.each<[string, () => unknown, string]>([
    ['a zero duration', () => SnapshotLockMode.governance(Duration.days(0)), 'SnapshotLockMode.governance: duration must be a whole number of days between 1 and 36500, got 0 days'],
    ['a duration over 100 years', () => SnapshotLockMode.compliance(Duration.days(36501)), 'SnapshotLockMode.compliance: duration must be a whole number of days between 1 and 36500'],
    ['a duration in hours', () => SnapshotLockMode.governance(Duration.hours(12)), 'duration must be a whole number of days between 1 and 36500, got 12 hours'],
    ['a cool-off over 72 hours', () => SnapshotLockMode.compliance(Duration.days(30), Duration.hours(73)), 'SnapshotLockMode.compliance: coolOffPeriod must be a whole number of hours between 1 and 72, got 3 days 1 hour'],
    ['a cool-off in minutes', () => SnapshotLockMode.compliance(Duration.days(30), Duration.minutes(30)), 'coolOffPeriod must be a whole number of hours between 1 and 72, got 30 minutes'],
  ])('rejects %s', (_name, make, fragment) => {
    expect(make).toThrow(fragment);
  });

  test('rejects a bad purpose with the construct path', () => {
    expect(() => new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(1)), purposes: [''] }))
      .toThrow("TestStack/Lock: purposes[0] must be between 1 and 256 characters long, got ''");
  });
});
