import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SnapshotScript } from './script';
import { Retention } from '../core/retention';

/**
 * The values DLM substitutes into variable tags when it creates the snapshot or AMI.
 */
export class VariableTagValue {
  /** The id of the instance the snapshot or AMI was taken from. */
  public static readonly INSTANCE_ID = '$(instance-id)';
  /** The creation time, `yyyy-MM-ddTHH:mm:ss.sssZ`. */
  public static readonly TIMESTAMP = '$(timestamp)';

  private constructor() {}
}

/**
 * What every DLM schedule has: when it runs, how long its artefacts are kept, and their tags.
 */
export interface DlmScheduleOptions {
  /**
   * The schedule's name, unique in the policy (up to 120 of `0-9 A-Z a-z _ -` and space). DLM
   * tags every snapshot with it (`aws:dlm:lifecycle-schedule-name`).
   */
  readonly name: string;

  /**
   * When snapshots are taken. `Schedule.rate()` of 1, 2, 3, 4, 6, 8, 12 or 24 hours, or
   * `Schedule.cron()` (UTC) firing between once an hour and once a year.
   */
  readonly schedule: events.Schedule;

  /**
   * For a rate schedule, the UTC time (`hh:mm`) the first run of the day starts from; DLM starts
   * within the hour after it.
   *
   * @default - DLM picks a time within the next 24 hours
   */
  readonly startTime?: string;

  /**
   * How long snapshots (or AMIs) of this schedule are kept: `Retention.count(n)` or
   * `Retention.age(duration)`. Also written to the retention tag of every artefact.
   */
  readonly retain: Retention;

  /**
   * Extra tags for every artefact of this schedule, next to the library's purpose, retention and
   * managed-by tags (together at most 45).
   *
   * @default - only the library's tags
   */
  readonly tags?: Record<string, string>;

  /**
   * Tags whose values DLM fills in (`VariableTagValue.INSTANCE_ID`, `VariableTagValue.TIMESTAMP`),
   * so that a snapshot set can be traced to its instance. Instance targets and AMI policies only.
   *
   * @default - none
   */
  readonly variableTags?: Record<string, string>;

  /**
   * Copy the source volume's (or instance's) own tags to the artefacts, so that application
   * tags such as `Name` survive into the backup.
   *
   * @default false
   */
  readonly copyTags?: boolean;
}

/**
 * A copy of each snapshot (or AMI) in another region, for disaster recovery.
 */
export interface CrossRegionCopy {
  /** The region to copy to, such as `eu-west-1`. */
  readonly region: string;

  /**
   * How long copies are kept in that region. DLM keeps copies by age only, so this must be
   * `Retention.age(...)`; without it copies would never expire.
   */
  readonly retain: Retention;

  /**
   * Encrypt copies of unencrypted snapshots. Copies of encrypted snapshots are always encrypted.
   *
   * @default true
   */
  readonly encrypted?: boolean;

  /**
   * The key in the target region to encrypt copies with. Pass an imported key
   * (`kms.Key.fromKeyArn`) or a key from a stack in that region with cross-region references.
   *
   * @default - the account's default EBS key in the target region
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * How long the newest snapshots of a schedule are initialized for fast restore.
 */
export interface FastRestoreOptions {
  /** The availability zones (names, in the policy's region) in which restores are fast; 1-10. */
  readonly availabilityZones: string[];

  /**
   * How many of the newest snapshots (or for how long each) fast restore stays enabled, which
   * is billed per hour and AZ. At least 1.
   */
  readonly retain: Retention;
}

/**
 * Moving snapshots to the archive tier once the schedule's retention is met, instead of
 * deleting them. Volume targets only; the schedule must run at most every 28 days.
 */
export interface ArchiveOptions {
  /**
   * How long each snapshot stays in the archive tier before it is deleted: `Retention.age(...)`
   * of at least 90 days (archived snapshots are billed for 90 days at least). With count-based
   * schedule retention this becomes the archive count that keeps every snapshot at least this long.
   */
  readonly retain: Retention;
}

/**
 * Sharing every snapshot with other accounts, such as a backup archive account.
 */
export interface ShareOptions {
  /** The 12-digit ids of the accounts to share with. */
  readonly accounts: string[];

  /**
   * Stop sharing each snapshot after this long, when the other account has copied it.
   *
   * @default - snapshots stay shared until they are deleted
   */
  readonly unshareAfter?: Duration;
}

/**
 * A schedule of a custom snapshot policy.
 */
export interface SnapshotSchedule extends DlmScheduleOptions {
  /**
   * Copies to other regions (at most 3), each with its own retention.
   *
   * @default - no copies
   */
  readonly crossRegionCopies?: CrossRegionCopy[];

  /**
   * Fast snapshot restore for the newest snapshots.
   *
   * @default - not enabled
   */
  readonly fastRestore?: FastRestoreOptions;

  /**
   * Archive instead of delete when the retention is met. Volume targets only.
   *
   * @default - snapshots are deleted when the retention is met
   */
  readonly archive?: ArchiveOptions;

  /**
   * Share snapshots with other accounts.
   *
   * @default - not shared
   */
  readonly share?: ShareOptions;

  /**
   * Pre/post script for application-consistent snapshots. Instance targets only.
   *
   * @default - crash-consistent snapshots, no script
   */
  readonly script?: SnapshotScript;
}

/**
 * A copy of each AMI in another region.
 */
export interface ImageCopy extends CrossRegionCopy {
  /**
   * Deprecate the copies after this long (at most their retention and 10 years), so nobody
   * launches from an old image by mistake.
   *
   * @default - copies are not deprecated
   */
  readonly deprecateAfter?: Duration;
}

/**
 * A schedule of an AMI policy.
 */
export interface ImageSchedule extends DlmScheduleOptions {
  /**
   * Copies to other regions (at most 3).
   *
   * @default - no copies
   */
  readonly crossRegionCopies?: ImageCopy[];

  /**
   * Deprecate AMIs before they are deleted: `Retention.count(n)` deprecates the n oldest
   * (count-based schedules, n at most the retained count), `Retention.age(d)` deprecates each
   * after d (age-based schedules, at most the retention and 10 years).
   *
   * @default - AMIs are not deprecated
   */
  readonly deprecate?: Retention;
}
