import { DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Snapshot } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SnapshotAccounts } from './shared-snapshots-model';
import {
  DEVICES, handler, namesPurpose, newestCompleteSet, parseEvent, placeSet, select, SelectEvent, sourceInstanceOf, UNATTRIBUTED,
} from '../../lambda/restore/drill-select';

const ec2 = mockClient(EC2Client);
const client = ec2 as unknown as EC2Client;
const NOW = new Date('2026-11-21T03:00:00Z');
const event: SelectEvent = { mode: 'SNAPSHOTS', purposeTagKey: 'backup:purpose', purpose: 'database-dr', setWindowSeconds: 300, mountPoint: '/data' };

const snap = (id: string, volume: string, start: string, state = 'completed', tags: Record<string, string> = {}): Snapshot => ({
  SnapshotId: id,
  VolumeId: volume,
  StartTime: new Date(start),
  State: state as any,
  VolumeSize: 8,
  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
});

beforeEach(() => ec2.reset());
beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

describe('parseEvent', () => {
  test.each([
    ['an unknown mode', { ...event, mode: 'VOLUMES' }, 'mode must be SNAPSHOTS or IMAGE, got "VOLUMES"'],
    ['no purpose', { ...event, purpose: '' }, 'purposeTagKey and purpose are required'],
    ['a negative window', { ...event, setWindowSeconds: -1 }, 'setWindowSeconds must be a non-negative number, got -1'],
    ['a relative mount point', { ...event, mountPoint: 'data' }, 'mountPoint must be an absolute path'],
    ['a mount point with shell characters', { ...event, mountPoint: '/data;reboot' }, 'mountPoint must be an absolute path'],
    ['a bad owner', { ...event, owner: 'archive' }, 'owner must be a 12-digit account id, got "archive"'],
    ['source-instance tag keys that are not a list', { ...event, sourceInstanceTagKeys: 'backup:source-instance' }, 'sourceInstanceTagKeys must be a list of tag keys'],
    ['no event at all', undefined, 'mode must be SNAPSHOTS or IMAGE, got undefined'],
  ])('rejects %s', (_name, raw, message) => {
    expect(() => parseEvent(raw)).toThrow(message);
  });
});

describe('newestCompleteSet', () => {
  test('takes the newest set whose snapshots all completed, skipping a newer set with one pending or failed', () => {
    const set = newestCompleteSet([
      snap('s-new-1', 'v1', '2026-11-21T02:50:00Z', 'pending'), snap('s-new-2', 'v2', '2026-11-21T02:50:05Z'),
      snap('s-err-1', 'v1', '2026-11-21T02:30:00Z', 'error'), snap('s-err-2', 'v2', '2026-11-21T02:30:01Z'),
      snap('s-ok-1', 'v1', '2026-11-21T02:00:00Z'), snap('s-ok-2', 'v2', '2026-11-21T02:00:09Z'),
      snap('s-old-1', 'v1', '2026-11-20T02:00:00Z'),
    ], 300);
    expect(set!.map((s) => s.SnapshotId)).toEqual(['s-ok-2', 's-ok-1']);
  });

  test('keeps one snapshot per volume, the newest', () => {
    const set = newestCompleteSet([snap('a2', 'v1', '2026-11-21T02:01:00Z'), snap('a1', 'v1', '2026-11-21T02:00:00Z')], 300);
    expect(set!.map((s) => s.SnapshotId)).toEqual(['a2']);
  });

  test('returns undefined when nothing is complete', () => {
    expect(newestCompleteSet([], 300)).toBeUndefined();
    expect(newestCompleteSet([snap('a', 'v1', '2026-11-21T02:00:00Z', 'pending')], 300)).toBeUndefined();
  });
});

describe('placeSet', () => {
  test('mounts by the mount-point tag when given, else /data, /data2, ... on /dev/sdf, /dev/sdg, ...', () => {
    const placed = placeSet([
      snap('s-b', 'vol-b', '2026-11-21T02:00:00Z', 'completed', { 'backup:mount-point': '/var/lib/pgsql' }),
      snap('s-a', 'vol-a', '2026-11-21T02:00:00Z', 'completed', { 'backup:mount-point': 'bad; reboot' }),
      snap('s-c', 'vol-c', '2026-11-21T02:00:00Z'),
    ], { ...event, mountPointTagKey: 'backup:mount-point' });
    expect(placed).toEqual([
      { snapshotId: 's-b', device: '/dev/sdf', mountPoint: '/var/lib/pgsql', volumeSize: 8 },
      { snapshotId: 's-a', device: '/dev/sdg', mountPoint: '/data2', volumeSize: 8 },
      { snapshotId: 's-c', device: '/dev/sdh', mountPoint: '/data3', volumeSize: 8 },
    ]);
  });

  test('never mounts two volumes at one place', () => {
    const placed = placeSet([
      snap('s-a', 'vol-a', '2026-11-21T02:00:00Z', 'completed', { mp: '/data' }),
      snap('s-b', 'vol-b', '2026-11-21T02:00:00Z', 'completed', { mp: '/data' }),
    ], { ...event, mountPointTagKey: 'mp' });
    expect(placed.map((p) => p.mountPoint)).toEqual(['/data', '/data-2']);
  });

  test('rejects a set larger than the device names available', () => {
    const many = Array.from({ length: DEVICES.length + 1 }, (_, i) => snap(`s-${i}`, `vol-${i}`, '2026-11-21T02:00:00Z'));
    expect(() => placeSet(many, event)).toThrow(`has ${DEVICES.length + 1} volumes; a drill attaches at most ${DEVICES.length}`);
  });
});

