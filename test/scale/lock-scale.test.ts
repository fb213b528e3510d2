/**
 * The snapshot lock (the definition the worm-guard example synthesizes, from its template) at
 * 10,000 snapshots in the scale harness: one execution per EBS event, every connector result, state input/output and variable
 * within Step Functions' 256 KiB (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 */
import { kindOf, machinesOf } from '../support/example-machines';
import { PAYLOAD_LIMIT_BYTES } from '../support/scale/limits';
import { runLocks } from '../support/scale/lock';

jest.setTimeout(300_000);

const [lock] = machinesOf('worm-guard', { rules: false }).machines.filter((m) => kindOf(m.definition) === 'lock');

describe('SnapshotLock at scale', () => {
  test('10,000 snapshots as 500 createSnapshots events of 20: each locked once, no payload over 256 KiB', async () => {
    const { account, locks, meter, errors } = await runLocks(500, 20, lock.definition);
    expect(errors).toEqual([]);
    expect(locks.size).toBe(10_000);
    expect(account.requests.LockSnapshot).toBe(10_000);
    expect(account.requests.DescribeSnapshots).toBe(500);
    expect(meter.violations).toEqual([]);
  });

  test('the largest event the lock can receive, an instance with 128 volumes, stays within a quarter of 256 KiB', async () => {
    const { locks, meter, errors } = await runLocks(1, 128, lock.definition);
    expect(errors).toEqual([]);
    expect(locks.size).toBe(128);
    expect(meter.violations).toEqual([]);
    // payloads grow with the event (the tagged-snapshot lookup: about 430 bytes a snapshot), not with the account
    expect(meter.maxBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES / 4);
  });
});
