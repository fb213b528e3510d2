import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SnapshotArchiver, WormSnapshotGuard } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

describe('SnapshotArchiver', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  test('runs the archive job on a schedule, limited to purpose-tagged snapshots', () => {
    new WormSnapshotGuard(stack, 'Guard', {
      breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
      blockPublicSharing: false,
      archive: { minimumAge: Duration.days(180), schedule: events.Schedule.cron({ hour: '3', minute: '0' }), dryRun: true, purposes: ['database-dr'] },
    }).protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          PURPOSE_TAG_KEY: 'backup:purpose', MINIMUM_AGE_DAYS: '180', ARCHIVED_TAG_KEY: 'backup:archived-at', DRY_RUN: 'true', PURPOSES: '["database-dr"]',
        },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'ec2:ModifySnapshotTier', Condition: { Null: { 'aws:ResourceTag/backup:purpose': 'false' } } }),
          Match.objectLike({
            Action: 'ec2:CreateTags',
            Condition: { 'Null': { 'aws:ResourceTag/backup:purpose': 'false' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['backup:archived-at'] } },
          }),
        ]),
      },
    });
  });

  test('defaults to a daily run after 90 days, for real', () => {
    new SnapshotArchiver(stack, 'Archiver');
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ MINIMUM_AGE_DAYS: '90', DRY_RUN: 'false' }) } });
  });

  test('skips checks of an unresolved age', () => {
    new SnapshotArchiver(stack, 'Archiver', { minimumAge: Duration.days(Token.asNumber(Fn.importValue('Age'))) });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MINIMUM_AGE_DAYS: { 'Fn::ImportValue': 'Age' } }) },
    });
  });

  test.each([
    ['an age of 0 days', { minimumAge: Duration.days(0) }, 'TestStack/Archiver: minimumAge must be between 1 day and 36500 days, got 0 days'],
    ['an age in hours', { minimumAge: Duration.hours(30) }, 'minimumAge must be a whole number of days'],
    ['a reserved tag key', { archivedTagKey: 'aws:archived' }, "archivedTagKey key must not start with 'aws:'"],
    ['a bad purpose', { purposes: ['a#b'] }, 'purposes[0] must be a tag value'],
  ])('rejects %s', (_name, props, fragment) => {
    expect(() => new SnapshotArchiver(stack, 'Archiver', props)).toThrow(fragment);
  });
});
