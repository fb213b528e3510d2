/**
 * Checks and rendering shared by the custom snapshot and AMI policies: the create rule, the
 * retention, tags and cross-region copy basics. Not exported from the package.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { MS_PER_DAY, MS_PER_HOUR, ParsedSchedule, ScheduleProblem, parseSchedule } from './cron';
import { CrossRegionCopy, DlmScheduleOptions, VariableTagValue } from './schedule';
import { ageMs, retainRule } from './units';
import { mergeTags } from '../core/merge-tags';
import { quantity } from '../core/quantity';
import { Retention } from '../core/retention';
import {
  check, checkCount, checkLength, checkOneOf, checkPattern, checkRegion, checkTags, fail, isUnresolved, reportFactoryProblems,
} from '../core/validation';

/** DLM's allowed `Interval` values for `IntervalUnit: HOURS` (CreateRule). */
export const ALLOWED_RATE_HOURS = [1, 2, 3, 4, 6, 8, 12, 24];

/** At most 45 tags to add and 45 variable tags per schedule (DLM Schedule). */
const MAX_SCHEDULE_TAGS = 45;

/** Schedules: 1 to 4 per policy, names unique and in DLM's character set. */
export function checkSchedules(scope: IConstruct, schedules: readonly DlmScheduleOptions[]): void {
  check(Array.isArray(schedules), scope, 'schedules', 'must be a list of 1 to 4 schedules', schedules);
  checkCount(scope, 'schedules', schedules, 1, 4);
  const seen = new Set<string>();
  schedules.forEach((s, i) => {
    const prop = `schedules[${i}]`;
    check(s !== undefined && s !== null && typeof s === 'object', scope, prop, 'must be a schedule', s);
    check(typeof s.name === 'string', scope, `${prop}.name`, 'must be a string', s.name);
    checkLength(scope, `${prop}.name`, s.name, 1, 120);
    checkPattern(scope, `${prop}.name`, s.name, /^[0-9A-Za-z _-]+$/, 'made of the characters 0-9 A-Z a-z _ - and space');
    check(!seen.has(s.name), scope, `${prop}.name`, 'must be unique in the policy', s.name);
    seen.add(s.name);
    check(s.retain instanceof Retention, scope, `${prop}.retain`, 'must be Retention.count(...) or Retention.age(...)', s.retain);
    reportFactoryProblems(scope, `${prop}.retain`, s.retain);
    check(s.schedule !== undefined && typeof s.schedule?.expressionString === 'string', scope, `${prop}.schedule`,
      'must be an events.Schedule (Schedule.rate() or Schedule.cron())', s.schedule);
  });
}

/** The create rule of a schedule, and the parsed schedule for the frequency rules. */
export function renderCreateRule(
  scope: IConstruct, prop: string, s: DlmScheduleOptions,
): { createRule: dlm.CfnLifecyclePolicy.CreateRuleProperty; parsed?: ParsedSchedule } {
  const expression = s.schedule.expressionString;
  checkPattern(scope, `${prop}.startTime`, s.startTime, /^([01]\d|2[0-3]):[0-5]\d$/, 'a UTC time hh:mm such as 03:00');
  if (Token.isUnresolved(expression)) {
    return { createRule: { cronExpression: expression } };
  }
  const parsed = parseSchedule(expression);
  if (parsed instanceof ScheduleProblem) {
    fail(scope, `${prop}.schedule`, parsed.requirement, expression);
  }
  if (parsed.kind === 'rate') {
    check(ALLOWED_RATE_HOURS.includes(parsed.hours), scope, `${prop}.schedule`,
      `must be a rate of ${ALLOWED_RATE_HOURS.join(', ')} hours (DLM's intervals) or a cron expression`, expression);
    return {
      createRule: { interval: parsed.hours, intervalUnit: 'HOURS', times: s.startTime === undefined ? undefined : [s.startTime] },
      parsed,
    };
  }
  check(s.startTime === undefined, scope, `${prop}.startTime`,
    'must be omitted for a cron schedule (the cron expression sets the time)', s.startTime);
  checkLength(scope, `${prop}.schedule`, expression, 17, 106);
  check(parsed.minGapMs >= MS_PER_HOUR, scope, `${prop}.schedule`,
    'must fire at most once an hour (DLM allows intervals between 1 hour and 1 year)', `${expression} (every ${human(parsed.minGapMs)})`);
  check(parsed.maxGapMs === undefined || parsed.maxGapMs <= 366 * MS_PER_DAY, scope, `${prop}.schedule`,
    'must fire at least once a year (DLM allows intervals between 1 hour and 1 year)', `${expression} (up to ${human(parsed.maxGapMs ?? 0)} apart)`);
  return { createRule: { cronExpression: expression }, parsed };
}

