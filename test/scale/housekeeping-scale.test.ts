/**
 * Window housekeeping at a platform team's size, in the scale harness (test/support/scale): realistic
 * DescribeSnapshots records (about 690 bytes with the library's tags) in pages as EC2 returns
 * them, and Step Functions' 256 KiB limit on every connector result, state input/output and
 * variable (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 */
import { MAX_DELETES_PER_RUN, MAX_VOLUMES_PER_RUN } from '../../src/ssm/housekeeping';
import { RETENTION_3_DAYS, RETENTION_COUNT_3, runHousekeeping } from '../support/scale/housekeeping';
import { HISTORY_EVENT_LIMIT, PAYLOAD_LIMIT_BYTES } from '../support/scale/limits';

jest.setTimeout(240_000);

describe('window housekeeping at scale', () => {
  test('age retention: 1,000 instances, 10,000 snapshots; every payload and variable within 256 KiB', async () => {
    // 1,000 instances × 2 volumes × 5 daily snapshots; kept 3 days: 4,000 expired
    const run = await runHousekeeping({ instances: 1000, days: 5, retention: RETENTION_3_DAYS, decoys: 50 });
    expect(run.error).toBeUndefined();
    expect(run.meter.violations).toEqual([]);
    expect(run.meter.maxBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    expect(run.meter.events).toBeLessThan(HISTORY_EVENT_LIMIT);
    expect(run.before).toBe(10_050);
    console.log('housekeeping age, 10,050 snapshots:', JSON.stringify({ largest: run.meter.largest, events: run.meter.events, requests: run.account.requests }));
    // judged hour: one snapshot per volume
    expect(run.output).toMatchObject({
      created: 2000, crashConsistent: 0, failedExecutions: 1, deleted: MAX_DELETES_PER_RUN, notDeleted: 0, deferred: 3000,
    });
    expect(run.remaining).toBe(10_050 - MAX_DELETES_PER_RUN);
    // a decoy (purpose tags, no window id) is never listed, so never deleted
    expect([...run.account.snapshots.values()].filter((s) => !s.Tags.some((t) => t.Key === 'backup:window-id'))).toHaveLength(50);
  });

  test('age retention: the deferred snapshots go in the next runs', async () => {
    const small = await runHousekeeping({ instances: 10, days: 5, retention: RETENTION_3_DAYS });
    expect(small.output).toMatchObject({ created: 20, deleted: 40, deferred: 0 });
    // only the two newest days (and the judged one) are left per volume
    expect(small.remaining).toBe(60);
  });

  test('count retention: 1,000 instances, 10,000 snapshots, per-volume decisions without one variable holding them', async () => {
    const run = await runHousekeeping({ instances: 1000, days: 5, retention: RETENTION_COUNT_3 });
    expect(run.error).toBeUndefined();
    expect(run.meter.violations).toEqual([]);
    expect(run.meter.events).toBeLessThan(HISTORY_EVENT_LIMIT);
    // 2,000 volumes hold 5 each; 200 are handled per run, 2 each
    expect(run.output).toMatchObject({ created: 2000, deleted: MAX_VOLUMES_PER_RUN * 2, notDeleted: 0, deferred: 2000 - MAX_VOLUMES_PER_RUN });
    // the newest 3 of every handled volume stay
    const perVolume = new Map<string, string[]>();
    for (const s of run.account.snapshots.values()) {
      perVolume.set(s.VolumeId, [...perVolume.get(s.VolumeId) ?? [], s.StartTime]);
    }
    const handled = [...perVolume.values()].filter((times) => times.length === 3);
    expect(handled).toHaveLength(MAX_VOLUMES_PER_RUN);
    for (const times of handled) {
      expect(times.sort()[0] > '2026-11-22').toBe(true);
    }
  });

  test('count retention: a planted look-alike set deletes no real snapshot (the floor is the window\'s own recorded executions)', async () => {
    const run = await runHousekeeping({ instances: 1, volumes: 1, days: 5, retention: RETENTION_COUNT_3, lookAlikes: 3 });
    expect(run.error).toBeUndefined();
    const left = [...run.account.snapshots.values()].map((x) => x.StartTime).sort();
    // the 3 newest real snapshots (days 0-2, 10 minutes after their executions) stay, with the 3 look-alikes;
    // only the real ones beyond the count (days 3 and 4) go
    expect(left).toHaveLength(6);
    expect(run.output).toMatchObject({ deleted: 2 });
  });

  test('count retention on a small window deletes exactly what is over the count', async () => {
    const run = await runHousekeeping({ instances: 3, days: 5, retention: RETENTION_COUNT_3 });
    expect(run.output).toMatchObject({ created: 6, deleted: 12, deferred: 0 });
    expect(run.remaining).toBe(18);
  });
});
