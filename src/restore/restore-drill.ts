import { Aspects, CfnElement, Duration, Fn, IAspect, Lazy, Stack, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import { drillDefinition, sweeperDefinition } from './drill-definition';
import { DrillSource } from './drill-source';
import { checkValidationDocumentSize, MOUNTS_PARAMETER_MAX_BYTES, validationDocument, windowsValidationDocument } from './validation-document';
import { acknowledge, acknowledgeFindings, addAcknowledgedStatement, attributeWildcardFinding, guard, wildcardArn } from '../core/acknowledge';
import { artefactRetentions, CreationRecord } from '../core/artefact-retentions';
import { ChangeDetection } from '../core/change-detection';
import { CHECK_IDS } from '../core/check-ids';
import { failureAlarm } from '../core/failure-alarm';
import { heartbeatAlarm } from '../core/heartbeat';
import { createJobFunction } from '../core/job-function';
import { protectAsMachinery } from '../core/machinery';
import { planSchedule, registerPlan } from '../core/plan-report';
import { Retention } from '../core/retention';
import { scopedRuleName, trustOnlyRules, trustOnlyStateMachine } from '../core/service-trust';
import { sourceInstanceTagKey } from '../core/source-instance';
import { BackupTagging } from '../core/tagging';
import { check, checkCount, checkDuration, checkPattern, checkTags, collectProblems, isUnresolved, reportFactoryProblems } from '../core/validation';

/**
 * Properties of a RestoreDrill.
 */
export interface RestoreDrillProps {
  /**
   * The purpose tag value of the snapshots (or AMIs) to drill: the newest complete set with it is restored.
   */
  readonly purpose: string;

  /**
   * When to drill. A backup nobody restored is a hope, not a backup.
   */
  readonly schedule: events.Schedule;

  /**
   * Shell commands run (as root, with `set -euo pipefail`) on the scratch instance once the restored
   * volumes are mounted read-only; any failing command fails the drill. The first volume is at
   * `mountPoint`, the n-th at `<mountPoint><n>`, unless its snapshot carries the mount-point tag.
   */
  readonly validation: string[];

  /**
   * PowerShell commands run (through a `aws:runPowerShellScript` step, with
   * `$ErrorActionPreference = 'Stop'`) when the restore point is a Windows AMI; any failing
   * command fails the drill. The Linux `validation` cannot run on Windows: without these, a
   * Windows AMI drill fails as `DrillNotValidated` (and the failure alarm fires) instead of
   * reporting success for a validation that never ran.
   *
   * @default - Windows AMIs are reported not validated
   */
  readonly windowsValidation?: string[];

  /**
   * What to restore: snapshots (restored as volumes on a scratch instance) or an AMI (launched
   * itself), owned by this account or shared by an archive account. For the copies in a DR region,
   * create the drill in a stack in that region.
   *
   * @default DrillSource.snapshots()
   */
  readonly source?: DrillSource;

  /**
   * The VPC of the scratch instance. The instance needs to reach Systems Manager (interface endpoints or a NAT).
   * A VPC of your own saves the scratch VPC's standing cost; import it with `ec2.Vpc.fromVpcAttributes()`
   * (`Vpc.fromLookup()` needs AWS credentials at synthesis).
   *
   * @default - a scratch VPC with one isolated subnet in the region's first Availability Zone
   *   (`Fn::GetAZs` at deploy time, no lookup), the three Systems Manager interface endpoints and a
   *   flow log of rejected traffic, no internet access: about $21.90 a month in US East (3 endpoints
   *   × $0.01 per endpoint-hour, AWS PrivateLink pricing) plus $0.50 per GB of flow log (Amazon CloudWatch pricing)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Where in the VPC the scratch instance runs; the first selected subnet is used and the volumes
   * are restored in its Availability Zone.
   *
   * @default - the VPC's default selection (private subnets), or the scratch VPC's isolated subnet
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The scratch instance's type: large enough to mount the volumes and run the validation.
   *
   * @default t3.small
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * The scratch instance's image, for snapshot drills. It needs the SSM agent and udev names for
   * attached EBS volumes (`/dev/sdf`), as Amazon Linux has.
   *
   * @default - the latest Amazon Linux 2023
   */
  readonly machineImage?: ec2.IMachineImage;

  /**
   * Where the first restored volume is mounted (read-only).
   *
   * @default '/data'
   */
  readonly mountPoint?: string;

  /**
   * A snapshot tag that names the mount point of its volume, for multi-volume sets (copy it from the source volume).
   *
   * @default - volumes are mounted at `mountPoint`, `<mountPoint>2`, ...
   */
  readonly mountPointTag?: string;

  /**
   * How long the validation commands may run.
   *
   * @default Duration.minutes(30)
   */
  readonly validationTimeout?: Duration;

  /**
   * Snapshots of one source instance whose start times are within this window of the newest
   * belong to one set. Snapshots of different instances never share a set: each snapshot's
   * instance is the `source-instance` tag its creator wrote (ConsistentSnapshotJob,
   * PreChangeSnapshot; for DLM, a variable tag of that key), else the instance id in its description.
   *
   * @default Duration.minutes(5)
   */
  readonly setWindow?: Duration;

  /**
   * Alarm when the newest complete set a drill restored was older than this: the recovery point
   * actually achieved, measured rather than configured.
   *
   * @default - no recovery point alarm
   */
  readonly maxSnapshotAge?: Duration;

  /**
   * The KMS key that encrypts the snapshots or AMI; restored volumes are encrypted with it too.
   *
   * @default - the AWS managed key `aws/ebs` (restored volumes are always encrypted)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The volume type of the restored volumes.
   *
   * @default ec2.EbsDeviceVolumeType.GP3
   */
  readonly volumeType?: ec2.EbsDeviceVolumeType;

  /**
   * Where the alarms notify.
   *
   * @default - no alarm actions; add them to `failureAlarm`
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * The CloudWatch namespace of the drill metrics.
   *
   * @default 'CdkEbsBackup/RestoreDrill'
   */
  readonly metricNamespace?: string;

  /**
   * Extra tags for everything the drill creates (volumes, instance).
   *
   * @default - only the library's tags and the execution tag
   */
  readonly tags?: Record<string, string>;
}

/**
 * Prove, on a schedule, that backups restore: pick the newest complete snapshot set (or AMI)
 * for a purpose, restore it in a scratch subnet, mount it read-only on a short-lived instance, run
 * the validation commands through Run Command, record pass/fail, time-to-restore and the real
 * recovery point as CloudWatch metrics, tear everything down even on failure, and alarm.
 *
 * Everything restored carries the library's tags (managed-by = this construct) and the execution
 * tag; a daily sweeper deletes anything a failed teardown left behind.
 */
export class RestoreDrill extends Construct {
  /** The name of the tag (after the tag prefix) that names the drill execution on everything it restores. */
  public static readonly EXECUTION_TAG_NAME = 'drill-execution';
  /** The default metric namespace. */
  public static readonly DEFAULT_NAMESPACE = 'CdkEbsBackup/RestoreDrill';

  /** The drill's state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The state machine that removes what failed drills left behind. */
  public readonly sweeper: sfn.StateMachine;
  /** In alarm when a drill failed (validation, restore, teardown or the execution itself). */
  public readonly failureAlarm: cloudwatch.Alarm;
  /**
   * In alarm when the restored data was older than `maxSnapshotAge`.
   *
   * @default - undefined when `maxSnapshotAge` is not set
   */
  public readonly recoveryPointAlarm?: cloudwatch.Alarm;
  /**
   * In alarm when no drill passed within 1.5 times the schedule's longest interval (missing
   * data breaching: a disabled schedule or a drill that never reports is silence too).
   */
  public readonly heartbeatAlarm: cloudwatch.Alarm;
  /**
   * In alarm when a piece of the drill was changed or disabled: its schedule, state machines,
   * functions, validation document, alarms (a CloudTrail management event matched its
   * change-detection rules; a deployment counts too). Notifies `alarmTopic`.
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;
  /** The scratch instance's role (Systems Manager core); grant it what the validation needs. */
  public readonly instanceRole: iam.Role;
  /** The scratch instance's security group. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The Run Command document that mounts and validates. */
  public readonly document: ssm.CfnDocument;
  /**
   * The PowerShell validation document for Windows AMIs.
   *
   * @default - undefined when `windowsValidation` is not set
   */
  public readonly windowsDocument?: ssm.CfnDocument;
  /** The tags on everything the drill restores. */
  public readonly restoredTags: Record<string, string>;
  /** The metric namespace. */
  public readonly metricNamespace: string;
  /**
   * The tag that names the drill execution on everything it restores: the tag prefix
   * (`BackupTagging`) followed by `drill-execution`, e.g. `backup:drill-execution`. The teardown
   * and the sweeper find what a drill left behind by it.
   */
  public readonly executionTagKey: string;

  private readonly purpose: string;

  constructor(scope: Construct, id: string, props: RestoreDrillProps) {
    super(scope, id);
    protectAsMachinery(this);
    const source = props.source ?? DrillSource.snapshots();
    const mountPoint = props.mountPoint ?? '/data';
    const validationTimeout = props.validationTimeout ?? Duration.minutes(30);
    const setWindow = props.setWindow ?? Duration.minutes(5);
    this.purpose = props.purpose;
    this.metricNamespace = props.metricNamespace ?? RestoreDrill.DEFAULT_NAMESPACE;
    this.executionTagKey = BackupTagging.key(this, RestoreDrill.EXECUTION_TAG_NAME);
    // every problem of the drill's props at once
    collectProblems(this, () => {
      BackupTagging.validatePurpose(this, 'purpose', props.purpose);
      reportFactoryProblems(this, 'source', source);
      const checkCommands = (prop: string, commands: string[]) => {
        checkCount(this, prop, commands, 1, 100);
        if (!isUnresolved(commands)) {
          commands.forEach((c, i) => check(isUnresolved(c) || c.trim().length > 0, this, `${prop}[${i}]`, 'must be a non-empty command', c));
        }
      };
      checkCommands('validation', props.validation);
      if (props.windowsValidation !== undefined) {
        checkCommands('windowsValidation', props.windowsValidation);
      }
      checkPattern(this, 'mountPoint', mountPoint, /^\/[A-Za-z0-9._-][A-Za-z0-9._/-]{0,200}$/,
        "an absolute path other than '/' of letters, digits and . _ / -");
      // Run Command's execution timeout: 30 seconds to 30 days (AWS-RunShellScript "executionTimeout")
      checkDuration(this, 'validationTimeout', validationTimeout, Duration.seconds(30), Duration.days(30));
      checkDuration(this, 'setWindow', setWindow, Duration.seconds(0), Duration.hours(1));
      checkDuration(this, 'maxSnapshotAge', props.maxSnapshotAge, Duration.hours(1), Duration.days(3650));
      checkTags(this, 'tags', props.tags, 40);
      checkPattern(this, 'metricNamespace', this.metricNamespace, /^(?!AWS\/)[^:]{1,255}$/, "a namespace of 1-255 characters without ':' that does not start with 'AWS/'");
      check(props.tags?.[this.executionTagKey] === undefined, this, `tags['${this.executionTagKey}']`,
        'must not be set: the drill writes its execution name under this key', props.tags?.[this.executionTagKey]);
    });
    registerPlan(this, 'RestoreDrill', () => ({
      protects: [{
        mechanism: `RestoreDrill (restores and validates${props.vpc ? '' : '; scratch VPC with 3 interface endpoints'})`,
        selects: `the newest ${source.mode === 'IMAGE' ? 'AMI' : 'snapshot set'} with purpose ${props.purpose}`,
        schedule: planSchedule(props.schedule),
      }],
    }));

    const keys = BackupTagging.keys(this);
    const libraryTags = BackupTagging.tagsFor(this, { purpose: `restore-drill:${props.purpose}`.slice(0, 256), retention: Retention.age(Duration.days(1)) });
    this.restoredTags = { ...props.tags, ...libraryTags };
    BackupTagging.addArtefactSource(this, {
      artefactTagSets: () => [{ artefact: 'restored volumes and scratch instances', tags: this.restoredTags }],
    });

    // The network: no inbound at all; outbound only to Systems Manager.
    const vpc = props.vpc ?? this.scratchVpc();
    const subnets = vpc.selectSubnets(props.vpcSubnets ?? (props.vpc ? {} : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }));
    check(subnets.subnets.length > 0, this, 'vpcSubnets', 'must select at least one subnet for the scratch instance', subnets.subnets.length);
    const subnet = subnets.subnets[0];
    this.securityGroup = new ec2.SecurityGroup(this, 'ScratchSecurityGroup', {
      vpc, allowAllOutbound: false, description: `Restore drill ${props.purpose}: no inbound, HTTPS out to Systems Manager`.slice(0, 255),
    });
    this.securityGroup.addEgressRule(props.vpc ? ec2.Peer.anyIpv4() : ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(443), 'Systems Manager');

    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
      description: 'RestoreDrill scratch instance: Systems Manager agent only',
    });
    acknowledgeFindings(this.instanceRole, "AmazonSSMManagedInstanceCore is AWS's minimal policy for the Systems Manager agent, which runs the validation",
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]');
    const launchTemplate = new ec2.LaunchTemplate(this, 'ScratchInstance', {
      machineImage: props.machineImage ?? ec2.MachineImage.latestAmazonLinux2023(),
      instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL),
      role: this.instanceRole,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      detailedMonitoring: true,
      instanceInitiatedShutdownBehavior: ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
    });
    acknowledge(launchTemplate, {
      id: CHECK_IDS.launchTemplateCovered,
      reason: 'the restore drill scratch instance lives for one drill and holds only restored copies; backing it up would back up the backup',
    });

    this.document = new ssm.CfnDocument(this, 'ValidationDocument', {
      documentType: 'Command',
      documentFormat: 'JSON',
      content: validationDocument(props.validation, validationTimeout),
      tags: [{ key: keys.purpose, value: libraryTags[keys.purpose] }],
    });
    checkValidationDocumentSize(this, this.document, 'validation', props.validation, MOUNTS_PARAMETER_MAX_BYTES);
    if (props.windowsValidation) {
      this.windowsDocument = new ssm.CfnDocument(this, 'WindowsValidationDocument', {
        documentType: 'Command',
        documentFormat: 'JSON',
        content: windowsValidationDocument(props.windowsValidation, validationTimeout),
        tags: [{ key: keys.purpose, value: libraryTags[keys.purpose] }],
      });
      checkValidationDocumentSize(this, this.windowsDocument, 'windowsValidation', props.windowsValidation, 0);
    }

    const selectFunction = this.handler('SelectFunction', 'restore/drill-select', 'RestoreDrill: pick the newest complete snapshot set or AMI',
      new iam.PolicyStatement({ actions: ['ec2:DescribeSnapshots', 'ec2:DescribeImages'], resources: ['*'] }));
    acknowledgeFindings(selectFunction.role!, 'DescribeSnapshots and DescribeImages support no resource-level permissions', 'AwsSolutions-IAM5[Resource::*]');
    // a job's creation record names a run of its state machine: the drill reads those runs only
    Aspects.of(this).add(new GrantCreatorExecutions(this, selectFunction));
    const metricsFunction = this.handler('MetricsFunction', 'restore/drill-metrics', 'RestoreDrill: publish time-to-restore and snapshot age',
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': this.metricNamespace } },
      }));
    acknowledgeFindings(metricsFunction.role!, 'PutMetricData supports no resource-level permissions; the namespace condition limits it to the drill metrics', 'AwsSolutions-IAM5[Resource::*]');

    const definition = drillDefinition(this, {
      mode: source.mode,
      purpose: props.purpose,
      namespace: this.metricNamespace,
      selectFunction,
      selectPayload: {
        mode: source.mode,
        purposeTagKey: keys.purpose,
        purpose: props.purpose,
        owner: source.owner,
        setWindowSeconds: setWindow.toSeconds(),
        mountPoint,
        mountPointTagKey: props.mountPointTag,
        sourceInstanceTagKeys: [sourceInstanceTagKey(this)],
        // the creators of this purpose in the app (read at synthesis): only artefacts carrying
        // one's creation record are restored; none registered (DLM, AWS Backup, your own): by purpose
        managedByTagKey: keys.managedBy,
        creators: Lazy.any({
          produce: () => this._creators().length > 0
            ? this._creators().map(({ managedBy, executionTagKey, stateMachineArn, windowId, automationDocument }) =>
              ({ managedBy, executionTagKey, stateMachineArn, windowId, automationDocument }))
            : undefined,
        }),
      },
      metricsFunction,
      launchTemplateId: launchTemplate.launchTemplateId!,
      launchTemplateArn: Stack.of(this).formatArn({ service: 'ec2', resource: 'launch-template', resourceName: launchTemplate.launchTemplateId }),
      subnetId: subnet.subnetId,
      securityGroupId: this.securityGroup.securityGroupId,
      restoredTags: this.restoredTags,
      executionTagKey: this.executionTagKey,
      volumeType: props.volumeType ?? ec2.EbsDeviceVolumeType.GP3,
      kmsKeyArn: props.encryptionKey?.keyArn,
      documentName: this.document.ref,
      windowsDocumentName: this.windowsDocument?.ref,
      validationTimeout,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // every polling loop is bounded; this only stops a drill that hangs beyond all of them
      timeout: validationTimeout.plus(Duration.hours(3)),
      tracingEnabled: true,
      logs: { destination: this.logGroup('StateMachineLogs'), level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    trustOnlyStateMachine(this.stateMachine);
    this.guardRole(this.stateMachine, keys.managedBy, libraryTags[keys.managedBy]);
    acknowledgeFindings(this.stateMachine, 'invoking the drill functions: any version of the two functions of this construct',
      attributeWildcardFinding(selectFunction.node.defaultChild as CfnElement),
      attributeWildcardFinding(metricsFunction.node.defaultChild as CfnElement));
    acknowledgeFindings(this.stateMachine, 'RunInstances needs network interfaces and the image, CreateVolume the snapshot, whose ids exist only at run time',
      wildcardArn('ec2', 'network-interface/*').nagId, wildcardArn('ec2', 'image/*', false).nagId, wildcardArn('ec2', 'snapshot/*', false).nagId);
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [this.instanceRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    }));
    if (props.encryptionKey) {
      // CreateVolume from an encrypted snapshot: EC2 uses the key on the caller's behalf, through a grant for itself only
      this.stateMachine.addToRolePolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        resources: [props.encryptionKey.keyArn],
      }));
      this.stateMachine.addToRolePolicy(new iam.PolicyStatement({
        actions: ['kms:CreateGrant'],
        resources: [props.encryptionKey.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }));
    }
    new events.Rule(this, 'Schedule', {
      ruleName: scopedRuleName(this, 'Schedule'),
      schedule: props.schedule,
      description: `Restore drill of ${props.purpose}`.slice(0, 512),
      targets: [new targets.SfnStateMachine(this.stateMachine)],
    });
    trustOnlyRules(this.stateMachine);

    const sweeperScope = new Construct(this, 'Sweep');
    this.sweeper = new sfn.StateMachine(this, 'Sweeper', {
      definitionBody: sfn.DefinitionBody.fromChainable(sweeperDefinition(sweeperScope, {
        stateMachineArn: this.stateMachine.stateMachineArn,
        managedByKey: keys.managedBy,
        managedBy: libraryTags[keys.managedBy],
        namespace: this.metricNamespace,
        purpose: props.purpose,
      })),
      timeout: Duration.hours(1),
      tracingEnabled: true,
      logs: { destination: this.logGroup('SweeperLogs'), level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    trustOnlyStateMachine(this.sweeper);
    this.guardRole(this.sweeper, keys.managedBy, libraryTags[keys.managedBy]);
    new events.Rule(this, 'SweepSchedule', {
      ruleName: scopedRuleName(this, 'SweepSchedule'),
      schedule: events.Schedule.rate(Duration.days(1)),
      description: `Remove what failed restore drills of ${props.purpose} left behind`.slice(0, 512),
      targets: [new targets.SfnStateMachine(this.sweeper)],
    });
    trustOnlyRules(this.sweeper);

    const period = Duration.hours(1);
    const alarmAction = props.alarmTopic ? new cwActions.SnsAction(props.alarmTopic) : undefined;
    const noActionReason = 'no alarmTopic was given: the alarm is exposed for the team to route';
    this.failureAlarm = failureAlarm(this, 'FailureAlarm', {
      description: `Restore drill of '${props.purpose}' failed: see the failed execution of ${this.node.path}; restored resources are removed by the sweeper`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(FILL(ok, 1) < 1, 1, 0) + FILL(teardown, 0) + FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          ok: this.metricDrillSucceeded({ period }),
          teardown: this.metric('TeardownFailed', { statistic: 'Sum', period }),
          failed: this.stateMachine.metricFailed({ period }),
          timedOut: this.stateMachine.metricTimedOut({ period }),
          aborted: this.stateMachine.metricAborted({ period }),
        },
        period,
        label: 'failed drills',
      }),
      alarmAction,
      noActionReason,
    });
    if (props.maxSnapshotAge) {
      this.recoveryPointAlarm = failureAlarm(this, 'RecoveryPointAlarm', {
        description: `Restore drill of '${props.purpose}' restored data older than ${props.maxSnapshotAge.toHumanString()}: the recovery point objective is not met`,
        metric: this.metricSnapshotAge({ period }),
        threshold: props.maxSnapshotAge.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        alarmAction,
        noActionReason,
      });
    }
    this.heartbeatAlarm = heartbeatAlarm(this, 'HeartbeatAlarm', {
      description: `No restore drill of '${props.purpose}' passed (${this.node.path}): its schedule is disabled, or every drill failed`,
      // a passed drill publishes 1: the largest value of a period says whether any passed
      metric: (p) => this.metricDrillSucceeded({ statistic: cloudwatch.Stats.MAXIMUM, ...p }),
      schedule: props.schedule.expressionString,
      scheduleProp: 'schedule',
      alarmActions: alarmAction ? [alarmAction] : undefined,
    });
    this.changeAlarm = new ChangeDetection(this, 'ChangeDetection', {
      mechanism: `Restore drill ${this.node.path}`,
      alarmActions: alarmAction ? [alarmAction] : undefined,
      noActionReason,
    }).alarm;
  }

  /** 1 for a drill that passed, 0 for one that failed (Minimum over a period tells whether any failed). */
  /** The creation records of the constructs in the app that create artefacts of this purpose. @internal */
  public _creators(): CreationRecord[] {
    return artefactRetentions(this).filter((r) => r.purpose === this.purpose && r.creationRecord).map((r) => r.creationRecord!());
  }

  public metricDrillSucceeded(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('DrillSucceeded', { statistic: 'Minimum', ...props });
  }

  /** Seconds from the start of a drill to its validation passing. */
  public metricTimeToRestore(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('TimeToRestore', { statistic: 'Maximum', ...props });
  }

  /** Age in seconds of the data a drill restored: the recovery point actually achieved. */
  public metricSnapshotAge(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('SnapshotAge', { statistic: 'Maximum', ...props });
  }

  /** A drill metric by name. */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.metricNamespace, metricName, dimensionsMap: { Purpose: this.purpose }, ...props });
  }

  /**
   * The scratch network, built from the VPC's parts rather than `ec2.Vpc`: `ec2.Vpc` reads the
   * stack's availability zones, which in a stack with an account and region is a context lookup
   * (AWS credentials at synth, or a `cdk.context.json`). The one subnet takes the region's first
   * zone from CloudFormation (`Fn::Select` over `Fn::GetAZs`) at deploy time. Construct ids are
   * those `ec2.Vpc` gave them, so deployed drills keep their network.
   */
  private scratchVpc(): ec2.IVpc {
    const scope = new Construct(this, 'ScratchVpc');
    const cidrBlock = '10.255.255.0/24';
    const vpc = new ec2.CfnVPC(scope, 'Resource', {
      cidrBlock, enableDnsHostnames: true, enableDnsSupport: true, instanceTenancy: ec2.DefaultInstanceTenancy.DEFAULT,
    });
    Tags.of(scope).add('Name', scope.node.path);
    const availabilityZone = Fn.select(0, Fn.getAzs());
    const subnet = new ec2.Subnet(scope, 'ScratchSubnet1', {
      vpcId: vpc.ref, availabilityZone, cidrBlock: '10.255.255.0/26', mapPublicIpOnLaunch: false,
    });
    const subnetOnly = { includeResourceTypes: [ec2.CfnSubnet.CFN_RESOURCE_TYPE_NAME] };
    Tags.of(subnet).add('aws-cdk:subnet-name', 'Scratch', subnetOnly);
    Tags.of(subnet).add('aws-cdk:subnet-type', ec2.SubnetType.PRIVATE_ISOLATED, subnetOnly);
    const imported = ec2.Vpc.fromVpcAttributes(scope, 'Attributes', {
      vpcId: vpc.ref,
      vpcCidrBlock: vpc.attrCidrBlock,
      availabilityZones: [availabilityZone],
      isolatedSubnetIds: [subnet.subnetId],
      isolatedSubnetRouteTableIds: [subnet.routeTable.routeTableId],
    });
    new ec2.FlowLog(scope, 'Rejected', {
      resourceType: ec2.FlowLogResourceType.fromVpc(imported),
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.logGroup('FlowLogs')),
    });
    for (const [name, service] of Object.entries({
      Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
      SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
      Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    })) {
      const endpoint = new ec2.InterfaceVpcEndpoint(scope, name, { vpc: imported, service, privateDnsEnabled: true });
      acknowledgeFindings(endpoint, 'the endpoint accepts HTTPS from the scratch VPC CIDR only (cdk-nag cannot read the intrinsic)', 'AwsSolutions-EC23');
    }
    return imported;
  }

  private logGroup(id: string): logs.LogGroup {
    const group = new logs.LogGroup(this, id, { retention: logs.RetentionDays.ONE_YEAR });
    acknowledge(group, guard('cloudwatch_log_group_encrypted_check',
      'the drill logs ids, states and outcomes, never restored data (execution data is not logged); CloudWatch Logs encrypts them at rest'));
    return group;
  }

  private handler(id: string, name: string, description: string, statement: iam.PolicyStatement): lambda.Function {
    // invoked synchronously by the drill's state machine: its Catch and FailureAlarm see a failure, no DLQ
    const fn = createJobFunction(this, {
      idPrefix: id.replace(/Function$/, ''),
      logGroupId: `${id}Logs`,
      handler: name,
      description,
      timeout: Duration.minutes(2),
      statements: [statement],
    }).function;
    return fn;
  }

  /**
   * Limit a state machine to the resources the drill itself created: it may create instances and
   * volumes only with the drill's managed-by tag, and terminate, attach, delete or run commands on
   * nothing else. EC2 ids are unknown until run time, so the allows name `instance/*`; these
   * denies are what make that safe.
   */
  private guardRole(machine: sfn.StateMachine, key: string, value: string): void {
    const arn = (resource: string, account?: string) => Stack.of(this).formatArn({ service: 'ec2', resource, resourceName: '*', account });
    machine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'CreateOnlyTaggedAsTheDrill',
      effect: iam.Effect.DENY,
      actions: ['ec2:RunInstances', 'ec2:CreateVolume'],
      resources: [arn('instance'), arn('volume')],
      conditions: { StringNotEquals: { [`aws:RequestTag/${key}`]: value } },
    }));
    machine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'TouchOnlyWhatTheDrillCreated',
      effect: iam.Effect.DENY,
      actions: ['ec2:TerminateInstances', 'ec2:AttachVolume', 'ec2:DeleteVolume'],
      resources: [arn('instance'), arn('volume')],
      conditions: { StringNotEquals: { [`aws:ResourceTag/${key}`]: value } },
    }));
    machine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'RunCommandsOnlyOnTheScratchInstance',
      effect: iam.Effect.DENY,
      actions: ['ssm:SendCommand'],
      resources: [arn('instance')],
      conditions: { StringNotEquals: { [`ssm:resourceTag/${key}`]: value } },
    }));
    machine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'TagOnCreate',
      actions: ['ec2:CreateTags'],
      resources: [arn('instance'), arn('volume')],
      conditions: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateVolume'] } },
    }));
    acknowledgeFindings(machine,
      'EC2 instance and volume ids exist only at run time; deny statements limit every create to the drill tag and every ' +
      'terminate/attach/delete/command to resources carrying it, and Describe, metric, X-Ray and log-delivery actions support no resource ARNs',
      'AwsSolutions-IAM5[Resource::*]', wildcardArn('ec2', 'instance/*').nagId, wildcardArn('ec2', 'volume/*').nagId);
  }
}

