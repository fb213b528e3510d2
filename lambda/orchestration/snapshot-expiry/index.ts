/**
 * Expire the old artefacts (snapshots or AMIs) of one ConsistentSnapshotJob, which no DLM policy
 * owns. Called by the job's state machine after a successful run.
 *
 * What is deleted is decided only from the function's environment (set by the construct), the
 * artefacts' own tags and the state machine's own execution history, never from the event, and
 * the role may only delete artefacts that carry the job's managed-by tag. Idempotent: an artefact
 * already gone counts as expired.
 *
 * Tags can be planted (snapshots of the real volumes, tagged after the fact with the job's
 * purpose, managed-by and execution tags) and anyone allowed to invoke the function can pass any
 * `executionId`. So the function trusts neither: it lists the executions of the job's state
 * machine (`states:ListExecutions`, which its role may call on that one machine only, so an
 * `executionId` of another machine fails the run) and
 * - runs only as part of a RUNNING execution of the machine: a forged `executionId` expires nothing;
 * - ranks runs by the execution's own start date from that history, not by artefact dates;
 * - counts only runs the history records, plus runs older than the history (Step Functions keeps
 *   closed executions 90 days; EC2 sets a snapshot's start time, so nothing can be planted in the
 *   past). An execution tag the history does not know on an artefact newer than the history is a
 *   look-alike: never counted, never deleted, logged.
 * The state machine ARN comes from the execution ARN and is checked by IAM rather than read from
 * the environment: the machine references the function, so the function cannot reference it back
 * without a dependency cycle.
 */
import {
  DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Filter, Tag,
} from '@aws-sdk/client-ec2';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { log } from '../../shared/log';
import { withRetry } from '../../shared/retry';

/** The job's settings, from the environment. */
export interface ExpiryConfig {
  readonly resourceType: 'snapshot' | 'image';
  /** Tag key and value that identify the job's artefacts. */
  readonly purposeKey: string;
  readonly purpose: string;
  readonly managedByKey: string;
  readonly managedBy: string;
  /** Tag key holding the execution id that created an artefact. */
  readonly executionKey: string;
  /** Keep the newest N runs' artefacts... */
  readonly retainCount?: number;
  /** ...or every artefact younger than N days. */
  readonly retainDays?: number;
  /** Report what would be deleted, delete nothing. */
  readonly dryRun: boolean;
  /** At most this many deletions per run, a bound on the damage of a wrong tag. */
  readonly maxDeletions: number;
}

/** The state machine's input to the function. */
export interface ExpiryEvent {
  /**
   * The execution that just created artefacts: never expired. Used only if the machine's own
   * history lists it as RUNNING.
   */
  readonly executionId: string;
}

/** An execution of the job's state machine, as its history records it. */
export interface RecordedExecution {
  readonly arn: string;
  readonly start: Date;
  readonly status: string;
}

/** The job's state machine's executions: its history, which callers cannot write to. */
export type ExecutionHistory = (stateMachineArn: string) => Promise<RecordedExecution[]>;

/** The runs expiry may count: recorded executions, and the start of the recorded history. */
export interface Runs {
  readonly recorded: ReadonlyMap<string, Date>;
  /** Artefacts created before this are older than the history and counted by their own date. */
  readonly horizon: Date;
}

export interface ExpiryResult {
  readonly resourceType: string;
  readonly dryRun: boolean;
  readonly found: number;
  readonly kept: number;
  readonly expired: string[];
  /** The first RESULT_ID_LIMIT skipped ids (the connector result stays within 256 KiB). */
  readonly skipped: string[];
  readonly skippedCount: number;
}

interface Artefact {
  readonly id: string;
  readonly created: Date;
  readonly execution?: string;
  readonly pending: boolean;
}

export class ExpiryConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpiryConfigError';
  }
}

