/**
 * Publish a ConsistentSnapshotJob's run metrics: the outcome, the number of artefacts, and the
 * pause window (from the end of the last `before` step to the start of the first `after` step),
 * which Step Functions cannot compute itself: JSONPath has no date arithmetic.
 *
 * Idempotent enough for a retry: a duplicate data point changes a Maximum or a Sum by one run.
 */
import { CloudWatchClient, MetricDatum, PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { log } from '../../shared/log';
import { withRetry } from '../../shared/retry';

export interface MetricsEvent {
  readonly outcome: 'SUCCEEDED' | 'FAILED';
  /** Timestamps from the state machine's context object (`$$.State.EnteredTime`). */
  readonly pause?: { readonly startedAt?: string; readonly endedAt?: string };
  /** Artefacts created (absent when the run failed before counting). */
  readonly artefacts?: number;
  readonly executionId?: string;
}

export interface MetricsConfig {
  readonly namespace: string;
  readonly purpose: string;
}

export class MetricsEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsEventError';
  }
}

export function readConfig(env: NodeJS.ProcessEnv): MetricsConfig {
  if (!env.METRIC_NAMESPACE || !env.PURPOSE) {
    throw new MetricsEventError('environment variables METRIC_NAMESPACE and PURPOSE are required');
  }
  return { namespace: env.METRIC_NAMESPACE, purpose: env.PURPOSE };
}

/** The pause window in seconds, or undefined when the run never paused (a `before` step failed). */
export function pauseSeconds(pause: MetricsEvent['pause']): number | undefined {
  if (!pause?.startedAt || !pause.endedAt) {
    return undefined;
  }
  const start = Date.parse(pause.startedAt);
  const end = Date.parse(pause.endedAt);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) {
    log('WARN', 'pause timestamps unusable, window not published', { startedAt: pause.startedAt, endedAt: pause.endedAt });
    return undefined;
  }
  return (end - start) / 1000;
}

/** The data points of one run. */
export function datapoints(config: MetricsConfig, event: MetricsEvent, now: Date): MetricDatum[] {
  if (event?.outcome !== 'SUCCEEDED' && event?.outcome !== 'FAILED') {
    throw new MetricsEventError(`outcome must be SUCCEEDED or FAILED, got ${JSON.stringify(event?.outcome)}`);
  }
  const dims = [{ Name: 'Purpose', Value: config.purpose }];
  const point = (name: string, value: number, unit: StandardUnit): MetricDatum => ({
    MetricName: name, Dimensions: dims, Value: value, Unit: unit, Timestamp: now,
  });
  const points = [
    point('JobSucceeded', event.outcome === 'SUCCEEDED' ? 1 : 0, StandardUnit.Count),
    point('JobFailed', event.outcome === 'FAILED' ? 1 : 0, StandardUnit.Count),
  ];
  const pause = pauseSeconds(event.pause);
  if (pause !== undefined) {
    points.push(point('PauseWindow', pause, StandardUnit.Seconds));
  }
  if (typeof event.artefacts === 'number' && Number.isFinite(event.artefacts)) {
    points.push(point('ArtefactsCreated', event.artefacts, StandardUnit.Count));
  }
  return points;
}

export async function publish(cw: CloudWatchClient, config: MetricsConfig, event: MetricsEvent, now = new Date()): Promise<{ published: string[] }> {
  const points = datapoints(config, event, now);
  await withRetry(() => cw.send(new PutMetricDataCommand({ Namespace: config.namespace, MetricData: points })));
  const published = points.map((p) => p.MetricName!);
  log('INFO', 'metrics published', {
    purpose: config.purpose,
    outcome: event.outcome,
    executionId: event.executionId,
    published,
    pauseSeconds: points.find((p) => p.MetricName === 'PauseWindow')?.Value,
  });
  return { published };
}

const client = new CloudWatchClient({});

export async function handler(event: MetricsEvent): Promise<{ published: string[] }> {
  return publish(client, readConfig(process.env), event);
}
