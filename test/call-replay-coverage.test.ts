/**
 * Calls replayed against roles, for every state machine the examples synthesize: each example is
 * synthesized through every gate, each of its state machines is executed locally (the JSONPath
 * ones with aws-local-stepfunctions, the JSONata ones with test/support/jsonata.ts) on a success
 * path, a paged path and a run in which each Task state in turn fails, and every Task call those
 * runs make is evaluated with the IAM policy evaluator against the synthesized role of the state
 * machine (test/support/call-replay). A missing grant or an over-broad deny fails; so does a Task
 * state that no run reached, or a state machine no driver knows.
 */
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { listExamples } from '../examples/catalogue';
import { awsError, execute as executeJob, healthyStubs, lambdaStep, runCommandStubs, runSnapshots, Stub } from './orchestration/local-execution';
import { execute as executeDrill, Handler, serviceHandlers, ServiceError, World } from './restore/drill-harness';
import { AuthorizedCall, RecordedCall, replayRun, ReplayWorld, stateMachineRoleId, taskStates, uncaughtConditionRemovals } from './support/call-replay';
import { filterTags, Kind, kindOf, literalTagFilters, Machine, machinesOf } from './support/example-machines';
import { runJsonata } from './support/jsonata';
import { select } from '../lambda/restore/drill-select';
import { ScaleAccount } from './support/scale/account';

/** One local run: the Task calls it made and what the world knows of the resources' tags. */
interface Run {
  readonly calls: RecordedCall[];
  readonly tagsOf: (id: string) => Record<string, string> | undefined;
}

/** Runs in which each Task state in turn fails (a non-retryable AWS error), after the given healthy runs. */
async function eachStateFailing<T>(definition: any, run: (failing?: string) => Promise<T>): Promise<T[]> {
  const runs = [await run()];
  for (const state of Object.keys(taskStates(definition))) {
    runs.push(await run(state));
  }
  return runs;
}

// ---- ConsistentSnapshotJob (JSONPath) -------------------------------------------------------

async function jobRuns(m: Machine): Promise<Run[]> {
  const tasks = Object.keys(taskStates(m.definition));
  const stubs = (): Record<string, Stub> => {
    const s: Record<string, Stub> = healthyStubs();
    for (const name of tasks) {
      if (/^(Before|After)\d+$/.test(name)) {
        s[name] = lambdaStep;
      }
      const command = /^((?:Before|After)\d+)\.SendCommand$/.exec(name);
      if (command) {
        Object.assign(s, runCommandStubs(command[1]));
      }
    }
    return s;
  };
  const toRun = (calls: Array<{ state: string; input: any }>): Run => {
    // the instances the job found carry the tags it selected them by
    const selected = filterTags(calls.find((c) => c.state === 'DescribeInstances')?.input?.Filters);
    return { calls, tagsOf: (id) => (id.startsWith('i-') ? selected : undefined) };
  };
  const runs = await eachStateFailing(m.definition, async (failing) => {
    const answers = stubs();
    if (failing) {
      answers[failing] = () => {
        throw awsError('Ec2.UnauthorizedOperation', `${failing} failed`);
      };
    }
    return toRun((await executeJob(m.definition, answers)).calls);
  });
  // a second page of instances
  const paged = stubs();
  const first = paged.DescribeInstances;
  paged.DescribeInstances = async (input, attempt) => ({ ...(await first(input, attempt) as any), NextToken: 'page-2' });
  paged.DescribeMoreInstances = () => ({ Reservations: [{ Instances: [{ InstanceId: 'i-0000000000000000d' }] }] });
  runs.push(toRun((await executeJob(m.definition, paged)).calls));
  // the verification's count over a second page of completed snapshots
  if (tasks.includes('CountMoreCompletedSnapshots')) {
    const counted = stubs();
    counted.CountCompletedSnapshots = (input) => runSnapshots().describeSnapshots({ ...input, MaxResults: 5 });
    runs.push(toRun((await executeJob(m.definition, counted)).calls));
  }
  // Run Command steps that never finish: polled to their timeout, then cancelled
  const hanging = stubs();
  for (const name of tasks.filter((t) => t.endsWith('.ListCommands'))) {
    const step = name.slice(0, -'.ListCommands'.length);
    hanging[name] = () => ({ Commands: [{ CommandId: `cmd-${step}`, Status: 'InProgress' }] });
  }
  runs.push(toRun((await executeJob(m.definition, hanging)).calls));
  return runs;
}

