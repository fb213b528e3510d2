/**
 * The RestoreDrill state machine, executed: the synthesized definition runs locally
 * (aws-local-stepfunctions) with the real selection and metrics handlers (on mocked SDK clients)
 * and simulated EC2/SSM services, for success, a failed validation, a missing snapshot and a
 * failure halfway through. Every path must leave nothing behind.
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Snapshot, SnapshotState } from '@aws-sdk/client-ec2';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { mockClient } from 'aws-sdk-client-mock';
import { definitionOf, documentsOf, execute, Handler, serviceHandlers, ServiceError, World } from './drill-harness';
import { publish } from '../../lambda/restore/drill-metrics';
import { select } from '../../lambda/restore/drill-select';
import { DrillSource, RestoreDrill } from '../../src/restore';
import { createCheckedApp, createTestStack, synthesizeChecked } from '../support';
import { datapointsOf, inAlarm } from '../support/alarm-evaluation';
import { ReplayReport, replayRun, taskStates } from '../support/call-replay';

// asl-validator ships no types
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator: (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => { isValid: boolean; errors: unknown[] } = require('asl-validator');

const ec2 = mockClient(EC2Client);
const cloudwatch = mockClient(CloudWatchClient);

let drillDefinition: any;
let sweeperDefinition: any;
let drill: RestoreDrill;
let template: any;
let drillId: string;
let heartbeatId: string;
let sweeperId: string;
let documents: Record<string, any>;

beforeAll(() => {
  // through every gate: the definitions run here are the ones that pass synthesis
  const app = createCheckedApp();
  const stack = createTestStack(app, 'Drills');
  drill = new RestoreDrill(stack, 'WeeklyDrill', {
    purpose: 'database-dr',
    schedule: events.Schedule.cron({ weekDay: 'SAT', hour: '3', minute: '0' }),
    validation: ['test -f /data/PG_VERSION'],
    validationTimeout: Duration.minutes(10),
  });
  template = synthesizeChecked(app).getStackByName(stack.stackName).template;
  drillId = stack.getLogicalId(drill.stateMachine.node.defaultChild as any);
  heartbeatId = stack.getLogicalId(drill.heartbeatAlarm.node.defaultChild as any);
  sweeperId = stack.getLogicalId(drill.sweeper.node.defaultChild as any);
  drillDefinition = definitionOf(stack, drillId);
  documents = documentsOf(stack);
  sweeperDefinition = definitionOf(stack, sweeperId);
});

// Every call a run made is replayed against the role of the state machine that made it
// (test/support/call-replay): a missing grant or an over-broad deny fails the test that ran it.
let worlds: World[] = [];
const replayed = { drill: new Set<string>(), sweeper: new Set<string>() };
const everTagged = new WeakMap<World, Map<string, Record<string, string>>>();
function newWorld(): World {
  const world = new World();
  world.documents = documents;
  worlds.push(world);
  // remember the tags of every resource the run created, also after teardown removed it
  const seen = new Map<string, Record<string, string>>();
  everTagged.set(world, seen);
  for (const list of [world.instances, world.volumes]) {
    const push = list.push.bind(list);
    list.push = (...items) => {
      items.forEach((i) => seen.set(i.id, i.tags));
      return push(...items);
    };
  }
  return world;
}
afterEach(async () => {
  const current = worlds;
  worlds = [];
  for (const world of current) {
    const tags = (id: string) => everTagged.get(world)!.get(id);
    // a run is of one machine: the sweeper's first call is one the drill does not have
    const sweeperRun = world.calls.length > 0 && !(world.calls[0].state in taskStates(drillDefinition));
    const inDrill = sweeperRun ? [] : world.calls;
    const inSweeper = sweeperRun ? world.calls : [];
    const reports: Array<[keyof typeof replayed, ReplayReport]> = [
      ['drill', await replayRun(template, drillId, drillDefinition, inDrill, { tagsOf: tags })],
      ['sweeper', await replayRun(template, sweeperId, sweeperDefinition, inSweeper, { tagsOf: tags })],
    ];
    for (const [machine, report] of reports) {
      expect(report.denied).toEqual([]);
      report.replayedStates.forEach((st) => replayed[machine].add(st));
    }
  }
});

beforeEach(() => {
  ec2.reset();
  cloudwatch.reset();
  cloudwatch.on(PutMetricDataCommand).resolves({});
});

const snapshot = (id: string, volume: string, start: string, state: SnapshotState = 'completed'): Snapshot => ({
  SnapshotId: id, VolumeId: volume, StartTime: new Date(start), State: state, VolumeSize: 20,
});

/** The real handlers, on mocked clients, as the Lambda tasks of the state machine. */
function realHandlers(): Record<string, Handler> {
  return {
    SelectRestorePoint: (input) => select(ec2 as unknown as EC2Client, input, new Date('2026-11-21T03:00:00Z')),
    PublishDrillFigures: (input) => publish(cloudwatch as unknown as CloudWatchClient, input),
  };
}

