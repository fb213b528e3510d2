import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { datapoints, handler, pauseSeconds, publish, readConfig } from '../../lambda/orchestration/job-metrics';

const cw = mockClient(CloudWatchClient);
const CONFIG = { namespace: 'CdkEbsBackup/ConsistentSnapshotJob', purpose: 'orders-db' };
const NOW = new Date('2024-06-30T02:05:00Z');
const PAUSE = { startedAt: '2024-06-30T02:00:01.500Z', endedAt: '2024-06-30T02:00:04.000Z' };

let logs: any[];

beforeEach(() => {
  cw.reset();
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => { logs.push(JSON.parse(line)); });
});

afterEach(() => jest.restoreAllMocks());

describe('pauseSeconds', () => {
  test.each<[string, any, number | undefined]>([
    ['a full window', PAUSE, 2.5],
    ['no pause (a before step failed)', {}, undefined],
    ['no event field', undefined, undefined],
    ['an unparsable time', { startedAt: 'yesterday', endedAt: PAUSE.endedAt }, undefined],
    ['an end before the start', { startedAt: PAUSE.endedAt, endedAt: PAUSE.startedAt }, undefined],
  ])('%s', (_name, pause, expected) => {
    expect(pauseSeconds(pause)).toEqual(expected);
  });

  test('warns about unusable timestamps', () => {
    pauseSeconds({ startedAt: 'x', endedAt: 'y' });
    expect(logs).toEqual([expect.objectContaining({ level: 'WARN', message: 'pause timestamps unusable, window not published' })]);
  });
});

describe('datapoints', () => {
  test('a success publishes the outcome, the pause window and the artefact count', () => {
    expect(datapoints(CONFIG, { outcome: 'SUCCEEDED', pause: PAUSE, artefacts: 6 }, NOW)).toEqual([
      { MetricName: 'JobSucceeded', Dimensions: [{ Name: 'Purpose', Value: 'orders-db' }], Value: 1, Unit: 'Count', Timestamp: NOW },
      { MetricName: 'JobFailed', Dimensions: [{ Name: 'Purpose', Value: 'orders-db' }], Value: 0, Unit: 'Count', Timestamp: NOW },
      { MetricName: 'PauseWindow', Dimensions: [{ Name: 'Purpose', Value: 'orders-db' }], Value: 2.5, Unit: 'Seconds', Timestamp: NOW },
      { MetricName: 'ArtefactsCreated', Dimensions: [{ Name: 'Purpose', Value: 'orders-db' }], Value: 6, Unit: 'Count', Timestamp: NOW },
    ]);
  });

  test('a failure before the pause publishes only the outcome', () => {
    expect(datapoints(CONFIG, { outcome: 'FAILED', pause: {} }, NOW).map((p) => [p.MetricName, p.Value])).toEqual([['JobSucceeded', 0], ['JobFailed', 1]]);
  });

  test('rejects an unknown outcome', () => {
    expect(() => datapoints(CONFIG, { outcome: 'MAYBE' } as never, NOW)).toThrow('outcome must be SUCCEEDED or FAILED, got "MAYBE"');
  });
});

describe('publish', () => {
  test('puts every data point in the job\'s namespace and logs one JSON line', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const result = await publish(cw as unknown as CloudWatchClient, CONFIG, { outcome: 'SUCCEEDED', pause: PAUSE, artefacts: 6, executionId: 'run-1' }, NOW);
    expect(result.published).toEqual(['JobSucceeded', 'JobFailed', 'PauseWindow', 'ArtefactsCreated']);
    const input = cw.commandCalls(PutMetricDataCommand)[0].args[0].input;
    expect(input.Namespace).toEqual('CdkEbsBackup/ConsistentSnapshotJob');
    expect(input.MetricData).toHaveLength(4);
    expect(logs).toEqual([expect.objectContaining({ level: 'INFO', purpose: 'orders-db', outcome: 'SUCCEEDED', executionId: 'run-1', pauseSeconds: 2.5 })]);
  });

  test('retries throttling', async () => {
    cw.on(PutMetricDataCommand).rejectsOnce(Object.assign(new Error('slow'), { name: 'Throttling' })).resolves({});
    await publish(cw as unknown as CloudWatchClient, CONFIG, { outcome: 'FAILED' }, NOW);
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(2);
  });

  test('fails on a permanent error, so the state machine records it', async () => {
    cw.on(PutMetricDataCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDenied' }));
    await expect(publish(cw as unknown as CloudWatchClient, CONFIG, { outcome: 'FAILED' }, NOW)).rejects.toThrow('no');
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });
});

test('the handler reads its configuration from the environment', async () => {
  const saved = process.env;
  try {
    process.env = { ...saved, METRIC_NAMESPACE: 'N', PURPOSE: 'p' };
    cw.on(PutMetricDataCommand).resolves({});
    await expect(handler({ outcome: 'SUCCEEDED' })).resolves.toEqual({ published: ['JobSucceeded', 'JobFailed'] });
    expect(readConfig(process.env)).toEqual({ namespace: 'N', purpose: 'p' });
    process.env = { ...saved, METRIC_NAMESPACE: undefined, PURPOSE: undefined };
    await expect(handler({ outcome: 'SUCCEEDED' })).rejects.toThrow('environment variables METRIC_NAMESPACE and PURPOSE are required');
  } finally {
    process.env = saved;
  }
});