// ---- RestoreDrill and its sweeper (JSONPath) ------------------------------------------------

const ec2 = mockClient(EC2Client);
function snapshotsOf(tags: Record<string, string>) {
  const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return [
    { SnapshotId: 'snap-a', VolumeId: 'vol-a', StartTime: new Date('2026-11-21T02:00:00Z'), State: 'completed' as const, VolumeSize: 20, Tags },
    { SnapshotId: 'snap-b', VolumeId: 'vol-b', StartTime: new Date('2026-11-21T02:00:02Z'), State: 'completed' as const, VolumeSize: 20, Tags },
  ];
}

function drillWorld(all: World[]): { world: World; tagsOf: (id: string) => Record<string, string> | undefined } {
  const world = new World();
  all.push(world);
  // remember the tags of every resource a run created, also after teardown removed it
  const seen = new Map<string, Record<string, string>>();
  for (const list of [world.instances, world.volumes]) {
    const push = list.push.bind(list);
    list.push = (...items) => {
      items.forEach((i) => seen.set(i.id, i.tags));
      return push(...items);
    };
  }
  return { world, tagsOf: (id) => seen.get(id) };
}

async function drillRuns(m: Machine, documents: Record<string, any>): Promise<Run[]> {
  ec2.reset();
  // the snapshots carry the creation record of the drill's first creator (the select handler
  // restores nothing else), and a job creator's run was in progress when they started
  let record: Record<string, string> = {};
  ec2.on(DescribeSnapshotsCommand).callsFake((input) => ({ Snapshots: snapshotsOf({ ...filterTags(input.Filters), ...record }) }));
  const runs = { send: async () => ({ startDate: new Date('2026-11-21T01:59:00Z') }) } as unknown as SFNClient;
  // the creator's own service records the run (a window's execution, an Automation execution of its document)
  let document: string | undefined;
  const ssmRecords = {
    send: async (c: any) => (c.input.WindowId !== undefined
      ? { WindowExecutions: [{ WindowId: c.input.WindowId, StartTime: new Date('2026-11-21T01:59:00Z'), EndTime: new Date('2026-11-21T02:10:00Z') }] }
      : { AutomationExecution: { DocumentName: document, ExecutionStartTime: new Date('2026-11-21T01:59:00Z'), ExecutionEndTime: new Date('2026-11-21T02:10:00Z') } }),
  } as unknown as SSMClient;
  const real = (): Record<string, Handler> => ({
    SelectRestorePoint: (input) => {
      const [creator] = input.creators ?? [];
      document = creator?.automationDocument;
      record = creator === undefined ? {} : {
        [input.managedByTagKey]: creator.managedBy,
        [creator.executionTagKey]: creator.stateMachineArn !== undefined ? `${creator.stateMachineArn.replace(':stateMachine:', ':execution:')}:run-1`
          : creator.windowId ?? '8a3b1c2d-1111-4a5b-9c8d-0e1f2a3b4c5d',
      };
      return select(ec2 as unknown as EC2Client, input, new Date('2026-11-21T03:00:00Z'), runs, ssmRecords);
    },
    PublishDrillFigures: async () => ({}),
  });
  const worlds: World[] = [];
  return eachStateFailing(m.definition, async (failing) => {
    const { world, tagsOf } = drillWorld(worlds);
    world.documents = documents;
    const custom = real();
    if (failing) {
      custom[failing] = async () => {
        throw new ServiceError('Ec2.UnauthorizedOperation', `${failing} failed`);
      };
    }
    await executeDrill(m.definition, serviceHandlers(world, custom));
    return { calls: world.calls, tagsOf };
  });
}

