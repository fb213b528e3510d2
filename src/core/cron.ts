/**
 * What a DLM create rule can be built from an `events.Schedule`: DLM accepts the EventBridge
 * 6-field cron syntax (`cron(0 4 * * ? *)`) or an interval in hours from a fixed set. The rules
 * that depend on how often a cron fires (between 1 hour and 1 year; at most every 28 days when
 * archiving) need the actual firing times, so a cron is expanded over a window of years and the
 * smallest and largest gaps between firings are measured.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A schedule, as DLM's create rule takes it. */
export type ParsedSchedule =
  | { readonly kind: 'rate'; readonly hours: number; readonly expression: string }
  | { readonly kind: 'cron'; readonly expression: string; readonly minGapMs: number; readonly maxGapMs: number | undefined };

/** The problem with a schedule expression, phrased for `<prop> must be ..., got ...`. */
export class ScheduleProblem {
  constructor(public readonly requirement: string) {}
}

const cache = new Map<string, ParsedSchedule | ScheduleProblem>();

/** Parse an EventBridge schedule expression (`rate(...)` or `cron(...)`) for DLM. */
export function parseSchedule(expression: string): ParsedSchedule | ScheduleProblem {
  let result = cache.get(expression);
  if (!result) {
    result = parseUncached(expression.trim());
    cache.set(expression, result);
  }
  return result;
}

function parseUncached(expression: string): ParsedSchedule | ScheduleProblem {
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2];
    const hours = unit.startsWith('minute') ? n / 60 : unit.startsWith('hour') ? n : n * 24;
    return { kind: 'rate', hours, expression };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) {
    return new ScheduleProblem('must be a rate(...) or cron(...) expression');
  }
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) {
    return new ScheduleProblem('must be a cron expression with 6 fields (minutes hours day-of-month month day-of-week year)');
  }
  try {
    return analyseCron(expression, fields);
  } catch (e) {
    if (e instanceof ScheduleProblem) {
      return e;
    }
    throw e;
  }
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Expand a plain field (`*`, `a-b`, `a/n`, `a,b`, names) into the set of values it matches. */
function expand(field: string, min: number, max: number, what: string, names: string[] = [], nameBase = 1): Set<number> {
  const out = new Set<number>();
  const value = (token: string): number => {
    const upper = token.toUpperCase();
    const named = names.indexOf(upper);
    const n = named >= 0 ? named + nameBase : /^\d+$/.test(token) ? Number(token) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ScheduleProblem(`must have a ${what} field with values between ${min} and ${max}`);
    }
    return n;
  };
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) {
      throw new ScheduleProblem(`must have a ${what} field with a positive step`);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      [from, to] = [min, max];
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      [from, to] = [value(a), value(b)];
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    if (from > to) {
      throw new ScheduleProblem(`must have a ${what} field whose ranges run from low to high`);
    }
    for (let v = from; v <= to; v += step) {
      out.add(v);
    }
  }
  return out;
}

type DayMatcher = (year: number, month: number, day: number, weekday: number, daysInMonth: number) => boolean;

function dayOfMonthMatcher(field: string): DayMatcher {
  if (field === '?') {
    return () => true;
  }
  if (field === 'L') {
    return (_y, _m, d, _w, dim) => d === dim;
  }
  if (field === 'LW') {
    return (y, m, d, _w, dim) => d === nearestWeekday(y, m, dim, dim);
  }
  const w = /^(\d+)W$/.exec(field);
  if (w) {
    const target = Number(w[1]);
    if (target < 1 || target > 31) {
      throw new ScheduleProblem('must have a day-of-month field with values between 1 and 31');
    }
    return (y, m, d, _w, dim) => target <= dim && d === nearestWeekday(y, m, target, dim);
  }
  const days = expand(field, 1, 31, 'day-of-month');
  return (_y, _m, d) => days.has(d);
}

function nearestWeekday(year: number, month: number, day: number, daysInMonth: number): number {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  if (weekday === 6) {
    return day === 1 ? 3 : day - 1;
  }
  if (weekday === 0) {
    return day === daysInMonth ? day - 2 : day + 1;
  }
  return day;
}

function dayOfWeekMatcher(field: string): DayMatcher {
  if (field === '?') {
    return () => true;
  }
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) {
    const wd = [...expand(nth[1], 1, 7, 'day-of-week', WEEKDAYS)][0] - 1;
    const n = Number(nth[2]);
    return (_y, _m, d, weekday) => weekday === wd && Math.ceil(d / 7) === n;
  }
  const last = /^(\w*)L$/.exec(field);
  if (last) {
    const wd = last[1] === '' ? 6 : [...expand(last[1], 1, 7, 'day-of-week', WEEKDAYS)][0] - 1;
    return (_y, _m, d, weekday, dim) => weekday === wd && d + 7 > dim;
  }
  const days = new Set([...expand(field, 1, 7, 'day-of-week', WEEKDAYS)].map((v) => v - 1));
  return (_y, _m, _d, weekday) => days.has(weekday);
}

/** The first year of the window over which a `*` year field is expanded (a fixed, leap-cycle-covering window). */
const WINDOW_START = 2026;
const WINDOW_YEARS = 8;

function analyseCron(expression: string, fields: string[]): ParsedSchedule {
  const [minF, hourF, domF, monF, dowF, yearF] = fields;
  if ((domF === '?') === (dowF === '?')) {
    throw new ScheduleProblem("must have '?' in exactly one of the day-of-month and day-of-week fields");
  }
  const minutes = [...expand(minF, 0, 59, 'minutes')].sort((a, b) => a - b);
  const hours = [...expand(hourF, 0, 23, 'hours')].sort((a, b) => a - b);
  const months = [...expand(monF, 1, 12, 'month', MONTHS)].sort((a, b) => a - b);
  const years = yearF === '*'
    ? Array.from({ length: WINDOW_YEARS }, (_, i) => WINDOW_START + i)
    : [...expand(yearF, 1970, 2199, 'year')].sort((a, b) => a - b);
  const dom = dayOfMonthMatcher(domF);
  const dow = dayOfWeekMatcher(dowF);

  // Within a day, the smallest gap is between consecutive (hour, minute) pairs.
  const timesOfDay: number[] = [];
  for (const h of hours) {
    for (const m of minutes) {
      timesOfDay.push(h * HOUR_MS + m * 60_000);
    }
  }
  let previous: number | undefined;
  let minGap = Infinity;
  let maxGap = 0;
  for (const year of years) {
    for (const month of months) {
      const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
      for (let day = 1; day <= daysInMonth; day++) {
        const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
        if (!dom(year, month, day, weekday, daysInMonth) || !dow(year, month, day, weekday, daysInMonth)) {
          continue;
        }
        const midnight = Date.UTC(year, month - 1, day);
        for (const t of timesOfDay) {
          const at = midnight + t;
          if (previous !== undefined) {
            minGap = Math.min(minGap, at - previous);
            maxGap = Math.max(maxGap, at - previous);
          }
          previous = at;
        }
      }
    }
  }
  if (previous === undefined) {
    throw new ScheduleProblem('must fire at least once');
  }
  return {
    kind: 'cron',
    expression,
    minGapMs: minGap,
    maxGapMs: minGap === Infinity ? undefined : maxGap,
  };
}

/** The smallest interval between two snapshots, in milliseconds. */
export function minimumIntervalMs(schedule: ParsedSchedule): number {
  return schedule.kind === 'rate' ? schedule.hours * HOUR_MS : schedule.minGapMs;
}

export const MS_PER_DAY = DAY_MS;
export const MS_PER_HOUR = HOUR_MS;