describe('select', () => {
  test('pages through the snapshots with the purpose tag, owned by this account', async () => {
    ec2.on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [snap('s-1', 'v1', '2026-11-21T02:00:00Z')], NextToken: 'page2' })
      .resolvesOnce({ Snapshots: [snap('s-2', 'v2', '2026-11-21T02:00:30Z')] });
    const selection = await select(client, event, NOW);
    expect(selection).toEqual({
      found: true,
      sourceInstance: UNATTRIBUTED,
      snapshots: [
        { snapshotId: 's-1', device: '/dev/sdf', mountPoint: '/data', volumeSize: 8 },
        { snapshotId: 's-2', device: '/dev/sdg', mountPoint: '/data2', volumeSize: 8 },
      ],
      mounts: 'sdf:/data sdg:/data2',
      snapshotTime: '2026-11-21T02:00:00.000Z',
      ageSeconds: 3600,
    });
    const calls = ec2.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      expect.objectContaining({ OwnerIds: ['self'], Filters: [{ Name: 'tag:backup:purpose', Values: ['database-dr'] }], NextToken: undefined }),
      expect.objectContaining({ NextToken: 'page2' }),
    ]);
  });

  test('retries throttling and then succeeds', async () => {
    ec2.on(DescribeSnapshotsCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded' }))
      .resolves({ Snapshots: [snap('s-1', 'v1', '2026-11-21T02:00:00Z')] });
    expect((await select(client, event, NOW)).found).toBe(true);
    expect(ec2.commandCalls(DescribeSnapshotsCommand)).toHaveLength(2);
  });

  test('fails at once on a fault that is not transient', async () => {
    ec2.on(DescribeSnapshotsCommand).rejects(Object.assign(new Error('not allowed'), { name: 'UnauthorizedOperation' }));
    await expect(select(client, event, NOW)).rejects.toThrow('not allowed');
    expect(ec2.commandCalls(DescribeSnapshotsCommand)).toHaveLength(1);
  });

  test('picks the newest available AMI in image mode', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-old', CreationDate: '2026-11-19T00:00:00.000Z' },
        { ImageId: 'ami-new', CreationDate: '2026-11-21T01:00:00.000Z' },
        { ImageId: 'ami-undated' },
      ],
    });
    expect(await select(client, { ...event, mode: 'IMAGE' }, NOW)).toEqual({
      found: true, snapshots: [], imageId: 'ami-new', platform: 'linux', mounts: '', snapshotTime: '2026-11-21T01:00:00.000Z', ageSeconds: 7200,
    });
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({
      Owners: ['self'], Filters: [{ Name: 'tag:backup:purpose', Values: ['database-dr'] }, { Name: 'state', Values: ['available'] }],
    });
  });

  test('reports a missing AMI', async () => {
    ec2.on(DescribeImagesCommand).resolves({});
    expect(await select(client, { ...event, mode: 'IMAGE', owner: '111122223333' }, NOW)).toEqual(expect.objectContaining({
      found: false,
      reason: 'no available AMI owned by 111122223333, launchable by this account, whose name or description names database-dr (tags of another account are not visible)',
    }));
  });

  test('the handler selects with a client of its own', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    expect((await handler(event)).found).toBe(false);
  });
});

/**
 * One drill restores one machine. The snapshots are served by a model of DescribeSnapshots
 * (shared-snapshots-model.ts: owners, create volume permissions, filters, tag visibility).
 */
