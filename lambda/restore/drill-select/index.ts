/**
 * Pick what a RestoreDrill restores: the newest complete snapshot set (or the newest available
 * AMI) carrying the drill's purpose tag, owned by this account or shared by an archive account.
 *
 * A "set" is the snapshots that one multi-volume `CreateSnapshots` call (or one DLM run) took
 * together: snapshots whose start times lie within the set window of the set's newest. A set with
 * any snapshot still pending (or in error) is not complete, and the next older set is taken, so a
 * drill never restores half a database.
 *
 * Read-only, so safe to retry. The EC2 client is a parameter, for tests.
 */
import { DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Image, Snapshot } from '@aws-sdk/client-ec2';
import { log } from '../../shared/log';
import { withRetry } from '../../shared/retry';

export interface SelectEvent {
  readonly mode: 'SNAPSHOTS' | 'IMAGE';
  readonly purposeTagKey: string;
  readonly purpose: string;
  /** The account that owns the snapshots or AMI (an archive account that shares them). */
  readonly owner?: string;
  /** Snapshots that started within this many seconds of a set's newest belong to the set. */
  readonly setWindowSeconds: number;
  /** Where the first restored volume is mounted; the n-th (n > 1) goes to `<mountPoint><n>`. */
  readonly mountPoint: string;
  /** A snapshot tag that names its own mount point (e.g. copied from the source volume). */
  readonly mountPointTagKey?: string;
}

export interface SelectedSnapshot {
  readonly snapshotId: string;
  readonly device: string;
  readonly mountPoint: string;
  readonly volumeSize?: number;
}

export interface Selection {
  readonly found: boolean;
  /** Why nothing was found, for the execution history. */
  readonly reason?: string;
  readonly snapshots: SelectedSnapshot[];
  readonly imageId?: string;
  /** `sdf:/data sdg:/data2`: the Run Command document's `mounts` parameter. */
  readonly mounts: string;
  /** When the restored data was captured (the oldest start time in the set), ISO 8601. */
  readonly snapshotTime?: string;
  /** Its age at selection, in seconds: the recovery point actually achieved. */
  readonly ageSeconds?: number;
}

export class SelectEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectEventError';
  }
}

/** Device names for attached volumes: /dev/sdf to /dev/sdz, as the EC2 guide recommends for data volumes. */
export const DEVICES = 'fghijklmnopqrstuvwxyz'.split('').map((c) => `sd${c}`);
const MOUNT_POINT = /^\/[A-Za-z0-9._/-]{0,200}$/;

export function parseEvent(event: unknown): SelectEvent {
  const e = event as Partial<SelectEvent> | undefined;
  if (e?.mode !== 'SNAPSHOTS' && e?.mode !== 'IMAGE') {
    throw new SelectEventError(`mode must be SNAPSHOTS or IMAGE, got ${JSON.stringify(e?.mode)}`);
  }
  if (!e.purposeTagKey || !e.purpose) {
    throw new SelectEventError('purposeTagKey and purpose are required');
  }
  if (typeof e.setWindowSeconds !== 'number' || e.setWindowSeconds < 0) {
    throw new SelectEventError(`setWindowSeconds must be a non-negative number, got ${JSON.stringify(e.setWindowSeconds)}`);
  }
  if (typeof e.mountPoint !== 'string' || !MOUNT_POINT.test(e.mountPoint)) {
    throw new SelectEventError(`mountPoint must be an absolute path of letters, digits and . _ / -, got ${JSON.stringify(e.mountPoint)}`);
  }
  if (e.owner !== undefined && !/^\d{12}$/.test(e.owner)) {
    throw new SelectEventError(`owner must be a 12-digit account id, got ${JSON.stringify(e.owner)}`);
  }
  return e as SelectEvent;
}

/** Group snapshots (newest first) into sets by start time; return the newest set whose members all completed. */
export function newestCompleteSet(snapshots: Snapshot[], windowSeconds: number): Snapshot[] | undefined {
  const dated = snapshots.filter((s) => s.StartTime && s.SnapshotId)
    .sort((a, b) => new Date(b.StartTime!).getTime() - new Date(a.StartTime!).getTime());
  let i = 0;
  while (i < dated.length) {
    const anchor = new Date(dated[i].StartTime!).getTime();
    const set: Snapshot[] = [];
    while (i < dated.length && anchor - new Date(dated[i].StartTime!).getTime() <= windowSeconds * 1000) {
      set.push(dated[i]);
      i++;
    }
    if (set.every((s) => s.State === 'completed')) {
      // one snapshot per volume: a retried job may have snapshotted a volume twice
      const byVolume = new Map<string, Snapshot>();
      for (const s of set) {
        const key = s.VolumeId && s.VolumeId !== 'vol-ffffffff' ? s.VolumeId : s.SnapshotId!;
        if (!byVolume.has(key)) {
          byVolume.set(key, s);
        }
      }
      return [...byVolume.values()];
    }
  }
  return undefined;
}

