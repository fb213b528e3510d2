import {
  DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ExpiryConfig, configFromEnv, expire, handler, isExpired, retentionDays } from '../../lambda/runbooks/prechange-expiry';

const ec2 = mockClient(EC2Client);
const NOW = new Date('2026-03-01T00:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
const CONFIG: ExpiryConfig = {
  purposeKey: 'backup:purpose',
  purpose: 'pre-change',
  managedByKey: 'backup:managed-by',
  managedBy: 'App/PreChange',
  retentionKey: 'backup:retention',
  minRetentionDays: 1,
};
const tags = (retention?: string) => [
  { Key: 'backup:purpose', Value: 'pre-change' }, { Key: 'backup:managed-by', Value: 'App/PreChange' },
  ...(retention === undefined ? [] : [{ Key: 'backup:retention', Value: retention }]),
];
const snapshot = (id: string, age: number, retention = 'age:14d') => ({ SnapshotId: id, StartTime: daysAgo(age), Tags: tags(retention) });
const image = (id: string, age: number, snapshots: string[], retention = 'age:14d') => ({
  ImageId: id,
  CreationDate: daysAgo(age).toISOString(),
  Tags: tags(retention),
  BlockDeviceMappings: snapshots.map((s) => ({ DeviceName: '/dev/xvda', Ebs: { SnapshotId: s } })),
});

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeImagesCommand).resolves({ Images: [] });
  ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  ec2.on(DeleteSnapshotCommand).resolves({});
  ec2.on(DeregisterImageCommand).resolves({});
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('retention', () => {
  test.each([
    ['age:14d', 14], ['age:1d', 1], ['keep', undefined], [undefined, undefined], ['count:3', undefined], ['age:14', undefined], ['age', 7],
  ])('retention tag %p keeps for %p days', (tag, days) => {
    expect(retentionDays(tag, { ...CONFIG, expireAfterDays: 7 })).toBe(days);
  });

  test('expires at exactly the retention age, not before', () => {
    expect(isExpired(daysAgo(14), tags('age:14d'), CONFIG, NOW)).toBe(true);
    expect(isExpired(new Date(daysAgo(14).getTime() + 1000), tags('age:14d'), CONFIG, NOW)).toBe(false);
    expect(isExpired(undefined, tags('age:14d'), CONFIG, NOW)).toBe(false);
    expect(isExpired(new Date('not a date'), tags('age:14d'), CONFIG, NOW)).toBe(false);
  });
});

// Issue 16 #2: the retention tag can be changed by anyone allowed to tag, so the handler takes it
// only as a lengthening. The construct's own expireAfter (14 days here) is the floor.
describe('the retention floor', () => {
  const FLOORED: ExpiryConfig = { ...CONFIG, expireAfterDays: 14, minRetentionDays: 14 };

  test.each([
    ['age:0d', 14], ['age:1d', 14], ['age:13d', 14], ['age:14d', 14], ['age:30d', 30], ['age', 14], ['keep', undefined],
  ])('retention tag %p keeps for %p days under a 14-day floor', (tag, days) => {
    expect(retentionDays(tag, FLOORED)).toBe(days);
  });

  test('a snapshot and an AMI re-tagged age:0d are not deleted before the configured expireAfter, and the rejection is logged', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ami-retagged', 13, ['snap-behind'], 'age:0d')] });
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snapshot('snap-retagged', 13, 'age:0d'), snapshot('snap-behind', 13, 'age:0d'), snapshot('snap-due', 14, 'age:0d')],
    });
    const logged = jest.spyOn(console, 'log');
    const summary = await expire(new EC2Client({}), FLOORED, NOW);
    expect(summary.deregisteredImages).toEqual([]);
    expect(summary.deletedSnapshots).toEqual(['snap-due']); // the floor reached: what the construct would have done anyway
    expect(summary.kept).toEqual(['ami-retagged', 'snap-retagged', 'snap-behind']);
    expect(ec2.commandCalls(DeregisterImageCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).toEqual(['snap-due']);
    const warnings = logged.mock.calls.map((c) => JSON.parse(String(c[0]))).filter((l) => /below the floor/.test(l.message));
    expect(warnings.map((w) => w.id)).toEqual(['ami-retagged', 'snap-retagged', 'snap-behind', 'snap-due']);
  });
});

