/**
 * The schedule checks and rendering shared by the custom snapshot and AMI policies
 * (src/dlm/render.ts, src/dlm/units.ts), called directly on a bare stack: no policy construct, no
 * synthesis. Each rendered piece is evaluated against the shape DLM's API reference documents, and
 * each documented bound is probed on both sides (accepted as rendered, rejected at synthesis):
 * - CreateRule: `Interval` 1, 2, 3, 4, 6, 8, 12 or 24 with `IntervalUnit` HOURS and at most one
 *   `Times` entry `hh:mm` (UTC), or a `CronExpression` of 17 to 106 characters whose schedule
 *   interval is between 1 hour and 1 year; never both
 *   (https://docs.aws.amazon.com/dlm/latest/APIReference/API_CreateRule.html);
 * - Schedule: `Name` up to 120 of `[0-9A-Za-z _-]`, `TagsToAdd` and `VariableTags` at most 45 each,
 *   `CrossRegionCopyRules` at most 3 (https://docs.aws.amazon.com/dlm/latest/APIReference/API_Schedule.html);
 * - PolicyDetails: 1 to 4 schedules; the policy `Description` up to 500 of `[0-9A-Za-z _-]`
 *   (https://docs.aws.amazon.com/dlm/latest/APIReference/API_CreateLifecyclePolicy.html);
 * - CrossRegionCopyRetainRule: `Interval` (>= 1) and `IntervalUnit` DAYS, WEEKS, MONTHS or YEARS:
 *   copies are kept by age only (https://docs.aws.amazon.com/dlm/latest/APIReference/API_CrossRegionCopyRetainRule.html);
 * - RetainRule: `Count` 1 to 1000, or `Interval` + `IntervalUnit` (https://docs.aws.amazon.com/dlm/latest/APIReference/API_RetainRule.html);
 * - target tags: 1 to 50 (https://docs.aws.amazon.com/dlm/latest/APIReference/API_PolicyDetails.html).
 */
import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Retention } from '../../src/core/retention';
import { collectProblems, EbsBackupValidationError } from '../../src/core/validation';
import {
  ALLOWED_RATE_HOURS, ageDays, cfnTags, checkCopies, checkCopyRetain, checkSchedules, checkTargetTags, createPolicyResource, human, policyDescription,
  renderCopyRetain, renderCreateRule, renderRetain, renderScheduleTags,
} from '../../src/dlm/render';
import { DlmScheduleOptions } from '../../src/dlm/schedule';
import { ageMs, dlmInterval } from '../../src/dlm/units';

/** DLM's documented CreateRule shape (API_CreateRule): the fields a rendered rule must satisfy. */
function dlmAcceptsCreateRule(rule: { interval?: number; intervalUnit?: string; times?: string[]; cronExpression?: string }): boolean {
  const byInterval = rule.interval !== undefined;
  const byCron = rule.cronExpression !== undefined;
  if (byInterval === byCron) {
    return false;
  }
  if (byInterval) {
    return [1, 2, 3, 4, 6, 8, 12, 24].includes(rule.interval!) && rule.intervalUnit === 'HOURS'
      && (rule.times === undefined || (rule.times.length <= 1 && rule.times.every((t) => /^(0[0-9]|1[0-9]|2[0-3]):[0-5][0-9]$/.test(t))));
  }
  return rule.cronExpression!.length >= 17 && rule.cronExpression!.length <= 106 && /^cron\([^\n]{11,100}\)$/.test(rule.cronExpression!)
    && rule.times === undefined && rule.interval === undefined;
}

const stackIn = (region = 'us-east-1') => new Stack(new App(), 'Dlm', { env: { account: '123456789012', region } });
const daily = events.Schedule.cron({ hour: '4', minute: '0' });
const schedule = (o: Partial<DlmScheduleOptions> = {}): DlmScheduleOptions => ({ name: 'nightly', schedule: daily, retain: Retention.count(7), ...o });
const LIBRARY = { 'backup:purpose': 'app', 'backup:retention': 'count:7', 'backup:managed-by': 'Dlm/Policy' };

