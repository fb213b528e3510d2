/**
 * The drill's selection, the orphan sweeper and the two expiry handlers at 10,000 snapshots
 * against the paged account model with a simulated EC2 latency (test/support/scale/handlers.ts):
 * every run within Lambda's 15 minutes, and every result a state machine reads within Step
 * Functions' 256 KiB (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 */
import { LAMBDA_LIMIT_MS, WRITE_MS, runDrillSelect, runJobExpiry, runOrphanSweep, runPreChangeExpiry } from '../support/scale/handlers';
import { PAYLOAD_LIMIT_BYTES } from '../support/scale/limits';

jest.setTimeout(300_000);

describe('handlers at 10,000 snapshots', () => {
  test('RestoreDrill selection: one instance\'s set of 2 from 10,000 snapshots of 500 instances, in pages of 1,000', async () => {
    const r = await runDrillSelect(10_000);
    expect(r.result.found).toBe(true);
    expect(r.result.snapshots).toHaveLength(2);
    expect(r.requests).toBe(10);
    expect(r.withinLambda).toBe(true);
    expect(r.resultBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
  });

  test('orphan sweeper: the 100 snapshots whose AMI is gone deleted, within 15 minutes', async () => {
    const r = await runOrphanSweep(10_000);
    expect(r.result.deleted).toHaveLength(100);
    expect(r.result.deferred).toBe(0);
    expect(r.withinLambda).toBe(true);
  });

  test('job expiry: 500 deletions a run, the result within 256 KiB even with 20,000 skipped snapshots', async () => {
    const r = await runJobExpiry(10_000, { untagged: 20_000 });
    expect(r.result.expired).toHaveLength(500);
    expect(r.result.skippedCount).toBe(20_000);
    expect(r.withinLambda).toBe(true);
    // the Lambda task's connector result: a list of 20,000 ids would be about 540 KB
    expect(r.resultBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
  });

  test('pre-change expiry: 5,000 expired snapshots deleted within 15 minutes', async () => {
    const r = await runPreChangeExpiry(10_000);
    expect(r.result.deletedSnapshots).toHaveLength(5000);
    expect(r.result.deferred).toBe(0);
    expect(r.withinLambda).toBe(true);
  });

  test('pre-change expiry past its budget: 10,000 expired (1,000 s of deletions) stop at 12 minutes, the rest deferred', async () => {
    const r = await runPreChangeExpiry(20_000);
    expect(r.result.deferred).toBeGreaterThan(2000);
    expect(r.result.deletedSnapshots.length + r.result.deferred).toBe(10_000);
    expect(r.ms).toBeLessThanOrEqual(12 * 60_000 + WRITE_MS + 5_000);
    expect(r.withinLambda).toBe(true);
    expect(LAMBDA_LIMIT_MS).toBe(900_000);
  });

  test('orphan sweeper past its budget: the deletions stop at the budget, the rest deferred', async () => {
    const r = await runOrphanSweep(10_000, { budgetMs: 5_000 });
    expect(r.result.deferred).toBeGreaterThan(0);
    expect(r.result.deleted.length + r.result.deferred).toBe(100);
  });
});
