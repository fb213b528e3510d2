/**
 * Find the backup orphans of an account and region: snapshots that an AMI created but whose AMI
 * is gone (they cost money and restore nothing bootable), and AMIs whose snapshots are missing
 * (they look like backups but cannot be launched). Report them as JSON lines and metrics; delete
 * them only when `dryRun` is false, and only those that carry the library's purpose tag. A write-once
 * guard that denies the deletion wins: the artefact is reported as protected, never forced.
 *
 * Safe to retry: deleting what is already gone is treated as done.
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Image, Snapshot } from '@aws-sdk/client-ec2';
import { DEFAULT_BUDGET_MS, timeBudget, TimeBudgetOptions } from '../../shared/budget';
import { log } from '../../shared/log';
import { withRetry } from '../../shared/retry';

export interface OrphansEvent {
  readonly purposeTagKey: string;
  readonly dryRun: boolean;
  readonly namespace: string;
}

export interface Orphans {
  /** Snapshots created for an AMI that no longer exists. */
  readonly snapshotsWithoutImage: string[];
  /** AMIs with at least one snapshot that no longer exists. */
  readonly imagesWithoutSnapshots: string[];
  readonly deleted: string[];
  /** Deletions a write-once guard (or any policy) denied. */
  readonly protected: string[];
  /** Orphans left for the next run: the time budget was used up. */
  readonly deferred: number;
}

/** Stop starting deletions after 12 of Lambda's 15 minutes; the rest go next run. */
export { DEFAULT_BUDGET_MS };

/** The run's clock (injected at scale in tests). */
export type SweepClock = TimeBudgetOptions;

/** `Created by CreateImage(i-...) for ami-... from vol-...`: the description EC2 gives an AMI's snapshots. */
const FOR_IMAGE = /Created by CreateImage\([^)]*\) for (ami-[0-9a-f]+)/;

export function findOrphans(images: Image[], snapshots: Snapshot[]): { snapshots: Snapshot[]; images: Image[] } {
  const imageIds = new Set(images.map((i) => i.ImageId));
  const snapshotIds = new Set(snapshots.map((s) => s.SnapshotId));
  return {
    snapshots: snapshots.filter((s) => {
      const ami = FOR_IMAGE.exec(s.Description ?? '')?.[1];
      return ami !== undefined && !imageIds.has(ami);
    }),
    images: images.filter((i) => (i.BlockDeviceMappings ?? []).some((m) => m.Ebs?.SnapshotId && !snapshotIds.has(m.Ebs.SnapshotId))),
  };
}

async function all<T>(fetch: (token?: string) => Promise<{ items?: T[]; next?: string }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await withRetry(() => fetch(token));
    out.push(...(page.items ?? []));
    token = page.next;
  } while (token);
  return out;
}

const tagged = (tags: Array<{ Key?: string }> | undefined, key: string) => (tags ?? []).some((t) => t.Key === key);
const isDenied = (e: unknown) => ['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException', 'SnapshotLocked', 'InvalidSnapshot.InUse'].includes((e as Error).name)
  || /locked|not authorized/i.test((e as Error).message ?? '');
const isGone = (e: unknown) => /NotFound|InvalidAMIID\.Unavailable/.test((e as Error).name);

export async function sweepOrphans(ec2: EC2Client, cloudwatch: CloudWatchClient, event: OrphansEvent, clock: SweepClock = {}): Promise<Orphans> {
  const budget = timeBudget(clock);
  if (!event?.purposeTagKey || typeof event.dryRun !== 'boolean' || !event.namespace) {
    throw new Error('purposeTagKey, dryRun (a boolean) and namespace are required');
  }
  const images = await all<Image>(async (NextToken) => {
    const r = await ec2.send(new DescribeImagesCommand({ Owners: ['self'], IncludeDisabled: true, NextToken, MaxResults: 1000 }));
    return { items: r.Images, next: r.NextToken };
  });
  const snapshots = await all<Snapshot>(async (NextToken) => {
    const r = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], NextToken, MaxResults: 1000 }));
    // only what the sweep reads: 100,000 whole records would be hundreds of MB in the function's memory
    return { items: r.Snapshots?.map((s) => ({ SnapshotId: s.SnapshotId, Description: s.Description, Tags: s.Tags })), next: r.NextToken };
  });
  const orphans = findOrphans(images, snapshots);
  const result = {
    snapshotsWithoutImage: orphans.snapshots.map((s) => s.SnapshotId!),
    imagesWithoutSnapshots: orphans.images.map((i) => i.ImageId!),
    deleted: [] as string[],
    protected: [] as string[],
    deferred: 0,
  };
  log('INFO', 'backup orphans found', { ...result, dryRun: event.dryRun } as any);
  if (!event.dryRun) {
    const work: Array<[string, () => Promise<unknown>]> = [
      ...orphans.images.filter((i) => tagged(i.Tags, event.purposeTagKey))
        .map((i): [string, () => Promise<unknown>] => [i.ImageId!, () => ec2.send(new DeregisterImageCommand({ ImageId: i.ImageId }))]),
      ...orphans.snapshots.filter((s) => tagged(s.Tags, event.purposeTagKey))
        .map((s): [string, () => Promise<unknown>] => [s.SnapshotId!, () => ec2.send(new DeleteSnapshotCommand({ SnapshotId: s.SnapshotId }))]),
    ];
    for (const [n, [id, remove]] of work.entries()) {
      if (budget.spent()) {
        result.deferred = work.length - n;
        log('WARN', 'time budget used up: the remaining orphans wait for the next run', { deferred: result.deferred, budgetMs: budget.budgetMs });
        break;
      }
      try {
        await withRetry(remove);
        result.deleted.push(id);
      } catch (e) {
        if (isGone(e)) {
          result.deleted.push(id);
        } else if (isDenied(e)) {
          result.protected.push(id);
          log('WARN', 'deletion denied: left in place', { id, error: (e as Error).name });
        } else {
          throw e;
        }
      }
    }
  }
  const point = (MetricName: string, Value: number) => ({ MetricName, Value, Unit: 'Count' as const });
  await withRetry(() => cloudwatch.send(new PutMetricDataCommand({
    Namespace: event.namespace,
    MetricData: [
      point('SnapshotsWithoutImage', result.snapshotsWithoutImage.length),
      point('ImagesWithoutSnapshots', result.imagesWithoutSnapshots.length),
      point('OrphansDeleted', result.deleted.length),
    ],
  })));
  return result;
}

let clients: { ec2: EC2Client; cloudwatch: CloudWatchClient } | undefined;

export async function handler(event: OrphansEvent): Promise<Orphans> {
  clients ??= { ec2: new EC2Client({}), cloudwatch: new CloudWatchClient({}) };
  return sweepOrphans(clients.ec2, clients.cloudwatch, event);
}