describe('expire', () => {
  test('asks EC2 only for artefacts of this runbook, by purpose and managed-by', async () => {
    await expire(new EC2Client({}), CONFIG, NOW);
    const filters = [
      { Name: 'tag:backup:purpose', Values: ['pre-change'] },
      { Name: 'tag:backup:managed-by', Values: ['App/PreChange'] },
    ];
    expect(ec2.commandCalls(DescribeImagesCommand, { Owners: ['self'], Filters: filters })).not.toHaveLength(0);
    expect(ec2.commandCalls(DescribeSnapshotsCommand, { OwnerIds: ['self'], Filters: filters })).not.toHaveLength(0);
  });

  test('deletes expired snapshots and keeps young and re-tagged ones', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snapshot('snap-old', 20), snapshot('snap-young', 3), snapshot('snap-keep', 400, 'keep'), { SnapshotId: 'snap-untagged', StartTime: daysAgo(400), Tags: tags(undefined) }],
    });
    const summary = await expire(new EC2Client({}), CONFIG, NOW);
    expect(summary).toEqual({ deregisteredImages: [], deletedSnapshots: ['snap-old'], kept: ['snap-young', 'snap-keep', 'snap-untagged'], failed: [], dryRun: false, deferred: 0 });
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(1);
    expect(ec2.commandCalls(DeleteSnapshotCommand, { SnapshotId: 'snap-old' })).not.toHaveLength(0);
  });

  test('deregisters an expired AMI, then deletes its snapshots; a kept AMI protects its snapshots', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ami-old', 30, ['snap-a']), image('ami-kept', 30, ['snap-b'], 'keep')] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 30), snapshot('snap-b', 30)] });
    const summary = await expire(new EC2Client({}), CONFIG, NOW);
    expect(summary.deregisteredImages).toEqual(['ami-old']);
    expect(summary.deletedSnapshots).toEqual(['snap-a']);
    expect(summary.kept).toEqual(['ami-kept', 'snap-b']);
    // the AMI goes before the snapshot listing, so its snapshots are free by the time they are deleted
    expect(ec2.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeImagesCommand', 'DeregisterImageCommand', 'DescribeSnapshotsCommand', 'DeleteSnapshotCommand']);
    expect(ec2.commandCalls(DeregisterImageCommand)[0].args[0].input).toEqual({ ImageId: 'ami-old' });
  });

  test('follows pagination', async () => {
    ec2.on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [snapshot('snap-1', 20)], NextToken: 'page2' })
      .resolvesOnce({ Snapshots: [snapshot('snap-2', 20)] });
    const summary = await expire(new EC2Client({}), CONFIG, NOW);
    expect(summary.deletedSnapshots).toEqual(['snap-1', 'snap-2']);
    expect(ec2.commandCalls(DescribeSnapshotsCommand, { NextToken: 'page2' })).not.toHaveLength(0);
  });

  test('retries throttling and then succeeds', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-1', 20)] });
    const throttled = Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded' });
    ec2.on(DeleteSnapshotCommand).rejectsOnce(throttled).resolves({});
    const summary = await expire(new EC2Client({}), CONFIG, NOW);
    expect(summary.deletedSnapshots).toEqual(['snap-1']);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(2);
  });

  test('keeps a snapshot that is in use, and reports any other failure without stopping', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ami-stuck', 30, ['snap-c'])] });
    ec2.on(DeregisterImageCommand).rejects(Object.assign(new Error('no'), { name: 'UnauthorizedOperation' }));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-inuse', 20), snapshot('snap-denied', 20), snapshot('snap-c', 30), snapshot('snap-ok', 20)] });
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-inuse' }).rejects(Object.assign(new Error('in use'), { name: 'InvalidSnapshot.InUse' }));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-denied' }).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    const summary = await expire(new EC2Client({}), CONFIG, NOW);
    expect(summary).toEqual({
      deregisteredImages: [], deletedSnapshots: ['snap-ok'], kept: ['snap-inuse', 'snap-c'], failed: ['ami-stuck', 'snap-denied'], dryRun: false, deferred: 0,
    });
  });

  test('an artefact an overlapping run already removed counts as expired, not as a failure (no reserved concurrency)', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ami-gone', 30, ['snap-g'])] });
    ec2.on(DeregisterImageCommand).rejects(Object.assign(new Error('gone'), { name: 'InvalidAMIID.Unavailable' }));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-g', 30), snapshot('snap-x', 20)] });
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-g' }).rejects(Object.assign(new Error('gone'), { name: 'InvalidSnapshot.NotFound' }));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-x' }).resolves({});
    const summary = await expire(new EC2Client({}), CONFIG, NOW);
    expect(summary).toEqual({
      deregisteredImages: ['ami-gone'], deletedSnapshots: ['snap-g', 'snap-x'], kept: [], failed: [], dryRun: false, deferred: 0,
    });
  });

  test('a dry run reports and deletes nothing', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ami-old', 30, ['snap-a'])] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 30)] });
    const summary = await expire(new EC2Client({}), { ...CONFIG, dryRun: true }, NOW);
    expect(summary).toMatchObject({ deregisteredImages: ['ami-old'], deletedSnapshots: ['snap-a'], dryRun: true });
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeregisterImageCommand)).toHaveLength(0);
  });

  test('a failed describe fails the run', async () => {
    ec2.on(DescribeImagesCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    await expect(expire(new EC2Client({}), CONFIG, NOW)).rejects.toThrow('denied');
  });
});

