import { CfnResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { buildBackupPlan } from './builders/backup';
import { BaselineContext, Built, TierBuilder, TierContext } from './builders/builder';
import { buildChecks } from './builders/checks';
import { buildDlmSnapshots, buildSafetyNet } from './builders/dlm';
import { buildRestoreDrill } from './builders/drill';
import { buildGuard } from './builders/guard';
import { buildSnapshotLock } from './builders/lock';
import { buildConsistentWindows, PLATFORM_LINUX, PLATFORM_WINDOWS } from './builders/windows';
import { createDashboard, promisesMarkdown } from './dashboard';
import { addDrVaultStack, checkDrVaults, DrVaultStackOptions } from './dr-vault';
import { BaselineFacts, COVERAGE_REPORT_FILES, registerCoverage, renderMarkdown, rpo, TierFacts } from './report';
import { BackupTier } from './tier';
import { checkTiers } from './tier-checks';
import { createNotificationTopic } from '../backup/monitoring';
import { BackupVaultPolicy } from '../backup/vault-policy';
import { ChangeDetection } from '../core/change-detection';
import { registerPlan } from '../core/plan-report';
import { Retention } from '../core/retention';
import { BackupTagging } from '../core/tagging';
import { check, collectProblems, checkLength, checkPattern, checkRegion, checkTagKey, isUnresolved } from '../core/validation';
import { DlmDefaultPolicy } from '../dlm/default-policy';
import { DlmSnapshotPolicy } from '../dlm/snapshot-policy';
import { RestoreDrill } from '../restore/restore-drill';
import { SnapshotMaintenanceWindowBase } from '../ssm/window-base';
import { ProtectedResources } from '../worm/deny-policy';
import { WormSnapshotGuard } from '../worm/guard';
import { SnapshotLock } from '../worm/snapshot-lock';

/**
 * Properties of `EbsBackupBaseline`.
 */
export interface EbsBackupBaselineProps {
  /** The tiers, each selected by one value of the tier tag (at most 20, unique names). */
  readonly tiers: BackupTier[];

  /**
   * Principals allowed past the write-once denies and the vaults' access policies in an
   * emergency (role ARNs; wildcards as in `ArnLike`).
   *
   * @default - none: only detaching the deny policy lifts the protection, and nobody can ever
   *   change a vault's access policy
   */
  readonly breakGlassPrincipalArns?: string[];

  /**
   * The roles that deploy the baseline's stack: they pass the denies on changing the vaults'
   * access policies and locks, the keys' policies and the guard's configuration (never on
   * deleting backups), so that later stack updates keep working. Role ARNs only.
   *
   * @default - the CDK bootstrap CloudFormation execution role of the stack's account and region
   *   (under the `DefaultStackSynthesizer`); in a `BaselineStackSet` member, the StackSets execution role
   */
  readonly deploymentPrincipalArns?: string[];

  /**
   * The tag key whose value names an instance's tier, so that one tag decides everything.
   *
   * @default 'backup-tier'
   */
  readonly tierTagKey?: string;

  /**
   * The tag key whose value (`windows` or `linux`) chooses VSS or fsfreeze for consistent snapshots.
   *
   * @default 'backup-platform'
   */
  readonly platformTagKey?: string;

  /**
   * The DR region of the tiers that copy to one without naming it (silver).
   *
   * @default - the first tier's own DR region (gold's `drRegion`)
   */
  readonly drRegion?: string;

  /**
   * The name of the vault in the DR region (same account) that receives AWS Backup copies.
   *
   * @default EbsBackupBaseline.DEFAULT_DR_VAULT_NAME
   */
  readonly drVaultName?: string;

  /**
   * The DR vault (`drVaultName` in each DR region the tiers' AWS Backup plans copy to) is deployed
   * outside this app: by `BaselineStackSet`'s DR-vault StackSet, or another app. Without it,
   * synthesis fails unless the app creates that vault (`addDrVaultStack()`).
   *
   * @default false
   */
  readonly drVaultCreatedElsewhere?: boolean;

  /**
   * The name of the vault in the archive account that receives AWS Backup copies (`BackupArchiveVault`).
   *
   * @default EbsBackupBaseline.DEFAULT_ARCHIVE_VAULT_NAME
   */
  readonly archiveVaultName?: string;

  /**
   * How long deleted snapshots and AMIs stay recoverable in the Recycle Bin: `Retention.age(...)`
   * of 1-365 days (Recycle Bin keeps them for a period, not by count).
   *
   * @default - the shortest retention of the DLM tiers, at most 7 days (a longer bin keeps more
   *   expired snapshots billed than the schedules keep)
   */
  readonly recycleBinRetain?: Retention;

  /**
   * The unlock delay of the locked Recycle Bin rules (7-30 days).
   *
   * @default Duration.days(7)
   */
  readonly recycleBinUnlockDelay?: Duration;

  /**
   * Create a DLM default policy: the safety net for volumes no other DLM policy backed up recently.
   *
   * @default false
   */
  readonly defaultPolicy?: boolean;

  /**
   * Which snapshots and AMIs the deny policy protects.
   *
   * @default - every purpose tag of the tiers (`ProtectedResources.purposes(...)`)
   */
  readonly protectedResources?: ProtectedResources;

  /**
   * Where every alarm and failed-job event goes.
   *
   * @default - a new topic encrypted with its own key
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Add the `EbsBackupChecks` validation plugin to the app (once per app).
   *
   * @default true
   */
  readonly checks?: boolean;

  /**
   * Build a self-contained template: no Lambda asset and no custom resource, so it deploys
   * without bootstrap (a StackSet member). Snapshot locks run as Step Functions SDK integrations in any case,
   * AMI public sharing is left to the organization's declarative policy, and RestoreDrills are
   * left out (AWS Backup restore testing still runs).
   *
   * @default false
   */
  readonly selfContained?: boolean;

  /**
   * Block public sharing of snapshots and AMIs in this account and region. It is an account
   * setting, created once: set false for a second baseline in the same account and region.
   *
   * @default true
   */
  readonly blockPublicSharing?: boolean;

  /**
   * The dashboard's name.
   *
   * @default - a generated name
   */
  readonly dashboardName?: string;

  /**
   * The VPC of the restore drills' scratch instances.
   *
   * @default - each drill creates an isolated scratch VPC
   */
  readonly drillVpc?: ec2.IVpc;
}

/** The mechanisms of a tier, in the order they are built. */
const TIER_BUILDERS: TierBuilder[] = [buildDlmSnapshots, buildSnapshotLock, buildConsistentWindows, buildBackupPlan, buildRestoreDrill];

/**
 * The whole guidance in one construct: say once which tier each instance is in (one tag), and
 * every instance with that tag is protected like the tier promises, for the whole account and
 * region, with the write-once guard, alarms, a dashboard and a coverage report that an auditor
 * can read.
 *
 * @example
 * const baseline = new EbsBackupBaseline(stack, 'Baseline', {
 *   tiers: [
 *     BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '111122223333' }),
 *     BackupTier.silver(),
 *     BackupTier.bronze(),
 *   ],
 *   breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
 * });
 */
export class EbsBackupBaseline extends Construct {
  /** The default tier tag key. */
  public static readonly DEFAULT_TIER_TAG_KEY = 'backup-tier';
  /** The default platform tag key. */
  public static readonly DEFAULT_PLATFORM_TAG_KEY = 'backup-platform';
  /** The platform tag value of Windows instances (VSS). */
  public static readonly PLATFORM_WINDOWS = PLATFORM_WINDOWS;
  /** The platform tag value of Linux instances (fsfreeze). */
  public static readonly PLATFORM_LINUX = PLATFORM_LINUX;
  /** The default name of the DR-region vault. */
  public static readonly DEFAULT_DR_VAULT_NAME = 'ebs-backup-dr';
  /** The default name of the archive account's vault. */
  public static readonly DEFAULT_ARCHIVE_VAULT_NAME = 'ebs-backup-archive';
  /** The Markdown coverage report written to the cloud assembly directory at synthesis. */
  public static readonly COVERAGE_REPORT_MARKDOWN = COVERAGE_REPORT_FILES.markdown;
  /** The JSON coverage report written to the cloud assembly directory at synthesis. */
  public static readonly COVERAGE_REPORT_JSON = COVERAGE_REPORT_FILES.json;

  /** The name of the vault in each DR region that receives the tiers' AWS Backup copies. */
  public readonly drVaultName: string;
  /** @internal */
  public readonly _drVaultDefaults: { readonly breakGlassPrincipalArns: string[]; readonly createdElsewhere: boolean };
  /** The CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The write-once guard: attach its deny policy with `protect()`. */
  public readonly guard: WormSnapshotGuard;
  /** Where alarms and failed-job events go. */
  public readonly alarmTopic: sns.ITopic;
  /** The tier tag key. */
  public readonly tierTagKey: string;
  /** The platform tag key. */
  public readonly platformTagKey: string;
  /** The tiers. */
  public readonly tiers: BackupTier[];
  /** The DLM snapshot policies, one per tier with `snapshots`. */
  public readonly snapshotPolicies: DlmSnapshotPolicy[];
  /** The AWS Backup policies, one per tier with `backupPlan`. */
  public readonly backupPolicies: BackupVaultPolicy[];
  /** The VSS and fsfreeze maintenance windows. */
  public readonly maintenanceWindows: SnapshotMaintenanceWindowBase[];
  /** The restore drills. */
  public readonly restoreDrills: RestoreDrill[];
  /** The snapshot locks of the tiers that lock their snapshots (Step Functions SDK integrations, also in a self-contained template). */
  public readonly snapshotLocks: SnapshotLock[];
  /** Every alarm of the baseline. */
  public readonly alarms: cloudwatch.IAlarm[];
  /**
   * The DLM default policy.
   *
   * @default - none unless `defaultPolicy`
   */
  public readonly defaultPolicy?: DlmDefaultPolicy;

  private readonly facts: TierFacts[] = [];
  private readonly alwaysOn: string[] = [];

  constructor(scope: Construct, id: string, props: EbsBackupBaselineProps) {
    super(scope, id);
    this.tierTagKey = props.tierTagKey ?? EbsBackupBaseline.DEFAULT_TIER_TAG_KEY;
    this.platformTagKey = props.platformTagKey ?? EbsBackupBaseline.DEFAULT_PLATFORM_TAG_KEY;
    collectProblems(this, () => {
      checkTagKey(this, 'tierTagKey', this.tierTagKey, true);
      checkTagKey(this, 'platformTagKey', this.platformTagKey, true);
      check(this.tierTagKey !== this.platformTagKey, this, 'platformTagKey', 'must differ from tierTagKey', this.platformTagKey);
      const libraryKeys = Object.values(BackupTagging.keys(this));
      check(!libraryKeys.includes(this.tierTagKey), this, 'tierTagKey', `must not be one of the library's artefact tag keys (${libraryKeys.join(', ')})`, this.tierTagKey);
      checkTiers(this, props.tiers, this.tierTagKey);
    });
    this.tiers = [...props.tiers];

    // a region taken from a tier is checked where the tier names it
    this.checkRegionAway('drRegion', props.drRegion);
    const drVaultName = props.drVaultName ?? EbsBackupBaseline.DEFAULT_DR_VAULT_NAME;
    const archiveVaultName = props.archiveVaultName ?? EbsBackupBaseline.DEFAULT_ARCHIVE_VAULT_NAME;
    checkPattern(this, 'drVaultName', drVaultName, /^[a-zA-Z0-9\-_]{2,50}$/, '2-50 characters of A-Z a-z 0-9 - _');
    checkPattern(this, 'archiveVaultName', archiveVaultName, /^[a-zA-Z0-9\-_]{2,50}$/, '2-50 characters of A-Z a-z 0-9 - _');
    checkLength(this, 'dashboardName', props.dashboardName, 1, 255);

    this.alarmTopic = props.alarmTopic ?? createNotificationTopic(this);
    const ctx: BaselineContext = {
      baseline: this,
      tierTagKey: this.tierTagKey,
      platformTagKey: this.platformTagKey,
      drRegion: props.drRegion ?? this.tiers
        .map((t) => t.definition.backupPlan?.drRegion ?? t.definition.snapshots?.drRegion)
        .find((r) => r !== undefined),
      drVaultName,
      archiveVaultName,
      alarmTopic: this.alarmTopic,
      alarmAction: new cwActions.SnsAction(this.alarmTopic),
      breakGlassPrincipalArns: props.breakGlassPrincipalArns ?? [],
      deploymentPrincipalArns: props.deploymentPrincipalArns,
      selfContained: props.selfContained ?? false,
      drillVpc: props.drillVpc,
      checkRegionAway: (property, region) => this.checkRegionAway(property, region),
    };
    this.drVaultName = drVaultName;
    this._drVaultDefaults = { breakGlassPrincipalArns: ctx.breakGlassPrincipalArns, createdElsewhere: props.drVaultCreatedElsewhere ?? false };
    this.node.addValidation({ validate: () => checkDrVaults(this) });

    // --- each tier: one builder per mechanism, each returning what it created and covers
    const built: Built[] = [];
    this.tiers.forEach((tier, i) => {
      const tierCtx: TierContext = {
        ...ctx, tier, at: `tiers[${i}]`, scope: new Construct(this, tier.name), selection: { [this.tierTagKey]: tier.name },
      };
      const results = TIER_BUILDERS.map((build) => build(tierCtx)).filter((b): b is Built => b !== undefined);
      built.push(...results);
      const mechanisms = results.flatMap((b) => b.covers ?? []);
      const r = rpo(mechanisms);
      this.facts.push({
        name: tier.name,
        description: tier.definition.description,
        selection: tierCtx.selection,
        mechanisms,
        worstCaseRpoHours: r.worst,
        platformRpoHours: r.platform,
        purposes: tier.purposes(),
      });
    });
    if (props.defaultPolicy) {
      built.push(buildSafetyNet(ctx));
    }
    const all = <T>(pick: (b: Built) => readonly T[] | undefined): T[] => built.flatMap((b) => pick(b) ?? []);
    const snapshotPolicies = all((b) => b.snapshotPolicies);
    const backupPolicies = all((b) => b.backupPolicies);
    const locks = all((b) => b.locks);
    this.snapshotPolicies = snapshotPolicies.map((p) => p.construct);
    this.backupPolicies = backupPolicies.map((p) => p.construct);
    this.maintenanceWindows = all((b) => b.maintenanceWindows);
    this.restoreDrills = all((b) => b.restoreDrills);
    this.snapshotLocks = locks.map((l) => l.lock);
    this.defaultPolicy = built.find((b) => b.defaultPolicy)?.defaultPolicy;

    // --- the write-once guard, over every tier
    const guard = buildGuard(ctx, {
      tiers: this.tiers,
      protectedResources: props.protectedResources,
      recycleBinRetain: props.recycleBinRetain,
      recycleBinUnlockDelay: props.recycleBinUnlockDelay,
      blockPublicSharing: props.blockPublicSharing,
      keys: this.backupPolicies.map((p) => p.key).filter((k): k is kms.IKey => k !== undefined),
      locks,
    });
    built.push(guard);
    this.guard = guard.guard;

    // --- checks on the app
    if (props.checks ?? true) {
      built.push(buildChecks(ctx));
    }
    this.alwaysOn.push(...all((b) => b.alwaysOn));

    // --- alarms, dashboard, report: every other alarm of the composed constructs after the builders' own
    this.alarms = all((b) => b.alarms);
    this.alarms.push(...this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm && !this.alarms.includes(c)));
    const keys = BackupTagging.keys(this);
    this.dashboard = createDashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      tiers: this.facts,
      vaults: backupPolicies.map((p) => ({ source: p.construct, purpose: p.purpose })),
      dlmPolicies: [
        ...snapshotPolicies.map((p) => ({ source: p.construct, purpose: p.purpose })),
        ...this.defaultPolicy ? [{ source: this.defaultPolicy, purpose: 'safety net' }] : [],
      ],
      windows: this.maintenanceWindows.map((w) => ({ source: w, purpose: w.snapshotTags[keys.purpose] })),
      bins: guard.bins,
      locks: locks.map((l) => l.text),
      alarms: this.alarms,
      drills: this.restoreDrills,
    });
    registerCoverage(this, () => this.coverageFacts());
    // changing or disabling any of the machinery above (CloudTrail management events) alarms: each
    // mechanism watches its own (routed to this topic); this watches the rest (the guard, the topic,
    // its key, the dashboard's alarms)
    const detection = new ChangeDetection(this, 'ChangeDetection', {
      topic: this.alarmTopic,
      mechanism: this.node.path,
      alarmActions: [new cwActions.SnsAction(this.alarmTopic)],
    });
    if (detection.alarm) {
      this.alarms.push(detection.alarm);
    }
    registerPlan(this, 'EbsBackupBaseline', () => ({})); // its dashboard, topic key and alarms count as its standing costs
    this.node.addValidation({ validate: () => this.checkStackLimits() });
  }

  /**
   * Attach the write-once deny policy to a role, user or group (operators, CI roles).
   */
  public protect(principal: iam.IIdentity): void {
    this.guard.protect(principal);
  }

  /**
   * Add to this app a stack in the DR region with the vault that receives the tiers' AWS Backup
   * copies (`BackupArchiveVault` named `drVaultName`, in this baseline's account), so that gold's
   * DR copies have somewhere to go. Returns the stack.
   */
  public addDrVaultStack(id: string, options: DrVaultStackOptions = {}): Stack {
    return addDrVaultStack(this, id, options);
  }

  /** The coverage report of this baseline as Markdown (the one written to `cdk.out` at synthesis). */
  public coverageMarkdown(): string {
    return renderMarkdown([this.coverageFacts()]);
  }

  /** The coverage report of this baseline as JSON. */
  public coverageJson(): string {
    return JSON.stringify(this.coverageFacts(), undefined, 2);
  }

  /** What each tier promises, as the dashboard's Markdown table. */
  public promisesMarkdown(): string {
    return promisesMarkdown(this.facts);
  }

  private coverageFacts(): BaselineFacts {
    return { path: this.node.path, tierTagKey: this.tierTagKey, platformTagKey: this.platformTagKey, tiers: this.facts, alwaysOn: this.alwaysOn };
  }

  /**
   * CloudFormation fails a stack with more than 500 resources at deploy time; many tiers in one
   * stack reach it (a tier with consistent snapshots and AWS Backup is about 45 resources).
   */
  private checkStackLimits(): string[] {
    const stack = Stack.of(this);
    const count = stack.node.findAll().filter((c) => c instanceof CfnResource && Stack.of(c) === stack).length;
    return count > 500
      ? [`${this.node.path}: tiers must fit in one stack of at most 500 resources (CloudFormation quota), got ${count} resources; split the tiers over several stacks, each with its own baseline`]
      : [];
  }

  /** A DR region must be a region name and not the baseline's own region. */
  private checkRegionAway(property: string, region: string | undefined): void {
    checkRegion(this, property, region);
    const own = Stack.of(this).region;
    check(region === undefined || isUnresolved(region) || Token.isUnresolved(own) || region !== own, this, property,
      `must be another region than the baseline's own (${own})`, region);
  }
}
