/**
 * The one local runner of the library's JSONata state machines (aws-local-stepfunctions 3 runs
 * JSONPath state machines only; those run with it, see test/orchestration/local-execution.ts and
 * test/restore/drill-harness.ts): Pass, Task (Arguments, Output, Assign, Retry, Catch), Choice, inline Map
 * (Items, ItemSelector, ItemProcessor, nested), Succeed and Fail, with Step Functions' JSONata
 * engine and semantics (Assign and Output are evaluated against the same, pre-assignment
 * variables; a Map iteration sees the outer variables and keeps its own), and the execution's
 * `TimeoutSeconds` (a run past it fails `States.Timeout`, which no Catch sees: the execution
 * itself times out, "State machine structure in Amazon States Language"). Every connector result,
 * state input/output and variable goes through the PayloadMeter, and history events are counted
 * as a standard workflow records them.
 * https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import jsonata = require('jsonata');
import { TEST_ACCOUNT, TEST_REGION } from './intrinsics';
import { DataLimitExceeded, PAYLOAD_LIMIT_BYTES, PayloadMeter } from './scale/limits';

/** The answer of a Task state: its result, or a thrown error (its `name` is the error Retry and Catch match). */
export type JsonataHandler = (args: any, attempt: number) => unknown | Promise<unknown>;

export interface JsonataRunOptions {
  /** A handler per Task state name. */
  readonly handlers: Record<string, JsonataHandler>;
  readonly meter?: PayloadMeter;
  readonly input?: unknown;
  /** The execution's start (context object). */
  readonly startTime?: string;
  /** @default TEST_ACCOUNT */
  readonly account?: string;
  /** @default TEST_REGION */
  readonly region?: string;
  /** The state machine's name in the context object's ARNs. @default 'Housekeeping' */
  readonly stateMachineName?: string;
  /**
   * The execution's clock in milliseconds (a handler advances a fake one to stand for a slow or
   * hanging call), read before each state and each Task attempt against `TimeoutSeconds`.
   * @default Date.now
   */
  readonly clock?: () => number;
}

/** A Task call the run made: the state's name and its evaluated Arguments (what call replay evaluates). */
export interface JsonataCall {
  readonly state: string;
  readonly input: any;
}

interface Scope { vars: Record<string, unknown>; parent?: Scope }

const cache = new Map<string, jsonata.Expression>();
async function evaluate(value: any, states: Record<string, unknown>, scope: Scope): Promise<any> {
  if (typeof value === 'string') {
    const m = /^\{%([\s\S]*)%\}$/.exec(value);
    if (!m) {
      return value;
    }
    let expr = cache.get(m[1]);
    if (!expr) {
      expr = jsonata(m[1]);
      cache.set(m[1], expr);
    }
    const bindings: Record<string, unknown> = {};
    const chain: Scope[] = [];
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      chain.unshift(s);
    }
    for (const s of chain) {
      Object.assign(bindings, s.vars);
    }
    return expr.evaluate({}, { ...bindings, states });
  }
  if (Array.isArray(value)) {
    const out = [];
    for (const v of value) {
      out.push(await evaluate(v, states, scope));
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = await evaluate(v, states, scope);
    }
    return out;
  }
  return value;
}

class StateError extends Error {
  constructor(public readonly error: string, public readonly cause: string) {
    super(`${error}: ${cause}`);
  }
}

/** The execution ran past its `TimeoutSeconds`: the execution ends, whatever Catch the state has. */
class ExecutionTimedOut extends StateError {
  constructor(seconds: number, where: string) {
    super('States.Timeout', `the execution ran longer than its TimeoutSeconds (${seconds}), at ${where}`);
  }
}

function errorMatches(list: string[], name: string): boolean {
  // States.ALL does not match States.DataLimitExceeded / Runtime (AWS error handling docs)
  return list.includes(name) || (list.includes('States.ALL') && !['States.DataLimitExceeded', 'States.Runtime'].includes(name));
}

