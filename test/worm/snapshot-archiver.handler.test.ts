// The archive handler's tests, apart from the construct's (snapshot-archiver.test.ts): this file
// loads no aws-cdk-lib, so the lambda-archive mutation module runs it alone (1 to 3 s a mutant
// instead of a synthesis per mutant).
import {
  CreateTagsCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client, ModifySnapshotTierCommand, Snapshot,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ArchiveSettings, archiveOrphans, handler, settingsFromEnv } from '../../lambda/worm/archive';

describe('worm-archive handler', () => {
  const ec2Mock = mockClient(EC2Client);
  const NOW = new Date('2026-06-01T00:00:00Z');
  const OLD = new Date('2025-01-01T00:00:00Z');
  const RECENT = new Date('2026-05-20T00:00:00Z');
  const SETTINGS: ArchiveSettings = { purposeTagKey: 'backup:purpose', purposes: [], minimumAgeDays: 90, archivedTagKey: 'backup:archived-at', dryRun: false };
  const deps = (settings = SETTINGS) => ({ ec2: new EC2Client({}), settings, now: () => NOW, sleep: async () => undefined });
  const snap = (id: string, volume: string, start: Date, extraTags: Array<{ Key: string; Value: string }> = []) =>
    ({ SnapshotId: id, VolumeId: volume, StartTime: start, Tags: [{ Key: 'backup:purpose', Value: 'db' }, ...extraTags] });

  beforeEach(() => {
    ec2Mock.reset();
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  test('archives and tags old snapshots of deleted volumes only, across pages', async () => {
    ec2Mock.on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [snap('snap-gone', 'vol-gone', OLD), snap('snap-live', 'vol-live', OLD)], NextToken: 't' })
      .resolvesOnce({ Snapshots: [snap('snap-young', 'vol-gone', RECENT), snap('snap-done', 'vol-gone', OLD, [{ Key: 'backup:archived-at', Value: '2026-01-01' }])] });
    ec2Mock.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: 'vol-live' }] });
    ec2Mock.on(ModifySnapshotTierCommand).resolves({});
    ec2Mock.on(CreateTagsCommand).resolves({});

    const result = await archiveOrphans(deps());

    expect(result).toEqual({ archived: ['snap-gone'], wouldArchive: [], failed: [], keptVolumeExists: 1, keptTooYoung: 1, deferred: 0 });
    expect(ec2Mock.commandCalls(DescribeSnapshotsCommand)[0].args[0].input).toMatchObject({
      OwnerIds: ['self'],
      Filters: expect.arrayContaining([{ Name: 'storage-tier', Values: ['standard'] }, { Name: 'tag-key', Values: ['backup:purpose'] }]),
    });
    expect(ec2Mock.commandCalls(DescribeSnapshotsCommand)[1].args[0].input.NextToken).toBe('t');
    expect(ec2Mock.commandCalls(ModifySnapshotTierCommand)[0].args[0].input).toEqual({ SnapshotId: 'snap-gone', StorageTier: 'archive' });
    expect(ec2Mock.commandCalls(CreateTagsCommand)[0].args[0].input).toEqual({ Resources: ['snap-gone'], Tags: [{ Key: 'backup:archived-at', Value: '2026-06-01' }] });
  });

  test('stops starting archives when its time budget is used up, and counts what waits for the next run', async () => {
    // two sequential writes per archive: 10,000 orphans at ~100 ms each exceed Lambda's 15 minutes
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: ['a', 'b', 'c', 'd'].map((x) => snap(`snap-${x}`, `vol-${x}`, OLD)) });
    ec2Mock.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    ec2Mock.on(ModifySnapshotTierCommand).resolves({});
    ec2Mock.on(CreateTagsCommand).resolves({});
    let clock = 0;
    ec2Mock.on(CreateTagsCommand).callsFake(async () => { clock += 400; return {}; });
    const result = await archiveOrphans({ ...deps(), budgetMs: 1000, elapsedMs: () => clock });
    expect(result.archived).toEqual(['snap-a', 'snap-b', 'snap-c']);
    expect(result.deferred).toBe(1);
  });

  test('changes nothing in dry-run mode', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap('snap-gone', 'vol-gone', OLD)] });
    ec2Mock.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    const result = await archiveOrphans(deps({ ...SETTINGS, dryRun: true, purposes: ['db'] }));
    expect(result.wouldArchive).toEqual(['snap-gone']);
    expect(ec2Mock.commandCalls(ModifySnapshotTierCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(DescribeSnapshotsCommand)[0].args[0].input.Filters).toContainEqual({ Name: 'tag:backup:purpose', Values: ['db'] });
  });

  test('retries throttling, reports a failed snapshot after trying the rest, then throws', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).rejectsOnce(Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded' }))
      .resolves({ Snapshots: [snap('snap-a', 'vol-a', OLD), snap('snap-b', 'vol-b', OLD)] });
    ec2Mock.on(DescribeVolumesCommand).resolves({});
    ec2Mock.on(ModifySnapshotTierCommand, { SnapshotId: 'snap-a' }).rejects(Object.assign(new Error('in use by an AMI'), { name: 'IncorrectState' }));
    ec2Mock.on(ModifySnapshotTierCommand, { SnapshotId: 'snap-b' }).resolves({});
    ec2Mock.on(CreateTagsCommand).resolves({});
    await expect(archiveOrphans(deps())).rejects.toThrow('could not archive 1 snapshot(s): snap-a: IncorrectState: in use by an AMI');
    expect(ec2Mock.commandCalls(CreateTagsCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(DescribeSnapshotsCommand)).toHaveLength(2);
  });

  test('the handler reads its settings from the environment', async () => {
    Object.assign(process.env, { PURPOSE_TAG_KEY: 'backup:purpose', MINIMUM_AGE_DAYS: '90', ARCHIVED_TAG_KEY: 'backup:archived-at', DRY_RUN: 'true' });
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(DescribeVolumesCommand).resolves({});
    expect(await handler()).toEqual({ archived: [], wouldArchive: [], failed: [], keptVolumeExists: 0, keptTooYoung: 0, deferred: 0 });
    for (const k of ['PURPOSE_TAG_KEY', 'MINIMUM_AGE_DAYS', 'ARCHIVED_TAG_KEY', 'DRY_RUN']) {
      delete process.env[k];
    }
  });

  test.each([
    [{ MINIMUM_AGE_DAYS: 'x', PURPOSE_TAG_KEY: 'k', ARCHIVED_TAG_KEY: 'a' }, 'MINIMUM_AGE_DAYS must be a positive integer'],
    [{ MINIMUM_AGE_DAYS: '1', PURPOSE_TAG_KEY: 'k' }, 'PURPOSE_TAG_KEY and ARCHIVED_TAG_KEY must be set'],
  ])('rejects bad settings %j', (env, message) => {
    expect(() => settingsFromEnv(env)).toThrow(message);
  });
});

