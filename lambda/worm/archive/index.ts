/**
 * Archive rather than delete: moves purpose-tagged snapshots of volumes that no longer exist,
 * older than a minimum age, to the EBS Snapshots Archive tier, and tags them with the date.
 * In dry-run mode it only reports what it would do.
 *
 * Throttling is retried with backoff; a snapshot that fails is reported and the run goes on,
 * then throws at the end so that the failure reaches the dead-letter queue and its alarm.
 */
import {
  CreateTagsCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client, ModifySnapshotTierCommand, Snapshot,
} from '@aws-sdk/client-ec2';
import { DEFAULT_BUDGET_MS, timeBudget } from '../../shared/budget';
import { log } from '../../shared/log';
import { withRetry } from '../../shared/retry';

export interface ArchiveSettings {
  readonly purposeTagKey: string;
  /** Only these purposes; empty for any. */
  readonly purposes: string[];
  readonly minimumAgeDays: number;
  readonly archivedTagKey: string;
  readonly dryRun: boolean;
}

export interface ArchiveResult {
  readonly archived: string[];
  readonly wouldArchive: string[];
  keptVolumeExists: number;
  keptTooYoung: number;
  readonly failed: string[];
  /** Orphans left for the next run because the time budget was used up. */
  deferred: number;
}

export interface Deps {
  readonly ec2: EC2Client;
  readonly settings: ArchiveSettings;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Milliseconds the run may take before it stops starting new archives (the rest waits for the
   * next scheduled run and is counted in `deferred`): each archive is two sequential EC2 writes,
   * so 10,000 orphans take longer than Lambda's 15 minutes.
   */
  readonly budgetMs?: number;
  /** Milliseconds elapsed since the run started (for tests and the bench's simulated latency). */
  readonly elapsedMs?: () => number;
}

/** Stop starting archives after 12 of Lambda's 15 minutes. */
export { DEFAULT_BUDGET_MS };

export function settingsFromEnv(env: NodeJS.ProcessEnv): ArchiveSettings {
  const minimumAgeDays = Number(env.MINIMUM_AGE_DAYS);
  if (!Number.isInteger(minimumAgeDays) || minimumAgeDays < 1) {
    throw new Error(`MINIMUM_AGE_DAYS must be a positive integer, got '${env.MINIMUM_AGE_DAYS}'`);
  }
  if (!env.PURPOSE_TAG_KEY || !env.ARCHIVED_TAG_KEY) {
    throw new Error('PURPOSE_TAG_KEY and ARCHIVED_TAG_KEY must be set');
  }
  return {
    purposeTagKey: env.PURPOSE_TAG_KEY,
    purposes: env.PURPOSES ? JSON.parse(env.PURPOSES) as string[] : [],
    minimumAgeDays,
    archivedTagKey: env.ARCHIVED_TAG_KEY,
    dryRun: env.DRY_RUN === 'true',
  };
}

/**
 * Every completed, standard-tier, purpose-tagged snapshot this account owns, one page at a time:
 * the run holds one page (at most 1,000 records) and what it decided, never the whole account.
 */
async function* candidatePages(deps: Deps): AsyncGenerator<Snapshot[]> {
  const { ec2, settings } = deps;
  const filters = [
    { Name: 'status', Values: ['completed'] },
    { Name: 'storage-tier', Values: ['standard'] },
    settings.purposes.length > 0
      ? { Name: `tag:${settings.purposeTagKey}`, Values: settings.purposes }
      : { Name: 'tag-key', Values: [settings.purposeTagKey] },
  ];
  let token: string | undefined;
  do {
    const page = await withRetry(() => ec2.send(new DescribeSnapshotsCommand({
      OwnerIds: ['self'], Filters: filters, MaxResults: 1000, NextToken: token,
    })), { sleep: deps.sleep });
    yield page.Snapshots ?? [];
    token = page.NextToken;
  } while (token);
}

