/**
 * RestoreDrill and its sweeper at scale: the synthesized state machines (aws-local-stepfunctions,
 * through the orchestration tests' executor) against the account model with realistic records
 * (DescribeInstances several KiB an instance, DescribeVolumes about 700 bytes a volume) in pages,
 * every connector result and state input/output measured against Step Functions' 256 KiB.
 *
 * - The drill: `n` snapshots of the drilled purpose (n/10 production instances, two volumes, five
 *   daily sets) chosen from by the real selection handler over the paged account; the drill
 *   restores one set, validates it and tears down what carries its execution tag.
 * - The sweeper: n/10 instances a failed teardown left behind, each with two restored volumes,
 *   next to as many production instances and volumes it must not touch.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ScaleAccount } from './account';
import { fakeEc2 } from './handlers';
import { observer, PayloadMeter } from './limits';
import { select } from '../../../lambda/restore/drill-select';
import { execute, Stub } from '../../orchestration/local-execution';
import { serviceHandlers, World } from '../../restore/drill-harness';
import { taskStates } from '../call-replay';
import { literalTagFilters, Machine } from '../example-machines';

const NOW = new Date('2026-11-21T03:00:00.000Z');
const DAY = 86_400_000;

function tagsOf(specs: any[] | undefined, type: string): Record<string, string> {
  const spec = (specs ?? []).find((s) => s.ResourceType === type);
  return Object.fromEntries((spec?.Tags ?? []).map((t: any) => [t.Key, t.Value]));
}

function metric(account: ScaleAccount, metrics: any[]): Stub {
  return (input) => {
    account.requests.PutMetricData = (account.requests.PutMetricData ?? 0) + 1;
    metrics.push(...input.MetricData);
    return {};
  };
}

/** The Task handlers of the drill and the sweeper over `account`. */
function handlers(account: ScaleAccount, documents: Record<string, any>, metrics: any[], selectPayload: { value?: any }): Record<string, Stub> {
  // the validation command: the drill harness's Run Command model (the documents of the template)
  const world = new World();
  world.documents = documents;
  const ssm = serviceHandlers(world);
  let n = 5_000_000;
  const clock = { simulatedMs: 0 };
  // a job creator's run was in progress when the snapshots started
  const runs = { send: async () => ({ startDate: new Date(NOW.getTime() - 30 * DAY) }) } as unknown as SFNClient;
  // SSM's records: a window ran each of the 5 days the snapshots were taken (an hour from a minute
  // before the day's first); a runbook's Automation execution of its own document spans them
  const windowRuns = Array.from({ length: 5 }, (_, d) => ({
    StartTime: new Date(NOW.getTime() - (d + 1) * DAY - 60_000),
    EndTime: new Date(NOW.getTime() - (d + 1) * DAY + 3600_000),
  }));
  let document: string | undefined;
  const records = {
    send: async (c: any) => {
      account.requests[c.constructor.name] = (account.requests[c.constructor.name] ?? 0) + 1;
      return c.input.WindowId !== undefined
        ? { WindowExecutions: windowRuns.map((r) => ({ WindowId: c.input.WindowId, ...r })) }
        : { AutomationExecution: { DocumentName: document, ExecutionStartTime: new Date(NOW.getTime() - 6 * DAY), ExecutionEndTime: NOW } };
    },
  } as unknown as SSMClient;
  return {
    SelectRestorePoint: (input) => {
      selectPayload.value = input;
      document = input.creators?.[0]?.automationDocument;
      return select(fakeEc2(account, clock) as EC2Client, input, NOW, runs, records);
    },
    LaunchScratchInstance: (input) => {
      account.requests.RunInstances = (account.requests.RunInstances ?? 0) + 1;
      const instance = account.addInstance(++n, tagsOf(input.TagSpecifications, 'instance'), 1);
      return { Groups: [], Instances: [instance], OwnerId: instance.NetworkInterfaces[0].OwnerId, ReservationId: `r-${instance.InstanceId.slice(2)}` };
    },
    DescribeScratchInstance: (input) => account.describeInstances(input),
    CreateRestoredVolume: (input) => {
      account.requests.CreateVolume = (account.requests.CreateVolume ?? 0) + 1;
      const { Attachments: _, ...created } = account.addVolume(++n, { tags: tagsOf(input.TagSpecifications, 'volume'), snapshotId: input.SnapshotId });
      return { ...created, State: 'creating' };
    },
    DescribeRestoredVolume: (input) => account.describeVolumes(input),
    AttachRestoredVolume: (input) => {
      account.requests.AttachVolume = (account.requests.AttachVolume ?? 0) + 1;
      const v = account.volumes.get(input.VolumeId);
      v.Attachments = [{ AttachTime: NOW.toISOString(), Device: input.Device, InstanceId: input.InstanceId, State: 'attached', VolumeId: input.VolumeId, DeleteOnTermination: false }];
      v.State = 'in-use';
      return { AttachTime: NOW.toISOString(), Device: input.Device, InstanceId: input.InstanceId, State: 'attaching', VolumeId: input.VolumeId };
    },
    DescribeAgent: (input) => ssm.DescribeAgent(input),
    RunValidation: (input) => ssm.RunValidation(input),
    GetValidationResult: (input) => ssm.GetValidationResult(input),
    PublishDrillFigures: () => ({ published: true }),
    RecordDrillFailure: metric(account, metrics),
    RecordTeardownFailure: metric(account, metrics),
    RecordLeftovers: metric(account, metrics),
    CheckRunningDrills: () => ({ Executions: [] }),
    FindRestoredInstances: (input) => account.describeInstances(input),
    TerminateInstances: (input) => account.terminateInstances(input),
    CheckInstancesGone: (input) => {
      const answer = account.describeInstances(input);
      // the instances terminated since the last check are gone by the next
      account.settle();
      return answer;
    },
    FindRestoredVolumes: (input) => account.describeVolumes(input),
    DeleteVolume: (input) => account.deleteVolume(input),
  };
}