describe('one source instance per drill', () => {
  const ME = '123456789012';
  const ARCHIVE = '111122223333';
  const SOURCE_TAG = 'backup:source-instance';
  const drill: SelectEvent = { ...event, sourceInstanceTagKeys: [SOURCE_TAG] };
  const instanceId = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;

  /** `instances` machines of `volumes` volumes each, snapshotted by one schedule: all within `spreadSeconds`. */
  function fleet(accounts: SnapshotAccounts, o: {
    instances: number;
    volumes: number;
    spreadSeconds: number;
    owner?: string;
    tags?: (instance: string) => Record<string, string>;
    description?: (instance: string) => string;
    start?: string;
  }): void {
    const start = Date.parse(o.start ?? '2026-11-21T02:00:00Z');
    const total = o.instances * o.volumes;
    let k = 0;
    for (let i = 0; i < o.instances; i++) {
      const instance = instanceId(i + 1);
      for (let v = 0; v < o.volumes; v++, k++) {
        accounts.add({
          SnapshotId: `snap-${instance.slice(2)}-${v}-${o.start ?? ''}`,
          VolumeId: `vol-${instance.slice(2)}-${v}`,
          // the instances' CreateSnapshots calls interleave over the spread
          StartTime: new Date(start + Math.round((k * o.spreadSeconds * 1000) / Math.max(total - 1, 1))),
          OwnerId: o.owner ?? ME,
          Description: o.description?.(instance) ?? 'database-dr: consistent snapshots by Prod/Job',
          Tags: Object.entries(o.tags?.(instance) ?? { 'backup:purpose': 'database-dr', [SOURCE_TAG]: instance }).map(([Key, Value]) => ({ Key, Value })),
          sharedWith: o.owner && o.owner !== ME ? [ME] : [],
        });
      }
    }
  }

  function serve(accounts: SnapshotAccounts): void {
    ec2.on(DescribeSnapshotsCommand).callsFake((input) => accounts.describeSnapshots(input));
  }

  const instancesOf = (accounts: SnapshotAccounts, ids: string[]) =>
    new Set(ids.map((id) => accounts.snapshots.find((s) => s.SnapshotId === id)!.Tags.find((t) => t.Key === SOURCE_TAG)?.Value
      ?? accounts.snapshots.find((s) => s.SnapshotId === id)!.Description.match(/i-[0-9a-f]+/)![0]));

  test('3 instances x 2 volumes started within 10 s: one instance\'s 2 snapshots', async () => {
    const accounts = new SnapshotAccounts(ME);
    fleet(accounts, { instances: 3, volumes: 2, spreadSeconds: 10 });
    serve(accounts);
    const selection = await select(client, drill, NOW);
    expect(selection.found).toBe(true);
    const ids = selection.snapshots.map((s) => s.snapshotId);
    expect(ids).toHaveLength(2);
    expect([...instancesOf(accounts, ids)]).toEqual([selection.sourceInstance]);
    // the newest set: the instance whose CreateSnapshots ran last
    expect(selection.sourceInstance).toBe(instanceId(3));
    expect(selection.mounts).toBe('sdf:/data sdg:/data2');
  });

  test('12 instances x 2 volumes in one run: a set of 2, not an exception', async () => {
    const accounts = new SnapshotAccounts(ME);
    fleet(accounts, { instances: 12, volumes: 2, spreadSeconds: 10 });
    serve(accounts);
    const selection = await select(client, drill, NOW);
    expect(selection.found).toBe(true);
    expect(selection.snapshots).toHaveLength(2);
    expect(instancesOf(accounts, selection.snapshots.map((s) => s.snapshotId)).size).toBe(1);
  });

  test('an older complete set of the same instance is taken when its newest is still pending; other instances never fill in', async () => {
    const accounts = new SnapshotAccounts(ME);
    fleet(accounts, { instances: 2, volumes: 2, spreadSeconds: 4, start: '2026-11-21T01:00:00Z' });
    fleet(accounts, { instances: 2, volumes: 2, spreadSeconds: 4, start: '2026-11-21T02:00:00Z' });
    // the newest run: instance 2's second volume still pending, instance 1 complete
    const pending = accounts.snapshots.find((s) => s.SnapshotId === `snap-${instanceId(2).slice(2)}-1-2026-11-21T02:00:00Z`)!;
    accounts.snapshots.splice(accounts.snapshots.indexOf(pending), 1, { ...pending, State: 'pending' });
    serve(accounts);
    const selection = await select(client, drill, NOW);
    expect(selection.sourceInstance).toBe(instanceId(1));
    expect(selection.snapshotTime).toBe('2026-11-21T02:00:00.000Z');
    expect(selection.snapshots.map((s) => s.snapshotId).sort()).toEqual([0, 1].map((v) => `snap-${instanceId(1).slice(2)}-${v}-2026-11-21T02:00:00Z`));
  });

  test('22 volumes of one instance: a clear NoRestorePoint reason, not an exception', async () => {
    const accounts = new SnapshotAccounts(ME);
    fleet(accounts, { instances: 1, volumes: DEVICES.length + 1, spreadSeconds: 2 });
    serve(accounts);
    const selection = await select(client, drill, NOW);
    expect(selection).toEqual(expect.objectContaining({ found: false, snapshots: [], sourceInstance: instanceId(1) }));
    expect(selection.reason).toBe(`the newest complete snapshot set of ${instanceId(1)} has 22 volumes; a drill attaches at most 21 (/dev/sdf to /dev/sdz)`);
  });

  test('21 volumes, the most a drill attaches: restored on /dev/sdf to /dev/sdz', async () => {
    const accounts = new SnapshotAccounts(ME);
    fleet(accounts, { instances: 1, volumes: DEVICES.length, spreadSeconds: 2 });
    serve(accounts);
    const selection = await select(client, drill, NOW);
    expect(selection.snapshots.map((s) => s.device)).toEqual(DEVICES.map((d) => `/dev/${d}`));
  });

  test('snapshots that record no instance are grouped by time alone, and a too-large group is reported, not thrown', async () => {
    const accounts = new SnapshotAccounts(ME);
    fleet(accounts, { instances: 12, volumes: 2, spreadSeconds: 10, tags: () => ({ 'backup:purpose': 'database-dr' }) });
    serve(accounts);
    const selection = await select(client, drill, NOW);
    expect(selection.found).toBe(false);
    expect(selection.sourceInstance).toBe(UNATTRIBUTED);
    expect(selection.reason).toContain('has 24 volumes; a drill attaches at most 21');
    expect(selection.reason).toContain('record no source instance');
  });

  test('a DLM variable tag named by the drill attributes the snapshots as well', async () => {
    const accounts = new SnapshotAccounts(ME);
    fleet(accounts, { instances: 3, volumes: 2, spreadSeconds: 10, tags: (i) => ({ 'backup:purpose': 'database-dr', 'instance-id': i }) });
    serve(accounts);
    const selection = await select(client, { ...event, sourceInstanceTagKeys: [SOURCE_TAG, 'instance-id'] }, NOW);
    expect(selection.snapshots).toHaveLength(2);
    expect(selection.sourceInstance).toBe(instanceId(3));
  });

  describe('snapshots shared by an archive account', () => {
    /** The archive account's snapshots: its tags (purpose, source instance) are visible to it alone. */
    function archive(accounts: SnapshotAccounts, purpose = 'database-dr'): void {
      fleet(accounts, {
        instances: 3,
        volumes: 2,
        spreadSeconds: 10,
        owner: ARCHIVE,
        tags: (i) => ({ 'backup:purpose': purpose, [SOURCE_TAG]: i }),
        description: (i) => `${purpose}: consistent snapshots by Prod/Job (${i})`,
      });
    }

    test('are found without tags, and one instance\'s set is restored', async () => {
      const accounts = new SnapshotAccounts(ME);
      archive(accounts);
      archive(accounts, 'database-dr-replica');
      // this account's own snapshots of the purpose are not the archive's
      fleet(accounts, { instances: 1, volumes: 2, spreadSeconds: 1, start: '2026-11-21T02:30:00Z' });
      serve(accounts);
      const selection = await select(client, { ...drill, owner: ARCHIVE }, NOW);
      expect(selection.found).toBe(true);
      const ids = selection.snapshots.map((s) => s.snapshotId);
      expect(ids).toHaveLength(2);
      const chosen = ids.map((id) => accounts.snapshots.find((s) => s.SnapshotId === id)!);
      expect(chosen.every((s) => s.OwnerId === ARCHIVE && s.Description.startsWith('database-dr:'))).toBe(true);
      expect(selection.sourceInstance).toBe(instanceId(3));
      expect(chosen.every((s) => s.Description.includes(instanceId(3)))).toBe(true);
    });

    test('a tag filter would find none of them (the model is not lenient)', () => {
      const accounts = new SnapshotAccounts(ME);
      archive(accounts);
      expect(accounts.describeSnapshots({ OwnerIds: [ARCHIVE], Filters: [{ Name: 'tag:backup:purpose', Values: ['database-dr'] }] }).Snapshots).toEqual([]);
      expect(accounts.describeSnapshots({ OwnerIds: [ARCHIVE] }).Snapshots).toHaveLength(6);
    });

    test('reports where it looked when nothing is shared', async () => {
      serve(new SnapshotAccounts(ME));
      const selection = await select(client, { ...drill, owner: ARCHIVE }, NOW);
      expect(selection).toEqual({
        found: false,
        reason: 'no complete snapshot set owned by 111122223333, restorable by this account, whose description names database-dr '
          + '(tags of another account are not visible)',
        snapshots: [],
        mounts: '',
      });
    });
  });

  test('sourceInstanceOf: a tag holding an instance id first, then the description', () => {
    const s = (tags: Record<string, string>, Description?: string): Snapshot =>
      ({ Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), Description });
    expect(sourceInstanceOf(s({ a: 'i-0123456789abcdef0' }, 'x (i-0fedcba9876543210)'), ['a'])).toBe('i-0123456789abcdef0');
    expect(sourceInstanceOf(s({ a: 'not an id' }, 'x (i-0fedcba9876543210)'), ['a'])).toBe('i-0fedcba9876543210');
    expect(sourceInstanceOf(s({}, 'Created by CreateSnapshots(i-1234abcd) for ami-1 from vol-1'), [])).toBe('i-1234abcd');
    expect(sourceInstanceOf(s({}, 'nothing here'), ['a'])).toBe(UNATTRIBUTED);
  });

  test.each([
    ['database-dr: consistent snapshots', true],
    ['cdk-ebs-backup database-dr (VSS)', true],
    ['database-dr-replica: consistent snapshots', false],
    ['old-database-dr', false],
    ['', false],
  ])('namesPurpose(%j) is %s', (text, expected) => {
    expect(namesPurpose(text, 'database-dr')).toBe(expected);
  });
});