describe('the definition', () => {
  test.each([['drill', () => drillDefinition], ['sweeper', () => sweeperDefinition]])('the %s definition is valid ASL', (_name, def) => {
    const { isValid, errors } = aslValidator(def(), { checkPaths: true, checkArn: true });
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  test('every failure of the drill goes to teardown', () => {
    expect(drillDefinition.States.Drill.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordDrillFailure' }]);
    expect(drillDefinition.States.RecordDrillFailure.Next).toBe('Teardown');
    expect(drillDefinition.States.RecordDrillFailure.Catch[0].Next).toBe('Teardown');
    expect(drillDefinition.States.Drill.Next).toBe('Teardown');
  });
});

describe('executions', () => {
  test('success: restores the newest complete set, validates, publishes pass, time-to-restore and snapshot age, and tears down', async () => {
    // GIVEN a complete two-volume set at 02:00 and a newer set still pending at 02:50
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        snapshot('snap-new-a', 'vol-a', '2026-11-21T02:50:00Z', 'pending'),
        snapshot('snap-new-b', 'vol-b', '2026-11-21T02:50:01Z'),
        snapshot('snap-a', 'vol-a', '2026-11-21T02:00:00Z'),
        snapshot('snap-b', 'vol-b', '2026-11-21T02:00:02Z'),
      ],
    });
    const world = newWorld();

    // WHEN
    const result = await execute(drillDefinition, serviceHandlers(world, realHandlers()));

    // THEN it passed, restored both snapshots of the complete set to the scratch instance's AZ
    expect(result.status).toBe('SUCCEEDED');
    const created = world.calls.filter((c) => c.state === 'CreateRestoredVolume').map((c) => c.input);
    expect(created.map((c) => c.SnapshotId).sort()).toEqual(['snap-a', 'snap-b']);
    expect(created.every((c) => c.AvailabilityZone === 'us-east-1a' && c.Encrypted === true && c.VolumeType === 'gp3')).toBe(true);
    expect(world.calls.filter((c) => c.state === 'AttachRestoredVolume').map((c) => c.input.Device).sort()).toEqual(['/dev/sdf', '/dev/sdg']);
    // the validation ran with the volumes' mount points
    expect(world.calls.find((c) => c.state === 'RunValidation')!.input.Parameters).toEqual({ mounts: ['sdf:/data sdg:/data2'] });
    // every restored resource carried the library's tags and the execution tag
    const launched = world.calls.find((c) => c.state === 'LaunchScratchInstance')!.input;
    expect(launched.TagSpecifications[0].Tags).toEqual(expect.arrayContaining([
      { Key: 'backup:purpose', Value: 'restore-drill:database-dr' },
      { Key: 'backup:managed-by', Value: 'Drills/WeeklyDrill' },
      { Key: 'backup:drill-execution', Value: 'drill-0001' },
    ]));
    // the figures: succeeded, restored within the execution's time, data one hour old at validation
    expect(cloudwatch.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input)).toEqual([{
      Namespace: 'CdkEbsBackup/RestoreDrill',
      MetricData: [
        expect.objectContaining({ MetricName: 'DrillSucceeded', Value: 1, Dimensions: [{ Name: 'Purpose', Value: 'database-dr' }] }),
        expect.objectContaining({ MetricName: 'TimeToRestore', Unit: 'Seconds' }),
        expect.objectContaining({ MetricName: 'SnapshotAge', Unit: 'Seconds' }),
      ],
    }]);
    const age = cloudwatch.commandCalls(PutMetricDataCommand)[0].args[0].input.MetricData!.find((d) => d.MetricName === 'SnapshotAge')!.Value!;
    expect(age).toBeGreaterThanOrEqual(3600);
    expect(world.metricData).toEqual([]); // no failure metric
    // and nothing is left
    expect(world.leftovers()).toEqual([]);
  });

  test('a passing drill publishes the datapoint its heartbeat alarm counts; a failing one leaves the heartbeat in alarm', async () => {
    // the heartbeat alarm as deployed: missing data breaching, so a drill that never runs alarms
    const alarm = template.Resources[heartbeatId].Properties;
    expect(alarm.TreatMissingData).toBe('breaching');
    const at = Date.UTC(2026, 10, 21, 3, 30);
    const afterRun = at + alarm.Period * 1000; // the run's period is complete
    expect(inAlarm(alarm, [], afterRun)).toBe(true);

    // WHEN a drill passes
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 'vol-a', '2026-11-21T02:00:00Z')] });
    const passed = newWorld();
    expect((await execute(drillDefinition, serviceHandlers(passed, realHandlers()))).status).toBe('SUCCEEDED');
    const published = [...cloudwatch.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input), ...passed.metricData];
    // THEN what it published is the alarm's metric (namespace, name, dimensions), and it quiets the alarm
    const points = datapointsOf(alarm, published, at);
    expect(points).toEqual([{ at, value: 1 }]);
    expect(inAlarm(alarm, points, afterRun)).toBe(false);

    // WHEN a drill fails validation, its DrillSucceeded=0 does not count as a heartbeat
    cloudwatch.reset();
    cloudwatch.on(PutMetricDataCommand).resolves({});
    const failed = newWorld();
    await execute(drillDefinition, serviceHandlers(failed, {
      ...realHandlers(),
      GetValidationResult: async () => ({ Status: 'Failed', StandardOutputContent: '', StandardErrorContent: 'missing' }),
    }));
    const failedPoints = datapointsOf(alarm, [
      ...cloudwatch.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input), ...failed.metricData,
    ], at);
    expect(failedPoints).toEqual([{ at, value: 0 }]);
    expect(inAlarm(alarm, failedPoints, afterRun)).toBe(true);
  });

  test('a failed validation fails the drill with its stderr, records the failure and tears down', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 'vol-a', '2026-11-21T02:00:00Z')] });
    const world = newWorld();
    const result = await execute(drillDefinition, serviceHandlers(world, {
      ...realHandlers(),
      GetValidationResult: async () => ({ Status: 'Failed', StandardOutputContent: '', StandardErrorContent: 'test: /data/PG_VERSION: missing' }),
    }));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'ValidationFailed' }));
    expect(result.cause).toContain('/data/PG_VERSION');
    expect(world.metricData).toEqual([expect.objectContaining({
      Namespace: 'CdkEbsBackup/RestoreDrill', MetricData: [expect.objectContaining({ MetricName: 'DrillSucceeded', Value: 0 })],
    })]);
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    expect(world.instances).toHaveLength(1);
    expect(world.leftovers()).toEqual([]);
  });

  test('a missing snapshot set fails the drill before anything is created, and records the failure', async () => {
    // GIVEN only a set that is still pending
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 'vol-a', '2026-11-21T02:00:00Z', 'pending')] });
    const world = newWorld();
    const result = await execute(drillDefinition, serviceHandlers(world, realHandlers()));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'NoRestorePoint' }));
    expect(result.cause).toBe('no complete snapshot set with tag backup:purpose=database-dr owned by this account');
    expect(world.calls.map((c) => c.state)).not.toContain('LaunchScratchInstance');
    expect(world.metricData).toEqual([expect.objectContaining({
      Namespace: 'CdkEbsBackup/RestoreDrill', MetricData: [expect.objectContaining({ MetricName: 'DrillSucceeded', Value: 0 })],
    })]);
    expect(world.leftovers()).toEqual([]);
  });

  test('a failure halfway through (the second volume cannot be created) still removes the instance and the first volume', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snapshot('snap-a', 'vol-a', '2026-11-21T02:00:00Z'), snapshot('snap-b', 'vol-b', '2026-11-21T02:00:01Z')],
    });
    const world = newWorld();
    let created = 0;
    const result = await execute(drillDefinition, serviceHandlers(world, {
      ...realHandlers(),
      CreateRestoredVolume: async (input) => {
        if (++created === 2) {
          throw new ServiceError('Ec2.InsufficientVolumeCapacityException', 'no gp3 capacity in us-east-1a');
        }
        const id = world.next('vol');
        world.volumes.push({ id, tags: Object.fromEntries(input.TagSpecifications[0].Tags.map((t: any) => [t.Key, t.Value])), state: 'available' });
        return { VolumeId: id };
      },
    }));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'Ec2.InsufficientVolumeCapacityException' }));
    expect(world.calls.filter((c) => c.state === 'TerminateInstances')).toHaveLength(1);
    expect(world.calls.filter((c) => c.state === 'DeleteVolume').length).toBeGreaterThanOrEqual(1);
    // the failure tail ran: the failure is recorded before the teardown
    expect(world.metricData).toEqual([expect.objectContaining({
      Namespace: 'CdkEbsBackup/RestoreDrill', MetricData: [expect.objectContaining({ MetricName: 'DrillSucceeded', Value: 0 })],
    })]);
    expect(world.leftovers()).toEqual([]);
  });

  test('a scratch instance that never comes up times out the polling loop and is still torn down', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 'vol-a', '2026-11-21T02:00:00Z')] });
    const world = newWorld();
    const result = await execute(drillDefinition, serviceHandlers(world, {
      ...realHandlers(),
      DescribeAgent: async () => ({ InstanceInformationList: [] }),
    }));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'DrillTimeout' }));
    expect(world.calls.filter((c) => c.state === 'DescribeAgent')).toHaveLength(40);
    // the failure tail ran: the failure is recorded before the teardown
    expect(world.metricData).toEqual([expect.objectContaining({
      Namespace: 'CdkEbsBackup/RestoreDrill', MetricData: [expect.objectContaining({ MetricName: 'DrillSucceeded', Value: 0 })],
    })]);
    expect(world.leftovers()).toEqual([]);
  });

  test('only what this execution created is torn down', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 'vol-a', '2026-11-21T02:00:00Z')] });
    const world = newWorld();
    world.instances.push({ id: 'i-other-drill', tags: { 'backup:managed-by': 'Drills/WeeklyDrill', 'backup:drill-execution': 'drill-0000' }, state: 'running' });
    world.volumes.push({ id: 'vol-production', tags: { App: 'orders' }, state: 'in-use', attachedTo: 'i-prod' });
    await execute(drillDefinition, serviceHandlers(world, realHandlers()));
    expect(world.leftovers()).toEqual(['i-other-drill', 'vol-production']);
  });

  test('a failing teardown fails the execution as TeardownFailed and records it', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 'vol-a', '2026-11-21T02:00:00Z')] });
    const world = newWorld();
    const result = await execute(drillDefinition, serviceHandlers(world, {
      ...realHandlers(),
      TerminateInstances: async () => { throw new ServiceError('Ec2.UnauthorizedOperation', 'denied'); },
    }));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'TeardownFailed' }));
    expect(world.metricData).toEqual([expect.objectContaining({ MetricData: [expect.objectContaining({ MetricName: 'TeardownFailed', Value: 1 })] })]);
  });
});

