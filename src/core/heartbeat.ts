import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { routeAlarm } from './alarm-routing';
import { parseSchedule, ScheduleProblem } from './cron';
import { protectAsMachinery } from './machinery';
import { quantity } from './quantity';

/** A mechanism is silent when nothing succeeded within this many of its intervals. */
export const HEARTBEAT_FACTOR = 1.5;

// PutMetricAlarm: "An alarm's total current evaluation period can be no longer than seven days, so
// Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a
// period of less than one hour (3,600 seconds), the total evaluation period can't be longer than
// one day." Periods are kept at one day or less, so the window is split into whole periods.
const MAX_WINDOW_SECONDS = 7 * 86_400;
const MAX_PERIOD_SECONDS = 86_400;

/**
 * The longest time between two firings of an EventBridge schedule expression (`rate(...)` or
 * `cron(...)`, UTC), in milliseconds: the heartbeat must tolerate the longest regular gap (a
 * weekdays-only cron is quiet over the weekend). `undefined` for a token or an expression that
 * fires once (`at(...)`).
 */
export function scheduleIntervalMs(expression: string): number | undefined {
  if (Token.isUnresolved(expression)) {
    return undefined;
  }
  const parsed = parseSchedule(expression);
  if (parsed instanceof ScheduleProblem) {
    return undefined;
  }
  return parsed.kind === 'rate' ? parsed.hours * 3_600_000 : parsed.maxGapMs;
}

/** How a heartbeat alarm looks back: `evaluationPeriods` periods of `periodSeconds`. */
export interface HeartbeatWindow {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** The window CloudWatch evaluates (`periodSeconds * evaluationPeriods`). */
  readonly windowSeconds: number;
  /** What 1.5 × the interval asked for, before the 7-day cap. */
  readonly wantedSeconds: number;
  /** Whether CloudWatch's 7-day limit shortened the window below 1.5 × the interval. */
  readonly capped: boolean;
}

/**
 * The evaluation window of a heartbeat for a mechanism that succeeds every `intervalMs`:
 * 1.5 × the interval, in whole minutes, split into periods of at most one day, capped at
 * CloudWatch's 7 days.
 */
export function heartbeatWindow(intervalMs: number | undefined): HeartbeatWindow {
  const wantedSeconds = intervalMs === undefined
    ? MAX_WINDOW_SECONDS
    : Math.ceil((intervalMs * HEARTBEAT_FACTOR) / 60_000) * 60;
  const total = Math.min(wantedSeconds, MAX_WINDOW_SECONDS);
  const evaluationPeriods = Math.ceil(total / MAX_PERIOD_SECONDS);
  const periodSeconds = Math.ceil(total / evaluationPeriods / 60) * 60;
  return {
    periodSeconds,
    evaluationPeriods,
    windowSeconds: periodSeconds * evaluationPeriods,
    wantedSeconds,
    capped: wantedSeconds > MAX_WINDOW_SECONDS,
  };
}

/** What a heartbeat alarm watches. Internal: not part of the jsii API. */
export interface HeartbeatAlarmOptions {
  /** What is silent when the alarm fires, for the person it pages. */
  readonly description: string;
  /**
   * A count of successes (snapshots, recovery points, successful runs), as the family's
   * `metric*()` method returns it for the given period.
   */
  readonly metric: (props: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** The schedule expression the mechanism runs on (rate or cron), or its interval in ms. */
  readonly schedule: string | number | undefined;
  /** @default - none: the alarm is acknowledged for cfn-guard and exposed for the team to route */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /** The prop the schedule comes from, for the warnings. */
  readonly scheduleProp: string;
}

/**
 * The one heartbeat alarm of the library: no success within 1.5 × the schedule's interval is
 * an alarm, and missing data is breaching (a disabled policy, window, rule or job publishes
 * nothing at all, which is exactly the silence to catch). Every period of the window must be
 * empty (or zero) to alarm, so the alarm fires only when the whole window saw no success.
 */
export function heartbeatAlarm(scope: Construct, id: string, options: HeartbeatAlarmOptions): cloudwatch.Alarm {
  const intervalMs = typeof options.schedule === 'number' ? options.schedule : options.schedule === undefined ? undefined : scheduleIntervalMs(options.schedule);
  const window = heartbeatWindow(intervalMs);
  // Information, not a warning: nothing is wrong with the user's choice, the alarm is what
  // CloudWatch can express, and the description of the alarm says the same to whoever it pages.
  if (intervalMs === undefined) {
    Annotations.of(scope).addInfo(
      `${options.scheduleProp} is a token or fires once, so the heartbeat cannot follow its interval: ${id} alarms after 7 days without a success, CloudWatch's longest window`);
  } else if (window.capped) {
    Annotations.of(scope).addInfo(
      `${options.scheduleProp} runs up to ${hoursText(intervalMs / 1000)} apart; 1.5 times that (${hoursText(window.wantedSeconds)}) is beyond CloudWatch's 7-day alarm window, so ${id} uses 7 days and is in alarm between runs spaced more than 7 days apart: route it accordingly, or run at least every 4 days 16 hours`);
  }
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: `${options.description} (no success within ${hoursText(window.windowSeconds)}${window.capped
      ? `; the schedule runs up to ${hoursText(intervalMs! / 1000)} apart, longer than CloudWatch's 7-day alarm window, so this alarm also fires between runs more than 7 days apart` : ''})`.slice(0, 1024),
    metric: options.metric({ period: Duration.seconds(window.periodSeconds) }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: window.evaluationPeriods,
    datapointsToAlarm: window.evaluationPeriods,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
  protectAsMachinery(alarm);
  routeAlarm(alarm, options.alarmActions, 'no alarm action was given: the heartbeat alarm is exposed for the team to route');
  return alarm;
}

function hoursText(seconds: number): string {
  const hours = seconds / 3600;
  return hours >= 48 && hours % 24 === 0 ? quantity(hours / 24, 'day') : quantity(Math.round(hours * 100) / 100, 'hour');
}
