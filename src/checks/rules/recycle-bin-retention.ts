import { dlmRetentionDays } from '../../core/interval-units';
import { describeTags, tagsOf, TemplateResource } from '../model';
import { defineRule, NOT_APPLICABLE, verdictOf } from '../rule';

/**
 * A Recycle Bin rule for EBS snapshots keeps every snapshot a DLM schedule deletes for its whole
 * retention. When the schedule deletes more often than the bin forgets, the bin holds more expired
 * snapshots (billed like live ones) than the schedule keeps: a cost nobody planned and a retention
 * figure that no longer matches the policy.
 */
export const RecycleBinRetention = defineRule('RecycleBinRetention', 'AWS::Rbin::Rule', {
  summary: 'a Recycle Bin rule does not hold more expired snapshots of a schedule than the schedule keeps',
  fix: "shorten the Recycle Bin retention, or exclude the policy's snapshots from the rule by tag",
  severity: 'warning',
}, (resource, { app }) => {
  if (resource.properties.ResourceType !== 'EBS_SNAPSHOT') {
    return NOT_APPLICABLE;
  }
  const binDays = resource.properties.RetentionPeriod?.RetentionPeriodValue;
  if (typeof binDays !== 'number') {
    return NOT_APPLICABLE;
  }
  const include = tagsOf(resource.properties.ResourceTags, 'ResourceTagKey', 'ResourceTagValue');
  const exclude = tagsOf(resource.properties.ExcludeResourceTags, 'ResourceTagKey', 'ResourceTagValue');
  const problems: string[] = [];
  for (const policy of app.resources('AWS::DLM::LifecyclePolicy')) {
    for (const schedule of schedulesOf(policy)) {
      const tags = schedule.tags;
      const inBin = Object.keys(include).length === 0
        ? !Object.entries(exclude).some(([k, v]) => tags[k] === v)
        : Object.entries(include).some(([k, v]) => tags[k] === v);
      if (!inBin) {
        continue;
      }
      // the fewest deletions the bin's retention spans: its snapshots are deleted at most this far apart
      const held = Math.floor((binDays * 24) / schedule.interval.longest);
      if (held > schedule.liveCount) {
        const gap = schedule.interval.shortest === schedule.interval.longest
          ? `${schedule.interval.longest} hours` : `${schedule.interval.shortest} to ${schedule.interval.longest} hours (a calendar month)`;
        problems.push(
          `schedule '${schedule.name}' of DLM policy ${policy.path} deletes a snapshot every ${gap}, ` +
          `so at least ${held} expired snapshots stay billed in the bin beside the ${schedule.liveCount} it keeps (snapshot tags: ${describeTags(tags)})`,
        );
      }
    }
  }
  return verdictOf(problems, (all) =>
    `Recycle Bin rule ${resource.path} keeps every deleted EBS snapshot for ${binDays} days: ${all}; ` +
    'shorten the retention to what the schedule keeps, or exclude the policy\'s snapshots from the rule by tag',
  'Properties/RetentionPeriod');
});

interface ScheduleFacts {
  readonly name: string;
  readonly interval: CreationInterval;
  /** The most snapshots the schedule keeps. */
  readonly liveCount: number;
  /** The tags the schedule's snapshots carry (added tags, and the targets' tags when copied). */
  readonly tags: Record<string, string>;
}

function schedulesOf(policy: TemplateResource): ScheduleFacts[] {
  const details = policy.properties.PolicyDetails ?? {};
  if (policy.properties.State === 'DISABLED' || (details.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT') !== 'EBS_SNAPSHOT_MANAGEMENT') {
    return [];
  }
  const facts: ScheduleFacts[] = [];
  (Array.isArray(details.Schedules) ? details.Schedules : []).forEach((s: any, i: number) => {
    const interval = creationInterval(s?.CreateRule);
    const retain = s?.RetainRule ?? {};
    // the most a calendar retention keeps (1 MONTHS: 31 days, at the shortest interval): the warning
    // says the bin holds more than that
    const retainDays = dlmRetentionDays(retain.Interval, retain.IntervalUnit, 'longest');
    const liveCount = typeof retain.Count === 'number' ? retain.Count
      : retainDays !== undefined && interval ? Math.floor((retainDays * 24) / interval.shortest) : undefined;
    if (interval === undefined || liveCount === undefined) {
      return;
    }
    const copied = s?.CopyTags === true ? tagsOf(details.TargetTags) : {};
    facts.push({ name: typeof s?.Name === 'string' ? s.Name : `#${i}`, interval, liveCount, tags: { ...copied, ...tagsOf(s?.TagsToAdd) } });
  });
  return facts;
}

/** The hours between two snapshots of a schedule: one figure, or a range for a calendar month. */
interface CreationInterval {
  readonly shortest: number;
  readonly longest: number;
}

const every = (hours: number): CreationInterval => ({ shortest: hours, longest: hours });

/**
 * Hours between snapshots of an interval rule, or of a daily, weekly or monthly cron (a monthly one
 * on day 1 to 28: 28 to 31 days apart; a later day is skipped in shorter months); undefined otherwise.
 */
export function creationInterval(rule: any): CreationInterval | undefined {
  if (typeof rule?.Interval === 'number' && (rule.IntervalUnit ?? 'HOURS') === 'HOURS') {
    return every(rule.Interval);
  }
  const cron = typeof rule?.CronExpression === 'string' ? /^cron\((.*)\)$/.exec(rule.CronExpression.trim())?.[1].split(/\s+/) : undefined;
  if (!cron || cron.length !== 6) {
    return undefined;
  }
  const [minute, hour, day, month, weekDay] = cron;
  const single = (f: string) => /^\d+$/.test(f);
  const any = (f: string) => f === '*' || f === '?';
  if (!single(minute) || !any(month)) {
    return undefined;
  }
  const everyN = /^(\*|\d+)\/(\d+)$/.exec(hour);
  if (everyN && any(day) && any(weekDay)) {
    return every(Number(everyN[2]));
  }
  if (!single(hour)) {
    return undefined;
  }
  if (any(day) && any(weekDay)) {
    return every(24);
  }
  if (any(day) && /^[A-Z]{3}$|^\d$/.test(weekDay)) {
    return every(168);
  }
  if (single(day) && Number(day) >= 1 && Number(day) <= 28 && any(weekDay)) {
    return { shortest: 28 * 24, longest: 31 * 24 };
  }
  return undefined;
}
