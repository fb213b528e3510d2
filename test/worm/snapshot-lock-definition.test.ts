/**
 * The snapshot lock's state machine definition, built directly (no synthesis) and run with the
 * local JSONata runner against EC2's lock semantics (test/support/ec2-snapshot-locks.ts: "Lock
 * Amazon EBS snapshots", EBS User Guide; LockSnapshot, DescribeLockedSnapshots and
 * DescribeSnapshots in the EC2 API reference). The EventBridge events are EBS's own shapes ("EBS
 * Snapshot Notification": createSnapshot/copySnapshot name one `snapshot_id` ARN, createSnapshots
 * a list; "Amazon EventBridge events for Amazon EBS").
 */
import { snapshotLockDefinition, SnapshotLockDefinitionOptions } from '../../src/worm/snapshot-lock-definition';
import { created, Ec2World, event, NOW } from '../support/ec2-snapshot-locks';
import { runJsonataMachine } from '../support/jsonata-machine';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (d: unknown, o?: object) => { isValid: boolean; errorsText: (s?: string) => string };

const DAY = 86_400_000;
const KEY = 'backup:purpose';
const HEARTBEAT = { namespace: 'CdkEbsBackup/SnapshotLock', metricName: 'SnapshotsLocked', dimensions: [{ Name: 'LockName', Value: 'Ledger' }] };

const definition = (o: Partial<SnapshotLockDefinitionOptions> = {}) =>
  snapshotLockDefinition({ purposeTagKey: KEY, purposes: ['ledger-dr'], mode: 'governance', durationDays: 7, ...o });
const inDays = (days: number, ms = 0) => new Date(Date.parse(NOW) + days * DAY + ms).toISOString();
const run = (machine: object, world: Ec2World, input: object = created('snap-01')) => runJsonataMachine(machine, input, world.stubs(), { startTime: NOW });
const tagged = (lock?: { LockState: string; LockExpiresOn: string }) => ({ tags: { [KEY]: 'ledger-dr' }, lock });

test('is valid ASL of AWS SDK integrations only, with and without the heartbeat', () => {
  for (const machine of [definition(), definition({ heartbeat: HEARTBEAT, mode: 'compliance', coolOffHours: 24 })]) {
    const result = aslValidator(machine);
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  }
});

test('a new snapshot of a locked purpose is locked in the configured mode and duration; the Describe calls name it', async () => {
  const world = new Ec2World({ 'snap-01': tagged() });
  const out = await run(definition(), world);
  expect(world.calls).toEqual([
    { api: 'DescribeSnapshots', args: { SnapshotIds: ['snap-01'], Filters: [{ Name: `tag:${KEY}`, Values: ['ledger-dr'] }] } },
    { api: 'DescribeLockedSnapshots', args: { SnapshotIds: ['snap-01'] } },
    { api: 'LockSnapshot', args: { SnapshotId: 'snap-01', LockMode: 'governance', LockDuration: 7 } },
  ]);
  expect(out).toEqual([{ snapshotId: 'snap-01', outcome: 'locked', lockState: 'governance' }]);
});

test('without purposes: any snapshot carrying the purpose tag key (DescribeSnapshots `tag-key` filter)', async () => {
  const world = new Ec2World({ 'snap-01': { tags: { [KEY]: 'anything' } }, 'snap-02': { tags: { Team: 'ledger' } } });
  await run(definition({ purposes: [] }), world, event({
    event: 'createSnapshots', result: 'succeeded', snapshots: [{ snapshot_id: 'arn:aws:ec2::eu-central-1:snapshot/snap-01' }, { snapshot_id: 'arn:aws:ec2::eu-central-1:snapshot/snap-02' }],
  }));
  expect(world.api('DescribeSnapshots')[0].args.Filters).toEqual([{ Name: 'tag-key', Values: [KEY] }]);
  expect(world.api('LockSnapshot').map((c) => c.args.SnapshotId)).toEqual(['snap-01']);
});

