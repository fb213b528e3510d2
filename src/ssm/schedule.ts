import { Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { IConstruct } from 'constructs';
import { checkInteger, fail } from '../core/validation';

/**
 * The schedule expression of a maintenance window from an `events.Schedule`.
 *
 * EventBridge and maintenance windows share the 6-field cron (minutes hours day-of-month month
 * day-of-week year) and `rate()`; maintenance windows also take `at()` for one run, but rate only
 * in hours or days ("Reference: Cron and rate expressions for Systems Manager").
 */
export function windowScheduleExpression(scope: IConstruct, property: string, schedule: events.Schedule): string {
  const expression = schedule.expressionString;
  if (Token.isUnresolved(expression)) {
    return expression;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) {
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== 6) {
      fail(scope, property, 'must be a cron expression with 6 fields (minutes hours day-of-month month day-of-week year)', expression);
    }
    if (fields[2] !== '?' && fields[4] !== '?') {
      fail(scope, property, "must use '?' in either day-of-month or day-of-week", expression);
    }
    return expression;
  }
  const rate = /^rate\((\d+) (\w+)\)$/.exec(expression);
  if (rate) {
    const [, value, unit] = rate;
    const n = Number(value);
    if (!['hour', 'hours', 'day', 'days'].includes(unit)) {
      fail(scope, property, 'must be a rate in hours or days for a maintenance window (its duration is at least 1 hour)', expression);
    }
    if (n < 1 || (n === 1) !== !unit.endsWith('s')) {
      fail(scope, property, "must be 'rate(1 hour)', 'rate(1 day)' or a plural unit above 1 such as 'rate(5 hours)'", expression);
    }
    return expression;
  }
  if (/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/.test(expression)) {
    return expression;
  }
  return fail(scope, property, 'must be a cron(...), rate(...) or at(yyyy-mm-ddThh:mm:ss) expression', expression);
}

/** Schedule offset: 1-6 days, with a cron schedule only. */
export function checkScheduleOffset(scope: IConstruct, expression: string, offset: number | undefined): void {
  if (offset === undefined || Token.isUnresolved(offset)) {
    return;
  }
  checkInteger(scope, 'scheduleOffset', offset, 1, 6, 'days');
  if (!Token.isUnresolved(expression) && !expression.startsWith('cron(')) {
    fail(scope, 'scheduleOffset', 'is only allowed with a cron schedule', expression);
  }
}

/** An IANA time zone name (`Europe/Berlin`), as maintenance windows take it. */
export function checkTimeZone(scope: IConstruct, timeZone: string | undefined): void {
  if (timeZone === undefined || Token.isUnresolved(timeZone)) {
    return;
  }
  let valid = /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(timeZone);
  if (valid) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    fail(scope, 'scheduleTimezone', 'must be an IANA time zone such as Europe/Berlin or America/Chicago', timeZone);
  }
}
