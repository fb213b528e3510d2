import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { VaultLock } from '../backup/vault-lock';
import { Retention } from '../core/retention';
import { FactoryProblem, factoryProblems, recordFactoryProblems } from '../core/validation';
import { SnapshotLockMode } from '../worm/snapshot-lock';

/**
 * Crash-consistent, multi-volume snapshots of the tier's instances by a DLM policy.
 */
export interface TierSnapshotOptions {
  /** When snapshots are taken (a DLM rate of 1-24 hours, or a cron). */
  readonly schedule: events.Schedule;
  /** How long snapshots are kept in the source region. */
  readonly retain: Retention;
  /**
   * Copy every snapshot to this region for disaster recovery.
   *
   * @default - the baseline's `drRegion` when `drCopy` is true, otherwise no copy
   */
  readonly drRegion?: string;
  /**
   * Whether snapshots are copied to a DR region at all.
   *
   * @default false
   */
  readonly drCopy?: boolean;
  /**
   * How long the DR copies are kept: `Retention.age(...)`, since DLM keeps copies by age only.
   *
   * @default - the same number of days the source retention covers
   */
  readonly drRetain?: Retention;
  /**
   * Lock every snapshot of the tier with EBS Snapshot Lock (shorter than the retention, or DLM
   * could not delete it on time).
   *
   * @default - snapshots are not locked
   */
  readonly snapshotLock?: SnapshotLockMode;
  /**
   * Leave out the data volumes that carry any of these tags (scratch disks, caches, swap): DLM's
   * `ExcludeDataVolumeTags` of the tier's multi-volume snapshot sets. The boot volume is always
   * kept. Only the DLM snapshots honour it: AWS Backup (a tier's `backupPlan`) backs up an
   * instance with every attached volume and cannot leave one out.
   *
   * @default - every volume of the tier's instances
   */
  readonly excludeVolumeTags?: Record<string, string>;
}

/**
 * Application-consistent snapshots in Systems Manager maintenance windows: VSS on instances
 * whose platform tag says `windows`, `fsfreeze` on those that say `linux`.
 */
export interface TierConsistentSnapshotOptions {
  /** When the windows open (rate in hours or days, or a 6-field cron). */
  readonly schedule: events.Schedule;
  /** How long the consistent snapshots are kept. */
  readonly retain: Retention;
  /**
   * The Linux mount points frozen around the snapshot (never `/`).
   *
   * @default - every EBS-backed file system of the instance except the root one
   */
  readonly linuxMountPoints?: string[];
  /**
   * Expedite the kernel's RCU grace periods during the Linux freezes (shortens each freeze by
   * tens of milliseconds; `FsfreezeMaintenanceWindowProps.expediteFreeze` gives the trade-off).
   *
   * @default true
   */
  readonly linuxExpediteFreeze?: boolean;
  /**
   * Take VSS snapshots of Windows instances.
   *
   * @default true
   */
  readonly windows?: boolean;
  /**
   * Take fsfreeze snapshots of Linux instances.
   *
   * @default true
   */
  readonly linux?: boolean;
}

/**
 * An AWS Backup plan for the tier, with a locked vault and copies away.
 */
export interface TierBackupPlanOptions {
  /** When the backup runs (a cron: AWS Backup takes no rates). */
  readonly schedule: events.Schedule;
  /** How long recovery points are kept: `Retention.age(...)` (AWS Backup keeps them by age only). */
  readonly retain: Retention;
  /**
   * The vault's lock; every rule and copy retention is checked against it at synthesis.
   *
   * @default - no lock
   */
  readonly vaultLock?: VaultLock;
  /**
   * Copy each recovery point to a vault in this region of the same account.
   *
   * @default - no cross-region copy
   */
  readonly drRegion?: string;
  /**
   * How long the DR copies are kept (`Retention.age(...)`).
   *
   * @default - `retain`
   */
  readonly drRetain?: Retention;
  /**
   * Copy each recovery point to a vault of this (archive) account, in the source region.
   *
   * @default - no cross-account copy
   */
  readonly archiveAccount?: string;
  /**
   * How long the archive copies are kept (`Retention.age(...)`).
   *
   * @default Retention.age(Duration.days(365))
   */
  readonly archiveRetain?: Retention;
  /**
   * Restore-test the recovery points with AWS Backup restore testing (weekly).
   *
   * @default true
   */
  readonly restoreTesting?: boolean;
  /**
   * Back up Windows instances with VSS (the AWS Backup advanced setting).
   *
   * @default true
   */
  readonly windowsVss?: boolean;
}

/**
 * A weekly RestoreDrill of the tier's Linux consistent snapshots (or DLM snapshots).
 */