// Found by mutation testing (npx projen mutate lambda-archive): each test below fails on a
// look-alike of the handler that the tests above let pass. The EC2 stub here answers as EC2 does:
// DescribeSnapshots honours the filters the code sends (status, storage tier, purpose tag), and
// DescribeVolumes honours its volume-id filter and refuses more than 200 values in a filter
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumes.html: "The maximum
// number of filter values specified on a single call is 200").
describe('what the mutation run found untested', () => {
  const ec2Mock = mockClient(EC2Client);
  const NOW = new Date('2026-06-01T00:00:00Z');
  const DAY = 86_400_000;
  const SETTINGS: ArchiveSettings = { purposeTagKey: 'backup:purpose', purposes: [], minimumAgeDays: 90, archivedTagKey: 'backup:archived-at', dryRun: false };
  const deps = (settings = SETTINGS) => ({ ec2: new EC2Client({}), settings, now: () => NOW, sleep: async () => undefined });
  type Snap = Snapshot & { SnapshotId: string; Tags: Array<{ Key: string; Value: string }> };
  const snap = (id: string, volume: string | undefined, ageDays: number | undefined, o: Partial<Snap> = {}): Snap => ({
    SnapshotId: id,
    VolumeId: volume,
    StartTime: ageDays === undefined ? undefined : new Date(NOW.getTime() - ageDays * DAY),
    State: 'completed',
    StorageTier: 'standard',
    Tags: [{ Key: 'backup:purpose', Value: 'db' }],
    ...o,
  });

  /** DescribeSnapshots and DescribeVolumes over `snapshots` and the volumes that exist. */
  function serve(snapshots: Snap[], volumes: string[] = []) {
    ec2Mock.on(DescribeSnapshotsCommand).callsFake((input) => {
      const match = (s: Snap) => (input.Filters ?? []).every((f: { Name: string; Values: string[] }) => {
        if (f.Name === 'status') return f.Values.includes(s.State!);
        if (f.Name === 'storage-tier') return f.Values.includes(s.StorageTier!);
        if (f.Name === 'tag-key') return s.Tags.some((t) => f.Values.includes(t.Key!));
        if (f.Name.startsWith('tag:')) return s.Tags.some((t) => t.Key === f.Name.slice(4) && f.Values.includes(t.Value!));
        throw Object.assign(new Error(`unknown filter ${f.Name}`), { name: 'InvalidParameterValue' });
      });
      return Promise.resolve({ Snapshots: snapshots.filter(match) });
    });
    ec2Mock.on(DescribeVolumesCommand).callsFake((input) => {
      const ids: string[] = input.Filters?.find((f: { Name: string }) => f.Name === 'volume-id')?.Values ?? [];
      if (ids.length > 200) {
        return Promise.reject(Object.assign(new Error('The maximum number of filter values specified on a single call is 200'), { name: 'FilterLimitExceeded' }));
      }
      return Promise.resolve({ Volumes: volumes.filter((v) => ids.includes(v)).map((VolumeId) => ({ VolumeId })) });
    });
    ec2Mock.on(ModifySnapshotTierCommand).resolves({});
    ec2Mock.on(CreateTagsCommand).resolves({});
  }

  let logged: jest.SpyInstance;
  let errors: jest.SpyInstance;
  beforeEach(() => {
    ec2Mock.reset();
    logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());
  const records = () => [...logged.mock.calls, ...errors.mock.calls].map((c) => JSON.parse(String(c[0])));

  test('asks only for completed, standard-tier snapshots: a pending or already archived one is never touched', async () => {
    serve([snap('snap-ok', 'vol-gone', 200), snap('snap-pending', 'vol-gone', 200, { State: 'pending' }), snap('snap-cold', 'vol-gone', 200, { StorageTier: 'archive' })]);
    expect((await archiveOrphans(deps())).archived).toEqual(['snap-ok']);
    expect(ec2Mock.commandCalls(DescribeSnapshotsCommand)[0].args[0].input).toMatchObject({ OwnerIds: ['self'], MaxResults: 1000 });
  });

  test('a snapshot exactly the minimum age old is archived; one a second younger is kept', async () => {
    serve([snap('snap-due', 'vol-gone', 90), { ...snap('snap-young', 'vol-gone', 90), StartTime: new Date(NOW.getTime() - 90 * DAY + 1000) }, snap('snap-undated', 'vol-gone', undefined)]);
    expect(await archiveOrphans(deps())).toEqual({ archived: ['snap-due'], wouldArchive: [], failed: [], keptVolumeExists: 0, keptTooYoung: 2, deferred: 0 });
  });

  test('a snapshot with no volume id (a copy, or a volume EC2 no longer names) is an orphan', async () => {
    serve([snap('snap-novol', undefined, 200), snap('snap-live', 'vol-live', 200)], ['vol-live']);
    expect(await archiveOrphans(deps())).toEqual({ archived: ['snap-novol'], wouldArchive: [], failed: [], keptVolumeExists: 1, keptTooYoung: 0, deferred: 0 });
  });

  test('450 volumes are looked up 200 at a time; every live one keeps its snapshot', async () => {
    const all = Array.from({ length: 450 }, (_, n) => snap(`snap-${n}`, `vol-${n}`, 200));
    const live = all.filter((_, n) => n % 3 === 0).map((s) => s.VolumeId!);
    serve(all, live);
    const result = await archiveOrphans(deps());
    expect(result.keptVolumeExists).toBe(150);
    expect(result.archived).toEqual(all.filter((_, n) => n % 3 !== 0).map((s) => s.SnapshotId));
    expect(ec2Mock.commandCalls(DescribeVolumesCommand).map((c) => c.args[0].input.Filters![0].Values!.length)).toEqual([200, 200, 50]);
  });

  test('the volume lookup follows NextToken', async () => {
    serve([snap('snap-a', 'vol-a', 200), snap('snap-b', 'vol-b', 200)]);
    ec2Mock.on(DescribeVolumesCommand)
      .resolvesOnce({ Volumes: [{ VolumeId: 'vol-a' }], NextToken: 'more' })
      .resolvesOnce({ Volumes: [{ VolumeId: 'vol-b' }] });
    const result = await archiveOrphans(deps());
    expect(result).toMatchObject({ archived: [], keptVolumeExists: 2 });
    expect(ec2Mock.commandCalls(DescribeVolumesCommand)[1].args[0].input.NextToken).toBe('more');
  });

  test('only the purposes named, when some are', async () => {
    serve([snap('snap-db', 'vol-1', 200), snap('snap-web', 'vol-2', 200, { Tags: [{ Key: 'backup:purpose', Value: 'web' }] })]);
    expect((await archiveOrphans(deps({ ...SETTINGS, purposes: ['db'] }))).archived).toEqual(['snap-db']);
  });

  test('each archive and each failure is logged with the snapshot, its volume and purpose, and the run\'s counts', async () => {
    serve([snap('snap-a', 'vol-a', 200), snap('snap-b', 'vol-b', 200)]);
    ec2Mock.on(ModifySnapshotTierCommand, { SnapshotId: 'snap-b' }).rejects(Object.assign(new Error('in use by an AMI'), { name: 'IncorrectState' }));
    await expect(archiveOrphans(deps())).rejects.toThrow(/^could not archive 1 snapshot\(s\): snap-b: IncorrectState: in use by an AMI$/);
    expect(records()).toEqual([
      { level: 'INFO', message: 'archived snapshot', snapshotId: 'snap-a', volumeId: 'vol-a', purpose: 'db', outcome: 'archived' },
      { level: 'INFO', message: 'archive run finished', archived: 1, wouldArchive: 0, failed: 1, keptVolumeExists: 0, keptTooYoung: 0, deferred: 0, dryRun: false },
      { level: 'ERROR', message: 'could not archive snapshot', snapshotId: 'snap-b', purpose: 'db', outcome: 'failed', error: 'IncorrectState' },
    ]);
  });

  test('a dry run logs what it would archive', async () => {
    serve([snap('snap-a', 'vol-a', 200)]);
    await archiveOrphans(deps({ ...SETTINGS, dryRun: true }));
    expect(records()[0]).toEqual({ level: 'INFO', message: 'would archive snapshot (dry run)', snapshotId: 'snap-a', volumeId: 'vol-a', purpose: 'db', outcome: 'dry-run' });
    expect(records()[1]).toMatchObject({ message: 'archive run finished', wouldArchive: 1, dryRun: true });
  });

  test('several failures are all named, an error without name or message too', async () => {
    serve([snap('snap-a', 'vol-a', 200), snap('snap-b', 'vol-b', 200)]);
    ec2Mock.on(ModifySnapshotTierCommand, { SnapshotId: 'snap-a' }).rejects(Object.assign(new Error('no'), { name: 'IncorrectState' }));
    ec2Mock.on(ModifySnapshotTierCommand, { SnapshotId: 'snap-b' }).callsFake(() => Promise.reject({}));
    await expect(archiveOrphans(deps())).rejects.toThrow(/^could not archive 2 snapshot\(s\): snap-a: IncorrectState: no; snap-b: Error: $/);
  });

  test('out of time before a page: the pages left are not worked on (no volume lookup; their orphans, unknown, are not counted)', async () => {
    let clock = 0;
    ec2Mock.on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [snap('snap-a', 'vol-a', 200)], NextToken: 'p2' })
      .resolvesOnce({ Snapshots: [snap('snap-b', 'vol-b', 200)] });
    ec2Mock.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    ec2Mock.on(ModifySnapshotTierCommand).resolves({});
    ec2Mock.on(CreateTagsCommand).callsFake(async () => { clock += 2000; return {}; });
    const result = await archiveOrphans({ ...deps(), budgetMs: 1000, elapsedMs: () => clock });
    expect(result).toMatchObject({ archived: ['snap-a'], deferred: 0 });
    expect(ec2Mock.commandCalls(ModifySnapshotTierCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(DescribeVolumesCommand)).toHaveLength(1);
  });

  test('the budget warning names how many orphans wait', async () => {
    serve(['a', 'b', 'c'].map((x) => snap(`snap-${x}`, `vol-${x}`, 200)));
    let clock = 0;
    ec2Mock.on(CreateTagsCommand).callsFake(async () => { clock += 2000; return {}; });
    const result = await archiveOrphans({ ...deps(), budgetMs: 1000, elapsedMs: () => clock });
    expect(result).toMatchObject({ archived: ['snap-a'], deferred: 2 });
    expect(records().filter((l) => l.level === 'WARN')).toEqual([{ level: 'WARN', message: 'time budget used up: the remaining orphans wait for the next run', deferred: 2 }]);
  });

  test('a page with nothing old enough asks for no volumes at all', async () => {
    serve([snap('snap-young', 'vol-a', 10)]);
    expect((await archiveOrphans(deps())).keptTooYoung).toBe(1);
    expect(ec2Mock.commandCalls(DescribeVolumesCommand)).toHaveLength(0);
  });

  test('400 volumes: two lookups of 200, none empty', async () => {
    serve(Array.from({ length: 400 }, (_, n) => snap(`snap-${n}`, `vol-${n}`, 200)));
    await archiveOrphans(deps());
    expect(ec2Mock.commandCalls(DescribeVolumesCommand).map((c) => c.args[0].input.Filters![0].Values!.length)).toEqual([200, 200]);
  });

  test('the purpose logged is the purpose tag\'s value, whatever tags come first', async () => {
    serve([snap('snap-a', 'vol-a', 200, { Tags: [{ Key: 'Name', Value: 'ledger' }, { Key: 'backup:purpose', Value: 'db' }] })]);
    await archiveOrphans(deps());
    expect(records()[0]).toMatchObject({ message: 'archived snapshot', snapshotId: 'snap-a', purpose: 'db' });
  });

  test.each([
    [{ MINIMUM_AGE_DAYS: '0', PURPOSE_TAG_KEY: 'k', ARCHIVED_TAG_KEY: 'a' }, "MINIMUM_AGE_DAYS must be a positive integer, got '0'"],
    [{ MINIMUM_AGE_DAYS: '1.5', PURPOSE_TAG_KEY: 'k', ARCHIVED_TAG_KEY: 'a' }, "MINIMUM_AGE_DAYS must be a positive integer, got '1.5'"],
    [{ MINIMUM_AGE_DAYS: '1', ARCHIVED_TAG_KEY: 'a' }, 'PURPOSE_TAG_KEY and ARCHIVED_TAG_KEY must be set'],
  ])('rejects bad settings %j', (env, message) => {
    expect(() => settingsFromEnv(env)).toThrow(message);
  });

  test('settings: a minimum age of 1 day, the purposes as JSON, dry run only when DRY_RUN is exactly true', () => {
    const env = { MINIMUM_AGE_DAYS: '1', PURPOSE_TAG_KEY: 'k', ARCHIVED_TAG_KEY: 'a' };
    expect(settingsFromEnv({ ...env, PURPOSES: '["db","web"]', DRY_RUN: 'true' })).toEqual({ purposeTagKey: 'k', purposes: ['db', 'web'], minimumAgeDays: 1, archivedTagKey: 'a', dryRun: true });
    expect(settingsFromEnv({ ...env, DRY_RUN: 'false' })).toEqual({ purposeTagKey: 'k', purposes: [], minimumAgeDays: 1, archivedTagKey: 'a', dryRun: false });
    expect(settingsFromEnv({ ...env, DRY_RUN: 'TRUE' }).dryRun).toBe(false);
  });
});
