import { Aws, Duration, Names, RemovalPolicy, Stack, TimeZone, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BackupAuditFramework, BackupAuditOptions } from './audit';
import { addFailureMonitoring, createNotificationTopic, VAULT_NOTIFICATION_EVENTS } from './monitoring';
import { DESTRUCTIVE_KEY_ACTIONS, protectKey, vaultDenyStatements, vaultLockPlan, warnNoBreakGlass } from './protection';
import { BackupRestoreTesting, RestoreTestingOptions } from './restore-testing';
import { backupRoleStatements, backupServicePrincipal, restoreRoleStatements } from './roles';
import {
  BackupCondition, checkSelectionArns, isEc2Arn, ProtectedResourceType, renderConditions, wildcardArnFor,
} from './selection';
import { VaultLock, VaultLockMode } from './vault-lock';
import { acknowledgeFindings, acknowledgeWildcards, ANY_RESOURCE_FINDING, wildcardArn } from '../core/acknowledge';
import { ChangeDetection } from '../core/change-detection';
import { heartbeatAlarm, scheduleIntervalMs } from '../core/heartbeat';
import { mergeTags } from '../core/merge-tags';
import { planRetention, planSchedule, registerPlan } from '../core/plan-report';
import { requirePrerequisite } from '../core/prerequisites';
import { checkPrincipalArns, deploymentPrincipalArns } from '../core/principal-arns';
import { Retention } from '../core/retention';
import { RetentionRoles } from '../core/retention-roles';
import { BackupTagging } from '../core/tagging';
import {
  attempt, check, checkAccountId, checkCount, collectProblems, checkDuration, checkPattern, checkRegion,
  checkTags, fail, isUnresolved, reportFactoryProblems, retentionAge, warn, wholeDays,
} from '../core/validation';

/** A copy of each recovery point of a rule to another vault (another region or account). */
export interface BackupCopyTarget {
  /**
   * The ARN of the destination vault, e.g. `arn:aws:backup:eu-west-1:111122223333:backup-vault:ebs-archive`.
   * A vault in another account must admit this account (see `BackupArchiveVault`).
   */
  readonly vaultArn: string;
  /**
   * How long the copy is kept in the destination vault: its own retention, independent of the
   * source's.
   *
   * AWS Backup keeps recovery points by age only (`DeleteAfterDays`), so this is
   * `Retention.age(...)`.
   *
   * @default - the rule's `retain`
   */
  readonly retain?: Retention;
  /**
   * When the copy moves to cold storage; it must then stay there at least 90 days.
   *
   * @default - the copy stays in warm storage
   */
  readonly moveToColdStorageAfter?: Duration;
  /**
   * The destination vault's lock, so that the copy's retention is checked against its bounds at
   * synthesis (copy jobs outside them fail at run time).
   *
   * @default - the copy's retention is not checked against a lock
   */
  readonly destinationLock?: VaultLock;
}

/** One backup rule: when recovery points are created, and how long they are kept. */
export interface BackupVaultRule {
  /** The rule's name, shown in jobs and reports (1-50 of `A-Za-z0-9-_.`). */
  readonly name: string;
  /** When the backup runs; AWS Backup takes cron schedules only. */
  readonly schedule: events.Schedule;
  /**
   * The time zone of the schedule.
   *
   * @default - UTC
   */
  readonly scheduleTimeZone?: TimeZone;
  /**
   * How long each recovery point is kept; also the value of its retention tag. AWS Backup keeps
   * recovery points by age only (`DeleteAfterDays`), so this is `Retention.age(...)`.
   */
  readonly retain: Retention;
  /**
   * When recovery points move to cold storage (for EBS, the snapshot archive tier); they must
   * then stay there at least 90 days, so `retain` >= this + 90 days.
   *
   * @default - recovery points stay in warm storage
   */
  readonly moveToColdStorageAfter?: Duration;
  /**
   * How long after the scheduled time a job may start before it is cancelled (at least 1 hour).
   *
   * @default Duration.hours(1)
   */
  readonly startWindow?: Duration;
  /**
   * How long a started job may run before AWS Backup cancels it.
   *
   * @default Duration.days(7)
   */
  readonly completionWindow?: Duration;
  /**
   * Copies of each recovery point to other vaults (regions or accounts), each with its own
   * retention.
   *
   * @default - no copies
   */
  readonly copyTo?: BackupCopyTarget[];
  /**
   * Extra tags for the recovery points; the library's purpose, retention and managed-by tags are
   * always added and cannot be overridden.
   *
   * @default - only the library's tags
   */
  readonly recoveryPointTags?: Record<string, string>;
}