export class JsonataExecution {
  public readonly meter: PayloadMeter;
  /** Every Task call made, in order (one per attempt). */
  public readonly calls: JsonataCall[] = [];
  private readonly context: Record<string, unknown>;
  private readonly clock: () => number;
  private started = 0;

  constructor(private readonly definition: any, private readonly options: JsonataRunOptions) {
    this.meter = options.meter ?? new PayloadMeter();
    const arn = `arn:aws:states:${options.region ?? TEST_REGION}:${options.account ?? TEST_ACCOUNT}`;
    const name = options.stateMachineName ?? 'Housekeeping';
    this.context = {
      Execution: { Id: `${arn}:execution:${name}:run`, StartTime: options.startTime ?? new Date().toISOString() },
      StateMachine: { Id: `${arn}:stateMachine:${name}` },
    };
    this.clock = options.clock ?? Date.now;
  }

  public async run(): Promise<any> {
    this.meter.events += 2; // ExecutionStarted, ExecutionSucceeded
    this.started = this.clock();
    return this.runStates(this.definition, this.options.input ?? {}, { vars: {} }, 'execution');
  }

  private checkTimeout(where: string): void {
    const seconds = this.definition.TimeoutSeconds;
    if (seconds !== undefined && this.clock() - this.started > seconds * 1000) {
      throw new ExecutionTimedOut(seconds, where);
    }
  }

  private limit(kind: 'result' | 'input' | 'output' | 'variable', where: string, value: unknown) {
    this.meter.check(kind, where, value);
    const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (bytes > PAYLOAD_LIMIT_BYTES) {
      throw new DataLimitExceeded(`${kind} of ${where} is ${bytes} bytes`);
    }
  }

  private async assign(state: any, name: string, states: Record<string, unknown>, scope: Scope): Promise<void> {
    if (!state.Assign) {
      return;
    }
    const values = await evaluate(state.Assign, states, scope);
    for (const [k, v] of Object.entries(values)) {
      this.limit('variable', `${name}.$${k}`, v);
    }
    Object.assign(scope.vars, values);
  }