describe('the sweeper', () => {
  test('removes what the drill left behind, and only that, when no drill is running', async () => {
    const world = newWorld();
    const mine = { 'backup:managed-by': 'Drills/WeeklyDrill', 'backup:drill-execution': 'drill-0007' };
    world.instances.push({ id: 'i-leaked', tags: mine, state: 'running' });
    world.volumes.push({ id: 'vol-leaked', tags: mine, state: 'in-use', attachedTo: 'i-leaked' });
    world.volumes.push({ id: 'vol-leaked-2', tags: mine, state: 'available' });
    world.volumes.push({ id: 'vol-production', tags: { 'backup:managed-by': 'Prod/Db' }, state: 'available' });
    const result = await execute(sweeperDefinition, serviceHandlers(world));
    expect(result.status).toBe('SUCCEEDED');
    expect(world.leftovers()).toEqual(['vol-production']);
    expect(world.metricData).toEqual([expect.objectContaining({ MetricData: [expect.objectContaining({ MetricName: 'LeftoverVolumes', Value: 2 })] })]);
  });

  test('leaves everything while a drill is running', async () => {
    const world = newWorld();
    world.runningExecutions = ['drill-0008'];
    world.volumes.push({ id: 'vol-restoring', tags: { 'backup:managed-by': 'Drills/WeeklyDrill' }, state: 'available' });
    expect((await execute(sweeperDefinition, serviceHandlers(world))).status).toBe('SUCCEEDED');
    expect(world.leftovers()).toEqual(['vol-restoring']);
  });
});

