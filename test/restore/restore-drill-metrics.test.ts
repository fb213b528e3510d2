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

  test('the handler publishes with a client of its own', async () => {
    cloudwatch.on(PutMetricDataCommand).resolves({});
    expect(await handler(event)).toEqual({ timeToRestoreSeconds: 750, snapshotAgeSeconds: 4350 });
  });
});