/** The ids among `volumeIds` that still exist (a filter, so missing ids are not an error). */
async function existingVolumes(volumeIds: string[], deps: Deps): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < volumeIds.length; i += 200) {
    let token: string | undefined;
    do {
      const page = await withRetry(() => deps.ec2.send(new DescribeVolumesCommand({
        Filters: [{ Name: 'volume-id', Values: volumeIds.slice(i, i + 200) }], NextToken: token,
      })), { sleep: deps.sleep });
      for (const v of page.Volumes ?? []) {
        if (v.VolumeId) {
          found.add(v.VolumeId);
        }
      }
      token = page.NextToken;
    } while (token);
  }
  return found;
}

async function archivePage(orphans: Snapshot[], now: Date, result: ArchiveResult, deps: Deps, overBudget: () => boolean): Promise<void> {
  const { ec2, settings } = deps;
  for (const [i, snapshot] of orphans.entries()) {
    if (overBudget()) {
      result.deferred += orphans.length - i;
      log('WARN', 'time budget used up: the remaining orphans wait for the next run', { deferred: orphans.length - i });
      return;
    }
    const id = snapshot.SnapshotId!;
    const purpose = snapshot.Tags?.find((t) => t.Key === settings.purposeTagKey)?.Value;
    if (settings.dryRun) {
      result.wouldArchive.push(id);
      log('INFO', 'would archive snapshot (dry run)', { snapshotId: id, volumeId: snapshot.VolumeId, purpose, outcome: 'dry-run' });
      continue;
    }
    try {
      await withRetry(() => ec2.send(new ModifySnapshotTierCommand({ SnapshotId: id, StorageTier: 'archive' })), { sleep: deps.sleep });
      await withRetry(() => ec2.send(new CreateTagsCommand({
        Resources: [id], Tags: [{ Key: settings.archivedTagKey, Value: now.toISOString().slice(0, 10) }],
      })), { sleep: deps.sleep });
      result.archived.push(id);
      log('INFO', 'archived snapshot', { snapshotId: id, volumeId: snapshot.VolumeId, purpose, outcome: 'archived' });
    } catch (err) {
      const e = err as { name?: string; message?: string };
      result.failed.push(`${id}: ${e.name ?? 'Error'}: ${e.message ?? ''}`);
      log('ERROR', 'could not archive snapshot', { snapshotId: id, purpose, outcome: 'failed', error: e.name });
    }
  }
}

export async function archiveOrphans(deps: Deps): Promise<ArchiveResult> {
  const { settings } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const cutoff = now.getTime() - settings.minimumAgeDays * 86_400_000;
  const result = {
    archived: [] as string[],
    wouldArchive: [] as string[],
    failed: [] as string[],
    keptVolumeExists: 0,
    keptTooYoung: 0,
    deferred: 0,
  };
  const budget = timeBudget(deps);
  for await (const page of candidatePages(deps)) {
    if (budget.spent()) {
      break;
    }
    const snapshots = page.filter((s) => !(s.Tags ?? []).some((t) => t.Key === settings.archivedTagKey));
    const old = snapshots.filter((s) => s.StartTime !== undefined && s.StartTime.getTime() <= cutoff);
    const volumes = await existingVolumes([...new Set(old.map((s) => s.VolumeId).filter((v): v is string => !!v))], deps);
    const orphans = old.filter((s) => !s.VolumeId || !volumes.has(s.VolumeId));
    result.keptVolumeExists += old.length - orphans.length;
    result.keptTooYoung += snapshots.length - old.length;
    await archivePage(orphans, now, result, deps, budget.spent);
  }
  log('INFO', 'archive run finished', {
    archived: result.archived.length,
    wouldArchive: result.wouldArchive.length,
    failed: result.failed.length,
    keptVolumeExists: result.keptVolumeExists,
    keptTooYoung: result.keptTooYoung,
    deferred: result.deferred,
    dryRun: settings.dryRun,
  });
  if (result.failed.length > 0) {
    throw new Error(`could not archive ${result.failed.length} snapshot(s): ${result.failed.join('; ')}`);
  }
  return result;
}

let client: EC2Client | undefined;

export async function handler(): Promise<ArchiveResult> {
  client ??= new EC2Client({});
  return archiveOrphans({ ec2: client, settings: settingsFromEnv(process.env) });
}