describe('image drills', () => {
  test.each([
    [{ Platform: 'windows' as any /* the API answers lowercase; the SDK types it 'Windows' */, PlatformDetails: 'Windows' }, 'windows'],
    [{ PlatformDetails: 'Windows with SQL Server Standard' }, 'windows'],
    [{ PlatformDetails: 'Linux/UNIX' }, 'linux'],
  ])('report the AMI platform (%j -> %s), so that a Windows AMI is never validated by a skipped Linux step', async (image, platform) => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-1', CreationDate: '2026-11-21T01:00:00.000Z', ...image }] });
    expect((await select(client, { ...event, mode: 'IMAGE' }, NOW)).platform).toBe(platform);
  });

  test('shared AMIs are found by owner, launch permission and the purpose in their name or description', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-other', CreationDate: '2026-11-21T02:00:00.000Z', Name: 'web-frontend-2026-11-21' },
        { ImageId: 'ami-dr', CreationDate: '2026-11-21T01:00:00.000Z', Name: 'database-dr-i-0123-exec', Description: 'database-dr: consistent images' },
      ],
    });
    const selection = await select(client, { ...event, mode: 'IMAGE', owner: '111122223333' }, NOW);
    expect(selection.imageId).toBe('ami-dr');
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({
      Owners: ['111122223333'], ExecutableUsers: ['self'], Filters: [{ Name: 'state', Values: ['available'] }],
    });
  });
});

// A ConsistentSnapshotJob's state machine, one of its runs and its managed-by tag value
const sfnMock = mockClient(SFNClient);
const sfnClient = sfnMock as unknown as SFNClient;
const MACHINE = 'arn:aws:states:eu-central-1:444455556666:stateMachine:LedgerJobMachine';
const RUN = 'arn:aws:states:eu-central-1:444455556666:execution:LedgerJobMachine:4f3e2d1c';
const JOB = 'Ledger/Jobs/DatabaseJob';

/**
 * Issue 16: a look-alike planted with the drill's purpose is never restored. The drill names its
 * creators; a candidate must carry a creator's managed-by and execution tags from its creation,
 * and for a job the execution must be a run of the job's own state machine in progress when the
 * snapshot started (Step Functions DescribeExecution; a missing one is `ExecutionDoesNotExist`).
 */
describe('creation records', () => {
  const recorded: SelectEvent = {
    ...event,
    managedByTagKey: 'backup:managed-by',
    sourceInstanceTagKeys: ['backup:source-instance'],
    creators: [
      { managedBy: JOB, executionTagKey: 'backup:execution', stateMachineArn: MACHINE },
      { managedBy: 'Ledger/Windows/Fsfreeze', executionTagKey: 'backup:window-id' },
    ],
  };
  const jobTags = (execution: string, instance = 'i-0a1b2c3d4e5f60718') => ({
    'backup:purpose': 'database-dr', 'backup:managed-by': JOB, 'backup:execution': execution, 'backup:source-instance': instance,
  });
  beforeEach(() => {
    sfnMock.reset();
    sfnMock.on(DescribeExecutionCommand).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    sfnMock.on(DescribeExecutionCommand, { executionArn: RUN })
      .resolves({ executionArn: RUN, stateMachineArn: MACHINE, startDate: new Date('2026-11-21T01:59:00Z'), stopDate: new Date('2026-11-21T02:04:00Z'), status: 'SUCCEEDED' });
  });

  const realSet = [snap('snap-real-1', 'vol-1', '2026-11-21T02:00:00Z', 'completed', jobTags(RUN)), snap('snap-real-2', 'vol-2', '2026-11-21T02:00:04Z', 'completed', jobTags(RUN))];

  test.each<[string, Record<string, string>]>([
    ['no creation record at all (purpose only)', { 'backup:purpose': 'database-dr', 'backup:source-instance': 'i-0a1b2c3d4e5f60718' }],
    ['the job\'s managed-by tag without an execution', { 'backup:purpose': 'database-dr', 'backup:managed-by': JOB }],
    ['a forged execution id of the job\'s machine', jobTags('arn:aws:states:eu-central-1:444455556666:execution:LedgerJobMachine:forged')],
    ['a real run of another state machine', jobTags('arn:aws:states:eu-central-1:444455556666:execution:AttackerMachine:4f3e2d1c')],
    ['the real run\'s id on a snapshot taken after the run ended', jobTags(RUN)],
    ['another construct\'s managed-by with an execution tag', { 'backup:purpose': 'database-dr', 'backup:managed-by': 'Attacker/Thing', 'backup:execution': RUN }],
  ])('a fresher look-alike with %s is never restored; the real set is', async (_name, tags) => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snap('snap-planted', 'vol-1', '2026-11-21T02:40:00Z', 'completed', tags), ...realSet],
    });
    const selection = await select(client, recorded, NOW, sfnClient);
    expect(selection.snapshots.map((s) => s.snapshotId).sort()).toEqual(['snap-real-1', 'snap-real-2']);
  });

  test('without a real run recorded, nothing is restored: the drill fails as NoRestorePoint', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap('snap-planted', 'vol-1', '2026-11-21T02:40:00Z', 'completed', { 'backup:purpose': 'database-dr' })] });
    const selection = await select(client, recorded, NOW, sfnClient);
    expect([selection.found, selection.snapshots]).toEqual([false, []]);
  });

  test('a window\'s snapshots are restored by its managed-by and window-id tags (set at creation)', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snap('snap-window', 'vol-9', '2026-11-21T02:30:00Z', 'completed', {
        'backup:purpose': 'database-dr', 'backup:managed-by': 'Ledger/Windows/Fsfreeze', 'backup:window-id': 'mw-0c1d2e3f4a5b6c7d8',
      }), snap('snap-untagged', 'vol-9', '2026-11-21T02:50:00Z', 'completed', { 'backup:purpose': 'database-dr' })],
    });
    const selection = await select(client, recorded, NOW, sfnClient);
    expect(selection.snapshots.map((s) => s.snapshotId)).toEqual(['snap-window']);
  });

  test('an AMI without a creation record is never launched', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-0planted000000000', CreationDate: '2026-11-21T02:50:00Z', Tags: [{ Key: 'backup:purpose', Value: 'database-dr' }] },
        { ImageId: 'ami-0real00000000000', CreationDate: '2026-11-21T02:01:00Z', Tags: Object.entries(jobTags(RUN)).map(([Key, Value]) => ({ Key, Value })) },
      ],
    });
    const selection = await select(client, { ...recorded, mode: 'IMAGE' }, NOW, sfnClient);
    expect(selection.imageId).toBe('ami-0real00000000000');
  });

  test('rejects creators without managed-by tag key or execution tag key', () => {
    expect(() => parseEvent({ ...recorded, managedByTagKey: undefined })).toThrow('creators must be a list of { managedBy, executionTagKey }');
    expect(() => parseEvent({ ...recorded, creators: [{ managedBy: JOB }] })).toThrow('creators[0] must be { managedBy, executionTagKey }, each a non-empty string');
  });
});

