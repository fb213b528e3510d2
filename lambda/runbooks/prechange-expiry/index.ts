/**
 * Expires the artefacts of one PreChangeSnapshot runbook: AMIs first (deregistered), then
 * snapshots (deleted), each once its retention tag `age:<days>d` has run out. Anything whose
 * retention tag says something else (`keep`, or missing) is kept: the job never deletes on a
 * guess. Snapshots that back an AMI still kept are left alone.
 *
 * The retention tag can be changed by anyone allowed to tag, so it can only lengthen: a value
 * below the construct's own floor (`MIN_RETENTION_DAYS`, its `expireAfter`) is rejected and the
 * floor applies, so an artefact re-tagged `age:0d` is still kept for the configured `expireAfter`.
 */
// provided by the Lambda runtime: the bundler leaves @aws-sdk/* out
// eslint-disable-next-line import/no-extraneous-dependencies
import {
  DeleteSnapshotCommand, DeregisterImageCommand, EC2Client, Filter, Image, Snapshot, Tag,
  paginateDescribeImages, paginateDescribeSnapshots,
} from '@aws-sdk/client-ec2';
import { DEFAULT_BUDGET_MS, timeBudget, TimeBudgetOptions } from '../../shared/budget';
import { log } from '../../shared/log';
import { withRetry } from '../../shared/retry';

export interface ExpiryConfig {
  readonly purposeKey: string;
  readonly purpose: string;
  readonly managedByKey: string;
  readonly managedBy: string;
  readonly retentionKey: string;
  /** For the retention tag `age` that the construct writes when expireAfter was a token. */
  readonly expireAfterDays?: number;
  /** The construct's floor: nothing younger is ever deleted, whatever its retention tag says. */
  readonly minRetentionDays: number;
  readonly dryRun?: boolean;
}

export interface ExpirySummary {
  readonly deregisteredImages: string[];
  readonly deletedSnapshots: string[];
  readonly kept: string[];
  readonly failed: string[];
  readonly dryRun: boolean;
  /** Expired artefacts left for the next run: the time budget was used up. */
  readonly deferred: number;
}

/** Stop starting deletions after 12 of Lambda's 15 minutes; the rest go next run. */
export { DEFAULT_BUDGET_MS };

/** The run's clock (injected at scale in tests). */
export type ExpiryClock = TimeBudgetOptions;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Read the configuration the construct sets; a missing variable is a deployment bug. */
export function configFromEnv(env: Record<string, string | undefined>): ExpiryConfig {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) {
      throw new Error(`environment variable ${name} is not set`);
    }
    return v;
  };
  const days = Number(env.EXPIRE_AFTER_DAYS);
  const floor = Number(need('MIN_RETENTION_DAYS'));
  if (!Number.isInteger(floor) || floor < 1) {
    // fail closed: without a floor any re-tagged artefact would be deleted at once
    throw new Error(`environment variable MIN_RETENTION_DAYS must be a whole number of days, at least 1, got '${env.MIN_RETENTION_DAYS}'`);
  }
  return {
    purposeKey: need('PURPOSE_KEY'),
    purpose: need('PURPOSE'),
    managedByKey: need('MANAGED_BY_KEY'),
    managedBy: need('MANAGED_BY'),
    retentionKey: need('RETENTION_KEY'),
    expireAfterDays: Number.isInteger(days) && days > 0 ? days : undefined,
    minRetentionDays: floor,
  };
}

/** The days the retention tag asks for (`age` or `age:<days>d`), or undefined to keep for good. */
function taggedDays(tag: string | undefined, config: ExpiryConfig): number | undefined {
  if (tag === 'age') {
    return config.expireAfterDays;
  }
  const m = /^age:(\d+)d$/.exec(tag ?? '');
  return m ? Number(m[1]) : undefined;
}

/** True when the retention tag asks for less than the construct's floor (a tampered tag). */
export function belowFloor(tag: string | undefined, config: ExpiryConfig): boolean {
  const days = taggedDays(tag, config);
  return days !== undefined && days < config.minRetentionDays;
}

/**
 * The days an artefact is kept according to its retention tag, or undefined to keep it for good.
 * A value below the floor is rejected: the floor applies.
 */
export function retentionDays(tag: string | undefined, config: ExpiryConfig): number | undefined {
  const days = taggedDays(tag, config);
  return days === undefined ? undefined : Math.max(days, config.minRetentionDays);
}

function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/** True when the artefact's retention has run out at `now`. */
export function isExpired(created: Date | undefined, tags: Tag[] | undefined, config: ExpiryConfig, now: Date): boolean {
  const days = retentionDays(tagValue(tags, config.retentionKey), config);
  if (days === undefined || created === undefined || isNaN(created.getTime())) {
    return false;
  }
  return now.getTime() - created.getTime() >= days * DAY_MS;
}

/** Errors that mean the artefact is already gone: the goal of the call is met (idempotent replays). */
const ALREADY_GONE = new Set(['InvalidSnapshot.NotFound', 'InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable']);

function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string };
  return e?.name ?? e?.Code ?? 'Error';
}

