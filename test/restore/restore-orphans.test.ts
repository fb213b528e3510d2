import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, sweepOrphans } from '../../lambda/restore/orphans';

const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);
const purpose = [{ Key: 'backup:purpose', Value: 'web' }];
const event = { purposeTagKey: 'backup:purpose', dryRun: true, namespace: 'CdkEbsBackup/Orphans' };
const err = (name: string) => Object.assign(new Error(name), { name });

beforeAll(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
beforeEach(() => {
  ec2.reset();
  cw.reset();
  cw.on(PutMetricDataCommand).resolves({});
  ec2.on(DescribeImagesCommand).resolves({
    Images: [
      { ImageId: 'ami-0000000a', Tags: purpose, BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-a' } }] },
      { ImageId: 'ami-0000000b', Tags: purpose, BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-missing' } }] },
      { ImageId: 'ami-0000000c', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-missing-2' } }] },
    ],
  });
  ec2.on(DescribeSnapshotsCommand)
    .resolvesOnce({ Snapshots: [{ SnapshotId: 'snap-a', Description: 'Created by CreateImage(i-1) for ami-0000000a' }], NextToken: 'p2' })
    .resolves({
      Snapshots: [
        { SnapshotId: 'snap-orphan', Tags: purpose, Description: 'Created by CreateImage(i-1) for ami-000000ff from vol-1' },
        { SnapshotId: 'snap-orphan-untagged', Description: 'Created by CreateImage(i-2) for ami-000000fe from vol-2' },
        { SnapshotId: 'snap-plain', Tags: purpose, Description: 'nightly' },
      ],
    });
});

test('reports snapshots without their AMI and AMIs without their snapshots, and deletes nothing in dry run', async () => {
  const result = await sweepOrphans(ec2 as any, cw as any, event);
  expect(result).toEqual({
    snapshotsWithoutImage: ['snap-orphan', 'snap-orphan-untagged'],
    imagesWithoutSnapshots: ['ami-0000000b', 'ami-0000000c'],
    deleted: [],
    protected: [],
    deferred: 0,
  });
  expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  expect(ec2.commandCalls(DeregisterImageCommand)).toHaveLength(0);
  expect(cw.commandCalls(PutMetricDataCommand)[0].args[0].input.MetricData!.map((d) => [d.MetricName, d.Value])).toEqual([
    ['SnapshotsWithoutImage', 2], ['ImagesWithoutSnapshots', 2], ['OrphansDeleted', 0],
  ]);
});

test('without dry run deletes only the tagged orphans, counts one already gone as deleted, and leaves what a guard protects', async () => {
  ec2.on(DeregisterImageCommand).rejects(err('InvalidAMIID.NotFound'));
  ec2.on(DeleteSnapshotCommand).rejects(err('UnauthorizedOperation'));
  const result = await sweepOrphans(ec2 as any, cw as any, { ...event, dryRun: false });
  expect(result.deleted).toEqual(['ami-0000000b']);
  expect(result.protected).toEqual(['snap-orphan']);
  expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).toEqual(['snap-orphan']);
});

test('deletes and retries throttling', async () => {
  ec2.on(DeregisterImageCommand).resolves({});
  ec2.on(DeleteSnapshotCommand).rejectsOnce(err('RequestLimitExceeded')).resolves({});
  const result = await sweepOrphans(ec2 as any, cw as any, { ...event, dryRun: false });
  expect(result.deleted).toEqual(['ami-0000000b', 'snap-orphan']);
  expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(2);
});

test('fails on an unexpected fault', async () => {
  ec2.on(DeleteSnapshotCommand).rejects(err('InternalErrorX'));
  ec2.on(DeregisterImageCommand).resolves({});
  await expect(sweepOrphans(ec2 as any, cw as any, { ...event, dryRun: false })).rejects.toThrow('InternalErrorX');
});

test('rejects an incomplete event', async () => {
  await expect(sweepOrphans(ec2 as any, cw as any, { ...event, dryRun: 'no' as any })).rejects.toThrow('purposeTagKey, dryRun (a boolean) and namespace are required');
});

test('the handler uses clients of its own', async () => {
  expect((await handler(event)).imagesWithoutSnapshots).toHaveLength(2);
});

test('a disabled AMI still owns its snapshots: EC2 lists disabled AMIs only with IncludeDisabled, and one in use is left, not fatal', async () => {
  // EC2 API reference, DescribeImages: "IncludeDisabled: Specifies whether to include disabled
  // AMIs. Default: No"; DeleteSnapshot of a snapshot an AMI uses fails with InvalidSnapshot.InUse
  ec2.on(DescribeImagesCommand).callsFake((input) => ({
    Images: [
      { ImageId: 'ami-0000000a', Tags: purpose, BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-a' } }] },
      ...(input.IncludeDisabled ? [{ ImageId: 'ami-000000ff', State: 'disabled', Tags: purpose, BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-orphan' } }] }] : []),
    ],
  }));
  ec2.on(DescribeSnapshotsCommand).resolves({
    Snapshots: [
      { SnapshotId: 'snap-a', Description: 'Created by CreateImage(i-1) for ami-0000000a' },
      { SnapshotId: 'snap-orphan', Tags: purpose, Description: 'Created by CreateImage(i-1) for ami-000000ff from vol-1' },
      { SnapshotId: 'snap-busy', Tags: purpose, Description: 'Created by CreateImage(i-3) for ami-000000ee from vol-3' },
    ],
  });
  ec2.on(DeleteSnapshotCommand).rejects(err('InvalidSnapshot.InUse'));
  const result = await sweepOrphans(ec2 as any, cw as any, { ...event, dryRun: false });
  expect(result.snapshotsWithoutImage).toEqual(['snap-busy']);
  expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).toEqual(['snap-busy']);
  expect(result.protected).toEqual(['snap-busy']);
});

describe('what mutation testing found unchecked', () => {
  const logged = () => (console.log as jest.Mock).mock.calls.map(([line]) => JSON.parse(line));

  // EC2 API reference: DescribeSnapshots without OwnerIds lists every snapshot the caller may use,
  // public ones and those shared by other accounts included; DescribeImages without Owners lists
  // every AMI the caller may launch. The stub answers so, and pages only on the NextToken it gave.
  test('only the account\'s own AMIs and snapshots are swept (Owners and OwnerIds self), page by page', async () => {
    const own = [{ SnapshotId: 'snap-orphan', Tags: purpose, Description: 'Created by CreateImage(i-1) for ami-000000ff from vol-1' }];
    const foreign = [{ SnapshotId: 'snap-public', OwnerId: '999988887777', Description: 'Created by CreateImage(i-9) for ami-00000999 from vol-9' }];
    ec2.on(DescribeImagesCommand).callsFake((input) => ({
      Images: [
        { ImageId: 'ami-0000000a', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-a' } }] },
        ...(input.Owners?.includes('self') ? [] : [{ ImageId: 'ami-00000888', OwnerId: '999988887777', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-theirs' } }] }]),
      ],
    }));
    ec2.on(DescribeSnapshotsCommand).callsFake((input) => {
      const all = [{ SnapshotId: 'snap-a', Description: 'Created by CreateImage(i-1) for ami-0000000a' }, ...own, ...(input.OwnerIds?.includes('self') ? [] : foreign)];
      return input.NextToken === 'p2' ? { Snapshots: all.slice(1) } : { Snapshots: all.slice(0, 1), NextToken: 'p2' };
    });
    const result = await sweepOrphans(ec2 as any, cw as any, event);
    expect(result.snapshotsWithoutImage).toEqual(['snap-orphan']);
    expect(result.imagesWithoutSnapshots).toEqual([]);
  });

  test('an AMI with one of its two snapshots gone cannot be launched: it is an orphan', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [{ ImageId: 'ami-0000000d', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-a' } }, { Ebs: { SnapshotId: 'snap-gone' } }, { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }] }],
    });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: 'snap-a', Description: 'Created by CreateImage(i-1) for ami-0000000d' }] });
    expect((await sweepOrphans(ec2 as any, cw as any, event)).imagesWithoutSnapshots).toEqual(['ami-0000000d']);
  });

  test('an orphan with other tags but not the purpose tag is not the library\'s: reported, never deleted', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [{ SnapshotId: 'snap-theirs', Tags: [{ Key: 'Name', Value: 'db' }, { Key: 'backup:other', Value: 'x' }], Description: 'Created by CreateImage(i-1) for ami-000000ff from vol-1' }],
    });
    ec2.on(DeleteSnapshotCommand).resolves({});
    const result = await sweepOrphans(ec2 as any, cw as any, { ...event, dryRun: false });
    expect(result.snapshotsWithoutImage).toEqual(['snap-theirs']);
    expect(result.deleted).toEqual([]);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  });

  test.each([
    ['UnauthorizedOperation', 'You are not authorized to perform this operation.'],
    ['AccessDenied', 'denied'],
    ['AccessDeniedException', 'denied'],
    ['SnapshotLocked', 'the snapshot cannot be deleted'],
    ['InvalidSnapshot.InUse', 'The snapshot snap-orphan is currently in use by ami-000000ff'],
    ['OperationNotPermitted', 'The snapshot snap-orphan is locked in compliance mode'],
  ])('a deletion answered %s (%s) is left in place as protected, logged with its id', async (name, message) => {
    ec2.on(DeregisterImageCommand).resolves({});
    ec2.on(DeleteSnapshotCommand).rejects(Object.assign(new Error(message), { name }));
    const result = await sweepOrphans(ec2 as any, cw as any, { ...event, dryRun: false });
    expect(result.protected).toEqual(['snap-orphan']);
    expect(logged()).toContainEqual({ level: 'WARN', message: 'deletion denied: left in place', id: 'snap-orphan', error: name });
  });

  test('the orphans found are logged as one JSON line, with the dry-run flag', async () => {
    await sweepOrphans(ec2 as any, cw as any, event);
    expect(logged()).toEqual([{
      level: 'INFO',
      message: 'backup orphans found',
      snapshotsWithoutImage: ['snap-orphan', 'snap-orphan-untagged'],
      imagesWithoutSnapshots: ['ami-0000000b', 'ami-0000000c'],
      deleted: [],
      protected: [],
      deferred: 0,
      dryRun: true,
    }]);
  });

  test.each([null, undefined])('an event of %s is the sweeper\'s own error, before any call', async (nothing) => {
    await expect(sweepOrphans(ec2 as any, cw as any, nothing as any)).rejects.toThrow('purposeTagKey, dryRun (a boolean) and namespace are required');
    expect(ec2.calls()).toHaveLength(0);
  });

  test('when the time budget is used up, the rest is deferred to the next run and the count logged', async () => {
    ec2.on(DeregisterImageCommand).resolves({});
    ec2.on(DeleteSnapshotCommand).resolves({});
    let elapsed = 0;
    // the clock passes the budget once the first deletion (the tagged AMI) is done
    const result = await sweepOrphans(ec2 as any, cw as any, { ...event, dryRun: false }, { budgetMs: 1000, elapsedMs: () => (elapsed += 600) });
    expect(result.deleted).toEqual(['ami-0000000b']);
    expect(result.deferred).toBe(1);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(logged()).toContainEqual({ level: 'WARN', message: 'time budget used up: the remaining orphans wait for the next run', deferred: 1, budgetMs: 1000 });
  });
});