async function sweeperRuns(m: Machine): Promise<Run[]> {
  // the tags the sweeper looks for: the literal tag filters of its definition
  const managedBy = literalTagFilters(m.definition);
  const worlds: World[] = [];
  return eachStateFailing(m.definition, async (failing) => {
    const { world, tagsOf } = drillWorld(worlds);
    const leaked = { ...managedBy, 'backup:drill-execution': 'drill-0007' };
    world.instances.push({ id: 'i-leaked', tags: leaked, state: 'running' });
    world.volumes.push({ id: 'vol-leaked', tags: leaked, state: 'available' });
    const custom: Record<string, Handler> = {};
    if (failing) {
      custom[failing] = async () => {
        throw new ServiceError('Ec2.UnauthorizedOperation', `${failing} failed`);
      };
    }
    await executeDrill(m.definition, serviceHandlers(world, custom));
    return { calls: world.calls, tagsOf };
  });
}

// ---- window housekeeping and snapshot lock (JSONata) ----------------------------------------

const START = '2026-11-25T12:05:00.000Z';
const DAY = 86_400_000;

async function housekeepingRuns(m: Machine): Promise<Run[]> {
  // what the machine selects by: the tag filters of its DescribeSnapshots, its window's id
  const tags = literalTagFilters(m.definition);
  const windowId = /"WindowId":\s*"([^"]+)"/.exec(JSON.stringify(m.definition).replace(/\\"/g, '"'))?.[1];
  if (Object.keys(tags).length === 0 || !windowId) {
    throw new Error(`${m.example} ${m.id}: no tag filters or window id found in the housekeeping definition`);
  }
  const accountOf = (): ScaleAccount => {
    const account = new ScaleAccount();
    const start = Date.parse(START);
    let n = 0;
    // two volumes, 40 daily snapshots each: older than any age or count retention the examples set
    for (let v = 0; v < 2; v++) {
      for (let d = 0; d < 40; d++) {
        account.addSnapshot(++n, { volume: v, startTime: new Date(start - 110 * 60_000 + 10 * 60_000 - d * DAY), tags: { ...tags, AppConsistent: 'true' } });
      }
    }
    for (let d = 0; d < 60; d++) {
      account.addWindowExecution(d, windowId, new Date(start - 110 * 60_000 - d * DAY), d === 0 ? 'FAILED' : 'SUCCESS');
    }
    return account;
  };
  return eachStateFailing(m.definition, async (failing) => {
    const account = accountOf();
    const handlers: Record<string, (a: any) => unknown> = {
      DescribeSnapshots: (a) => account.describeSnapshots(a),
      DescribeVolumeSnapshots: (a) => account.describeSnapshots(a),
      DeleteSnapshot: (a) => account.deleteSnapshot(a),
      DescribeExecutions: (a) => account.describeMaintenanceWindowExecutions(a),
      DescribeRecentExecutions: (a) => account.describeMaintenanceWindowExecutions(a),
      PublishMetrics: () => ({}),
    };
    if (failing) {
      handlers[failing] = () => {
        const e = new Error(`${failing} failed`);
        e.name = 'Ec2.UnauthorizedOperation';
        throw e;
      };
    }
    const known = new Map([...account.snapshots.values()].map((s) => [s.SnapshotId, Object.fromEntries(s.Tags.map((t) => [t.Key, t.Value]))]));
    const run = await runJsonata(m.definition, { handlers, startTime: START, ...m.env });
    return { calls: run.calls, tagsOf: (id: string) => known.get(id) };
  });
}

