import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { Retention } from './retention';

/**
 * The one error this library throws for bad input.
 *
 * The message always has the same shape, so that a user can find the line they wrote:
 * `<construct path>: <property as the user wrote it> <what is wrong>, got <the bad value>`.
 */
export class EbsBackupValidationError extends Error {
  constructor(scope: IConstruct, property: string, requirement: string, got?: unknown) {
    const suffix = got === undefined ? '' : `, got ${describe(got)}`;
    super(`${scope.node.path}: ${property} ${requirement}${suffix}`);
    this.name = 'EbsBackupValidationError';
  }
}

/** Render a bad value for an error message: short, and never `[object Object]`. */
export function describe(value: unknown): string {
  if (value instanceof Duration) {
    return value.toHumanString();
  }
  if (typeof value === 'string') {
    return `'${value}'`;
  }
  if (Array.isArray(value)) {
    return `[${value.map(describe).join(', ')}] (${value.length} items)`;
  }
  if (value !== null && typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** True when the value (or any part of it) is only known at deploy time: never validate it. */
export function isUnresolved(value: unknown): boolean {
  if (value === undefined || value === null) {
    return false;
  }
  if (value instanceof Duration) {
    return value.isUnresolved();
  }
  return Token.isUnresolved(value);
}

/** Throw the library's error. */
export function fail(scope: IConstruct, property: string, requirement: string, got?: unknown): never {
  throw new EbsBackupValidationError(scope, property, requirement, got);
}

/** Require that the condition holds; otherwise throw the library's error. */
export function check(condition: boolean, scope: IConstruct, property: string, requirement: string, got?: unknown): void {
  if (!condition) {
    fail(scope, property, requirement, got);
  }
}

/** An integer in [min, max]; skipped when undefined or a token. */
export function checkInteger(
  scope: IConstruct, property: string, value: number | undefined, min: number, max: number, unit = '',
): void {
  if (value === undefined || isUnresolved(value)) {
    return;
  }
  const u = unit ? ` ${unit}` : '';
  check(Number.isInteger(value) && value >= min && value <= max, scope, property,
    `must be an integer between ${min} and ${max}${u}`, value);
}

/** A duration in [min, max], compared in whole units of `unit`; skipped when undefined or a token. */
export function checkDuration(
  scope: IConstruct, property: string, value: Duration | undefined, min: Duration, max: Duration,
): void {
  if (value === undefined || isUnresolved(value)) {
    return;
  }
  const ms = value.toMilliseconds();
  check(ms >= min.toMilliseconds() && ms <= max.toMilliseconds(), scope, property,
    `must be between ${min.toHumanString()} and ${max.toHumanString()}`, value);
}

/** A duration that is a whole number of days (the unit most AWS backup APIs take). */
export function wholeDays(scope: IConstruct, property: string, value: Duration): number {
  if (isUnresolved(value)) {
    return value.toDays();
  }
  const days = value.toDays({ integral: false });
  check(Number.isInteger(days), scope, property, 'must be a whole number of days', value);
  return days;
}

/** A string matching a pattern; skipped when undefined or a token. */
export function checkPattern(
  scope: IConstruct, property: string, value: string | undefined, pattern: RegExp, allowed: string,
): void {
  if (value === undefined || isUnresolved(value)) {
    return;
  }
  check(pattern.test(value), scope, property, `must be ${allowed}`, value);
}

/** One of a fixed set of values; skipped when undefined or a token. */
export function checkOneOf<T>(scope: IConstruct, property: string, value: T | undefined, allowed: readonly T[]): void {
  if (value === undefined || isUnresolved(value)) {
    return;
  }
  check(allowed.includes(value), scope, property, `must be one of ${allowed.map(describe).join(', ')}`, value);
}

/** A list (or string) whose length is in [min, max]; skipped when a token. */
export function checkCount(
  scope: IConstruct, property: string, value: readonly unknown[] | undefined, min: number, max: number,
): void {
  if (value === undefined || isUnresolved(value)) {
    return;
  }
  const range = min === max ? `exactly ${min}` : min === 0 ? `at most ${max}` : `between ${min} and ${max}`;
  check(value.length >= min && value.length <= max, scope, property, `must have ${range} items`, value);
}

/** A string whose length is in [min, max]; skipped when a token. */
export function checkLength(scope: IConstruct, property: string, value: string | undefined, min: number, max: number): void {
  if (value === undefined || isUnresolved(value)) {
    return;
  }
  check(value.length >= min && value.length <= max, scope, property,
    `must be between ${min} and ${max} characters long`, value);
}

/** A 12-digit AWS account id. */
export function checkAccountId(scope: IConstruct, property: string, value: string | undefined): void {
  checkPattern(scope, property, value, /^\d{12}$/, 'a 12-digit AWS account id');
}

/** An AWS region name such as `eu-west-1` or `us-gov-west-1`. */
export function checkRegion(scope: IConstruct, property: string, value: string | undefined): void {
  checkPattern(scope, property, value, /^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region name such as eu-west-1');
}

/**
 * Resource tags as EC2 and AWS Backup accept them: key 1-128 characters and not starting with
 * `aws:` (reserved), value 0-256 characters, at most `max` pairs.
 */
export function checkTags(scope: IConstruct, property: string, tags: Record<string, string> | undefined, max = 50): void {
  if (tags === undefined || isUnresolved(tags)) {
    return;
  }
  const keys = Object.keys(tags);
  check(keys.length <= max, scope, property, `must have at most ${max} tags`, keys.length);
  for (const key of keys) {
    if (isUnresolved(key)) {
      continue;
    }
    checkLength(scope, `${property} key`, key, 1, 128);
    check(!key.toLowerCase().startsWith('aws:'), scope, `${property} key`, "must not start with 'aws:' (reserved by AWS)", key);
    checkLength(scope, `${property}['${key}']`, tags[key], 0, 256);
  }
}

/** A warning for a legal but risky choice, acknowledgeable by its id. */
export function warn(scope: IConstruct, id: string, message: string): void {
  Annotations.of(scope).addWarningV2(`cdk-ebs-backup:${id}`, message);
}

/**
 * The age of a retention that the service keeps by age only (AWS Backup's `DeleteAfterDays`, a
 * Recycle Bin rule, a DLM default policy): `Retention.count(...)` fails with the library's error,
 * naming the prop, the value and the fix.
 */
export function retentionAge(scope: IConstruct, property: string, retain: Retention, why: string): Duration {
  check(retain instanceof Retention, scope, property, 'must be Retention.age(Duration.days(n))', retain);
  check(retain.maxAge !== undefined, scope, property,
    `must be Retention.age(Duration.days(n)), not a count: ${why}`, retain.toTagValue());
  return retain.maxAge!;
}
