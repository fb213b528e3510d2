/**
 * The restore drill's sweeper past the size at which one run's history would reach Step Functions'
 * 25,000 events (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): about
 * 2,200 leftover instances with two volumes each, when every volume was deleted in one run (each
 * deletion is an iteration of a Map, about 7 events). A run deletes at most 1,000 volumes; the
 * daily schedule takes the rest.
 */
import { kindOf, machinesOf } from '../support/example-machines';
import { runSweeperAtScale } from '../support/scale/drill';
import { HISTORY_EVENT_LIMIT } from '../support/scale/limits';

jest.setTimeout(600_000);

test('3,000 leftover instances (6,000 volumes): every run within 25,000 events, all gone after seven daily runs', async () => {
  const sweeper = machinesOf('restore-drill', { rules: false }).machines.find((m) => kindOf(m.definition) === 'sweeper')!;
  const r = await runSweeperAtScale(sweeper, 3000);
  console.log('sweeper, 3,000 leftover instances:', JSON.stringify({ runs: r.runs, longestRun: r.meter.events, largest: r.meter.largest, requests: r.account.requests }));
  expect(r.error).toBeUndefined();
  expect(r.meter.violations).toEqual([]);
  expect(r.meter.events).toBeLessThan(HISTORY_EVENT_LIMIT);
  const mine = (tags: any[]) => !tags.some((t: any) => t.Key === 'Role');
  expect(r.account.instances.filter((i) => mine(i.Tags) && !['terminated', 'shutting-down'].includes(i.State.Name))).toEqual([]);
  expect([...r.account.volumes.values()].filter((v) => mine(v.Tags))).toEqual([]);
  expect(r.touched).toEqual([]);
  // each run reports what it found and deleted: 1,000 volumes a day, then nothing
  expect(r.metrics.filter((d) => d.MetricName === 'LeftoverVolumes').map((d) => d.Value)).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 0]);
});
