/** Shared timing helpers for the benchmarks: interleaved runs, medians, ratios. */
import { performance } from 'perf_hooks';

export interface Side {
  readonly name: string;
  readonly fn: () => void;
}

export interface Comparison {
  readonly medianMs: Record<string, number>;
  /** median(first side) / median(second side) */
  readonly ratio: number;
}

/** Run the two sides alternately `rounds` times (after one warm-up each) and compare medians. */
export function compare(a: Side, b: Side, rounds = 7): Comparison {
  a.fn();
  b.fn();
  const times: Record<string, number[]> = { [a.name]: [], [b.name]: [] };
  for (let i = 0; i < rounds; i++) {
    for (const side of i % 2 === 0 ? [a, b] : [b, a]) {
      const t0 = performance.now();
      side.fn();
      times[side.name].push(performance.now() - t0);
    }
  }
  const medianMs = { [a.name]: median(times[a.name]), [b.name]: median(times[b.name]) };
  return { medianMs, ratio: medianMs[a.name] / medianMs[b.name] };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