test('a copySnapshot event and a createSnapshots event naming a snapshot twice: each snapshot once', async () => {
  const world = new Ec2World({ 'snap-01': tagged(), 'snap-02': tagged() });
  await run(definition(), world, event({ event: 'copySnapshot', result: 'succeeded', snapshot_id: 'arn:aws:ec2::eu-central-1:snapshot/snap-02' }));
  await run(definition(), world, event({
    event: 'createSnapshots', result: 'succeeded', snapshots: ['snap-01', 'snap-01'].map((id) => ({ snapshot_id: `arn:aws:ec2::eu-central-1:snapshot/${id}` })),
  }));
  expect(world.api('DescribeSnapshots').map((c) => c.args.SnapshotIds)).toEqual([['snap-02'], ['snap-01']]);
  expect(world.api('LockSnapshot').map((c) => c.args.SnapshotId)).toEqual(['snap-02', 'snap-01']);
});

test('an event naming no snapshot makes no call (a Describe without ids lists the whole account); an untagged one only the first', async () => {
  const world = new Ec2World({ 'snap-x': { tags: {} } });
  await expect(run(definition(), world, event({ event: 'createSnapshots', result: 'succeeded', snapshots: [] }))).resolves.toBeDefined();
  expect(world.calls).toEqual([]);
  await run(definition(), world, created('snap-x'));
  expect(world.calls.map((c) => c.api)).toEqual(['DescribeSnapshots']);
});

/**
 * A redelivered event (EventBridge delivers at least once) must not lock again: a lock at least
 * as strict that expires no earlier than a day before the wanted expiry is left as it is.
 */
describe('an existing lock', () => {
  test.each<[string, { LockState: string; LockExpiresOn: string }, 'locked' | 'already-locked']>([
    ['governance expiring exactly a day before the wanted 7 days', { LockState: 'governance', LockExpiresOn: inDays(6) }, 'already-locked'],
    ['governance expiring a second earlier', { LockState: 'governance', LockExpiresOn: inDays(6, -1000) }, 'locked'],
    ['governance expiring later than wanted', { LockState: 'governance', LockExpiresOn: inDays(40) }, 'already-locked'],
    ['compliance (stricter) long enough', { LockState: 'compliance', LockExpiresOn: inDays(7) }, 'already-locked'],
    ['expired, whatever its date said', { LockState: 'expired', LockExpiresOn: inDays(40) }, 'locked'],
  ])('for a 7-day governance lock: %s', async (_name, lock, outcome) => {
    const world = new Ec2World({ 'snap-01': tagged(lock) });
    const out = await run(definition(), world);
    expect(out).toEqual([expect.objectContaining({ snapshotId: 'snap-01', outcome })]);
    expect(world.api('LockSnapshot')).toHaveLength(outcome === 'locked' ? 1 : 0);
  });

  test('a lock without expiry date is locked again', async () => {
    const world = new Ec2World({ 'snap-01': { tags: { [KEY]: 'ledger-dr' }, lock: { LockState: 'governance' } as any } });
    expect(await run(definition(), world)).toEqual([expect.objectContaining({ outcome: 'locked' })]);
  });

  test('compliance wanted: a governance lock long enough is not strict enough, relocked in compliance without a cool-off', async () => {
    const world = new Ec2World({ 'snap-01': tagged({ LockState: 'governance', LockExpiresOn: inDays(60) }) });
    await run(definition({ mode: 'compliance', durationDays: 30, coolOffHours: 24 }), world);
    expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([{ SnapshotId: 'snap-01', LockMode: 'compliance', LockDuration: 30 }]);
  });

  test('compliance wanted: a lock in its cool-off, long enough, is left alone', async () => {
    const world = new Ec2World({ 'snap-01': tagged({ LockState: 'compliance-cooloff', LockExpiresOn: inDays(30) }) });
    await run(definition({ mode: 'compliance', durationDays: 30, coolOffHours: 24 }), world);
    expect(world.api('LockSnapshot')).toEqual([]);
  });

  test('compliance wanted: a new lock and a lock that expired get the cool-off', async () => {
    const world = new Ec2World({ 'snap-01': tagged(), 'snap-02': tagged({ LockState: 'expired', LockExpiresOn: inDays(-1) }) });
    const out = await run(definition({ mode: 'compliance', durationDays: 30, coolOffHours: 24 }), world, event({
      event: 'createSnapshots', result: 'succeeded', snapshots: ['snap-01', 'snap-02'].map((id) => ({ snapshot_id: `arn:aws:ec2::eu-central-1:snapshot/${id}` })),
    }));
    expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([
      { SnapshotId: 'snap-01', LockMode: 'compliance', LockDuration: 30, CoolOffPeriod: 24 },
      { SnapshotId: 'snap-02', LockMode: 'compliance', LockDuration: 30, CoolOffPeriod: 24 },
    ]);
    expect(out.map((o: any) => o.lockState)).toEqual(['compliance-cooloff', 'compliance-cooloff']);
  });

  test('compliance without cool-off: a new lock asks for none', async () => {
    const world = new Ec2World({ 'snap-01': tagged() });
    await run(definition({ mode: 'compliance', durationDays: 30 }), world);
    expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([{ SnapshotId: 'snap-01', LockMode: 'compliance', LockDuration: 30 }]);
  });

  test('governance wanted: a compliance lock that runs out too soon stays compliance (EC2 refuses the downgrade), extended', async () => {
    const world = new Ec2World({ 'snap-01': tagged({ LockState: 'compliance', LockExpiresOn: inDays(1) }) });
    await run(definition({ coolOffHours: 24 }), world);
    expect(world.api('LockSnapshot').map((c) => c.args)).toEqual([{ SnapshotId: 'snap-01', LockMode: 'compliance', LockDuration: 7 }]);
  });
});

