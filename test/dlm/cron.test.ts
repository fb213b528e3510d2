import { MS_PER_DAY, MS_PER_HOUR, ScheduleProblem, minimumIntervalMs, parseSchedule } from '../../src/dlm/cron';

describe('schedule analysis', () => {
  test.each([
    ['rate(12 hours)', 12 * MS_PER_HOUR],
    ['rate(1 day)', 24 * MS_PER_HOUR],
    ['cron(0 4 * * ? *)', MS_PER_DAY],
    ['cron(0 0/6 * * ? *)', 6 * MS_PER_HOUR],
    ['cron(30 1 ? * MON-FRI *)', MS_PER_DAY],
    ['cron(0 2 ? * SUN *)', 7 * MS_PER_DAY],
    ['cron(0 5 1 * ? *)', 28 * MS_PER_DAY],
    ['cron(0 5 L * ? *)', 28 * MS_PER_DAY],
    ['cron(0 5 ? * MON#1 *)', 28 * MS_PER_DAY],
    ['cron(0 5 ? * 6L *)', 28 * MS_PER_DAY],
    ['cron(0 5 1 1,7 ? *)', 181 * MS_PER_DAY],
    ['cron(0 0 1 1 ? *)', 365 * MS_PER_DAY],
  ])('%s fires at most every %d ms', (expression, gap) => {
    const parsed = parseSchedule(expression);
    expect(parsed).not.toBeInstanceOf(ScheduleProblem);
    expect(minimumIntervalMs(parsed as any)).toEqual(gap);
  });

  test('a quarterly schedule on the 15th weekday-adjusted fires roughly every 3 months', () => {
    const parsed = parseSchedule('cron(0 3 15W 1/3 ? *)') as any;
    expect(parsed.minGapMs).toBeGreaterThan(85 * MS_PER_DAY);
    expect(parsed.maxGapMs).toBeLessThan(95 * MS_PER_DAY);
  });

  test.each([
    ['cron(0 4 31 2 ? *)', 'must fire at least once'],
    ['cron(61 4 * * ? *)', 'must have a minutes field with values between 0 and 59'],
    ['cron(0 4 * FOO ? *)', 'must have a month field'],
    ['every day', 'must be a rate(...) or cron(...) expression'],
  ])('%s is rejected', (expression, requirement) => {
    const parsed = parseSchedule(expression);
    expect(parsed).toBeInstanceOf(ScheduleProblem);
    expect((parsed as ScheduleProblem).requirement).toContain(requirement);
  });
});