export interface TierRestoreDrillOptions {
  /** When to drill. */
  readonly schedule: events.Schedule;
  /**
   * Commands run on the scratch instance against the restored volumes (mounted read-only at
   * `/data`, `/data2`, ...).
   *
   * @default - the first restored volume is not empty
   */
  readonly validation?: string[];
}

/**
 * What a tier promises, as a plain object: the custom tier shape that `gold()`, `silver()` and
 * `bronze()` fill in.
 */
export interface BackupTierProps {
  /**
   * The tier's name: the value of the tier tag that selects its instances (`gold`), and the prefix
   * of the purpose tags of its snapshots. 1-40 of `a-z 0-9 -`.
   */
  readonly name: string;
  /**
   * One line for the dashboard and the coverage report.
   *
   * @default - derived from the mechanisms
   */
  readonly description?: string;
  /**
   * DLM snapshots.
   *
   * @default - none
   */
  readonly snapshots?: TierSnapshotOptions;
  /**
   * Application-consistent snapshots (VSS / fsfreeze).
   *
   * @default - none
   */
  readonly consistentSnapshots?: TierConsistentSnapshotOptions;
  /**
   * An AWS Backup plan.
   *
   * @default - none
   */
  readonly backupPlan?: TierBackupPlanOptions;
  /**
   * A RestoreDrill that restores the newest snapshots and runs checks on them.
   *
   * @default - no drill
   */
  readonly restoreDrill?: TierRestoreDrillOptions;
}

/** Options of the gold tier; every number can be overridden. */
export interface GoldTierOptions {
  /** The region that receives copies of every recovery point (AWS Backup) for disaster recovery. */
  readonly drRegion: string;
  /**
   * The archive account that receives a copy of every recovery point.
   *
   * @default - no cross-account copy
   */
  readonly archiveAccount?: string;
  /**
   * The tier's name (tag value).
   *
   * @default 'gold'
   */
  readonly name?: string;
  /**
   * How often application-consistent snapshots are taken.
   *
   * @default Duration.hours(4)
   */
  readonly consistentEvery?: Duration;
  /**
   * How long application-consistent snapshots are kept.
   *
   * @default Retention.age(Duration.days(3))
   */
  readonly consistentRetain?: Retention;
  /**
   * Linux mount points frozen around each snapshot.
   *
   * @default - every EBS-backed file system of the instance except the root one
   */
  readonly linuxMountPoints?: string[];
  /**
   * Expedite the kernel's RCU grace periods during the Linux freezes (shortens each freeze by
   * tens of milliseconds; `FsfreezeMaintenanceWindowProps.expediteFreeze` gives the trade-off).
   *
   * @default true
   */
  readonly linuxExpediteFreeze?: boolean;
  /**
   * When the daily AWS Backup runs.
   *
   * @default - daily at 05:00 UTC
   */
  readonly backupSchedule?: events.Schedule;
  /**
   * How long recovery points are kept in the source vault (`Retention.age(...)`).
   *
   * @default Retention.age(Duration.days(35))
   */
  readonly backupRetain?: Retention;
  /**
   * How long the DR copies are kept (`Retention.age(...)`).
   *
   * @default Retention.age(Duration.days(35))
   */
  readonly drRetain?: Retention;
  /**
   * How long the archive copies are kept (`Retention.age(...)`).
   *
   * @default Retention.age(Duration.days(365))
   */
  readonly archiveRetain?: Retention;
  /**
   * The source vault's lock.
   *
   * @default VaultLock.compliance({ minRetention: 7 days, maxRetention: 3650 days, changeableFor: 3 days })
   */
  readonly vaultLock?: VaultLock;
  /**
   * When the RestoreDrill runs.
   *
   * @default - weekly, Sunday 06:00 UTC
   */
  readonly drillSchedule?: events.Schedule;
  /**
   * The drill's validation commands.
   *
   * @default - the first restored volume is not empty
   */
  readonly drillValidation?: string[];
}

/** Options of the silver tier. */
export interface SilverTierOptions {
  /**
   * The region DLM copies every snapshot to.
   *
   * @default - the baseline's `drRegion` (by default the gold tier's)
   */
  readonly drRegion?: string;
  /**
   * The tier's name (tag value).
   *
   * @default 'silver'
   */
  readonly name?: string;
  /**
   * When snapshots are taken.
   *
   * @default - daily at 03:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * How long snapshots are kept.
   *
   * @default Retention.count(14)
   */
  readonly retain?: Retention;
  /**
   * How long DR copies are kept: `Retention.age(...)`, since DLM keeps copies by age only.
   *
   * @default Retention.age(Duration.days(14))
   */
  readonly drRetain?: Retention;
  /**
   * The snapshot lock.
   *
   * @default SnapshotLockMode.governance(Duration.days(7))
   */
  readonly snapshotLock?: SnapshotLockMode;
  /**
   * Leave out the data volumes that carry any of these tags (DLM `ExcludeDataVolumeTags`).
   *
   * @default - every volume of the tier's instances
   */
  readonly excludeVolumeTags?: Record<string, string>;
}

