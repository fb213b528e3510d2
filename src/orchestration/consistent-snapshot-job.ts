import { ArnFormat, CfnResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Capture, CaptureKind } from './capture';
import { ConsistentSnapshotJobProps } from './consistent-snapshot-job-props';
import { acknowledgeJob, grantExpiry, grantMetrics, guardStateMachine } from './job-permissions';
import { SnapshotStep } from './snapshot-step';
import { buildWorkflow, CAPTURE_MAP_RUN_LABEL } from './workflow';
import { acknowledgeWildcards } from '../core/acknowledge';
import { registerScheduledRetention } from '../core/artefact-retentions';
import { ChangeDetection } from '../core/change-detection';
import { BackupCoverage, CoverageResourceType } from '../core/coverage';
import { failureAlarm } from '../core/failure-alarm';
import { heartbeatAlarm } from '../core/heartbeat';
import { createJobFunction } from '../core/job-function';
import { protectAsMachinery } from '../core/machinery';
import { planRetention, planSchedule, planTags, registerPlan } from '../core/plan-report';
import { RetentionRoles } from '../core/retention-roles';
import { scopedRuleName, trustOnlyRules, trustOnlyStateMachine } from '../core/service-trust';
import { BackupTagging } from '../core/tagging';
import {
  check, checkCount, checkDuration, checkInteger, checkPattern, checkTags, collectProblems, fail, reportFactoryProblems, warn,
} from '../core/validation';

/** The metric of the I/O pause, published by the job's metrics function. */
const PAUSE_WINDOW = 'PauseWindow';

/**
 * One crash-consistent set of snapshots (or AMIs) across several instances, with pre and post
 * steps around it, as a Step Functions state machine.
 *
 * Before steps run in order; then one multi-volume `CreateSnapshots` per instance, all in
 * parallel; then the after steps in reverse order, which run on every path once a before step
 * has started. Snapshots are tagged at creation (purpose, retention, managed-by and the
 * execution id); old ones are expired by the job itself.
 */
export class ConsistentSnapshotJob extends Construct {
  /** The namespace of the job's custom metrics. */
  public static readonly METRIC_NAMESPACE = 'CdkEbsBackup/ConsistentSnapshotJob';

