import { Duration } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { Retention } from '../core/retention';
import { check, isUnresolved, wholeDays } from '../core/validation';

/** DLM's interval shape: `Interval` + `IntervalUnit` (DAYS, WEEKS, MONTHS or YEARS). */
export interface DlmInterval {
  readonly interval: number;
  readonly intervalUnit: string;
}

/**
 * A `Duration` as a DLM interval. Always `DAYS`: a `Duration` is a number of days exactly, while
 * DLM's MONTHS and YEARS are calendar units, so converting to them would change the period
 * (365 days is not 1 YEARS in a leap year). DLM accepts up to 36500 DAYS, the same 100 years
 * as 1200 MONTHS or 100 YEARS, so no range is lost.
 */
export function dlmInterval(scope: IConstruct, property: string, value: Duration, minDays: number, maxDays: number): DlmInterval {
  const days = wholeDays(scope, property, value);
  if (!isUnresolved(value)) {
    check(days >= minDays && days <= maxDays, scope, property,
      `must be a whole number of days between ${minDays} and ${maxDays}`, value);
  }
  return { interval: days, intervalUnit: 'DAYS' };
}

/** A retention as DLM's `RetainRule`: `Count`, or `Interval` + `IntervalUnit: DAYS`. */
export function retainRule(retention: Retention): { count?: number; interval?: number; intervalUnit?: string } {
  if (retention.maxCount !== undefined) {
    return { count: retention.maxCount };
  }
  return { interval: retention.maxAge!.toDays(), intervalUnit: 'DAYS' };
}

/** The retention period in milliseconds, for comparisons (undefined for count or tokens). */
export function ageMs(retention: Retention): number | undefined {
  if (retention.maxAge === undefined || isUnresolved(retention.maxAge)) {
    return undefined;
  }
  return retention.maxAge.toMilliseconds();
}
