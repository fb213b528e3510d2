/**
 * The window housekeeping at scale: a synthesized window's state machine against an account of
 * `instances` × `volumes` volumes with `days` daily snapshots each, realistic records in pages,
 * and decoys that carry the window's purpose tags but not its id (re-tagged by someone else).
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { ScaleAccount } from './account';
import { stateMachines } from './definitions';
import { runJsonata } from './jsonata-runner';
import { PayloadMeter } from './limits';
import { FsfreezeMaintenanceWindow, MaintenanceTargets, Retention } from '../../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../index';

export const WINDOW_ID = 'mw-0123456789abcdef0';
export const START = '2026-11-25T12:05:00.000Z';
const DAY = 86_400_000;

export interface HousekeepingScenario {
  readonly instances: number;
  readonly volumes?: number;
  /** Daily snapshots per volume, the newest in the judged hour. */
  readonly days: number;
  /** The retention of the fsfreeze window synthesized for the run (without `definition`). */
  readonly retention?: Retention;
  readonly decoys?: number;
  /**
   * Look-alikes: snapshots of the first volume made after the newest window execution and tagged
   * after the fact with every tag of the window's snapshots (issue 16 #3).
   */
  readonly lookAlikes?: number;
  /** Simulated API latency per call (ms). */
  readonly latencyMs?: number;
  /**
   * A synthesized housekeeping definition (an example's); its snapshots carry the tags its
   * DescribeSnapshots filters by, its executions its window id.
   * @default the fsfreeze window of `housekeepingDefinition(retention)`
   */
  readonly definition?: any;
}

/** What a housekeeping definition selects by: the literal tag filters of its DescribeSnapshots and its window's id. */
export function housekeepingTarget(definition: any): { tags: Record<string, string>; windowId: string } {
  const text = JSON.stringify(definition).replace(/\\"/g, '"');
  const tags = Object.fromEntries([...text.matchAll(/"Name":\s*"tag:([^"]+)",\s*"Values":\s*\["([^"{}$]*)"\]/g)].map((x) => [x[1], x[2]]));
  const windowId = /"WindowId":\s*"([^"]+)"/.exec(text)?.[1];
  if (Object.keys(tags).length === 0 || !windowId) {
    throw new Error('no tag filters or window id found in the housekeeping definition');
  }
  return { tags, windowId };
}

let cached: Record<string, any> = {};
/** The housekeeping definition of an fsfreeze window with `retention` (synthesized once per retention). */
export function housekeepingDefinition(retention: Retention): any {
  const key = retention.toTagValue();
  if (!cached[key]) {
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new FsfreezeMaintenanceWindow(stack, 'Linux', {
      purpose: 'orders-db',
      schedule: events.Schedule.cron({ hour: '10', minute: '15' }),
      targets: MaintenanceTargets.tagged({ Backup: 'fsfreeze' }),
      mountPoints: ['/data'],
      retain: retention,
    });
    const [definition] = Object.values(stateMachines(checkedTemplate(stack), () => WINDOW_ID));
    cached[key] = definition;
  }
  return cached[key];
}

export function windowTags(): Record<string, string> {
  return {
    'backup:purpose': 'orders-db',
    'backup:retention': 'age:3d',
    'backup:managed-by': 'TestStack/Linux',
    'backup:window-id': WINDOW_ID,
    'AppConsistent': 'true',
    'Name': 'orders-db data',
  };
}

export async function runHousekeeping(s: HousekeepingScenario) {
  const target = s.definition ? housekeepingTarget(s.definition) : undefined;
  const windowId = target?.windowId ?? WINDOW_ID;
  const own = () => (target ? { ...target.tags, AppConsistent: 'true', Name: 'data' } : windowTags());
  const account = new ScaleAccount();
  const start = Date.parse(START);
  const volumes = s.volumes ?? 2;
  let n = 0;
  for (let i = 0; i < s.instances; i++) {
    for (let v = 0; v < volumes; v++) {
      for (let d = 0; d < s.days; d++) {
        // 10:15 on each day; day 0 is in the judged hour [10:00, 11:00)
        account.addSnapshot(++n, { volume: i * 16 + v, startTime: new Date(start - 110 * 60_000 + 10 * 60_000 - d * DAY), tags: own() });
      }
    }
  }
  for (let k = 0; k < (s.decoys ?? 0); k++) {
    const { ['backup:window-id']: _, ...tags } = own();
    account.addSnapshot(++n, { volume: 99_999_000 + k, startTime: new Date(start - 400 * DAY), tags });
  }
  for (let k = 0; k < (s.lookAlikes ?? 0); k++) {
    account.addSnapshot(++n, { volume: 0, startTime: new Date(start - 60 * 60_000 + k * 60_000), tags: own() });
  }
  for (let d = 0; d < 400; d++) {
    account.addWindowExecution(d, windowId, new Date(start - 110 * 60_000 - d * DAY), d === 0 ? 'FAILED' : 'SUCCESS');
  }
  const latency = s.latencyMs ?? 0;
  const call = <T>(f: () => T) => async () => {
    if (latency > 0) {
      await new Promise((r) => setTimeout(r, latency));
    }
    return f();
  };
  const deleteCondition = target?.tags ?? { 'backup:purpose': 'orders-db', 'backup:managed-by': 'TestStack/Linux', 'backup:window-id': WINDOW_ID };
  const handlers = {
    DescribeSnapshots: (a: any) => call(() => account.describeSnapshots(a))(),
    DescribeVolumeSnapshots: (a: any) => call(() => account.describeSnapshots(a))(),
    DeleteSnapshot: (a: any) => call(() => account.deleteSnapshot(a, deleteCondition))(),
    DescribeExecutions: (a: any) => call(() => account.describeMaintenanceWindowExecutions(a))(),
    // count retention's floor: the window's recorded executions, all pages
    DescribeRecentExecutions: (a: any) => call(() => account.describeMaintenanceWindowExecutions(a))(),
    PublishMetrics: (a: any) => {
      account.requests.PutMetricData = (account.requests.PutMetricData ?? 0) + 1;
      if (a.MetricData.length > 1000) {
        throw new Error('PutMetricData: at most 1000 metrics');
      }
      return {};
    },
  };
  const meter = new PayloadMeter();
  const before = account.snapshots.size;
  const run = await runJsonata(s.definition ?? housekeepingDefinition(s.retention!), { handlers, meter, startTime: START });
  return { ...run, account, before, remaining: account.snapshots.size };
}

export const RETENTION_3_DAYS = Retention.age(Duration.days(3));
export const RETENTION_COUNT_3 = Retention.count(3);
export { Duration };