  /**
   * The pause window of every consistent snapshot job of the account and region, one line per
   * purpose (a CloudWatch SEARCH expression: jobs added later appear without a deployment).
   * Maximum over 1 hour by default.
   */
  public static searchPauseWindow(props: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    const period = props.period ?? Duration.hours(1);
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${ConsistentSnapshotJob.METRIC_NAMESPACE},Purpose} MetricName="${PAUSE_WINDOW}"', 'Maximum', ${period.toSeconds()})`,
      label: 'pause window',
      ...props,
      period,
    });
  }

  /** The state machine that runs the job. */
  public readonly stateMachine: sfn.StateMachine;

  /** The function that expires old artefacts (registered with `RetentionRoles`). */
  public readonly expiryFunction: lambda.Function;

  /** The function that publishes the run metrics. */
  public readonly metricsFunction: lambda.Function;

  /** Where alarms and failure notices go. */
  public readonly alarmTopic: sns.ITopic;

  /** Alarms when a run fails, times out or is aborted, or the schedule cannot start it. */
  public readonly failureAlarm: cloudwatch.Alarm;

  /**
   * Alarms when the pause window exceeds `maxPauseWindow`.
   *
   * @default - none
   */
  public readonly pauseWindowAlarm?: cloudwatch.Alarm;

  /**
   * In alarm when no run succeeded within 1.5 times the schedule's longest interval (missing
   * data breaching: a disabled rule or a job that stopped publishing is silence too).
   *
   * @default - only with `schedule` (an unscheduled job has no interval to hold it to)
   */
  public readonly heartbeatAlarm?: cloudwatch.Alarm;

  /**
   * In alarm when a piece of the job was changed or disabled: its state machine, functions,
   * schedule rule, alarms, topic or key (a CloudTrail management event matched its
   * change-detection rules; a deployment counts too). Notifies `alarmTopic`.
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;

  /**
   * The schedule rule.
   *
   * @default - none
   */
  public readonly rule?: events.Rule;

  /** The tags every artefact carries (besides the execution id tag). */
  public readonly artefactTags: { [key: string]: string };

  /** The key of the tag that holds the id of the execution that created an artefact. */
  public readonly executionTagKey: string;

  private readonly purpose: string;
  private readonly reservedConcurrentExecutions?: number;

  constructor(scope: Construct, id: string, props: ConsistentSnapshotJobProps) {
    super(scope, id);
    protectAsMachinery(this);
    const before = props.before ?? [];
    const after = props.after ?? [];
    const capture = props.capture ?? Capture.snapshots();
    collectProblems(this, () => this.validate(props, before, after));
    this.purpose = props.purpose;
    this.reservedConcurrentExecutions = props.reservedConcurrentExecutions;
    registerPlan(this, 'ConsistentSnapshotJob', () => ({
      protects: [{
        mechanism: 'ConsistentSnapshotJob (multi-volume snapshots between before and after steps)',
        selects: props.instances.instanceIds ? `instances ${props.instances.instanceIds.join(', ')}` : `instances tagged ${planTags(props.instances.tags)}`,
        schedule: planSchedule(props.schedule),
        retention: planRetention(props.retain),
      }],
    }));

    const keys = BackupTagging.keys(this);
    this.artefactTags = BackupTagging.tagsFor(this, { purpose: props.purpose, retention: props.retain });
    this.executionTagKey = BackupTagging.key(this, 'execution');
    const artefactName = capture.kind === CaptureKind.IMAGES ? 'AMIs' : 'snapshots';
    BackupTagging.addArtefactSource(this, {
      artefactTagSets: () => [{ artefact: `${artefactName} of job '${props.purpose}'`, tags: this.artefactTags }],
    });
    // the snapshot lock compares its duration with this retention (count x the schedule's gap)
    registerScheduledRetention({
      construct: this,
      property: 'retain',
      purpose: props.purpose,
      retention: props.retain,
      schedule: props.schedule?.expressionString,
      // each artefact is tagged at creation with the execution id of the run (a drill checks it against this machine)
      creationRecord: () => ({
        managedBy: this.artefactTags[keys.managedBy],
        executionTagKey: this.executionTagKey,
        stateMachineArn: this.stateMachine.stateMachineArn,
        executionArns: Stack.of(this).formatArn({
          service: 'states', resource: 'execution', resourceName: `${this.stateMachine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      }),
    });

    // ---- the alarm topic: KMS-encrypted, TLS only ----------------------------------------------
    this.alarmTopic = props.alarmTopic ?? this.createTopic();

    // ---- handlers -------------------------------------------------------------------------------
    const resourceType = capture.kind === CaptureKind.IMAGES ? 'image' : 'snapshot';
    this.expiryFunction = this.handler('Expiry', 'orchestration/snapshot-expiry', `Expires old ${artefactName} of ${this.node.path}`, {
      RESOURCE_TYPE: resourceType,
      PURPOSE_TAG_KEY: keys.purpose,
      PURPOSE: props.purpose,
      MANAGED_BY_TAG_KEY: keys.managedBy,
      MANAGED_BY: this.artefactTags[keys.managedBy],
      EXECUTION_TAG_KEY: this.executionTagKey,
      ...(props.retain.maxCount !== undefined ? { RETAIN_COUNT: asString(props.retain.maxCount) } : {}),
      ...(props.retain.maxAge !== undefined ? { RETAIN_DAYS: asString(props.retain.maxAge.toDays()) } : {}),
      DRY_RUN: String(props.dryRun ?? false),
    });
    grantExpiry(this.expiryFunction.role as iam.Role, resourceType, this.artefactTags, [keys.purpose, keys.managedBy]);
    RetentionRoles.register(this, this.expiryFunction.role!,
      `expires the ${artefactName} of consistent snapshot job '${props.purpose}' (${this.node.path}) beyond its retention`);
    this.metricsFunction = this.handler('Metrics', 'orchestration/job-metrics', `Publishes run metrics of ${this.node.path}`, {
      METRIC_NAMESPACE: ConsistentSnapshotJob.METRIC_NAMESPACE,
      PURPOSE: props.purpose,
    });
    grantMetrics(this.metricsFunction.role as iam.Role, ConsistentSnapshotJob.METRIC_NAMESPACE);

    // ---- the state machine ----------------------------------------------------------------------
    const definition = buildWorkflow(new Construct(this, 'Definition'), {
      purpose: props.purpose,
      jobPath: this.node.path,
      instanceTags: props.instances.tags,
      instanceIds: props.instances.instanceIds,
      before,
      after,
      capture: (s) => capture._render({
        scope: s,
        purpose: props.purpose,
        tags: this.artefactTags,
        executionTagKey: this.executionTagKey,
        description: `${props.purpose}: consistent ${artefactName} by ${this.node.path}`.slice(0, 255),
      }),
      maxConcurrency: props.maxConcurrency ?? 40,
      completionTimeout: props.waitForCompletion ? props.completionTimeout ?? Duration.hours(6) : undefined,
      maxPauseWindow: props.maxPauseWindow,
      expiryFunction: this.expiryFunction,
      metricsFunction: this.metricsFunction,
      topic: this.alarmTopic,
    });
    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', { retention: logs.RetentionDays.ONE_YEAR });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment: `Consistent ${artefactName} of '${props.purpose}' with before/after steps (${this.node.path})`,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    trustOnlyStateMachine(this.stateMachine);
    this.grantChildExecutions();
    this.alarmTopic.grantPublish(this.stateMachine);
    // The expiry function counts only runs this machine's history records (a planted look-alike
    // set or a forged executionId expires nothing real). A policy of its own: the machine already
    // depends on the function, so the function's default policy cannot name the machine.
    new iam.Policy(this, 'ExpiryReadsOwnHistory', {
      statements: [new iam.PolicyStatement({
        sid: 'ListOwnExecutionsOnly',
        actions: ['states:ListExecutions'],
        resources: [this.stateMachine.stateMachineArn],
      })],
    }).attachToRole(this.expiryFunction.role!);
    guardStateMachine(this.stateMachine, props.instances.tags, keys.purpose);
    if (props.instances.tags && Object.keys(props.instances.tags).length > 0) {
      // Declare what the job protects, so EbsBackupChecks counts these instances as covered.
      BackupCoverage.declare(this.stateMachine.node.defaultChild as CfnResource, {
        resourceTypes: [CoverageResourceType.INSTANCE],
        tags: props.instances.tags,
      });
    }

    // ---- schedule and alarms --------------------------------------------------------------------
    if (props.schedule) {
      this.rule = new events.Rule(this, 'Schedule', {
        ruleName: scopedRuleName(this, 'Schedule'),
        description: `Runs consistent snapshot job '${props.purpose}'`.slice(0, 512),
        schedule: props.schedule,
        enabled: props.scheduleEnabled ?? true,
        targets: [new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({ trigger: 'schedule' }),
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        })],
      });
      trustOnlyRules(this.stateMachine);
    }
    this.failureAlarm = this.createFailureAlarm();
    if (props.schedule) {
      this.heartbeatAlarm = heartbeatAlarm(this, 'HeartbeatAlarm', {
        description: `Snapshot job '${props.purpose}' (${this.node.path}) had no successful run: its schedule is disabled, or every run failed`,
        metric: (p) => this.metricJobSucceeded(p),
        schedule: props.schedule.expressionString,
        scheduleProp: 'schedule',
        alarmActions: [new cw_actions.SnsAction(this.alarmTopic)],
      });
    }
    if (props.maxPauseWindow) {
      this.pauseWindowAlarm = failureAlarm(this, 'PauseWindowAlarm', {
        description: `The pause window of snapshot job '${props.purpose}' exceeded ${props.maxPauseWindow.toHumanString()}`,
        metric: this.metricPauseWindow({ statistic: 'Maximum', period: Duration.hours(1) }),
        threshold: props.maxPauseWindow.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        alarmAction: new cw_actions.SnsAction(this.alarmTopic),
      });
    }
    acknowledgeJob(this.stateMachine, [this.expiryFunction, this.metricsFunction],
      [logGroup, this.expiryFunction.logGroup, this.metricsFunction.logGroup]);
    // last: the rules name the resources created above
    this.changeAlarm = new ChangeDetection(this, 'ChangeDetection', {
      mechanism: `Snapshot job ${this.node.path}`,
      alarmActions: [new cw_actions.SnsAction(this.alarmTopic)],
    }).alarm;
  }

  /** The pause window: end of the last `before` step to start of the first `after` step (seconds). */
  public metricPauseWindow(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(PAUSE_WINDOW, { statistic: 'Maximum', unit: cloudwatch.Unit.SECONDS, ...props });
  }

  /** 1 per successful run. */
  public metricJobSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('JobSucceeded', { statistic: 'Sum', ...props });
  }

  /** 1 per failed run (that got as far as reporting; `failureAlarm` also counts the rest). */
  public metricJobFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('JobFailed', { statistic: 'Sum', ...props });
  }

  /** Snapshots or AMIs created per successful run. */
  public metricArtefactsCreated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ArtefactsCreated', { statistic: 'Sum', ...props });
  }

  /** A custom metric of the job. */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: ConsistentSnapshotJob.METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { Purpose: this.purpose },
      period: Duration.days(1),
      ...props,
    });
  }

  private validate(props: ConsistentSnapshotJobProps, before: SnapshotStep[], after: SnapshotStep[]): void {
    const { tags, instanceIds } = props.instances ?? {};
    check((tags === undefined) !== (instanceIds === undefined), this, 'instances',
      'must give exactly one of tags and instanceIds', props.instances);
    if (tags !== undefined) {
      check(Token.isUnresolved(tags) || Object.keys(tags).length >= 1, this, 'instances.tags', 'must have at least one tag', tags);
      checkTags(this, 'instances.tags', tags, 50);
    }
    if (instanceIds !== undefined) {
      checkCount(this, 'instances.instanceIds', instanceIds, 1, 1000);
      for (const [i, iid] of (Token.isUnresolved(instanceIds) ? [] : instanceIds).entries()) {
        checkPattern(this, `instances.instanceIds[${i}]`, iid, /^i-[0-9a-f]{8}([0-9a-f]{9})?$/, 'an instance id such as i-0123456789abcdef0');
      }
    }
    checkCount(this, 'before', before, 0, 20);
    checkCount(this, 'after', after, 0, 20);
    checkInteger(this, 'maxConcurrency', props.maxConcurrency, 1, 40);
    if (props.completionTimeout !== undefined && !props.waitForCompletion) {
      fail(this, 'completionTimeout', 'has no effect without waitForCompletion: true', props.completionTimeout);
    }
    checkDuration(this, 'completionTimeout', props.completionTimeout, Duration.minutes(1), Duration.days(7));
    checkDuration(this, 'maxPauseWindow', props.maxPauseWindow, Duration.seconds(1), Duration.days(1));
    if (props.retain === undefined) {
      fail(this, 'retain', 'is required: no DLM policy expires these snapshots, so the job does', undefined,
        'pass retain: Retention.count(n) or Retention.age(Duration.days(n))');
    }
    reportFactoryProblems(this, 'retain', props.retain);
    const rate = /^rate\((\d+) minutes?\)$/.exec(props.schedule?.expressionString ?? '');
    if (rate && Number(rate[1]) < 60) {
      warn(this, 'orchestration:frequent-snapshots',
        `${this.node.path}: schedule runs every ${rate[1]} minutes; each run quiesces the application, and snapshots of one volume are taken at most every few minutes`);
    }
  }

  /**
   * With a distributed Map (AMIs with a stop), the CDK's policy lets the machine start itself and
   * describe and stop its own executions (`execution:<name>:*`); the child executions are
   * `execution:<name>/<map run label>:<id>`, which Step Functions describes and stops with the
   * machine's role (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html).
   * Granted on this machine's capture map run only.
   */
  private grantChildExecutions(): void {
    const policy = this.stateMachine.node.tryFindChild('DistributedMapPolicy') as iam.Policy | undefined;
    if (!policy) {
      return;
    }
    policy.addStatements(new iam.PolicyStatement({
      sid: 'DescribeAndStopOwnChildExecutions',
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resources: [Stack.of(this).formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${this.stateMachine.stateMachineName}/${CAPTURE_MAP_RUN_LABEL}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
    }));
    acknowledgeWildcards(policy,
      'a distributed Map\'s child executions are named by Step Functions at run time: their ARNs are this state machine\'s ' +
      'own executions (execution:<its name>:* and execution:<its name>/Capture:*), never another machine\'s', policy.document);
  }

  private createTopic(): sns.Topic {
    const key = new kms.Key(this, 'TopicKey', {
      description: `Encrypts the alarm topic of snapshot job ${this.node.path}`.slice(0, 8192),
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to an encrypted topic only if the key lets them; only for this account's alarms
    key.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    // only AWS services acting for a resource may create grants on the key (Control Tower CT.KMS.PR.3)
    key.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['kms:CreateGrant'],
      principals: [new iam.AnyPrincipal()],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }));
    return new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true, displayName: `Snapshot job ${this.purposeForDisplay()}` });
  }

  private createFailureAlarm(): cloudwatch.Alarm {
    const usingMetrics: Record<string, cloudwatch.IMetric> = {
      failed: this.stateMachine.metricFailed({ statistic: 'Sum' }),
      timedOut: this.stateMachine.metricTimedOut({ statistic: 'Sum' }),
      aborted: this.stateMachine.metricAborted({ statistic: 'Sum' }),
    };
    let expression = 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)';
    if (this.rule) {
      usingMetrics.notStarted = new cloudwatch.Metric({
        namespace: 'AWS/Events', metricName: 'FailedInvocations', dimensionsMap: { RuleName: this.rule.ruleName }, statistic: 'Sum',
      });
      expression += ' + FILL(notStarted, 0)';
    }
    return failureAlarm(this, 'FailureAlarm', {
      description: `Snapshot job '${this.purpose}' (${this.node.path}) failed, timed out, was aborted, or could not be started`,
      metric: new cloudwatch.MathExpression({ expression, usingMetrics, period: Duration.hours(1), label: 'failed runs' }),
      alarmAction: new cw_actions.SnsAction(this.alarmTopic),
    });
  }

  private handler(id: string, asset: string, description: string, environment: Record<string, string>): lambda.Function {
    // invoked synchronously by the state machine: its Catch and FailureAlarm see a failure, no DLQ
    return createJobFunction(this, {
      idPrefix: id,
      handler: asset,
      description,
      timeout: Duration.minutes(5),
      environment,
      reservedConcurrentExecutions: this.reservedConcurrentExecutions,
    }).function;
  }

  private purposeForDisplay(): string {
    return this.purpose.replace(/[^A-Za-z0-9 _-]/g, '-').slice(0, 80);
  }
}

function asString(n: number): string {
  return Token.isUnresolved(n) ? Token.asString(n) : String(n);
}