describe('retries and the heartbeat', () => {
  test('LockSnapshot is retried 6 times (7 attempts) on any error, then the run fails', async () => {
    const world = new Ec2World({ 'snap-01': tagged() });
    world.throttleLocks = 6;
    expect(await run(definition(), world)).toEqual([expect.objectContaining({ outcome: 'locked' })]);
    expect(world.api('LockSnapshot')).toHaveLength(7);
    const failing = new Ec2World({ 'snap-01': tagged() });
    failing.throttleLocks = 7;
    await expect(run(definition(), failing)).rejects.toThrow(/RequestLimitExceeded/);
  });

  test('a run that left snapshots locked records how many; a run that locked none records nothing', async () => {
    const world = new Ec2World({ 'snap-01': tagged(), 'snap-02': tagged({ LockState: 'governance', LockExpiresOn: inDays(30) }), 'snap-03': { tags: {} } });
    const out = await run(definition({ heartbeat: HEARTBEAT }), world, event({
      event: 'createSnapshots', result: 'succeeded', snapshots: ['snap-01', 'snap-02', 'snap-03'].map((id) => ({ snapshot_id: `arn:aws:ec2::eu-central-1:snapshot/${id}` })),
    }));
    expect(world.api('PutMetricData').map((c) => c.args)).toEqual([{
      Namespace: 'CdkEbsBackup/SnapshotLock',
      MetricData: [{ MetricName: 'SnapshotsLocked', Value: 2, Unit: 'Count', Dimensions: [{ Name: 'LockName', Value: 'Ledger' }] }],
    }]);
    expect(out).toEqual([{ snapshotId: 'snap-01', outcome: 'locked', lockState: 'governance' }, { snapshotId: 'snap-02', outcome: 'already-locked' }]);
    const untagged = new Ec2World({ 'snap-03': { tags: {} } });
    await run(definition({ heartbeat: HEARTBEAT }), untagged, created('snap-03'));
    expect(untagged.api('PutMetricData')).toEqual([]);
  });

  test('a heartbeat that cannot be recorded (after its retries) does not fail the run: the locks stand', async () => {
    const world = new Ec2World({ 'snap-01': tagged() });
    world.failHeartbeat = true;
    await expect(run(definition({ heartbeat: HEARTBEAT }), world)).resolves.toBeDefined();
    expect(world.api('PutMetricData')).toHaveLength(7);
    expect(world.snapshots['snap-01'].lock?.LockState).toBe('governance');
  });
});
