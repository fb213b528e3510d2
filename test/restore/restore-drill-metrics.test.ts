import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { DrillMetricsEvent, figures, handler, publish } from '../../lambda/restore/drill-metrics';

const cloudwatch = mockClient(CloudWatchClient);
const client = cloudwatch as unknown as CloudWatchClient;
const event: DrillMetricsEvent = {
  namespace: 'CdkEbsBackup/RestoreDrill',
  purpose: 'database-dr',
  startedAt: '2026-11-21T03:00:00.000Z',
  validatedAt: '2026-11-21T03:12:30.000Z',
  snapshotTime: '2026-11-21T02:00:00.000Z',
};

beforeEach(() => cloudwatch.reset());
beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

describe('figures', () => {
  test('time to restore is start to validation; snapshot age is capture to validation', () => {
    expect(figures(event)).toEqual({ timeToRestoreSeconds: 750, snapshotAgeSeconds: 4350 });
  });

  test('without validatedAt, the validation ended now', () => {
    expect(figures({ ...event, validatedAt: undefined }, new Date('2026-11-21T03:01:00Z'))).toEqual({ timeToRestoreSeconds: 60, snapshotAgeSeconds: 3660 });
  });

  test.each([
    ['a bad timestamp', { ...event, snapshotTime: 'yesterday' }, 'startedAt, validatedAt and snapshotTime must be ISO 8601 timestamps'],
    ['a validation before the start', { ...event, validatedAt: '2026-11-21T02:59:00.000Z' }, 'validatedAt 2026-11-21T02:59:00.000Z is before startedAt'],
  ])('rejects %s', (_name, bad, message) => {
    expect(() => figures(bad)).toThrow(message);
  });

  test('the rejection names the values it got, so the failed execution shows which field was bad', () => {
    expect(() => figures({ ...event, snapshotTime: 'yesterday' }))
      .toThrow('got ["2026-11-21T03:00:00.000Z","2026-11-21T03:12:30.000Z","yesterday"]');
  });

  // The Node.js Lambda runtime reports a thrown error's `name` as the invocation's errorType
  // (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html), which Step Functions
  // records as the task's error: "the name property of the Error object must match the ErrorEquals
  // value" (https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-handling-error-conditions.html)
  test('a bad event fails as DrillMetricsEventError, the errorType the execution records', () => {
    expect(() => figures({ ...event, startedAt: 'soon' })).toThrow(expect.objectContaining({ name: 'DrillMetricsEventError' }));
  });

  // Step Functions passes `null` when the Invoke task's Payload resolves to nothing; the function must
  // fail with its own event error, not a TypeError from reading a field of null
  test.each([null, undefined])('an event of %s is an event error, not a TypeError', (nothing) => {
    expect(() => figures(nothing as unknown as DrillMetricsEvent)).toThrow(
      expect.objectContaining({ name: 'DrillMetricsEventError', message: expect.stringContaining('got [null,null,null]') }));
  });

  test('a validation in the same millisecond as the start is a zero-second restore, not an error', () => {
    expect(figures({ ...event, validatedAt: event.startedAt })).toEqual({ timeToRestoreSeconds: 0, snapshotAgeSeconds: 3600 });
  });
});

describe('publish', () => {
  test('publishes success, time to restore and snapshot age with the purpose dimension', async () => {
    cloudwatch.on(PutMetricDataCommand).resolves({});
    await publish(client, event);
    const input = cloudwatch.commandCalls(PutMetricDataCommand)[0].args[0].input;
    const dims = [{ Name: 'Purpose', Value: 'database-dr' }];
    const at = new Date('2026-11-21T03:12:30.000Z');
    expect(input).toEqual({
      Namespace: 'CdkEbsBackup/RestoreDrill',
      MetricData: [
        { MetricName: 'DrillSucceeded', Value: 1, Unit: 'Count', Dimensions: dims, Timestamp: at },
        { MetricName: 'TimeToRestore', Value: 750, Unit: 'Seconds', Dimensions: dims, Timestamp: at },
        { MetricName: 'SnapshotAge', Value: 4350, Unit: 'Seconds', Dimensions: dims, Timestamp: at },
      ],
    });
  });

  test('retries throttling', async () => {
    cloudwatch.on(PutMetricDataCommand).rejectsOnce(Object.assign(new Error('slow'), { name: 'Throttling' })).resolves({});
    await publish(client, event);
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(2);
  });

  test('fails on a fault that is not transient, so the drill records a failure', async () => {
    cloudwatch.on(PutMetricDataCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(publish(client, event)).rejects.toThrow('denied');
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  test('rejects an event without namespace or purpose', async () => {
    await expect(publish(client, { ...event, namespace: '' })).rejects.toThrow('namespace and purpose are required');
  });

  test.each([null, undefined])('rejects an event of %s with its own error, before any call', async (nothing) => {
    await expect(publish(client, nothing as unknown as DrillMetricsEvent)).rejects.toThrow(
      expect.objectContaining({ name: 'DrillMetricsEventError', message: 'namespace and purpose are required' }));
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });

  test('logs one JSON line with the purpose and both figures once published (the drill record in CloudWatch Logs)', async () => {
    cloudwatch.on(PutMetricDataCommand).resolves({});
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    await publish(client, event);
    expect(logged.mock.calls.map(([line]) => JSON.parse(line))).toEqual([
      { level: 'INFO', message: 'drill figures published', purpose: 'database-dr', timeToRestoreSeconds: 750, snapshotAgeSeconds: 4350 },
    ]);
  });

  test('the handler publishes with a client of its own', async () => {
    cloudwatch.on(PutMetricDataCommand).resolves({});
    expect(await handler(event)).toEqual({ timeToRestoreSeconds: 750, snapshotAgeSeconds: 4350 });
  });
});
