/**
 * The expiry handler's SDK calls replayed against its synthesized role: the real handler runs
 * with the environment the synthesized function carries, on mocked clients that answer with the
 * job's own snapshots; every call it made (DescribeSnapshots, ListExecutions, DeleteSnapshot) is
 * evaluated with the IAM policy evaluator against the function's role (test/support/call-replay).
 * A missing grant, or a condition the role puts on a tag the job does not write, fails.
 */
import { DeleteSnapshotCommand, DescribeSnapshotsCommand, EC2Client, Snapshot } from '@aws-sdk/client-ec2';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/orchestration/snapshot-expiry';
import { ConsistentSnapshotJob, Retention } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { replayHandlerCalls } from '../support/call-replay';
import { renderIntrinsics } from '../support/intrinsics';

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);

let template: any;
let functionId: string;
let environment: Record<string, string>;
let machineArn: string;

beforeAll(() => {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  const job = new ConsistentSnapshotJob(stack, 'OrdersDb', {
    purpose: 'orders-db',
    instances: { tags: { App: 'orders' } },
    retain: Retention.count(2),
  });
  template = checkedTemplate(stack);
  functionId = stack.getLogicalId(job.expiryFunction.node.defaultChild as any);
  environment = renderIntrinsics(template.Resources[functionId].Properties.Environment.Variables, { template });
  machineArn = renderIntrinsics({ Ref: stack.getLogicalId(job.stateMachine.node.defaultChild as any) }, { template });
});

const calls = () => [
  ...ec2.calls().map((c) => ({ service: 'ec2', command: c.args[0].constructor.name, input: c.args[0].input })),
  ...sfn.calls().map((c) => ({ service: 'sfn', command: c.args[0].constructor.name, input: c.args[0].input })),
];

test('a count(2) run: the calls that list, read the history and delete the oldest run are all allowed by the function role', async () => {
  // GIVEN four runs of the job, each with two snapshots carrying the tags the job writes at creation
  const execution = (day: number) => `${machineArn.replace(':stateMachine:', ':execution:')}:run-${day}`;
  const tags = (day: number) => [
    { Key: environment.PURPOSE_TAG_KEY, Value: environment.PURPOSE },
    { Key: environment.MANAGED_BY_TAG_KEY, Value: environment.MANAGED_BY },
    { Key: environment.EXECUTION_TAG_KEY, Value: execution(day) },
  ];
  const snapshots: Snapshot[] = [27, 28, 29, 30].flatMap((day) => ['root', 'data'].map((v) => ({
    SnapshotId: `snap-${day}-${v}`, StartTime: new Date(`2024-06-${day}T02:00:00Z`), State: 'completed' as const, Tags: tags(day),
  })));
  ec2.reset();
  sfn.reset();
  ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: snapshots });
  ec2.on(DeleteSnapshotCommand).resolves({});
  sfn.on(ListExecutionsCommand).resolves({
    executions: [30, 29, 28, 27].map((day) => ({
      executionArn: execution(day),
      stateMachineArn: machineArn,
      name: `run-${day}`,
      status: day === 30 ? 'RUNNING' : 'SUCCEEDED',
      startDate: new Date(`2024-06-${day}T01:59:00Z`),
    })),
  });
  const saved = { ...process.env };
  Object.assign(process.env, environment);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  let result: any;
  try {
    // WHEN the real handler runs as the job's ExpireOldArtefacts task
    result = await handler({ executionId: execution(30) });
  } finally {
    process.env = saved;
  }

  // THEN it deleted run 27's two snapshots (count 2 keeps 29 and 30, 28 is past the count)
  expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId).sort())
    .toEqual(['snap-27-data', 'snap-27-root', 'snap-28-data', 'snap-28-root']);
  expect(result.expired.length).toBe(4);
  // and every call it made is allowed by the role the function runs as
  const byId = new Map(snapshots.map((s) => [s.SnapshotId!, Object.fromEntries(s.Tags!.map((t) => [t.Key!, t.Value!]))]));
  const replay = await replayHandlerCalls(template, functionId, calls(), { tagsOf: (id) => byId.get(id) });
  expect(replay.results.map((r) => r.action).sort()).toEqual([
    'ec2:DeleteSnapshot', 'ec2:DeleteSnapshot', 'ec2:DeleteSnapshot', 'ec2:DeleteSnapshot', 'ec2:DescribeSnapshots', 'states:ListExecutions',
  ]);
  expect(replay.denied).toEqual([]);
  expect(replay.unmodelled).toEqual([]);

  // and a snapshot without the job's managed-by tag would be refused by the role itself
  const foreign = await replayHandlerCalls(template, functionId, [{ service: 'ec2', command: 'DeleteSnapshotCommand', input: { SnapshotId: 'snap-foreign' } }], {
    tagsOf: () => ({ [environment.PURPOSE_TAG_KEY]: environment.PURPOSE }),
  });
  expect(foreign.denied).toEqual([expect.stringContaining('ec2:DeleteSnapshot on arn:aws:ec2:us-east-1::snapshot/snap-foreign -> ')]);
});
