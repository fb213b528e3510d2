/**
 * The schedule analysis against EventBridge's cron semantics (EventBridge User Guide, "Cron
 * expressions reference" / Amazon EventBridge Scheduler, "Schedule types": six fields minutes
 * 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 is
 * Sunday), year 1970-2199; `,` `-` `*` `/`; `?` in exactly one of day-of-month and day-of-week;
 * `L` the last day of the month or week, `W` the nearest weekday within the month, `#` the nth
 * weekday of the month; rate expressions in minutes, hours and days). The expected firings were
 * computed apart, with Python's `calendar` module, for the calendar year 2026.
 */
import { MS_PER_DAY, MS_PER_HOUR, minimumIntervalMs, parseSchedule, ParsedSchedule, ScheduleProblem } from '../../src/core/cron';

const MINUTE = 60_000;
const gaps = (expression: string) => {
  const parsed = parseSchedule(expression);
  if (parsed instanceof ScheduleProblem) {
    throw new Error(`${expression}: ${parsed.requirement}`);
  }
  return parsed.kind === 'cron' ? [parsed.minGapMs, parsed.maxGapMs] : [minimumIntervalMs(parsed)];
};
const problem = (expression: string) => {
  const parsed = parseSchedule(expression);
  return parsed instanceof ScheduleProblem ? parsed.requirement : undefined;
};

describe('rate expressions', () => {
  test.each([
    ['rate(1 minute)', MS_PER_HOUR / 60],
    ['rate(30 minutes)', 30 * MINUTE],
    ['rate(1 hour)', MS_PER_HOUR],
    ['rate(12 hours)', 12 * MS_PER_HOUR],
    ['rate(1 day)', MS_PER_DAY],
    ['rate(7 days)', 7 * MS_PER_DAY],
    ['  rate(2 hours) ', 2 * MS_PER_HOUR],
  ])('%s', (expression, interval) => {
    expect(gaps(expression)).toEqual([interval]);
    expect((parseSchedule(expression) as ParsedSchedule).expression).toBe(expression.trim());
    expect((parseSchedule(expression) as ParsedSchedule).kind).toBe('rate');
  });

  test.each(['rate(1 week)', 'rate(-1 hours)', 'rate(1.5 hours)', 'rate(hours)', 'every day', 'cron 0 4 * * ? *', 'xrate(1 day)', 'rate(1 day)x'])('%s is neither', (expression) => {
    expect(problem(expression)).toBe('must be a rate(...) or cron(...) expression');
  });
});

