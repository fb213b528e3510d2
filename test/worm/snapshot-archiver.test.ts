import {
  CreateTagsCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client, ModifySnapshotTierCommand,
} from '@aws-sdk/client-ec2';
import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { ArchiveSettings, archiveOrphans, handler, settingsFromEnv } from '../../lambda/worm/archive';
import { SnapshotArchiver, WormSnapshotGuard } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

describe('SnapshotArchiver', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  test('runs the archive job on a schedule, limited to purpose-tagged snapshots', () => {
    new WormSnapshotGuard(stack, 'Guard', {
      breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
      blockPublicSharing: false,
      archive: { minimumAge: Duration.days(180), schedule: events.Schedule.cron({ hour: '3', minute: '0' }), dryRun: true, purposes: ['database-dr'] },
    }).protect(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          PURPOSE_TAG_KEY: 'backup:purpose', MINIMUM_AGE_DAYS: '180', ARCHIVED_TAG_KEY: 'backup:archived-at', DRY_RUN: 'true', PURPOSES: '["database-dr"]',
        },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'ec2:ModifySnapshotTier', Condition: { Null: { 'aws:ResourceTag/backup:purpose': 'false' } } }),
          Match.objectLike({
            Action: 'ec2:CreateTags',
            Condition: { 'Null': { 'aws:ResourceTag/backup:purpose': 'false' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['backup:archived-at'] } },
          }),
        ]),
      },
    });
  });

  test('defaults to a daily run after 90 days, for real', () => {
    new SnapshotArchiver(stack, 'Archiver');
    const template = Template.fromJSON(checkedTemplate(stack));
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ MINIMUM_AGE_DAYS: '90', DRY_RUN: 'false' }) } });
  });

  test('skips checks of an unresolved age', () => {
    new SnapshotArchiver(stack, 'Archiver', { minimumAge: Duration.days(Token.asNumber(Fn.importValue('Age'))) });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MINIMUM_AGE_DAYS: { 'Fn::ImportValue': 'Age' } }) },
    });
  });

  test.each([
    ['an age of 0 days', { minimumAge: Duration.days(0) }, 'TestStack/Archiver: minimumAge must be between 1 day and 36500 days, got 0 days'],
    ['an age in hours', { minimumAge: Duration.hours(30) }, 'minimumAge must be a whole number of days'],
    ['a reserved tag key', { archivedTagKey: 'aws:archived' }, "archivedTagKey key must not start with 'aws:'"],
    ['a bad purpose', { purposes: ['a#b'] }, 'purposes[0] must be a tag value'],
  ])('rejects %s', (_name, props, fragment) => {
    expect(() => new SnapshotArchiver(stack, 'Archiver', props)).toThrow(fragment);
  });
});

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
