import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Capture } from './capture';
import { SnapshotStep } from './snapshot-step';
import { Retention } from '../core/retention';

/**
 * Which instances a job snapshots together. Give exactly one of `tags` and `instanceIds`.
 */
export interface SnapshotJobInstances {
  /**
   * Every running instance carrying all of these tags (at most 1,000 instances). Tag selection
   * also scopes the job's role: it can snapshot, stop and command only instances with these tags.
   *
   * @default - select by `instanceIds`
   */
  readonly tags?: { [key: string]: string };

  /**
   * These instances; the run fails if any of them is not running.
   *
   * @default - select by `tags`
   */
  readonly instanceIds?: string[];
}

/**
 * Properties of a `ConsistentSnapshotJob`.
 */
export interface ConsistentSnapshotJobProps {
  /** Why the snapshots exist (the purpose tag), e.g. `orders-db`. */
  readonly purpose: string;

  /**
   * The instances snapshotted together.
   *
   * A snapshot run carries no snapshot id in its state, only a short entry per snapshot in the
   * capture's result (Step Functions allows 256 KiB per payload and 25,000 history events per
   * execution): when the EBS volumes of the instances found plus twice their number exceed
   * 22,937, or the instances exceed 1,900, the run fails as `SnapshotJob.JobTooLarge` before any
   * `before` step; split such a selection by tag into several jobs.
   */
  readonly instances: SnapshotJobInstances;

  /**
   * How long the job's artefacts are kept. The job enforces it itself after each successful run
   * (no DLM policy owns these snapshots); count retention counts runs, not snapshots.
   */
  readonly retain: Retention;

  /**
   * When the job runs.
   *
   * @default - no schedule: start executions of `stateMachine` yourself
   */
  readonly schedule?: events.Schedule;

  /**
   * Steps that prepare the application (hot-backup mode, flush, freeze), run in order.
   *
   * @default - none: the snapshots are crash-consistent across instances
   */
  readonly before?: SnapshotStep[];

  /**
   * Steps that undo the `before` steps, run last to first (`after[i]` undoes `before[i]`) on
   * every path once a `before` step has started, whatever failed. They must be safe to run
   * when their `before` step did not.
   *
   * @default - none
   */
  readonly after?: SnapshotStep[];

  /**
   * What is created for each instance.
   *
   * @default Capture.snapshots()
   */
  readonly capture?: Capture;

  /**
   * Wait until every artefact has completed and verify them before the run counts as a
   * success (and before retention expires older ones). The pause window does not include it.
   * Snapshots are found by the run's execution tag: the run waits while any is `pending`, fails
   * if any is in `error`, and succeeds once the `completed` ones number at least the snapshots
   * it created (a snapshot that disappears fails it at `completionTimeout`).
   *
   * @default false
   */
  readonly waitForCompletion?: boolean;

  /**
   * How long `waitForCompletion` waits; a first full snapshot of a large volume takes hours.
   * The job polls every 30 seconds, or at 240 evenly spaced polls when the timeout is longer
   * than 2 hours (each poll adds history events; an execution keeps at most 25,000).
   *
   * @default Duration.hours(6)
   */
  readonly completionTimeout?: Duration;

  /**
   * Expire nothing: retention only logs which artefacts it would delete. For a first look at a
   * new retention setting.
   *
   * @default false
   */
  readonly dryRun?: boolean;

  /**
   * How many instances are captured at once.
   *
   * @default 40 (the most an inline Map runs in parallel)
   */
  readonly maxConcurrency?: number;

  /**
   * The topic alarms and failure notices go to.
   *
   * @default - a new topic encrypted with a new KMS key, TLS-only
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Alarm when the pause window (application quiesced) exceeds this. It also bounds the
   * on-instance watchdog of `SnapshotStep.freezeFileSystems()` steps that set no `maxPause`, so a
   * lost thaw step still thaws.
   *
   * @default - no pause-window alarm; freeze steps thaw themselves after 5 minutes
   */
  readonly maxPauseWindow?: Duration;

  /**
   * Whether the schedule is enabled.
   *
   * @default true
   */
  readonly scheduleEnabled?: boolean;

  /**
   * Reserve this many concurrent executions for each of the job's two functions (expiry and
   * metrics). Opt-in: Lambda keeps at least 100 unreserved executions per account, so an account
   * whose concurrency quota is 10 (new accounts) rejects any reservation and the deployment
   * fails. The state machine already lets one run of the job go at a time, so its handlers never
   * overlap without it.
   *
   * @default - no reservation
   */
  readonly reservedConcurrentExecutions?: number;
}
