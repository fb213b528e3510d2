import { Annotations, ArnFormat, CfnResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { createDashboard, promisesMarkdown } from './dashboard';
import {
  BaselineFacts, COVERAGE_REPORT_FILES, intervalHours, MechanismFacts, registerCoverage, renderMarkdown, retentionText, rpo, TierFacts,
} from './report';
import { BackupTier } from './tier';
import { createNotificationTopic } from '../backup/monitoring';
import { ProtectedResourceType } from '../backup/selection';
import { VaultLockMode } from '../backup/vault-lock';
import { BackupVaultPolicy, BackupCopyTarget } from '../backup/vault-policy';
import { EbsBackupChecks } from '../checks/ebs-backup-checks';
import { nagRendering } from '../core/acknowledge';
import { failureAlarm } from '../core/failure-alarm';
import { protectAsMachinery } from '../core/machinery';
import { Retention } from '../core/retention';
import { BackupTagging } from '../core/tagging';
import {
  check, checkAccountId, checkCount, checkDuration, checkLength, checkPattern, checkRegion, fail, isUnresolved, wholeDays,
} from '../core/validation';
import { DefaultPolicyTarget, DlmDefaultPolicy } from '../dlm/default-policy';
import { DlmSnapshotPolicy } from '../dlm/snapshot-policy';
import { SnapshotTarget } from '../dlm/target';
import { RestoreDrill } from '../restore/restore-drill';
import { FsfreezeMaintenanceWindow } from '../ssm/fsfreeze-window';
import { MaintenanceTargets } from '../ssm/targets';
import { VssMaintenanceWindow } from '../ssm/vss-window';
import { SnapshotMaintenanceWindowBase } from '../ssm/window-base';
import { SnapshotSharingBlock } from '../worm/block-public-access';
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
   * The name of the vault in the archive account that receives AWS Backup copies (`BackupArchiveVault`).
   *
   * @default EbsBackupBaseline.DEFAULT_ARCHIVE_VAULT_NAME
   */
  readonly archiveVaultName?: string;

  /**
   * How long deleted snapshots and AMIs stay recoverable in the Recycle Bin (1-365 days).
   *
   * @default - the shortest retention of the DLM tiers, at most 7 days (a longer bin keeps more
   *   expired snapshots billed than the schedules keep)
   */
  readonly recycleBinRetention?: Duration;

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

const TAG_KEY = /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const CHECKS_ADDED = Symbol.for('cdk-ebs-backup.baselineChecks');

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
  public static readonly PLATFORM_WINDOWS = 'windows';
  /** The platform tag value of Linux instances (fsfreeze). */
  public static readonly PLATFORM_LINUX = 'linux';
  /** The default name of the DR-region vault. */
  public static readonly DEFAULT_DR_VAULT_NAME = 'ebs-backup-dr';
  /** The default name of the archive account's vault. */
  public static readonly DEFAULT_ARCHIVE_VAULT_NAME = 'ebs-backup-archive';
  /** The Markdown coverage report written to the cloud assembly directory at synthesis. */
  public static readonly COVERAGE_REPORT_MARKDOWN = COVERAGE_REPORT_FILES.markdown;
  /** The JSON coverage report written to the cloud assembly directory at synthesis. */
  public static readonly COVERAGE_REPORT_JSON = COVERAGE_REPORT_FILES.json;

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
  public readonly snapshotPolicies: DlmSnapshotPolicy[] = [];
  /** The AWS Backup policies, one per tier with `backupPlan`. */
  public readonly backupPolicies: BackupVaultPolicy[] = [];
  /** The VSS and fsfreeze maintenance windows. */
  public readonly maintenanceWindows: SnapshotMaintenanceWindowBase[] = [];
  /** The restore drills. */
  public readonly restoreDrills: RestoreDrill[] = [];
  /** The snapshot locks of the tiers that lock their snapshots (Step Functions SDK integrations, also in a self-contained template). */
  public readonly snapshotLocks: SnapshotLock[] = [];
  /** Every alarm of the baseline. */
  public readonly alarms: cloudwatch.IAlarm[] = [];
  /**
   * The DLM default policy.
   *
   * @default - none unless `defaultPolicy`
   */
  public readonly defaultPolicy?: DlmDefaultPolicy;

  private readonly facts: TierFacts[] = [];
  private readonly alwaysOn: string[] = [];
  private readonly selfContained: boolean;

  constructor(scope: Construct, id: string, props: EbsBackupBaselineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.selfContained = props.selfContained ?? false;
    this.tierTagKey = props.tierTagKey ?? EbsBackupBaseline.DEFAULT_TIER_TAG_KEY;
    this.platformTagKey = props.platformTagKey ?? EbsBackupBaseline.DEFAULT_PLATFORM_TAG_KEY;
    checkPattern(this, 'tierTagKey', this.tierTagKey, TAG_KEY, "a tag key of 1-128 characters that does not start with 'aws:'");
    checkPattern(this, 'platformTagKey', this.platformTagKey, TAG_KEY, "a tag key of 1-128 characters that does not start with 'aws:'");
    check(this.tierTagKey !== this.platformTagKey, this, 'platformTagKey', 'must differ from tierTagKey', this.platformTagKey);
    const libraryKeys = Object.values(BackupTagging.keys(this));
    check(!libraryKeys.includes(this.tierTagKey), this, 'tierTagKey', `must not be one of the library's artefact tag keys (${libraryKeys.join(', ')})`, this.tierTagKey);

    checkCount(this, 'tiers', props.tiers, 1, 20);
    props.tiers.forEach((t, i) => check(t instanceof BackupTier, this, `tiers[${i}]`,
      'must be BackupTier.gold(), .silver(), .bronze() or .custom()', t));
    const names = props.tiers.map((t) => t.name);
    names.forEach((n, i) => check(names.indexOf(n) === i, this, `tiers[${i}].name`, 'must be unique among the tiers', n));
    this.tiers = [...props.tiers];

    const drRegion = props.drRegion ?? this.tiers
      .map((t) => t.definition.backupPlan?.drRegion ?? t.definition.snapshots?.drRegion)
      .find((r) => r !== undefined);
    // a region taken from a tier is checked where the tier names it
    this.checkRegionAway('drRegion', props.drRegion);
    const drVaultName = props.drVaultName ?? EbsBackupBaseline.DEFAULT_DR_VAULT_NAME;
    const archiveVaultName = props.archiveVaultName ?? EbsBackupBaseline.DEFAULT_ARCHIVE_VAULT_NAME;
    checkPattern(this, 'drVaultName', drVaultName, /^[a-zA-Z0-9\-_]{2,50}$/, '2-50 characters of A-Z a-z 0-9 - _');
    checkPattern(this, 'archiveVaultName', archiveVaultName, /^[a-zA-Z0-9\-_]{2,50}$/, '2-50 characters of A-Z a-z 0-9 - _');
    checkLength(this, 'dashboardName', props.dashboardName, 1, 255);

    this.alarmTopic = props.alarmTopic ?? createNotificationTopic(this);
    const alarmAction = new cwActions.SnsAction(this.alarmTopic);
    const breakGlass = props.breakGlassPrincipalArns ?? [];
    const locks: Array<{ role: iam.IRole; alarm: cloudwatch.IAlarm; text: string }> = [];

    this.tiers.forEach((tier, i) => {
      const tierScope = new Construct(this, tier.name);
      const selection = { [this.tierTagKey]: tier.name };
      const mechanisms: MechanismFacts[] = [];
      const d = tier.definition;
      const at = `tiers[${i}]`;

      // --- DLM snapshots
      if (d.snapshots) {
        const s = d.snapshots;
        const region = s.drCopy || s.drRegion ? s.drRegion ?? drRegion : undefined;
        if (s.drCopy && region === undefined) {
          fail(this, `${at}.snapshots.drRegion`, `must be given for tier '${tier.name}' (it copies to a DR region): pass drRegion to the tier or to the baseline`);
        }
        this.checkRegionAway(`${at}.snapshots.drRegion`, region);
        const liveDays = retentionDays(s.retain, intervalHours(s.schedule));
        const drRetain = s.drRetain ?? (liveDays !== undefined ? Duration.days(Math.max(1, liveDays)) : Duration.days(14));
        if (s.snapshotLock) {
          const lockDays = s.snapshotLock.duration.toDays();
          check(liveDays === undefined || isUnresolved(s.snapshotLock.duration) || lockDays < liveDays, this, `${at}.snapshots.snapshotLock`,
            `must lock snapshots for less than the tier's retention (about ${liveDays} days), or DLM cannot delete them when they expire`, s.snapshotLock.duration);
        }
        const policy = new DlmSnapshotPolicy(tierScope, 'Snapshots', {
          purpose: tier.snapshotPurpose,
          target: SnapshotTarget.instances({ tags: selection }),
          schedules: [{
            name: `${tier.name} snapshots`,
            schedule: s.schedule,
            retain: s.retain,
            copyTags: true,
            crossRegionCopies: region === undefined ? undefined : [{ region, retain: Retention.age(drRetain) }],
          }],
        });
        this.snapshotPolicies.push(policy);
        this.dlmAlarms(tierScope, policy, tier.snapshotPurpose, alarmAction);
        let lockText: string | undefined;
        if (s.snapshotLock) {
          lockText = `${s.snapshotLock.mode} ${s.snapshotLock.duration.toDays()} days`;
          // the same construct in an app and a self-contained member template: SDK integrations, no asset
          const lock = new SnapshotLock(tierScope, 'Lock', { mode: s.snapshotLock, purposes: [tier.snapshotPurpose], alarmAction });
          this.snapshotLocks.push(lock);
          locks.push({ role: lock.role, alarm: lock.alarm, text: `${tier.snapshotPurpose}: EBS Snapshot Lock ${lockText} (Step Functions)` });
        }
        mechanisms.push({
          mechanism: 'dlm-snapshots',
          selection,
          purpose: tier.snapshotPurpose,
          schedule: s.schedule.expressionString,
          intervalHours: intervalHours(s.schedule),
          retention: s.retain.toTagValue(),
          copies: region === undefined ? [] : [`region ${region} (${retentionText(drRetain)})`],
          lock: lockText,
          coversWholeTier: true,
        });
      }

      // --- application-consistent snapshots by platform
      if (d.consistentSnapshots) {
        const c = d.consistentSnapshots;
        const platforms: Array<[string, string, boolean]> = [
          [EbsBackupBaseline.PLATFORM_WINDOWS, tier.windowsPurpose, c.windows !== false],
          [EbsBackupBaseline.PLATFORM_LINUX, tier.linuxPurpose, c.linux !== false],
        ];
        for (const [platform, purpose, enabled] of platforms) {
          if (!enabled) {
            continue;
          }
          const windowSelection = { ...selection, [this.platformTagKey]: platform };
          const common = {
            purpose,
            schedule: c.schedule,
            retention: c.retain,
            targets: MaintenanceTargets.tagged(windowSelection),
            maxConcurrency: '100%',
            maxErrors: '100%',
            alarmActions: [alarmAction],
          };
          const window = platform === EbsBackupBaseline.PLATFORM_WINDOWS
            ? new VssMaintenanceWindow(tierScope, 'Vss', common)
            : new FsfreezeMaintenanceWindow(tierScope, 'Fsfreeze', { ...common, mountPoints: c.linuxMountPoints });
          this.maintenanceWindows.push(window);
          this.alarms.push(window.crashConsistentAlarm, window.failedRunsAlarm, window.expiryFailedAlarm);
          mechanisms.push({
            mechanism: platform === EbsBackupBaseline.PLATFORM_WINDOWS ? 'vss-window' : 'fsfreeze-window',
            selection: windowSelection,
            purpose,
            schedule: c.schedule.expressionString,
            intervalHours: intervalHours(c.schedule),
            retention: c.retain.toTagValue(),
            copies: [],
            coversWholeTier: false,
            instancePolicy: nagRendering(Stack.of(window).resolve(window.instancePolicyName)),
          });
        }
      }

      // --- AWS Backup
      if (d.backupPlan) {
        const b = d.backupPlan;
        this.checkRegionAway(`${at}.backupPlan.drRegion`, b.drRegion);
        checkAccountId(this, `${at}.backupPlan.archiveAccount`, b.archiveAccount);
        const own = stack.account;
        check(b.archiveAccount === undefined || isUnresolved(b.archiveAccount) || Token.isUnresolved(own) || b.archiveAccount !== own,
          this, `${at}.backupPlan.archiveAccount`, "must be another account than the baseline's own", b.archiveAccount);
        const copyTo: BackupCopyTarget[] = [];
        const copies: string[] = [];
        if (b.drRegion !== undefined) {
          copyTo.push({
            vaultArn: stack.formatArn({ service: 'backup', region: b.drRegion, resource: 'backup-vault', resourceName: drVaultName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
            deleteAfter: b.drDeleteAfter ?? b.deleteAfter,
          });
          copies.push(`region ${b.drRegion} vault ${drVaultName} (${retentionText(b.drDeleteAfter ?? b.deleteAfter)})`);
        }
        if (b.archiveAccount !== undefined) {
          const archiveDays = b.archiveDeleteAfter ?? Duration.days(365);
          copyTo.push({
            vaultArn: stack.formatArn({ service: 'backup', account: b.archiveAccount, resource: 'backup-vault', resourceName: archiveVaultName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
            deleteAfter: archiveDays,
          });
          copies.push(`account ${b.archiveAccount} vault ${archiveVaultName} (${retentionText(archiveDays)})`);
        }
        const policy = new BackupVaultPolicy(tierScope, 'Backup', {
          purpose: tier.backupPurpose,
          rules: [{ name: `${tier.name}-daily`.slice(0, 50), schedule: b.schedule, deleteAfter: b.deleteAfter, copyTo }],
          resources: [backup.BackupResource.fromTag(this.tierTagKey, tier.name)],
          resourceTypes: [ProtectedResourceType.EC2],
          vaultLock: b.vaultLock,
          breakGlassPrincipalArns: breakGlass,
          deploymentPrincipalArns: props.deploymentPrincipalArns,
          windowsVss: b.windowsVss ?? true,
          notificationTopic: this.alarmTopic,
          restoreTesting: b.restoreTesting === false ? undefined : {},
        });
        this.backupPolicies.push(policy);
        if (b.vaultLock?.mode === VaultLockMode.COMPLIANCE) {
          Validations.of(policy).acknowledge({
            id: 'Annotation::cdk-ebs-backup:backup:compliance-lock',
            reason: `tier '${tier.name}' promises a compliance-mode Vault Lock; the coverage report and the dashboard state it`,
          });
        }
        mechanisms.push({
          mechanism: 'aws-backup',
          selection,
          purpose: tier.backupPurpose,
          schedule: b.schedule.expressionString,
          intervalHours: intervalHours(b.schedule),
          retention: retentionText(b.deleteAfter),
          copies,
          lock: b.vaultLock ? `vault lock ${b.vaultLock.mode.toLowerCase()}` : undefined,
          coversWholeTier: true,
        });
        if (b.restoreTesting !== false) {
          mechanisms.push({ mechanism: 'aws-backup-restore-testing', selection, schedule: 'weekly', copies: [], coversWholeTier: true });
        }
      }

      // --- restore drill
      if (d.restoreDrill) {
        const purpose = d.consistentSnapshots && d.consistentSnapshots.linux !== false ? tier.linuxPurpose : tier.snapshotPurpose;
        if (this.selfContained) {
          // selfContained is an explicit choice: an info, and the coverage report says so
          const omitted = `tier '${tier.name}' restoreDrill is left out of the self-contained template (its functions are code assets)`;
          Annotations.of(this).addInfo(`${this.node.path}: ${omitted}; AWS Backup restore testing still proves the recovery points restore`);
          this.alwaysOn.push(omitted);
        } else {
          const drill = new RestoreDrill(tierScope, 'Drill', {
            purpose,
            schedule: d.restoreDrill.schedule,
            validation: d.restoreDrill.validation ?? ['test -n "$(ls -A /data)"'],
            alarmTopic: this.alarmTopic,
            vpc: props.drillVpc,
          });
          this.restoreDrills.push(drill);
          mechanisms.push({ mechanism: 'restore-drill', selection: { [BackupTagging.keys(this).purpose]: purpose }, purpose, schedule: d.restoreDrill.schedule.expressionString, copies: [], coversWholeTier: false });
        }
      }

      const r = rpo(mechanisms);
      this.facts.push({
        name: tier.name,
        description: d.description,
        selection,
        mechanisms,
        worstCaseRpoHours: r.worst,
        platformRpoHours: r.platform,
        purposes: tier.purposes(),
      });
    });

    // --- safety net for untagged volumes
    if (props.defaultPolicy) {
      this.defaultPolicy = new DlmDefaultPolicy(this, 'SafetyNet', {
        purpose: 'untagged-volumes-safety-net',
        target: DefaultPolicyTarget.volumes(),
      });
      this.dlmAlarms(this, this.defaultPolicy, 'safety net', alarmAction);
      this.alwaysOn.push('DLM default policy: daily snapshots of every volume no other DLM policy backed up, kept 7 days');
    }

    // --- write-once guard
    const purposes = this.tiers.flatMap((t) => t.purposes());
    const binRetention = props.recycleBinRetention ?? Duration.days(this.defaultBinDays());
    checkDuration(this, 'recycleBinRetention', binRetention, Duration.days(1), Duration.days(365));
    const unlockDelay = props.recycleBinUnlockDelay ?? Duration.days(7);
    const blockPublicSharing = props.blockPublicSharing ?? true;
    this.guard = new WormSnapshotGuard(this, 'Guard', {
      breakGlassPrincipalArns: breakGlass,
      deploymentPrincipalArns: props.deploymentPrincipalArns,
      protectedResources: props.protectedResources ?? ProtectedResources.purposes(...purposes),
      recycleBin: { retention: binRetention, lockUnlockDelay: unlockDelay },
      blockPublicSharing: blockPublicSharing && !this.selfContained,
      // a backup whose key is gone is gone: Vault Lock does not protect the vaults' keys
      keys: this.backupPolicies.map((p) => p.key).filter((k): k is kms.IKey => k !== undefined),
    });
    if (this.selfContained && blockPublicSharing) {
      // the AMI setting needs a custom resource (a code asset): the organization's EC2
      // declarative policy (BaselineStackSet) blocks AMI sharing instead. The L1 directly, since
      // BlockPublicSharing cannot yet tell environment-agnostic stacks apart (reported).
      new ec2.CfnSnapshotBlockPublicAccess(this, 'BlockSnapshotPublicSharing', { state: SnapshotSharingBlock.BLOCK_ALL_SHARING });
    }
    for (const lock of locks) {
      // the lock role locks snapshots; it never deletes them
      this.guard.exemptRole(lock.role, { lifecycle: false, snapshotLock: true });
      this.alarms.push(lock.alarm);
    }
    const binDays = isUnresolved(binRetention) ? 0 : wholeDays(this, 'recycleBinRetention', binRetention);
    this.alwaysOn.push(
      `write-once deny policy for purposes ${purposes.join(', ')}${breakGlass.length > 0 ? `, break-glass ${breakGlass.join(', ')}` : ''}`,
      `Recycle Bin for snapshots and AMIs, ${binDays} days, locked (unlock delay ${unlockDelay.toDays()} days)`,
      !blockPublicSharing ? 'public sharing left to another stack or the organization (blockPublicSharing: false)'
        : this.selfContained ? 'block public sharing of snapshots (AMIs: organization declarative policy)' : 'block public sharing of snapshots and AMIs',
      ...locks.map((l) => l.text),
    );

    // --- checks on the app
    if (props.checks ?? true) {
      const root = this.node.root as unknown as { [CHECKS_ADDED]?: boolean };
      if (!root[CHECKS_ADDED]) {
        root[CHECKS_ADDED] = true;
        Validations.of(this.node.root).addPlugins(new EbsBackupChecks(this.node.root));
      }
      this.alwaysOn.push('EbsBackupChecks validation plugin on the app');
    }

    // --- alarms, dashboard, report
    this.collectAlarms();
    const keys = BackupTagging.keys(this);
    this.dashboard = createDashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      tiers: this.facts,
      vaultNames: this.backupPolicies.map((p, i) => ({
        vaultName: p.vault.backupVaultName,
        purpose: this.tiers.filter((t) => t.definition.backupPlan)[i].backupPurpose,
      })),
      dlmPolicies: [
        ...this.snapshotPolicies.map((p, i) => ({
          policyId: p.policyId,
          purpose: this.tiers.filter((t) => t.definition.snapshots)[i].snapshotPurpose,
        })),
        ...this.defaultPolicy ? [{ policyId: this.defaultPolicy.policyId, purpose: 'safety net' }] : [],
      ],
      windows: this.maintenanceWindows.map((w) => ({ managedBy: w.snapshotTags[keys.managedBy], purpose: w.snapshotTags[keys.purpose] })),
      bins: this.guard.recycleBinRules.map((rule) => ({
        ruleId: rule.ruleId,
        what: rule.resource.resourceType === 'EC2_IMAGE' ? 'AMIs' : 'EBS snapshots',
        retentionDays: binDays,
        unlockDelayDays: rule.locked ? unlockDelay.toDays() : undefined,
      })),
      locks: locks.map((l) => l.text),
      alarms: this.alarms,
      drills: this.restoreDrills.map((d) => ({
        succeeded: d.metricDrillSucceeded(), timeToRestore: d.metricTimeToRestore(),
      })),
    });
    registerCoverage(this, () => this.coverageFacts());
    this.node.addValidation({ validate: () => this.checkStackLimits() });
  }

  /**
   * Attach the write-once deny policy to a role, user or group (operators, CI roles).
   */
  public protect(principal: iam.IIdentity): void {
    this.guard.protect(principal);
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

  /** The Recycle Bin default: no longer than any DLM schedule keeps its snapshots, at most 7 days. */
  private defaultBinDays(): number {
    const days = this.tiers.filter((t) => t.definition.snapshots).map((t) => {
      const s = t.definition.snapshots!;
      return retentionDays(s.retain, intervalHours(s.schedule));
    }).filter((d): d is number => d !== undefined);
    return Math.max(1, Math.min(7, ...days));
  }

  private dlmAlarms(scope: Construct, policy: { policyId: string; policyArn: string }, purpose: string, action: cloudwatch.IAlarmAction): void {
    const metric = (metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/EBS', metricName, dimensionsMap: { DLMPolicyId: policy.policyId }, statistic: 'Sum', period: Duration.hours(1),
    });
    const alarm = failureAlarm(scope, 'SnapshotFailuresAlarm', {
      description: `DLM snapshots (${purpose}) failed to be created or copied`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(created, 0) + FILL(copied, 0)',
        usingMetrics: { created: metric('SnapshotsCreateFailed'), copied: metric('SnapshotsCopiedRegionFailed') },
        period: Duration.hours(1),
      }),
      alarmAction: action,
    });
    this.alarms.push(alarm);
    protectAsMachinery(new events.Rule(scope, 'PolicyErrorRule', {
      description: `DLM policy (${purpose}) went into the ERROR state`,
      eventPattern: { source: ['aws.dlm'], detailType: ['DLM Policy State Change'], detail: { state: ['ERROR'] }, resources: [policy.policyArn] },
      targets: [new targets.SnsTopic(this.alarmTopic)],
    }));
  }

  /** Every other alarm of the composed constructs (each already notifies the topic). */
  private collectAlarms(): void {
    for (const c of this.node.findAll()) {
      if (c instanceof cloudwatch.Alarm && !this.alarms.includes(c)) {
        this.alarms.push(c);
      }
    }
  }
}

/** How many days a retention keeps snapshots of a schedule (count × interval for counts). */
function retentionDays(retain: Retention, everyHours: number | undefined): number | undefined {
  if (retain.maxAge !== undefined) {
    return isUnresolved(retain.maxAge) ? undefined : retain.maxAge.toDays();
  }
  if (retain.maxCount === undefined || isUnresolved(retain.maxCount) || everyHours === undefined) {
    return undefined;
  }
  return Math.floor((retain.maxCount * everyHours) / 24);
}