  private async runStates(machine: any, input: any, scope: Scope, path: string): Promise<any> {
    let name: string | undefined = machine.StartAt;
    let current = input;
    while (name) {
      const state = machine.States[name];
      const where = `${path}/${name}`;
      this.checkTimeout(where);
      this.limit('input', where, current);
      this.meter.events += 2; // StateEntered, StateExited
      const states: Record<string, unknown> = { input: current, context: this.context };
      let output: any;
      let next: string | undefined = state.Next;
      try {
        if (state.Type === 'Pass') {
          output = state.Output !== undefined ? await evaluate(state.Output, states, scope) : current;
          await this.assign(state, where, states, scope);
        } else if (state.Type === 'Choice') {
          next = state.Default;
          for (const choice of state.Choices) {
            if (await evaluate(choice.Condition, states, scope)) {
              next = choice.Next;
              break;
            }
          }
          output = state.Output !== undefined ? await evaluate(state.Output, states, scope) : current;
          await this.assign(state, where, states, scope);
          if (!next) {
            throw new StateError('States.NoChoiceMatched', where);
          }
        } else if (state.Type === 'Succeed') {
          return current;
        } else if (state.Type === 'Fail') {
          throw new StateError(state.Error ?? 'States.Fail', state.Cause ?? '');
        } else if (state.Type === 'Task') {
          const result = await this.task(state, where, states, scope);
          const withResult = { ...states, result };
          output = state.Output !== undefined ? await evaluate(state.Output, withResult, scope) : result;
          await this.assign(state, where, withResult, scope);
        } else if (state.Type === 'Map') {
          const items = state.Items !== undefined ? await evaluate(state.Items, states, scope) : current;
          const list = items === undefined ? [] : Array.isArray(items) ? items : [items];
          this.meter.events += 2; // MapStateStarted, MapStateSucceeded
          const results = [];
          for (let i = 0; i < list.length; i++) {
            this.meter.events += 2; // MapIterationStarted, MapIterationSucceeded
            const itemInput = state.ItemSelector !== undefined
              ? await evaluate(state.ItemSelector, { ...states, context: { ...this.context, Map: { Item: { Index: i, Value: list[i] } } } }, scope)
              : list[i];
            results.push(await this.runStates(state.ItemProcessor, itemInput, { vars: {}, parent: scope }, `${where}[${i}]`));
          }
          this.limit('result', where, results);
          const withResult = { ...states, result: results };
          output = state.Output !== undefined ? await evaluate(state.Output, withResult, scope) : results;
          await this.assign(state, where, withResult, scope);
        } else {
          throw new Error(`state type ${state.Type} (${where}) is not supported by this runner`);
        }
      } catch (e) {
        if (e instanceof ExecutionTimedOut) {
          throw e;
        }
        const err = e instanceof StateError ? e : e instanceof DataLimitExceeded
          ? new StateError('States.DataLimitExceeded', e.message)
          : new StateError((e as Error).name ?? 'Error', (e as Error).message);
        const catcher = (state.Catch ?? []).find((c: any) => errorMatches(c.ErrorEquals, err.error));
        if (!catcher) {
          throw err;
        }
        const errorOutput = { Error: err.error, Cause: err.cause };
        const withError = { ...states, errorOutput };
        output = catcher.Output !== undefined ? await evaluate(catcher.Output, withError, scope) : errorOutput;
        if (catcher.Assign) {
          await this.assign(catcher, where, withError, scope);
        }
        next = catcher.Next;
      }
      this.limit('output', where, output);
      current = output;
      if (state.End) {
        return current;
      }
      name = next;
    }
    return current;
  }

  private async task(state: any, where: string, states: Record<string, unknown>, scope: Scope): Promise<any> {
    const name = where.split('/').pop()!;
    const handler = this.options.handlers[name];
    if (!handler) {
      throw new Error(`no handler for Task state '${name}'`);
    }
    const args = state.Arguments !== undefined ? await evaluate(state.Arguments, states, scope) : states.input;
    this.limit('input', `${where} (arguments)`, args);
    for (let attempt = 0; ; attempt++) {
      this.checkTimeout(where);
      this.meter.events += 3; // TaskScheduled, TaskStarted, TaskSucceeded/Failed
      this.calls.push({ state: name, input: args });
      try {
        const result = await handler(args, attempt + 1);
        this.checkTimeout(where);
        this.limit('result', where, result);
        return result;
      } catch (e) {
        if (e instanceof DataLimitExceeded || e instanceof ExecutionTimedOut) {
          throw e;
        }
        const errName = (e as Error).name;
        const retrier = (state.Retry ?? []).find((r: any) => errorMatches(r.ErrorEquals, errName));
        if (!retrier || attempt >= (retrier.MaxAttempts ?? 3)) {
          throw new StateError(errName, (e as Error).message);
        }
      }
    }
  }
}

/** The outcome of a run: its output, or the error (`{ error, cause }`) it failed with. */
export interface JsonataRun {
  readonly output?: any;
  readonly error?: { error: string; cause: string };
  readonly meter: PayloadMeter;
  readonly calls: JsonataCall[];
}

/** Run a JSONata state machine; the error (`{ error, cause }`) when it fails. */
export async function runJsonata(definition: any, options: JsonataRunOptions): Promise<JsonataRun> {
  const execution = new JsonataExecution(definition, options);
  try {
    return { output: await execution.run(), meter: execution.meter, calls: execution.calls };
  } catch (e) {
    if (e instanceof StateError) {
      return { error: { error: e.error, cause: e.cause }, meter: execution.meter, calls: execution.calls };
    }
    throw e;
  }
}
