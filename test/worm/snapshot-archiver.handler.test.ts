// The archive handler's tests, apart from the construct's (snapshot-archiver.test.ts): this file
// loads no aws-cdk-lib, so the lambda-archive mutation module runs it alone (1 to 3 s a mutant
// instead of a synthesis per mutant).
import {
  CreateTagsCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client, ModifySnapshotTierCommand,
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
