import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import jsonata = require('jsonata');
import { SdkSnapshotLock, SnapshotLockMode } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (d: unknown, o?: object) => { isValid: boolean; errorsText: (s?: string) => string };

/**
 * aws-local-stepfunctions 3 runs JSONPath only, so this small interpreter runs the JSONata states
 * the lock uses (Pass with Assign, Choice, Task with Arguments/Output and Retry, inline Map) with
 * the jsonata engine, Step Functions' own expression language, and stubs for the SDK calls.
 */
type Handler = (args: any) => Promise<any>;
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
async function runMachine(machine: any, input: any, handlers: Record<string, Handler>, vars: Record<string, any> = {}): Promise<any> {
  let name: string | undefined = machine.StartAt;
  let current = input;
  while (name) {
    const state = machine.States[name];
    let output = current;
    if (state.Type === 'Pass') {
      for (const [k, v] of Object.entries(state.Assign ?? {})) {
        vars[k] = await evaluate(v, { input: current }, vars);
      }
    } else if (state.Type === 'Choice') {
      let next = state.Default;
      for (const choice of state.Choices) {
        if (await evaluate(choice.Condition, { input: current }, vars)) {
          next = choice.Next;
          break;
        }
      }
      name = next;
      continue;
    } else if (state.Type === 'Succeed') {
      return current;
    } else if (state.Type === 'Task') {
      const args = await evaluate(state.Arguments, { input: current }, vars);
      const attempts = 1 + (state.Retry?.[0]?.MaxAttempts ?? 0);
      let result: any;
      for (let i = 1; ; i++) {
        try {
          result = await handlers[name](args);
          break;
        } catch (e) {
          if (i >= attempts) {
            throw e;
          }
        }
      }
      output = state.Output ? await evaluate(state.Output, { input: current, result }, vars) : result;
    } else if (state.Type === 'Map') {
      const items: any[] = await evaluate(state.Items, { input: current }, vars);
      output = [];
      for (const item of items) {
        output.push(await runMachine(state.ItemProcessor, item, handlers, { ...vars }));
      }
    }
    current = output;
    name = state.End ? undefined : state.Next;
  }
  return current;
}

let stack: Stack;
let template: Template;
let definition: any;

beforeAll(() => {
  const app = createCheckedApp();
  stack = createTestStack(app);
  new SdkSnapshotLock(stack, 'Lock', {
    mode: SnapshotLockMode.compliance(Duration.days(30), Duration.hours(24)),
    purposes: ['silver-snapshots'],
  });
  template = Template.fromJSON(checkedTemplate(stack));
  const machine = Object.values<any>(template.toJSON().Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  definition = JSON.parse(machine.Properties.DefinitionString);
}, 600_000);

async function run(detail: object, tagged: string[], failLock = 0) {
  const calls: Array<{ state: string; input: any }> = [];
  let lockFailures = failLock;
  const output = await runMachine(definition, { 'source': 'aws.ec2', 'detail-type': 'EBS Snapshot Notification', detail }, {
    FindTaggedSnapshots: async (input: any) => {
      calls.push({ state: 'FindTaggedSnapshots', input });
      return { Snapshots: input.SnapshotIds.filter((id: string) => tagged.includes(id)).map((SnapshotId: string) => ({ SnapshotId })) };
    },
    Lock: async (input: any) => {
      calls.push({ state: 'Lock', input });
      if (lockFailures-- > 0) {
        throw new Error('Ec2.RequestLimitExceeded');
      }
      return { SnapshotId: input.SnapshotId, LockState: 'compliance-cooloff' };
    },
  });
  return { calls, output };
}

test('the definition is valid ASL and uses only SDK integrations', () => {
  const result = aslValidator(definition, { checkPaths: true, checkArn: true });
  expect(result.errorsText('\n')).toBe('');
  expect(result.isValid).toBe(true);
  template.resourceCountIs('AWS::Lambda::Function', 0);
});

test('the role may lock only snapshots carrying the purpose tags', () => {
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([Match.objectLike({
        Action: 'ec2:LockSnapshot',
        Condition: { StringEquals: { 'aws:ResourceTag/backup:purpose': ['silver-snapshots'] } },
      })]),
    },
  });
});

test('runs on created and copied snapshots', () => {
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { 'source': ['aws.ec2'], 'detail-type': ['EBS Snapshot Notification'], 'detail': { event: ['createSnapshot', 'createSnapshots', 'copySnapshot'], result: ['succeeded'] } },
  });
});

test('locks the one snapshot of a createSnapshot event when it carries the purpose tag', async () => {
  const { calls, output } = await run({ event: 'createSnapshot', result: 'succeeded', snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-01' }, ['snap-01']);
  expect(calls[0].input).toEqual({ SnapshotIds: ['snap-01'], Filters: [{ Name: 'tag:backup:purpose', Values: ['silver-snapshots'] }] });
  expect(calls[1]).toEqual({ state: 'Lock', input: { SnapshotId: 'snap-01', LockMode: 'compliance', LockDuration: 30, CoolOffPeriod: 24 } });
  expect(output).toEqual(['snap-01']);
});

test('locks only the tagged snapshots of a multi-volume createSnapshots event', async () => {
  const { calls } = await run({
    event: 'createSnapshots',
    result: 'succeeded',
    snapshots: [{ snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-a' }, { snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-b' }],
  }, ['snap-b']);
  expect(calls.map((c) => [c.state, c.input.SnapshotId ?? c.input.SnapshotIds])).toEqual([['FindTaggedSnapshots', ['snap-a', 'snap-b']], ['Lock', 'snap-b']]);
});

test('does nothing for an untagged snapshot', async () => {
  const { calls, output } = await run({ event: 'copySnapshot', result: 'succeeded', snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-x' }, []);
  expect(calls.map((c) => c.state)).toEqual(['FindTaggedSnapshots']);
  expect(output).toEqual([]);
});

test('never lists snapshots when the event names none', async () => {
  const { calls } = await run({ event: 'createSnapshots', result: 'succeeded' }, ['snap-01']);
  expect(calls).toEqual([]);
});

test('retries a throttled LockSnapshot', async () => {
  const { calls, output } = await run({ event: 'createSnapshot', result: 'succeeded', snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-01' }, ['snap-01'], 2);
  expect(calls.filter((c) => c.state === 'Lock')).toHaveLength(3);
  expect(output).toEqual(['snap-01']);
});
