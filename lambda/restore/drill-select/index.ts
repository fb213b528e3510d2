/**
 * Pick what a RestoreDrill restores: the newest complete snapshot set of ONE source instance (or
 * the newest available AMI) for the drill's purpose, owned by this account or shared by an
 * archive account.
 *
 * A "set" is the snapshots that one multi-volume `CreateSnapshots` call (or one DLM run) took of
 * one instance: snapshots attributed to the same source instance whose start times lie within the
 * set window of the set's newest. EC2's DescribeSnapshots names no instance, so the source is what
 * the creator recorded at creation: a source-instance tag (the library's `source-instance` tag,
 * or a DLM variable tag `$(instance-id)` named by the drill), else an instance id in the snapshot
 * description (written by its creator). A schedule
 * that snapshots many instances at one moment thus yields one set per instance, never a mix.
 * A set with any snapshot still pending (or in error) is not complete, and the next older set of
 * that instance is taken, so a drill never restores half a database.
 *
 * Shared snapshots: EC2 tags are not visible across accounts (DescribeSnapshots returns the
 * owner's tags to the owner only), so snapshots of another account are found by owner, by
 * `restorable-by` this account and by the purpose in their description, and attributed by the
 * instance id in their description.
 *
 * Creation records: when the drill names the creators of its purpose (`creators`), an artefact of
 * this account is a candidate only if it carries, from its creation, a creator's managed-by tag
 * and that creator's execution tag, and the creator's own service records a run of it in progress
 * when the artefact started (a minute of clock skew either side):
 * - a ConsistentSnapshotJob: the tag names an execution of the job's own state machine
 *   (Step Functions `DescribeExecution`);
 * - a maintenance window: the tag holds the window's id, and SSM records an execution of that
 *   window (`DescribeMaintenanceWindowExecutions`);
 * - a runbook: the tag holds an Automation execution id of the runbook's own document
 *   (`GetAutomationExecution`).
 * A look-alike with the drill's purpose but no such record is never restored; its id is logged.
 * What a record cannot rule out: a look-alike created, with the creator's tags, while one of the
 * creator's runs is in progress (the write-once guard's trusted-tag denies leave only creation).
 *
 * Read-only, so safe to retry. The EC2, Step Functions and SSM clients are parameters, for tests.
 */
import { DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Image, Snapshot, Tag } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DescribeMaintenanceWindowExecutionsCommand, GetAutomationExecutionCommand, SSMClient } from '@aws-sdk/client-ssm';
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
  /** Snapshot tags that name the source instance, in order of preference. */
  readonly sourceInstanceTagKeys?: string[];
  /** The managed-by tag key (with `creators`). */
  readonly managedByTagKey?: string;
  /**
   * The constructs that create artefacts of this purpose. When given (own account only), only
   * artefacts carrying one's creation record are candidates.
   */
  readonly creators?: Creator[];
}

/** A creator of the drill's artefacts, and the record it writes at creation. */
export interface Creator {
  /** Its managed-by tag value. */
  readonly managedBy: string;
  /** The tag holding the id of the run that created the artefact. */
  readonly executionTagKey: string;
  /** A ConsistentSnapshotJob's state machine: the execution tag must name a run of it. */
  readonly stateMachineArn?: string;
  /** A maintenance window's id: the execution tag must hold it, and SSM record a run of the window. */
  readonly windowId?: string;
  /** A runbook's SSM Automation document: the execution tag must name an Automation execution of it. */
  readonly automationDocument?: string;
}

/** The group of snapshots that record no source instance (grouped by start time alone). */
export const UNATTRIBUTED = 'unattributed';

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
  /** The AMI's platform: `windows` or `linux` (image drills only). */
  readonly platform?: string;
  /** The instance the restored set was taken of, or `unattributed` when its creator recorded none. */
  readonly sourceInstance?: string;
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
  if (e.sourceInstanceTagKeys !== undefined) {
    if (!Array.isArray(e.sourceInstanceTagKeys)) {
      throw new SelectEventError(`sourceInstanceTagKeys must be a list of tag keys, got ${JSON.stringify(e.sourceInstanceTagKeys)}`);
    }
    const bad = e.sourceInstanceTagKeys.findIndex((k) => typeof k !== 'string' || !k);
    if (bad >= 0) {
      throw new SelectEventError(`sourceInstanceTagKeys[${bad}] must be a non-empty tag key, got ${JSON.stringify(e.sourceInstanceTagKeys[bad])}`);
    }
  }
  if (e.creators !== undefined) {
    if (!Array.isArray(e.creators) || !e.managedByTagKey) {
      throw new SelectEventError(`creators must be a list of { managedBy, executionTagKey } with managedByTagKey, got ${JSON.stringify(e.creators)}`);
    }
    const bad = e.creators.findIndex((c) => creatorFault(c) !== undefined);
    if (bad >= 0) {
      throw new SelectEventError(`creators[${bad}] ${creatorFault(e.creators[bad])}, got ${JSON.stringify(e.creators[bad])}`);
    }
  }
  return e as SelectEvent;
}

