/**
 * The housekeeping state machine has no handler: its logic is JSONata. These tests evaluate every
 * expression with the jsonata engine (Step Functions' own expression language) against fixtures,
 * and validate the synthesized definition with asl-validator.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import jsonata = require('jsonata');
import { FsfreezeMaintenanceWindow, MaintenanceTargets, Retention } from '../../src';
import { HOUSEKEEPING_EXPRESSIONS, MAX_DELETES_PER_RUN } from '../../src/ssm/housekeeping';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { runJsonata } from '../support/jsonata';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator');

const HOUR = 3_600_000;
const NOW = '2026-11-25T12:05:00.000Z'; // execution start
const NOW_MS = Date.parse(NOW);
const SLOT = { now: NOW_MS, from: Date.parse('2026-11-25T10:00:00Z'), to: Date.parse('2026-11-25T11:00:00Z') };

function snap(id: string, volume: string, start: string, appConsistent?: string) {
  return {
    SnapshotId: id,
    VolumeId: volume,
    StartTime: start,
    Tags: appConsistent === undefined ? [{ Key: 'backup:purpose', Value: 'x' }] : [{ Key: 'AppConsistent', Value: appConsistent }],
  };
}

async function evaluate(expression: string, bindings: Record<string, unknown>): Promise<any> {
  const body = /^\{%([\s\S]*)%\}$/.exec(expression)![1];
  return jsonata(body).evaluate({}, bindings);
}

describe('housekeeping expressions', () => {
  const snapshots = [
    snap('snap-old1', 'vol-a', '2026-11-01T04:00:00.000Z', 'true'),
    snap('snap-old2', 'vol-b', '2026-11-01T04:00:00.000Z', 'true'),
    snap('snap-a1', 'vol-a', '2026-11-24T04:00:00.000Z', 'true'),
    snap('snap-a2', 'vol-a', '2026-11-25T10:15:00.000Z', 'true'), // in the judged slot, app-consistent
    snap('snap-b2', 'vol-b', '2026-11-25T10:15:01.000Z'), // in the slot, no AppConsistent tag
    snap('snap-c2', 'vol-c', '2026-11-25T10:59:59.000Z', 'false'), // in the slot, AppConsistent=false
    snap('snap-new', 'vol-c', '2026-11-25T11:30:00.000Z'), // too young to judge yet
  ];

  test('the judged slot is the full hour before the previous full hour', async () => {
    const slot = await evaluate(HOUSEKEEPING_EXPRESSIONS.slot, { states: { context: { Execution: { StartTime: NOW } } } });
    expect(slot).toEqual(SLOT);
    expect(slot.to - slot.from).toBe(HOUR);
  });

  const acc = { expired: [], deferred: 0, created: 0, crashConsistent: 0, failedExecutions: 0, counts: {} };

  test('age retention expires exactly the snapshots older than the age, page by page', async () => {
    const expired = await evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByAge(Duration.days(14).toMilliseconds()),
      { ...acc, page: snapshots, slot: SLOT });
    expect(expired).toEqual(['snap-old1', 'snap-old2']);
    // the next page appends to what the previous pages found
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByAge(Duration.days(14).toMilliseconds()), { ...acc, expired: ['snap-x'], page: snapshots, slot: SLOT }))
      .toEqual(['snap-x', 'snap-old1', 'snap-old2']);
  });

  test('age retention returns a list even for one snapshot, and an empty list for none', async () => {
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByAge(Duration.days(14).toMilliseconds()), { ...acc, page: [snapshots[0]], slot: SLOT })).toEqual(['snap-old1']);
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByAge(Duration.days(14).toMilliseconds()), { ...acc, page: [], slot: SLOT })).toEqual([]);
  });

  test('age retention keeps at most MAX_DELETES_PER_RUN ids and counts the rest as deferred', async () => {
    const many = Array.from({ length: MAX_DELETES_PER_RUN + 5 }, (_, i) => snap(`snap-${i}`, 'vol-a', '2026-11-01T04:00:00.000Z'));
    const maxAge = Duration.days(14).toMilliseconds();
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByAge(maxAge), { ...acc, page: many, slot: SLOT })).toHaveLength(MAX_DELETES_PER_RUN);
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.deferredByAge(maxAge), { ...acc, page: many, slot: SLOT })).toBe(5);
  });

  test('count retention keeps the newest N per volume', async () => {
    const counts = await evaluate(HOUSEKEEPING_EXPRESSIONS.volumeCounts, { ...acc, page: snapshots });
    expect(counts).toEqual({ 'vol-a': 3, 'vol-b': 2, 'vol-c': 2 });
    // a second page adds to the counts
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.volumeCounts, { ...acc, counts, page: [snapshots[0]] })).toEqual({ 'vol-a': 4, 'vol-b': 2, 'vol-c': 2 });
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.volumesOverCount(1), { counts })).toEqual(['vol-a', 'vol-b', 'vol-c']);
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.volumesOverCount(2), { counts })).toEqual(['vol-a']);
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.volumesOverCount(3), { counts })).toEqual([]);
    const expiredOf = async (volume: string, count: number) => {
      const vsnaps = await evaluate(HOUSEKEEPING_EXPRESSIONS.volumeSnapshots, { vsnaps: [], page: snapshots.filter((x) => x.VolumeId === volume) });
      return evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByCount(count), { vsnaps, keepAfter: NOW_MS });
    };
    expect(await expiredOf('vol-a', 1)).toEqual(['snap-old1', 'snap-a1']);
    expect(await expiredOf('vol-c', 1)).toEqual(['snap-c2']);
    expect(await expiredOf('vol-b', 1)).toEqual(['snap-old2']);
    expect(await expiredOf('vol-a', 3)).toEqual([]);
  });

  // Issue 16 #3: snapshots of the real volume, tagged after the fact with the window's tags, must
  // not push the real ones out of count retention. The floor comes from SSM's record of the
  // window's executions (DescribeMaintenanceWindowExecutions), which no tag can forge.
  test('count retention: a planted look-alike set deletes nothing real, the floor being the count-th newest recorded execution', async () => {
    const day = (d: number, h = 4) => Date.UTC(2026, 10, d, h);
    // a daily window with count(14): executions on Nov 11-25, 04:00; snapshots a few minutes after each start
    const executions = Array.from({ length: 15 }, (_, i) => ({ WindowExecutionId: `e-${i}`, Status: 'SUCCESS', StartTime: new Date(day(11 + i)).toISOString() }));
    executions.push({ WindowExecutionId: 'e-skip', Status: 'SKIPPED_OVERLAPPING', StartTime: new Date(day(25, 6)).toISOString() });
    let starts: number[] = [];
    for (const page of [executions.slice(0, 7), executions.slice(7)]) {
      starts = await evaluate(HOUSEKEEPING_EXPRESSIONS.recentStarts(14), { starts, page });
    }
    expect(starts).toHaveLength(14);
    const keepAfter = await evaluate(HOUSEKEEPING_EXPRESSIONS.keepAfter(14), { starts, slot: SLOT });
    expect(keepAfter).toBe(day(12)); // the 14th newest execution (the skipped one made nothing)
    const real = Array.from({ length: 15 }, (_, i) => ({ id: `snap-real-${11 + i}`, t: day(11 + i) + 300_000 }));
    const planted = Array.from({ length: 14 }, (_, i) => ({ id: `snap-planted-${i}`, t: day(25, 10) + i * 60_000 }));
    const expired = await evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByCount(14), { vsnaps: [...real, ...planted], keepAfter });
    // only the 15th real snapshot, older than the count the window keeps; no real one of the newest 14
    expect(expired).toEqual(['snap-real-11']);
  });

  test('count retention floor: fewer recorded executions than the count keeps everything since the oldest; none keeps everything', async () => {
    const starts = [Date.UTC(2026, 10, 20), Date.UTC(2026, 10, 10)];
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.keepAfter(7), { starts, slot: SLOT })).toBe(Date.UTC(2026, 10, 10));
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.keepAfter(7), { starts: [], slot: SLOT })).toBe(SLOT.now);
    const vsnaps = [{ id: 'a', t: Date.UTC(2026, 10, 1) }, { id: 'b', t: Date.UTC(2026, 10, 11) }, { id: 'c', t: Date.UTC(2026, 10, 21) }];
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByCount(1), { vsnaps, keepAfter: Date.UTC(2026, 10, 10) })).toEqual(['a']);
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.expiredByCount(1), { vsnaps, keepAfter: SLOT.now })).toEqual(['a', 'b']);
  });

  test('counts the snapshots of the slot, and those that fell back to crash-consistent', async () => {
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.created, { ...acc, page: snapshots, slot: SLOT })).toBe(3);
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.crashConsistent, { ...acc, page: snapshots, slot: SLOT })).toBe(2);
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.crashConsistent, { ...acc, crashConsistent: 4, page: [], slot: SLOT })).toBe(4);
  });

  test('lists window executions from a bounded start: the longest window (24 h) before the judged hour', async () => {
    // DescribeMaintenanceWindowExecutions documents no order; ExecutedAfter takes yyyy-MM-ddTHH:mm:ssZ
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.executedAfter, { slot: SLOT })).toBe('2026-11-24T10:00:00Z');
  });

  test('counts the window executions that ended badly in the slot', async () => {
    const executions = [
      { Status: 'SUCCESS', StartTime: '2026-11-25T10:00:00.000Z', EndTime: '2026-11-25T10:20:00.000Z' },
      { Status: 'FAILED', StartTime: '2026-11-25T10:00:00.000Z', EndTime: '2026-11-25T10:30:00.000Z' },
      { Status: 'TIMED_OUT', StartTime: '2026-11-24T10:00:00.000Z', EndTime: '2026-11-24T11:00:00.000Z' }, // judged a day ago
      { Status: 'IN_PROGRESS', StartTime: '2026-11-25T10:00:00.000Z' },
    ];
    expect(await evaluate(HOUSEKEEPING_EXPRESSIONS.failedExecutions, { ...acc, page: executions, slot: SLOT })).toBe(1);
  });
});

describe('housekeeping state machine', () => {
  test('is a valid JSONata state machine that pages, deletes, and publishes the metrics, within 30 minutes', async () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    new FsfreezeMaintenanceWindow(stack, 'Linux', {
      purpose: 'linux-app-consistent',
      schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
      targets: MaintenanceTargets.tagged({ Backup: 'fsfreeze' }),
      mountPoints: ['/data'],
      retain: Retention.count(7),
    });
    const t = Template.fromJSON(checkedTemplate(stack));
    const [sm] = Object.values(t.findResources('AWS::StepFunctions::StateMachine')) as any[];
    const definition = JSON.parse(resolveJoin(sm.Properties.DefinitionString));
    const { isValid, errors } = aslValidator(definition);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
    expect(definition.QueryLanguage).toBe('JSONata');
    expect(definition.States.DescribeSnapshots.Resource).toBe('arn:aws:states:::aws-sdk:ec2:describeSnapshots');
    expect(definition.States.DescribeSnapshots.Arguments).toContain('"Name":"tag:backup:purpose","Values":["linux-app-consistent"]');
    expect(definition.States.DescribeSnapshots.Arguments).toContain('"Name":"tag:backup:managed-by","Values":["TestStack/Linux"]');
    expect(definition.States.DescribeSnapshots.Arguments).toContain('"Name":"tag:backup:window-id","Values":["mw-0123456789abcdef0"]');
    expect(definition.States.MorePages.Choices[0].Next).toBe('DescribeSnapshots');
    // count retention reads the window's recorded executions (all pages) before it selects what to delete
    expect(definition.States.MorePages.Default).toBe('DescribeRecentExecutions');
    expect(definition.States.DescribeRecentExecutions.Resource).toBe('arn:aws:states:::aws-sdk:ssm:describeMaintenanceWindowExecutions');
    expect(definition.States.MoreRecentExecutions.Choices[0].Next).toBe('DescribeRecentExecutions');
    expect(definition.States.SelectVolumes.Assign.keepAfter).toBe(HOUSEKEEPING_EXPRESSIONS.keepAfter(7));
    expect(definition.States.DeleteExpired.ItemProcessor.States.DeleteVolumeExpired.Items).toBe(HOUSEKEEPING_EXPRESSIONS.expiredByCount(7));
    expect(definition.States.DeleteExpired.ItemProcessor.States.DeleteVolumeExpired.ItemProcessor.States.DeleteSnapshot.Catch[0].Next).toBe('NotDeleted');
    expect(definition.States.PublishMetrics.Arguments.MetricData.map((m: any) => m.MetricName)).toEqual([
      'SnapshotsCreated', 'CrashConsistentSnapshots', 'FailedWindowExecutions', 'ExpiredSnapshotsDeleted', 'ExpiredSnapshotsNotDeleted', 'ExpiredSnapshotsDeferred',
    ]);

    // "State machine structure in Amazon States Language": TimeoutSeconds bounds an execution
    // (States.Timeout past it). aws-cdk-lib drops StateMachineProps.timeout for a string
    // definition, so the 30-minute bound must be in the definition; a run stuck on a call times out.
    expect(definition.TimeoutSeconds).toBe(1800);
    let clock = 0;
    const stuck = await runJsonata(definition, {
      startTime: NOW,
      clock: () => clock,
      handlers: { DescribeSnapshots: () => { clock += 31 * 60_000; return { Snapshots: [] }; } },
    });
    expect(stuck.error?.error).toBe('States.Timeout');
  });
});

/** Flatten the definition's Fn::Join with placeholder values for the references (window id). */
function resolveJoin(value: any): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value['Fn::Join']) {
    return value['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : 'mw-0123456789abcdef0')).join(value['Fn::Join'][0]);
  }
  return JSON.stringify(value);
}