/** The library's error, naming the construct path and the property. */
function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect((e as Error).name).toBe('EbsBackupValidationError');
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('CreateRule: every rate DLM takes is rendered as DLM takes it; every other rate is refused at synthesis', () => {
  test.each(ALLOWED_RATE_HOURS)('rate(%i hours)', (hours) => {
    const rendered = renderCreateRule(stackIn(), 'schedules[0]', schedule({ schedule: events.Schedule.rate(Duration.hours(hours)), startTime: '03:00' }));
    expect(rendered.createRule).toEqual({ interval: hours, intervalUnit: 'HOURS', times: ['03:00'] });
    expect(dlmAcceptsCreateRule(rendered.createRule as any)).toBe(true);
  });

  test('DLM\'s documented interval set is the library\'s', () => {
    expect(ALLOWED_RATE_HOURS).toEqual([1, 2, 3, 4, 6, 8, 12, 24]);
  });

  test.each([5, 7, 9, 10, 16, 48])('rate(%i hours) is refused naming the allowed intervals', (hours) => {
    expect(rejection(() => renderCreateRule(stackIn(), 'schedules[2]', schedule({ schedule: events.Schedule.rate(Duration.hours(hours)) }))))
      .toBe(`Dlm: schedules[2].schedule must be a rate of 1, 2, 3, 4, 6, 8, 12, 24 hours (DLM's intervals) or a cron expression, got '${events.Schedule.rate(Duration.hours(hours)).expressionString}'`);
  });

  test('a rate without a start time leaves the time to DLM (no Times)', () => {
    const rendered = renderCreateRule(stackIn(), 'schedules[0]', schedule({ schedule: events.Schedule.rate(Duration.hours(12)) }));
    expect(rendered.createRule).toEqual({ interval: 12, intervalUnit: 'HOURS', times: undefined });
    expect(rendered.parsed).toEqual(expect.objectContaining({ kind: 'rate', hours: 12 }));
  });

  test.each(['00:00', '09:59', '19:30', '23:59'])('start time %s (DLM Time: hh:mm, 00-23) is taken', (startTime) => {
    const rendered = renderCreateRule(stackIn(), 'schedules[0]', schedule({ schedule: events.Schedule.rate(Duration.hours(24)), startTime }));
    expect(dlmAcceptsCreateRule(rendered.createRule as any)).toBe(true);
  });

  test.each(['24:00', '3:00', '03:60', '03:00:00', 'x03:00', '03:00x'])('start time %s is refused', (startTime) => {
    expect(rejection(() => renderCreateRule(stackIn(), 'schedules[0]', schedule({ schedule: events.Schedule.rate(Duration.hours(24)), startTime }))))
      .toBe(`Dlm: schedules[0].startTime must be a UTC time hh:mm such as 03:00, got '${startTime}'`);
  });

  test('cron: hourly (the shortest interval DLM allows) and yearly (the longest) are rendered as given', () => {
    for (const expression of ['cron(0 * * * ? *)', 'cron(0 0 1 1 ? *)']) {
      const rendered = renderCreateRule(stackIn(), 'schedules[0]', schedule({ schedule: events.Schedule.expression(expression) }));
      expect(rendered.createRule).toEqual({ cronExpression: expression });
      expect(dlmAcceptsCreateRule(rendered.createRule as any)).toBe(true);
    }
  });

  test('cron: firing twice within an hour, or less than once a year, is refused with the gap', () => {
    expect(rejection(() => renderCreateRule(stackIn(), 'schedules[0]', schedule({ schedule: events.Schedule.expression('cron(0,59 * * * ? *)') }))))
      .toBe('Dlm: schedules[0].schedule must fire at most once an hour (DLM allows intervals between 1 hour and 1 year), got \'cron(0,59 * * * ? *) (every 1 minute)\'');
    expect(rejection(() => renderCreateRule(stackIn(), 'schedules[0]', schedule({ schedule: events.Schedule.expression('cron(0 0 29 2 ? *)') }))))
      .toMatch(/^Dlm: schedules\[0\]\.schedule must fire at least once a year \(DLM allows intervals between 1 hour and 1 year\), got 'cron\(0 0 29 2 \? \*\) \(up to \d+(\.\d+)? days apart\)'$/);
  });

  test('cron: DLM\'s length bounds (17 to 106 characters)', () => {
    // 17 characters: the shortest expression DLM accepts
    const shortest = 'cron(0 4 * * ? *)';
    expect(shortest).toHaveLength(17);
    expect(renderCreateRule(stackIn(), 's', schedule({ schedule: events.Schedule.expression(shortest) })).createRule).toEqual({ cronExpression: shortest });
    // 106 characters, the longest: hourly, listed hour by hour, for six listed years
    const hourly = (years: number) => `cron(00 ${Array.from({ length: 24 }, (_, h) => h).join(',')} * * ? ${Array.from({ length: years }, (_, y) => 2026 + y).join(',')})`;
    expect(hourly(6)).toHaveLength(106);
    expect(renderCreateRule(stackIn(), 's', schedule({ schedule: events.Schedule.expression(hourly(6)) })).createRule).toEqual({ cronExpression: hourly(6) });
    expect(hourly(7)).toHaveLength(111);
    expect(rejection(() => renderCreateRule(stackIn(), 's', schedule({ schedule: events.Schedule.expression(hourly(7)) }))))
      .toContain('s.schedule must be between 17 and 106 characters long');
  });

  test('a cron schedule takes no start time (the expression sets the time; DLM takes CronExpression or Times, never both)', () => {
    expect(rejection(() => renderCreateRule(stackIn(), 'schedules[1]', schedule({ startTime: '03:00' }))))
      .toBe('Dlm: schedules[1].startTime must be omitted for a cron schedule (the cron expression sets the time), got \'03:00\'');
  });

  test('an expression that is no schedule is refused with what it must be', () => {
    expect(rejection(() => renderCreateRule(stackIn(), 'schedules[0]', schedule({ schedule: events.Schedule.expression('cron(0 4 * * ?)') }))))
      .toContain('schedules[0].schedule must be a cron expression with 6 fields');
  });

  test('a token expression is passed through unparsed (resolved at deploy time)', () => {
    const token = Lazy.string({ produce: () => 'cron(0 4 * * ? *)' });
    const rendered = renderCreateRule(stackIn(), 's', schedule({ schedule: events.Schedule.expression(token) }));
    expect(rendered).toEqual({ createRule: { cronExpression: token } });
  });
});

