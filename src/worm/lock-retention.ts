import { CfnResource, Duration } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import { IConstruct } from 'constructs';
import { artefactRetentions, retentionLifetimeDays } from '../core/artefact-retentions';
import { minimumIntervalMs, MS_PER_DAY, parseSchedule, ScheduleProblem } from '../core/cron';
import { dlmRetentionDays } from '../core/interval-units';
import { renderedProperties } from '../core/rendered-properties';
import { BackupTagging } from '../core/tagging';
import { warn } from '../core/validation';

/** One retention of snapshots the lock may lock. */
interface Kept {
  readonly construct: IConstruct;
  readonly property: string;
  /** Undefined: the purpose is not known (a token, or no purpose tag). */
  readonly purpose?: string;
  /** Undefined: not known at synthesis. */
  readonly days?: number;
  /** A lower bound when `days` is unknown (DLM creates at most one snapshot an hour): a shorter lock cannot outlive it. */
  readonly minDays?: number;
  readonly text: string;
}

/**
 * Compare the snapshot lock's duration with every retention in the app of the snapshots it
 * locks (DLM policies, AWS Backup plans, and the jobs, runbooks and windows that expire their own
 * snapshots). A lock that outlives the retention stops the expiry: DLM cannot delete the snapshot,
 * and AWS Backup marks the recovery point EXPIRED and keeps billing it ("Lock Amazon EBS snapshots",
 * EBS User Guide). Returns the errors; unknowable values (tokens) are skipped with a warning.
 */
export function checkLockAgainstRetentions(lock: IConstruct, property: string, duration: Duration, purposes: readonly string[]): string[] {
  if (duration.isUnresolved()) {
    warn(lock, 'worm:lock-duration-token', `${property} is a token: its duration cannot be compared with the retentions of the snapshots it locks`);
    return [];
  }
  const lockDays = duration.toDays({ integral: false });
  const purposeKey = BackupTagging.keys(lock).purpose;
  const errors: string[] = [];
  for (const kept of collect(lock, purposeKey)) {
    if (kept.purpose !== undefined && purposes.length > 0 && !purposes.includes(kept.purpose)) {
      continue;
    }
    if (kept.days === undefined) {
      if (kept.minDays !== undefined && lockDays < kept.minDays) {
        continue;
      }
      warn(lock, 'worm:lock-retention-unknown',
        `${kept.construct.node.path} ${kept.property} (${kept.text}) is not known at synthesis: the ${property} of ${duration.toHumanString()} cannot be compared with it`);
      continue;
    }
    if (lockDays >= kept.days) {
      errors.push(`${lock.node.path}: ${property} of ${duration.toHumanString()} must be shorter than the retention of the snapshots it locks, ` +
        `got longer than ${kept.construct.node.path} ${kept.property} (${kept.text}, about ${round(kept.days)} days): a snapshot locked past its ` +
        'retention cannot be deleted when it expires (DLM fails, AWS Backup keeps an EXPIRED recovery point and bills it); ' +
        'shorten the lock, lengthen the retention, or limit the lock to other purposes');
    }
  }
  return errors;
}

function round(days: number): number {
  return Math.round(days * 10) / 10;
}

function collect(scope: IConstruct, purposeKey: string): Kept[] {
  const out: Kept[] = [];
  for (const entry of artefactRetentions(scope)) {
    out.push({
      construct: entry.construct,
      property: entry.property,
      purpose: entry.purpose,
      days: retentionLifetimeDays(entry.retention, entry.creationInterval),
      text: entry.unknownReason ? `${entry.retention.toTagValue()}, ${entry.unknownReason}` : entry.retention.toTagValue(),
    });
  }
  for (const c of scope.node.root.node.findAll()) {
    if (c instanceof dlm.CfnLifecyclePolicy) {
      out.push(...dlmRetentions(c, purposeKey));
    } else if (c instanceof backup.CfnBackupPlan) {
      out.push(...backupRetentions(c, purposeKey));
    }
  }
  return out;
}