describe('handler', () => {
  const env = {
    PURPOSE_KEY: 'backup:purpose',
    PURPOSE: 'pre-change',
    MANAGED_BY_KEY: 'backup:managed-by',
    MANAGED_BY: 'App/PreChange',
    RETENTION_KEY: 'backup:retention',
    EXPIRE_AFTER_DAYS: '14',
    MIN_RETENTION_DAYS: '14',
  };
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = process.env;
    process.env = { ...saved, ...env };
  });
  afterEach(() => {
    process.env = saved;
  });

  test('reads its configuration from the environment', () => {
    expect(configFromEnv(env)).toEqual({ ...CONFIG, managedBy: 'App/PreChange', expireAfterDays: 14, minRetentionDays: 14 });
    // fail closed: no floor, no run
    for (const floor of [undefined, '', '0', 'x', '1.5']) {
      expect(() => configFromEnv({ ...env, MIN_RETENTION_DAYS: floor })).toThrow(/MIN_RETENTION_DAYS/);
    }
    expect(configFromEnv({ ...env, EXPIRE_AFTER_DAYS: 'x' }).expireAfterDays).toBeUndefined();
    expect(() => configFromEnv({ ...env, PURPOSE: '' })).toThrow('environment variable PURPOSE is not set');
  });

  test('returns the summary and logs one JSON line', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-old', 20)] });
    await expect(handler({})).resolves.toMatchObject({ deletedSnapshots: ['snap-old'] });
    const lines = (console.log as jest.Mock).mock.calls.map((c) => JSON.parse(c[0]));
    expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'INFO', message: 'pre-change expiry finished', deletedSnapshots: 1 })]));
  });

  test('passes dryRun through', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-old', 20)] });
    await expect(handler({ dryRun: true })).resolves.toMatchObject({ dryRun: true });
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  });

  test('fails the invocation when any artefact could not be expired, naming it', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-denied', 20)] });
    ec2.on(DeleteSnapshotCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    await expect(handler({})).rejects.toThrow('pre-change expiry failed for 1 artefact(s): snap-denied');
  });
});