/** What is wrong with one creator of the event, or undefined when nothing is. */
function creatorFault(c: Creator | undefined): string | undefined {
  if (!c || typeof c.managedBy !== 'string' || !c.managedBy || typeof c.executionTagKey !== 'string' || !c.executionTagKey) {
    return 'must be { managedBy, executionTagKey }, each a non-empty string';
  }
  const ways = [c.stateMachineArn, c.windowId, c.automationDocument].filter((v) => v !== undefined);
  if (ways.length > 1 || !ways.every((v) => typeof v === 'string' && v)) {
    return 'names at most one of stateMachineArn, windowId and automationDocument, each a non-empty string';
  }
  return undefined;
}

const tagOf = (tags: Tag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;

/** `arn:<p>:states:<r>:<a>:stateMachine:<name>` -> `arn:<p>:states:<r>:<a>:execution:<name>:` */
function executionPrefix(stateMachineArn: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
}

/** A run as its service records it: start and, once it ended, end (ms since the epoch). */
interface Run {
  readonly start: number;
  readonly stop?: number;
}

/** A window execution's record is about 300 bytes; 100 is the API's maximum page. */
const WINDOW_EXECUTION_PAGE = 100;
/** A maintenance window runs at most 24 hours, so its run of an artefact started at most a day before it. */
const MAX_WINDOW_RUN_MS = 24 * 3600_000;
/** Clock skew allowed between a run's record and an artefact's start, either side. */
const SKEW_MS = 60_000;

const inRun = (run: Run | undefined, at: number) =>
  run !== undefined && at >= run.start - SKEW_MS && (run.stop === undefined || at <= run.stop + SKEW_MS);
const ms = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).getTime());

/**
 * The creators' own records of their runs, each read once per drill: job executions by ARN,
 * window executions per window (from a day before the oldest candidate), Automation executions by id.
 */
export class RunRecords {
  private readonly jobRuns = new Map<string, Promise<Run | undefined>>();
  private readonly windowRuns = new Map<string, Promise<Run[]>>();
  private readonly automationRuns = new Map<string, Promise<(Run & { document?: string }) | undefined>>();

  /** `since`: the oldest candidate's start; window executions are read from a day before it. */
  constructor(private readonly sfnClient: SFNClient, private readonly ssmClient: SSMClient, private readonly since: Date) {}

  /** Whether `creator`'s service records a run named by `execution` in progress at `at`. */
  public async recorded(creator: Creator, execution: string, at: number): Promise<boolean> {
    if (creator.stateMachineArn) {
      return execution.startsWith(executionPrefix(creator.stateMachineArn)) && inRun(await this.jobRun(execution), at);
    }
    if (creator.windowId) {
      return execution === creator.windowId && (await this.windowRunsOf(creator.windowId)).some((run) => inRun(run, at));
    }
    if (creator.automationDocument) {
      const run = await this.automationRun(execution);
      return run?.document === creator.automationDocument && inRun(run, at);
    }
    // a creator whose runs no service records (none the library registers): its tags only
    return true;
  }

  private jobRun(executionArn: string): Promise<Run | undefined> {
    return once(this.jobRuns, executionArn, () => withRetry(() => this.sfnClient.send(new DescribeExecutionCommand({ executionArn }))).then(
      (d) => ({ start: ms(d.startDate)!, stop: ms(d.stopDate) }),
      notFound('ExecutionDoesNotExist')));
  }