describe('Schedules: 1 to 4 per policy, names DLM takes, each with a Retention and a schedule', () => {
  test('1 and 4 schedules with distinct names of up to 120 characters are taken', () => {
    expect(() => checkSchedules(stackIn(), [schedule()])).not.toThrow();
    expect(() => checkSchedules(stackIn(), ['a', 'b c', 'd_e-f', 'x'.repeat(120)].map((name) => schedule({ name })))).not.toThrow();
  });

  test.each<[string, unknown, string]>([
    ['no list', undefined, 'Dlm: schedules must be a list of 1 to 4 schedules'],
    ['no schedule', [], 'Dlm: schedules must have between 1 and 4 items'],
    ['five', ['a', 'b', 'c', 'd', 'e'].map((name) => schedule({ name })), 'Dlm: schedules must have between 1 and 4 items'],
    ['a null entry', [schedule(), null], 'Dlm: schedules[1] must be a schedule, got null'],
    ['an entry that is a string', [schedule(), 'nightly'], "Dlm: schedules[1] must be a schedule, got 'nightly'"],
    ['an entry that is a number', [7], 'Dlm: schedules[0] must be a schedule, got 7'],
    ['a name that is a number', [schedule({ name: 7 as any })], 'Dlm: schedules[0].name must be a string, got 7'],
    ['an empty name', [schedule({ name: '' })], 'Dlm: schedules[0].name must be between 1 and 120 characters long'],
    ['a name of 121 characters', [schedule({ name: 'x'.repeat(121) })], 'Dlm: schedules[0].name must be between 1 and 120 characters long'],
    ['a name with a dot', [schedule({ name: 'v1.2' })], "Dlm: schedules[0].name must be made of the characters 0-9 A-Z a-z _ - and space, got 'v1.2'"],
    ['a name with a dot after valid characters', [schedule({ name: 'ok.' })], 'Dlm: schedules[0].name must be made of the characters'],
    ['a repeated name', [schedule(), schedule({ name: 'hourly' }), schedule()], "Dlm: schedules[2].name must be unique in the policy, got 'nightly'"],
    ['a retention that is no Retention', [schedule({ retain: { maxCount: 7 } as any })], 'Dlm: schedules[0].retain must be Retention.count(...) or Retention.age(...)'],
    ['a count out of DLM\'s 1 to 1000', [schedule({ retain: Retention.count(0) })],
      'Dlm: schedules[0].retain Retention.count(...): count must be an integer between 1 and 1000, got 0'],
    ['a null schedule expression', [schedule({ schedule: null as any })], 'Dlm: schedules[0].schedule must be an events.Schedule'],
    ['no schedule expression', [schedule({ schedule: undefined as any })], 'Dlm: schedules[0].schedule must be an events.Schedule (Schedule.rate() or Schedule.cron())'],
    ['a schedule that is a string', [schedule({ schedule: 'rate(1 hour)' as any })], 'Dlm: schedules[0].schedule must be an events.Schedule'],
  ])('%s is refused', (_name, schedules, message) => {
    expect(rejection(() => checkSchedules(stackIn(), schedules as any))).toContain(message);
  });
});

