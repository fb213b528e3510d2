import { CfnResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import { IConstruct } from 'constructs';
import { artefactRetentions, retentionLifetimeDays } from '../core/artefact-retentions';
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
  /** A lower bound when `days` is unknown (DLM creates at most one snapshot an hour). */
  readonly minDays?: number;
  readonly text: string;
}

const UNIT_DAYS: Record<string, number> = { DAYS: 1, WEEKS: 7, MONTHS: 30, YEARS: 365 };

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
      if (kept.minDays !== undefined) {
        // a count on a cron schedule: the schedule's own construct (or the baseline) compares it
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

function resolved(resource: CfnResource, value: unknown): any {
  return Stack.of(resource).resolve(value);
}

/** The construct the user wrote: the L2 around a `Resource`, else the L1 itself. */
function ownerOf(resource: CfnResource): IConstruct {
  return resource.node.id === 'Resource' && resource.node.scope ? resource.node.scope : resource;
}

function dlmRetentions(policy: dlm.CfnLifecyclePolicy, purposeKey: string): Kept[] {
  const details = resolved(policy, policy.policyDetails);
  if (!details || typeof details !== 'object' || !Array.isArray(details.schedules)) {
    return [];
  }
  const policyTags = tagValue(details.targetTags, purposeKey);
  return details.schedules.map((schedule: any, i: number): Kept => {
    const purpose = tagValue(schedule.tagsToAdd, purposeKey) ?? policyTags;
    const rule = schedule.retainRule ?? {};
    const property = `schedules[${i}] retainRule`;
    const base = { construct: ownerOf(policy), property, purpose };
    if (isKnownNumber(rule.interval) && typeof rule.intervalUnit === 'string' && UNIT_DAYS[rule.intervalUnit]) {
      return { ...base, days: rule.interval * UNIT_DAYS[rule.intervalUnit], text: `${rule.interval} ${rule.intervalUnit.toLowerCase()}` };
    }
    const create = schedule.createRule ?? {};
    if (isKnownNumber(rule.count) && isKnownNumber(create.interval) && create.intervalUnit === 'HOURS') {
      return { ...base, days: rule.count * create.interval / 24, text: `count ${rule.count} every ${create.interval} hours` };
    }
    // a cron schedule: DLM creates at most one snapshot an hour, so count hours is a lower bound
    return isKnownNumber(rule.count)
      ? { ...base, minDays: rule.count / 24, text: `count ${rule.count} on a cron schedule` }
      : { ...base, text: 'a token' };
  });
}

function backupRetentions(plan: backup.CfnBackupPlan, purposeKey: string): Kept[] {
  const body = resolved(plan, plan.backupPlan);
  const rules = body?.backupPlanRule ?? body?.BackupPlanRule;
  if (!Array.isArray(rules)) {
    return [];
  }
  return rules.flatMap((rule: any, i: number): Kept[] => {
    const lifecycle = rule.lifecycle ?? rule.Lifecycle;
    const days = lifecycle?.deleteAfterDays ?? lifecycle?.DeleteAfterDays;
    if (days === undefined) {
      return [];
    }
    const tags = rule.recoveryPointTags ?? rule.RecoveryPointTags;
    const purpose = tags && typeof tags[purposeKey] === 'string' ? tags[purposeKey] : undefined;
    const name = rule.ruleName ?? rule.RuleName ?? i;
    return [{
      construct: ownerOf(plan),
      property: `rule '${name}' retain`,
      purpose,
      days: isKnownNumber(days) ? days : undefined,
      text: isKnownNumber(days) ? `${days} days` : 'a token',
    }];
  });
}

function isKnownNumber(v: unknown): v is number {
  return typeof v === 'number' && !Token.isUnresolved(v);
}

function tagValue(tags: unknown, key: string): string | undefined {
  if (!Array.isArray(tags)) {
    return undefined;
  }
  const tag = tags.find((t: any) => t && (t.key ?? t.Key) === key);
  const value = tag ? tag.value ?? tag.Value : undefined;
  return typeof value === 'string' && !Token.isUnresolved(value) ? value : undefined;
}
