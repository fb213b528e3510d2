import { Arn, ArnFormat, Duration, IResource, Resource, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { executionRoleFor } from './grants';
import { ChangeDetection } from '../core/change-detection';
import { heartbeatAlarm, scheduleIntervalMs } from '../core/heartbeat';
import { fail } from '../core/validation';

/**
 * A Data Lifecycle Manager lifecycle policy.
 */
export interface IDlmPolicy extends IResource {
  /**
   * The policy's id, such as `policy-0123456789abcdef0`.
   *
   * @attribute
   */
  readonly policyId: string;

  /**
   * The policy's ARN.
   *
   * @attribute
   */
  readonly policyArn: string;
}

/**
 * Options every DLM policy of this library takes.
 */
export interface DlmPolicyOptions {
  /**
   * The policy description shown in the console (at most 500 of `0-9 A-Z a-z _ -` and space).
   *
   * @default - derived from the purpose and the construct path
   */
  readonly description?: string;

  /**
   * Whether the policy runs. A disabled policy neither creates nor deletes anything.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * The role DLM assumes. The construct adds the permissions the policy needs to it (unless it
   * was imported as immutable) and registers it as a role that expires backups.
   *
   * @default - the stack's shared `DlmExecutionRole`
   */
  readonly executionRole?: iam.IRole;

  /**
   * Where the policy's alarms notify (the heartbeat: no snapshot or AMI within 1.5 times the
   * schedule's interval, which is also what a disabled or deleted policy looks like).
   *
   * Also where a change to the policy alarms (`changeAlarm`: an update, a disable or a delete
   * of the policy, from CloudTrail).
   *
   * @default - no actions; route `heartbeatAlarm` and `changeAlarm` yourself
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

/**
 * What every lifecycle policy construct of this library has.
 */
export abstract class DlmPolicyBase extends Resource implements IDlmPolicy {
  /**
   * Import an existing policy by its id.
   */
  public static fromPolicyId(scope: Construct, id: string, policyId: string): IDlmPolicy {
    if (!Token.isUnresolved(policyId) && !/^policy-[A-Za-z0-9]+$/.test(policyId)) {
      fail(scope, `${id} policyId`, 'must be a DLM policy id such as policy-0123456789abcdef0', policyId);
    }
    class Import extends Resource implements IDlmPolicy {
      public readonly policyId = policyId;
      public readonly policyArn = Stack.of(scope).formatArn({ service: 'dlm', resource: 'policy', resourceName: policyId });
    }
    return new Import(scope, id);
  }

  /**
   * Import an existing policy by its ARN (`arn:aws:dlm:<region>:<account>:policy/<id>`).
   */
  public static fromPolicyArn(scope: Construct, id: string, policyArn: string): IDlmPolicy {
    let policyId: string;
    if (Token.isUnresolved(policyArn)) {
      policyId = Arn.split(policyArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName!;
    } else {
      const match = /^arn:[\w-]+:dlm:[a-z0-9-]+:\d{12}:policy\/(policy-[A-Za-z0-9]+)$/.exec(policyArn);
      if (!match) {
        fail(scope, `${id} policyArn`, 'must be a DLM policy ARN such as arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0', policyArn);
      }
      policyId = match[1];
    }
    class Import extends Resource implements IDlmPolicy {
      public readonly policyId = policyId;
      public readonly policyArn = policyArn;
    }
    return new Import(scope, id);
  }

  /** The role DLM assumes to run this policy. */
  public readonly executionRole: iam.IRole;

  /** The L1 resource, for escape hatches. */
  public abstract readonly resource: dlm.CfnLifecyclePolicy;

  /**
   * @param options the options every DLM policy takes; its `executionRole` (or the stack's shared
   *   one) becomes `executionRole`
   */
  protected constructor(scope: Construct, id: string, options: DlmPolicyOptions) {
    super(scope, id);
    this.executionRole = executionRoleFor(this, options.executionRole);
  }

  /** The policy's id, such as `policy-0123456789abcdef0`. */
  public get policyId(): string {
    // Ref is the policy id in every aws-cdk-lib (attrId was renamed attrPolicyId after 2.262)
    return this.resource.ref;
  }

  /** The policy's ARN. */
  public get policyArn(): string {
    return this.resource.attrArn;
  }

  /**
   * A metric DLM publishes for this policy ("Monitor your policies using Amazon CloudWatch":
   * namespace `AWS/EBS`, dimension `DLMPolicyId`, unit count). Sum over 1 hour by default, as
   * that page's alarms are written: a policy runs at most hourly, so CloudWatch's 5-minute default
   * would graph and alarm on mostly empty periods.
   *
   * @param props options for the metric; `period` defaults to `Duration.hours(1)` and `statistic`
   *   to `Sum`
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/EBS',
      metricName,
      dimensionsMap: { DLMPolicyId: this.policyId },
      statistic: cloudwatch.Stats.SUM,
      ...props,
      period: props?.period ?? Duration.hours(1),
    });
  }

  /** Resources the policy's target tags matched each time it ran. */
  public metricResourcesTargeted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ResourcesTargeted', props);
  }

  /** Snapshot create actions the policy started (each once, whatever its retries). */
  public metricSnapshotsCreateStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsCreateStarted', props);
  }

  /** Snapshots the policy created (including successful retries within 60 minutes). */
  public metricSnapshotsCreateCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsCreateCompleted', props);
  }

  /** Snapshots the policy could not create. */
  public metricSnapshotsCreateFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsCreateFailed', props);
  }

  /** Snapshots the policy deleted by its retention rule. */
  public metricSnapshotsDeleteCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsDeleteCompleted', props);
  }

  /** Snapshots the policy could not delete (storage keeps being billed). */
  public metricSnapshotsDeleteFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsDeleteFailed', props);
  }

  /** Cross-region snapshot copies the policy created (including retries within 24 hours). */
  public metricSnapshotsCopiedRegionCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsCopiedRegionCompleted', props);
  }

  /** Cross-region snapshot copies the policy could not create. */
  public metricSnapshotsCopiedRegionFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsCopiedRegionFailed', props);
  }

  /** AMIs the policy created (AMI policies). */
  public metricImagesCreateCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ImagesCreateCompleted', props);
  }

  /** AMIs the policy could not create (AMI policies). */
  public metricImagesCreateFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ImagesCreateFailed', props);
  }

  /** Snapshots shared into this account that the policy copied (cross-account copy policies). */
  public metricSnapshotsCopiedAccountCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsCopiedAccountCompleted', props);
  }

  /** Shared snapshots the policy could not copy (cross-account copy policies). */
  public metricSnapshotsCopiedAccountFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SnapshotsCopiedAccountFailed', props);
  }

  /**
   * Change detection of the policy: a CloudTrail management event that updates, disables or
   * deletes it matches a rule, and the rule's matches alarm to `alarmActions`.
   */
  protected detectChanges(alarmActions?: cloudwatch.IAlarmAction[]): cloudwatch.Alarm | undefined {
    return new ChangeDetection(this, 'ChangeDetection', {
      mechanism: `DLM policy ${this.node.path}`,
      alarmActions,
      noActionReason: 'no alarmActions were given: changeAlarm is exposed for the team to route',
    }).alarm;
  }

  /**
   * The heartbeat: in alarm when the policy created nothing within 1.5 times its schedule's
   * longest interval, missing data breaching, so a disabled policy, a role DLM can no longer
   * assume or targets that lost their tags all alarm.
   *
   * @param what the artefact the schedules create
   * @param schedules the schedule expressions (the shortest interval counts: any schedule's
   *   snapshots prove the policy runs), or an interval in milliseconds
   */
  protected createHeartbeatAlarm(
    what: 'snapshots' | 'images', schedules: Array<string | number>, alarmActions?: cloudwatch.IAlarmAction[],
  ): cloudwatch.Alarm {
    const intervals = schedules.map((s) => typeof s === 'number' ? s : scheduleIntervalMs(s));
    const known = intervals.filter((i): i is number => i !== undefined);
    return heartbeatAlarm(this, 'HeartbeatAlarm', {
      description: `DLM policy ${this.node.path} created no ${what}: disabled, failing, or its targets lost their tags`,
      metric: (props) => what === 'images' ? this.metricImagesCreateCompleted(props) : this.metricSnapshotsCreateCompleted(props),
      schedule: known.length === intervals.length && known.length > 0 ? Math.min(...known) : undefined,
      scheduleProp: 'schedules',
      alarmActions,
    });
  }
}