/** Options of the bronze tier. */
export interface BronzeTierOptions {
  /**
   * The tier's name (tag value).
   *
   * @default 'bronze'
   */
  readonly name?: string;
  /**
   * When snapshots are taken.
   *
   * @default - daily at 02:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * How long snapshots are kept.
   *
   * @default Retention.count(7)
   */
  readonly retain?: Retention;
  /**
   * Leave out the data volumes that carry any of these tags (DLM `ExcludeDataVolumeTags`).
   *
   * @default - every volume of the tier's instances
   */
  readonly excludeVolumeTags?: Record<string, string>;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** A preset's daily DLM snapshots at `hour` UTC kept `count` deep, unless the user said otherwise. */
function dailySnapshots(options: { schedule?: events.Schedule; retain?: Retention }, hour: string, count: number): TierSnapshotOptions {
  return { schedule: options.schedule ?? events.Schedule.cron({ minute: '0', hour }), retain: options.retain ?? Retention.count(count) };
}

/**
 * A backup tier: what every instance tagged with the tier's name gets.
 *
 * - `gold`: application-consistent snapshots every 4 hours (VSS on Windows, fsfreeze on Linux,
 *   by platform tag), a daily AWS Backup plan with a compliance-mode Vault Lock, copies to a DR
 *   region and an archive account, AWS Backup restore testing and a weekly RestoreDrill;
 * - `silver`: daily DLM snapshots with a DR copy and a governance-mode snapshot lock;
 * - `bronze`: daily DLM snapshots kept locally.
 *
 * Every number can be overridden; `custom()` takes any combination as a plain object.
 *
 * @example
 * BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '111122223333' });
 * BackupTier.silver({ retain: Retention.count(30) });
 * BackupTier.custom({ name: 'scratch', snapshots: { schedule: events.Schedule.rate(Duration.hours(12)), retain: Retention.count(2) } });
 */
export class BackupTier {
  /** Gold: application-consistent, locked, copied away twice, restore-tested. */
  public static gold(options: GoldTierOptions): BackupTier {
    const name = options.name ?? 'gold';
    return BackupTier.make('BackupTier.gold', { consistentRetain: options.consistentRetain, vaultLock: options.vaultLock }, {
      name,
      description: 'application-consistent snapshots, AWS Backup with compliance Vault Lock, DR and archive copies, restore-tested',
      consistentSnapshots: {
        schedule: events.Schedule.rate(options.consistentEvery ?? Duration.hours(4)),
        retain: options.consistentRetain ?? Retention.age(Duration.days(3)),
        linuxMountPoints: options.linuxMountPoints,
        linuxExpediteFreeze: options.linuxExpediteFreeze,
      },
      backupPlan: {
        schedule: options.backupSchedule ?? events.Schedule.cron({ minute: '0', hour: '5' }),
        retain: options.backupRetain ?? Retention.age(Duration.days(35)),
        vaultLock: options.vaultLock ?? VaultLock.compliance({
          minRetention: Duration.days(7), maxRetention: Duration.days(3650), changeableFor: Duration.days(3),
        }),
        drRegion: options.drRegion,
        drRetain: options.drRetain ?? Retention.age(Duration.days(35)),
        archiveAccount: options.archiveAccount,
        archiveRetain: options.archiveRetain ?? Retention.age(Duration.days(365)),
        restoreTesting: true,
        windowsVss: true,
      },
      restoreDrill: {
        schedule: options.drillSchedule ?? events.Schedule.cron({ minute: '0', hour: '6', weekDay: 'SUN' }),
        validation: options.drillValidation,
      },
    });
  }

  /** Silver: daily DLM snapshots, copied to the DR region, locked in governance mode. */
  public static silver(options: SilverTierOptions = {}): BackupTier {
    return BackupTier.make('BackupTier.silver', { retain: options.retain, snapshotLock: options.snapshotLock }, {
      name: options.name ?? 'silver',
      description: 'daily crash-consistent snapshots, DR copy, governance snapshot lock',
      snapshots: {
        ...dailySnapshots(options, '3', 14),
        drCopy: true,
        drRegion: options.drRegion,
        drRetain: options.drRetain ?? Retention.age(Duration.days(14)),
        snapshotLock: options.snapshotLock ?? SnapshotLockMode.governance(Duration.days(7)),
        excludeVolumeTags: options.excludeVolumeTags,
      },
    });
  }

