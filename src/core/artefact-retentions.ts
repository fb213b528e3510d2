import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { minimumIntervalMs, parseSchedule, ScheduleProblem } from './cron';
import { Retention } from './retention';
import { isUnresolved } from './validation';

const RETENTIONS = Symbol.for('cdk-ebs-backup.artefactRetentions');

/** How long one construct keeps the snapshots it creates, as registered by the construct. */
export interface RegisteredRetention {
  /** The construct that expires its snapshots. */
  readonly construct: IConstruct;
  /** The property as the user wrote it, e.g. `retain`. */
  readonly property: string;
  /** The purpose tag value of its snapshots. */
  readonly purpose: string;
  /** The retention as the user wrote it. */
  readonly retention: Retention;
  /**
   * The smallest gap between two scheduled creations, for count-based retention: count x this gap
   * is the youngest age at which a scheduled snapshot can leave the count (see
   * `registerScheduledRetention`). Undefined: created on demand only.
   */
  readonly creationInterval?: Duration;
  /** Why a count cannot be turned into an age, when it cannot (shown in the warning). */
  readonly unknownReason?: string;
  /**
   * The record the creator writes on each artefact at creation (read at synthesis): a restore
   * drill of its purpose restores only artefacts that carry it.
   */
  readonly creationRecord?: () => CreationRecord;
}

/** What a creator tags each artefact with at creation, naming itself and the run. */
export interface CreationRecord {
  /** The creator's managed-by tag value. */
  readonly managedBy: string;
  /** The tag holding the id of the run that created the artefact. */
  readonly executionTagKey: string;
  /** For a job: its state machine, whose executions the execution tag names. */
  readonly stateMachineArn?: string;
  /** For a job: the ARN pattern of its executions (`arn:...:execution:<machine>:*`), for IAM. */
  readonly executionArns?: string;
  /** For a maintenance window: its id, which the execution tag holds; SSM records its executions. */
  readonly windowId?: string;
  /** For a maintenance window: its ARN, for IAM (`ssm:DescribeMaintenanceWindowExecutions`). */
  readonly windowArn?: string;
  /** For a runbook: its Automation document's name; the execution tag holds an Automation execution id. */
  readonly automationDocument?: string;
}

/** A creator's retention and the schedule its artefacts are created on. */
export interface ScheduledRetention {
  readonly construct: IConstruct;
  readonly property: string;
  readonly purpose: string;
  readonly retention: Retention;
  /** The schedule expression (`rate(...)`, `cron(...)`, `at(...)`); undefined when started on demand. */
  readonly schedule?: string;
  /** The IANA time zone a cron is read in (maintenance windows): a daylight-saving change shortens one gap by an hour. */
  readonly timeZone?: string;
  readonly creationRecord?: () => CreationRecord;
}

/**
 * Register the retention of a creator that expires its own artefacts (a job, a runbook, a
 * maintenance window's housekeeping).
 *
 * How a count compares with a lock: a snapshot leaves a count-N retention once N newer ones
 * exist, so the youngest age at which the expiry tries to delete it is N x the smallest gap
 * between two scheduled creations (a cron's gaps are measured over its firing times; in a time
 * zone one gap may be an hour shorter across daylight saving, so an hour is taken off). A lock at
 * least that long makes the expiry hit a locked snapshot: a synth error. Runs started by hand
 * between scheduled ones shorten the age further, which synthesis cannot see; a count without a
 * schedule (on demand only, or a one-off `at()`) cannot be compared and is skipped with a warning.
 */
export function registerScheduledRetention(entry: ScheduledRetention): void {
  const { schedule, timeZone, ...rest } = entry;
  if (entry.retention.maxCount === undefined || schedule === undefined || Token.isUnresolved(schedule)) {
    registerArtefactRetention({
      ...rest,
      unknownReason: entry.retention.maxCount === undefined ? undefined
        : schedule === undefined ? 'a count of runs started on demand (no schedule): no interval to turn the count into an age'
          : 'a count on a schedule given as a token',
    });
    return;
  }
  const parsed = /^at\(/.test(schedule.trim()) ? undefined : parseSchedule(schedule);
  if (parsed === undefined || parsed instanceof ScheduleProblem || !Number.isFinite(minimumIntervalMs(parsed))) {
    registerArtefactRetention({ ...rest, unknownReason: `a count on schedule ${schedule}, which does not repeat at a known interval` });
    return;
  }
  const gapMs = minimumIntervalMs(parsed) - (timeZone !== undefined && parsed.kind === 'cron' ? 3_600_000 : 0);
  registerArtefactRetention({ ...rest, creationInterval: Duration.millis(Math.max(gapMs, 60_000)) });
}

/**
 * The retentions of the jobs, runbooks and maintenance windows of an app, which expire their
 * own snapshots by tag (DLM policies and Backup plans are read from their resources). The
 * snapshot lock compares its duration with each: a lock that outlives the retention stops the
 * expiry.
 */
export function registerArtefactRetention(entry: RegisteredRetention): void {
  const root = entry.construct.node.root as unknown as { [RETENTIONS]?: RegisteredRetention[] };
  (root[RETENTIONS] ??= []).push(entry);
}

/** Every registered retention in the app holding `scope`. */
export function artefactRetentions(scope: IConstruct): RegisteredRetention[] {
  return [...(scope.node.root as unknown as { [RETENTIONS]?: RegisteredRetention[] })[RETENTIONS] ?? []];
}

/**
 * About how long a retention keeps an artefact, in days: the age, or count x creation interval.
 * Undefined when unknown (a token, or a count without an interval).
 */
export function retentionLifetimeDays(retention: Retention, creationInterval?: Duration): number | undefined {
  if (retention.maxAge !== undefined) {
    return isUnresolved(retention.maxAge) ? undefined : retention.maxAge.toDays({ integral: false });
  }
  const count = retention.maxCount;
  if (count === undefined || isUnresolved(count) || creationInterval === undefined || isUnresolved(creationInterval)) {
    return undefined;
  }
  return count * creationInterval.toMilliseconds() / 86_400_000;
}