/**
 * Lets the select function read the creators' records of their runs (known once the app is built):
 * the executions of the jobs' own state machines, the windows' own executions, and Automation
 * executions (their ids are generated by SSM, so `automation-execution/*`; the handler compares
 * each execution's document with the runbook's).
 */
class GrantCreatorExecutions implements IAspect {
  private done = false;
  constructor(private readonly drill: RestoreDrill, private readonly fn: lambda.IFunction) {}
  public visit(node: IConstruct): void {
    if (this.done || node !== this.drill) {
      return;
    }
    this.done = true;
    const creators = this.drill._creators();
    const executions = creators.map((c) => c.executionArns).filter((a): a is string => a !== undefined);
    if (executions.length > 0) {
      addAcknowledgedStatement(this.fn.role!, new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: executions }),
        'the creation record of a job\'s artefact names one of its runs: the drill describes the runs of the creating jobs\' own state machines only');
    }
    const windows = creators.map((c) => c.windowArn).filter((a): a is string => a !== undefined);
    if (windows.length > 0) {
      this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:DescribeMaintenanceWindowExecutions'], resources: windows }));
    }
    if (creators.some((c) => c.automationDocument !== undefined)) {
      addAcknowledgedStatement(this.fn.role!, new iam.PolicyStatement({
        actions: ['ssm:GetAutomationExecution'], resources: [wildcardArn('ssm', 'automation-execution/*').arn],
      }), 'automation execution ids are generated by SSM: the drill reads the execution its creation record names and compares its document with the runbook\'s');
    }
  }
}