describe('platforms: a validation that did not run is never a success', () => {
  let linuxOnly: any;
  let withWindows: any;
  let imageDocuments: Record<string, any>;
  beforeAll(() => {
    const app = createCheckedApp();
    const stack = createTestStack(app, 'ImageDrills');
    const props = {
      purpose: 'web-ami',
      schedule: events.Schedule.rate(Duration.days(7)),
      validation: ['systemctl is-active nginx'],
      source: DrillSource.image(),
    };
    const plain = new RestoreDrill(stack, 'LinuxOnly', props);
    const both = new RestoreDrill(stack, 'WithWindows', { ...props, windowsValidation: ["Get-Service W3SVC | Where-Object Status -eq 'Running'"] });
    synthesizeChecked(app);
    linuxOnly = definitionOf(stack, stack.getLogicalId(plain.stateMachine.node.defaultChild as any));
    withWindows = definitionOf(stack, stack.getLogicalId(both.stateMachine.node.defaultChild as any));
    imageDocuments = documentsOf(stack);
  });

  function imageWorld(platform: 'Linux' | 'Windows'): World {
    const world = new World();
    world.platform = platform;
    world.documents = imageDocuments;
    ec2.on(DescribeImagesCommand).resolves({
      Images: [{ ImageId: 'ami-web', CreationDate: '2026-11-21T01:00:00.000Z', ...platform === 'Windows' ? { Platform: 'windows' as any /* the API answers lowercase; the SDK types it 'Windows' */, PlatformDetails: 'Windows' } : { PlatformDetails: 'Linux/UNIX' } }],
    });
    return world;
  }

  test('a Windows AMI without windowsValidation fails as DrillNotValidated before anything is launched, and records a failed drill', async () => {
    const world = imageWorld('Windows');
    const result = await execute(linuxOnly, serviceHandlers(world, realHandlers()));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'DrillNotValidated' }));
    expect(result.cause).toContain('Windows AMI');
    expect(world.calls.map((c) => c.state)).not.toContain('LaunchScratchInstance');
    expect(world.calls.find((c) => c.state === 'RecordDrillFailure')!.input.MetricData[0]).toEqual(expect.objectContaining({ MetricName: 'DrillSucceeded', Value: 0 }));
  });

  test('a Windows AMI with windowsValidation runs the PowerShell document and passes', async () => {
    const world = imageWorld('Windows');
    const result = await execute(withWindows, serviceHandlers(world, realHandlers()));
    expect(result.status).toBe('SUCCEEDED');
    const sent = world.calls.find((c) => c.state === 'RunValidation')!.input.DocumentName;
    expect(imageDocuments[sent].mainSteps[0].action).toBe('aws:runPowerShellScript');
    expect(world.leftovers()).toEqual([]);
  });

  test('a Linux AMI runs the shell document', async () => {
    const world = imageWorld('Linux');
    expect((await execute(withWindows, serviceHandlers(world, realHandlers()))).status).toBe('SUCCEEDED');
    const sent = world.calls.find((c) => c.state === 'RunValidation')!.input.DocumentName;
    expect(imageDocuments[sent].mainSteps[0].action).toBe('aws:runShellScript');
  });

  test('a skipped step (Success, but the Linux step never ran on a Windows instance) fails as ValidationFailed', async () => {
    // an AMI whose platform EC2 does not report as Windows, launched on Windows all the same
    const world = imageWorld('Linux');
    world.platform = 'Windows';
    const result = await execute(linuxOnly, serviceHandlers(world, realHandlers()));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'ValidationFailed' }));
    expect(world.leftovers()).toEqual([]);
  });
});

describe('calls replayed against the roles', () => {
  test('the runs above replayed every Task state of both state machines', () => {
    expect(Object.keys(taskStates(drillDefinition)).filter((st) => !replayed.drill.has(st))).toEqual([]);
    expect(Object.keys(taskStates(sweeperDefinition)).filter((st) => !replayed.sweeper.has(st))).toEqual([]);
  });
});