describe('cron fields and their ranges', () => {
  test.each([
    ['cron(0/15 * * * ? *)', 15 * MINUTE, 15 * MINUTE],
    ['cron(10-50/20 8-10 * * ? *)', 20 * MINUTE, 21 * MS_PER_HOUR + 20 * MINUTE],
    ['cron(5,35 6 * * ? *)', 30 * MINUTE, 23 * MS_PER_HOUR + 30 * MINUTE],
    ['cron(0 0/6 * * ? *)', 6 * MS_PER_HOUR, 6 * MS_PER_HOUR],
    ['cron(0 22/1 * * ? *)', MS_PER_HOUR, 23 * MS_PER_HOUR],
    ['cron(0 4 ? * MON-FRI *)', MS_PER_DAY, 3 * MS_PER_DAY],
    ['cron(0 4 ? * 2-6 *)', MS_PER_DAY, 3 * MS_PER_DAY],
    ['cron(0 4 ? * 1,7 *)', MS_PER_DAY, 6 * MS_PER_DAY],
    ['cron(0 4 ? * SUN *)', 7 * MS_PER_DAY, 7 * MS_PER_DAY],
    ['cron(0 4 1 JAN,JUL ? 2026)', 181 * MS_PER_DAY, 181 * MS_PER_DAY],
    ['cron(0 4 1 1-12/6 ? 2026)', 181 * MS_PER_DAY, 181 * MS_PER_DAY],
    ['cron(0 4 1 12 ? 2026-2027)', 365 * MS_PER_DAY, 365 * MS_PER_DAY],
  ])('%s fires every %d to %d ms', (expression, min, max) => {
    expect(gaps(expression)).toEqual([min, max]);
  });

  // a field's values may be listed in any order; firings are in time order, so the values are
  // sorted as numbers (as text, 10 would come before 9 and 45 before 5)
  test.each([
    ['cron(45,5,10 * * * ? *)', 5 * MINUTE, 35 * MINUTE],
    ['cron(0 20,4 * * ? *)', 8 * MS_PER_HOUR, 16 * MS_PER_HOUR],
    ['cron(0 9,10 * * ? *)', MS_PER_HOUR, 23 * MS_PER_HOUR],
    ['cron(0 4 1 1 ? 2030,2028)', 731 * MS_PER_DAY, 731 * MS_PER_DAY],
    // December 1 to January 1 is 31 days; January 1 to December 1 is 335 days in a leap year
    ['cron(0 4 1 DEC,JAN ? *)', 31 * MS_PER_DAY, 335 * MS_PER_DAY],
    ['cron(0 4 1 12,1 ? *)', 31 * MS_PER_DAY, 335 * MS_PER_DAY],
  ])('%s, listed out of order, fires every %d to %d ms', (expression, min, max) => {
    expect(gaps(expression)).toEqual([min, max]);
  });

  test('a leap day fires every fourth year (the window of a * year covers a leap cycle)', () => {
    expect(gaps('cron(0 4 29 2 ? *)')).toEqual([4 * 365 * MS_PER_DAY + MS_PER_DAY, 4 * 365 * MS_PER_DAY + MS_PER_DAY]);
  });

  test('a schedule that fires once has no gap', () => {
    expect(gaps('cron(0 4 1 1 ? 2030)')).toEqual([Infinity, undefined]);
  });

  test.each([
    ['cron(0 4 * * *)', 'must be a cron expression with 6 fields (minutes hours day-of-month month day-of-week year)'],
    ['cron(0 4 * * ? * *)', 'must be a cron expression with 6 fields (minutes hours day-of-month month day-of-week year)'],
    ['cron(0 4 * * * *)', "must have '?' in exactly one of the day-of-month and day-of-week fields"],
    ['cron(0 4 ? * ? *)', "must have '?' in exactly one of the day-of-month and day-of-week fields"],
    ['cron(60 4 * * ? *)', 'must have a minutes field with values between 0 and 59'],
    ['cron(0 24 * * ? *)', 'must have a hours field with values between 0 and 23'],
    ['cron(0 4 32 * ? *)', 'must have a day-of-month field with values between 1 and 31'],
    ['cron(0 4 0 * ? *)', 'must have a day-of-month field with values between 1 and 31'],
    ['cron(0 4 * 13 ? *)', 'must have a month field with values between 1 and 12'],
    ['cron(0 4 * 0 ? *)', 'must have a month field with values between 1 and 12'],
    ['cron(0 4 * FOO ? *)', 'must have a month field with values between 1 and 12'],
    ['cron(0 4 ? * 8 *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 ? * 0 *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 * * ? 1969)', 'must have a year field with values between 1970 and 2199'],
    ['cron(0 4 * * ? 2200)', 'must have a year field with values between 1970 and 2199'],
    ['cron(0 4 * * ? 2027-2026)', 'must have a year field whose ranges run from low to high'],
    ['cron(0/0 4 * * ? *)', 'must have a minutes field with a positive step'],
    ['cron(0/x 4 * * ? *)', 'must have a minutes field with a positive step'],
    ['cron(1.5 4 * * ? *)', 'must have a minutes field with values between 0 and 59'],
    ['cron(0 4 31 2 ? *)', 'must fire at least once'],
    ['cron(0 4 0W * ? *)', 'must have a day-of-month field with values between 1 and 31'],
    ['cron(0 4 32W * ? *)', 'must have a day-of-month field with values between 1 and 31'],
    // anything before or after a field's shape is refused (EventBridge would refuse it at deployment)
    ['xcron(0 4 * * ? *)', 'must be a rate(...) or cron(...) expression'],
    ['cron(0 4 * * ? *)x', 'must be a rate(...) or cron(...) expression'],
    ['cron(4x 4 * * ? *)', 'must have a minutes field with values between 0 and 59'],
    ['cron(x4 4 * * ? *)', 'must have a minutes field with values between 0 and 59'],
    ['cron(0 4 15Wx * ? *)', 'must have a day-of-month field with values between 1 and 31'],
    ['cron(0 4 x15W * ? *)', 'must have a day-of-month field with values between 1 and 31'],
    ['cron(0 4 ? * MON#2x *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 ? * xMON#2 *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 ? * -MON#2 *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 ? * FOO#2 *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 ? * 5Lx *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 ? * x5L *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 ? * -5L *)', 'must have a day-of-week field with values between 1 and 7'],
    ['cron(0 4 ? * FOOL *)', 'must have a day-of-week field with values between 1 and 7'],
  ])('%s: %s', (expression, requirement) => {
    expect(problem(expression)).toBe(requirement);
  });
});

describe('white space', () => {
  test('runs of spaces separate the fields as one space does (the parser reads six fields, not the spacing)', () => {
    expect(gaps('cron( 0  4 * *   ? * )')).toEqual([MS_PER_DAY, MS_PER_DAY]);
  });
});

describe('L, W and # (2026)', () => {
  test.each([
    // the last day of each month: Feb 28 to Mar 31 is 31 days, Jan 31 to Feb 28 is 28
    ['cron(0 9 L * ? 2026)', 28, 31],
    // the weekday nearest the 1st, never in another month: Aug 1 is a Saturday (Mon 3rd), Nov 1 a Sunday (Mon 2nd)
    ['cron(0 9 1W * ? 2026)', 28, 33],
    ['cron(0 9 1W 8,11 ? 2026)', 91, 91],
    // the last weekday: May 31 is a Sunday (Fri 29th), Jan 31 a Saturday (Fri 30th)
    ['cron(0 9 LW * ? 2026)', 28, 32],
    ['cron(0 9 LW 5,6 ? 2026)', 32, 32],
    // the weekday nearest the 31st: only in months with 31 days
    ['cron(0 9 31W * ? 2026)', 31, 63],
    // not on June 30 2028 either, though July 1 (where a 31st of June would fall) is a Saturday
    ['cron(0 9 31W 5,6,7 ? 2028)', 61, 61],
    // the last Saturday (L alone in day-of-week), the last Friday
    ['cron(0 9 ? * L 2026)', 28, 35],
    ['cron(0 9 ? * 6L 2026)', 28, 35],
    // the fifth Tuesday: March, June, September, December
    ['cron(0 9 ? * TUE#5 2026)', 91, 91],
    ['cron(0 9 ? * 3#5 2026)', 91, 91],
    ['cron(0 5 ? * MON#1 *)', 28, 35],
  ])('%s fires every %d to %d days', (expression, min, max) => {
    expect(gaps(expression)).toEqual([min * MS_PER_DAY, max * MS_PER_DAY]);
  });

  test('the same expression parsed twice gives the same analysis', () => {
    expect(parseSchedule('cron(0 9 ? * TUE#5 2026)')).toEqual(parseSchedule('cron(0 9 ? * TUE#5 2026)'));
  });
});
