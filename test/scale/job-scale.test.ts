/**
 * ConsistentSnapshotJob at 1,000 matching instances (2,000 snapshots per run) in the scale
 * harness: realistic DescribeInstances records (about 3 KiB each) in pages, every connector
 * result and state input/output within Step Functions' 256 KiB
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 */
import { runJob } from '../support/scale/job';
import { PAYLOAD_LIMIT_BYTES } from '../support/scale/limits';

jest.setTimeout(300_000);

describe('ConsistentSnapshotJob at scale', () => {
  test('1,000 instances: every instance snapshotted once, verified, no payload over 256 KiB', async () => {
    const { run, meter, account } = await runJob(1000);
    console.log('job, 1,000 instances:', JSON.stringify({ largest: meter.largest, requests: account.requests }));
    expect(run.error).toBeUndefined();
    expect(meter.violations).toEqual([]);
    expect(meter.maxBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    expect(account.requests.CreateSnapshots).toBe(1000);
    // 20 records per page: 50 pages for 1,001 matching tags... of which 1,000 match
    expect(account.requests.DescribeInstances).toBe(50);
    expect(account.snapshots.size).toBe(2000);
    // every snapshot was verified, in batches of 100
    expect(run.calls.filter((c) => c.state === 'DescribeSnapshots').map((c) => c.input.SnapshotIds.length)).toEqual(Array(20).fill(100));
  });

  test('1,000 instances, AMIs: every instance imaged once, no payload over 256 KiB', async () => {
    const { run, meter, account } = await runJob(1000, 'images');
    expect(run.error).toBeUndefined();
    expect(meter.violations).toEqual([]);
    expect(account.requests.CreateImage).toBe(1000);
  });

  test('a page boundary: 41 instances are three pages, each instance once', async () => {
    const { run, account } = await runJob(41);
    expect(run.error).toBeUndefined();
    expect(account.requests.DescribeInstances).toBe(3);
    const ids = run.calls.filter((c) => c.state === 'CreateSnapshots').map((c) => c.input.InstanceSpecification.InstanceId);
    expect(new Set(ids).size).toBe(41);
    expect(ids).toHaveLength(41);
  });
});