async function lockRuns(m: Machine): Promise<Run[]> {
  // the purpose tag the lock selects by: `tag:<key>` with the purposes, or `tag-key`
  const [filter] = taskStates(m.definition).FindTaggedSnapshots.Arguments.Filters;
  const purposeTag = filter.Name.startsWith('tag:') ? { [filter.Name.slice(4)]: filter.Values[0] } : { [filter.Values[0]]: 'any-purpose' };
  const snapshots: Record<string, Record<string, string>> = { 'snap-0001': purposeTag, 'snap-0002': purposeTag };
  const locks: Record<string, any> = { 'snap-0002': { LockState: 'governance', LockExpiresOn: '2026-12-01T00:00:00.000Z' } };
  const input = (id: string) => ({
    'source': 'aws.ec2',
    'detail-type': 'EBS Snapshot Notification',
    'detail': { event: 'createSnapshot', result: 'succeeded', snapshot_id: `arn:aws:ec2::${m.env.region ?? 'us-east-1'}:snapshot/${id}` },
  });
  const runs: Run[] = [];
  for (const id of Object.keys(snapshots)) {
    runs.push(...await eachStateFailing(m.definition, async (failing) => {
      const handlers: Record<string, (a: any) => unknown> = {
        FindTaggedSnapshots: (a) => ({ Snapshots: (a.SnapshotIds as string[]).filter((s) => snapshots[s]).map((SnapshotId) => ({ SnapshotId })) }),
        FindExistingLocks: (a) => ({
          Snapshots: (a.SnapshotIds as string[]).filter((s) => locks[s]).map((SnapshotId) => ({ SnapshotId, ...locks[SnapshotId] })),
        }),
        Lock: (a) => ({ SnapshotId: a.SnapshotId, LockState: a.LockMode }),
      };
      if (failing) {
        handlers[failing] = () => {
          const e = new Error(`${failing} failed`);
          e.name = 'Ec2.UnauthorizedOperation';
          throw e;
        };
      }
      const run = await runJsonata(m.definition, { handlers, input: input(id), startTime: START, stateMachineName: m.id, ...m.env });
      return { calls: run.calls, tagsOf: (s: string) => snapshots[s] };
    }));
  }
  return runs;
}

// ---- the examples --------------------------------------------------------------------------

/** The state machines each example synthesizes, by kind (a vanished or new machine fails here). */
const MACHINES: Record<string, Kind[]> = {
  'backup-workload-and-archive': [],
  'baseline-tiers': ['drill', 'housekeeping', 'housekeeping', 'lock', 'sweeper'],
  'consistent-snapshot-job': ['job', 'job'],
  'dlm-guidance': [],
  'organization-stackset': ['housekeeping', 'housekeeping', 'lock'],
  'pre-change-patch-night': [],
  'restore-drill': ['drill', 'drill', 'sweeper', 'sweeper'],
  'vss-maintenance-windows': ['housekeeping', 'housekeeping'],
  'worm-guard': ['lock'],
};

describe('every Task state of every state machine the examples synthesize is replayed against its role', () => {
  test('the table names every example of the catalogue', () => {
    expect(listExamples()).toEqual(Object.keys(MACHINES).sort());
  });

  test.each(Object.entries(MACHINES))('%s', async (example, kinds) => {
    const { machines, documents } = machinesOf(example);
    expect(machines.map((m) => kindOf(m.definition) ?? `unknown ${m.stack}/${m.id}`).sort()).toEqual(kinds);
    const problems: string[] = [];
    for (const m of machines) {
      const kind = kindOf(m.definition)!;
      const where = `${m.stack}/${m.id}`;
      const runs = kind === 'job' ? await jobRuns(m)
        : kind === 'drill' ? await drillRuns(m, documents[m.stack])
          : kind === 'sweeper' ? await sweeperRuns(m)
            : kind === 'housekeeping' ? await housekeepingRuns(m)
              : await lockRuns(m);
      const replayed = new Set<string>();
      const allowed: AuthorizedCall[] = [];
      for (const run of runs) {
        const world: ReplayWorld = { tagsOf: run.tagsOf, ...m.env };
        const report = await replayRun(m.template, m.id, m.definition, run.calls, world);
        problems.push(...report.denied.map((d) => `${where}: ${d}`));
        problems.push(...report.unmodelled.map((a) => `${where}: ${a} is not modelled resource by resource`));
        report.replayedStates.forEach((s) => replayed.add(s));
        allowed.push(...report.results.filter((r) => r.result === 'Allowed'));
      }
      // each condition of each deny of the role keeps one of these calls open
      problems.push(...(await uncaughtConditionRemovals(m.template, stateMachineRoleId(m.template, m.id), allowed, m.env)).map((d) => `${where}: ${d}`));
      problems.push(...Object.keys(taskStates(m.definition)).filter((s) => !replayed.has(s)).map((s) => `${where} (${kind}): Task state ${s} never replayed`));
    }
    expect([...new Set(problems)]).toEqual([]);
  }, 900_000);
});
