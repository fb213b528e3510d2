import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { DlmImagePolicy, Retention, VariableTagValue } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

let app: App;
let stack: Stack;
beforeEach(() => {
  app = createCheckedApp();
  stack = createTestStack(app);
});

describe('DlmImagePolicy', () => {
  test('AMIs without reboot, deprecated, copied with TargetRegion (not Target) and their own deprecation', () => {
    // WHEN
    new DlmImagePolicy(stack, 'Golden', {
      purpose: 'golden-image',
      targetTags: { Ami: 'weekly' },
      schedules: [{
        name: 'weekly',
        schedule: events.Schedule.cron({ weekDay: 'SUN', hour: '3', minute: '0' }),
        retain: Retention.age(Duration.days(90)),
        deprecate: Retention.age(Duration.days(60)),
        variableTags: { source: VariableTagValue.INSTANCE_ID },
        crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(30)), deprecateAfter: Duration.days(14) }],
      }],
    });

    // THEN
    const t = checkedTemplate(stack);
    Template.fromJSON(t).hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      PolicyDetails: {
        PolicyType: 'IMAGE_MANAGEMENT',
        PolicyLanguage: 'STANDARD',
        ResourceTypes: ['INSTANCE'],
        ResourceLocations: ['CLOUD'],
        TargetTags: [{ Key: 'Ami', Value: 'weekly' }],
        Parameters: { NoReboot: true },
        Schedules: [{
          Name: 'weekly',
          CreateRule: { CronExpression: 'cron(0 3 ? * SUN *)' },
          RetainRule: { Interval: 90, IntervalUnit: 'DAYS' },
          DeprecateRule: { Interval: 60, IntervalUnit: 'DAYS' },
          CopyTags: false,
          TagsToAdd: [
            { Key: 'backup:purpose', Value: 'golden-image' },
            { Key: 'backup:retention', Value: 'age:90d' },
            { Key: 'backup:managed-by', Value: 'TestStack/Golden' },
          ],
          VariableTags: [{ Key: 'source', Value: '$(instance-id)' }],
          CrossRegionCopyRules: [{
            TargetRegion: 'eu-west-1',
            Encrypted: true,
            CopyTags: true,
            RetainRule: { Interval: 30, IntervalUnit: 'DAYS' },
            DeprecateRule: { Interval: 14, IntervalUnit: 'DAYS' },
          }],
        }],
      },
    });
    const rule = Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::DLM::LifecyclePolicy').Properties.PolicyDetails.Schedules[0].CrossRegionCopyRules[0];
    expect(rule.Target).toBeUndefined();
    const statements = JSON.stringify(Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::IAM::Policy'));
    for (const action of ['ec2:CreateImage', 'ec2:CopyImage', 'ec2:DeregisterImage', 'ec2:EnableImageDeprecation']) {
      expect(statements).toContain(action);
    }
    expect(statements).toContain(':ec2:eu-west-1::image/*');
  });

  test('reboot on request, count-based deprecation', () => {
    new DlmImagePolicy(stack, 'Reboot', {
      purpose: 'consistent-image',
      targetTags: { Ami: 'nightly' },
      reboot: true,
      schedules: [{ name: 'nightly', schedule: events.Schedule.rate(Duration.hours(24)), retain: Retention.count(7), deprecate: Retention.count(5) }],
    });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      PolicyDetails: {
        Parameters: { NoReboot: false },
        Schedules: [{
          CreateRule: { Interval: 24, IntervalUnit: 'HOURS' }, RetainRule: { Count: 7 }, DeprecateRule: { Count: 5 },
        }],
      },
    });
  });
});
