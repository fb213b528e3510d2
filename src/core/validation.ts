import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { Retention } from './retention';

/**
 * The one error this library throws for bad input.
 *
 * The message always has the same shape, so that a user can find the line they wrote:
 * `<construct path>: <property as the user wrote it> <what is wrong>, got <the bad value>`, then
 * `; <how to fix it>` where the requirement alone does not say it. When a construct has more than
 * one problem, the message lists every one of them, one a line (see `collectProblems`).
 */
export class EbsBackupValidationError extends Error {
  /** Several problems of one construct in one error. */
  public static of(scope: IConstruct, problems: string[]): EbsBackupValidationError {
    const error = new EbsBackupValidationError(scope, '', '');
    error.problems.splice(0, error.problems.length, ...problems);
    error.message = problems.length === 1 ? problems[0] :
      `${scope.node.path}: ${problems.length} problems\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    return error;
  }

  /** One line per problem, each `<construct path>: <property> ...`. */
  public readonly problems: string[];

  constructor(scope: IConstruct, property: string, requirement: string, got?: unknown, fix?: string) {
    const line = problemLine(scope, property, requirement, got, fix);
    super(line);
    this.name = 'EbsBackupValidationError';
    this.problems = [line];
  }
}

/** One problem as the library reports it, for validations that return their problems (`node.addValidation`). */
export function problemLine(scope: IConstruct, property: string, requirement: string, got?: unknown, fix?: string): string {
  const suffix = got === undefined ? '' : `, got ${describe(got)}`;
  return `${scope.node.path}: ${property} ${requirement}${suffix}${fix ? `; ${fix}` : ''}`;
}

/**
 * What is wrong with the arguments of a static factory (`Retention.count(0)`,
 * `BackupTier.silver({ name: 'my tier' })`). A factory does not know where its value goes, so it
 * records the problem in the value and the construct that consumes the value reports it with its
 * path and the prop the user wrote (`reportFactoryProblems`).
 */
export class FactoryProblem {
  constructor(
    /** The factory as the user called it: `Retention.count`. */
    public readonly factory: string,
    /** The argument and what it must be: `count must be an integer between 1 and 1000`. */
    public readonly requirement: string,
    /** The value the user passed. */
    public readonly got?: unknown,
    /** How to fix it, where the requirement does not say it. */
    public readonly fix?: string,
  ) {}

  /** The problem as an error, for a value that no construct consumed. */
  public toError(): Error {
    const suffix = this.got === undefined ? '' : `, got ${describe(this.got)}`;
    return new Error(`${this.factory}: ${this.requirement}${suffix}${this.fix ? `; ${this.fix}` : ''}`);
  }
}

/**
 * The problem of a factory's duration argument that must be a whole number of `unit` in
 * [min, max] (a lock of 1-36500 days, a cool-off of 1-72 hours), or undefined when it is one or a
 * token.
 */
export function wholeDurationProblem(
  factory: string, argument: string, value: Duration, unit: 'days' | 'hours', min: number, max: number, why = '',
): FactoryProblem | undefined {
  if (!(value instanceof Duration)) {
    return new FactoryProblem(factory, `${argument} must be a Duration`, value, `pass Duration.${unit}(n)`);
  }
  if (value.isUnresolved()) {
    return undefined;
  }
  const n = unit === 'days' ? value.toDays({ integral: false }) : value.toHours({ integral: false });
  if (Number.isInteger(n) && n >= min && n <= max) {
    return undefined;
  }
  return new FactoryProblem(factory, `${argument} must be a whole number of ${unit} between ${min} and ${max}${why}`, value,
    `pass Duration.${unit}(n) with ${min} <= n <= ${max}`);
}

/** The problems among `maybe` (a factory's list of checks, each a problem or undefined). */
export function present(maybe: Array<FactoryProblem | undefined>): FactoryProblem[] {
  return maybe.filter((p): p is FactoryProblem => p !== undefined);
}

const FACTORY_PROBLEMS = Symbol.for('cdk-ebs-backup.factoryProblems');

/** Record the problems of a factory's arguments in the value it returns. */
export function recordFactoryProblems<T extends object>(value: T, problems: FactoryProblem[]): T {
  if (problems.length > 0) {
    Object.defineProperty(value, FACTORY_PROBLEMS, { value: problems, enumerable: false });
  }
  return value;
}

/** The problems a factory recorded in `value`. */
export function factoryProblems(value: unknown): FactoryProblem[] {
  if (value === null || typeof value !== 'object') {
    return [];
  }
  return (value as { [FACTORY_PROBLEMS]?: FactoryProblem[] })[FACTORY_PROBLEMS] ?? [];
}

/**
 * Throw the first problem a factory recorded in `value`, for a value whose method the user calls
 * directly, outside any construct (`Retention.count(0).toTagValue()`).
 */
export function throwFactoryProblems(value: unknown): void {
  const problem = factoryProblems(value)[0];
  if (problem !== undefined) {
    throw problem.toError();
  }
}

/**
 * Report the problems recorded by the factory that made `value`, as problems of `scope`'s
 * `property`: `Db/Snapshots: schedules[0].retain Retention.count(0): count must be ..., got 0`.
 */
export function reportFactoryProblems(scope: IConstruct, property: string, value: unknown): void {
  const collector = collectorOf(scope);
  const seen = collector === undefined ? new Set<FactoryProblem>() : reported.get(collector) ?? new Set<FactoryProblem>();
  if (collector !== undefined) {
    reported.set(collector, seen);
  }
  for (const p of factoryProblems(value)) {
    if (!seen.has(p)) {
      seen.add(p);
      check(false, scope, property, `${p.factory}(...): ${p.requirement}`, p.got, p.fix);
    }
  }
}

/** The factory problems each collection reported, so a value used twice is reported once, where first used. */
const reported = new WeakMap<string[], Set<FactoryProblem>>();

/** The collectors in force, per construct (see `collectProblems`). */
const collectors = new WeakMap<IConstruct, string[]>();

/**
 * Run a construct's validation and rendering so that every problem of the construct is reported
 * at once: `check()` records a failed requirement and goes on, `fail()` (a problem after which
 * nothing sensible can follow) stops. Either way one `EbsBackupValidationError` lists every
 * problem found. An unexpected error after a recorded problem is taken as its consequence.
 */
export function collectProblems<T>(scope: IConstruct, fn: () => T): T {
  if (collectors.has(scope)) {
    return fn();
  }
  const problems: string[] = [];
  collectors.set(scope, problems);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    if (e instanceof EbsBackupValidationError) {
      for (const p of e.problems) {
        if (!problems.includes(p)) {
          problems.push(p);
        }
      }
    } else if (problems.length === 0) {
      throw e;
    }
  } finally {
    collectors.delete(scope);
  }
  if (problems.length > 0) {
    throw EbsBackupValidationError.of(scope, problems);
  }
  return result!;
}

/** The value to pass as `got` for a token: messages say `got a token`. */
export const A_TOKEN: unknown = Object.freeze({ token: true });

/** Render a bad value for an error message: short, and never `[object Object]`. */
export function describe(value: unknown): string {
  if (value === A_TOKEN) {
    return 'a token';
  }
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
  // Token.isUnresolved answers false for undefined and null
  if (value instanceof Duration) {
    return value.isUnresolved();
  }
  return Token.isUnresolved(value);
}

/**
 * Within `collectProblems`, run one independent part (one schedule, one rule) so that a problem in
 * it does not hide the problems of the next: its problems are recorded and `undefined` returned.
 * Outside a collection it simply runs `fn`.
 */
export function attempt<T>(scope: IConstruct, fn: () => T): T | undefined {
  const collected = collectorOf(scope);
  if (collected === undefined) {
    return fn();
  }
  try {
    return fn();
  } catch (e) {
    if (e instanceof EbsBackupValidationError) {
      e.problems.filter((p) => !collected.includes(p)).forEach((p) => collected.push(p));
      return undefined;
    }
    if (collected.length > 0) {
      return undefined; // a consequence of a problem already recorded
    }
    throw e;
  }
}

/**
 * Throw the library's error for one problem after which nothing sensible can follow. Inside
 * `collectProblems` it ends the collection, which reports it after the problems already collected.
 */
export function fail(scope: IConstruct, property: string, requirement: string, got?: unknown, fix?: string): never {
  throw new EbsBackupValidationError(scope, property, requirement, got, fix);
}

/**
 * Require that the condition holds. Otherwise throw the library's error, or, while the construct
 * collects its problems (`collectProblems`), record it and go on.
 */
export function check(
  condition: boolean, scope: IConstruct, property: string, requirement: string, got?: unknown, fix?: string,
): void {
  if (condition) {
    return;
  }
  const collected = collectorOf(scope);
  if (collected === undefined) {
    fail(scope, property, requirement, got, fix);
  }
  const line = problemLine(scope, property, requirement, got, fix);
  if (!collected.includes(line)) {
    collected.push(line);
  }
}

/** The collector of `scope`, or of the nearest construct above it that collects. */
function collectorOf(scope: IConstruct): string[] | undefined {
  for (let s: IConstruct | undefined = scope; s !== undefined; s = s.node.scope) {
    const c = collectors.get(s);
    if (c !== undefined) {
      return c;
    }
  }
  return undefined;
}

/**
 * A retention (`Retention.count(n)` / `Retention.age(d)`) that the construct compares or embeds in
 * an expression at synthesis: its factory's problems, and a count or age known at synthesis.
 */
export function checkRetentionKnown(scope: IConstruct, property: string, retention: { maxCount?: number; maxAge?: Duration }): void {
  reportFactoryProblems(scope, property, retention);
  checkResolved(scope, property, retention.maxCount ?? retention.maxAge, 'the expiry expression compares every snapshot with it',
    'pass a number (Retention.count(14)) or a duration (Retention.age(Duration.days(14))) known at synthesis, not a parameter');
}

/**
 * Require a value the library renders into a tag or compares in a check to be known at
 * synthesis: a token there is an explicit error naming the prop and the fix, never a silent
 * degradation.
 */
export function checkResolved(scope: IConstruct, property: string, value: unknown, use: string, fix: string): void {
  check(!isUnresolved(value), scope, property, `must be known at synthesis (${use})`, A_TOKEN, fix);
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
  // two to four letters first: eu-west-1, us-gov-west-1, us-isob-east-1, and the European
  // Sovereign Cloud's eusc-de-east-1 (aws-cdk-lib's region-info lists it, partition aws-eusc)
  checkPattern(scope, property, value, /^[a-z]{2,4}(-[a-z]+)+-\d$/, 'an AWS region name such as eu-west-1');
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
    checkTagKey(scope, `${property} key`, key);
    checkLength(scope, `${property}['${key}']`, tags[key], 0, 256);
  }
}

/**
 * Whether AWS reserves the tag key: `aws:` in any case ("Tag naming limits and requirements",
 * Tagging AWS Resources: "Don't use aws:, AWS:, or any upper or lowercase combination of such as a
 * prefix for either keys or values"). The one place for the rule: every tag key check of the
 * library comes here.
 */
export function isReservedTagKey(key: string): boolean {
  return key.toLowerCase().startsWith('aws:');
}

/** The characters "Tag naming limits and requirements" allows in keys and values across services. */
export const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * A tag key as AWS accepts it: 1 to 128 characters, not reserved (`isReservedTagKey`); with
 * `portable`, also only the characters every service accepts (a key that tags more than EC2
 * resources: the library's own keys, the baseline's tier key). Skipped for a token.
 */
export function checkTagKey(scope: IConstruct, property: string, key: string, portable = false): void {
  if (isUnresolved(key)) {
    return;
  }
  checkLength(scope, property, key, 1, 128);
  check(!isReservedTagKey(key), scope, property, "must not start with 'aws:' (reserved by AWS)", key);
  if (portable) {
    checkPattern(scope, property, key, TAG_CHARACTERS, 'a tag key of letters, digits, spaces and _ . : / = + - @');
  }
}

/**
 * A warning for a legal but risky choice, acknowledgeable by its id. Every warning of the library
 * goes through here, so that its id follows one scheme: `cdk-ebs-backup:<family>:<name>`
 * (acknowledged as `Annotation::cdk-ebs-backup:<family>:<name>`), listed in the README's table of
 * warnings.
 *
 * @param id `<family>:<name>`, e.g. `backup:compliance-lock`
 */
export function warn(scope: IConstruct, id: string, message: string): void {
  if (!WARNING_ID.test(id)) {
    throw new Error(`warning id '${id}' must be <family>:<name> with family one of ${WARNING_FAMILIES.join(', ')} and a kebab-case name`);
  }
  Annotations.of(scope).addWarningV2(`${WARNING_ID_PREFIX}${id}`, message);
}

/** The families a warning id may name (the folders of src/). */
export const WARNING_FAMILIES = ['core', 'dlm', 'backup', 'ssm', 'worm', 'orchestration', 'restore', 'checks', 'runbooks', 'baseline'];

/** The prefix of every warning id. */
export const WARNING_ID_PREFIX = 'cdk-ebs-backup:';

const WARNING_ID = new RegExp(`^(${WARNING_FAMILIES.join('|')}):[a-z0-9]+(-[a-z0-9]+)*$`);

/** The full id to acknowledge a warning with: `Annotation::cdk-ebs-backup:<family>:<name>`. */
export function warningAcknowledgementId(id: string): string {
  return `Annotation::${WARNING_ID_PREFIX}${id}`;
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