/** The tags to add (user tags plus the library's) and the variable tags of a schedule. */
export function renderScheduleTags(
  scope: IConstruct, prop: string, s: DlmScheduleOptions, library: Record<string, string>, variableTagsAllowed: boolean,
): { tags: Record<string, string>; tagsToAdd: Array<{ key: string; value: string }>; variableTags?: Array<{ key: string; value: string }> } {
  checkTags(scope, `${prop}.tags`, s.tags, MAX_SCHEDULE_TAGS);
  const tags = mergeTags(scope, `${prop}.tags`, s.tags, library);
  const extra = Object.keys(library).length;
  check(Object.keys(tags).length <= MAX_SCHEDULE_TAGS, scope, `${prop}.tags`,
    `must have at most ${MAX_SCHEDULE_TAGS - extra} tags (DLM adds at most ${MAX_SCHEDULE_TAGS}, ${extra} of them the library's)`,
    Object.keys(s.tags ?? {}).length);
  let variableTags: Array<{ key: string; value: string }> | undefined;
  if (s.variableTags !== undefined && !isUnresolved(s.variableTags)) {
    check(variableTagsAllowed, scope, `${prop}.variableTags`,
      'must be omitted for volume targets (DLM fills them from the instance: instance targets and AMI policies only)', s.variableTags);
    checkTags(scope, `${prop}.variableTags`, s.variableTags, MAX_SCHEDULE_TAGS);
    for (const [key, value] of Object.entries(s.variableTags)) {
      checkOneOf(scope, `${prop}.variableTags['${key}']`, value, [VariableTagValue.INSTANCE_ID, VariableTagValue.TIMESTAMP]);
      check(!(key in tags), scope, `${prop}.variableTags key`, 'must not repeat a key of the tags to add', key);
    }
    variableTags = cfnTags(s.variableTags);
  }
  return { tags, tagsToAdd: cfnTags(tags), variableTags };
}

/** A schedule's retain rule. */
export function renderRetain(retain: Retention): dlm.CfnLifecyclePolicy.RetainRuleProperty {
  return retainRule(retain);
}

/**
 * The checks every cross-region copy shares: at most 3, a real and distinct region other than
 * the policy's own, age-based retention, and a key in the target region.
 */
export function checkCopies(scope: IConstruct, prop: string, copies: readonly CrossRegionCopy[] | undefined): void {
  if (copies === undefined) {
    return;
  }
  checkCount(scope, `${prop}.crossRegionCopies`, copies, 0, 3);
  const own = Stack.of(scope).region;
  const seen = new Set<string>();
  copies.forEach((c, i) => {
    const p = `${prop}.crossRegionCopies[${i}]`;
    checkRegion(scope, `${p}.region`, c.region);
    if (!isUnresolved(c.region)) {
      check(Token.isUnresolved(own) || c.region !== own, scope, `${p}.region`, `must differ from the policy's own region ${own}`, c.region);
      check(!seen.has(c.region), scope, `${p}.region`, 'must not repeat another copy\'s region', c.region);
      seen.add(c.region);
    }
    checkCopyRetain(scope, `${p}.retain`, c.retain);
    check(!(c.encrypted === false && c.encryptionKey !== undefined), scope, `${p}.encrypted`,
      'must not be false when an encryptionKey is given', c.encrypted);
    if (c.encryptionKey !== undefined) {
      const keyRegion = c.encryptionKey.env.region;
      check(Token.isUnresolved(keyRegion) || isUnresolved(c.region) || keyRegion === c.region, scope, `${p}.encryptionKey`,
        `must be a key in the copy's region ${c.region} (KMS keys are regional)`, keyRegion);
    }
  });
}