// Found by mutation testing (npx projen mutate lambda-prechange-expiry): each test below fails on a
// look-alike of the handler that the tests above let pass.
describe('what the mutation run found untested', () => {
  const records = () => [
    ...(console.log as jest.Mock).mock.calls, ...(console.error as jest.Mock).mock.calls,
  ].map((c) => JSON.parse(String(c[0])));

  test('an expire-after of 0, a fraction or a negative count is no expire-after; a floor of 1 day is a floor', () => {
    const env = {
      PURPOSE_KEY: 'p', PURPOSE: 'v', MANAGED_BY_KEY: 'm', MANAGED_BY: 'App/X', RETENTION_KEY: 'r', MIN_RETENTION_DAYS: '1',
    };
    expect(configFromEnv(env).minRetentionDays).toBe(1);
    for (const days of ['0', '1.5', '-3', 'x', undefined]) {
      expect(configFromEnv({ ...env, EXPIRE_AFTER_DAYS: days }).expireAfterDays).toBeUndefined();
    }
    expect(configFromEnv({ ...env, EXPIRE_AFTER_DAYS: '1' }).expireAfterDays).toBe(1);
  });

  test('only a whole retention tag counts: a prefix or a suffix around age:<n>d keeps for good', () => {
    for (const tag of ['xage:14d', 'age:14dx', 'age:14d ', ' age:14d']) {
      expect(retentionDays(tag, CONFIG)).toBeUndefined();
      expect(isExpired(daysAgo(400), tags(tag), CONFIG, NOW)).toBe(false);
    }
  });

  test('a retention tag at or above the floor, or one that keeps for good, is not reported as tampered', async () => {
    const FLOORED: ExpiryConfig = { ...CONFIG, expireAfterDays: 14, minRetentionDays: 14 };
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snapshot('snap-at', 3, 'age:14d'), snapshot('snap-above', 3, 'age:30d'), snapshot('snap-keep', 3, 'keep'), snapshot('snap-low', 3, 'age:13d')],
    });
    await expire(new EC2Client({}), FLOORED, NOW);
    expect(records().filter((l) => /below the floor/.test(l.message)).map((l) => l.id)).toEqual(['snap-low']);
  });

  test('an error without a name is classified by its Code, and one with neither is named Error', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-inuse', 20), snapshot('snap-odd', 20)] });
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-inuse' }).callsFake(() => Promise.reject({ Code: 'InvalidSnapshot.InUse' }));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-odd' }).callsFake(() => Promise.reject({}));
    const summary = await expire(new EC2Client({}), CONFIG, NOW);
    expect(summary).toMatchObject({ kept: ['snap-inuse'], failed: ['snap-odd'] });
    expect(records().filter((l) => l.message === 'could not delete snapshot')).toEqual([
      { level: 'ERROR', message: 'could not delete snapshot', purpose: 'pre-change', managedBy: 'App/PreChange', snapshotId: 'snap-odd', error: 'Error' },
    ]);
  });

  test('each deletion, each artefact already gone and each failure is logged with its id, purpose and creator', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [image('ami-old', 30, ['snap-a']), image('ami-gone', 30, ['snap-g']), image('ami-stuck', 30, ['snap-s'])],
    });
    ec2.on(DeregisterImageCommand, { ImageId: 'ami-gone' }).rejects(Object.assign(new Error('gone'), { name: 'InvalidAMIID.NotFound' }));
    ec2.on(DeregisterImageCommand, { ImageId: 'ami-stuck' }).rejects(Object.assign(new Error('no'), { name: 'UnauthorizedOperation' }));
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snapshot('snap-a', 30), snapshot('snap-inuse', 20), snapshot('snap-x', 20), snapshot('snap-denied', 20)],
    });
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-inuse' }).rejects(Object.assign(new Error('in use'), { name: 'InvalidSnapshot.InUse' }));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-x' }).rejects(Object.assign(new Error('gone'), { name: 'InvalidSnapshot.NotFound' }));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-denied' }).rejects(Object.assign(new Error('no'), { name: 'UnauthorizedOperation' }));
    await expire(new EC2Client({}), CONFIG, NOW);
    const who = { purpose: 'pre-change', managedBy: 'App/PreChange' };
    expect(records()).toEqual([
      { level: 'INFO', message: 'deregistered expired image', ...who, imageId: 'ami-old', snapshotIds: ['snap-a'], dryRun: false },
      { level: 'INFO', message: 'expired image already gone', ...who, imageId: 'ami-gone' },
      { level: 'INFO', message: 'deleted expired snapshot', ...who, snapshotId: 'snap-a', dryRun: false },
      { level: 'WARN', message: 'expired snapshot is in use, kept', ...who, snapshotId: 'snap-inuse' },
      { level: 'INFO', message: 'expired snapshot already gone', ...who, snapshotId: 'snap-x' },
      // console.error lines after console.log lines (records() reads the two spies in turn)
      { level: 'ERROR', message: 'could not deregister image', ...who, imageId: 'ami-stuck', error: 'UnauthorizedOperation' },
      { level: 'ERROR', message: 'could not delete snapshot', ...who, snapshotId: 'snap-denied', error: 'UnauthorizedOperation' },
    ]);
  });

  test('a dry run logs each artefact as a dry run', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ami-old', 30, ['snap-a'])] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 30)] });
    await expire(new EC2Client({}), { ...CONFIG, dryRun: true }, NOW);
    expect(records().map((l) => [l.message, l.dryRun])).toEqual([['deregistered expired image', true], ['deleted expired snapshot', true]]);
  });

  test('out of time: nothing more is started, an AMI left for the next run keeps its snapshots, and the rest is counted', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ami-1', 30, ['snap-1']), image('ami-2', 30, ['snap-2'])] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-1', 30), snapshot('snap-2', 30), snapshot('snap-3', 30)] });
    let clock = 0;
    ec2.on(DeregisterImageCommand).callsFake(async () => { clock += 1001; return {}; });
    const summary = await expire(new EC2Client({}), CONFIG, NOW, { budgetMs: 1000, elapsedMs: () => clock });
    // ami-1 went within the budget; ami-2 waits, so snap-2 (behind it) is kept, not deferred
    expect(summary).toEqual({ deregisteredImages: ['ami-1'], deletedSnapshots: [], kept: ['snap-2'], failed: [], dryRun: false, deferred: 3 });
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(records().filter((l) => /time budget/.test(l.message))).toEqual([{
      level: 'WARN',
      message: 'time budget used up: the remaining expired artefacts wait for the next run',
      purpose: 'pre-change',
      managedBy: 'App/PreChange',
      deferred: 3,
      budgetMs: 1000,
    }]);
  });

  test('within the budget nothing is deferred and no budget warning is logged', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-1', 30)] });
    const summary = await expire(new EC2Client({}), CONFIG, NOW, { budgetMs: 1000, elapsedMs: () => 1000 });
    expect(summary).toMatchObject({ deletedSnapshots: ['snap-1'], deferred: 0 });
    expect(records().filter((l) => /time budget/.test(l.message))).toEqual([]);
  });
});