  private windowRunsOf(windowId: string): Promise<Run[]> {
    return once(this.windowRuns, windowId, async () => {
      const runs: Run[] = [];
      let token: string | undefined;
      do {
        const page = await withRetry(() => this.ssmClient.send(new DescribeMaintenanceWindowExecutionsCommand({
          WindowId: windowId,
          Filters: [{ Key: 'ExecutionStartSince', Values: [new Date(this.since.getTime() - MAX_WINDOW_RUN_MS - SKEW_MS).toISOString()] }],
          MaxResults: WINDOW_EXECUTION_PAGE,
          NextToken: token,
        })));
        for (const e of page.WindowExecutions ?? []) {
          if (e.StartTime !== undefined) {
            runs.push({ start: ms(e.StartTime)!, stop: ms(e.EndTime) });
          }
        }
        token = page.NextToken;
      } while (token);
      return runs;
    });
  }

  private automationRun(id: string): Promise<(Run & { document?: string }) | undefined> {
    const read = () => this.ssmClient.send(new GetAutomationExecutionCommand({ AutomationExecutionId: id }));
    return once(this.automationRuns, id, () => withRetry(read).then(
      (d) => (d.AutomationExecution?.ExecutionStartTime === undefined ? undefined : {
        start: ms(d.AutomationExecution.ExecutionStartTime)!,
        stop: ms(d.AutomationExecution.ExecutionEndTime),
        document: d.AutomationExecution.DocumentName,
      }),
      notFound('AutomationExecutionNotFoundException')));
  }
}

function once<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  if (!cache.has(key)) {
    cache.set(key, read());
  }
  return cache.get(key)!;
}

/** A run that does not exist is no record; any other error fails the selection. */
function notFound(name: string): (err: unknown) => undefined {
  return (err) => {
    if ((err as Error).name === name) {
      return undefined;
    }
    throw err;
  };
}

/**
 * Whether an artefact created at `createdAt` carries a valid creation record of one of the
 * creators: its managed-by tag, its execution tag, and a run of it that its service records.
 */
export async function hasCreationRecord(records: RunRecords, tags: Tag[] | undefined, createdAt: Date, event: SelectEvent): Promise<boolean> {
  const managedBy = tagOf(tags, event.managedByTagKey!);
  for (const creator of (event.creators ?? []).filter((c) => c.managedBy === managedBy)) {
    const execution = tagOf(tags, creator.executionTagKey);
    if (execution && await records.recorded(creator, execution, createdAt.getTime())) {
      return true;
    }
  }
  return false;
}

/** The artefacts that carry a valid creation record (all of them when the drill names no creators). */
async function withCreationRecord<T>(clients: Clients, items: T[], event: SelectEvent, tags: (t: T) => Tag[] | undefined,
  createdAt: (t: T) => Date, id: (t: T) => string | undefined): Promise<T[]> {
  if (event.creators === undefined || event.owner !== undefined || items.length === 0) {
    return items;
  }
  const records = new RunRecords(clients.sfn, clients.ssm, new Date(Math.min(...items.map((i) => createdAt(i).getTime()))));
  const kept: T[] = [];
  const refused: string[] = [];
  for (const item of items) {
    if (await hasCreationRecord(records, tags(item), createdAt(item), event)) {
      kept.push(item);
    } else {
      refused.push(id(item) ?? '?');
    }
  }
  if (refused.length > 0) {
    log('WARN', 'artefacts with the drill\'s purpose but no creation record of its creators are never restored', { purpose: event.purpose, refused: refused.slice(0, 50) });
  }
  return kept;
}

/** An instance id as EC2 writes it: `i-` and 8 or 17 hexadecimal digits. */
const INSTANCE_ID = /\bi-(?:[0-9a-f]{17}|[0-9a-f]{8})\b/;

/**
 * The instance a snapshot was taken of, as its creator recorded it: the first source-instance tag
 * that holds an instance id, else the instance id in the description; `unattributed` otherwise.
 */
export function sourceInstanceOf(snapshot: Snapshot, tagKeys: readonly string[] = []): string {
  for (const key of tagKeys) {
    const value = snapshot.Tags?.find((t) => t.Key === key)?.Value?.match(INSTANCE_ID)?.[0];
    if (value) {
      return value;
    }
  }
  return snapshot.Description?.match(INSTANCE_ID)?.[0] ?? UNATTRIBUTED;
}

/**
 * The newest complete set of each source instance, and which one to drill: the newest of those
 * sets (ties by instance id, for a stable choice). Snapshots of different instances never share a set.
 */
