/**
 * The job's state machine is executed, not only synthesized: the definition synthesized through
 * every gate is validated with asl-validator and run with aws-local-stepfunctions against stubbed
 * AWS answers, to prove that the `after` steps run on every path.
 */
import { Duration } from 'aws-cdk-lib';
import { Capture, ConsistentSnapshotJob, Retention, SnapshotStep } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import {
  EXECUTION_ID, Run, Stub, allStates, aslErrors, awsError, execute as executeLocally, expectFailureTail, healthyStubs, lambdaStep, runCommandStubs,
  runSnapshots,
} from './local-execution';
import { stateMachineDefinition, userFunction } from './support';
import { replayRun, taskStates } from '../support/call-replay';

const INSTANCES = ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c'];
const AFTER_IN_ORDER = ['After2.SendCommand', 'After1'];

/** The contract's job, widened: two before and two after steps, one of each a Run Command; verification on. */
function synthesizeJob(capture?: Capture): any {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  new ConsistentSnapshotJob(stack, 'OrdersDb', {
    purpose: 'orders-db',
    instances: { tags: { App: 'orders' } },
    before: [
      SnapshotStep.lambdaInvoke(userFunction(stack, 'EnterHotBackup'), { timeout: Duration.seconds(1), retries: 1, retryInterval: Duration.seconds(1) }),
      SnapshotStep.runCommand(['sync', 'fsfreeze -f /data'], { timeout: Duration.seconds(30), retries: 0 }),
    ],
    after: [
      SnapshotStep.lambdaInvoke(userFunction(stack, 'LeaveHotBackup')),
      SnapshotStep.runCommand(['fsfreeze -u /data'], { timeout: Duration.seconds(30) }),
    ],
    retain: Retention.count(7),
    waitForCompletion: true,
    capture,
  });
  const template = checkedTemplate(stack);
  const definition = stateMachineDefinition(template);
  const machineId = Object.keys(template.Resources).find((id) => template.Resources[id].Type === 'AWS::StepFunctions::StateMachine')!;
  synthesized.set(definition, { template, machineId });
  return definition;
}

// Every call a run made is replayed against the state machine's synthesized role
// (test/support/call-replay): a missing grant or an over-broad deny fails the test that ran it.
// The instances the stubs return are the ones the job selects by tag: App=orders.
const synthesized = new Map<any, { template: any; machineId: string }>();
const replayed = new Map<any, Set<string>>();
let pending: Array<{ definition: any; run: Run }> = [];
async function execute(definition: any, answers: Record<string, Stub>): Promise<Run> {
  const run = await executeLocally(definition, answers);
  pending.push({ definition, run });
  return run;
}
afterEach(async () => {
  const current = pending;
  pending = [];
  for (const { definition, run } of current) {
    const { template, machineId } = synthesized.get(definition)!;
    const report = await replayRun(template, machineId, definition, run.calls, {
      tagsOf: (id) => (id.startsWith('i-') ? { App: 'orders' } : undefined),
    });
    expect(report.denied).toEqual([]);
    expect(report.unmodelled).toEqual([]);
    const seen = replayed.get(definition) ?? new Set<string>();
    report.replayedStates.forEach((st) => seen.add(st));
    replayed.set(definition, seen);
  }
});


function stubs(overrides: Record<string, Stub> = {}): Record<string, Stub> {
  return {
    ...healthyStubs(),
    Before1: lambdaStep,
    After1: lambdaStep,
    ...runCommandStubs('Before2'),
    ...runCommandStubs('After2'),
    ...overrides,
  };
}

function only(run: Run, state: string): any[] {
  return run.calls.filter((c) => c.state === state).map((c) => c.input);
}

/** The after steps ran once each, last first, and after everything the before/capture phase did. */
function expectAfterStepsRan(run: Run, lastBeforeAfterSteps: string): void {
  const positions = AFTER_IN_ORDER.map((s) => run.order.indexOf(s));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
  expect(run.order.lastIndexOf(lastBeforeAfterSteps)).toBeLessThan(positions[0]);
  expect(AFTER_IN_ORDER.map((s) => only(run, s).length)).toEqual([1, 1]);
}