describe('TagsToAdd and VariableTags: at most 45 each, the library\'s tags among the 45', () => {
  test('the user\'s tags and the library\'s are added together, as DLM\'s { Key, Value } list', () => {
    const rendered = renderScheduleTags(stackIn(), 'schedules[0]', schedule({ tags: { Team: 'db' } }), LIBRARY, false);
    expect(rendered.tags).toEqual({ Team: 'db', ...LIBRARY });
    expect(rendered.tagsToAdd).toEqual([{ key: 'Team', value: 'db' }, ...Object.entries(LIBRARY).map(([key, value]) => ({ key, value }))]);
    expect(rendered.variableTags).toBeUndefined();
  });

  test('a bad tag, or one of the library\'s tags set by the user, is refused naming schedules[i].tags', () => {
    expect(rejection(() => renderScheduleTags(stackIn(), 'schedules[1]', schedule({ tags: { 'aws:team': 'db' } }), LIBRARY, false)))
      .toBe("Dlm: schedules[1].tags key must not start with 'aws:' (reserved by AWS), got 'aws:team'");
    expect(rejection(() => renderScheduleTags(stackIn(), 'schedules[1]', schedule({ tags: { 'backup:purpose': 'other' } }), LIBRARY, false)))
      .toBe("Dlm: schedules[1].tags must not set the library's tag 'backup:purpose' (it is derived from the construct's settings), got 'other'");
  });

  test('42 user tags with the library\'s 3 make DLM\'s 45; 43 are refused, naming what is left for the user', () => {
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(renderScheduleTags(stackIn(), 'schedules[0]', schedule({ tags: tags(42) }), LIBRARY, false).tagsToAdd).toHaveLength(45);
    expect(rejection(() => renderScheduleTags(stackIn(), 'schedules[0]', schedule({ tags: tags(43) }), LIBRARY, false)))
      .toBe("Dlm: schedules[0].tags must have at most 42 tags (DLM adds at most 45, 3 of them the library's), got 43");
  });

  test('variable tags: DLM\'s two variables, on instance targets and AMIs only, never a key of the tags to add', () => {
    const rendered = renderScheduleTags(stackIn(), 'schedules[0]', schedule({ variableTags: { instance: '$(instance-id)', taken: '$(timestamp)' } }), LIBRARY, true);
    expect(rendered.variableTags).toEqual([{ key: 'instance', value: '$(instance-id)' }, { key: 'taken', value: '$(timestamp)' }]);
    expect(rejection(() => renderScheduleTags(stackIn(), 'schedules[0]', schedule({ variableTags: { instance: '$(instance-id)' } }), LIBRARY, false)))
      .toContain('schedules[0].variableTags must be omitted for volume targets');
    expect(rejection(() => renderScheduleTags(stackIn(), 'schedules[0]', schedule({ variableTags: { instance: '$(volume-id)' } }), LIBRARY, true)))
      .toContain("schedules[0].variableTags['instance'] must be one of '$(instance-id)', '$(timestamp)', got '$(volume-id)'");
    expect(rejection(() => renderScheduleTags(stackIn(), 'schedules[0]', schedule({ tags: { Team: 'db' }, variableTags: { Team: '$(instance-id)' } }), LIBRARY, true)))
      .toBe("Dlm: schedules[0].variableTags key must not repeat a key of the tags to add, got 'Team'");
    expect(rejection(() => renderScheduleTags(stackIn(), 'schedules[0]', schedule({
      variableTags: Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`v${i}`, '$(timestamp)'])),
    }), LIBRARY, true))).toContain('schedules[0].variableTags');
  });

  test('token variable tags are passed through unchecked, and rendered as none', () => {
    const token = Lazy.any({ produce: () => ({ a: '$(timestamp)' }) }) as any;
    expect(renderScheduleTags(stackIn(), 's', schedule({ variableTags: token }), LIBRARY, false).variableTags).toBeUndefined();
  });
});