/** Devices and mount points for a set, in a stable order (by mount-point tag, then volume id). */
export function placeSet(set: Snapshot[], event: SelectEvent): SelectedSnapshot[] {
  if (set.length > DEVICES.length) {
    throw new SelectEventError(`the snapshot set has ${set.length} volumes; a drill attaches at most ${DEVICES.length}`);
  }
  const tagged = (s: Snapshot) => {
    const value = event.mountPointTagKey ? s.Tags?.find((t) => t.Key === event.mountPointTagKey)?.Value : undefined;
    return value !== undefined && MOUNT_POINT.test(value) ? value : undefined;
  };
  const ordered = [...set].sort((a, b) => (tagged(a) ?? '~').localeCompare(tagged(b) ?? '~') || (a.VolumeId ?? '').localeCompare(b.VolumeId ?? ''));
  const used = new Set<string>();
  return ordered.map((s, n) => {
    let mountPoint = tagged(s) ?? (n === 0 ? event.mountPoint : `${event.mountPoint}${n + 1}`);
    if (used.has(mountPoint)) {
      mountPoint = `${mountPoint}-${n + 1}`;
    }
    used.add(mountPoint);
    return { snapshotId: s.SnapshotId!, device: `/dev/${DEVICES[n]}`, mountPoint, volumeSize: s.VolumeSize };
  });
}

async function describeSnapshots(client: EC2Client, event: SelectEvent): Promise<Snapshot[]> {
  const all: Snapshot[] = [];
  let token: string | undefined;
  do {
    const page = await withRetry(() => client.send(new DescribeSnapshotsCommand({
      OwnerIds: [event.owner ?? 'self'],
      Filters: [{ Name: `tag:${event.purposeTagKey}`, Values: [event.purpose] }],
      MaxResults: 1000,
      NextToken: token,
    })));
    all.push(...(page.Snapshots ?? []));
    token = page.NextToken;
  } while (token);
  return all;
}

async function newestImage(client: EC2Client, event: SelectEvent): Promise<Image | undefined> {
  const page = await withRetry(() => client.send(new DescribeImagesCommand({
    Owners: [event.owner ?? 'self'],
    Filters: [{ Name: `tag:${event.purposeTagKey}`, Values: [event.purpose] }, { Name: 'state', Values: ['available'] }],
  })));
  return (page.Images ?? []).filter((i) => i.ImageId && i.CreationDate)
    .sort((a, b) => Date.parse(b.CreationDate!) - Date.parse(a.CreationDate!))[0];
}

export async function select(client: EC2Client, raw: unknown, now: Date = new Date()): Promise<Selection> {
  const event = parseEvent(raw);
  const where = `with tag ${event.purposeTagKey}=${event.purpose} owned by ${event.owner ?? 'this account'}`;
  if (event.mode === 'IMAGE') {
    const image = await newestImage(client, event);
    if (!image) {
      log('WARN', 'no available AMI to drill', { purpose: event.purpose, owner: event.owner });
      return { found: false, reason: `no available AMI ${where}`, snapshots: [], mounts: '' };
    }
    const ageSeconds = Math.round((now.getTime() - Date.parse(image.CreationDate!)) / 1000);
    log('INFO', 'AMI selected', { purpose: event.purpose, imageId: image.ImageId, ageSeconds });
    return { found: true, snapshots: [], imageId: image.ImageId, mounts: '', snapshotTime: image.CreationDate, ageSeconds };
  }
  const set = newestCompleteSet(await describeSnapshots(client, event), event.setWindowSeconds);
  if (!set) {
    log('WARN', 'no complete snapshot set to drill', { purpose: event.purpose, owner: event.owner });
    return { found: false, reason: `no complete snapshot set ${where}`, snapshots: [], mounts: '' };
  }
  const snapshots = placeSet(set, event);
  const oldest = Math.min(...set.map((s) => new Date(s.StartTime!).getTime()));
  const ageSeconds = Math.round((now.getTime() - oldest) / 1000);
  log('INFO', 'snapshot set selected', { purpose: event.purpose, snapshotIds: snapshots.map((s) => s.snapshotId), ageSeconds });
  return {
    found: true,
    snapshots,
    mounts: snapshots.map((s) => `${s.device.replace('/dev/', '')}:${s.mountPoint}`).join(' '),
    snapshotTime: new Date(oldest).toISOString(),
    ageSeconds,
  };
}

let client: EC2Client | undefined;

export async function handler(event: unknown): Promise<Selection> {
  client ??= new EC2Client({});
  return select(client, event);
}