describe('ConsistentSnapshotJob state machine, executed locally', () => {
  let definition: any;

  beforeAll(() => {
    definition = synthesizeJob();
  });

  test('the synthesized definition is valid ASL', () => {
    expect(aslErrors(definition)).toEqual('');
  });

  test('the success path snapshots every instance, tags every snapshot, and runs the after steps in reverse order', async () => {
    // WHEN
    const run = await execute(definition, stubs());

    // THEN the execution succeeds after before steps in order, one CreateSnapshots per instance, after steps last-first
    expect(run.error).toBeUndefined();
    expect(run.order.indexOf('Before1')).toBeLessThan(run.order.indexOf('Before2.SendCommand'));
    expect(run.order.indexOf('Before2.SendCommand')).toBeLessThan(run.order.indexOf('CreateSnapshots'));
    expectAfterStepsRan(run, 'CreateSnapshots');
    const creates = only(run, 'CreateSnapshots');
    expect(creates.map((c) => c.InstanceSpecification.InstanceId).sort()).toEqual(INSTANCES);

    // every snapshot is tagged at creation with purpose, retention, managed-by, the execution id
    // and its own instance (in the description too: all that another account sees), so that a
    // RestoreDrill restores one machine's set
    for (const create of creates) {
      const instance = create.InstanceSpecification.InstanceId;
      expect(create.TagSpecifications).toEqual([{
        ResourceType: 'snapshot',
        Tags: [
          { Key: 'backup:purpose', Value: 'orders-db' },
          { Key: 'backup:retention', Value: 'count:7' },
          { Key: 'backup:managed-by', Value: 'TestStack/OrdersDb' },
          { Key: 'backup:execution', Value: EXECUTION_ID },
          { Key: 'backup:source-instance', Value: instance },
        ],
      }]);
      expect(create.Description).toMatch(new RegExp(`^orders-db: .* \\(${instance}\\)$`));
    }

    // the Run Command steps target the resolved instances and carry their timeout
    expect(only(run, 'Before2.SendCommand')[0]).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: INSTANCES,
      Parameters: { commands: ['sync', 'fsfreeze -f /data'], executionTimeout: ['30'] },
      MaxErrors: '0',
    });
    // the Lambda steps learn which instances and which run
    expect(only(run, 'Before1')[0]).toEqual({
      phase: 'before', step: 'Before1', purpose: 'orders-db', executionId: EXECUTION_ID, instanceIds: INSTANCES,
    });

    // verification finds the run's snapshots by its execution tag (no ids in the state): pending
    // at the first poll, none pending or failed at the second, then all six counted as completed
    const byRun = { Name: 'tag:backup:execution', Values: [EXECUTION_ID] };
    expect(only(run, 'FindPendingSnapshots')).toEqual([1, 2].map(() => ({ OwnerIds: ['self'], Filters: [byRun, { Name: 'status', Values: ['pending'] }], MaxResults: 100 })));
    expect(only(run, 'FindFailedSnapshots')).toEqual([{ OwnerIds: ['self'], Filters: [byRun, { Name: 'status', Values: ['error'] }], MaxResults: 100 }]);
    expect(only(run, 'CountCompletedSnapshots')).toEqual([{ OwnerIds: ['self'], Filters: [byRun, { Name: 'status', Values: ['completed'] }], MaxResults: 100 }]);
    expect(run.order.indexOf('FindPendingSnapshots')).toBeGreaterThan(run.order.lastIndexOf('After1'));
    expect(only(run, 'ExpireOldArtefacts')).toEqual([{ executionId: EXECUTION_ID }]);
    const report = only(run, 'ReportSuccess')[0];
    expect(report).toMatchObject({ outcome: 'SUCCEEDED', artefacts: 6, executionId: EXECUTION_ID });
    expect(Date.parse(report.pause.endedAt)).toBeGreaterThanOrEqual(Date.parse(report.pause.startedAt));
    expect(run.order).not.toContain('ReportFailure');
    expect(run.output.expiry).toEqual({ found: 20, expired: 2, dryRun: false });
  });

  test('instances spread over two DescribeInstances pages are all found, the second page asked with the first page\'s NextToken', async () => {
    // GIVEN EC2 answers with a NextToken: the first page holds two instances, the second the third
    const run = await execute(definition, stubs({
      DescribeInstances: () => ({ Reservations: [{ Instances: [{ InstanceId: INSTANCES[0] }, { InstanceId: INSTANCES[1] }] }], NextToken: 'page-2' }),
      DescribeMoreInstances: (input) => {
        expect(input.NextToken).toBe('page-2');
        return { Reservations: [{ Instances: [{ InstanceId: INSTANCES[2] }] }] };
      },
    }));
    // THEN every instance of both pages is snapshotted once
    expect(run.error).toBeUndefined();
    expect(only(run, 'DescribeMoreInstances')).toHaveLength(1);
    expect(only(run, 'CreateSnapshots').map((c) => c.InstanceSpecification.InstanceId).sort()).toEqual(INSTANCES);
  });

  test('a failing CreateSnapshots still runs every after step, then fails the run', async () => {
    // GIVEN CreateSnapshots of one instance fails every time
    const run = await execute(definition, stubs({
      CreateSnapshots: (input) => {
        if (input.InstanceSpecification.InstanceId === 'i-0000000000000000b') {
          throw awsError('Ec2.Ec2Exception', 'The volume vol-1 is in an error state');
        }
        return healthyStubs().CreateSnapshots(input, 1);
      },
    }));

    // THEN it was retried, the after steps ran, and the run failed with the EC2 error (and no expiry)
    expect(only(run, 'CreateSnapshots').filter((c) => c.InstanceSpecification.InstanceId === 'i-0000000000000000b')).toHaveLength(4);
    expectAfterStepsRan(run, 'CreateSnapshots');
    expect(run.error).toEqual({ name: 'Ec2.Ec2Exception', cause: 'The volume vol-1 is in an error state' });
    expectFailureTail(run);
    expect(run.order).not.toContain('ExpireOldArtefacts');
    expect(only(run, 'ReportFailure')[0]).toMatchObject({ outcome: 'FAILED' });
    expect(only(run, 'NotifyFailure')[0].Message).toMatchObject({ error: { Error: 'Ec2.Ec2Exception' } });
  });

  test('a failing before step skips the rest of the before steps and the snapshots, but runs every after step', async () => {
    const run = await execute(definition, stubs({ Before1: () => { throw awsError('DatabaseBusy', 'cannot enter hot backup mode'); } }));

    expect(only(run, 'Before1')).toHaveLength(2); // one retry
    expect(run.order).not.toContain('Before2.SendCommand');
    expect(run.order).not.toContain('CreateSnapshots');
    expectAfterStepsRan(run, 'Before1');
    expect(run.error).toEqual({ name: 'DatabaseBusy', cause: 'cannot enter hot backup mode' });
    expectFailureTail(run);
    // no pause happened: the failure report carries no pause window
    expect(only(run, 'ReportFailure')[0].pause).toEqual({});
  });

  test('a timing-out Lambda step still runs every after step', async () => {
    const hang: Stub = () => new Promise((resolve) => setTimeout(resolve, 5000).unref());
    const run = await execute(definition, stubs({ Before1: hang }));

    expect(only(run, 'Before1')).toHaveLength(2);
    expectAfterStepsRan(run, 'Before1');
    expect(run.error?.name).toEqual('States.Timeout');
    expectFailureTail(run);
  }, 20_000);

  test('a timing-out Run Command step is cancelled and still runs every after step', async () => {
    // GIVEN the freeze command never finishes
    const run = await execute(definition, stubs({
      'Before2.ListCommands': () => ({ Commands: [{ CommandId: 'cmd-Before2', Status: 'InProgress' }] }),
    }));

    // THEN it was polled up to its timeout (30 s / 5 s), cancelled, and the after steps ran
    expect(only(run, 'Before2.ListCommands')).toHaveLength(6);
    expect(only(run, 'Before2.CancelCommand')).toEqual([{ CommandId: 'cmd-Before2' }]);
    expect(run.order).not.toContain('CreateSnapshots');
    expectAfterStepsRan(run, 'Before2.CancelCommand');
    expect(run.error?.name).toEqual('SnapshotStep.Timeout');
    expectFailureTail(run);
  });

  test('a timing-out after step (the thaw) is cancelled, the other after step still runs, and the run fails', async () => {
    // GIVEN the thaw command never finishes
    const run = await execute(definition, stubs({
      'After2.ListCommands': () => ({ Commands: [{ CommandId: 'cmd-After2', Status: 'InProgress' }] }),
    }));

    // THEN it was cancelled after its timeout, After1 still ran after it, and the run failed without expiry
    // every attempt (the after step's retries) is cancelled
    const attempts = only(run, 'After2.SendCommand').length;
    expect(attempts).toBe(3);
    expect(only(run, 'After2.CancelCommand')).toEqual(Array(attempts).fill({ CommandId: 'cmd-After2' }));
    expect(run.order.indexOf('After1')).toBeGreaterThan(run.order.indexOf('After2.CancelCommand'));
    expect(run.order).not.toContain('ExpireOldArtefacts');
    expect(run.error?.name).toEqual('SnapshotJob.AfterStepFailed');
    expectFailureTail(run);
  });

  test('a Run Command that fails on an instance fails its step and runs every after step', async () => {
    const run = await execute(definition, stubs({
      'Before2.ListCommands': () => ({ Commands: [{ CommandId: 'cmd-Before2', Status: 'Failed' }] }),
    }));
    expectAfterStepsRan(run, 'Before2.ListCommands');
    expect(run.error?.name).toEqual('SnapshotStep.CommandFailed');
    expectFailureTail(run);
  });

  test('a failing after step does not stop the other after steps, and fails the run', async () => {
    const run = await execute(definition, stubs({ 'After2.SendCommand': () => { throw awsError('Ssm.InvalidInstanceIdException'); } }));

    expect(only(run, 'After2.SendCommand')).toHaveLength(3); // two retries
    expect(only(run, 'After1')).toHaveLength(1);
    expect(run.error?.name).toEqual('SnapshotJob.AfterStepFailed');
    expectFailureTail(run);
    expect(run.error?.cause).toContain('Ssm.InvalidInstanceIdException');
    expect(run.order).not.toContain('ExpireOldArtefacts');
  });

  test('a second concurrent run stops before touching anything', async () => {
    const run = await execute(definition, stubs({
      ListRunningExecutions: () => ({ Executions: [{ ExecutionArn: 'other' }, { ExecutionArn: EXECUTION_ID }] }),
    }));
    expect(run.order).toEqual(['ListRunningExecutions', 'ReportFailure', 'NotifyFailure']);
    expect(run.error?.name).toEqual('SnapshotJob.AlreadyRunning');
    expectFailureTail(run);
  });

  test('another run that is listed before this one is seen counts as running', async () => {
    const run = await execute(definition, stubs({ ListRunningExecutions: () => ({ Executions: [{ ExecutionArn: 'other' }] }) }));
    expect(run.error?.name).toEqual('SnapshotJob.AlreadyRunning');
    expectFailureTail(run);
    expect(run.order).not.toContain('DescribeInstances');
  });

  test('a run not yet listed itself proceeds', async () => {
    const run = await execute(definition, stubs({ ListRunningExecutions: () => ({ Executions: [] }) }));
    expect(run.error).toBeUndefined();
  });

  test('no matching instance fails the run before any step', async () => {
    const run = await execute(definition, stubs({ DescribeInstances: () => ({ Reservations: [] }) }));
    expect(run.order).toEqual(['ListRunningExecutions', 'DescribeInstances', 'ReportFailure', 'NotifyFailure']);
    expect(run.error?.name).toEqual('SnapshotJob.NoInstances');
    expectFailureTail(run);
  });

  test('a snapshot that ends in error fails verification, after the after steps and before retention', async () => {
    // GIVEN one of the run's snapshots ends in error while the others complete
    const run = await execute(definition, stubs({
      FindFailedSnapshots: (input) => {
        [...runSnapshots().snapshots.values()][3].State = 'error';
        return runSnapshots().describeSnapshots(input);
      },
    }));
    expect(run.order).not.toContain('CountCompletedSnapshots');
    expectAfterStepsRan(run, 'CreateSnapshots');
    expect(run.error?.name).toEqual('SnapshotJob.VerificationFailed');
    expectFailureTail(run);
    expect(run.order).not.toContain('ExpireOldArtefacts');
  });

  // EC2 pages before it filters: a filtered page may hold fewer than MaxResults records, even none,
  // with a NextToken (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination)
  test('the completed snapshots are counted across pages, an empty first page included, each next page asked with the last token', async () => {
    const tokens: string[] = [];
    const run = await execute(definition, stubs({
      CountCompletedSnapshots: () => ({ Snapshots: [], NextToken: 'after-none' }),
      CountMoreCompletedSnapshots: (input) => {
        tokens.push(input.NextToken);
        return runSnapshots().describeSnapshots({ ...input, NextToken: input.NextToken === 'after-none' ? undefined : input.NextToken, MaxResults: 5 });
      },
    }));
    expect(run.error).toBeUndefined();
    // an empty page, then 5 and 1 records
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toBe('after-none');
    expect(only(run, 'ReportSuccess')[0].artefacts).toBe(6);
  });

  test('a snapshot the tag filter does not see yet is waited for: the next poll counts it', async () => {
    let counts = 0;
    const run = await execute(definition, stubs({
      // eventual consistency: the first count misses the newest snapshot
      CountCompletedSnapshots: (input) => {
        const page = runSnapshots().describeSnapshots(input);
        return ++counts === 1 ? { ...page, Snapshots: page.Snapshots.slice(1) } : page;
      },
    }));
    expect(run.error).toBeUndefined();
    expect(counts).toBe(2);
    expect(only(run, 'ExpireOldArtefacts')).toHaveLength(1);
  });

  test('a snapshot that disappears (deleted before it completed) fails the run at the completion timeout, before retention', async () => {
    const run = await execute(definition, stubs({
      FindPendingSnapshots: (input) => {
        const answer = healthyStubs().FindPendingSnapshots(input, 1);
        runSnapshots().snapshots.delete('snap-00000000000000001');
        return answer;
      },
    }));
    expect(run.error?.name).toEqual('SnapshotJob.CompletionTimeout');
    expectFailureTail(run);
    expect(run.order).not.toContain('ExpireOldArtefacts');
    // bounded: at most 240 polls, here 90 s apart over the default 6-hour completion timeout
    const polls = definition.States['Verify.PollLimit'].Choices[0].NumericGreaterThanEquals;
    expect(polls).toBe(240);
    expect(definition.States['Verify.Wait'].Seconds).toBe(90);
    expect(only(run, 'FindPendingSnapshots')).toHaveLength(polls);
  });

  test('failing retention fails the run (retention that silently stops is a finding)', async () => {
    const run = await execute(definition, stubs({ ExpireOldArtefacts: () => { throw awsError('Error', 'could not expire 1 snapshot(s)'); } }));
    expect(run.error?.name).toEqual('Error');
    expectFailureTail(run);
    expect(run.order.filter((s) => s === 'ExpireOldArtefacts')).toHaveLength(3);
  });

  test('a failing metrics call does not fail a good run', async () => {
    const run = await execute(definition, stubs({ ReportSuccess: () => { throw awsError('Lambda.ServiceException'); } }));
    expect(run.error).toBeUndefined();
    expect(run.output.reportError.Error).toEqual('Lambda.ServiceException');
  });
});