/** Copies (cross-region and event-based) are kept by age only (CrossRegionCopyRetainRule). */
export function checkCopyRetain(scope: IConstruct, prop: string, retain: Retention): void {
  const byAge = 'must be Retention.age(...) (DLM keeps cross-region copies by age only)';
  const fix = 'keep copies by age, e.g. Retention.age(Duration.days(30))';
  if (!(retain instanceof Retention)) {
    // one problem: reading it as a count too would report it twice (while collecting), the second time as a count it is not
    check(false, scope, prop, byAge, retain, fix);
    return;
  }
  reportFactoryProblems(scope, prop, retain);
  // a Retention.age whose factory recorded a problem has no age either: that problem is already reported
  check(retain.maxCount === undefined, scope, prop, byAge, `Retention.count(${retain.maxCount})`, fix);
}

/** The retain rule of a copy. */
export function renderCopyRetain(retain: Retention): dlm.CfnLifecyclePolicy.CrossRegionCopyRetainRuleProperty {
  return { interval: retain.maxAge!.toDays(), intervalUnit: 'DAYS' };
}

/** Age retention in days, undefined for count or tokens. */
export function ageDays(retain: Retention): number | undefined {
  const ms = ageMs(retain);
  return ms === undefined ? undefined : ms / MS_PER_DAY;
}

/** Target tags: 1 to 50, each a valid EC2 tag. */
export function checkTargetTags(scope: IConstruct, prop: string, tags: Record<string, string> | undefined): void {
  check(tags !== undefined && tags !== null && typeof tags === 'object', scope, prop, 'must be a map of 1 to 50 tags', tags);
  if (isUnresolved(tags)) {
    return;
  }
  checkCount(scope, prop, Object.keys(tags!), 1, 50);
  checkTags(scope, prop, tags, 50);
}

/** `{ key, value }` pairs as the L1 takes them. */
export function cfnTags(tags: Record<string, string>): Array<{ key: string; value: string }> {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

function human(ms: number): string {
  if (ms >= MS_PER_DAY) {
    return quantity(+(ms / MS_PER_DAY).toFixed(2), 'day');
  }
  if (ms >= MS_PER_HOUR) {
    return quantity(+(ms / MS_PER_HOUR).toFixed(2), 'hour');
  }
  return quantity(Math.round(ms / 60_000), 'minute');
}

export { human };

/** The `Description` DLM requires: the given one (checked), or one derived from the purpose and path. */
export function policyDescription(scope: Construct, given: string | undefined, kind: string, purpose: string): string {
  if (given !== undefined) {
    checkLength(scope, 'description', given, 1, 500);
    checkPattern(scope, 'description', given, /^[0-9A-Za-z _-]+$/, 'made of the characters 0-9 A-Z a-z _ - and space');
    return given;
  }
  const text = `${kind} for ${Token.isUnresolved(purpose) ? 'backup' : purpose} by cdk-ebs-backup at ${scope.node.path}`;
  return text.replace(/[^0-9A-Za-z _-]/g, '-').slice(0, 500);
}

/** The L1 resource with the properties every policy has, and the id/ARN attributes. */
export function createPolicyResource(
  scope: Construct, props: Omit<dlm.CfnLifecyclePolicyProps, 'state' | 'executionRoleArn'>, role: iam.IRole, enabled: boolean | undefined,
): dlm.CfnLifecyclePolicy {
  return new dlm.CfnLifecyclePolicy(scope, 'Resource', {
    ...props,
    executionRoleArn: role.roleArn,
    state: enabled === false ? 'DISABLED' : 'ENABLED',
  });
}
