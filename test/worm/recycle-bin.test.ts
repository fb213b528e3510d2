import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PlanReport, RecycleBinResourceType, RecycleBinRule, RecycleBinRuleProps, RecycleBinScope, Retention } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

/**
 * What the rule renders and reports, read without synthesis (the construct tests below synthesize
 * through every gate; these run first, so that Stryker's per-mutant run stops at the cheap test
 * that fails): the description, the plan report an auditor reads, and the per-tag-pair
 * limit of Recycle Bin ("You can add the same tag key and value pair to a maximum of five
 * retention rules", Recycle Bin user guide, quotas).
 */
describe('RecycleBinRule: rendering, plan and tag-pair limit', () => {
  let stack: Stack;
  beforeEach(() => {
    stack = createTestStack(createCheckedApp({ rules: false }));
  });
  const rule = (id: string, props: Partial<RecycleBinRuleProps> = {}) => new RecycleBinRule(stack, id, {
    resourceType: RecycleBinResourceType.EBS_SNAPSHOT, retain: Retention.age(Duration.days(30)), ...props,
  });

  test('the default description names what is retained and the construct; the attributes are the rule\'s', () => {
    const snapshots = rule('Snapshots');
    const amis = rule('Amis', { resourceType: RecycleBinResourceType.EC2_IMAGE });
    const given = rule('Given', { description: 'kept for the ledger' });
    expect(stack.resolve(snapshots.resource.description)).toBe('Retains deleted EBS snapshots (TestStack/Snapshots)');
    expect(stack.resolve(amis.resource.description)).toBe('Retains deleted AMIs (TestStack/Amis)');
    expect(stack.resolve(given.resource.description)).toBe('kept for the ledger');
    const id = stack.getLogicalId(snapshots.resource);
    expect(stack.resolve(snapshots.ruleArn)).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    expect(stack.resolve(snapshots.ruleId)).toEqual({ 'Fn::GetAtt': [id, 'Identifier'] });
    expect(snapshots.locked).toBe(false);
    expect(stack.resolve(snapshots.resource.lockConfiguration)).toBeUndefined();
    expect(stack.resolve(snapshots.resource.status)).toBe('available');
  });

  test('a long construct path is cut to the 500 characters of the description', () => {
    const deep = new RecycleBinRule(new Stack(stack, 'x'.repeat(300)), 'y'.repeat(250), {
      resourceType: RecycleBinResourceType.EBS_SNAPSHOT, retain: Retention.age(Duration.days(30)),
    });
    expect(stack.resolve(deep.resource.description)).toHaveLength(500);
  });

  test('the plan: a locked rule is irreversible for its unlock delay; an unlocked tag-level rule only protects', () => {
    rule('Locked', { resourceType: RecycleBinResourceType.EC2_IMAGE, retain: Retention.age(Duration.days(90)), lockUnlockDelay: Duration.days(14) });
    rule('Tagged', { ruleScope: RecycleBinScope.purposes('ledger') });
    const [plan] = JSON.parse(PlanReport.json(stack)).stacks;
    expect(plan.protections).toEqual([
      {
        construct: 'TestStack/Locked',
        kind: 'RecycleBinRule',
        mechanism: 'Recycle Bin rule (locked)',
        selects: 'deleted AMIs (every one in the region)',
        schedule: 'on deletion',
        retention: 'age:90d',
        locks: ['rule lock, unlock delay 14 days'],
      },
      {
        construct: 'TestStack/Tagged',
        kind: 'RecycleBinRule',
        mechanism: 'Recycle Bin rule',
        selects: 'deleted EBS snapshots (tagged)',
        schedule: 'on deletion',
        retention: 'age:30d',
        locks: [],
      },
    ]);
    expect(plan.irreversible).toEqual([{
      construct: 'TestStack/Locked',
      kind: 'RecycleBinRule',
      what: 'locked Recycle Bin rule for AMIs (retention 90 days)',
      consequence: 'cannot be deleted or changed while locked; an unlock takes effect only 14 days after it is requested, '
        + 'and deleted snapshots stay billed for the retention',
    }]);
  });

  test('a tag pair may scope five rules of a type: the sixth is named, other types and other pairs are not counted', () => {
    const rules = [1, 2, 3, 4, 5].map((i) => rule(`Tagged${i}`, { ruleScope: RecycleBinScope.tagged({ team: 'db' }) }));
    // the same pair on AMI rules, and another pair, count apart
    [1, 2, 3, 4, 5].forEach((i) => rule(`Ami${i}`, { resourceType: RecycleBinResourceType.EC2_IMAGE, ruleScope: RecycleBinScope.tagged({ team: 'db' }) }));
    rule('Other', { ruleScope: RecycleBinScope.tagged({ team: 'web' }) });
    expect(rules.flatMap((r) => r.node.validate())).toEqual([]);
    // exclusion tags count as well: a sixth rule excluding the pair
    const sixth = rule('Excluding', { ruleScope: RecycleBinScope.region({ team: 'db' }) });
    expect(sixth.node.validate()).toEqual([
      "TestStack/Excluding: scope tag 'team=db' must appear in at most 5 Recycle Bin rules for EBS_SNAPSHOT, got 6",
    ]);
    expect(rules[0].node.validate()).toEqual([
      "TestStack/Tagged1: scope tag 'team=db' must appear in at most 5 Recycle Bin rules for EBS_SNAPSHOT, got 6",
    ]);
  });

  test('scopes render as Recycle Bin takes them: exclusions on a region rule, resource tags on a tag rule', () => {
    const region = rule('Region');
    const excluding = rule('Excluding', { ruleScope: RecycleBinScope.region({ a: '1', b: '2', c: '3', d: '4', e: '5' }) });
    const tagged = rule('Tagged', { ruleScope: RecycleBinScope.tagged({ team: 'db' }) });
    const purposes = rule('Purposes', { ruleScope: RecycleBinScope.purposes('ledger') });
    expect(stack.resolve(region.resource.excludeResourceTags)).toBeUndefined();
    expect(stack.resolve(region.resource.resourceTags)).toBeUndefined();
    expect(stack.resolve(excluding.resource.excludeResourceTags)).toHaveLength(5);
    expect(stack.resolve(tagged.resource.resourceTags)).toEqual([{ resourceTagKey: 'team', resourceTagValue: 'db' }]);
    expect(stack.resolve(tagged.resource.excludeResourceTags)).toBeUndefined();
    expect(stack.resolve(purposes.resource.resourceTags)).toEqual([{ resourceTagKey: 'backup:purpose', resourceTagValue: 'ledger' }]);
    expect([RecycleBinScope.region().level, RecycleBinScope.tagged({ a: 'b' }).level, RecycleBinScope.purposes('p').level]).toEqual(['region', 'tag', 'tag']);
  });

  test('the scope bounds: 5 exclusion tags and 50 resource tags or purposes are accepted, one more is named', () => {
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    const purposeList = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);
    expect(() => rule('Tags50', { ruleScope: RecycleBinScope.tagged(tags(50)) })).not.toThrow();
    expect(() => rule('Purposes50', { ruleScope: RecycleBinScope.purposes(...purposeList(50)) })).not.toThrow();
    expect(() => rule('Tags51', { ruleScope: RecycleBinScope.tagged(tags(51)) }))
      .toThrow('TestStack/Tags51: ruleScope RecycleBinScope.tagged(...): tags must have between 1 and 50 tags, got 51; name 1 to 50 tag pairs, or use RecycleBinScope.region() for every deleted resource of the type');
    expect(() => rule('Purposes51', { ruleScope: RecycleBinScope.purposes(...purposeList(51)) }))
      .toThrow('TestStack/Purposes51: ruleScope RecycleBinScope.purposes(...): purposes must have between 1 and 50 items, got 51; name 1 to 50 purposes, or use RecycleBinScope.region() for every deleted resource of the type');
    expect(() => rule('Region6', { ruleScope: RecycleBinScope.region(tags(6)) }))
      .toThrow('TestStack/Region6: ruleScope RecycleBinScope.region(...): excludeTags must have at most 5 tags, got 6; Recycle Bin takes at most 5 exclusion tags per rule: exclude by fewer tags');
  });

  test('a tag pair given as a token is not counted (its value is known only at deployment)', () => {
    // one token in six rules each: counted, the same token string would exceed the limit
    const team = Fn.importValue('Team');
    const key = Fn.importValue('Key');
    const rules = [1, 2, 3, 4, 5, 6].map((i) => rule(`Imported${i}`, { ruleScope: RecycleBinScope.tagged({ team }) }));
    const keys = [1, 2, 3, 4, 5, 6].map((i) => rule(`ImportedKey${i}`, { ruleScope: RecycleBinScope.tagged({ [key]: 'db' }) }));
    expect([...rules, ...keys].flatMap((r) => r.node.validate())).toEqual([]);
  });

  test('a second locked rule for the same resource type in the account and region is warned about; an unlocked one or another type is not', () => {
    const warnings = (r: RecycleBinRule) => r.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    const unlocked = rule('Unlocked');
    const first = rule('First', { lockUnlockDelay: Duration.days(7) });
    const amis = rule('Amis', { resourceType: RecycleBinResourceType.EC2_IMAGE, lockUnlockDelay: Duration.days(7) });
    const second = rule('Second', { lockUnlockDelay: Duration.days(7) });
    expect([unlocked, first, amis].flatMap(warnings)).toEqual([]);
    expect(warnings(second)).toEqual([expect.stringContaining(
      'TestStack/Second: a second locked region-level Recycle Bin rule for EBS_SNAPSHOT in 123456789012/us-east-1 overlaps TestStack/First')]);
  });

  test('a lock on a region rule without exclusions is accepted, and the tag-level refusal names the fix', () => {
    expect(rule('Locked', { lockUnlockDelay: Duration.days(7) }).locked).toBe(true);
    // only the tag-level refusal: a tag-level rule has no exclusion tags
    expect(() => rule('LockedTagged', { lockUnlockDelay: Duration.days(7), ruleScope: RecycleBinScope.tagged({ team: 'db' }) }))
      .toThrow(/^TestStack\/LockedTagged: lockUnlockDelay cannot be set on a tag-level rule: AWS locks only region-level retention rules \(use RecycleBinScope.region\(\)\)$/);
  });
});

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
    // UnlockDelayValue is whole days (UnlockDelayUnit: DAYS only)
    ['an unlock delay that is not whole days', () => ({ retain: Retention.age(Duration.days(7)), lockUnlockDelay: Duration.hours(180) }),
      'TestStack/Bin: lockUnlockDelay must be a whole number of days, got 7 days 12 hours'],
    // a resource tag of a tag-level rule: the aws: prefix is reserved (ResourceTag.ResourceTagKey)
    ['a reserved resource tag key', () => ({ retain: Retention.age(Duration.days(7)), ruleScope: RecycleBinScope.tagged({ 'aws:team': 'db' }) }),
      "TestStack/Bin: ruleScope tags key must not start with 'aws:' (reserved by AWS), got 'aws:team'"],
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
