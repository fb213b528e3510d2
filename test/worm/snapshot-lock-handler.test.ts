import {
  DescribeLockedSnapshotsCommand, DescribeSnapshotsCommand, EC2Client, LockSnapshotCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import {
  alreadyLocked, handler, LockSettings, lockSnapshots, settingsFromEnv, SnapshotEvent, snapshotIds,
} from '../../lambda/worm-snapshot-lock';

const ec2Mock = mockClient(EC2Client);
const NOW = new Date('2026-01-10T00:00:00Z');
const DAY = 86_400_000;
const SETTINGS: LockSettings = { mode: 'compliance', durationDays: 30, coolOffHours: 24, purposeTagKey: 'backup:purpose', purposes: [] };
const noSleep = async () => undefined;

function created(id: string): SnapshotEvent {
  return {
    resources: [`arn:aws:ec2::us-east-1:snapshot/${id}`],
    detail: { event: 'createSnapshot', result: 'succeeded', snapshot_id: `arn:aws:ec2::us-east-1:snapshot/${id}` },
  };
}

function tagged(purpose?: string) {
  return { Snapshots: [{ SnapshotId: 'snap-1', Tags: purpose === undefined ? [{ Key: 'Name', Value: 'x' }] : [{ Key: 'backup:purpose', Value: purpose }] }] };
}

function throttle(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });
}

const deps = (settings: LockSettings = SETTINGS) => ({ ec2: new EC2Client({}), settings, now: () => NOW, sleep: noSleep });

beforeEach(() => {
  ec2Mock.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('worm-snapshot-lock handler', () => {
  test('locks a new purpose-tagged snapshot in compliance mode with its cool-off', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged('database-dr'));
    ec2Mock.on(DescribeLockedSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(LockSnapshotCommand).resolves({ LockState: 'compliance-cooloff' });

    const results = await lockSnapshots(created('snap-1'), deps());

    expect(results).toEqual([{ snapshotId: 'snap-1', outcome: 'locked', purpose: 'database-dr' }]);
    expect(ec2Mock.commandCalls(LockSnapshotCommand)[0].args[0].input).toEqual({
      SnapshotId: 'snap-1', LockMode: 'compliance', LockDuration: 30, CoolOffPeriod: 24,
    });
  });

  test('leaves a snapshot without the purpose tag alone', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged(undefined));
    const results = await lockSnapshots(created('snap-1'), deps());
    expect(results).toEqual([{ snapshotId: 'snap-1', outcome: 'no-purpose-tag' }]);
    expect(ec2Mock.commandCalls(LockSnapshotCommand)).toHaveLength(0);
  });

  test('leaves a snapshot of another purpose alone when purposes are listed', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged('scratch'));
    const results = await lockSnapshots(created('snap-1'), deps({ ...SETTINGS, purposes: ['database-dr'] }));
    expect(results).toEqual([{ snapshotId: 'snap-1', outcome: 'other-purpose', purpose: 'scratch' }]);
    expect(ec2Mock.commandCalls(LockSnapshotCommand)).toHaveLength(0);
  });

  test('does nothing for a snapshot already locked long enough (a redelivered event)', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged('database-dr'));
    ec2Mock.on(DescribeLockedSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-1', LockState: 'compliance-cooloff', LockExpiresOn: new Date(NOW.getTime() + 30 * DAY) }],
    });
    const results = await lockSnapshots(created('snap-1'), deps());
    expect(results[0].outcome).toBe('already-locked');
    expect(ec2Mock.commandCalls(LockSnapshotCommand)).toHaveLength(0);
  });

  test('extends a shorter compliance lock in compliance mode, without a new cool-off', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged('database-dr'));
    ec2Mock.on(DescribeLockedSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-1', LockState: 'compliance', LockExpiresOn: new Date(NOW.getTime() + 2 * DAY) }],
    });
    ec2Mock.on(LockSnapshotCommand).resolves({});
    const results = await lockSnapshots(created('snap-1'), deps({ ...SETTINGS, mode: 'governance' }));
    expect(results[0].outcome).toBe('extended');
    expect(ec2Mock.commandCalls(LockSnapshotCommand)[0].args[0].input).toEqual({
      SnapshotId: 'snap-1', LockMode: 'compliance', LockDuration: 30, CoolOffPeriod: undefined,
    });
  });

  test('upgrades a governance lock to compliance', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged('database-dr'));
    ec2Mock.on(DescribeLockedSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-1', LockState: 'governance', LockExpiresOn: new Date(NOW.getTime() + 90 * DAY) }],
    });
    ec2Mock.on(LockSnapshotCommand).resolves({});
    const results = await lockSnapshots(created('snap-1'), deps());
    expect(results[0].outcome).toBe('extended');
    expect(ec2Mock.commandCalls(LockSnapshotCommand)[0].args[0].input.LockMode).toBe('compliance');
  });

  test('retries throttling with backoff and then succeeds', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).rejectsOnce(throttle()).resolves(tagged('database-dr'));
    ec2Mock.on(DescribeLockedSnapshotsCommand).resolves({});
    ec2Mock.on(LockSnapshotCommand).rejectsOnce(throttle()).rejectsOnce(throttle()).resolves({});
    const results = await lockSnapshots(created('snap-1'), deps());
    expect(results[0].outcome).toBe('locked');
    expect(ec2Mock.commandCalls(DescribeSnapshotsCommand)).toHaveLength(2);
    expect(ec2Mock.commandCalls(LockSnapshotCommand)).toHaveLength(3);
  });

  test('throws after persistent throttling, so the event is retried and then dead-lettered', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged('database-dr'));
    ec2Mock.on(DescribeLockedSnapshotsCommand).resolves({});
    ec2Mock.on(LockSnapshotCommand).rejects(throttle());
    await expect(lockSnapshots(created('snap-1'), deps())).rejects.toThrow('could not lock 1 snapshot(s): snap-1: RequestLimitExceeded: Rate exceeded');
    expect(ec2Mock.commandCalls(LockSnapshotCommand)).toHaveLength(5);
  });

  test('throws at once on a non-retryable error, after trying the other snapshots', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged('database-dr'));
    ec2Mock.on(DescribeLockedSnapshotsCommand).resolves({});
    ec2Mock.on(LockSnapshotCommand, { SnapshotId: 'snap-a' })
      .rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
    ec2Mock.on(LockSnapshotCommand, { SnapshotId: 'snap-b' }).resolves({});
    const event: SnapshotEvent = {
      detail: {
        event: 'createSnapshots',
        result: 'succeeded',
        snapshots: [{ snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-a', status: 'completed' }, { snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-b', status: 'completed' }],
      },
    };
    await expect(lockSnapshots(event, deps())).rejects.toThrow('could not lock 1 snapshot(s): snap-a: UnauthorizedOperation');
    expect(ec2Mock.commandCalls(LockSnapshotCommand, { SnapshotId: 'snap-a' })).toHaveLength(1);
    expect(ec2Mock.commandCalls(LockSnapshotCommand, { SnapshotId: 'snap-b' })).toHaveLength(1);
  });

  test('treats a snapshot deleted in the meantime as done', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).rejects(Object.assign(new Error('gone'), { name: 'InvalidSnapshot.NotFound' }));
    expect(await lockSnapshots(created('snap-1'), deps())).toEqual([{ snapshotId: 'snap-1', outcome: 'not-found' }]);
  });

  test('treats an empty describe result as not found', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    expect(await lockSnapshots(created('snap-1'), deps())).toEqual([{ snapshotId: 'snap-1', outcome: 'not-found' }]);
  });

  test('rethrows other describe errors', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(lockSnapshots(created('snap-1'), deps())).rejects.toThrow('snap-1: AccessDenied: denied');
  });

  test('the handler reads its settings from the environment', async () => {
    process.env.LOCK_MODE = 'governance';
    process.env.LOCK_DURATION_DAYS = '7';
    process.env.PURPOSE_TAG_KEY = 'backup:purpose';
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged('database-dr'));
    ec2Mock.on(DescribeLockedSnapshotsCommand).resolves({});
    ec2Mock.on(LockSnapshotCommand).resolves({});
    expect(await handler(created('snap-1'))).toEqual([{ snapshotId: 'snap-1', outcome: 'locked', purpose: 'database-dr' }]);
    expect(ec2Mock.commandCalls(LockSnapshotCommand)[0].args[0].input).toEqual({ SnapshotId: 'snap-1', LockMode: 'governance', LockDuration: 7, CoolOffPeriod: undefined });
    delete process.env.LOCK_MODE;
    delete process.env.LOCK_DURATION_DAYS;
    delete process.env.PURPOSE_TAG_KEY;
  });
});