describe('handler, as the mutation run found it untested', () => {
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = process.env;
    process.env = {
      ...saved, PURPOSE_KEY: 'backup:purpose', PURPOSE: 'pre-change', MANAGED_BY_KEY: 'backup:managed-by', MANAGED_BY: 'App/PreChange', RETENTION_KEY: 'backup:retention', MIN_RETENTION_DAYS: '14',
    };
  });
  afterEach(() => {
    process.env = saved;
  });

  test('a null payload (an invocation without input) is a real run, not a dry run', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-old', 20)] });
    await expect(handler(null as unknown as {})).resolves.toMatchObject({ dryRun: false, deletedSnapshots: ['snap-old'] });
  });

  test('a failed run logs its summary as an ERROR naming every failed artefact, and the error names them all', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('snap-a', 20), snapshot('snap-b', 20)] });
    ec2.on(DeleteSnapshotCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    await expect(handler({})).rejects.toThrow(/^pre-change expiry failed for 2 artefact\(s\): snap-a, snap-b$/);
    const finished = (console.error as jest.Mock).mock.calls.map((c) => JSON.parse(String(c[0]))).filter((l) => l.message === 'pre-change expiry finished');
    expect(finished).toEqual([{
      level: 'ERROR',
      message: 'pre-change expiry finished',
      purpose: 'pre-change',
      managedBy: 'App/PreChange',
      deregisteredImages: 0,
      deletedSnapshots: 0,
      kept: 0,
      deferred: 0,
      failed: ['snap-a', 'snap-b'],
    }]);
  });
});
