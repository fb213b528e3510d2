/**
 * A maintenance window's heartbeat is the metric its housekeeping publishes: the synthesized
 * housekeeping definition runs on the local JSONata executor (test/support/jsonata-machine) against
 * stubbed EC2/SSM answers, and the PutMetricData it sends is evaluated against the synthesized
 * heartbeat alarm as CloudWatch evaluates alarms.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { FsfreezeMaintenanceWindow, MaintenanceTargets, Retention } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { datapointsOf, inAlarm } from '../support/alarm-evaluation';
import { runJsonataMachine, SdkStub } from '../support/jsonata-machine';

const START = '2026-11-25T12:05:00.000Z';
const AT = Date.parse(START);
let definition: any;
let alarm: any;

beforeAll(() => {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  const window = new FsfreezeMaintenanceWindow(stack, 'Linux', {
    purpose: 'linux-app-consistent',
    schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
    targets: MaintenanceTargets.tagged({ Backup: 'fsfreeze' }),
    mountPoints: ['/data'],
    retain: Retention.age(Duration.days(7)),
  });
  const template = checkedTemplate(stack);
  const machine = template.Resources[stack.getLogicalId(window.housekeeping.node.defaultChild as any)];
  definition = JSON.parse(flatten(machine.Properties.DefinitionString));
  alarm = template.Resources[stack.getLogicalId(window.heartbeatAlarm.node.defaultChild as any)].Properties;
}, 300_000);

/** The definition's Fn::Join with a placeholder for its one reference (the window id). */
function flatten(value: any): string {
  return typeof value === 'string' ? value : value['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : 'mw-0123456789abcdef0')).join('');
}

/** One housekeeping run that finds `snapshots`; returns what it published. */
async function housekeep(snapshots: any[]): Promise<any[]> {
  const published: any[] = [];
  const stubs: Record<string, SdkStub> = {
    DescribeSnapshots: async () => ({ Snapshots: snapshots }),
    DescribeExecutions: async () => ({ WindowExecutions: [] }),
    DeleteSnapshot: async () => ({}),
    PublishMetrics: async (args) => {
      published.push(args);
      return {};
    },
  };
  await runJsonataMachine(definition, {}, stubs, { startTime: START });
  return published;
}

const snapshot = (id: string, start: string) => ({
  SnapshotId: id, VolumeId: 'vol-1', StartTime: start, Tags: [{ Key: 'AppConsistent', Value: 'true' }],
});

test('the heartbeat alarm: missing data breaching, 1.5 days for a daily window', () => {
  expect(alarm).toMatchObject({ TreatMissingData: 'breaching', ComparisonOperator: 'LessThanThreshold', Threshold: 1 });
  expect(alarm.Period * alarm.EvaluationPeriods).toBe(1.5 * 86_400);
});

test('a run that created a snapshot publishes the datapoint the heartbeat counts, and quiets it', async () => {
  const published = await housekeep([snapshot('snap-1', '2026-11-25T10:30:00.000Z')]);
  const points = datapointsOf(alarm, published, AT);
  expect(points).toEqual([{ at: AT, value: 1 }]);
  expect(inAlarm(alarm, points, AT + alarm.Period * 1000)).toBe(false);
});

test('hourly zeros (no snapshot created) keep the heartbeat in alarm', async () => {
  const published = await housekeep([]);
  const points = datapointsOf(alarm, published, AT);
  expect(points).toEqual([{ at: AT, value: 0 }]);
  expect(inAlarm(alarm, points, AT + alarm.Period * 1000)).toBe(true);
});
