/**
 * AWS's Step Functions limits, as the scale harness enforces them.
 *
 * - 256 KiB per connector result, state input/output and variable (UTF-8 of the JSON), which
 *   Step Functions reports as `States.DataLimitExceeded`, an error no `States.ALL` Catch handles.
 *   https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (Quotas related to
 *   state throttling / payload size) and .../concepts-error-handling.html (States.DataLimitExceeded)
 * - 25,000 events in a standard execution's history (same quotas page).
 */
import { allStates, CHILD } from '../../orchestration/local-execution';

export const PAYLOAD_LIMIT_BYTES = 256 * 1024;
export const HISTORY_EVENT_LIMIT = 25_000;

/** What the harness saw: the largest payload per kind, and every payload over the limit. */
export class PayloadMeter {
  public readonly largest: Record<string, { bytes: number; where: string }> = {};
  public readonly violations: string[] = [];
  /** History events of the job's own execution. */
  public events = 0;
  /** History events of each child execution of a distributed Map, by `Map[index]` (each has its own 25,000). */
  public readonly childEvents: Record<string, number> = {};

  /** The longest child execution history, in events (0 without child executions). */
  public get maxChildEvents(): number {
    return Math.max(0, ...Object.values(this.childEvents));
  }

  /** Measure `value` (as Step Functions serialises it) at `where`; `kind` is result, input, output or variable. */
  public check(kind: 'result' | 'input' | 'output' | 'variable', where: string, value: unknown): void {
    const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (!this.largest[kind] || bytes > this.largest[kind].bytes) {
      this.largest[kind] = { bytes, where };
    }
    if (bytes > PAYLOAD_LIMIT_BYTES) {
      this.violations.push(`${kind} of ${where}: ${bytes} bytes > ${PAYLOAD_LIMIT_BYTES} (States.DataLimitExceeded)`);
    }
  }

  /** The largest payload of any kind, in bytes. */
  public get maxBytes(): number {
    return Math.max(0, ...Object.values(this.largest).map((l) => l.bytes));
  }
}

/**
 * The history events a JSONPath run records for what the local executor reports: StateEntered and
 * StateExited per state, and TaskScheduled, TaskStarted and TaskSucceeded per Task result.
 */
export function historyEvents(kind: 'result' | 'input' | 'output'): number {
  return kind === 'result' ? 3 : 1;
}

/**
 * An observer for the JSONPath executor: every payload measured, the history counted per
 * execution as Step Functions keeps it. A distributed Map's child execution has its own history
 * (ExecutionStarted and ExecutionSucceeded besides its states'), and the job's records the map
 * run in a few events, not per item
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
 */
export function observer(meter: PayloadMeter, definition?: any): (kind: 'result' | 'input' | 'output', where: string, value: unknown, execution?: string) => void {
  const states = definition ? allStates(definition) : {};
  const tasks = new Set(Object.entries(states).filter(([, s]) => s.Type === 'Task').map(([n]) => n));
  // a Map's result is the list of its iterations' outputs, one payload before its ResultSelector
  // trims it (the local runner reports only the Map's output): rebuilt from the output of every
  // iteration's last state, and measured when the Map exits
  const lastOf = new Map<string, string>();
  for (const [mapName, map] of Object.entries<any>(states)) {
    for (const [name, st] of Object.entries<any>(map.ItemProcessor?.States ?? {})) {
      if (st.End || st.Type === 'Succeed') {
        lastOf.set(name, mapName);
      }
    }
  }
  const iterations = new Map<string, unknown[]>();
  return (kind, where, value, execution) => {
    meter.check(kind, where, value);
    if (kind === 'output' && lastOf.has(where)) {
      const map = lastOf.get(where)!;
      iterations.set(map, iterations.get(map) ?? []);
      iterations.get(map)!.push(value);
    }
    if (kind === 'output' && iterations.has(where)) {
      meter.check('result', `${where} (its iterations' outputs)`, iterations.get(where));
      // an inline Map records MapIterationStarted and MapIterationSucceeded per item in the
      // execution's own history; a distributed Map's items are child executions, counted there
      if (states[where]?.ItemProcessor?.ProcessorConfig?.Mode !== 'DISTRIBUTED' && execution === undefined) {
        meter.events += 2 * iterations.get(where)!.length;
      }
      iterations.delete(where);
    }
    if (execution === undefined) {
      meter.events += historyEvents(kind);
    } else if (execution !== CHILD) {
      // a child Task's result events, counted at its exit (the runner does not say which child called)
      const started = meter.childEvents[execution] === undefined ? 2 : 0;
      meter.childEvents[execution] = (meter.childEvents[execution] ?? 0) + started + historyEvents(kind)
        + (kind === 'output' && tasks.has(where) ? historyEvents('result') : 0);
    }
  };
}

/** The error Step Functions raises when a payload is too large (not caught by States.ALL). */
export class DataLimitExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'States.DataLimitExceeded';
  }
}
