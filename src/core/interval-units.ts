/**
 * How long a DLM retention written in DLM's interval units keeps a snapshot, in days. One rule for
 * the whole library: the checks that compare a retention with something else (the snapshot lock,
 * the Recycle Bin warning) read MONTHS and YEARS here, each at the bound its claim needs.
 */

/**
 * Which end of a calendar unit's range: `shortest` (a 28-day February, a 365-day year) for a
 * claim that must hold however short the retention turns out ("the lock ends before the
 * retention"), `longest` (31-day months, a 366-day leap year) for one that must hold however long
 * it turns out ("the bin holds more than the schedule keeps").
 */
export type CalendarBound = 'shortest' | 'longest';

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Months in the Gregorian calendar's 400-year cycle, after which month lengths repeat. */
const CYCLE_MONTHS = 400 * 12;
/** Days in that cycle (146097). */
const CYCLE_DAYS = 400 * 365 + 97;

/** Days from the cycle's first month to the start of month `m`, for `m` in 0 .. 2 x CYCLE_MONTHS (two cycles, so any window fits). */
const MONTH_STARTS: number[] = (() => {
  const starts = [0];
  for (let m = 0; m < 2 * CYCLE_MONTHS; m++) {
    const year = Math.floor(m / 12) % 400;
    const leap = year % 4 === 0 && (year % 100 !== 0 || year === 0);
    starts.push(starts[m] + MONTH_DAYS[m % 12] + (leap && m % 12 === 1 ? 1 : 0));
  }
  return starts;
})();

/** The fewest or most days `months` consecutive calendar months can span. */
function monthsDays(months: number, bound: CalendarBound): number {
  const cycles = Math.floor(months / CYCLE_MONTHS);
  const rest = months % CYCLE_MONTHS;
  let days = bound === 'shortest' ? Infinity : -Infinity;
  for (let start = 0; start < CYCLE_MONTHS; start++) {
    const span = MONTH_STARTS[start + rest] - MONTH_STARTS[start];
    days = bound === 'shortest' ? Math.min(days, span) : Math.max(days, span);
  }
  return cycles * CYCLE_DAYS + days;
}

/**
 * The days a DLM `Interval` + `IntervalUnit` retention keeps a snapshot (`RetainRule`,
 * `CrossRegionCopyRetainRule`, `RetentionArchiveTier`: DAYS, WEEKS, MONTHS or YEARS, DLM API
 * reference). MONTHS and YEARS are calendar units, so their length depends on when the snapshot
 * was taken: `bound` picks the shortest or the longest span (1 MONTHS is 28 to 31 days, 1 YEARS
 * 365 or 366, 12 MONTHS the same as 1 YEARS).
 *
 * @returns undefined when the interval is not a whole number of at least 1 or the unit is not one
 *   of DLM's retention units (a token, a typo, HOURS): such a retention cannot be compared
 */
export function dlmRetentionDays(interval: unknown, unit: unknown, bound: CalendarBound): number | undefined {
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1) {
    return undefined;
  }
  switch (unit) {
    case 'DAYS':
      return interval;
    case 'WEEKS':
      return interval * 7;
    case 'MONTHS':
      return monthsDays(interval, bound);
    case 'YEARS':
      return monthsDays(interval * 12, bound);
    default:
      return undefined;
  }
}
