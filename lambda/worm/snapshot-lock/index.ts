/**
 * Locks each new EBS snapshot that carries the library's purpose tag (EBS Snapshot Lock has no
 * CloudFormation resource). Driven by the EventBridge "EBS Snapshot Notification" events for
 * createSnapshot, createSnapshots and copySnapshot.
 *
 * Idempotent: a snapshot already locked at least as long, in a mode at least as strict, is left
 * alone, so a redelivered event does nothing. Throttling is retried with backoff; any other
 * failure is thrown, so that Lambda's async retries and then the dead-letter queue take it.
 */
import {
  DescribeLockedSnapshotsCommand, DescribeSnapshotsCommand, EC2Client, LockSnapshotCommand, LockedSnapshotsInfo,
} from '@aws-sdk/client-ec2';
import { log } from '../shared/log';
import { withRetry } from '../shared/retry';

/** What the construct configures through the environment. */
export interface LockSettings {
  readonly mode: 'governance' | 'compliance';
  readonly durationDays: number;
  readonly coolOffHours?: number;
  readonly purposeTagKey: string;
  /** Only these purpose values; empty for any. */
  readonly purposes: string[];
}

/** The part of an EBS Snapshot Notification event the handler reads. */
export interface SnapshotEvent {
  readonly resources?: string[];
  readonly detail?: {
    readonly event?: string;
    readonly result?: string;
    readonly snapshot_id?: string;
    readonly snapshots?: Array<{ readonly snapshot_id?: string; readonly status?: string }>;
  };
}

export type Outcome = 'locked' | 'extended' | 'already-locked' | 'no-purpose-tag' | 'other-purpose' | 'not-found';

export interface LockResult {
  readonly snapshotId: string;
  readonly outcome: Outcome;
  readonly purpose?: string;
}

export interface Deps {
  readonly ec2: EC2Client;
  readonly settings: LockSettings;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Read the settings from the environment; a missing or bad value is a deployment error. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): LockSettings {
  const mode = env.LOCK_MODE;
  if (mode !== 'governance' && mode !== 'compliance') {
    throw new Error(`LOCK_MODE must be governance or compliance, got '${mode}'`);
  }
  const durationDays = Number(env.LOCK_DURATION_DAYS);
  if (!Number.isInteger(durationDays) || durationDays < 1 || durationDays > 36500) {
    throw new Error(`LOCK_DURATION_DAYS must be an integer between 1 and 36500, got '${env.LOCK_DURATION_DAYS}'`);
  }
  const coolOffHours = env.COOL_OFF_HOURS ? Number(env.COOL_OFF_HOURS) : undefined;
  if (!env.PURPOSE_TAG_KEY) {
    throw new Error('PURPOSE_TAG_KEY must be set');
  }
  return {
    mode,
    durationDays,
    coolOffHours,
    purposeTagKey: env.PURPOSE_TAG_KEY,
    purposes: env.PURPOSES ? JSON.parse(env.PURPOSES) as string[] : [],
  };
}

/** The snapshot ids an event names: `snap-...` from the ARNs in the detail and the resources. */
export function snapshotIds(event: SnapshotEvent): string[] {
  const detail = event.detail ?? {};
  if (detail.result !== undefined && detail.result !== 'succeeded') {
    return [];
  }
  const arns = [
    detail.snapshot_id,
    ...(detail.snapshots ?? []).filter((s) => s.status === undefined || s.status === 'completed').map((s) => s.snapshot_id),
    ...(event.resources ?? []),
  ];
  const ids = arns
    .filter((a): a is string => typeof a === 'string')
    .map((a) => /(snap-[0-9a-f]+)$/.exec(a)?.[1])
    .filter((id): id is string => id !== undefined);
  return [...new Set(ids)];
}

const STRICTNESS: Record<string, number> = { 'governance': 1, 'compliance-cooloff': 2, 'compliance': 2 };

