/**
 * `runJsonataMachine`: the one local JSONata runner (test/support/jsonata.ts) under the
 * signature the snapshot-lock tests use: stubs answer Task states by name (throw to fail an
 * attempt), the output is returned and a failed execution throws its error and cause.
 */
import { runJsonata } from './jsonata';

export type SdkStub = (args: any, attempt: number) => Promise<any>;

export interface JsonataRunOptions {
  /** `$states.context.Execution.StartTime` (ISO 8601). */
  readonly startTime?: string;
  /** The execution's clock in ms, against the definition's `TimeoutSeconds`. @default Date.now */
  readonly clock?: () => number;
}

/** Run `machine` on `input`; `stubs` answer Task states by state name (throw to fail an attempt). */
export async function runJsonataMachine(machine: any, input: any, stubs: Record<string, SdkStub>, options: JsonataRunOptions = {}): Promise<any> {
  const run = await runJsonata(machine, { handlers: stubs, input, startTime: options.startTime, clock: options.clock, stateMachineName: 'SnapshotLock' });
  if (run.error) {
    throw new Error(`${run.error.error}: ${run.error.cause}`);
  }
  return run.output;
}
