/**
 * Publish a successful RestoreDrill's figures: the drill succeeded, how long the restore took
 * (execution start to validation passed, i.e. to this call) and how old the restored data was (the recovery point
 * actually achieved). Step Functions cannot compute either: JSONPath has no date arithmetic.
 * Failures are published by the state machine itself, without this function.
 *
 * Safe to retry: a duplicate data point changes neither a Minimum nor a Maximum.
 */
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { log } from '../../shared/log';
import { withRetry } from '../../shared/retry';

export interface DrillMetricsEvent {
  readonly namespace: string;
  readonly purpose: string;
  /** `$$.Execution.StartTime`. */
  readonly startedAt: string;
  /**
   * When the validation passed.
   *
   * @default - now: the function runs right after the validation
   */
  readonly validatedAt?: string;
  /** When the restored data was captured. */
  readonly snapshotTime: string;
}

export interface DrillFigures {
  readonly timeToRestoreSeconds: number;
  readonly snapshotAgeSeconds: number;
}

export class DrillMetricsEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillMetricsEventError';
  }
}

export function figures(event: DrillMetricsEvent, now: Date = new Date()): DrillFigures {
  const started = Date.parse(event?.startedAt);
  const validated = event?.validatedAt === undefined ? now.getTime() : Date.parse(event.validatedAt);
  const captured = Date.parse(event?.snapshotTime);
  if ([started, validated, captured].some(Number.isNaN)) {
    throw new DrillMetricsEventError(
      `startedAt, validatedAt and snapshotTime must be ISO 8601 timestamps, got ${JSON.stringify([event?.startedAt, event?.validatedAt, event?.snapshotTime])}`);
  }
  if (validated < started) {
    throw new DrillMetricsEventError(`validatedAt ${new Date(validated).toISOString()} is before startedAt ${event.startedAt}`);
  }
  return {
    timeToRestoreSeconds: Math.round((validated - started) / 1000),
    snapshotAgeSeconds: Math.max(0, Math.round((validated - captured) / 1000)),
  };
}

export function datapoints(event: DrillMetricsEvent, f: DrillFigures, now: Date = new Date()): MetricDatum[] {
  const Dimensions = [{ Name: 'Purpose', Value: event.purpose }];
  const Timestamp = event.validatedAt === undefined ? now : new Date(event.validatedAt);
  return [
    { MetricName: 'DrillSucceeded', Value: 1, Unit: 'Count', Dimensions, Timestamp },
    { MetricName: 'TimeToRestore', Value: f.timeToRestoreSeconds, Unit: 'Seconds', Dimensions, Timestamp },
    { MetricName: 'SnapshotAge', Value: f.snapshotAgeSeconds, Unit: 'Seconds', Dimensions, Timestamp },
  ];
}

export async function publish(client: CloudWatchClient, event: DrillMetricsEvent, now: Date = new Date()): Promise<DrillFigures> {
  if (!event?.namespace || !event.purpose) {
    throw new DrillMetricsEventError('namespace and purpose are required');
  }
  const f = figures(event, now);
  await withRetry(() => client.send(new PutMetricDataCommand({ Namespace: event.namespace, MetricData: datapoints(event, f, now) })));
  log('INFO', 'drill figures published', { purpose: event.purpose, ...f });
  return f;
}

let client: CloudWatchClient | undefined;

export async function handler(event: DrillMetricsEvent): Promise<DrillFigures> {
  client ??= new CloudWatchClient({});
  return publish(client, event);
}
