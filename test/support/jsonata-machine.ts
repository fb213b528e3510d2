/**
 * A small local executor for JSONata state machines (aws-local-stepfunctions 3 runs JSONPath
 * only). It runs the subset the library's SDK-integration machines use, with the jsonata engine
 * (Step Functions' own expression language) and stubs for the SDK calls, following the Amazon
 * States Language semantics of the JSONata query language
 * (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html):
 * - Pass, Choice, Succeed, Task (Arguments, Output, Assign, Retry) and inline Map (Items);
 * - `$states.input`, `$states.result` (Task), `$states.context.Execution.StartTime`;
 * - Assign is evaluated against the state's input and result, before Output, and its variables
 *   are visible to later states and, read-only, inside a Map's item processor;
 * - Arguments may be one JSONata expression that yields the whole object.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import jsonata = require('jsonata');

export type SdkStub = (args: any, attempt: number) => Promise<any>;

export interface JsonataRunOptions {
  /** `$states.context.Execution.StartTime` (ISO 8601). */
  readonly startTime?: string;
}

async function evaluate(value: any, states: any, vars: Record<string, any>): Promise<any> {
  if (typeof value === 'string') {
    const m = /^{%(.*)%}$/s.exec(value);
    return m ? jsonata(m[1]).evaluate({}, { ...vars, states }) : value;
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map((v) => evaluate(v, states, vars)));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await evaluate(v, states, vars)])));
  }
  return value;
}

/**
 * Run `machine` on `input`; `stubs` answer Task states by state name (throw to fail an attempt).
 */
export async function runJsonataMachine(
  machine: any, input: any, stubs: Record<string, SdkStub>, options: JsonataRunOptions = {}, vars: Record<string, any> = {},
): Promise<any> {
  const context = { Execution: { StartTime: options.startTime ?? new Date().toISOString() } };
  let name: string | undefined = machine.StartAt;
  let current = input;
  while (name) {
    const state = machine.States[name];
    if (!state) {
      throw new Error(`no state named ${name}`);
    }
    let output = current;
    const states: any = { input: current, context };
    if (state.Type === 'Pass') {
      for (const [k, v] of Object.entries(state.Assign ?? {})) {
        vars[k] = await evaluate(v, states, vars);
      }
      output = state.Output !== undefined ? await evaluate(state.Output, states, vars) : current;
    } else if (state.Type === 'Choice') {
      let next = state.Default;
      for (const choice of state.Choices) {
        if (await evaluate(choice.Condition, states, vars)) {
          next = choice.Next;
          break;
        }
      }
      if (next === undefined) {
        throw new Error(`States.NoChoiceMatched in ${name}`);
      }
      name = next;
      continue;
    } else if (state.Type === 'Succeed') {
      return current;
    } else if (state.Type === 'Task') {
      const args = await evaluate(state.Arguments, states, vars);
      const attempts = 1 + (state.Retry?.[0]?.MaxAttempts ?? 0);
      const stub = stubs[name];
      if (!stub) {
        throw new Error(`no stub for Task ${name}`);
      }
      let result: any;
      for (let i = 1; ; i++) {
        try {
          result = await stub(args, i);
          break;
        } catch (e) {
          if (i >= attempts) {
            throw e;
          }
        }
      }
      const withResult = { ...states, result };
      const assigned: Record<string, any> = {};
      for (const [k, v] of Object.entries(state.Assign ?? {})) {
        assigned[k] = await evaluate(v, withResult, vars);
      }
      output = state.Output !== undefined ? await evaluate(state.Output, withResult, vars) : result;
      Object.assign(vars, assigned);
    } else if (state.Type === 'Map') {
      const items: any[] = await evaluate(state.Items, states, vars);
      output = [];
      for (const item of items) {
        output.push(await runJsonataMachine(state.ItemProcessor, item, stubs, options, { ...vars }));
      }
    } else {
      throw new Error(`state type ${state.Type} is not supported by this executor`);
    }
    current = output;
    name = state.End ? undefined : state.Next;
  }
  return current;
}