// Found by mutation testing (npx projen mutate lambda-drill-select): each test below fails on a
// look-alike of the handler that the tests above let pass.
describe('what the mutation run found untested', () => {
  const recorded: SelectEvent = {
    ...event, managedByTagKey: 'backup:managed-by', creators: [{ managedBy: JOB, executionTagKey: 'backup:execution', stateMachineArn: MACHINE }],
  };
  const jobTags = { 'backup:purpose': 'database-dr', 'backup:managed-by': JOB, 'backup:execution': RUN };
  beforeEach(() => sfnMock.reset());
  const runFrom = (startDate: string, stopDate?: string) => {
    sfnMock.reset();
    sfnMock.on(DescribeExecutionCommand, { executionArn: RUN }).resolves({
      executionArn: RUN, stateMachineArn: MACHINE, startDate: new Date(startDate), stopDate: stopDate ? new Date(stopDate) : undefined, status: stopDate ? 'SUCCEEDED' : 'RUNNING',
    });
  };
  const pick = async (start: string) => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap('snap-1', 'vol-1', start, 'completed', jobTags)] });
    return (await select(client, recorded, NOW, sfnClient)).found;
  };

  test('a snapshot counts as the run\'s within a minute of clock skew either side of the run, not beyond', async () => {
    runFrom('2026-11-21T02:00:00Z', '2026-11-21T02:10:00Z');
    expect(await pick('2026-11-21T01:59:00Z')).toBe(true);
    expect(await pick('2026-11-21T01:58:59Z')).toBe(false);
    expect(await pick('2026-11-21T02:11:00Z')).toBe(true);
    expect(await pick('2026-11-21T02:11:01Z')).toBe(false);
  });

  test('a run still in progress (no stop date) vouches for a snapshot started after its start', async () => {
    runFrom('2026-11-21T00:00:00Z');
    expect(await pick('2026-11-21T02:30:00Z')).toBe(true);
    expect(await pick('2026-11-20T23:58:00Z')).toBe(false);
  });

  test('one DescribeExecution per run, however many snapshots name it', async () => {
    runFrom('2026-11-21T02:00:00Z', '2026-11-21T02:10:00Z');
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [1, 2, 3].map((n) => snap(`snap-${n}`, `vol-${n}`, '2026-11-21T02:00:0' + n + 'Z', 'completed', jobTags)),
    });
    expect((await select(client, recorded, NOW, sfnClient)).snapshots).toHaveLength(3);
    expect(sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: RUN }]);
  });

  test('a DescribeExecution that fails otherwise than ExecutionDoesNotExist fails the selection: no record is not assumed', async () => {
    sfnMock.reset();
    sfnMock.on(DescribeExecutionCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap('snap-1', 'vol-1', '2026-11-21T02:00:00Z', 'completed', jobTags)] });
    await expect(select(client, recorded, NOW, sfnClient)).rejects.toThrow('not authorized');
  });

  test('a real run of another state machine, or another construct\'s managed-by, vouches for nothing even within the run\'s time', async () => {
    // DescribeExecution answers for any real run in the account: only the ARN prefix ties it to the job's machine
    const OTHER = 'arn:aws:states:eu-central-1:444455556666:execution:AttackerMachine:4f3e2d1c';
    sfnMock.on(DescribeExecutionCommand).callsFake(({ executionArn }) => Promise.resolve({
      executionArn, startDate: new Date('2026-11-21T02:00:00Z'), stopDate: new Date('2026-11-21T02:10:00Z'), status: 'SUCCEEDED',
    }));
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        snap('snap-other-machine', 'vol-1', '2026-11-21T02:05:00Z', 'completed', { ...jobTags, 'backup:execution': OTHER }),
        snap('snap-other-creator', 'vol-2', '2026-11-21T02:05:00Z', 'completed', { ...jobTags, 'backup:managed-by': 'Attacker/Thing' }),
      ],
    });
    expect(await select(client, recorded, NOW, sfnClient)).toMatchObject({ found: false, snapshots: [] });
  });

  test('the look-alikes refused are logged by id', async () => {
    runFrom('2026-11-21T02:00:00Z', '2026-11-21T02:10:00Z');
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snap('snap-real', 'vol-1', '2026-11-21T02:00:00Z', 'completed', jobTags), snap('snap-planted', 'vol-1', '2026-11-21T02:40:00Z', 'completed', { 'backup:purpose': 'database-dr' })],
    });
    await select(client, recorded, NOW, sfnClient);
    const lines = logged.mock.calls.map((c) => JSON.parse(String(c[0])));
    expect(lines.filter((l) => /no creation record/.test(l.message))).toEqual([{
      level: 'WARN', message: 'artefacts with the drill\'s purpose but no creation record of its creators are never restored', purpose: 'database-dr', refused: ['snap-planted'],
    }]);
  });

  test('an archive account\'s snapshots carry no visible tags: the creators are not asked of them', async () => {
    const accounts = new SnapshotAccounts('123456789012');
    accounts.add({
      SnapshotId: 'snap-shared', VolumeId: 'vol-1', StartTime: new Date('2026-11-21T02:00:00Z'), OwnerId: '111122223333', Description: 'database-dr: by Prod/Job', sharedWith: ['123456789012'],
    });
    ec2.on(DescribeSnapshotsCommand).callsFake((input) => accounts.describeSnapshots(input));
    const selection = await select(client, { ...recorded, owner: '111122223333' }, NOW, sfnClient);
    expect(selection.snapshots.map((s) => s.snapshotId)).toEqual(['snap-shared']);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  test('two instances with sets of the same newest start: the lower instance id, whatever the listing order', async () => {
    const tagged = (i: string) => ({ 'backup:source-instance': i });
    for (const order of [['b', 'a'], ['a', 'b']]) {
      ec2.reset();
      ec2.on(DescribeSnapshotsCommand).resolves({
        Snapshots: order.map((x) => snap(`snap-${x}`, `vol-${x}`, '2026-11-21T02:00:00Z', 'completed', tagged(x === 'a' ? 'i-0000000a' : 'i-0000000b'))),
      });
      const selection = await select(client, { ...event, sourceInstanceTagKeys: ['backup:source-instance'] }, NOW);
      expect([selection.sourceInstance, selection.snapshots.map((s) => s.snapshotId)]).toEqual(['i-0000000a', ['snap-a']]);
    }
  });

  test('a snapshot exactly the set window older than the newest belongs to the set; one second more does not', () => {
    const two = (gap: string) => newestCompleteSet([snap('s-new', 'v1', '2026-11-21T02:05:00Z'), snap('s-old', 'v2', gap)], 300)!.map((s) => s.SnapshotId);
    expect(two('2026-11-21T02:00:00Z')).toEqual(['s-new', 's-old']);
    expect(two('2026-11-21T01:59:59Z')).toEqual(['s-new']);
  });

  test('copies (volume vol-ffffffff, as EC2 reports a copied snapshot\'s volume) are distinct volumes, not one', () => {
    const set = newestCompleteSet([snap('s-1', 'vol-ffffffff', '2026-11-21T02:00:00Z'), snap('s-2', 'vol-ffffffff', '2026-11-21T02:00:01Z')], 300);
    expect(set!.map((s) => s.SnapshotId)).toEqual(['s-2', 's-1']);
  });

  test('an instance id is a whole word of 8 or 17 hexadecimal digits', () => {
    const described = (Description: string): Snapshot => ({ Description });
    expect(sourceInstanceOf(described('from i-1234abcde'))).toBe(UNATTRIBUTED);
    expect(sourceInstanceOf(described('from xi-1234abcd'))).toBe(UNATTRIBUTED);
    expect(sourceInstanceOf(described('from i-1234abcd.'))).toBe('i-1234abcd');
  });

  test('the purpose is found as a word even after an occurrence inside another word', () => {
    expect(namesPurpose('database-dr-replica, then database-dr', 'database-dr')).toBe(true);
    for (const text of ['database-dr_x', 'x@database-dr', 'ädatabase-dr', 'database-dr2']) {
      expect(namesPurpose(text, 'database-dr')).toBe(false);
    }
  });

  test.each([
    ['an owner of 13 digits', { ...event, owner: '1111222233334' }, 'owner must be a 12-digit account id'],
    ['an owner with a prefix', { ...event, owner: 'x111122223333' }, 'owner must be a 12-digit account id'],
    ['a mount point not starting at /', { ...event, mountPoint: 'data/x' }, 'mountPoint must be an absolute path'],
    ['a mount point of 202 characters', { ...event, mountPoint: `/${'a'.repeat(201)}` }, 'mountPoint must be an absolute path'],
    ['a window that is a string', { ...event, setWindowSeconds: '300' }, 'setWindowSeconds must be a non-negative number, got "300"'],
    ['an empty source-instance tag key', { ...event, sourceInstanceTagKeys: [''] }, 'sourceInstanceTagKeys[0] must be a non-empty tag key, got ""'],
    ['a good source-instance tag key, then an empty one', { ...event, sourceInstanceTagKeys: ['backup:source-instance', ''] }, 'sourceInstanceTagKeys[1] must be a non-empty tag key, got ""'],
    ['a good source-instance tag key, then a number', { ...event, sourceInstanceTagKeys: ['backup:source-instance', 7] }, 'sourceInstanceTagKeys[1] must be a non-empty tag key, got 7'],
    ['creators that are not a list', { ...event, managedByTagKey: 'm', creators: { managedBy: 'x', executionTagKey: 'e' } }, 'creators must be a list'],
    ['a creator with an empty managed-by', { ...event, managedByTagKey: 'm', creators: [{ managedBy: '', executionTagKey: 'e' }] }, 'creators[0] must be { managedBy, executionTagKey }'],
    ['a null creator', { ...event, managedByTagKey: 'm', creators: [null] }, 'creators[0] must be { managedBy, executionTagKey }, each a non-empty string, got null'],
    ['a good creator, then one with an empty execution tag key', { ...event, managedByTagKey: 'm', creators: [{ managedBy: 'x', executionTagKey: 'e' }, { managedBy: 'y', executionTagKey: '' }] },
      'creators[1] must be { managedBy, executionTagKey }, each a non-empty string, got {"managedBy":"y","executionTagKey":""}'],
    ['a good creator, then one whose managed-by is a number', { ...event, managedByTagKey: 'm', creators: [{ managedBy: 'x', executionTagKey: 'e' }, { managedBy: 5, executionTagKey: 'e' }] },
      'creators[1] must be { managedBy, executionTagKey }'],
    ['a good creator, then one whose execution tag key is a number', { ...event, managedByTagKey: 'm', creators: [{ managedBy: 'x', executionTagKey: 'e' }, { managedBy: 'y', executionTagKey: 5 }] },
      'creators[1] must be { managedBy, executionTagKey }'],
    ['a good creator, then one naming a window and a runbook', { ...event, managedByTagKey: 'm', creators: [{ managedBy: 'x', executionTagKey: 'e', windowId: 'mw-0c1d2e3f4a5b6c7d8' }, { managedBy: 'y', executionTagKey: 'e', windowId: 'mw-0c1d2e3f4a5b6c7d8', automationDocument: 'D' }] },
      'creators[1] names at most one of stateMachineArn, windowId and automationDocument'],
    ['a creator with a state machine, then one with an empty window id', { ...event, managedByTagKey: 'm', creators: [{ managedBy: 'x', executionTagKey: 'e', stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:J' }, { managedBy: 'y', executionTagKey: 'e', windowId: '' }] },
      'creators[1] names at most one of stateMachineArn, windowId and automationDocument, each a non-empty string, got {"managedBy":"y","executionTagKey":"e","windowId":""}'],
    ['a creator whose runbook document is a number', { ...event, managedByTagKey: 'm', creators: [{ managedBy: 'y', executionTagKey: 'e', automationDocument: 3 }] },
      'creators[0] names at most one of stateMachineArn, windowId and automationDocument, each a non-empty string'],
    ['no purpose tag key', { ...event, purposeTagKey: '' }, 'purposeTagKey and purpose are required'],
  ])('rejects %s', (_name, raw, message) => {
    expect(() => parseEvent(raw)).toThrow(message);
    expect(() => parseEvent(raw)).toThrow(expect.objectContaining({ name: 'SelectEventError' }));
  });

  test('a window of 0 seconds, a mount point of 201 characters and an image drill are valid', () => {
    expect(parseEvent({ ...event, setWindowSeconds: 0 }).setWindowSeconds).toBe(0);
    expect(parseEvent({ ...event, mountPoint: `/${'a'.repeat(200)}` }).mountPoint).toHaveLength(201);
    expect(parseEvent({ ...event, mode: 'IMAGE' }).mode).toBe('IMAGE');
    const creators = [
      { managedBy: 'a', executionTagKey: 'e', stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:J' },
      { managedBy: 'b', executionTagKey: 'e', windowId: 'mw-0c1d2e3f4a5b6c7d8' },
      { managedBy: 'c', executionTagKey: 'e', automationDocument: 'D' },
      { managedBy: 'd', executionTagKey: 'e' },
    ];
    expect(parseEvent({ ...event, managedByTagKey: 'm', creators, sourceInstanceTagKeys: ['k1', 'k2'] })).toMatchObject({ creators, sourceInstanceTagKeys: ['k1', 'k2'] });
  });
});

// Found by the run over the whole file (stop 18): each test below fails on a look-alike of the
// handler that the tests above let pass.
describe('what the whole-file mutation run found untested', () => {
  const recorded: SelectEvent = {
    ...event, managedByTagKey: 'backup:managed-by', creators: [{ managedBy: JOB, executionTagKey: 'backup:execution', stateMachineArn: MACHINE }],
  };
  const jobTags = { 'backup:purpose': 'database-dr', 'backup:managed-by': JOB, 'backup:execution': RUN };
  const lines = (spy: jest.SpyInstance) => spy.mock.calls.map((c) => JSON.parse(String(c[0])));
  beforeEach(() => {
    sfnMock.reset();
    sfnMock.on(DescribeExecutionCommand).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    sfnMock.on(DescribeExecutionCommand, { executionArn: RUN }).resolves({
      executionArn: RUN, stateMachineArn: MACHINE, startDate: new Date('2026-11-21T01:59:00Z'), stopDate: new Date('2026-11-21T02:04:00Z'), status: 'SUCCEEDED',
    });
  });

  test('nothing refused, nothing warned; a flood of look-alikes is logged by its first 50 ids, and the real set is still restored', async () => {
    const real = snap('snap-real', 'vol-1', '2026-11-21T02:00:00Z', 'completed', jobTags);
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [real] });
    expect((await select(client, recorded, NOW, sfnClient)).snapshots.map((s) => s.snapshotId)).toEqual(['snap-real']);
    expect(lines(logged).filter((l) => l.level === 'WARN')).toEqual([]);

    logged.mockClear();
    const planted = Array.from({ length: 120 }, (_, n) => snap(`snap-planted-${n}`, 'vol-1', '2026-11-21T02:40:00Z', 'completed', { 'backup:purpose': 'database-dr' }));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [...planted, real] });
    expect((await select(client, recorded, NOW, sfnClient)).snapshots.map((s) => s.snapshotId)).toEqual(['snap-real']);
    const warned = lines(logged).filter((l) => /no creation record/.test(l.message));
    expect(warned.map((l) => l.refused)).toEqual([planted.slice(0, 50).map((s) => s.SnapshotId)]);
  });

  test('volumes without a mount-point tag are placed in volume-id order, whatever order EC2 lists them in', () => {
    const listed = ['vol-c', 'vol-a', 'vol-b'].map((v) => snap(`s-${v}`, v, '2026-11-21T02:00:00Z'));
    for (const order of [listed, [...listed].reverse()]) {
      expect(placeSet(order, event).map((p) => `${p.device} ${p.snapshotId} ${p.mountPoint}`)).toEqual([
        '/dev/sdf s-vol-a /data', '/dev/sdg s-vol-b /data2', '/dev/sdh s-vol-c /data3',
      ]);
    }
  });

  test.each([
    ['its name', { Name: 'database-dr (2026-11-21)', Description: 'nightly image' }],
    ['its description', { Name: 'nightly-2026-11-21', Description: 'database-dr: consistent image' }],
  ])('a shared AMI whose purpose is in %s alone is found', async (_where, named) => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-dr', CreationDate: '2026-11-21T01:00:00.000Z', ...named },
        { ImageId: 'ami-older', CreationDate: '2026-11-20T01:00:00.000Z', Name: 'database-dr (2026-11-20)' },
      ],
    });
    expect((await select(client, { ...event, mode: 'IMAGE', owner: '111122223333' }, NOW)).imageId).toBe('ami-dr');
  });

  test('what was restored is logged for the drill\'s audit trail: the set, its instance and age; the AMI and its platform; why nothing was', async () => {
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const tagged = { 'backup:source-instance': 'i-0a1b2c3d4e5f60718' };
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snap('snap-2', 'vol-2', '2026-11-21T02:00:03Z', 'completed', tagged), snap('snap-1', 'vol-1', '2026-11-21T02:00:00Z', 'completed', tagged)],
    });
    const drill = { ...event, sourceInstanceTagKeys: ['backup:source-instance'] };
    await select(client, drill, NOW);
    expect(lines(logged)).toEqual([{
      level: 'INFO', message: 'snapshot set selected', purpose: 'database-dr', sourceInstance: 'i-0a1b2c3d4e5f60718', snapshotIds: ['snap-1', 'snap-2'], ageSeconds: 3600,
    }]);

    logged.mockClear();
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-1', CreationDate: '2026-11-21T02:30:00.000Z', PlatformDetails: 'Windows' }] });
    await select(client, { ...event, mode: 'IMAGE' }, NOW);
    expect(lines(logged)).toEqual([{ level: 'INFO', message: 'AMI selected', purpose: 'database-dr', imageId: 'ami-1', platform: 'windows', ageSeconds: 1800 }]);

    logged.mockClear();
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    await select(client, { ...event, mode: 'IMAGE', owner: '111122223333' }, NOW);
    await select(client, { ...event, owner: '111122223333' }, NOW);
    expect(lines(logged)).toEqual([
      { level: 'WARN', message: 'no available AMI to drill', purpose: 'database-dr', owner: '111122223333' },
      { level: 'WARN', message: 'no complete snapshot set to drill', purpose: 'database-dr', owner: '111122223333' },
    ]);

    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: Array.from({ length: DEVICES.length + 1 }, (_, n) => snap(`snap-${n}`, `vol-${n}`, '2026-11-21T02:00:00Z', 'completed', tagged)),
    });
    await select(client, drill, NOW);
    expect(lines(errors)).toEqual([
      { level: 'ERROR', message: 'snapshot set too large to drill', purpose: 'database-dr', sourceInstance: 'i-0a1b2c3d4e5f60718', volumes: 22 },
    ]);
  });
});

