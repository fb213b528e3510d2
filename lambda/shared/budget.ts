/** How long a handler works before it leaves the rest for its next run: 12 of Lambda's 15 minutes. */
export const DEFAULT_BUDGET_MS = 12 * 60_000;

/** A run's time budget (injected at scale in tests and the bench). */
export interface TimeBudgetOptions {
  /** @default DEFAULT_BUDGET_MS */
  readonly budgetMs?: number;
  /** @default time since timeBudget() was called */
  readonly elapsedMs?: () => number;
}

/** Start a run's clock: `spent()` says whether its budget is used up. */
export function timeBudget(options: TimeBudgetOptions = {}): { readonly budgetMs: number; spent(): boolean } {
  const started = Date.now();
  const elapsed = options.elapsedMs ?? (() => Date.now() - started);
  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  return { budgetMs, spent: () => elapsed() > budgetMs };
}
