import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { acknowledge, guard } from './acknowledge';

/** Why an alarm without actions is accepted: the construct exposes it. */
export const UNROUTED_ALARM_REASON = 'no alarm action was given: the alarm is exposed for the team to route';

/**
 * Route `alarm` to the mechanism's alarm actions; without any, acknowledge cfn-guard's
 * `cloudwatch_alarm_action_check` on the alarm alone, for `noActionReason`: the construct exposes
 * the alarm for the team to route. The one routing of the heartbeat and change-detection alarms.
 */
export function routeAlarm(alarm: cloudwatch.Alarm, actions: cloudwatch.IAlarmAction[] | undefined, noActionReason?: string): void {
  for (const action of actions ?? []) {
    alarm.addAlarmAction(action);
  }
  if ((actions ?? []).length === 0) {
    acknowledge(alarm, guard('cloudwatch_alarm_action_check', noActionReason ?? UNROUTED_ALARM_REASON));
  }
}
