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
