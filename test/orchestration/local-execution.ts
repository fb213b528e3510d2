/**
 * Run a synthesized ConsistentSnapshotJob definition locally with aws-local-stepfunctions: every
 * Task state is replaced by a stub that records its input and answers like the AWS API would, and
 * waits and retry pauses are cut to zero. The result says which states ran, in order.
 */
import type * as LocalSfn from 'aws-local-stepfunctions' with { 'resolution-mode': 'require' };
import '../support/node20-polyfills';
import { ScaleAccount } from '../support/scale/account';

// the package is an ES module with a CommonJS build; this test project compiles to CommonJS
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require('aws-local-stepfunctions') as typeof LocalSfn;

// asl-validator ships no types
type AslValidator = (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => {
  isValid: boolean; errorsText: (separator?: string) => string;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator: AslValidator = require('asl-validator');

export const EXECUTION_ID = 'arn:aws:states:us-east-1:123456789012:execution:OrdersDbJob:run-2024-06-01';
export const STATE_MACHINE_ID = 'arn:aws:states:us-east-1:123456789012:stateMachine:OrdersDbJob';

/** One call to a stubbed Task. */
export interface Call {
  readonly state: string;
  readonly input: any;
}

/** A stub: return the API's answer, or throw an error whose `name` is the ASL error. */
export type Stub = (input: any, attempt: number) => unknown | Promise<unknown>;

/** An error as Step Functions names it (e.g. `Ec2.Ec2Exception`). */
export function awsError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** Validate a definition with asl-validator; returns the error text ('' when valid). */
export function aslErrors(definition: unknown): string {
  const result = aslValidator(JSON.parse(JSON.stringify(definition)), { checkPaths: true, checkArn: true });
  return result.isValid ? '' : result.errorsText('\n');
}

/** Every state (at any depth) of a definition, by name. */
export function allStates(definition: any): Record<string, any> {
  const out: Record<string, any> = {};
  const visit = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      out[name] = state;
      for (const branch of state.Branches ?? []) {
        visit(branch.States);
      }
      if (state.ItemProcessor) {
        visit(state.ItemProcessor.States);
      }
    }
  };
  visit(definition.States);
  return out;
}

/** Defaults for every Task state a job can have: a healthy AWS account with three instances. */
export function healthyStubs(): Record<string, Stub> {
  return {
    ListRunningExecutions: () => ({ Executions: [{ ExecutionArn: EXECUTION_ID, Status: 'RUNNING' }] }),
    DescribeInstances: () => ({
      Reservations: [
        { Instances: [{ InstanceId: 'i-0000000000000000a' }, { InstanceId: 'i-0000000000000000b' }] },
        { Instances: [{ InstanceId: 'i-0000000000000000c' }] },
      ],
    }),
    // one page: no NextToken, so no further page is asked for
    DescribeMoreInstances: () => {
      throw awsError('Ec2.InvalidNextToken', 'no NextToken was given');
    },
    // two volumes per instance, snapshotted with the tags asked for, in the run's EC2 model
    CreateSnapshots: (input) => ({ Snapshots: createSnapshots(input, 2) }),
    ...describeRunSnapshots(),
    StopInstance: () => ({}),
    DescribeInstanceState: (input) => ({
      Reservations: [{ Instances: [{ InstanceId: input.InstanceIds[0], State: { Name: 'stopped' } }] }],
    }),
    CreateImage: (input) => ({ ImageId: `ami-${input.InstanceId.slice(-1)}` }),
    StartInstance: () => ({}),
    StartAfterFailure: () => ({}),
    DescribeImages: (input) => ({ Images: input.ImageIds.map((id: string) => ({ ImageId: id, State: 'available' })) }),
    ExpireOldArtefacts: () => ({ resourceType: 'snapshot', dryRun: false, found: 20, kept: 14, expired: ['snap-old-1', 'snap-old-2'], skipped: [] }),
    ReportSuccess: () => ({ published: ['JobSucceeded'] }),
    ReportFailure: () => ({ published: ['JobFailed'] }),
    NotifyFailure: () => ({ MessageId: 'm-1' }),
  };
}

/**
 * The snapshots the current run created (reset at the start of every `execute`), in the scale
 * harness's model of EC2: DescribeSnapshots filters by tag and status and pages as the API does.
 */
let runAccount = new ScaleAccount();
let snapshotNumber = 0;

/** The current run's EC2 model (its created snapshots). */
export function runSnapshots(): ScaleAccount {
  return runAccount;
}

/** CreateSnapshots: `volumes` snapshots of the instance, `pending`, tagged with the request's TagSpecifications. */
export function createSnapshots(input: any, volumes: number): Array<{ SnapshotId: string; State: string }> {
  const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t: any) => [t.Key, t.Value]));
  return Array.from({ length: volumes }, () => {
    const s = runAccount.addSnapshot(++snapshotNumber, { volume: snapshotNumber, startTime: new Date(), tags });
    s.State = 'pending';
    return { SnapshotId: s.SnapshotId, State: s.State };
  });
}

/**
 * The verification's DescribeSnapshots calls against the run's model. A snapshot is `pending`
 * when created and `completed` once a poll has seen it pending (as ListCommands stubs advance).
 */
export function describeRunSnapshots(): Record<string, Stub> {
  const describe: Stub = (input) => runAccount.describeSnapshots(input);
  return {
    FindPendingSnapshots: (input) => {
      const answer = runAccount.describeSnapshots(input);
      for (const s of runAccount.snapshots.values()) {
        s.State = s.State === 'pending' ? 'completed' : s.State;
      }
      return answer;
    },
    FindFailedSnapshots: describe,
    CountCompletedSnapshots: describe,
    CountMoreCompletedSnapshots: describe,
  };
}