export interface DrillScaleRun {
  readonly account: ScaleAccount;
  readonly meter: PayloadMeter;
  readonly output?: any;
  readonly error?: { name: string; cause: string };
  readonly metrics: any[];
  readonly order: string[];
  readonly selection?: any;
  /** The instances and volumes of the production fleet that are not running/in place any more. */
  readonly touched: string[];
  /** Artefacts the account held. */
  readonly artefacts: number;
}

function productionFleet(account: ScaleAccount, instances: number, tags: Record<string, string>): void {
  for (let i = 0; i < instances; i++) {
    const instance = account.addInstance(i + 1, tags);
    for (const m of instance.BlockDeviceMappings) {
      account.addVolume(parseInt(m.Ebs.VolumeId.slice(4), 16), { tags, attachedTo: instance.InstanceId });
    }
  }
}

/** The production fleet the drill and the sweeper must leave alone: tagged `Role=production`. */
const isProduction = (tags: any[]) => tags.some((t: any) => t.Key === 'Role' && t.Value === 'production');

/**
 * The result of a drill or sweeper run over `account`, built in one place: the execution's
 * output and error, and the production resources that are not running or in place any more.
 */
function scaleRun(
  account: ScaleAccount,
  run: Awaited<ReturnType<typeof execute>>,
  parts: { meter: PayloadMeter; metrics: any[]; order: string[]; artefacts: number; selection?: any },
): DrillScaleRun {
  return {
    account,
    meter: parts.meter,
    metrics: parts.metrics,
    output: run.output,
    error: run.error,
    order: parts.order,
    selection: parts.selection,
    touched: [
      ...account.instances.filter((i) => isProduction(i.Tags) && i.State.Name !== 'running').map((i) => i.InstanceId),
      ...[...account.volumes.values()].filter((v) => isProduction(v.Tags) && v.State !== 'in-use').map((v) => v.VolumeId),
    ],
    artefacts: parts.artefacts,
  };
}