/** Properties of a BackupVaultPolicy. */
export interface BackupVaultPolicyProps {
  /** Why the backups exist (the purpose tag of every recovery point), e.g. `ebs-dr`. */
  readonly purpose: string;
  /** The backup rules of the plan (at least one; more with `addRule()`). */
  readonly rules: BackupVaultRule[];
  /**
   * Resources to back up: tags (`BackupResource.fromTag`, ORed), ARNs, or constructs. Tag-based
   * selections are limited to `resourceTypes` (each tag is rendered as a condition on the wildcard
   * resource types, never as `ListOfTags`, which AWS Backup ORs with `Resources`).
   *
   * @default - only `conditions` and `allTags` select
   */
  readonly resources?: backup.BackupResource[];
  /**
   * Tag conditions that must ALL hold (AND); `tagNotEquals`/`tagNotLike` exclude resources.
   *
   * @default - no conditions
   */
  readonly conditions?: BackupCondition[];
  /**
   * Tags that must ALL be present with these values (AND), unlike `BackupResource.fromTag` (OR).
   *
   * @default - none
   */
  readonly allTags?: Record<string, string>;
  /**
   * Resource ARNs never to back up, even when they match.
   *
   * @default - none
   */
  readonly excludeArns?: string[];
  /**
   * The resource types that tag and condition selections are limited to, and that restore tests
   * cover; the least-privilege backup role covers exactly EBS and EC2.
   *
   * @default [ProtectedResourceType.EBS, ProtectedResourceType.EC2]
   */
  readonly resourceTypes?: ProtectedResourceType[];
  /**
   * Vault Lock, the write-once setting of the vault.
   *
   * @default - no lock (a synth warning says so)
   */
  readonly vaultLock?: VaultLock;
  /**
   * An existing vault to back up into (`backup.BackupVault.fromBackupVaultName(...)`), adopted
   * instead of a new one. Its lock, access policy, key and notifications stay with whoever created
   * it: CloudFormation sets them only on the vault resource itself. So `vaultLock`, `vaultName`,
   * `encryptionKey` and `useAwsManagedKey` cannot be set with it (synthesis fails), and a warning
   * (`backup:adopted-vault`) asks you to make sure the vault is locked and denies early deletion.
   * The plan, selection, roles, failure alarms, restore testing and audit work as for a new vault.
   *
   * @default - a new vault, locked with `vaultLock`, with a deny-by-default access policy
   */
  readonly vault?: backup.IBackupVault;
  /**
   * The customer-managed key that encrypts the vault; its key policy must deny deletion and
   * disabling, which this construct adds only to keys it can edit.
   *
   * @default - a new key with rotation and a policy that denies its deletion and disabling
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Use the AWS managed key `aws/backup` instead of a customer-managed one: nobody in the account
   * can delete or disable it, at the price of not controlling its policy.
   *
   * @default false
   */
  readonly useAwsManagedKey?: boolean;
  /**
   * Principals exempt from the denies on the vault and key (deleting recovery points, changing
   * their lifecycle, changing the vault policy or lock, deleting or disabling the key). Role,
   * user or root ARNs (not assumed-role session ARNs: `aws:PrincipalArn` carries the role ARN);
   * wildcards as in `ArnLike`. Deployments pass the configuration denies through
   * `deploymentPrincipalArns`, not through this list.
   *
   * @default - none: nobody can delete a recovery point early; only the deployment principals change the vault policy or lock
   */
  readonly breakGlassPrincipalArns?: string[];
  /**
   * The roles that deploy this stack: they pass the denies on changing the vault's access
   * policy and lock and the key's policy (not on deleting recovery points), so that later stack
   * updates of the vault keep working. Role ARNs only; an empty list exempts no deployment.
   *
   * @default - the CDK bootstrap CloudFormation execution role of the stack's account and region
   *   under the `DefaultStackSynthesizer`, none under other synthesizers
   */
  readonly deploymentPrincipalArns?: string[];
  /**
   * Create Windows VSS application-consistent backups of EC2 instances (advanced backup setting).
   *
   * @default false
   */
  readonly windowsVss?: boolean;
  /**
   * The role AWS Backup backs up with, e.g. one with `AWSBackupServiceRolePolicyForBackup` to
   * protect other resource types.
   *
   * @default - a role limited to backing up, copying and expiring EBS volumes and EC2 instances
   */
  readonly backupRole?: iam.IRole;
  /**
   * The vault's name.
   *
   * @default - a name generated by CloudFormation
   */
  readonly vaultName?: string;
  /**
   * The topic for failed backup, copy and restore jobs and vault events.
   *
   * @default - a new encrypted topic
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * Send vault events to the topic, and alarm on failed jobs.
   *
   * @default true
   */
  readonly notifications?: boolean;
  /**
   * Restore testing of the vault's recovery points.
   *
   * @default - no restore testing (a synth warning says so)
   */
  readonly restoreTesting?: RestoreTestingOptions;
  /**
   * AWS Backup Audit Manager framework and report plan that prove the policy.
   *
   * @default - no audit framework
   */
  readonly audit?: BackupAuditOptions;
}

const RULE_NAME = /^[a-zA-Z0-9\-_.]{1,50}$/;
/** Why `Retention.count` is refused for recovery points. */
const AGE_ONLY = 'AWS Backup keeps recovery points by age only (Lifecycle.DeleteAfterDays)';