describe('the AMI variant, executed locally', () => {
  let definition: any;

  beforeAll(() => {
    definition = synthesizeJob(Capture.images({ stopInstance: true, stopTimeout: Duration.minutes(1) }));
  });

  test('is valid ASL', () => {
    expect(aslErrors(definition)).toEqual('');
    expect(allStates(definition).CreateImage.Parameters.NoReboot).toBe(true);
  });

  test('stops, images and starts every instance, tagging images and their snapshots', async () => {
    const run = await execute(definition, stubs());
    expect(run.error).toBeUndefined();
    for (const id of INSTANCES) {
      const mine = run.calls.filter((c) => !/^(Before|After)/.test(c.state) && JSON.stringify(c.input).includes(id)).map((c) => c.state);
      expect(mine).toEqual(['StopInstance', 'DescribeInstanceState', 'CreateImage', 'StartInstance']);
    }
    const image = only(run, 'CreateImage')[0];
    expect(image.TagSpecifications.map((t: any) => t.ResourceType)).toEqual(['image', 'snapshot']);
    expect(image.TagSpecifications[1].Tags).toContainEqual({ Key: 'backup:execution', Value: EXECUTION_ID });
    expect(image.Name).toMatch(/^orders-db-i-0000000000000000[abc]-run-2024-06-01$/);
    expect(only(run, 'DescribeImages')[0].ImageIds.sort()).toEqual(['ami-a', 'ami-b', 'ami-c']);
  });

  test('images every instance of both DescribeInstances pages', async () => {
    const run = await execute(definition, stubs({
      DescribeInstances: () => ({ Reservations: [{ Instances: [{ InstanceId: INSTANCES[0] }] }], NextToken: 'page-2' }),
      DescribeMoreInstances: (input) => {
        expect(input.NextToken).toBe('page-2');
        return { Reservations: [{ Instances: [{ InstanceId: INSTANCES[1] }, { InstanceId: INSTANCES[2] }] }] };
      },
    }));
    expect(run.error).toBeUndefined();
    expect(only(run, 'CreateImage').map((c) => c.InstanceId).sort()).toEqual(INSTANCES);
  });

  test('a failing CreateImage starts the instance again and still runs every after step', async () => {
    const run = await execute(definition, stubs({ CreateImage: () => { throw awsError('Ec2.Ec2Exception', 'AMI quota exceeded'); } }));
    expect(only(run, 'StartAfterFailure').map((i) => i.InstanceIds[0]).sort()).toEqual(INSTANCES);
    expect(run.order).not.toContain('StartInstance');
    expectAfterStepsRan(run, 'StartAfterFailure');
    // each instance is a child execution that records its error name (its cause stays in its own
    // history); the job fails with the first one's error, naming how many failed
    expect(run.error).toEqual({
      name: 'Ec2.Ec2Exception',
      cause: expect.stringMatching(/^3 of 3 instances failed, the first i-0000000000000000[abc] with Ec2.Ec2Exception \(each cause is in its child execution of map run Capture\)$/),
    });
    expectFailureTail(run);
  });

  test('an instance that does not stop in time is started again', async () => {
    const run = await execute(definition, stubs({
      DescribeInstanceState: (input) => ({ Reservations: [{ Instances: [{ InstanceId: input.InstanceIds[0], State: { Name: 'stopping' } }] }] }),
    }));
    // 1 minute / 10 s polls per instance, then a start, and the after steps
    expect(only(run, 'DescribeInstanceState').length).toBeGreaterThanOrEqual(6);
    expect(only(run, 'StartAfterFailure').length).toBeGreaterThanOrEqual(1);
    expectAfterStepsRan(run, 'StartAfterFailure');
    expect(run.error?.name).toEqual('SnapshotJob.StopTimeout');
    expectFailureTail(run);
  });

  test('a freeze and a thaw that both time out are both cancelled, no instance is stopped, and the run fails', async () => {
    const run = await execute(definition, stubs({
      'Before2.ListCommands': () => ({ Commands: [{ CommandId: 'cmd-Before2', Status: 'InProgress' }] }),
      'After2.ListCommands': () => ({ Commands: [{ CommandId: 'cmd-After2', Status: 'InProgress' }] }),
    }));
    expect(only(run, 'Before2.CancelCommand')).toEqual([{ CommandId: 'cmd-Before2' }]);
    expect(only(run, 'After2.CancelCommand').length).toBe(only(run, 'After2.SendCommand').length);
    expect(run.order).not.toContain('StopInstance');
    expect(run.error?.name).toEqual('SnapshotStep.Timeout');
    expectFailureTail(run);
  });
});

describe('calls replayed against the role', () => {
  test('the runs above replayed every Task state of both variants', () => {
    expect(replayed.size).toBe(2);
    for (const [definition, seen] of replayed) {
      expect(Object.keys(taskStates(definition)).filter((st) => !seen.has(st))).toEqual([]);
    }
  });
});
