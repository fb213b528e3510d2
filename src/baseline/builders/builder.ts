import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BackupVaultPolicy } from '../../backup/vault-policy';
import { DlmDefaultPolicy } from '../../dlm/default-policy';
import { DlmSnapshotPolicy } from '../../dlm/snapshot-policy';
import { RestoreDrill } from '../../restore/restore-drill';
import { SnapshotMaintenanceWindowBase } from '../../ssm/window-base';
import { SnapshotLock } from '../../worm/snapshot-lock';
import { MechanismFacts } from '../report';
import { BackupTier } from '../tier';

/** What every builder reads: the baseline's settings, resolved once. */
export interface BaselineContext {
  /** The baseline: the scope of app-wide mechanisms, and the path that bad input is reported at. */
  readonly baseline: Construct;
  readonly tierTagKey: string;
  readonly platformTagKey: string;
  /** The DR region of tiers that copy to one without naming it. */
  readonly drRegion?: string;
  readonly drVaultName: string;
  readonly archiveVaultName: string;
  readonly alarmTopic: sns.ITopic;
  readonly alarmAction: cloudwatch.IAlarmAction;
  readonly breakGlassPrincipalArns: string[];
  readonly deploymentPrincipalArns?: string[];
  readonly selfContained: boolean;
  readonly drillVpc?: ec2.IVpc;
  /** Check that a DR region is a region name and not the baseline's own. */
  readonly checkRegionAway: (property: string, region: string | undefined) => void;
}

/** What a tier's builders read besides the baseline's settings. */
export interface TierContext extends BaselineContext {
  readonly tier: BackupTier;
  /** The prop path of the tier, as the user wrote it: `tiers[0]`. */
  readonly at: string;
  /** The construct scope of the tier's resources (its id is the tier's name). */
  readonly scope: Construct;
  /** The tags that select the tier's instances. */
  readonly selection: Record<string, string>;
}

/** A construct with the purpose tag of the artefacts it makes, so that nobody matches lists by position. */
export interface WithPurpose<T> {
  readonly construct: T;
  readonly purpose: string;
}

/** A snapshot lock and how the report states it. */
export interface BuiltLock {
  readonly lock: SnapshotLock;
  readonly text: string;
}

/** What one builder created and what it covers. Every list is optional: a builder fills its own. */
export interface Built {
  /** What the mechanism protects, for the coverage report, the dashboard and the RPO. */
  readonly covers?: MechanismFacts[];
  readonly snapshotPolicies?: WithPurpose<DlmSnapshotPolicy>[];
  readonly defaultPolicy?: DlmDefaultPolicy;
  readonly backupPolicies?: WithPurpose<BackupVaultPolicy>[];
  readonly maintenanceWindows?: SnapshotMaintenanceWindowBase[];
  readonly restoreDrills?: RestoreDrill[];
  readonly locks?: BuiltLock[];
  /** Alarms to list first on the dashboard (the composed constructs' other alarms are collected after). */
  readonly alarms?: cloudwatch.IAlarm[];
  /** App-wide protections, one line each, for the report's "always on". */
  readonly alwaysOn?: string[];
}

/** One mechanism of a tier: builds it when the tier asks for it. */
export type TierBuilder = (ctx: TierContext) => Built | undefined;