/** Stubs for a Run Command step named `name` that succeeds after `polls` status checks. */
export function runCommandStubs(name: string, polls = 2): Record<string, Stub> {
  let checks = 0;
  return {
    [`${name}.SendCommand`]: () => ({ Command: { CommandId: `cmd-${name}`, Status: 'Pending' } }),
    [`${name}.ListCommands`]: () => {
      checks++;
      return { Commands: checks === 1 ? [] : [{ CommandId: `cmd-${name}`, Status: checks >= polls ? 'Success' : 'InProgress' }] };
    },
    [`${name}.CancelCommand`]: () => ({}),
  };
}

/** A Lambda step (payloadResponseOnly): its own result is ignored by the job. */
export const lambdaStep: Stub = () => ({ ok: true });

export interface Run {
  /** The Task states called, in order (with their input). */
  readonly calls: Call[];
  /** The state names called, in order. */
  readonly order: string[];
  /** The execution's output, when it succeeded. */
  readonly output?: any;
  /** The Fail state's error and cause, when it failed. */
  readonly error?: { name: string; cause: string };
}

/**
 * Execute `definition` with `stubs` for its Task states (every Task state must have one), the
 * context object of a real execution, and no waiting.
 */
export interface ExecuteOptions {
  /**
   * Called with every connector result, state input and state output (the scale harness checks
   * each against Step Functions' 256 KiB limit). `execution` names the execution whose history
   * records it: undefined for the job's own, `Map[index]` for a child execution of a distributed
   * Map, and `CHILD` for a connector result of a child (the local runner does not say which one;
   * its events are recorded with the child's state exit).
   */
  readonly observe?: (kind: 'result' | 'input' | 'output', where: string, value: unknown, execution?: string) => void;
}

/** The `execution` of a connector result inside some child execution of a distributed Map. */
export const CHILD = 'child';

/**
 * The states that run in child executions (a distributed Map's ItemProcessor), by name, with the
 * name of their Map. The local runner runs them inline; Step Functions gives each child its own
 * execution history (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
 */
export function childStates(definition: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [mapName, state] of Object.entries(allStates(definition))) {
    if (state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
      for (const name of Object.keys(allStates(state.ItemProcessor))) {
        out[name] = mapName;
      }
    }
  }
  return out;
}

export async function execute(definition: any, stubs: Record<string, Stub>, options: ExecuteOptions = {}): Promise<Run> {
  runAccount = new ScaleAccount();
  snapshotNumber = 0;
  const states = allStates(definition);
  const children = childStates(definition);
  const calls: Call[] = [];
  const attempts: Record<string, number> = {};
  const taskResourceLocalHandlers: Record<string, (input: any) => Promise<any>> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') {
      const stub = stubs[name];
      if (!stub) {
        throw new Error(`no stub for Task state '${name}'`);
      }
      taskResourceLocalHandlers[name] = async (input: any) => {
        attempts[name] = (attempts[name] ?? 0) + 1;
        calls.push({ state: name, input });
        const result = await stub(input, attempts[name]);
        options.observe?.('result', name, result, children[name] ? CHILD : undefined);
        return result;
      };
    }
    if (state.Type === 'Wait') {
      waitTimeOverrides[name] = 0;
    }
    if (state.Retry) {
      retryIntervalOverrides[name] = 0;
    }
  }
  const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: true } });
  const execution = machine.run({ trigger: 'schedule' }, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: { Id: EXECUTION_ID, Name: 'run-2024-06-01', RoleArn: 'arn:aws:iam::123456789012:role/job' },
      StateMachine: { Id: STATE_MACHINE_ID, Name: 'OrdersDbJob' },
      // a live clock, as the service gives every state its own entry time
      State: { get EnteredTime() { return new Date().toISOString(); }, Name: 'any', RetryCount: 0 },
    },
  });
  const observing = options.observe ? (async () => {
    for await (const event of execution.eventLogs) {
      const child = event.type === 'StateEntered' || event.type === 'StateExited' ? children[event.state.name] : undefined;
      const childExecution = child ? `${child}[${(event as { index?: number }).index}]` : undefined;
      if (event.type === 'StateEntered') {
        options.observe!('input', event.state.name, event.state.input, childExecution);
      } else if (event.type === 'StateExited') {
        options.observe!('output', event.state.name, event.state.output, childExecution);
      }
    }
  })() : Promise.resolve();
  try {
    const output = await execution.result;
    await observing;
    return { calls, order: calls.map((c) => c.state), output };
  } catch (e) {
    const cause = (e as { cause?: Error }).cause;
    return { calls, order: calls.map((c) => c.state), error: { name: cause?.name ?? 'unknown', cause: cause?.message ?? String(e) } };
  }
}

/**
 * A failed run ends in the failure tail: ReportFailure (the FAILED metric) and then NotifyFailure
 * (the topic), both carrying the error the execution fails with, and nothing after them.
 */
export function expectFailureTail(run: Run): void {
  expect(run.error).toBeDefined();
  expect(run.order.slice(-2)).toEqual(['ReportFailure', 'NotifyFailure']);
  expect(run.order.filter((s) => s === 'ReportFailure' || s === 'NotifyFailure' || s === 'ReportSuccess')).toEqual(['ReportFailure', 'NotifyFailure']);
  const [report, notify] = run.calls.slice(-2).map((c) => c.input);
  expect(JSON.stringify(report)).toContain('FAILED');
  const message = typeof notify.Message === 'string' ? JSON.parse(notify.Message) : notify.Message;
  expect(message.error).toMatchObject({ Error: run.error!.name, Cause: run.error!.cause });
}
