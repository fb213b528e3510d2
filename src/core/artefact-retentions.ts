import { Duration } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
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
   * How often it creates a snapshot, for count-based retention (count x interval is the age of
   * the oldest kept).
   */
  readonly creationInterval?: Duration;
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
  return count * creationInterval.toHours({ integral: false }) / 24;
}