/** Read and check the environment. */
export function readConfig(env: NodeJS.ProcessEnv): ExpiryConfig {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) {
      throw new ExpiryConfigError(`environment variable ${name} is required`);
    }
    return v;
  };
  const resourceType = need('RESOURCE_TYPE');
  if (resourceType !== 'snapshot' && resourceType !== 'image') {
    throw new ExpiryConfigError(`RESOURCE_TYPE must be 'snapshot' or 'image', got '${resourceType}'`);
  }
  const int = (name: string): number | undefined => {
    if (env[name] === undefined || env[name] === '') {
      return undefined;
    }
    const n = Number(env[name]);
    if (!Number.isInteger(n) || n < 1) {
      throw new ExpiryConfigError(`${name} must be a positive integer, got '${env[name]}'`);
    }
    return n;
  };
  const retainCount = int('RETAIN_COUNT');
  const retainDays = int('RETAIN_DAYS');
  if ((retainCount === undefined) === (retainDays === undefined)) {
    throw new ExpiryConfigError('exactly one of RETAIN_COUNT and RETAIN_DAYS must be set');
  }
  return {
    resourceType,
    purposeKey: need('PURPOSE_TAG_KEY'),
    purpose: need('PURPOSE'),
    managedByKey: need('MANAGED_BY_TAG_KEY'),
    managedBy: need('MANAGED_BY'),
    executionKey: need('EXECUTION_TAG_KEY'),
    retainCount,
    retainDays,
    dryRun: env.DRY_RUN === 'true',
    maxDeletions: int('MAX_DELETIONS') ?? 500,
  };
}

/** Records per describe page (the APIs' maximum): only four fields of each are kept. */
export const PAGE_SIZE = 1000;
/**
 * Skipped ids listed in the result. The result is a Lambda task's connector result, which Step
 * Functions caps at 256 KiB (States.DataLimitExceeded): `skippedCount` is complete, the list is not.
 */
export const RESULT_ID_LIMIT = 1000;

/** Every artefact of the job, across pages. */
export async function listArtefacts(ec2: EC2Client, config: ExpiryConfig): Promise<Artefact[]> {
  const filters: Filter[] = [
    { Name: `tag:${config.purposeKey}`, Values: [config.purpose] },
    { Name: `tag:${config.managedByKey}`, Values: [config.managedBy] },
  ];
  const tagOf = (tags: Tag[] | undefined) => tags?.find((t) => t.Key === config.executionKey)?.Value;
  const out: Artefact[] = [];
  let token: string | undefined;
  do {
    if (config.resourceType === 'snapshot') {
      const page = await withRetry(() => ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters, NextToken: token, MaxResults: PAGE_SIZE })));
      for (const s of page.Snapshots ?? []) {
        out.push({ id: s.SnapshotId!, created: new Date(s.StartTime!), execution: tagOf(s.Tags), pending: s.State === 'pending' });
      }
      token = page.NextToken;
    } else {
      const page = await withRetry(() => ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: filters, NextToken: token, MaxResults: PAGE_SIZE })));
      for (const i of page.Images ?? []) {
        out.push({ id: i.ImageId!, created: new Date(i.CreationDate!), execution: tagOf(i.Tags), pending: i.State === 'pending' });
      }
      token = page.NextToken;
    }
  } while (token);
  return out;
}

/** `arn:aws:states:r:a:execution:Machine:name` -> `arn:aws:states:r:a:stateMachine:Machine`, or undefined. */
export function stateMachineOf(executionArn: string): string | undefined {
  const m = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):execution:([A-Za-z0-9_-]{1,80}):[^:]+$/.exec(executionArn);
  return m ? `arn:${m[1]}:states:${m[2]}:${m[3]}:stateMachine:${m[4]}` : undefined;
}

