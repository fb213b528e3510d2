import { App, Fn, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GUARD_ACKNOWLEDGED_METADATA_KEY } from '../../src/core/acknowledge';
import { heartbeatAlarm, heartbeatWindow } from '../../src/core/heartbeat';
import { isMachinery } from '../../src/core/machinery';
import { Datapoint, firings, inAlarm, RenderedAlarm } from '../support/alarm-evaluation';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2025, 0, 6); // a Monday

/** The alarm the library renders for `schedule`, as CloudFormation receives it. */
function render(schedule: string | number | undefined, options: { description?: string; alarmActions?: cloudwatch.IAlarmAction[] } = {}):
{ alarm: RenderedAlarm & Record<string, any>; stack: Stack; construct: cloudwatch.Alarm } {
  const stack = new Stack(new App(), 'Stack');
  const construct = heartbeatAlarm(stack, 'Heartbeat', {
    description: options.description ?? 'test mechanism is silent',
    metric: (props) => new cloudwatch.Metric({ namespace: 'Test', metricName: 'Done', statistic: 'Sum', ...props }),
    schedule,
    scheduleProp: 'schedule',
    alarmActions: options.alarmActions,
  });
  const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
  return { alarm: Object.values<any>(alarms)[0].Properties, stack, construct };
}

/** The synthesis information messages on the stack. */
function infos(stack: Stack): string[] {
  return Annotations.fromStack(stack).findInfo('*', Match.anyValue()).map((m) => String(m.entry.data));
}

/** One success per firing, published `delay` after it. */
function successes(schedule: string, from: number, to: number, delay = 20 * 60_000): Datapoint[] {
  return firings(schedule, from, to).map((t) => ({ at: t + delay, value: 1 }));
}

/** Alarm states every 10 minutes over [from, to). */
function alarmTimes(alarm: RenderedAlarm, points: Datapoint[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += 10 * 60_000) {
    if (inAlarm(alarm, points, t)) {
      out.push(t);
    }
  }
  return out;
}

describe('heartbeatWindow', () => {
  // PutMetricAlarm: Period x EvaluationPeriods <= 604,800 s; under one hour periods, <= 86,400 s
  test.each<[string, number | undefined, number, number, boolean]>([
    ['every 30 minutes', 0.5 * HOUR, 2700, 1, false],
    ['hourly', HOUR, 5400, 1, false],
    ['daily', DAY, 64_800, 2, false],
    ['weekdays (3-day weekend gap)', 3 * DAY, 77_760, 5, false],
    ['weekly: capped at 7 days', 7 * DAY, 86_400, 7, true],
    ['unknown (token): 7 days', undefined, 86_400, 7, false],
  ])('%s', (_name, interval, period, periods, capped) => {
    const w = heartbeatWindow(interval);
    expect([w.periodSeconds, w.evaluationPeriods, w.capped]).toEqual([period, periods, capped]);
    expect(w.windowSeconds).toBeLessThanOrEqual(7 * 86_400);
    expect(w.periodSeconds % 60).toBe(0);
    expect(w.periodSeconds <= 86_400).toBe(true);
    if (w.periodSeconds < 3600) {
      expect(w.windowSeconds).toBeLessThanOrEqual(86_400);
    }
    if (interval !== undefined && !capped) {
      expect(w.windowSeconds).toBeGreaterThanOrEqual(1.5 * interval / 1000);
    }
  });
});

describe('a heartbeat alarm, evaluated as CloudWatch does', () => {
  test.each<[string, number]>([
    ['rate(1 hour)', HOUR],
    ['rate(12 hours)', 12 * HOUR],
    ['rate(30 minutes)', 0.5 * HOUR],
    ['cron(0 4 * * ? *)', DAY],
    ['cron(30 2 ? * MON-FRI *)', 3 * DAY],
  ])('%s: never alarms while the schedule succeeds; alarms within 1.5 x its gap once silent, never before a run was due', (schedule, gap) => {
    const { alarm } = render(schedule);
    expect(alarm.TreatMissingData).toBe('breaching');
    const healthy = successes(schedule, START, START + 40 * DAY);
    // after a week of history, a healthy mechanism never alarms
    expect(alarmTimes(alarm, healthy, START + 8 * DAY, START + 40 * DAY)).toEqual([]);

    // silent from day 20: the last success is the last one before it
    const stopped = healthy.filter((p) => p.at < START + 20 * DAY);
    const last = stopped[stopped.length - 1].at;
    const alarms = alarmTimes(alarm, stopped, last, START + 40 * DAY);
    expect(alarms.length).toBeGreaterThan(0);
    const delay = alarms[0] - last;
    expect(delay).toBeGreaterThan(gap); // never before the next run was even due
    expect(delay).toBeLessThanOrEqual(1.5 * gap + alarm.Period * 1000 + 10 * 60_000);
    // and it stays in alarm while silent
    expect(alarms[alarms.length - 1]).toBeGreaterThan(START + 39 * DAY);
  });

  test('a disabled mechanism (no datapoints at all) is in alarm', () => {
    const { alarm } = render('cron(0 4 * * ? *)');
    expect(inAlarm(alarm, [], START + 10 * DAY)).toBe(true);
  });

  test('a mechanism that runs but creates nothing (zeros published) is in alarm', () => {
    const { alarm } = render('rate(1 hour)');
    const zeros = firings('rate(1 hour)', START, START + 5 * DAY).map((at) => ({ at, value: 0 }));
    expect(inAlarm(alarm, zeros, START + 4 * DAY)).toBe(true);
  });

  test('a weekly schedule is capped at 7 days, and says so (synth information and the alarm description)', () => {
    const { alarm, stack } = render('cron(0 3 ? * SAT *)');
    expect(alarm.Period * alarm.EvaluationPeriods).toBe(7 * 86_400);
    Annotations.fromStack(stack).hasInfo('/Stack', Match.stringLikeRegexp('beyond CloudWatch.s 7-day alarm window'));
  });

  test('a planted bug is caught: missing data not breaching lets a disabled mechanism stay silent', () => {
    const { alarm } = render('cron(0 4 * * ? *)');
    expect(inAlarm({ ...alarm, TreatMissingData: 'notBreaching' }, [], START + 10 * DAY)).toBe(false);
  });
});