export function newestCompleteSetPerInstance(snapshots: Snapshot[], windowSeconds: number, tagKeys: readonly string[] = []):
{ sourceInstance: string; set: Snapshot[] } | undefined {
  const byInstance = new Map<string, Snapshot[]>();
  for (const s of snapshots) {
    const key = sourceInstanceOf(s, tagKeys);
    // appended in place: copying the group per snapshot is quadratic in one instance's (or the unattributed) snapshots
    const group = byInstance.get(key);
    if (group) {
      group.push(s);
    } else {
      byInstance.set(key, [s]);
    }
  }
  const newest = (set: Snapshot[]) => Math.max(...set.map((s) => new Date(s.StartTime!).getTime()));
  let best: { sourceInstance: string; set: Snapshot[] } | undefined;
  for (const [sourceInstance, group] of [...byInstance.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const set = newestCompleteSet(group, windowSeconds);
    if (set && (!best || newest(set) > newest(best.set))) {
      best = { sourceInstance, set };
    }
  }
  return best;
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

/** Why a set cannot be drilled, or undefined when it can. */
export function unplaceable(set: Snapshot[], sourceInstance: string): string | undefined {
  return set.length > DEVICES.length
    ? `the newest complete snapshot set of ${sourceInstance} has ${set.length} volumes; a drill attaches at most ${DEVICES.length} ` +
      `(/dev/sdf to /dev/sdz)${sourceInstance === UNATTRIBUTED ? ': its snapshots record no source instance, so several instances may share one start time; tag them with the source instance' : ''}`
    : undefined;
}

/** Devices and mount points for a set, in a stable order (by mount-point tag, then volume id). */
export function placeSet(set: Snapshot[], event: SelectEvent): SelectedSnapshot[] {
  if (set.length > DEVICES.length) {
    throw new SelectEventError(unplaceable(set, UNATTRIBUTED)!);
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

/** Whether `text` names the purpose as a whole word (`db` not inside `db-replica`). */
export function namesPurpose(text: string | undefined, purpose: string): boolean {
  const word = /[\p{L}\p{N}_\-@]/u;
  for (let at = text?.indexOf(purpose) ?? -1; text && at >= 0; at = text.indexOf(purpose, at + 1)) {
    const before = text[at - 1];
    const after = text[at + purpose.length];
    if ((before === undefined || !word.test(before)) && (after === undefined || !word.test(after))) {
      return true;
    }
  }
  return false;
}

async function describeSnapshots(client: EC2Client, event: SelectEvent): Promise<Snapshot[]> {
  const all: Snapshot[] = [];
  let token: string | undefined;
  // The owner's tags are invisible to other accounts: a shared snapshot is found by who may
  // restore it and by its description, and only its owner's own snapshots by the purpose tag.
  const shared = event.owner !== undefined;
  do {
    const page = await withRetry(() => client.send(new DescribeSnapshotsCommand({
      ...shared
        ? {
          OwnerIds: [event.owner!],
          RestorableByUserIds: ['self'],
          Filters: [{ Name: 'description', Values: [`*${event.purpose.replace(/[*?\\]/g, (c) => `\\${c}`)}*`] }],
        }
        : { OwnerIds: ['self'], Filters: [{ Name: `tag:${event.purposeTagKey}`, Values: [event.purpose] }] },
      MaxResults: 1000,
      NextToken: token,
    })));
    for (const snapshot of page.Snapshots ?? []) {
      all.push(forSelection(snapshot));
    }
    token = page.NextToken;
  } while (token);
  return shared ? all.filter((s) => namesPurpose(s.Description, event.purpose)) : all;
}

/**
 * A DescribeSnapshots record trimmed to what selection reads (id, volume, state, start, size,
 * description, tags): an account of 100,000 snapshots stays a few tens of MB in the function's memory.
 */
export function forSelection(s: Snapshot): Snapshot {
  return {
    SnapshotId: s.SnapshotId,
    VolumeId: s.VolumeId,
    State: s.State,
    StartTime: s.StartTime,
    VolumeSize: s.VolumeSize,
    Description: s.Description,
    OwnerId: s.OwnerId,
    Tags: s.Tags,
  };
}

/** The clients that read the creators' records of their runs. */
interface Clients {
  readonly sfn: SFNClient;
  readonly ssm: SSMClient;
}

async function newestImage(client: EC2Client, clients: Clients, event: SelectEvent): Promise<Image | undefined> {
  const shared = event.owner !== undefined;
  const page = await withRetry(() => client.send(new DescribeImagesCommand({
    Owners: [event.owner ?? 'self'],
    ...shared ? { ExecutableUsers: ['self'] } : {},
    Filters: [
      ...shared ? [] : [{ Name: `tag:${event.purposeTagKey}`, Values: [event.purpose] }],
      { Name: 'state', Values: ['available'] },
    ],
  })));
  const candidates = (page.Images ?? []).filter((i) => i.ImageId && i.CreationDate)
    .filter((i) => !shared || namesPurpose(i.Description, event.purpose) || namesPurpose(i.Name, event.purpose));
  return (await withCreationRecord(clients, candidates, event, (i) => i.Tags, (i) => new Date(i.CreationDate!), (i) => i.ImageId))
    .sort((a, b) => Date.parse(b.CreationDate!) - Date.parse(a.CreationDate!))[0];
}

export async function select(client: EC2Client, raw: unknown, now: Date = new Date(), sfnClient: SFNClient = new SFNClient({}),
  ssmClient: SSMClient = new SSMClient({})): Promise<Selection> {
  const event = parseEvent(raw);
  const clients: Clients = { sfn: sfnClient, ssm: ssmClient };
  const where = event.owner === undefined
    ? `with tag ${event.purposeTagKey}=${event.purpose} owned by this account`
    : `owned by ${event.owner}, restorable by this account, whose description names ${event.purpose} (tags of another account are not visible)`;
  if (event.mode === 'IMAGE') {
    const image = await newestImage(client, clients, event);
    if (!image) {
      log('WARN', 'no available AMI to drill', { purpose: event.purpose, owner: event.owner });
      const whereImage = event.owner === undefined ? where
        : `owned by ${event.owner}, launchable by this account, whose name or description names ${event.purpose} (tags of another account are not visible)`;
      return { found: false, reason: `no available AMI ${whereImage}`, snapshots: [], mounts: '' };
    }
    const ageSeconds = Math.round((now.getTime() - Date.parse(image.CreationDate!)) / 1000);
    const platform = String(image.Platform ?? '').toLowerCase() === 'windows' || /^windows/i.test(image.PlatformDetails ?? '') ? 'windows' : 'linux';
    log('INFO', 'AMI selected', { purpose: event.purpose, imageId: image.ImageId, platform, ageSeconds });
    return { found: true, snapshots: [], imageId: image.ImageId, platform, mounts: '', snapshotTime: image.CreationDate, ageSeconds };
  }
  const recorded = await withCreationRecord(clients, await describeSnapshots(client, event), event, (s) => s.Tags,
    (s) => new Date(s.StartTime!), (s) => s.SnapshotId);
  const chosen = newestCompleteSetPerInstance(recorded, event.setWindowSeconds, event.sourceInstanceTagKeys);
  if (!chosen) {
    log('WARN', 'no complete snapshot set to drill', { purpose: event.purpose, owner: event.owner });
    return { found: false, reason: `no complete snapshot set ${where}`, snapshots: [], mounts: '' };
  }
  const { set, sourceInstance } = chosen;
  const tooMany = unplaceable(set, sourceInstance);
  if (tooMany) {
    log('ERROR', 'snapshot set too large to drill', { purpose: event.purpose, sourceInstance, volumes: set.length });
    return { found: false, reason: tooMany, snapshots: [], mounts: '', sourceInstance };
  }
  const snapshots = placeSet(set, event);
  const oldest = Math.min(...set.map((s) => new Date(s.StartTime!).getTime()));
  const ageSeconds = Math.round((now.getTime() - oldest) / 1000);
  log('INFO', 'snapshot set selected', { purpose: event.purpose, sourceInstance, snapshotIds: snapshots.map((s) => s.snapshotId), ageSeconds });
  return {
    found: true,
    sourceInstance,
    snapshots,
    mounts: snapshots.map((s) => `${s.device.replace('/dev/', '')}:${s.mountPoint}`).join(' '),
    snapshotTime: new Date(oldest).toISOString(),
    ageSeconds,
  };
}

let client: EC2Client | undefined;
let sfnClient: SFNClient | undefined;
let ssmClient: SSMClient | undefined;

export async function handler(event: unknown): Promise<Selection> {
  client ??= new EC2Client({});
  sfnClient ??= new SFNClient({});
  ssmClient ??= new SSMClient({});
  return select(client, event, new Date(), sfnClient, ssmClient);
}