/** Every execution Step Functions still records for the machine, across pages. */
export function listExecutions(sfn: SFNClient): ExecutionHistory {
  return async (stateMachineArn) => {
    const out: RecordedExecution[] = [];
    let nextToken: string | undefined;
    do {
      const page = await withRetry(() => sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, nextToken })));
      for (const e of page.executions ?? []) {
        out.push({ arn: e.executionArn!, start: new Date(e.startDate!), status: e.status! });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };
}

/** The runs expiry may count, from the machine's history. */
export function runsOf(executions: RecordedExecution[]): Runs {
  const recorded = new Map(executions.map((e) => [e.arn, e.start] as [string, Date]));
  const horizon = new Date(Math.min(...executions.map((e) => e.start.getTime())));
  return { recorded, horizon };
}

/**
 * Which artefacts retention expires. Count retention counts runs (one run makes a set of
 * artefacts across instances and volumes), so a set is kept or expired whole; age retention
 * looks at each artefact. The current run, artefacts without an execution tag and pending ones
 * are never expired. Under count retention a run is ranked by its execution's recorded start;
 * an artefact of an execution the history does not know, created after the history begins, is
 * a look-alike: skipped, never counted.
 */
export function selectExpired(artefacts: Artefact[], config: ExpiryConfig, currentExecution: string, now: Date, runs: Runs): {
  expired: Artefact[]; skipped: Artefact[]; lookAlikes: Artefact[];
} {
  const lookAlike = (a: Artefact) => !!a.execution && !runs.recorded.has(a.execution) && a.created.getTime() >= runs.horizon.getTime();
  const lookAlikes = config.retainCount !== undefined ? artefacts.filter(lookAlike) : [];
  // sets, not list searches: with many skipped artefacts a search per artefact is quadratic
  const isLookAlike = new Set(lookAlikes);
  const skipped = artefacts.filter((a) => !a.execution || a.pending || isLookAlike.has(a));
  const isSkipped = new Set(skipped);
  const eligible = artefacts.filter((a) => !isSkipped.has(a));
  let expired: Artefact[];
  if (config.retainDays !== undefined) {
    const cutoff = now.getTime() - config.retainDays * 86_400_000;
    expired = eligible.filter((a) => a.execution !== currentExecution && a.created.getTime() < cutoff);
  } else {
    const counted = new Map<string, Date>();
    for (const a of artefacts.filter((x) => x.execution && !isLookAlike.has(x))) {
      const recordedStart = runs.recorded.get(a.execution!);
      if (recordedStart) {
        counted.set(a.execution!, recordedStart); // the history's date, which no tag can move
      } else if (!counted.has(a.execution!) || counted.get(a.execution!)! < a.created) {
        counted.set(a.execution!, a.created); // older than the history: EC2's creation time
      }
    }
    counted.set(currentExecution, new Date(8.64e15)); // the current run is always the newest
    const keep = new Set([...counted.entries()].sort((x, y) => y[1].getTime() - x[1].getTime()).slice(0, config.retainCount!).map(([e]) => e));
    expired = eligible.filter((a) => !keep.has(a.execution!));
  }
  expired.sort((x, y) => x.created.getTime() - y.created.getTime());
  return { expired, skipped, lookAlikes };
}

/** Delete one artefact; false when AWS says it cannot be deleted now (in use by an AMI, say). */
export async function deleteArtefact(ec2: EC2Client, config: ExpiryConfig, id: string): Promise<boolean> {
  try {
    if (config.resourceType === 'snapshot') {
      await withRetry(() => ec2.send(new DeleteSnapshotCommand({ SnapshotId: id })));
    } else {
      await withRetry(() => ec2.send(new DeregisterImageCommand({ ImageId: id, DeleteAssociatedSnapshots: true })));
    }
    return true;
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'InvalidSnapshot.NotFound' || name === 'InvalidAMIID.NotFound' || name === 'InvalidAMIID.Unavailable') {
      log('INFO', 'already gone', { id, outcome: 'expired' });
      return true;
    }
    if (name === 'InvalidSnapshot.InUse') {
      log('WARN', 'in use, kept', { id, outcome: 'skipped', error: name });
      return false;
    }
    throw err;
  }
}