/** True when the existing lock already gives what we would ask for. */
export function alreadyLocked(lock: LockedSnapshotsInfo | undefined, settings: LockSettings, now: Date): boolean {
  if (!lock?.LockState || lock.LockState === 'expired' || !lock.LockExpiresOn) {
    return false;
  }
  const wanted = now.getTime() + settings.durationDays * 86_400_000;
  // A day's tolerance: the lock made for the same event a little earlier counts.
  const longEnough = lock.LockExpiresOn.getTime() >= wanted - 86_400_000;
  return longEnough && (STRICTNESS[lock.LockState] ?? 0) >= STRICTNESS[settings.mode];
}

async function lockOne(snapshotId: string, deps: Deps): Promise<LockResult> {
  const { ec2, settings } = deps;
  const retry = { sleep: deps.sleep };
  let tags: Array<{ Key?: string; Value?: string }> | undefined;
  try {
    const described = await withRetry(() => ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })), retry);
    const snapshot = described.Snapshots?.[0];
    if (!snapshot) {
      return { snapshotId, outcome: 'not-found' };
    }
    tags = snapshot.Tags;
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidSnapshot.NotFound') {
      return { snapshotId, outcome: 'not-found' };
    }
    throw err;
  }
  const purpose = tags?.find((t) => t.Key === settings.purposeTagKey)?.Value;
  if (purpose === undefined) {
    return { snapshotId, outcome: 'no-purpose-tag' };
  }
  if (settings.purposes.length > 0 && !settings.purposes.includes(purpose)) {
    return { snapshotId, outcome: 'other-purpose', purpose };
  }
  const locks = await withRetry(() => ec2.send(new DescribeLockedSnapshotsCommand({ SnapshotIds: [snapshotId] })), retry);
  const existing = locks.Snapshots?.[0];
  if (alreadyLocked(existing, settings, (deps.now ?? (() => new Date()))())) {
    return { snapshotId, outcome: 'already-locked', purpose };
  }
  // A compliance lock cannot become a governance lock, only be extended; a cool-off period is
  // only given for a new lock.
  const compliant = existing?.LockState === 'compliance' || existing?.LockState === 'compliance-cooloff';
  const mode = compliant ? 'compliance' : settings.mode;
  const fresh = !existing?.LockState || existing.LockState === 'expired';
  await withRetry(() => ec2.send(new LockSnapshotCommand({
    SnapshotId: snapshotId,
    LockMode: mode,
    LockDuration: settings.durationDays,
    CoolOffPeriod: mode === 'compliance' && fresh ? settings.coolOffHours : undefined,
  })), retry);
  return { snapshotId, outcome: compliant || !fresh ? 'extended' : 'locked', purpose };
}

/** Lock every snapshot the event names; throw after trying all if any failed. */
export async function lockSnapshots(event: SnapshotEvent, deps: Deps): Promise<LockResult[]> {
  const results: LockResult[] = [];
  const failures: string[] = [];
  for (const snapshotId of snapshotIds(event)) {
    try {
      const result = await lockOne(snapshotId, deps);
      results.push(result);
      log(result.outcome === 'no-purpose-tag' ? 'WARN' : 'INFO', `snapshot ${result.outcome}`, {
        snapshotId, purpose: result.purpose, outcome: result.outcome, mode: deps.settings.mode, durationDays: deps.settings.durationDays,
      });
    } catch (err) {
      const e = err as { name?: string; message?: string };
      failures.push(`${snapshotId}: ${e.name ?? 'Error'}: ${e.message ?? ''}`);
      log('ERROR', 'snapshot lock failed', { snapshotId, outcome: 'failed', error: e.name });
    }
  }
  if (failures.length > 0) {
    throw new Error(`could not lock ${failures.length} snapshot(s): ${failures.join('; ')}`);
  }
  return results;
}

let client: EC2Client | undefined;

export async function handler(event: SnapshotEvent): Promise<LockResult[]> {
  client ??= new EC2Client({});
  return lockSnapshots(event, { ec2: client, settings: settingsFromEnv(process.env) });
}