describe('what the alarm says, to the person it pages and at synthesis', () => {
  // PutMetricAlarm: AlarmDescription is 0-1024 characters
  test.each<[string, string | number, string]>([
    ['every 7 minutes: 10.5 minutes rounded up to whole minutes, in hours to two places', 'rate(7 minutes)', '0.18 hours'],
    ['every 40 minutes: one hour, singular', 'rate(40 minutes)', '1 hour'],
    ['every 16 hours: one day is under two days, so in hours', 'rate(16 hours)', '24 hours'],
    ['daily: 36 hours', 'cron(0 4 * * ? *)', '36 hours'],
    ['every 32 hours: two whole days', 'rate(32 hours)', '2 days'],
    ['weekdays: the 3-day weekend gap, 108 hours', 'cron(30 2 ? * MON-FRI *)', '108 hours'],
    ['an interval given in milliseconds (a DLM policy\'s shortest schedule): 6 hours', 6 * 3_600_000, '9 hours'],
  ])('%s', (_name, schedule, within) => {
    const { alarm, stack } = render(schedule);
    expect(alarm.AlarmDescription).toBe(`test mechanism is silent (no success within ${within})`);
    expect(infos(stack)).toEqual([]);
  });

  test('a schedule longer than CloudWatch\'s 7-day window: 7 days, and both the description and the synthesis say it also fires between such runs', () => {
    const { alarm, stack } = render('cron(0 3 ? * SAT *)');
    expect(alarm.AlarmDescription).toBe('test mechanism is silent (no success within 7 days; the schedule runs up to 7 days apart, longer than '
      + "CloudWatch's 7-day alarm window, so this alarm also fires between runs more than 7 days apart)");
    expect(infos(stack)).toEqual(["schedule runs up to 7 days apart; 1.5 times that (252 hours) is beyond CloudWatch's 7-day alarm window, "
      + 'so Heartbeat uses 7 days and is in alarm between runs spaced more than 7 days apart: route it accordingly, or run at least every 4 days 16 hours']);
  });

  test.each<[string, string | undefined]>([
    ['a schedule given as a token', Fn.importValue('Schedule')],
    ['no schedule (runs started on demand)', undefined],
    ['a one-off at() schedule', 'at(2026-01-01T00:00:00)'],
  ])('%s: the longest window CloudWatch allows, 7 days, and the synthesis says why', (_name, schedule) => {
    const { alarm, stack } = render(schedule);
    expect([alarm.Period, alarm.EvaluationPeriods]).toEqual([86_400, 7]);
    expect(alarm.AlarmDescription).toBe('test mechanism is silent (no success within 7 days)');
    expect(infos(stack)).toEqual(['schedule is a token or fires once, so the heartbeat cannot follow its interval: '
      + "Heartbeat alarms after 7 days without a success, CloudWatch's longest window"]);
  });

  test('a long description is cut to CloudWatch\'s 1,024 characters', () => {
    expect(render('rate(1 hour)', { description: 'd'.repeat(1100) }).alarm.AlarmDescription).toBe('d'.repeat(1024));
  });

  test('routed to the actions given, or acknowledged for cfn-guard as exposed for the team; machinery either way', () => {
    const pager: cloudwatch.IAlarmAction = { bind: () => ({ alarmActionArn: 'arn:aws:sns:eu-west-1:111111111111:pager' }) };
    const routed = render('rate(1 hour)', { alarmActions: [pager] });
    const unrouted = render('rate(1 hour)');
    const acks = (a: cloudwatch.Alarm) => a.node.metadata.filter((m) => m.type === GUARD_ACKNOWLEDGED_METADATA_KEY).map((m) => m.data);
    expect([routed.alarm.AlarmActions, acks(routed.construct)]).toEqual([['arn:aws:sns:eu-west-1:111111111111:pager'], []]);
    expect([unrouted.alarm.AlarmActions, acks(unrouted.construct)])
      .toEqual([undefined, [{ cloudwatch_alarm_action_check: 'no alarm action was given: the heartbeat alarm is exposed for the team to route' }]]);
    // the write-once guard's machinery deny covers it: nobody silences the heartbeat quietly
    expect([isMachinery(routed.construct), isMachinery(unrouted.construct)]).toEqual([true, true]);
  });
});
