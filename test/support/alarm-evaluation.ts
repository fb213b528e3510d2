/**
 * A model of how CloudWatch evaluates a metric alarm, from the CloudWatch User Guide ("Using
 * Amazon CloudWatch alarms": "Evaluating an alarm" and "Configuring how CloudWatch alarms treat
 * missing data"), and an enumerator of the firing times of EventBridge schedule expressions
 * ("Schedule types on EventBridge Scheduler": cron and rate expressions, UTC), written here
 * independently of the library's own schedule arithmetic.
 *
 * Evaluation: the alarm looks at the last `EvaluationPeriods` whole periods before the evaluation
 * time; each period's value is the statistic over the datapoints published in it, or missing.
 * A missing period counts as breaching under `breaching`, as good under `notBreaching`, and is
 * skipped under `ignore`/`missing`. The alarm is in ALARM when at least `DatapointsToAlarm`
 * (default `EvaluationPeriods`) periods breach.
 */

/** A datapoint: when it was published (ms since epoch) and its value. */
export interface Datapoint {
  readonly at: number;
  readonly value: number;
}

/** The rendered properties of an AWS::CloudWatch::Alarm on one metric. */
export interface RenderedAlarm {
  readonly Period: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly TreatMissingData?: string;
  readonly Statistic: string;
}

const COMPARE: Record<string, (v: number, t: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

function aggregate(statistic: string, values: number[]): number {
  switch (statistic) {
    case 'Sum': return values.reduce((a, b) => a + b, 0);
    case 'Maximum': return Math.max(...values);
    case 'Minimum': return Math.min(...values);
    case 'Average': return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount': return values.length;
    default: throw new Error(`statistic ${statistic} is not modelled`);
  }
}

/** Whether `alarm` is in ALARM at time `now` (ms), given every datapoint of its metric. */
export function inAlarm(alarm: RenderedAlarm, datapoints: readonly Datapoint[], now: number): boolean {
  const periodMs = alarm.Period * 1000;
  const end = Math.floor(now / periodMs) * periodMs; // the last whole period ends here
  const compare = COMPARE[alarm.ComparisonOperator];
  if (!compare) {
    throw new Error(`comparison ${alarm.ComparisonOperator} is not modelled`);
  }
  let breaching = 0;
  for (let i = 1; i <= alarm.EvaluationPeriods; i++) {
    const from = end - i * periodMs;
    const values = datapoints.filter((d) => d.at >= from && d.at < from + periodMs).map((d) => d.value);
    if (values.length === 0) {
      if ((alarm.TreatMissingData ?? 'missing') === 'breaching') {
        breaching++;
      }
      continue;
    }
    if (compare(aggregate(alarm.Statistic, values), alarm.Threshold)) {
      breaching++;
    }
  }
  return breaching >= (alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods);
}

const MINUTE = 60_000;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function matcher(field: string, names: string[] = [], base = 0): (n: number) => boolean {
  if (field === '*' || field === '?') {
    return () => true;
  }
  const value = (t: string) => (names.includes(t.toUpperCase()) ? names.indexOf(t.toUpperCase()) + base : Number(t));
  const parts = field.split(',').map((part) => {
    const [range, step] = part.split('/');
    const [lo, hi] = range === '*' ? [-Infinity, Infinity] : range.includes('-') ? range.split('-').map(value) : [value(range), step ? Infinity : value(range)];
    return (n: number) => n >= lo && n <= hi && (step === undefined || (n - (lo === -Infinity ? 0 : lo)) % Number(step) === 0);
  });
  return (n) => parts.some((p) => p(n));
}

/**
 * Every firing of `expression` (EventBridge `cron(min hour dom month dow year)` or
 * `rate(n unit)`, UTC) in [from, to). A rate starts at `from`. Only the cron forms the library's
 * examples use are modelled (lists, ranges, steps, names; not L, W or #).
 */
export function firings(expression: string, from: number, to: number): number[] {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) {
    const step = Number(rate[1]) * { minute: MINUTE, hour: 60 * MINUTE, day: 1440 * MINUTE }[rate[2] as 'minute' | 'hour' | 'day'];
    const out: number[] = [];
    for (let t = from; t < to; t += step) {
      out.push(t);
    }
    return out;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) {
    throw new Error(`not a schedule expression: ${expression}`);
  }
  const [min, hour, dom, month, dow, year] = cron[1].trim().split(/\s+/);
  if (/[LW#]/.test(dom + dow)) {
    throw new Error(`cron feature not modelled: ${expression}`);
  }
  const m = {
    min: matcher(min),
    hour: matcher(hour),
    dom: matcher(dom),
    month: matcher(month, MONTHS, 1),
    dow: matcher(dow, DAYS, 1),
    year: matcher(year),
  };
  const out: number[] = [];
  for (let t = Math.ceil(from / MINUTE) * MINUTE; t < to; t += MINUTE) {
    const d = new Date(t);
    if (m.min(d.getUTCMinutes()) && m.hour(d.getUTCHours()) && m.dom(d.getUTCDate()) && m.month(d.getUTCMonth() + 1)
      && m.dow(d.getUTCDay() + 1) && m.year(d.getUTCFullYear())) {
      out.push(t);
    }
  }
  return out;
}

/** A `PutMetricData` request as the SDK (or a Step Functions SDK integration) sends it. */
export interface PutMetricDataInput {
  readonly Namespace?: string;
  readonly MetricData?: ReadonlyArray<{ MetricName?: string; Value?: number; Dimensions?: ReadonlyArray<{ Name?: string; Value?: string }> }>;
}

/**
 * The datapoints of `requests` that CloudWatch files under the alarm's metric: same namespace,
 * metric name and exactly the same set of dimensions (CloudWatch treats every combination of
 * dimensions as a metric of its own), stamped `at`.
 */
export function datapointsOf(alarm: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: unknown }> },
  requests: readonly PutMetricDataInput[], at: number): Datapoint[] {
  const key = (dims: ReadonlyArray<{ Name?: string; Value?: unknown }> | undefined) =>
    JSON.stringify([...dims ?? []].map((d) => [d.Name, d.Value]).sort());
  const wanted = key(alarm.Dimensions);
  return requests.filter((r) => r.Namespace === alarm.Namespace)
    .flatMap((r) => r.MetricData ?? [])
    .filter((d) => d.MetricName === alarm.MetricName && key(d.Dimensions) === wanted)
    .map((d) => ({ at, value: d.Value ?? 0 }));
}