/** The whole drill at `snapshots` snapshots of its purpose (snapshots / 10 instances). */
export async function runDrillAtScale(m: Machine, documents: Record<string, any>, snapshots: number): Promise<DrillScaleRun> {
  const account = new ScaleAccount();
  const event = taskStates(m.definition).SelectRestorePoint.Parameters;
  const [creator] = event.creators ?? [];
  const record: Record<string, string> = creator === undefined ? {} : {
    [event.managedByTagKey]: creator.managedBy,
    [creator.executionTagKey]: creator.stateMachineArn !== undefined ? `${creator.stateMachineArn.replace(':stateMachine:', ':execution:')}:run-1`
      : creator.windowId ?? '8a3b1c2d-1111-4a5b-9c8d-0e1f2a3b4c5d',
  };
  const instances = Math.max(1, Math.floor(snapshots / 10));
  const purposeTags = { [event.purposeTagKey]: event.purpose };
  productionFleet(account, instances, { ...purposeTags, Role: 'production' });
  const sourceKey = (event.sourceInstanceTagKeys ?? ['backup:source-instance'])[0];
  let n = 0;
  for (const instance of account.instances) {
    for (let d = 0; d < 5; d++) {
      for (const mapping of instance.BlockDeviceMappings) {
        const s = account.addSnapshot(++n, {
          volume: parseInt(mapping.Ebs.VolumeId.slice(4), 16),
          startTime: new Date(NOW.getTime() - (d + 1) * DAY + (n % 60) * 1000),
          tags: { ...purposeTags, ...record, [sourceKey]: instance.InstanceId },
        });
        s.Description = `cdk-ebs-backup ${event.purpose}`;
      }
    }
  }
  const metrics: any[] = [];
  const selection: { value?: any } = {};
  const meter = new PayloadMeter();
  const run = await execute(m.definition, handlers(account, documents, metrics, selection),
    { observe: observer(meter) });
  return scaleRun(account, run, { meter, metrics, order: run.order, selection: selection.value, artefacts: account.snapshots.size });
}

/**
 * The sweeper with `leftovers` instances (two restored volumes each) a failed teardown left behind,
 * run (as its daily schedule would) until a run finds nothing left: `runs` is how many it took,
 * `meter` the run with the longest history (with every run's payload violations).
 */
export async function runSweeperAtScale(m: Machine, leftovers: number): Promise<DrillScaleRun & { runs: number }> {
  const account = new ScaleAccount();
  // what the sweeper deletes by: the literal tag filter of its definition (the drill's managed-by tag)
  const mine = { ...literalTagFilters(m.definition), 'backup:drill-execution': 'drill-0007' };
  productionFleet(account, leftovers, { 'backup:managed-by': 'Prod/Db', 'Role': 'production' });
  for (let i = 0; i < leftovers; i++) {
    const instance = account.addInstance(1_000_000 + i, mine, 1);
    for (let v = 0; v < 2; v++) {
      account.addVolume(2_000_000 + 2 * i + v, { tags: mine, snapshotId: `snap-${i}`, attachedTo: instance.InstanceId });
    }
  }
  const metrics: any[] = [];
  const meters: PayloadMeter[] = [];
  const orders: string[] = [];
  let run: Awaited<ReturnType<typeof execute>>;
  do {
    const meter = new PayloadMeter();
    meters.push(meter);
    run = await execute(m.definition, handlers(account, {}, metrics, {}), { observe: observer(meter) });
    orders.push(...run.order);
  } while (!run.error && meters.length < 20 && metrics.at(-1)?.MetricName === 'LeftoverVolumes' && metrics.at(-1).Value > 0);
  const longest = meters.reduce((a, b) => (b.events > a.events ? b : a));
  longest.violations.push(...meters.filter((x) => x !== longest).flatMap((x) => x.violations));
  return { ...scaleRun(account, run, { meter: longest, metrics, order: orders, artefacts: leftovers * 3 }), runs: meters.length };
}
