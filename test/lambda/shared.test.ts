// The handlers' shared plumbing (lambda/shared): retry, time budget, log lines. The handler tests
// use them through their own paths; these pin what each promises, so that the lambda-shared
// mutation module is measured by tests of its own.
import { DEFAULT_BUDGET_MS, timeBudget } from '../../lambda/shared/budget';
import { log } from '../../lambda/shared/log';
import { isRetryable, withRetry } from '../../lambda/shared/retry';

afterEach(() => {
  jest.restoreAllMocks();
  jest.useRealTimers();
});

const named = (name: string) => Object.assign(new Error(name), { name });

describe('withRetry', () => {
  // the SDK's error names for throttling and transient faults of the services the handlers call:
  // EC2 (RequestLimitExceeded, InternalError, Unavailable), Step Functions and CloudWatch
  // (ThrottlingException, Throttling), Lambda (TooManyRequestsException), and the generic 5xx names
  test.each([
    'RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException',
    'InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable',
  ])('retries %s and returns the answer of the attempt that works', async (name) => {
    const fn = jest.fn().mockRejectedValueOnce(named(name)).mockResolvedValueOnce('ok');
    await expect(withRetry(fn, { sleep: async () => undefined })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(2);
    expect(isRetryable(named(name))).toBe(true);
  });

  test('an error the SDK marks $retryable, or one carrying the name as Code only, is retried', () => {
    expect(isRetryable(Object.assign(new Error('x'), { name: 'SomethingElse', $retryable: {} }))).toBe(true);
    expect(isRetryable({ Code: 'RequestLimitExceeded' })).toBe(true);
    expect(isRetryable({ name: 'AccessDenied', Code: 'AccessDenied' })).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
    expect(isRetryable(null)).toBe(false);
    expect(isRetryable({})).toBe(false);
  });

  test('any other error is thrown at once, unretried', async () => {
    const denied = named('UnauthorizedOperation');
    const fn = jest.fn().mockRejectedValue(denied);
    const sleep = jest.fn(async () => undefined);
    await expect(withRetry(fn, { sleep })).rejects.toBe(denied);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(sleep).not.toHaveBeenCalled();
  });

  test('five attempts by default, then the last error; full jitter on a doubling delay from 200 ms, capped at 5 s', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const errors = [1, 2, 3, 4, 5, 6].map((n) => Object.assign(named('RequestLimitExceeded'), { attempt: n }));
    const fn = jest.fn();
    errors.forEach((e) => fn.mockRejectedValueOnce(e));
    const sleeps: number[] = [];
    await expect(withRetry(fn, { sleep: async (ms) => { sleeps.push(ms); } })).rejects.toBe(errors[4]);
    expect(fn).toHaveBeenCalledTimes(5);
    expect(sleeps).toEqual([100, 200, 400, 800]);

    const capped: number[] = [];
    const always = jest.fn().mockRejectedValue(named('Throttling'));
    await expect(withRetry(always, { attempts: 8, sleep: async (ms) => { capped.push(ms); } })).rejects.toThrow('Throttling');
    expect(always).toHaveBeenCalledTimes(8);
    expect(capped).toEqual([100, 200, 400, 800, 1600, 2500, 2500]);
  });

  test('the attempts, base and cap are the caller\'s to set', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const sleeps: number[] = [];
    const fn = jest.fn().mockRejectedValue(named('Throttling'));
    await expect(withRetry(fn, { attempts: 4, baseMs: 10, maxMs: 30, sleep: async (ms) => { sleeps.push(ms); } })).rejects.toThrow();
    expect(fn).toHaveBeenCalledTimes(4);
    expect(sleeps).toEqual([5, 10, 15]);
  });

  test('without a sleep of the caller\'s, it really waits before the next attempt', async () => {
    jest.useFakeTimers();
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const fn = jest.fn().mockRejectedValueOnce(named('Throttling')).mockResolvedValueOnce('ok');
    let settled = false;
    const result = withRetry(fn).then((v) => { settled = true; return v; });
    await jest.advanceTimersByTimeAsync(99);
    expect([settled, fn.mock.calls.length]).toEqual([false, 1]);
    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('timeBudget', () => {
  test('12 of Lambda\'s 15 minutes by default, spent only once they are exceeded', () => {
    expect(DEFAULT_BUDGET_MS).toBe(12 * 60 * 1000);
    let elapsed = DEFAULT_BUDGET_MS;
    const budget = timeBudget({ elapsedMs: () => elapsed });
    expect(budget.budgetMs).toBe(DEFAULT_BUDGET_MS);
    expect(budget.spent()).toBe(false);
    elapsed += 1;
    expect(budget.spent()).toBe(true);
  });

  test('without a clock of the caller\'s, it measures the time since it started', () => {
    let now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const budget = timeBudget({ budgetMs: 500 });
    now += 500;
    expect(budget.spent()).toBe(false);
    now += 1;
    expect(budget.spent()).toBe(true);
    expect(timeBudget().budgetMs).toBe(DEFAULT_BUDGET_MS);
  });
});

describe('log', () => {
  test('one JSON object per line: level, message, then the fields; errors on stderr, the rest on stdout', () => {
    const out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    log('INFO', 'archived snapshot', { snapshotId: 'snap-1', dryRun: false });
    log('WARN', 'budget used up');
    log('ERROR', 'could not archive', { error: 'IncorrectState' });
    expect(out.mock.calls).toEqual([
      ['{"level":"INFO","message":"archived snapshot","snapshotId":"snap-1","dryRun":false}'],
      ['{"level":"WARN","message":"budget used up"}'],
    ]);
    expect(err.mock.calls).toEqual([['{"level":"ERROR","message":"could not archive","error":"IncorrectState"}']]);
  });
});