describe('event parsing', () => {
  test('reads single, multi-volume and resource snapshot ids once each', () => {
    expect(snapshotIds({
      resources: ['arn:aws:ec2::us-east-1:snapshot/snap-0a'],
      detail: {
        result: 'succeeded',
        snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-0a',
        snapshots: [{ snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-0b', status: 'completed' }, { snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-0c', status: 'error' }],
      },
    })).toEqual(['snap-0a', 'snap-0b']);
  });

  test('ignores failed events', () => {
    expect(snapshotIds({ detail: { result: 'failed', snapshot_id: 'arn:aws:ec2::us-east-1:snapshot/snap-0a' } })).toEqual([]);
  });

  test.each([
    [{ LOCK_MODE: 'legal-hold', LOCK_DURATION_DAYS: '1', PURPOSE_TAG_KEY: 'k' }, 'LOCK_MODE must be governance or compliance'],
    [{ LOCK_MODE: 'governance', LOCK_DURATION_DAYS: '0', PURPOSE_TAG_KEY: 'k' }, 'LOCK_DURATION_DAYS must be an integer between 1 and 36500'],
    [{ LOCK_MODE: 'governance', LOCK_DURATION_DAYS: '1' }, 'PURPOSE_TAG_KEY must be set'],
  ])('rejects bad settings %j', (env, message) => {
    expect(() => settingsFromEnv(env)).toThrow(message);
  });

  test('reads purposes and cool-off from the environment', () => {
    expect(settingsFromEnv({ LOCK_MODE: 'compliance', LOCK_DURATION_DAYS: '3', COOL_OFF_HOURS: '2', PURPOSE_TAG_KEY: 'k', PURPOSES: '["a"]' }))
      .toEqual({ mode: 'compliance', durationDays: 3, coolOffHours: 2, purposeTagKey: 'k', purposes: ['a'] });
  });

  test.each([
    ['no lock', undefined, false],
    ['an expired lock', { LockState: 'expired', LockExpiresOn: new Date(NOW.getTime() + 90 * DAY) }, false],
    ['a long governance lock when compliance is wanted', { LockState: 'governance', LockExpiresOn: new Date(NOW.getTime() + 90 * DAY) }, false],
    ['a long compliance lock', { LockState: 'compliance', LockExpiresOn: new Date(NOW.getTime() + 90 * DAY) }, true],
    ['a short compliance lock', { LockState: 'compliance', LockExpiresOn: new Date(NOW.getTime() + 5 * DAY) }, false],
  ])('alreadyLocked: %s', (_name, lock, expected) => {
    expect(alreadyLocked(lock as any, SETTINGS, NOW)).toBe(expected);
  });
});
