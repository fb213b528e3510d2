/**
 * DLM's retention units in days (`RetainRule`, `CrossRegionCopyRetainRule`: `Interval` with
 * `IntervalUnit` DAYS, WEEKS, MONTHS or YEARS, DLM API reference). MONTHS and YEARS are calendar
 * units: how many days they keep a snapshot depends on the month it was taken in. The expected
 * spans are computed apart, with JavaScript's own Gregorian calendar (`Date.UTC`), over every
 * start month of the 400 years 2000-2399 (after which the calendar repeats).
 */
import { dlmRetentionDays } from '../../src/core/interval-units';

const DAY_MS = 86_400_000;

/** The fewest and most days `months` calendar months span, from any first of a month in 2000-2399. */
function calendarSpan(months: number): [number, number] {
  let shortest = Infinity;
  let longest = -Infinity;
  for (let start = 0; start < 4800; start++) {
    const year = 2000 + Math.floor(start / 12);
    const days = (Date.UTC(year, start % 12 + months, 1) - Date.UTC(year, start % 12, 1)) / DAY_MS;
    shortest = Math.min(shortest, days);
    longest = Math.max(longest, days);
  }
  return [shortest, longest];
}

describe('dlmRetentionDays', () => {
  test('DAYS and WEEKS are fixed lengths, whichever bound is asked', () => {
    for (const bound of ['shortest', 'longest'] as const) {
      expect(dlmRetentionDays(1, 'DAYS', bound)).toBe(1);
      expect(dlmRetentionDays(36500, 'DAYS', bound)).toBe(36500);
      expect(dlmRetentionDays(2, 'WEEKS', bound)).toBe(14);
    }
  });

  test('1 MONTHS is 28 days at the shortest (February) and 31 at the longest', () => {
    expect(dlmRetentionDays(1, 'MONTHS', 'shortest')).toBe(28);
    expect(dlmRetentionDays(1, 'MONTHS', 'longest')).toBe(31);
  });

  test('1 YEARS is 365 or 366 days (a leap year), the same as 12 MONTHS', () => {
    expect(dlmRetentionDays(1, 'YEARS', 'shortest')).toBe(365);
    expect(dlmRetentionDays(1, 'YEARS', 'longest')).toBe(366);
    expect(dlmRetentionDays(12, 'MONTHS', 'shortest')).toBe(365);
    expect(dlmRetentionDays(12, 'MONTHS', 'longest')).toBe(366);
  });

  test.each([1, 2, 3, 5, 6, 7, 11, 12, 13, 24, 47, 48, 49, 1199, 1200])('%i MONTHS spans what the calendar spans', (months) => {
    const [shortest, longest] = calendarSpan(months);
    expect([dlmRetentionDays(months, 'MONTHS', 'shortest'), dlmRetentionDays(months, 'MONTHS', 'longest')]).toEqual([shortest, longest]);
  });

  // 200 and 300 years can hold two and three of the century years that are not leap years (2100, 2200, 2300)
  test.each([1, 3, 4, 5, 99, 100, 200, 300])('%i YEARS spans what the calendar spans, counting the leap days in it', (years) => {
    const [shortest, longest] = calendarSpan(years * 12);
    expect([dlmRetentionDays(years, 'YEARS', 'shortest'), dlmRetentionDays(years, 'YEARS', 'longest')]).toEqual([shortest, longest]);
  });

  test('a retention longer than the 400-year cycle adds whole cycles (146097 days each)', () => {
    expect(dlmRetentionDays(401, 'YEARS', 'shortest')).toBe(146097 + 365);
    expect(dlmRetentionDays(4801, 'MONTHS', 'longest')).toBe(146097 + 31);
  });

  test.each<[string, unknown, unknown]>([
    ['a token interval', -1.8881545897087626e+289, 'DAYS'],
    ['an interval of 0', 0, 'MONTHS'],
    ['a fractional interval', 1.5, 'MONTHS'],
    ['an interval that is no number', '3', 'DAYS'],
    ['HOURS (a create unit, not a retention unit)', 24, 'HOURS'],
    ['a lower-case unit', 1, 'months'],
    ['no unit', 1, undefined],
  ])('%s cannot be compared: undefined', (_name, interval, unit) => {
    expect(dlmRetentionDays(interval, unit, 'shortest')).toBeUndefined();
    expect(dlmRetentionDays(interval, unit, 'longest')).toBeUndefined();
  });
});
