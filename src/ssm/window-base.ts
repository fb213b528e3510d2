import { ArnFormat, CfnElement, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { HEALTH_METRICS, METRIC_NAMESPACE, SnapshotHousekeeping } from './housekeeping';
import { checkScheduleOffset, checkTimeZone, windowScheduleExpression } from './schedule';
import { MaintenanceTargets } from './targets';
import { acknowledge, acknowledgeWildcards, addAcknowledgedStatement, guard, nag } from '../core/acknowledge';
import { registerScheduledRetention } from '../core/artefact-retentions';
import { ChangeDetection } from '../core/change-detection';
import { heartbeatAlarm } from '../core/heartbeat';
import { protectAsMachinery } from '../core/machinery';
import { mergeTags } from '../core/merge-tags';
import { planRetention, planSchedule, registerPlan } from '../core/plan-report';
import { Retention } from '../core/retention';
import { ssmAutomationPrincipal } from '../core/service-trust';
import { BackupTagging } from '../core/tagging';
import {
  check, checkDuration, checkPattern, checkRetentionKnown, checkTags, collectProblems, fail, isUnresolved, reportFactoryProblems, warn,
} from '../core/validation';
import { WINDOW_INSTANCE_ACCESS_METADATA, WindowInstanceAccess } from '../core/window-instance-access';

/** Systems Manager `MaxConcurrency`: a count from 1, or a percentage from 1% to 100%. */
const MAX_CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
/** Systems Manager `MaxErrors`: a count from 0, or a percentage from 0% to 100%. */
const MAX_ERRORS = /^([1-9][0-9]*|0|[1-9][0-9]%|[0-9]%|100%)$/;

/**
 * An AMI task beside the snapshot task: AWS's `AWS-CreateImage` automation for each target,
 * as the guidance describes for root devices.
 */
export interface ImageTaskOptions {
  /**
   * Let EC2 shut the instance down, image it and start it again (a file-system consistent root
   * image at the cost of downtime); `false` images the running instance (no downtime, crash
   * consistent). Required: downtime is a choice, never a default.
   */
  readonly reboot: boolean;

  /**
   * How many instances are imaged at once (a count or a percentage).
   *
   * @default '1' when `reboot` is true (one instance down at a time), else '25%'
   */
  readonly maxConcurrency?: string;

  /**
   * How many failed instances stop the rest (a count or a percentage).
   *
   * @default '100%'
   */
  readonly maxErrors?: string;
}

/**
 * What every snapshot maintenance window takes: when it runs, on which instances, how many at
 * once, where the output goes and how long the snapshots are kept.
 */
export interface SnapshotMaintenanceWindowProps {
  /** Why the snapshots exist; becomes the purpose tag of every snapshot. */
  readonly purpose: string;

  /** When the window opens (cron in 6 fields, rate in hours or days, or at()). */
  readonly schedule: events.Schedule;

  /**
   * How long the window stays open (1-24 hours, whole hours).
   *
   * @default Duration.hours(1)
   */
  readonly duration?: Duration;

  /**
   * How long before the window closes no new task starts (0-23 hours, shorter than `duration`).
   *
   * @default Duration.hours(0)
   */
  readonly cutoff?: Duration;

  /**
   * The IANA time zone the schedule is read in, so 04:00 stays 04:00 across daylight saving.
   *
   * @default - UTC
   */
  readonly scheduleTimezone?: string;

  /**
   * Days to wait after the cron date before running (1-6; cron schedules only), e.g. the
   * Sunday after Patch Tuesday.
   *
   * @default - no offset
   */
  readonly scheduleOffset?: number;

  /**
   * When the window becomes active.
   *
   * @default - now
   */
  readonly startDate?: Date;

  /**
   * When the window becomes inactive, for a backup regime with a known end.
   *
   * @default - never
   */
  readonly endDate?: Date;

  /** The instances to snapshot. */
  readonly targets: MaintenanceTargets;

  /**
   * How many instances are snapshotted at once (a count or a percentage). AWS's VSS blog runs
   * 100 %; the default is a quarter because every instance in flight pauses its application writers
   * (VSS) or freezes its file systems (fsfreeze) while the snapshot call runs, and a quarter keeps
   * three quarters of a fleet serving and spreads the EC2 `CreateSnapshots` calls over the window.
   * Pass '100%' when the window is short and the fleet can pause all at once.
   *
   * @default '25%'
   */
  readonly maxConcurrency?: string;

  /**
   * How many failed instances stop the rest (a count or a percentage). The default lets every
   * instance be tried: a failed instance raises `failedRunsAlarm` instead of skipping the others.
   * AWS's VSS blog stops after 10 errors, which leaves every instance after the tenth failure
   * without a backup that night; here failures are surfaced per run by the alarms instead.
   *
   * @default '100%'
   */
  readonly maxErrors?: string;

  /**
   * How long the snapshots are kept; the housekeeping deletes older ones (or those beyond the
   * newest N per volume) and the retention tag says so.
   *
   * @default Retention.age(Duration.days(14))
   */
  readonly retain?: Retention;

  /**
   * More tags for every snapshot (the library's purpose, retention and managed-by tags are added).
   *
   * @default - only the library's tags
   */
  readonly tags?: Record<string, string>;

  /**
   * An existing role for the protected instances; the snapshot and output permissions are added
   * to it.
   *
   * @default - a new role with AmazonSSMManagedInstanceCore
   */
  readonly instanceRole?: iam.IRole;

  /**
   * The name of the customer managed policy that holds the window's instance permissions (what
   * `instanceRole` is given besides AmazonSSMManagedInstanceCore), for instances that keep a role
   * of their own: attach it by name in every account the window is deployed to. IAM names are
   * per account, so the default ends with the region.
   *
   * @default - `EbsBackup<Vss|Fsfreeze>-<purpose>-<region>` (characters IAM does not allow become `-`)
   */
  readonly instancePolicyName?: string;

  /**
   * The bucket for the Run Command output (transcripts an auditor can read).
   *
   * @default - a new encrypted, versioned bucket that enforces TLS and blocks public access
   */
  readonly outputBucket?: s3.IBucket;

  /**
   * Where the new output bucket writes its server access logs.
   *
   * @default - no access logs (acknowledged: the bucket holds transcripts only, written by the instances)
   */
  readonly outputAccessLogsBucket?: s3.IBucket;

  /**
   * The log group for the Run Command output.
   *
   * @default - a new log group kept for one year
   */
  readonly outputLogGroup?: logs.ILogGroup;

  /**
   * How long Run Command waits for an instance to start the command (30 s to 30 days).
   *
   * @default Duration.minutes(10)
   */
  readonly deliveryTimeout?: Duration;

  /**
   * Where the three alarms notify (crash-consistent snapshots, failed runs, failed expiry).
   *
   * @default - no actions; route the exposed alarms yourself
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * The window's name (3-128 of letters, digits, _ . -).
   *
   * @default - derived from the construct path
   */
  readonly windowName?: string;
}

/**
 * The maintenance window, its target, its roles, its output and its housekeeping, shared by the
 * Windows (VSS) and Linux (fsfreeze) windows.
 */
export abstract class SnapshotMaintenanceWindowBase extends Construct {
  /** The maintenance window. */
  public readonly maintenanceWindow: ssm.CfnMaintenanceWindow;

  /** The window's id. */
  public readonly windowId: string;
  /**
   * The tag key the window's task sets at creation, with the window's id as its value, on every
   * snapshot it makes. The housekeeping lists and deletes only snapshots carrying it (with this
   * window's id), so a snapshot re-tagged later with the purpose tags is never this window's to expire.
   */
  public readonly windowTagKey: string;

  /** The role to attach to the protected instances (through `instanceProfile`). */
  public readonly instanceRole: iam.IRole;

  /** The instance profile of `instanceRole`, for launch templates and instances. */
  public readonly instanceProfile: iam.InstanceProfile;

  /**
   * The window's instance permissions as an attachable customer managed policy (stable name
   * `instancePolicyName`), for existing instance roles: attach it together with
   * AmazonSSMManagedInstanceCore. `instanceRole` has the same permissions inline.
   */
  public readonly instancePolicy: iam.ManagedPolicy;

  /** The name of `instancePolicy` (stable across accounts: attach it by this name). */
  public readonly instancePolicyName: string;

  /** The role the maintenance window assumes to send the commands. */
  public readonly taskRole: iam.Role;

  /** Where the Run Command output goes. */
  public readonly outputBucket: s3.IBucket;

  /** Where the Run Command output goes, line by line. */
  public readonly outputLogGroup: logs.ILogGroup;

  /** The tags every snapshot carries. */
  public readonly snapshotTags: Record<string, string>;

  /** The state machine that expires the window's snapshots and publishes their health. */
  public readonly housekeeping: sfn.StateMachine;

  /** Raised when a snapshot lacks `AppConsistent=true`: it fell back to crash-consistent. */
  public readonly crashConsistentAlarm: cloudwatch.Alarm;

  /** Raised when a window execution failed, timed out, was cancelled or skipped. */
  public readonly failedRunsAlarm: cloudwatch.Alarm;

  /** Raised when an expired snapshot could not be deleted. */
  public readonly expiryFailedAlarm: cloudwatch.Alarm;

  /**
   * In alarm when the window's snapshots stopped: none within 1.5 times the schedule's longest
   * interval, or no health datapoint at all (missing data breaching: a disabled window or
   * housekeeping publishes nothing).
   */
  public readonly heartbeatAlarm: cloudwatch.Alarm;
  /**
   * In alarm when a piece of the window was changed or disabled: the window, its task, its
   * document or association, its housekeeping, rules or alarms (a CloudTrail management event
   * matched its change-detection rules; a deployment counts too). Routed to `alarmActions`.
   */
  public get changeAlarm(): cloudwatch.IAlarm | undefined {
    return this._changeAlarm;
  }

  private _changeAlarm?: cloudwatch.Alarm;
  private readonly alarmActions?: cloudwatch.IAlarmAction[];
  private readonly metricDimensions: Record<string, string>;

  /** The window target. */
  protected readonly windowTarget: ssm.CfnMaintenanceWindowTarget;
  protected readonly targets: MaintenanceTargets;
  protected readonly retain: Retention;
  private readonly maxConcurrency: string;
  private readonly maxErrors: string;
  private readonly deliveryTimeout: Duration;
  private readonly purpose: string;

  constructor(scope: Construct, id: string, props: SnapshotMaintenanceWindowProps, reservedTagKeys: string[], kind: string) {
    super(scope, id);
    protectAsMachinery(this);
    const stack = Stack.of(this);
    this.purpose = props.purpose;
    this.targets = props.targets;
    this.retain = props.retain ?? Retention.age(Duration.days(14));
    this.maxConcurrency = props.maxConcurrency ?? '25%';
    this.maxErrors = props.maxErrors ?? '100%';
    this.deliveryTimeout = props.deliveryTimeout ?? Duration.minutes(10);
    const duration = props.duration ?? Duration.hours(1);
    const cutoff = props.cutoff ?? Duration.hours(0);
    // every problem of the window's props at once
    const schedule = collectProblems(this, () => {
      BackupTagging.validatePurpose(this, 'purpose', props.purpose);
      reportFactoryProblems(this, 'targets', props.targets);
      checkRetentionKnown(this, 'retain', this.retain);
      checkDuration(this, 'duration', duration, Duration.hours(1), Duration.hours(24));
      checkWholeHours(this, 'duration', duration);
      checkDuration(this, 'cutoff', cutoff, Duration.hours(0), Duration.hours(23));
      checkWholeHours(this, 'cutoff', cutoff);
      if (!isUnresolved(duration) && !isUnresolved(cutoff)) {
        // no task starts after (end - cutoff): a cutoff as long as the window runs nothing
        check(cutoff.toHours() < duration.toHours(), this, 'cutoff', `must be shorter than duration (${duration.toHumanString()})`, cutoff);
      }
      checkTimeZone(this, props.scheduleTimezone);
      checkDates(this, props.startDate, props.endDate);
      checkPattern(this, 'windowName', props.windowName, /^[a-zA-Z0-9_.-]{3,128}$/, '3-128 characters of letters, digits, _ . -');
      checkPattern(this, 'maxConcurrency', this.maxConcurrency, MAX_CONCURRENCY, 'a count from 1 or a percentage from 1% to 100% (e.g. 10 or 25%)');
      checkPattern(this, 'maxErrors', this.maxErrors, MAX_ERRORS, 'a count from 0 or a percentage from 0% to 100% (e.g. 0 or 10%)');
      checkDuration(this, 'deliveryTimeout', this.deliveryTimeout, Duration.seconds(30), Duration.days(30));
      checkTags(this, 'tags', props.tags, 40);
      for (const key of Object.keys(props.tags ?? {})) {
        check(!reservedTagKeys.includes(key), this, 'tags', `must not set '${key}' (reserved: the snapshot agent sets it)`, key);
      }
      checkPattern(this, 'instancePolicyName', props.instancePolicyName, /^[\w+=,.@-]{1,128}$/, '1-128 characters of letters, digits and + = , . @ _ -');
      const expression = windowScheduleExpression(this, 'schedule', props.schedule);
      checkScheduleOffset(this, expression, props.scheduleOffset);
      return expression;
    });
    registerPlan(this, `${kind}MaintenanceWindow`, () => ({
      protects: [{
        mechanism: `${kind} maintenance window (application-consistent snapshots)`,
        selects: this.targets.description,
        schedule: planSchedule(props.schedule),
        retention: planRetention(this.retain),
      }],
    }));

    // --- tags ----------------------------------------------------------------------------------
    const keys = BackupTagging.keys(this);
    this.snapshotTags = mergeTags(this, 'tags', props.tags, BackupTagging.tagsFor(this, { purpose: props.purpose, retention: this.retain }));
    BackupTagging.addArtefactSource(this, {
      artefactTagSets: () => [{ artefact: `snapshots of ${this.targets.description}`, tags: this.snapshotTags }],
    });
    // the housekeeping expires by this retention; the snapshot lock compares its duration with it
    registerScheduledRetention({
      construct: this,
      property: 'retain',
      purpose: props.purpose,
      retention: this.retain,
      schedule,
      timeZone: props.scheduleTimezone,
      // the window's snapshots are tagged at creation with its id; SSM records the window's executions
      creationRecord: () => ({
        managedBy: this.snapshotTags[keys.managedBy],
        executionTagKey: this.windowTagKey,
        windowId: this.windowId,
        windowArn: Stack.of(this).formatArn({ service: 'ssm', resource: 'maintenancewindow', resourceName: this.windowId }),
      }),
    });

    // --- output: S3 and CloudWatch Logs (written by the SSM agent with the instance's role) ---
    this.outputBucket = props.outputBucket ?? this.createOutputBucket(props.outputAccessLogsBucket);
    this.outputLogGroup = props.outputLogGroup ?? new logs.LogGroup(this, 'Output', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- roles -------------------------------------------------------------------------------
    this.instanceRole = props.instanceRole ?? new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Instances snapshotted by maintenance window ${this.node.path}`,
    });
    this.instanceRole.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
    acknowledge(this.instanceRole, nag('IAM4',
      'AmazonSSMManagedInstanceCore is the baseline AWS documents for instances managed by Systems Manager, and AWS keeps it current',
      'Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore'));
    this.instanceProfile = new iam.InstanceProfile(this, 'InstanceProfile', { role: this.instanceRole });
    this.instancePolicyName = props.instancePolicyName ?? defaultInstancePolicyName(kind, props.purpose, stack.region);
    this.instancePolicy = new iam.ManagedPolicy(this, 'InstancePolicy', {
      managedPolicyName: this.instancePolicyName,
      description: `Instance permissions of maintenance window ${this.node.path}, for existing instance roles (with AmazonSSMManagedInstanceCore)`.slice(0, 1000),
    });
    // the SSM agent uploads the output with the instance's credentials
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'WriteRunCommandOutputToS3',
      actions: ['s3:PutObject'],
      resources: [this.outputBucket.arnForObjects(`${this.outputPrefix}*`)],
    }), 'the agent writes one object per command and instance under this window\'s output prefix; their keys are known only at run time');
    // "Configure instance permissions for Systems Manager" (S3 output): the agent reads the
    // bucket's encryption configuration before it uploads
    const readEncryption = new iam.PolicyStatement({
      sid: 'ReadOutputBucketEncryption',
      actions: ['s3:GetEncryptionConfiguration'],
      resources: [this.outputBucket.bucketArn],
    });
    this.instanceRole.addToPrincipalPolicy(readEncryption);
    this.instancePolicy.addStatements(readEncryption);
    this.outputBucket.encryptionKey?.grantEncrypt(this.instanceRole);
    if (this.outputBucket.encryptionKey) {
      // what grantEncrypt gives instanceRole, for roles that attach the managed policy instead
      const encrypt = new iam.PolicyStatement({
        sid: 'EncryptRunCommandOutput',
        actions: ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        resources: [this.outputBucket.encryptionKey.keyArn],
      });
      this.instancePolicy.addStatements(encrypt);
      acknowledgeWildcards(this.instancePolicy, 'the KMS encrypt actions grantEncrypt gives, on the output bucket\'s key only', [encrypt]);
    }
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'WriteRunCommandOutputToLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [this.outputLogGroup.logGroupArn, `${this.outputLogGroup.logGroupArn}:log-stream:*`],
    }), 'the agent creates one log stream per command and instance in this window\'s output log group; their names are known only at run time');
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'FindRunCommandLogGroup',
      actions: ['logs:DescribeLogGroups'],
      resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    }), 'logs:DescribeLogGroups lists log groups by prefix and has no narrower resource; the agent calls it to find the output log group');

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com', {
        // confused-deputy protection: only this account's maintenance windows (AWS documents no
        // aws:SourceArn for a window's task role: see core/service-trust.ts)
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `Sends the snapshot command of maintenance window ${this.node.path}`,
    });
    addAcknowledgedStatement(this.taskRole, new iam.PolicyStatement({
      sid: 'TrackCommands',
      actions: ['ssm:ListCommands', 'ssm:ListCommandInvocations', 'ssm:GetCommandInvocation', 'ssm:CancelCommand'],
      resources: ['*'],
    }), 'ssm:ListCommands, ListCommandInvocations, GetCommandInvocation and CancelCommand take no resource-level permissions');

    this.maintenanceWindow = new ssm.CfnMaintenanceWindow(this, 'Resource', {
      name: props.windowName ?? Names.uniqueResourceName(this, { maxLength: 128, separator: '-', allowedSpecialCharacters: '-_.' }),
      description: `Snapshots (${props.purpose}) of ${this.targets.description}`.slice(0, 128),
      schedule,
      duration: duration.toHours(),
      cutoff: cutoff.toHours(),
      allowUnassociatedTargets: false,
      scheduleTimezone: props.scheduleTimezone,
      scheduleOffset: props.scheduleOffset,
      startDate: props.startDate?.toISOString(),
      endDate: props.endDate?.toISOString(),
    });
    this.windowId = this.maintenanceWindow.ref;
    this.windowTagKey = BackupTagging.key(this, 'window-id');
    this.windowTarget = new ssm.CfnMaintenanceWindowTarget(this, 'Target', {
      windowId: this.windowId,
      resourceType: this.targets.resourceType,
      targets: this.targets.targets.map((t) => ({ key: t.key, values: t.values })),
      description: this.targets.description.slice(0, 128),
    });
    if (this.targets.resourceType === 'RESOURCE_GROUP') {
      addAcknowledgedStatement(this.taskRole, new iam.PolicyStatement({
        sid: 'ResolveResourceGroup',
        actions: ['resource-groups:ListGroupResources', 'tag:GetResources'],
        resources: ['*'],
      }), 'tag:GetResources has no resource-level permissions; the window resolves the group to instances with it');
    }

    // --- expiry and health -------------------------------------------------------------------
    const housekeeping = new SnapshotHousekeeping(this, 'Housekeeping', {
      windowId: this.windowId,
      purposeKey: keys.purpose,
      purpose: props.purpose,
      managedByKey: keys.managedBy,
      managedBy: this.snapshotTags[keys.managedBy],
      windowTagKey: this.windowTagKey,
      retain: this.retain,
    });
    this.housekeeping = housekeeping.stateMachine;
    this.crashConsistentAlarm = housekeeping.crashConsistentAlarm;
    this.failedRunsAlarm = housekeeping.failedRunsAlarm;
    this.expiryFailedAlarm = housekeeping.expiryFailedAlarm;
    this.metricDimensions = housekeeping.dimensions;
    this.heartbeatAlarm = heartbeatAlarm(this, 'HeartbeatAlarm', {
      description: `Maintenance window ${this.node.path} created no snapshots: the window, its task or its housekeeping is disabled or failing`,
      metric: (p) => this.metricSnapshotsCreated(p),
      schedule: schedule,
      scheduleProp: 'schedule',
      alarmActions: props.alarmActions,
    });

    if (!props.outputLogGroup) {
      acknowledge(this.outputLogGroup, guard('cloudwatch_log_group_encrypted_check',
        'CloudWatch Logs encrypts every log group at rest; the transcripts hold snapshot ids and timings, no data; pass outputLogGroup for a customer-managed key'));
    }
    this.alarmActions = props.alarmActions;
    for (const alarm of [this.crashConsistentAlarm, this.failedRunsAlarm, this.expiryFailedAlarm]) {
      for (const action of props.alarmActions ?? []) {
        alarm.addAlarmAction(action);
      }
      if ((props.alarmActions ?? []).length === 0) {
        acknowledge(alarm, guard('cloudwatch_alarm_action_check',
          'no alarmActions were given: the alarms are exposed (crashConsistentAlarm, failedRunsAlarm, expiryFailedAlarm) for the team to route'));
      }
    }
  }

  /**
   * Change detection of the window's machinery: the concrete window calls it last in its
   * constructor, after its document and association exist, so that the rules name them too.
   */
  protected detectChanges(): void {
    this._changeAlarm = new ChangeDetection(this, 'ChangeDetection', {
      mechanism: `Maintenance window ${this.node.path}`,
      alarmActions: this.alarmActions,
      noActionReason: 'no alarmActions were given: changeAlarm is exposed for the team to route',
    }).alarm;
  }

  /**
   * A health metric the window's hourly housekeeping publishes (namespace
   * `CdkEbsBackup/MaintenanceWindow`, dimension `ManagedBy`), one datapoint an hour, zeros
   * included. Sum over 1 hour by default.
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: this.metricDimensions,
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
      ...props,
    });
  }

  /** Snapshots the window's runs created (counted by the housekeeping). */
  public metricSnapshotsCreated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HEALTH_METRICS.snapshotsCreated, props);
  }

  /** Snapshots without `AppConsistent=true`: VSS or the freeze fell back to crash-consistent. */
  public metricCrashConsistentSnapshots(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HEALTH_METRICS.crashConsistent, props);
  }

  /** Window executions that failed, timed out, were cancelled or skipped. */
  public metricFailedWindowExecutions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HEALTH_METRICS.failedExecutions, props);
  }

  /** Expired snapshots the housekeeping deleted. */
  public metricExpiredSnapshotsDeleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HEALTH_METRICS.deleted, props);
  }

  /** Expired snapshots that could not be deleted (in use by an AMI, locked, or denied). */
  public metricExpiredSnapshotsNotDeleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HEALTH_METRICS.notDeleted, props);
  }

  /**
   * Give the instances `statement`: inline on `instanceRole`, and in `instancePolicy` for
   * instances that keep a role of their own; `reason` acknowledges its wildcards on both.
   */
  protected addInstanceStatement(statement: iam.PolicyStatement, reason: string): void {
    addAcknowledgedStatement(this.instanceRole, statement, reason);
    this.instancePolicy.addStatements(statement);
    acknowledgeWildcards(this.instancePolicy, reason, [statement]);
  }

  /** The S3 key prefix of this window's Run Command output. */
  public get outputPrefix(): string {
    return `run-command/${this.purpose}/`;
  }

  /** Grant `grantee` (e.g. an auditor's role) read access to the Run Command transcripts. */
  public grantReadOutput(grantee: iam.IGrantable): iam.Grant {
    return this.outputBucket.grantRead(grantee, `${this.outputPrefix}*`);
  }

  /**
   * Add a task that runs AWS's `AWS-CreateImage` automation on every target after the snapshot
   * task (priority 2), with its own least-privilege automation role.
   *
   * `AWS-CreateImage` takes only `InstanceId`, `NoReboot` and `AutomationAssumeRole`: it cannot
   * tag the image, so the AMIs do NOT carry `snapshotTags` and the housekeeping does not expire
   * them; deregister them with a lifecycle policy of your own (e.g. DLM on AMIs). With `reboot`,
   * EC2 itself stops and restarts the instance inside `CreateImage`, so the role needs no
   * `ec2:StopInstances`/`StartInstances`.
   */
  public addImageTask(options: ImageTaskOptions): ssm.CfnMaintenanceWindowTask {
    if (this.node.tryFindChild('ImageTask')) {
      fail(this, 'addImageTask', 'must be called at most once per window', 'a second call');
    }
    const stack = Stack.of(this);
    const maxConcurrency = options.maxConcurrency ?? (options.reboot ? '1' : '25%');
    const maxErrors = options.maxErrors ?? '100%';
    checkPattern(this, 'imageTask.maxConcurrency', maxConcurrency, MAX_CONCURRENCY, 'a count from 1 or a percentage from 1% to 100% (e.g. 10 or 25%)');
    checkPattern(this, 'imageTask.maxErrors', maxErrors, MAX_ERRORS, 'a count from 0 or a percentage from 0% to 100% (e.g. 0 or 10%)');

    const role = new iam.Role(this, 'ImageAutomationRole', {
      // Automation assumes it (the task's AutomationAssumeRole): scoped as AWS documents for Automation
      assumedBy: ssmAutomationPrincipal(this),
      description: `Creates AMIs of the targets of maintenance window ${this.node.path}`,
    });
    // the instances: by tag (condition on the instance), by id (their ARNs), or any in a group
    const instanceArn = (id: string) => stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: id });
    const ids = this.targets.targets.find((t) => t.key === 'InstanceIds');
    const tagConditions: Record<string, string[]> = {};
    for (const t of this.targets.targets.filter((k) => k.key.startsWith('tag:'))) {
      tagConditions[`ec2:ResourceTag/${t.key.slice(4)}`] = t.values;
    }
    const fromInstances = new iam.PolicyStatement({
      sid: 'CreateImageOfTargets',
      actions: ['ec2:CreateImage'],
      resources: ids ? ids.values.map(instanceArn) : [instanceArn('*')],
      conditions: Object.keys(tagConditions).length > 0 ? { StringEquals: tagConditions } : undefined,
    });
    addAcknowledgedStatement(role, fromInstances,
      'the targets are resolved by tag or resource group at run time; the statement is limited to this region and account and, for tags, to instances carrying the target tags');
    addAcknowledgedStatement(role, new iam.PolicyStatement({
      sid: 'CreateImageArtefacts',
      actions: ['ec2:CreateImage'],
      resources: [
        stack.formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' }),
        stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' }),
      ],
    }), 'the new image and its snapshots get ids only when CreateImage runs; limited to this region');
    addAcknowledgedStatement(role, new iam.PolicyStatement({
      sid: 'WaitForImage',
      actions: ['ec2:DescribeImages'],
      resources: ['*'],
    }), 'ec2:DescribeImages takes no resource-level permissions; the automation polls it until the image is available');

    // the window's task role starts the automation and hands it the role above
    role.grantPassRole(this.taskRole);
    addAcknowledgedStatement(this.taskRole, new iam.PolicyStatement({
      sid: 'StartImageAutomation',
      actions: ['ssm:StartAutomationExecution'],
      // the Service Authorization Reference requires the document and the new execution as
      // resources of StartAutomationExecution, the definition optionally (role parity test)
      resources: [
        stack.formatArn({ service: 'ssm', resource: 'automation-definition', resourceName: 'AWS-CreateImage:*' }),
        stack.formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-CreateImage' }),
        stack.formatArn({ service: 'ssm', resource: 'automation-execution', resourceName: '*' }),
      ],
    }), 'the version suffix of the AWS-CreateImage automation definition is chosen at run time ($DEFAULT), and execution ids exist only at run time');
    addAcknowledgedStatement(this.taskRole, new iam.PolicyStatement({
      sid: 'TrackImageAutomation',
      actions: ['ssm:GetAutomationExecution'],
      resources: [stack.formatArn({ service: 'ssm', resource: 'automation-execution', resourceName: '*' })],
    }), 'automation execution ids exist only at run time');

    const description = `AMIs (${this.purpose}, ${options.reboot ? 'reboot' : 'no reboot'}) of ${this.targets.description}`.slice(0, 128);
    return new ssm.CfnMaintenanceWindowTask(this, 'ImageTask', {
      windowId: this.windowId,
      description,
      taskType: 'AUTOMATION',
      taskArn: 'AWS-CreateImage',
      priority: 2,
      serviceRoleArn: this.taskRole.roleArn,
      targets: [{ key: 'WindowTargetIds', values: [this.windowTarget.ref] }],
      maxConcurrency,
      maxErrors,
      cutoffBehavior: 'CONTINUE_TASK',
      taskInvocationParameters: {
        maintenanceWindowAutomationParameters: {
          documentVersion: '$DEFAULT',
          parameters: {
            InstanceId: ['{{TARGET_ID}}'],
            NoReboot: [options.reboot ? 'false' : 'true'],
            AutomationAssumeRole: [role.roleArn],
          },
        },
      },
    });
  }

  /**
   * The Run Command task that takes the snapshots. `documentVersion` pins the version the window
   * runs where the stack owns the document (`'1'`, see `FsfreezeMaintenanceWindow`); AWS-owned
   * documents nobody in the account can change run `$DEFAULT`.
   */
  protected addSnapshotTask(
    documentName: string, documentArn: string, parameters: Record<string, string[]>, description: string, documentVersion = '$DEFAULT',
  ): ssm.CfnMaintenanceWindowTask {
    const stack = Stack.of(this);
    addAcknowledgedStatement(this.taskRole, new iam.PolicyStatement({
      sid: 'SendSnapshotCommand',
      actions: ['ssm:SendCommand'],
      resources: [documentArn, stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
    }), 'SendCommand needs the instances as resources; the targets are resolved by tag or group at run time, so the ARN is scoped to this region and account and the document is this window\'s');
    const task = new ssm.CfnMaintenanceWindowTask(this, 'SnapshotTask', {
      windowId: this.windowId,
      description,
      taskType: 'RUN_COMMAND',
      taskArn: documentName,
      priority: 1,
      serviceRoleArn: this.taskRole.roleArn,
      targets: [{ key: 'WindowTargetIds', values: [this.windowTarget.ref] }],
      maxConcurrency: this.maxConcurrency,
      maxErrors: this.maxErrors,
      cutoffBehavior: 'CONTINUE_TASK',
      taskInvocationParameters: {
        // the invocation parameters' own output settings (LoggingInfo and TaskParameters are deprecated)
        maintenanceWindowRunCommandParameters: {
          documentVersion,
          parameters,
          timeoutSeconds: this.deliveryTimeout.toSeconds(),
          outputS3BucketName: this.outputBucket.bucketName,
          outputS3KeyPrefix: this.outputPrefix,
          cloudWatchOutputConfig: { cloudWatchOutputEnabled: true, cloudWatchLogGroupName: this.outputLogGroup.logGroupName },
          comment: description.slice(0, 100),
        },
      },
    });
    const logicalId = (c: unknown) => stack.getLogicalId(c as CfnElement);
    const access: WindowInstanceAccess = {
      instanceProfile: logicalId(this.instanceProfile.node.defaultChild),
      instanceRole: this.instanceRole instanceof iam.Role ? logicalId(this.instanceRole.node.defaultChild) : undefined,
      instancePolicy: logicalId(this.instancePolicy.node.defaultChild),
      instancePolicyName: this.instancePolicyName,
    };
    task.addMetadata(WINDOW_INSTANCE_ACCESS_METADATA, access);
    return task;
  }

  private createOutputBucket(accessLogs: s3.IBucket | undefined): s3.Bucket {
    const bucket = new s3.Bucket(this, 'OutputBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: accessLogs ? 'ssm-output/' : undefined,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) }],
    });
    if (!accessLogs) {
      const why = 'holds Run Command transcripts written only by the snapshotted instances; writes are recorded by CloudTrail data events where enabled; pass outputAccessLogsBucket to turn on server access logs';
      acknowledge(bucket, nag('S1', why));
      acknowledge(bucket, guard('s3_bucket_logging_enabled_check', why));
    }
    acknowledge(bucket,
      guard('s3_bucket_default_encryption_kms_check', 'SSE-S3 encrypts the transcripts at rest and lets the instances write without a KMS grant; pass outputBucket for SSE-KMS'),
      guard('s3_event_notifications_enabled_check', 'nothing reacts to new transcripts; the health of each run is judged by the housekeeping and its alarms'),
      guard('s3_bucket_object_lock_enabled_check', 'transcripts are versioned and expire after 400 days; they are evidence of runs, the snapshots themselves are protected by the worm family'));
    return bucket;
  }
}

/**
 * `EbsBackup<Kind>-<purpose>-<region>`: the same in every account the window is deployed to, and
 * unique per region (IAM names are per account). Characters IAM does not allow become `-`.
 */
function defaultInstancePolicyName(kind: string, purpose: string, region: string): string {
  const safePurpose = Token.isUnresolved(purpose) ? 'window' : purpose.replace(/[^\w+=,.@-]/g, '-');
  // 128 at most: the longest region name has 14 characters
  return `EbsBackup${kind}-${safePurpose}`.slice(0, 128 - 15) + `-${region}`;
}

function checkWholeHours(scope: Construct, property: string, value: Duration): void {
  if (isUnresolved(value)) {
    return;
  }
  check(Number.isInteger(value.toHours({ integral: false })), scope, property, 'must be a whole number of hours', value);
}

function checkDates(scope: Construct, start: Date | undefined, end: Date | undefined): void {
  for (const [name, date] of [['startDate', start], ['endDate', end]] as const) {
    if (date !== undefined && Number.isNaN(date.getTime())) {
      fail(scope, name, 'must be a valid date', String(date));
    }
  }
  if (start && end) {
    check(end.getTime() > start.getTime(), scope, 'endDate', `must be after startDate (${start.toISOString()})`, end.toISOString());
  }
  if (end && end.getTime() < Date.now()) {
    warn(scope, 'ssm:window-end-in-past',
      `${scope.node.path}: endDate ${end.toISOString()} is in the past: the maintenance window will never run`);
  }
}