const VAULT_ARN = /^arn:aws[a-z-]*:backup:([a-z0-9-]+):(\d{12}):backup-vault:([a-zA-Z0-9\-_]{2,50})$/;

/**
 * An AWS Backup policy for EBS volumes and EC2 instances that an auditor can sign off: a vault
 * with a customer-managed key and Vault Lock, an access policy that denies destroying backups to
 * all but break-glass principals, a plan whose rules are checked against the lock, tagged
 * recovery points, copies to other regions and accounts, restore testing, audit evidence and
 * alarms. Built on aws-cdk-lib's `aws-backup` L2s.
 */
export class BackupVaultPolicy extends Construct {
  /**
   * The id of the warning that a compliance-mode lock becomes immutable, to acknowledge with
   * `Validations.of(policy).acknowledge({ id, reason })` once the choice is deliberate.
   */
  public static readonly COMPLIANCE_LOCK_WARNING = 'Annotation::cdk-ebs-backup:backup:compliance-lock';

  /** The vault. */
  public readonly vault: backup.IBackupVault;
  /** The plan. */
  public readonly plan: backup.BackupPlan;
  /** The (first) selection that assigns resources to the plan. */
  public readonly selection: backup.BackupSelection;
  /**
   * Every selection of the plan: one for explicit ARNs and one per `BackupResource.fromTag()`
   * (selections are ORed; within one, `Conditions` are ANDed).
   */
  public readonly selections: backup.BackupSelection[];
  /**
   * The key that encrypts the vault.
   *
   * @default - undefined with `useAwsManagedKey`
   */
  public readonly key?: kms.IKey;
  /** The role AWS Backup backs up with. */
  public readonly backupRole: iam.IRole;
  /**
   * The vault's lock.
   *
   * @default - undefined without a lock
   */
  public readonly vaultLock?: VaultLock;
  /**
   * The topic for job failures and vault events.
   *
   * @default - undefined with `notifications: false`
   */
  public readonly topic?: sns.ITopic;
  /**
   * The restore testing.
   *
   * @default - undefined without `restoreTesting`
   */
  public readonly restoreTesting?: BackupRestoreTesting;
  /**
   * The audit framework.
   *
   * @default - undefined without `audit`
   */
  public readonly audit?: BackupAuditFramework;
  /**
   * In alarm when the plan completed no backup job within 1.5 times its most frequent rule's
   * longest interval (missing data breaching: AWS Backup reports a job count only when it is
   * not zero, so a deleted selection, a disabled plan or untagged volumes are all silence).
   * Rules added later with `addRule()` do not shorten its window.
   */
  public readonly heartbeatAlarm: cloudwatch.Alarm;
  /**
   * In alarm when the plan or the vault was changed, disabled or deleted (a CloudTrail management
   * event matched the change-detection rule: `UpdateBackupPlan`, `DeleteBackupSelection`,
   * `DeleteBackupVaultAccessPolicy`, ...; a deployment counts too). Notifies `topic`.
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;

  private readonly purpose: string;
  private readonly rules: BackupVaultRule[] = [];
  private readonly breakGlass: string[];
  private readonly deployment: string[];
  private readonly copyVaults = new Map<string, backup.IBackupVault>();
  private readonly vaultName?: string;
  private _restoreRole?: iam.Role;

  constructor(scope: Construct, id: string, props: BackupVaultPolicyProps) {
    super(scope, id);
    this.purpose = props.purpose;
    this.vaultLock = props.vaultLock;
    this.vaultName = props.vaultName;
    this.breakGlass = [...props.breakGlassPrincipalArns ?? []];
    const types = [...new Set(props.resourceTypes ?? [ProtectedResourceType.EBS, ProtectedResourceType.EC2])];
    const adopted = props.vault;
    // every problem of the policy at once: its props, each rule and the selection
    this.deployment = collectProblems(this, () => {
      BackupTagging.validatePurpose(this, 'purpose', props.purpose);
      checkPrincipalArns(this, 'breakGlassPrincipalArns', this.breakGlass);
      const deployment = deploymentPrincipalArns(this, 'deploymentPrincipalArns', props.deploymentPrincipalArns);
      checkCount(this, 'rules', props.rules, 1, 100);
      if (props.vaultName !== undefined) {
        checkPattern(this, 'vaultName', props.vaultName, /^[a-zA-Z0-9\-_]{2,50}$/, '2-50 characters of A-Z a-z 0-9 - _');
      }
      check(!(props.encryptionKey && props.useAwsManagedKey), this, 'encryptionKey', 'must not be set together with useAwsManagedKey');
      check(types.length > 0, this, 'resourceTypes', 'must name at least one resource type', types);
      check(!props.windowsVss || types.includes(ProtectedResourceType.EC2), this, 'windowsVss',
        'needs EC2 in resourceTypes (VSS backups are of EC2 instances)', props.resourceTypes);
      reportFactoryProblems(this, 'vaultLock', props.vaultLock);
      if (adopted !== undefined) {
        checkAdoptedVault(this, props);
      }
      (props.rules ?? []).forEach((rule, i) => attempt(this, () => this.checkRule(rule, `rules[${i}]`, props.rules.slice(0, i))));
      checkTags(this, 'allTags', props.allTags);
      check((props.resources ?? []).length + Object.keys(props.allTags ?? {}).length + (props.conditions ?? []).length > 0, this, 'resources',
        'must select something: give resources, conditions or allTags (an empty selection backs up every supported resource)');
      return deployment;
    });

    // --- key: Vault Lock does not protect it, so its policy must
    this.key = adopted !== undefined || props.useAwsManagedKey ? undefined : props.encryptionKey ?? new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: `Encrypts the AWS Backup vault of ${this.node.path}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (this.key) {
      if (!protectKey(this.key, this.breakGlass, this.deployment)) {
        warn(this, 'backup:imported-key', `${this.node.path}: the imported encryptionKey's policy must deny ${DESTRUCTIVE_KEY_ACTIONS.join(', ')} ` +
          'to all but the break-glass principals: Vault Lock does not stop anyone from deleting the key');
      }
    }

    // --- notifications
    const notify = props.notifications ?? true;
    this.topic = notify ? props.notificationTopic ?? createNotificationTopic(this) : undefined;

    // --- vault: a new one, or the adopted one as it is
    const vault = adopted ?? this.createVault(props);
    this.vault = vault;
    if (this.topic) {
      addFailureMonitoring(this, vault, this.topic);
    }

    // --- plan
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: Names.uniqueResourceName(this, { maxLength: 50 }),
      backupVault: vault,
      windowsVss: props.windowsVss,
    });
    for (const rule of props.rules) {
      this.addRule(rule);
    }
    const intervals = props.rules.map((r) => scheduleIntervalMs(r.schedule.expressionString));
    this.heartbeatAlarm = heartbeatAlarm(this, 'HeartbeatAlarm', {
      description: `The backup plan of ${this.node.path} completed no backup job: plan or selection removed, resources untagged, or every job failed`,
      metric: (p) => this.metricBackupJobsCompleted(p),
      schedule: intervals.every((i) => i !== undefined) ? Math.min(...intervals as number[]) : undefined,
      scheduleProp: 'rules[*].schedule',
      alarmActions: this.topic ? [new cw_actions.SnsAction(this.topic)] : undefined,
    });

    // --- selection, with a role that can do exactly its job
    this.backupRole = props.backupRole ?? this.createBackupRole(props.windowsVss ?? false);
    RetentionRoles.register(this, this.backupRole, 'AWS Backup expires EBS snapshots and AMIs of its recovery points with this role');
    this.selections = this.addSelections(props, types);
    this.selection = this.selections[0];

    // --- checks that depend on everything above, or on rules added later
    this.node.addValidation({ validate: () => this.validateAgainstLocks() });
    if (props.vaultLock?.mode === VaultLockMode.COMPLIANCE) {
      const days = props.vaultLock.changeableFor && !isUnresolved(props.vaultLock.changeableFor) ? props.vaultLock.changeableFor.toDays() : 3;
      warn(this, 'backup:compliance-lock', `${this.node.path}: the compliance-mode Vault Lock becomes immutable ${days} days after deployment: ` +
        'after that nobody, not even the root user, can remove it, shorten retention or delete the vault before its recovery points expire');
    }
    if (adopted !== undefined) {
      warn(this, 'backup:adopted-vault', `${this.node.path}: the adopted vault ${adopted.backupVaultName} keeps its own Vault Lock and access policy, ` +
        'which this construct cannot set (CloudFormation sets them on the vault resource only): lock it where it was created, ' +
        'with an access policy that denies backup:DeleteRecoveryPoint and backup:UpdateRecoveryPointLifecycle to all but break-glass principals');
    } else {
      if (!props.vaultLock) {
        warn(this, 'backup:no-lock', `${this.node.path}: the vault has no Vault Lock; recovery points can be deleted by anyone the access policy exempts`);
      }
      warnNoBreakGlass(this, this.breakGlass, this.deployment);
    }

    // --- restore testing and audit evidence
    if (props.restoreTesting) {
      this.restoreTesting = new BackupRestoreTesting(this, 'RestoreTesting', {
        resourceTypes: types,
        ...props.restoreTesting,
        vault,
        role: this.restoreRole,
      });
    }
    if (props.audit) {
      const copies = this.rules.flatMap((r) => r.copyTo ?? []).map((c) => c.vaultArn).filter((a) => !Token.isUnresolved(a));
      const parsed = copies.map((a) => VAULT_ARN.exec(a)).filter((m): m is RegExpExecArray => m !== null);
      this.audit = new BackupAuditFramework(this, 'Audit', {
        ...props.audit,
        vault,
        minimumRetention: Duration.days(Math.min(...this.rules.map((r) => isUnresolved(r.retain.maxAge) ? 1 : r.retain.maxAge!.toDays()))),
        vaultLock: props.vaultLock,
        copyRegions: parsed.map((m) => m[1]).filter((r) => r !== Stack.of(this).region),
        copyAccounts: parsed.map((m) => m[2]).filter((a) => a !== Stack.of(this).account),
        breakGlassPrincipalArns: this.breakGlass,
        resourceTypes: types,
      });
    }

    registerPlan(this, 'BackupVaultPolicy', () => {
      const lock = vaultLockPlan(this.vaultLock, props.vaultName ?? this.vault.node.path);
      const selects = (props.resources ?? []).map((r) => r.tagCondition ? `tagged ${r.tagCondition.key}=${r.tagCondition.value}` : r.resource).join(' OR ') || 'the selections';
      return {
        protects: this.rules.map((rule) => ({
          mechanism: `AWS Backup rule '${rule.name}'`,
          selects,
          schedule: planSchedule(rule.schedule),
          retention: planRetention(rule.retain),
          copies: (rule.copyTo ?? []).map((c) => `${c.vaultArn} (${planRetention(c.retain ?? rule.retain)})`),
          locks: lock.locks,
        })),
        irreversible: lock.irreversible,
      };
    });
    BackupTagging.addArtefactSource(this, {
      artefactTagSets: () => this.rules.map((rule) => ({
        artefact: `recovery points of rule '${rule.name}'`,
        tags: this.recoveryPointTags(rule),
      })),
    });

    // --- changing or disabling the plan or the vault alarms, routed as the heartbeat
    this.changeAlarm = new ChangeDetection(this, 'ChangeDetection', {
      mechanism: `Backup plan ${this.node.path}`,
      alarmActions: this.topic ? [new cw_actions.SnsAction(this.topic)] : undefined,
      noActionReason: 'notifications are off: changeAlarm is exposed for the team to route',
    }).alarm;
  }

  /** A new vault, locked and with the deny-by-default access policy. */
  private createVault(props: BackupVaultPolicyProps): backup.IBackupVault {
    const vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: props.vaultName,
      encryptionKey: this.key,
      lockConfiguration: props.vaultLock?.toLockConfiguration(),
      notificationTopic: this.topic,
      notificationEvents: this.topic ? VAULT_NOTIFICATION_EVENTS : undefined,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const statement of vaultDenyStatements(this.breakGlass, this.deployment)) {
      vault.addToAccessPolicy(statement);
    }
    return vault;
  }

  /**
   * The role AWS Backup restores with (also used by restore testing): allowed to create and
   * delete volumes and instances from the vault's recovery points, nothing else.
   */
  public get restoreRole(): iam.IRole {
    if (!this._restoreRole) {
      const statements = restoreRoleStatements();
      this._restoreRole = new iam.Role(this, 'RestoreRole', {
        assumedBy: backupServicePrincipal(),
        description: `AWS Backup restores (and restore tests) of ${this.node.path}`,
        inlinePolicies: { EbsEc2Restore: new iam.PolicyDocument({ statements }) },
      });
      acknowledgeWildcards(this._restoreRole,
        'restore creates volumes and instances whose ids are unknown until then; describe calls take no resource; ' +
        'deletion is of volumes and instances it restored, as in AWS\'s AWSBackupServiceRolePolicyForRestores', statements);
    }
    return this._restoreRole;
  }

  /**
   * Add a backup rule to the plan. Its retention is checked against the vault lock at synthesis.
   */
  /**
   * A metric AWS Backup publishes for this vault ("AWS Backup metrics with Amazon CloudWatch":
   * namespace `AWS/Backup`, dimension `BackupVaultName`; copy jobs count in their destination
   * vault). Sum over 1 hour by default.
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Backup',
      metricName,
      dimensionsMap: { BackupVaultName: this.vault.backupVaultName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
      ...props,
    });
  }

  /** Backup jobs of this vault that finished. */
  public metricBackupJobsCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('NumberOfBackupJobsCompleted', props);
  }

  /** Backup jobs of this vault that failed. */
  public metricBackupJobsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('NumberOfBackupJobsFailed', props);
  }

  /** Copy jobs into this vault that finished. */
  public metricCopyJobsCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('NumberOfCopyJobsCompleted', props);
  }

  /** Copy jobs into this vault that failed. */
  public metricCopyJobsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('NumberOfCopyJobsFailed', props);
  }

  /** Restore (and restore-test) jobs from this vault that finished. */
  public metricRestoreJobsCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('NumberOfRestoreJobsCompleted', props);
  }

  /** Restore (and restore-test) jobs from this vault that failed. */
  public metricRestoreJobsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('NumberOfRestoreJobsFailed', props);
  }

  /** Recovery points created in this vault (backups and copies). */
  public metricRecoveryPointsCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('NumberOfRecoveryPointsCompleted', props);
  }

  public addRule(rule: BackupVaultRule): void {
    const i = this.rules.length;
    const { deleteAfter, startWindow, completionWindow } = collectProblems(this, () => this.checkRule(rule, `rules[${i}]`, this.rules));
    const copies = rule.copyTo ?? [];

    this.rules.push(rule);
    this.plan.addRule(new backup.BackupPlanRule({
      ruleName: rule.name,
      scheduleExpression: rule.schedule,
      scheduleExpressionTimezone: rule.scheduleTimeZone,
      startWindow,
      completionWindow,
      deleteAfter,
      moveToColdStorageAfter: rule.moveToColdStorageAfter,
      recoveryPointTags: this.recoveryPointTags(rule),
      copyActions: copies.map((copy) => ({
        destinationBackupVault: this.copyVault(copy.vaultArn),
        deleteAfter: copy.retain?.maxAge ?? deleteAfter,
        moveToColdStorageAfter: copy.moveToColdStorageAfter,
      })),
    }));
    this.optInToArchive(i, rule);
  }

  /**
   * Let `grantee` restore recovery points of this vault (with `restoreRole`) and follow the
   * restore jobs.
   */
  public grantRestore(grantee: iam.IGrantable): iam.Grant {
    const p = Aws.PARTITION;
    const region = Aws.REGION;
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['backup:StartRestoreJob', 'backup:DescribeRecoveryPoint', 'backup:GetRecoveryPointRestoreMetadata', 'backup:ListRecoveryPointsByBackupVault'],
      resourceArns: [this.vault.backupVaultArn, `arn:${p}:ec2:${region}::snapshot/*`, `arn:${p}:ec2:${region}::image/*`],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['backup:DescribeRestoreJob'], resourceArns: ['*'] });
    this.restoreRole.grantPassRole(grantee.grantPrincipal);
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      const why = 'StartRestoreJob and GetRecoveryPointRestoreMetadata act on recovery points (EBS snapshots, AMIs) whose ids are known only after backups run';
      acknowledgeFindings(grantee.grantPrincipal, why, wildcardArn('ec2', 'snapshot/*', false).nagId, wildcardArn('ec2', 'image/*', false).nagId);
      acknowledgeFindings(grantee.grantPrincipal, 'DescribeRestoreJob has no resource-level permissions', ANY_RESOURCE_FINDING);
    }
    return grant;
  }

  /** Let `grantee` list and describe the vault's recovery points. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.vault.grant(grantee, 'backup:DescribeBackupVault', 'backup:ListRecoveryPointsByBackupVault', 'backup:DescribeRecoveryPoint');
  }

  /**
   * AWS Backup moves EBS recovery points to the archive (cold) tier only when the lifecycle opts
   * in: "If the value is true, your backup plan transitions supported resources to archive (cold)
   * storage tier in accordance with your lifecycle settings" (AWS Backup API reference,
   * `Lifecycle.OptInToArchiveForSupportedResources`; EBS is listed for cold storage in "Feature
   * availability by resource"). aws-cdk-lib's `BackupPlanRule` has no prop for it.
   */
  private optInToArchive(index: number, rule: BackupVaultRule): void {
    const cfn = this.plan.node.defaultChild as backup.CfnBackupPlan;
    const at = `BackupPlan.BackupPlanRule.${index}`;
    if (rule.moveToColdStorageAfter) {
      cfn.addPropertyOverride(`${at}.Lifecycle.OptInToArchiveForSupportedResources`, true);
    }
    (rule.copyTo ?? []).forEach((copy, j) => {
      if (copy.moveToColdStorageAfter) {
        cfn.addPropertyOverride(`${at}.CopyActions.${j}.Lifecycle.OptInToArchiveForSupportedResources`, true);
      }
    });
  }

  private recoveryPointTags(rule: BackupVaultRule): Record<string, string> {
    const library = BackupTagging.tagsFor(this, {
      purpose: this.purpose,
      retention: isUnresolved(rule.retain.maxAge) ? rule.retain : Retention.age(Duration.days(rule.retain.maxAge!.toDays())),
    });
    return mergeTags(this, `rules '${rule.name}' recoveryPointTags`, rule.recoveryPointTags, library);
  }

  /** The problems of one rule, `previous` being the rules before it; its resolved windows and retention. */
  private checkRule(rule: BackupVaultRule, at: string, previous: readonly BackupVaultRule[]) {
    checkPattern(this, `${at}.name`, rule.name, RULE_NAME, '1-50 characters of A-Z a-z 0-9 - _ .');
    check(!previous.some((r) => r.name === rule.name), this, `${at}.name`, 'must be unique in the plan', rule.name);
    check(Token.isUnresolved(rule.schedule.expressionString) || rule.schedule.expressionString.startsWith('cron('), this, `${at}.schedule`,
      'must be a cron schedule (AWS Backup takes no rate expressions)', rule.schedule.expressionString);
    const deleteAfter = retentionAge(this, `${at}.retain`, rule.retain, AGE_ONLY);
    this.checkLifecycle(`${at}`, deleteAfter, rule.moveToColdStorageAfter);
    const startWindow = rule.startWindow ?? Duration.hours(1);
    const completionWindow = rule.completionWindow ?? Duration.days(7);
    checkDuration(this, `${at}.startWindow`, startWindow, Duration.minutes(60), Duration.days(365));
    checkDuration(this, `${at}.completionWindow`, completionWindow, Duration.minutes(60), Duration.days(365));
    if (!isUnresolved(startWindow) && !isUnresolved(completionWindow)) {
      check(completionWindow.toMinutes() > startWindow.toMinutes(), this, `${at}.completionWindow`,
        `must be longer than startWindow (${startWindow.toHumanString()})`, completionWindow);
    }
    checkTags(this, `${at}.recoveryPointTags`, rule.recoveryPointTags);
    const copies = rule.copyTo ?? [];
    checkCount(this, `${at}.copyTo`, copies, 0, 10);
    copies.forEach((copy, j) => attempt(this, () => this.checkCopy(`${at}.copyTo[${j}]`, copy, copies)));
    return { deleteAfter, startWindow, completionWindow };
  }

  private checkLifecycle(at: string, deleteAfter: Duration | undefined, cold: Duration | undefined): void {
    if (deleteAfter && !isUnresolved(deleteAfter)) {
      const days = wholeDays(this, `${at}.retain`, deleteAfter);
      check(days >= 1 && days <= 36500, this, `${at}.retain`, 'must be between 1 and 36500 days', deleteAfter);
    }
    if (cold && !isUnresolved(cold)) {
      const days = wholeDays(this, `${at}.moveToColdStorageAfter`, cold);
      check(days >= 1, this, `${at}.moveToColdStorageAfter`, 'must be at least 1 day', cold);
      if (deleteAfter && !isUnresolved(deleteAfter)) {
        check(deleteAfter.toDays() >= days + 90, this, `${at}.retain`,
          `must be at least 90 days after moveToColdStorageAfter (${cold.toHumanString()}): cold storage keeps recovery points 90 days at least`, deleteAfter);
      }
    }
  }

  private checkCopy(at: string, copy: BackupCopyTarget, all: readonly BackupCopyTarget[]): void {
    reportFactoryProblems(this, `${at}.destinationLock`, copy.destinationLock);
    if (!Token.isUnresolved(copy.vaultArn)) {
      const m = VAULT_ARN.exec(copy.vaultArn);
      if (!m) {
        fail(this, `${at}.vaultArn`, 'must be a backup vault ARN such as arn:aws:backup:eu-west-1:111122223333:backup-vault:name', copy.vaultArn);
      }
      checkRegion(this, `${at}.vaultArn region`, m[1]);
      checkAccountId(this, `${at}.vaultArn account`, m[2]);
      check(all.filter((c) => c.vaultArn === copy.vaultArn).length === 1, this, `${at}.vaultArn`, 'must not repeat a copy target of the rule', copy.vaultArn);
      const stack = Stack.of(this);
      check(!(m[1] === stack.region && m[2] === stack.account && m[3] === this.vaultName), this, `${at}.vaultArn`,
        'must not be the source vault itself', copy.vaultArn);
      if (m[2] !== stack.account) {
        // another account (or, in an environment-agnostic stack, an account written out: same-account
        // copies name it with Aws.ACCOUNT_ID or the vault's own ARN)
        requirePrerequisite(this, 'backup-cross-account');
      }
    }
    const deleteAfter = copy.retain === undefined ? undefined : retentionAge(this, `${at}.retain`, copy.retain, AGE_ONLY);
    this.checkLifecycle(at, deleteAfter, copy.moveToColdStorageAfter);
    if (copy.moveToColdStorageAfter && !copy.retain) {
      fail(this, `${at}.retain`, 'must be set when moveToColdStorageAfter is (the 90-day cold storage minimum is checked against it)');
    }
  }

  private copyVault(arn: string): backup.IBackupVault {
    let vault = this.copyVaults.get(arn);
    if (!vault) {
      vault = backup.BackupVault.fromBackupVaultArn(this, `CopyTarget${this.copyVaults.size}`, arn);
      this.copyVaults.set(arn, vault);
    }
    return vault;
  }

  private createBackupRole(windowsVss: boolean): iam.IRole {
    const statements = backupRoleStatements({ windowsVss });
    const role = new iam.Role(this, 'BackupRole', {
      assumedBy: backupServicePrincipal(),
      description: `AWS Backup jobs of ${this.node.path} (EBS volumes and EC2 instances only)`,
      inlinePolicies: { EbsEc2Backup: new iam.PolicyDocument({ statements }) },
    });
    acknowledgeWildcards(role, 'the EBS/EC2 part of AWS\'s AWSBackupServiceRolePolicyForBackup: snapshots, AMIs, ' +
      'instances and keys are unknown until backup time, describe calls take no resource, and deletion and tiering are limited to ' +
      'recovery points tagged aws:backup:source-resource', statements);
    return role;
  }

  /**
   * AWS Backup ORs `Resources` with `ListOfTags` and ANDs `Conditions` with both (CloudFormation
   * `BackupSelectionResourceType`; AWS Backup API `BackupSelection`; "Assigning resources
   * programmatically"). A `ListOfTags` beside wildcard `Resources` would therefore select every
   * volume and instance of the account. So each `BackupResource.fromTag()` becomes its own
   * selection of the wildcard resource types ANDed with that tag as a condition (selections of one
   * plan are ORed, keeping `fromTag`'s OR), and explicit ARNs get a selection of their own.
   */
  private addSelections(props: BackupVaultPolicyProps, types: ProtectedResourceType[]): backup.BackupSelection[] {
    const resources = [...props.resources ?? []];
    const conditions = [
      ...Object.entries(props.allTags ?? {}).map(([k, v]) => BackupCondition.tagEquals(k, v)),
      ...props.conditions ?? [],
    ];
    checkTags(this, 'allTags', props.allTags);
    if (resources.length === 0 && conditions.length === 0) {
      fail(this, 'resources', 'must select something: give resources, conditions or allTags (an empty selection backs up every supported resource)');
    }
    const explicit = resources.filter((r) => r.tagCondition === undefined);
    const tagged = resources.filter((r) => r.tagCondition !== undefined);
    const arns = explicit.map((r) => r.resource).filter((a): a is string => a !== undefined);
    if (!props.backupRole) {
      arns.forEach((arn) => check(isEc2Arn(arn), this, 'resources',
        'must be EBS volume or EC2 instance ARNs (the default backup role covers only those; pass backupRole for others)', arn));
    }
    // AWS Backup filters by resource type first, then by tags: a tag-only selection would also
    // match RDS, EFS, ... resources the role cannot back up, so tags apply to the wildcard types.
    const wildcards = types.map((t) => backup.BackupResource.fromArn(wildcardArnFor(t)));
    const groups: Array<{ resources: backup.BackupResource[]; conditions: BackupCondition[] }> = [];
    if (explicit.length > 0) {
      groups.push({ resources: explicit, conditions });
    }
    for (const r of tagged) {
      const tag = r.tagCondition!;
      groups.push({ resources: wildcards, conditions: [BackupCondition.tagEquals(tag.key, tag.value), ...conditions] });
    }
    if (groups.length === 0) {
      groups.push({ resources: wildcards, conditions });
    }
    const excluded = [...props.excludeArns ?? []];
    checkSelectionArns(this, 'excludeArns', excluded);

    return groups.map((group, i) => {
      checkSelectionArns(this, 'resources', group.resources.map((r) => r.resource).filter((a): a is string => a !== undefined));
      const selection = this.plan.addSelection(i === 0 ? 'Selection' : `Selection${i + 1}`, {
        resources: group.resources,
        role: this.backupRole,
        disableDefaultBackupPolicy: true,
      });
      const cfn = selection.node.defaultChild as backup.CfnBackupSelection;
      const rendered = renderConditions(group.conditions);
      if (rendered) {
        cfn.addPropertyOverride('BackupSelection.Conditions', rendered);
      }
      if (excluded.length > 0) {
        cfn.addPropertyOverride('BackupSelection.NotResources', excluded);
      }
      return selection;
    });
  }

  private validateAgainstLocks(): string[] {
    const problems: string[] = [];
    this.rules.forEach((rule, i) => {
      const deleteAfter = rule.retain.maxAge!;
      const own = this.vaultLock?.violation(deleteAfter);
      if (own) {
        problems.push(`${this.node.path}: rules[${i}].retain ${own}, got ${deleteAfter.toHumanString()}`);
      }
      (rule.copyTo ?? []).forEach((copy, j) => {
        const retention = copy.retain?.maxAge ?? deleteAfter;
        const v = copy.destinationLock?.violation(retention);
        if (v) {
          problems.push(`${this.node.path}: rules[${i}].copyTo[${j}].retain ${v.replace("vault lock's", "destination vault lock's")}, got ${retention.toHumanString()}`);
        }
      });
    });
    return problems;
  }
}

/** What cannot be done on an adopted vault: CloudFormation sets these on the vault resource only. */
function checkAdoptedVault(scope: Construct, props: BackupVaultPolicyProps): void {
  const owner = 'the adopted vault keeps its own (CloudFormation sets it on the vault resource only)';
  check(props.vaultLock === undefined, scope, 'vaultLock', `cannot be set with vault: ${owner}`, props.vaultLock?.mode,
    'lock the vault in the stack or account that created it, or omit vault to create a new locked one');
  check(props.vaultName === undefined, scope, 'vaultName', 'cannot be set with vault: the adopted vault has its name', props.vaultName,
    'name the vault in BackupVault.fromBackupVaultName(...) only');
  check(props.encryptionKey === undefined && !props.useAwsManagedKey, scope, props.encryptionKey ? 'encryptionKey' : 'useAwsManagedKey',
    `cannot be set with vault: ${owner}`, props.encryptionKey ? props.encryptionKey.keyArn : props.useAwsManagedKey, 'omit it');
}