// Found by the run over lines 429-550 (stop 18): the queries, `select` and the handler.
describe('what the run over the queries and select found untested', () => {
  test('an archive\'s newer snapshots of another purpose that merely contains the drill\'s (database-dr-replica) are never restored', async () => {
    // EC2's description filter `*database-dr*` returns them too: only the whole-word check keeps them out
    const accounts = new SnapshotAccounts('123456789012');
    const shared = (id: string, description: string, start: string) => accounts.add({
      SnapshotId: id, VolumeId: `vol-${id}`, StartTime: new Date(start), OwnerId: '111122223333', Description: description, sharedWith: ['123456789012'],
    });
    shared('snap-dr', 'database-dr: by Prod/Job (i-0a1b2c3d4e5f60718)', '2026-11-21T01:00:00Z');
    shared('snap-replica', 'database-dr-replica: by Prod/Job (i-0b1b2c3d4e5f60718)', '2026-11-21T02:00:00Z');
    ec2.on(DescribeSnapshotsCommand).callsFake((input) => accounts.describeSnapshots(input));
    const selection = await select(client, { ...event, owner: '111122223333' }, NOW);
    expect(selection.snapshots.map((s) => s.snapshotId)).toEqual(['snap-dr']);
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0].args[0].input.Filters).toEqual([{ Name: 'description', Values: ['*database-dr*'] }]);
  });

  test('this account\'s drill that finds nothing says where it looked; a set too large to attach says why, with nothing to mount', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    expect(await select(client, event, NOW)).toEqual({
      found: false, reason: 'no complete snapshot set with tag backup:purpose=database-dr owned by this account', snapshots: [], mounts: '',
    });
    expect(await select(client, { ...event, mode: 'IMAGE' }, NOW)).toEqual({
      found: false, reason: 'no available AMI with tag backup:purpose=database-dr owned by this account', snapshots: [], mounts: '',
    });
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: Array.from({ length: DEVICES.length + 1 }, (_, n) => snap(`snap-${n}`, `vol-${n}`, '2026-11-21T02:00:00Z', 'completed', { 'backup:source-instance': 'i-0a1b2c3d4e5f60718' })),
    });
    expect(await select(client, { ...event, sourceInstanceTagKeys: ['backup:source-instance'] }, NOW)).toEqual({
      found: false,
      reason: 'the newest complete snapshot set of i-0a1b2c3d4e5f60718 has 22 volumes; a drill attaches at most 21 (/dev/sdf to /dev/sdz)',
      snapshots: [],
      mounts: '',
      sourceInstance: 'i-0a1b2c3d4e5f60718',
    });
  });

  test('an AMI with Platform windows (EC2 sets it for Windows AMIs, blank otherwise) is a Windows drill whatever its platform details', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-1', CreationDate: '2026-11-21T01:00:00.000Z', Platform: 'windows' as any }] });
    expect((await select(client, { ...event, mode: 'IMAGE' }, NOW)).platform).toBe('windows');
  });

  test('a refused AMI is logged by its id', async () => {
    sfnMock.reset();
    sfnMock.on(DescribeExecutionCommand).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0planted000000000', CreationDate: '2026-11-21T02:50:00Z', Tags: [{ Key: 'backup:purpose', Value: 'database-dr' }] }] });
    const selection = await select(client, {
      ...event, mode: 'IMAGE', managedByTagKey: 'backup:managed-by', creators: [{ managedBy: JOB, executionTagKey: 'backup:execution', stateMachineArn: MACHINE }],
    }, NOW, sfnClient);
    expect(selection.found).toBe(false);
    expect(logged.mock.calls.map((c) => JSON.parse(String(c[0]))).filter((l) => /no creation record/.test(l.message)).map((l) => l.refused)).toEqual([['ami-0planted000000000']]);
  });
});