/** The construct the user wrote: the L2 around a `Resource`, else the L1 itself. */
function ownerOf(resource: CfnResource): IConstruct {
  return resource.node.id === 'Resource' && resource.node.scope ? resource.node.scope : resource;
}

/**
 * A DLM policy's schedules as CloudFormation receives them (overrides applied). A policy without
 * schedules keeps none of the lock's snapshots: a default policy (top-level `RetainInterval`) adds
 * no tags, an event-based policy copies snapshots shared with the account.
 */
function dlmRetentions(policy: dlm.CfnLifecyclePolicy, purposeKey: string): Kept[] {
  const details = renderedProperties(policy).PolicyDetails;
  if (!Array.isArray(details?.Schedules)) {
    return [];
  }
  const policyTags = tagValue(details.TargetTags, purposeKey);
  return details.Schedules.map((schedule: any, i: number): Kept => {
    const purpose = tagValue(schedule.TagsToAdd, purposeKey) ?? policyTags;
    const rule = schedule.RetainRule ?? {};
    const property = `schedules[${i}] retainRule`;
    const base = { construct: ownerOf(policy), property, purpose };
    // the shortest the calendar allows (1 MONTHS is 28 days for a snapshot taken in February): the lock must end before it
    const days = dlmRetentionDays(rule.Interval, rule.IntervalUnit, 'shortest');
    if (days !== undefined) {
      return { ...base, days, text: `${rule.Interval} ${rule.IntervalUnit.toLowerCase()}` };
    }
    const create = schedule.CreateRule ?? {};
    if (typeof rule.Count !== 'number') {
      return { ...base, text: 'a token' };
    }
    // DLM's only interval unit is HOURS
    if (typeof create.Interval === 'number') {
      return { ...base, days: rule.Count * create.Interval / 24, text: `count ${rule.Count} every ${create.Interval} hours` };
    }
    // a cron schedule (UTC): the count leaves a snapshot after count x the smallest gap between firings
    const cron = typeof create.CronExpression === 'string' ? parseSchedule(create.CronExpression) : undefined;
    const gapMs = cron !== undefined && !(cron instanceof ScheduleProblem) ? minimumIntervalMs(cron) : undefined;
    if (gapMs !== undefined && Number.isFinite(gapMs)) {
      return { ...base, days: rule.Count * gapMs / MS_PER_DAY, text: `count ${rule.Count} on ${create.CronExpression}` };
    }
    // a schedule not known at synthesis: DLM creates at most one snapshot an hour, so count hours is a lower bound
    return { ...base, minDays: rule.Count / 24, text: `count ${rule.Count} on a schedule not known at synthesis` };
  });
}

/** An AWS Backup plan's rules as CloudFormation receives them (overrides applied). */
function backupRetentions(plan: backup.CfnBackupPlan, purposeKey: string): Kept[] {
  const rules = renderedProperties(plan).BackupPlan?.BackupPlanRule;
  if (!Array.isArray(rules)) {
    // CloudFormation requires the rules: here they are a token
    return [{ construct: ownerOf(plan), property: 'backupPlanRule', text: 'a token' }];
  }
  return rules.flatMap((rule: any, i: number): Kept[] => {
    // without a lifecycle AWS Backup keeps the recovery points until they are deleted by hand
    const days = rule.Lifecycle?.DeleteAfterDays;
    if (days === undefined) {
      return [];
    }
    const purpose = rule.RecoveryPointTags?.[purposeKey];
    return [{
      construct: ownerOf(plan),
      property: `rule '${typeof rule.RuleName === 'string' ? rule.RuleName : i}' retain`,
      purpose: typeof purpose === 'string' ? purpose : undefined,
      days: typeof days === 'number' ? days : undefined,
      text: typeof days === 'number' ? `${days} days` : 'a token',
    }];
  });
}

/** The value of the tag `key` in a CloudFormation tag list, undefined when absent or not a literal. */
function tagValue(tags: unknown, key: string): string | undefined {
  const value = Array.isArray(tags) ? tags.find((t: any) => t?.Key === key)?.Value : undefined;
  return typeof value === 'string' ? value : undefined;
}