export async function expire(ec2: EC2Client, config: ExpiryConfig, event: ExpiryEvent, now = new Date(),
  history: ExecutionHistory = listExecutions(sfnClient)): Promise<ExpiryResult> {
  if (typeof event?.executionId !== 'string' || event.executionId === '') {
    throw new ExpiryConfigError('event.executionId must be the current execution id');
  }
  const machine = stateMachineOf(event.executionId);
  if (!machine) {
    throw new ExpiryConfigError('event.executionId is not a Step Functions execution ARN');
  }
  // the role may list the executions of the job's own machine only: another machine's id fails here
  const executions = await history(machine);
  const current = executions.find((e) => e.arn === event.executionId);
  if (current?.status !== 'RUNNING') {
    // a forged or stale id: expiry runs only as part of a real, running execution of the job
    throw new ExpiryConfigError(`event.executionId is not a running execution of ${machine}: nothing expired`);
  }
  const artefacts = await listArtefacts(ec2, config);
  const { expired, skipped, lookAlikes } = selectExpired(artefacts, config, event.executionId, now, runsOf(executions));
  const lookAlikeIds = new Set(lookAlikes.map((a) => a.id));
  const base = { resourceType: config.resourceType, purpose: config.purpose, dryRun: config.dryRun };
  for (const a of skipped) {
    const why = lookAlikeIds.has(a.id) ? 'execution tag of no recorded execution of the job: a look-alike, never counted nor deleted'
      : a.pending ? 'pending, not considered' : 'no execution tag, not considered';
    log('WARN', why, { ...base, id: a.id, execution: a.execution, outcome: 'skipped' });
  }
  const batch = expired.slice(0, config.maxDeletions);
  if (expired.length > batch.length) {
    log('WARN', 'more artefacts expired than one run deletes; the rest go next run', { ...base, expired: expired.length, maxDeletions: config.maxDeletions });
  }
  const done: string[] = [];
  const kept: string[] = skipped.map((a) => a.id);
  const failures: string[] = [];
  for (const a of batch) {
    if (config.dryRun) {
      log('INFO', 'would expire', { ...base, id: a.id, execution: a.execution, created: a.created.toISOString(), outcome: 'dry-run' });
      done.push(a.id);
      continue;
    }
    try {
      if (await deleteArtefact(ec2, config, a.id)) {
        log('INFO', 'expired', { ...base, id: a.id, execution: a.execution, created: a.created.toISOString(), outcome: 'expired' });
        done.push(a.id);
      } else {
        kept.push(a.id);
      }
    } catch (err) {
      log('ERROR', 'delete failed', { ...base, id: a.id, outcome: 'failed', error: (err as Error).name });
      failures.push(`${a.id}: ${(err as Error).name}`);
    }
  }
  const result: ExpiryResult = {
    resourceType: config.resourceType,
    dryRun: config.dryRun,
    found: artefacts.length,
    kept: artefacts.length - done.length,
    // at most maxDeletions (500): the state machine counts this list
    expired: done,
    skipped: kept.slice(0, RESULT_ID_LIMIT),
    skippedCount: kept.length,
  };
  log(failures.length ? 'ERROR' : 'INFO', 'expiry finished', { ...base, found: result.found, expiredCount: done.length, failed: failures.length });
  if (failures.length > 0) {
    // the state machine reports the job failed: retention that silently stops is the failure auditors find
    throw new Error(`could not expire ${failures.length} ${config.resourceType}(s): ${failures.slice(0, 10).join(', ')}`);
  }
  return result;
}

const client = new EC2Client({});
const sfnClient = new SFNClient({});

export async function handler(event: ExpiryEvent): Promise<ExpiryResult> {
  return expire(client, readConfig(process.env), event);
}