  /** Bronze: daily DLM snapshots, kept locally. */
  public static bronze(options: BronzeTierOptions = {}): BackupTier {
    return BackupTier.make('BackupTier.bronze', { retain: options.retain }, {
      name: options.name ?? 'bronze',
      description: 'daily crash-consistent snapshots, local retention',
      snapshots: { ...dailySnapshots(options, '2', 7), excludeVolumeTags: options.excludeVolumeTags },
    });
  }

  /**
   * Any combination of the mechanisms, as a plain object.
   *
   * A bad tier is reported by the baseline that uses it, with its path and the tier's place.
   */
  public static custom(props: BackupTierProps): BackupTier {
    const given = props !== null && typeof props === 'object' ? props : undefined;
    return BackupTier.make('BackupTier.custom', {
      'snapshots.retain': given?.snapshots?.retain,
      'consistentSnapshots.retain': given?.consistentSnapshots?.retain,
      'snapshots.snapshotLock': given?.snapshots?.snapshotLock,
      'backupPlan.vaultLock': given?.backupPlan?.vaultLock,
    }, given ?? ({ name: '' } as BackupTierProps), given === undefined ? { got: props } : undefined);
  }

  /** A tier whose problems name the factory the user called and the options they wrote. */
  private static make(
    factory: string, factoryValues: Record<string, Retention | SnapshotLockMode | VaultLock | undefined>, props: BackupTierProps,
    notAnObject?: { got: unknown },
  ): BackupTier {
    const problems: FactoryProblem[] = [];
    const problem = (requirement: string, got?: unknown, fix?: string) => problems.push(new FactoryProblem(factory, requirement, got, fix));
    if (notAnObject !== undefined) {
      problem('props must be an object with a name', String(notAnObject.got), "pass { name: 'scratch', snapshots: { ... } }");
    } else if (typeof props.name !== 'string' || !NAME.test(props.name)) {
      problem('name must be 1-40 characters of a-z 0-9 - (not starting or ending with -)', props.name,
        "the name is the tier tag's value and the prefix of its purpose tags: use e.g. 'gold-eu'");
    }
    for (const [option, value] of Object.entries(factoryValues)) {
      for (const p of factoryProblems(value)) {
        problem(`${option} ${p.factory}(...): ${p.requirement}`, p.got, p.fix);
      }
    }
    if (!props.snapshots && !props.consistentSnapshots && !props.backupPlan) {
      problem('must have at least one of snapshots, consistentSnapshots and backupPlan', undefined,
        'a tier that backs nothing up would leave its tagged instances unprotected');
    }
    if (props.restoreDrill && !props.snapshots && !(props.consistentSnapshots && props.consistentSnapshots.linux !== false)) {
      problem('restoreDrill needs snapshots or Linux consistentSnapshots to restore (the drill cannot mount Windows volumes)', undefined,
        'add snapshots to the tier or remove restoreDrill');
    }
    const c = props.consistentSnapshots;
    if (c && c.windows === false && c.linux === false) {
      problem('consistentSnapshots must keep windows or linux enabled', undefined, 'remove consistentSnapshots instead of disabling both');
    }
    return recordFactoryProblems(new BackupTier(props), problems);
  }

  /** The tier's name: the tier tag value. */
  public readonly name: string;
  /** What the tier is made of. */
  public readonly definition: BackupTierProps;

  private constructor(props: BackupTierProps) {
    this.name = props.name;
    this.definition = props;
  }

  /** The purpose tag of the tier's DLM snapshots. */
  public get snapshotPurpose(): string {
    return `${this.name}-snapshots`;
  }

  /** The purpose tag of the tier's VSS snapshots (Windows). */
  public get windowsPurpose(): string {
    return `${this.name}-vss`;
  }

  /** The purpose tag of the tier's fsfreeze snapshots (Linux). */
  public get linuxPurpose(): string {
    return `${this.name}-fsfreeze`;
  }

  /** The purpose tag of the tier's AWS Backup recovery points. */
  public get backupPurpose(): string {
    return `${this.name}-backup`;
  }

  /** Every purpose tag value the tier's artefacts carry. */
  public purposes(): string[] {
    const d = this.definition;
    const out: string[] = [];
    if (d.snapshots) {
      out.push(this.snapshotPurpose);
    }
    if (d.consistentSnapshots && d.consistentSnapshots.windows !== false) {
      out.push(this.windowsPurpose);
    }
    if (d.consistentSnapshots && d.consistentSnapshots.linux !== false) {
      out.push(this.linuxPurpose);
    }
    if (d.backupPlan) {
      out.push(this.backupPurpose);
    }
    return out;
  }
}
