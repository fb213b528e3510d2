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

  test('warns about unusable timestamps, naming them', () => {
    pauseSeconds({ startedAt: 'x', endedAt: 'y' });
    expect(logs).toEqual([{ level: 'WARN', message: 'pause timestamps unusable, window not published', startedAt: 'x', endedAt: 'y' }]);
  });

  test('a pause that ended in the millisecond it started is a window of 0 s, published', () => {
    expect(pauseSeconds({ startedAt: PAUSE.startedAt, endedAt: PAUSE.startedAt })).toBe(0);
    expect(logs).toEqual([]);
  });

  test.each([
    ['only a start (the after step never began)', { startedAt: PAUSE.startedAt }],
    ['only an end', { endedAt: PAUSE.endedAt }],
  ])('%s: no window and no warning (the run never completed a pause)', (_name, pause) => {
    expect(pauseSeconds(pause)).toBeUndefined();
    expect(logs).toEqual([]);
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

  // The Node.js Lambda runtime reports a thrown error's `name` as the errorType that Step Functions
  // records (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html); a null payload
  // must fail with it too, not with a TypeError
  test.each([null, undefined])('an event of %s fails as MetricsEventError', (nothing) => {
    expect(() => datapoints(CONFIG, nothing as never, NOW)).toThrow(
      expect.objectContaining({ name: 'MetricsEventError', message: 'outcome must be SUCCEEDED or FAILED, got undefined' }));
  });

  test.each([Number.NaN, Number.POSITIVE_INFINITY, '6'])('an artefact count of %p is not published (PutMetricData rejects NaN and Infinity)', (artefacts) => {
    expect(datapoints(CONFIG, { outcome: 'SUCCEEDED', artefacts } as never, NOW).map((p) => p.MetricName)).toEqual(['JobSucceeded', 'JobFailed']);
  });

  test('zero artefacts is a count, published', () => {
    expect(datapoints(CONFIG, { outcome: 'SUCCEEDED', artefacts: 0 }, NOW).map((p) => [p.MetricName, p.Value]))
      .toEqual([['JobSucceeded', 1], ['JobFailed', 0], ['ArtefactsCreated', 0]]);
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
    expect(logs).toEqual([{
      level: 'INFO',
      message: 'metrics published',
      purpose: 'orders-db',
      outcome: 'SUCCEEDED',
      executionId: 'run-1',
      published: ['JobSucceeded', 'JobFailed', 'PauseWindow', 'ArtefactsCreated'],
      pauseSeconds: 2.5,
    }]);
  });

  test('a run without a pause logs no window', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    await publish(cw as unknown as CloudWatchClient, CONFIG, { outcome: 'FAILED', executionId: 'run-2' }, NOW);
    expect(logs).toEqual([{ level: 'INFO', message: 'metrics published', purpose: 'orders-db', outcome: 'FAILED', executionId: 'run-2', published: ['JobSucceeded', 'JobFailed'] }]);
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
    expect(() => readConfig({ METRIC_NAMESPACE: 'N' })).toThrow(expect.objectContaining({ name: 'MetricsEventError' }));
    expect(() => readConfig({ PURPOSE: 'p' })).toThrow('environment variables METRIC_NAMESPACE and PURPOSE are required');
  } finally {
    process.env = saved;
  }
});
