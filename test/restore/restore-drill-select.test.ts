import { DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Snapshot } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { DEVICES, handler, newestCompleteSet, parseEvent, placeSet, select, SelectEvent } from '../../lambda/restore/drill-select';

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
    expect(() => placeSet(many, event)).toThrow(`the snapshot set has ${DEVICES.length + 1} volumes; a drill attaches at most ${DEVICES.length}`);
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

  test('looks in the archive account when the snapshots are shared from it', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    const selection = await select(client, { ...event, owner: '111122223333' }, NOW);
    expect(selection).toEqual({ found: false, reason: 'no complete snapshot set with tag backup:purpose=database-dr owned by 111122223333', snapshots: [], mounts: '' });
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0].args[0].input.OwnerIds).toEqual(['111122223333']);
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
      found: true, snapshots: [], imageId: 'ami-new', mounts: '', snapshotTime: '2026-11-21T01:00:00.000Z', ageSeconds: 7200,
    });
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({
      Owners: ['self'], Filters: [{ Name: 'tag:backup:purpose', Values: ['database-dr'] }, { Name: 'state', Values: ['available'] }],
    });
  });

  test('reports a missing AMI', async () => {
    ec2.on(DescribeImagesCommand).resolves({});
    expect(await select(client, { ...event, mode: 'IMAGE', owner: '111122223333' }, NOW)).toEqual(expect.objectContaining({
      found: false, reason: 'no available AMI with tag backup:purpose=database-dr owned by 111122223333',
    }));
  });

  test('the handler selects with a client of its own', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    expect((await handler(event)).found).toBe(false);
  });
});
