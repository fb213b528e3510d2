import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RecycleBinResourceType, RecycleBinRule, RecycleBinScope, Retention } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

describe('RecycleBinRule', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  test('a locked region-level rule for snapshots renders the flat CloudFormation lock', () => {
    const rule = new RecycleBinRule(stack, 'Bin', {
      resourceType: RecycleBinResourceType.EBS_SNAPSHOT,
      retain: Retention.age(Duration.days(90)),
      lockUnlockDelay: Duration.days(14),
    });
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::Rbin::Rule', {
      ResourceType: 'EBS_SNAPSHOT',
      RetentionPeriod: { RetentionPeriodValue: 90, RetentionPeriodUnit: 'DAYS' },
      LockConfiguration: { UnlockDelayValue: 14, UnlockDelayUnit: 'DAYS' },
      Status: 'available',
    });
    expect(rule.locked).toBe(true);
  });

  test('a region-level rule excludes tagged resources, unlocked', () => {
    new RecycleBinRule(stack, 'Bin', {
      resourceType: RecycleBinResourceType.EC2_IMAGE,
      retain: Retention.age(Duration.days(7)),
      ruleScope: RecycleBinScope.region({ scratch: 'true' }),
    });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Rbin::Rule', {
      ResourceType: 'EC2_IMAGE',
      ExcludeResourceTags: [{ ResourceTagKey: 'scratch', ResourceTagValue: 'true' }],
      LockConfiguration: Match.absent(),
    });
  });

  test('a tag-level rule retains resources by the library purpose tag', () => {
    new RecycleBinRule(stack, 'Bin', {
      resourceType: RecycleBinResourceType.EBS_SNAPSHOT,
      retain: Retention.age(Duration.days(30)),
      ruleScope: RecycleBinScope.purposes('database-dr', 'golden-ami'),
    });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Rbin::Rule', {
      ResourceTags: [
        { ResourceTagKey: 'backup:purpose', ResourceTagValue: 'database-dr' },
        { ResourceTagKey: 'backup:purpose', ResourceTagValue: 'golden-ami' },
      ],
      ExcludeResourceTags: Match.absent(),
    });
  });

  test('skips checks of unresolved durations', () => {
    new RecycleBinRule(stack, 'Bin', {
      resourceType: RecycleBinResourceType.EBS_SNAPSHOT,
      retain: Retention.age(Duration.days(Token.asNumber(Fn.importValue('Days')))),
      lockUnlockDelay: Duration.days(Token.asNumber(Fn.importValue('Delay'))),
    });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Rbin::Rule', {
      LockConfiguration: { UnlockDelayValue: { 'Fn::ImportValue': 'Delay' } },
    });
  });

  test('fails synthesis when a tag pair is used by more than 5 rules', () => {
    for (let i = 0; i < 6; i++) {
      new RecycleBinRule(stack, `Bin${i}`, { resourceType: RecycleBinResourceType.EBS_SNAPSHOT, retain: Retention.age(Duration.days(1)), ruleScope: RecycleBinScope.tagged({ team: 'db' }) });
    }
    expect(() => app.synth()).toThrow(/TestStack\/Bin0: scope tag 'team=db' must appear in at most 5 Recycle Bin rules for EBS_SNAPSHOT, got 6/);
  });

  test.each<[string, () => any, string]>([
    ['retention by count', () => ({ retain: Retention.count(5) }),
      "TestStack/Bin: retain must be Retention.age(Duration.days(n)), not a count: Recycle Bin keeps deleted resources for a period only (RetentionPeriod), got 'count:5'"],
    ['retention over a year', () => ({ retain: Retention.age(Duration.days(400)) }), 'TestStack/Bin: retain must be between 1 day and 365 days, got 400 days'],
    ['an unlock delay under 7 days', () => ({ retain: Retention.age(Duration.days(7)), lockUnlockDelay: Duration.days(6) }), 'lockUnlockDelay must be between 7 days and 30 days, got 6 days'],
    ['an unlock delay over 30 days', () => ({ retain: Retention.age(Duration.days(7)), lockUnlockDelay: Duration.days(31) }), 'lockUnlockDelay must be between 7 days and 30 days, got 31 days'],
    ['a lock on a tag-level rule', () => ({ retain: Retention.age(Duration.days(7)), lockUnlockDelay: Duration.days(7), ruleScope: RecycleBinScope.tagged({ a: 'b' }) }),
      'lockUnlockDelay cannot be set on a tag-level rule: AWS locks only region-level retention rules'],
    ['a lock on a rule with exclusion tags', () => ({ retain: Retention.age(Duration.days(7)), lockUnlockDelay: Duration.days(7), ruleScope: RecycleBinScope.region({ a: 'b' }) }),
      'lockUnlockDelay cannot be set on a rule with exclusion tags: AWS locks only region-level retention rules without exclusion tags'],
    ['a reserved exclusion tag key', () => ({ retain: Retention.age(Duration.days(7)), ruleScope: RecycleBinScope.region({ 'aws:x': 'b' }) }), "ruleScope excludeTags key must not start with 'aws:'"],
    ['a bad purpose', () => ({ retain: Retention.age(Duration.days(7)), ruleScope: RecycleBinScope.purposes('a#b') }), 'ruleScope purposes[0] must be a tag value'],
    ['a long description', () => ({ retain: Retention.age(Duration.days(7)), description: 'x'.repeat(501) }), 'description must be between 0 and 500 characters long'],
  ])('rejects %s', (_name, props, fragment) => {
    expect(() => new RecycleBinRule(stack, 'Bin', { resourceType: RecycleBinResourceType.EBS_SNAPSHOT, ...props() })).toThrow(fragment);
  });

  // a scope's arguments are reported by the rule that uses the scope, with its path and prop
  test.each<[string, () => RecycleBinScope, string]>([
    ['more than 5 exclusion tags', () => RecycleBinScope.region(Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`k${i}`, 'v']))),
      'TestStack/Bin: ruleScope RecycleBinScope.region(...): excludeTags must have at most 5 tags, got 6; Recycle Bin takes at most 5 exclusion tags per rule'],
    ['no resource tags', () => RecycleBinScope.tagged({}), 'TestStack/Bin: ruleScope RecycleBinScope.tagged(...): tags must have between 1 and 50 tags, got 0'],
    ['no purposes', () => RecycleBinScope.purposes(), 'TestStack/Bin: ruleScope RecycleBinScope.purposes(...): purposes must have between 1 and 50 items, got 0'],
  ])('the rule reports a scope with %s', (_name, ruleScope, fragment) => {
    expect(() => new RecycleBinRule(stack, 'Bin', { resourceType: RecycleBinResourceType.EBS_SNAPSHOT, retain: Retention.age(Duration.days(7)), ruleScope: ruleScope() }))
      .toThrow(fragment);
  });
});
