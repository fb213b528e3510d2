import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { acknowledge, guard } from './acknowledge';
import { protectAsMachinery } from './machinery';

/** What a failure alarm watches and whom it tells. Internal: not part of the jsii API. */
export interface FailureAlarmOptions {
  /** What went wrong when the alarm fires, for the person it pages. Truncated to 1024 characters. */
  readonly description: string;
  /** Counts failures; any datapoint at or above `threshold` is a failure. */
  readonly metric: cloudwatch.IMetric;
  /** @default 1 */
  readonly threshold?: number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  /**
   * What the alarm does. Without one, the missing action is acknowledged for cfn-guard with the
   * reason (`noActionReason`), because the alarm is exposed for the team to route.
   *
   * @default - no action
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /** @default 'no alarm action was given: the alarm is exposed as `alarm` for the team to route (or pass alarmAction)' */
  readonly noActionReason?: string;
  /**
   * Skip the cfn-guard acknowledgement when no action is given (the caller adds its own action later).
   *
   * @default false
   */
  readonly actionAddedLater?: boolean;
}

/**
 * The one failure alarm of the library: one evaluation period, any failure alarms, missing data
 * is not a failure (a job that did not run has nothing to report; its own alarms cover "did not
 * start").
 */
export function failureAlarm(scope: Construct, id: string, options: FailureAlarmOptions): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: options.description.slice(0, 1024),
    metric: options.metric,
    threshold: options.threshold ?? 1,
    evaluationPeriods: 1,
    comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  protectAsMachinery(alarm);
  if (options.alarmAction) {
    alarm.addAlarmAction(options.alarmAction);
  } else if (!options.actionAddedLater) {
    acknowledge(alarm, guard('cloudwatch_alarm_action_check', options.noActionReason
      ?? 'no alarm action was given: the alarm is exposed as `alarm` for the team to route (or pass alarmAction)'));
  }
  return alarm;
}