describe('Cross-region copies: at most 3, real and distinct regions other than the policy\'s, kept by age, keys of the copy\'s region', () => {
  const copy = (region: string, o: object = {}) => ({ region, retain: Retention.age(Duration.days(30)), ...o });

  test('three copies to three other regions are taken; their retention renders as DLM\'s CrossRegionCopyRetainRule in days', () => {
    const stack = stackIn();
    expect(() => checkCopies(stack, 'schedules[0]', [copy('eu-west-1'), copy('eu-central-1'), copy('ap-southeast-2', {
      encryptionKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:ap-southeast-2:123456789012:key/abc'),
    })])).not.toThrow();
    expect(() => checkCopies(stack, 'schedules[0]', undefined)).not.toThrow();
    expect(renderCopyRetain(Retention.age(Duration.days(30)))).toEqual({ interval: 30, intervalUnit: 'DAYS' });
  });

  test.each<[string, (stack: Stack) => unknown[], string]>([
    ['four copies', () => ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1'].map((r) => copy(r)), 'Dlm: schedules[0].crossRegionCopies must have at most 3 items'],
    ['a misspelt region', () => [copy('eu-west')], "Dlm: schedules[0].crossRegionCopies[0].region must be an AWS region name such as eu-west-1, got 'eu-west'"],
    ['the policy\'s own region', () => [copy('us-east-1')], "Dlm: schedules[0].crossRegionCopies[0].region must differ from the policy's own region us-east-1, got 'us-east-1'"],
    ['a region twice', () => [copy('eu-west-1'), copy('eu-west-1')], "Dlm: schedules[0].crossRegionCopies[1].region must not repeat another copy's region, got 'eu-west-1'"],
    ['a count retention', () => [copy('eu-west-1', { retain: Retention.count(3) })],
      "Dlm: schedules[0].crossRegionCopies[0].retain must be Retention.age(...) (DLM keeps cross-region copies by age only), got 'Retention.count(3)'; keep copies by age, e.g. Retention.age(Duration.days(30))"],
    ['a retention that is no Retention', () => [copy('eu-west-1', { retain: { maxAge: Duration.days(3) } })], 'Dlm: schedules[0].crossRegionCopies[0].retain must be Retention.age(...)'],
    ['unencrypted copies with a key', (s) => [copy('eu-west-1', { encrypted: false, encryptionKey: kms.Key.fromKeyArn(s, 'K', 'arn:aws:kms:eu-west-1:123456789012:key/abc') })],
      'Dlm: schedules[0].crossRegionCopies[0].encrypted must not be false when an encryptionKey is given, got false'],
    ['a key of another region', (s) => [copy('eu-west-1', { encryptionKey: kms.Key.fromKeyArn(s, 'K', 'arn:aws:kms:us-west-2:123456789012:key/abc') })],
      "Dlm: schedules[0].crossRegionCopies[0].encryptionKey must be a key in the copy's region eu-west-1 (KMS keys are regional), got 'us-west-2'"],
  ])('%s is refused', (_name, copies, message) => {
    const stack = stackIn();
    expect(rejection(() => checkCopies(stack, 'schedules[0]', copies(stack) as any))).toContain(message);
  });

  test.each<[string, unknown, string]>([
    ['no Retention at all', undefined,
      'Dlm: copies[0].retain must be Retention.age(...) (DLM keeps cross-region copies by age only); keep copies by age, e.g. Retention.age(Duration.days(30))'],
    ['a retention that is no Retention', { maxCount: 3 },
      'Dlm: copies[0].retain must be Retention.age(...) (DLM keeps cross-region copies by age only), got {"maxCount":3}; keep copies by age, e.g. Retention.age(Duration.days(30))'],
    ['Retention.age of no Duration', Retention.age(undefined as any),
      'Dlm: copies[0].retain Retention.age(...): age must be a Duration; pass Duration.days(n)'],
    ['a count retention', Retention.count(3),
      "Dlm: copies[0].retain must be Retention.age(...) (DLM keeps cross-region copies by age only), got 'Retention.count(3)'; keep copies by age, e.g. Retention.age(Duration.days(30))"],
  ])('a copy retention that is %s is one problem when the construct collects its problems, reported once and as it is', (_name, retain, message) => {
    const stack = stackIn();
    let error: unknown;
    try {
      collectProblems(stack, () => checkCopyRetain(stack, 'copies[0].retain', retain as Retention));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EbsBackupValidationError);
    expect((error as EbsBackupValidationError).problems).toEqual([message]);
  });

  test('unencrypted copies without a key, and encrypted ones with the region\'s key, are taken', () => {
    const stack = stackIn();
    expect(() => checkCopies(stack, 'schedules[0]', [copy('eu-west-1', { encrypted: false }),
      copy('eu-west-2', { encrypted: true, encryptionKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-2:123456789012:key/abc') })])).not.toThrow();
  });

  test('a region-agnostic stack cannot compare regions, and takes the copy; a token region is checked at deploy time', () => {
    const agnostic = new Stack(new App(), 'Agnostic');
    expect(() => checkCopies(agnostic, 'schedules[0]', [copy('us-east-1')])).not.toThrow();
    const stack = stackIn();
    const token = Lazy.string({ produce: () => 'us-east-1' });
    expect(() => checkCopies(stack, 'schedules[0]', [copy(token), copy(token, {
      encryptionKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-1:123456789012:key/abc'),
    })])).not.toThrow();
  });
});

describe('RetainRule and durations: DLM\'s Count, or Interval in DAYS', () => {
  test('count and age retentions render as DLM\'s RetainRule', () => {
    expect(renderRetain(Retention.count(7))).toEqual({ count: 7 });
    expect(renderRetain(Retention.age(Duration.days(35)))).toEqual({ interval: 35, intervalUnit: 'DAYS' });
  });

  test('an age in days (and in ms) for comparisons; none for a count or a token age', () => {
    expect(ageDays(Retention.age(Duration.days(14)))).toBe(14);
    expect(ageMs(Retention.age(Duration.hours(36)))).toBe(36 * 3600_000);
    expect(ageDays(Retention.count(3))).toBeUndefined();
    expect(ageMs(Retention.age(Duration.days(Lazy.number({ produce: () => 3 }))))).toBeUndefined();
  });

  test('a duration as DLM\'s interval: always DAYS, within the caller\'s bounds (both inclusive)', () => {
    const stack = stackIn();
    expect(dlmInterval(stack, 'archive.retain', Duration.days(90), 90, 36500)).toEqual({ interval: 90, intervalUnit: 'DAYS' });
    expect(dlmInterval(stack, 'archive.retain', Duration.days(36500), 90, 36500)).toEqual({ interval: 36500, intervalUnit: 'DAYS' });
    expect(rejection(() => dlmInterval(stack, 'archive.retain', Duration.days(89), 90, 36500)))
      .toBe('Dlm: archive.retain must be a whole number of days between 90 and 36500, got 89 days');
    expect(rejection(() => dlmInterval(stack, 'archive.retain', Duration.days(36501), 90, 36500))).toContain('between 90 and 36500, got 36501 days');
    const token = Duration.days(Lazy.number({ produce: () => 3 }));
    expect(dlmInterval(stack, 'archive.retain', token, 90, 36500).intervalUnit).toBe('DAYS');
  });
});

describe('target tags, the policy description and the L1 resource', () => {
  test('target tags: 1 to 50 (DLM TargetTags)', () => {
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(() => checkTargetTags(stackIn(), 'target.tags', tags(1))).not.toThrow();
    expect(() => checkTargetTags(stackIn(), 'target.tags', tags(50))).not.toThrow();
    expect(rejection(() => checkTargetTags(stackIn(), 'target.tags', {}))).toContain('Dlm: target.tags must have between 1 and 50 items');
    expect(rejection(() => checkTargetTags(stackIn(), 'target.tags', tags(51)))).toContain('Dlm: target.tags must have between 1 and 50 items');
    expect(rejection(() => checkTargetTags(stackIn(), 'target.tags', undefined))).toBe('Dlm: target.tags must be a map of 1 to 50 tags');
    expect(rejection(() => checkTargetTags(stackIn(), 'target.tags', null as any))).toContain('target.tags must be a map of 1 to 50 tags');
    expect(rejection(() => checkTargetTags(stackIn(), 'target.tags', 'App=db' as any))).toContain('target.tags must be a map of 1 to 50 tags');
    expect(() => checkTargetTags(stackIn(), 'target.tags', Lazy.any({ produce: () => ({}) }) as any)).not.toThrow();
    expect(cfnTags({ App: 'db', Tier: 'data' })).toEqual([{ key: 'App', value: 'db' }, { key: 'Tier', value: 'data' }]);
  });

  test('a derived description is always one DLM takes (up to 500 of [0-9A-Za-z _-]), whatever the purpose and path', () => {
    const stack = stackIn();
    const scope = new iam.Role(stack, `Très.Long:Path${'x'.repeat(600)}`, { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    const text = policyDescription(scope, undefined, 'Snapshot policy', 'db:orders');
    expect(text).toMatch(/^[0-9A-Za-z _-]+$/);
    expect(text).toHaveLength(500);
    expect(text.slice(0, 62)).toBe('Snapshot policy for db-orders by cdk-ebs-backup at Dlm-Tr-s-Lo');
    expect(policyDescription(stack, undefined, 'AMI policy', Lazy.string({ produce: () => 'x' }))).toBe('AMI policy for backup by cdk-ebs-backup at Dlm');
  });

  test('a given description is taken as is when DLM takes it, refused otherwise', () => {
    const stack = stackIn();
    expect(policyDescription(stack, 'nightly db', 'x', 'y')).toBe('nightly db');
    expect(policyDescription(stack, 'd'.repeat(500), 'x', 'y')).toHaveLength(500);
    expect(rejection(() => policyDescription(stack, '', 'x', 'y'))).toBe("Dlm: description must be between 1 and 500 characters long, got ''");
    expect(rejection(() => policyDescription(stack, 'd'.repeat(501), 'x', 'y'))).toContain('Dlm: description must be between 1 and 500 characters long');
    expect(rejection(() => policyDescription(stack, 'v1.0', 'x', 'y'))).toBe("Dlm: description must be made of the characters 0-9 A-Z a-z _ - and space, got 'v1.0'");
  });

  test('the policy resource: enabled unless disabled, run by the given role', () => {
    const stack = stackIn();
    const role = iam.Role.fromRoleArn(stack, 'Role', 'arn:aws:iam::123456789012:role/dlm');
    const state = (enabled: boolean | undefined, id: string) =>
      stack.resolve(createPolicyResource(new Stack(stack.node.root as App, id, { env: stack.environment as any }), { description: 'd' }, role, enabled).state);
    expect([state(undefined, 'A'), state(true, 'B'), state(false, 'C')]).toEqual(['ENABLED', 'ENABLED', 'DISABLED']);
    expect(createPolicyResource(new Stack(stack.node.root as App, 'D'), { description: 'd' }, role, true).executionRoleArn).toBe('arn:aws:iam::123456789012:role/dlm');
  });

  test('gaps are written for people: minutes, hours, days', () => {
    expect([human(59 * 60_000), human(60 * 60_000), human(90 * 60_000), human(24 * 3600_000), human(36 * 3600_000), human(30_000)])
      .toEqual(['59 minutes', '1 hour', '1.5 hours', '1 day', '1.5 days', '1 minute']);
  });
});
