/**
 * Retry with capped exponential backoff and full jitter for throttling and transient faults,
 * which the EC2 API returns often under snapshot bursts. Other errors are thrown at once.
 */
const RETRYABLE = new Set([
  'RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException',
  'InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable',
]);

export function isRetryable(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $retryable?: unknown };
  return RETRYABLE.has(e?.name ?? '') || RETRYABLE.has(e?.Code ?? '') || e?.$retryable !== undefined;
}

export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: { attempts?: number; baseMs?: number; maxMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseMs ?? 200;
  const max = opts.maxMs ?? 5000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isRetryable(err)) {
        throw err;
      }
      await sleep(Math.random() * Math.min(max, base * 2 ** (i - 1)));
    }
  }
}
