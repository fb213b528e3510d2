/**
 * A number and its unit as a sentence reads it: `1 day`, `2 days`, `0.5 days`. The one place the
 * library's messages and reports write an amount (planDays, the heartbeat's window, DLM's schedule
 * gaps, the vault-lock check).
 */
export function quantity(n: number, unit: string): string {
  return `${n} ${n === 1 ? unit : `${unit}s`}`;
}