/** Expire what is due; per-artefact failures are collected, not thrown, so one bad item stops nothing. */
export async function expire(ec2: EC2Client, config: ExpiryConfig, now: Date, clock: ExpiryClock = {}): Promise<ExpirySummary> {
  const budget = timeBudget(clock);
  let deferred = 0;
  // an expired artefact found after the budget is counted and left for the next run (never half-done)
  const outOfTime = () => {
    if (budget.spent()) {
      deferred++;
      return true;
    }
    return false;
  };
  const filters: Filter[] = [
    { Name: `tag:${config.purposeKey}`, Values: [config.purpose] },
    { Name: `tag:${config.managedByKey}`, Values: [config.managedBy] },
  ];
  const summary = {
    deregisteredImages: [] as string[],
    deletedSnapshots: [] as string[],
    kept: [] as string[],
    failed: [] as string[],
    dryRun: !!config.dryRun,
    deferred: 0,
  };
  const fields = { purpose: config.purpose, managedBy: config.managedBy };
  const checkFloor = (id: string, tags: Tag[] | undefined) => {
    const tag = tagValue(tags, config.retentionKey);
    if (belowFloor(tag, config)) {
      log('WARN', 'retention tag below the floor rejected: the floor applies', { ...fields, id, retention: tag, minRetentionDays: config.minRetentionDays });
    }
  };

  const images: Image[] = [];
  for await (const page of paginateDescribeImages({ client: ec2, pageSize: 1000 }, { Owners: ['self'], Filters: filters })) {
    images.push(...(page.Images ?? []));
  }
  // snapshots behind an AMI that stays must stay too (EC2 would refuse anyway)
  const inUse = new Set<string>();
  for (const image of images) {
    const id = image.ImageId!;
    const snapshots = (image.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => !!s);
    checkFloor(id, image.Tags);
    if (!isExpired(image.CreationDate ? new Date(image.CreationDate) : undefined, image.Tags, config, now)) {
      snapshots.forEach((s) => inUse.add(s));
      summary.kept.push(id);
      continue;
    }
    if (outOfTime()) {
      snapshots.forEach((s) => inUse.add(s));
      continue;
    }
    try {
      if (!config.dryRun) {
        await withRetry(() => ec2.send(new DeregisterImageCommand({ ImageId: id })));
      }
      summary.deregisteredImages.push(id);
      log('INFO', 'deregistered expired image', { ...fields, imageId: id, snapshotIds: snapshots, dryRun: !!config.dryRun });
    } catch (err) {
      if (ALREADY_GONE.has(errorName(err))) {
        // an overlapping run (no reserved concurrency) or a person got there first: done
        summary.deregisteredImages.push(id);
        log('INFO', 'expired image already gone', { ...fields, imageId: id });
        continue;
      }
      snapshots.forEach((s) => inUse.add(s));
      summary.failed.push(id);
      log('ERROR', 'could not deregister image', { ...fields, imageId: id, error: errorName(err) });
    }
  }

  const snapshots: Snapshot[] = [];
  for await (const page of paginateDescribeSnapshots({ client: ec2, pageSize: 1000 }, { OwnerIds: ['self'], Filters: filters })) {
    snapshots.push(...(page.Snapshots ?? []));
  }
  for (const snapshot of snapshots) {
    const id = snapshot.SnapshotId!;
    checkFloor(id, snapshot.Tags);
    if (inUse.has(id) || !isExpired(snapshot.StartTime, snapshot.Tags, config, now)) {
      summary.kept.push(id);
      continue;
    }
    if (outOfTime()) {
      continue;
    }
    try {
      if (!config.dryRun) {
        await withRetry(() => ec2.send(new DeleteSnapshotCommand({ SnapshotId: id })));
      }
      summary.deletedSnapshots.push(id);
      log('INFO', 'deleted expired snapshot', { ...fields, snapshotId: id, dryRun: !!config.dryRun });
    } catch (err) {
      if (errorName(err) === 'InvalidSnapshot.InUse') {
        // backs an AMI of another owner or one registered by hand: not ours to break
        summary.kept.push(id);
        log('WARN', 'expired snapshot is in use, kept', { ...fields, snapshotId: id });
        continue;
      }
      if (ALREADY_GONE.has(errorName(err))) {
        summary.deletedSnapshots.push(id);
        log('INFO', 'expired snapshot already gone', { ...fields, snapshotId: id });
        continue;
      }
      summary.failed.push(id);
      log('ERROR', 'could not delete snapshot', { ...fields, snapshotId: id, error: errorName(err) });
    }
  }
  if (deferred > 0) {
    log('WARN', 'time budget used up: the remaining expired artefacts wait for the next run', { ...fields, deferred, budgetMs: budget.budgetMs });
  }
  return { ...summary, deferred };
}

let client: EC2Client | undefined;

/** Scheduled entry point; `{ "dryRun": true }` reports what would go without deleting. */
export async function handler(event: { dryRun?: boolean } = {}): Promise<ExpirySummary> {
  const config = { ...configFromEnv(process.env), dryRun: event?.dryRun === true };
  const summary = await expire((client ??= new EC2Client({})), config, new Date());
  log(summary.failed.length > 0 ? 'ERROR' : 'INFO', 'pre-change expiry finished', {
    purpose: config.purpose,
    managedBy: config.managedBy,
    deregisteredImages: summary.deregisteredImages.length,
    deletedSnapshots: summary.deletedSnapshots.length,
    kept: summary.kept.length,
    deferred: summary.deferred,
    failed: summary.failed,
  });
  if (summary.failed.length > 0) {
    // a failed invocation shows in the function's Errors metric, where an alarm can catch it
    throw new Error(`pre-change expiry failed for ${summary.failed.length} artefact(s): ${summary.failed.join(', ')}`);
  }
  return summary;
}
