/**
 * Scale: the largest size within AWS's limits and the cost per 1,000 artefacts.
 *
 * State machines run in the scale harness (test/support/scale: realistic EC2/SSM records in
 * pages, every connector result, state input/output and variable measured against Step
 * Functions' 256 KiB): window housekeeping (age and count retention) and the consistent-snapshot
 * job, at 100, 1,000 and 10,000 snapshots (10, 100, 1,000 instances). Handlers run against the
 * same paged account model through a fake EC2 client: the archive job at 100 to 100,000
 * snapshots, with its run time estimated as measured CPU time plus one simulated EC2 latency per
 * sequential request, against Lambda's 15 minutes; the same for the drill's selection, the orphan
 * sweeper and the job and pre-change expiry handlers (test/support/scale/handlers.ts), with the
 * result a state machine reads measured against 256 KiB.
 */
import '../build-tools/resolve-self';
import { performance } from 'perf_hooks';
import { archiveOrphans } from '../lambda/worm/archive';
import { ScaleAccount } from '../test/support/scale/account';
import { DESCRIBE_MS, HandlerRun, LAMBDA_LIMIT_MS, WRITE_MS, fakeEc2, runDrillSelect, runJobExpiry, runOrphanSweep, runPreChangeExpiry } from '../test/support/scale/handlers';
import { RETENTION_3_DAYS, RETENTION_COUNT_3, runHousekeeping } from '../test/support/scale/housekeeping';
import { runJob } from '../test/support/scale/job';
import { PAYLOAD_LIMIT_BYTES } from '../test/support/scale/limits';

const LAMBDA_LIMIT_S = LAMBDA_LIMIT_MS / 1000;

interface Row {
  construct: string;
  artefacts: number;
  instances: number;
  ms: number;
  requests: number;
  msPer1000: number;
  requestsPer1000: number;
  largestKiB?: number;
  withinLimits: boolean;
  note?: string;
}

const kib = (b: number) => Math.round(b / 102.4) / 10;

async function housekeepingRow(instances: number, retention: typeof RETENTION_3_DAYS, label: string): Promise<Row> {
  const t0 = performance.now();
  const r = await runHousekeeping({ instances, days: 5, retention });
  const ms = performance.now() - t0;
  const artefacts = r.before;
  return {
    construct: `housekeeping (${label})`,
    artefacts,
    instances,
    ms,
    requests: r.account.totalRequests,
    msPer1000: ms / artefacts * 1000,
    requestsPer1000: r.account.totalRequests / artefacts * 1000,
    largestKiB: kib(r.meter.maxBytes),
    withinLimits: !r.error && r.meter.violations.length === 0,
    note: `${r.meter.events} history events; deleted ${r.output?.deleted}, deferred ${r.output?.deferred}`,
  };
}

async function jobRow(instances: number): Promise<Row> {
  const t0 = performance.now();
  const { run: jobRun, meter, account } = await runJob(instances);
  const ms = performance.now() - t0;
  const artefacts = account.snapshots.size;
  return {
    construct: 'ConsistentSnapshotJob',
    artefacts,
    instances,
    ms,
    requests: account.totalRequests + (account.requests.CreateSnapshots ?? 0),
    msPer1000: ms / artefacts * 1000,
    requestsPer1000: (account.totalRequests) / artefacts * 1000,
    largestKiB: kib(meter.maxBytes),
    withinLimits: !jobRun.error && meter.violations.length === 0,
  };
}

async function archiveRow(snapshots: number): Promise<Row> {
  const account = new ScaleAccount();
  const old = new Date(Date.now() - 200 * 86_400_000);
  for (let i = 0; i < snapshots; i++) {
    account.addSnapshot(i + 1, { volume: i, startTime: old, tags: { 'backup:purpose': 'orders-db' } });
  }
  const clock = { simulatedMs: 0 };
  const t0 = performance.now();
  const silent = console.log;
  let result: { deferred: number; archived: string[] } = { deferred: 0, archived: [] };
  console.log = () => undefined;
  try {
    result = await archiveOrphans({
      ec2: fakeEc2(account, clock),
      settings: { purposeTagKey: 'backup:purpose', purposes: [], minimumAgeDays: 90, archivedTagKey: 'backup:archived-at', dryRun: false },
      sleep: async () => undefined,
      elapsedMs: () => performance.now() - t0 + clock.simulatedMs,
    });
  } finally {
    console.log = silent;
  }
  const cpuMs = performance.now() - t0;
  const deferred = result.deferred;
  const ms = cpuMs + clock.simulatedMs;
  return {
    construct: 'SnapshotArchiver (handler)',
    artefacts: snapshots,
    instances: 0,
    ms,
    requests: account.totalRequests,
    msPer1000: ms / snapshots * 1000,
    requestsPer1000: account.totalRequests / snapshots * 1000,
    withinLimits: ms / 1000 <= LAMBDA_LIMIT_S,
    note: `CPU ${Math.round(cpuMs)} ms + ${account.totalRequests} sequential requests × latency; ${(ms / 1000 / LAMBDA_LIMIT_S * 100).toFixed(0)}% of 15 min; archived ${result.archived.length}, deferred ${deferred}${deferred > 0 ? ' (next run)' : ''}`,
  };
}

function handlerRow(r: HandlerRun, note: string): Row {
  return {
    construct: `${r.handler} (handler)`,
    artefacts: r.snapshots,
    instances: 0,
    ms: r.ms,
    requests: r.requests,
    msPer1000: r.ms / r.snapshots * 1000,
    requestsPer1000: r.requests / r.snapshots * 1000,
    largestKiB: r.resultIsStatePayload ? kib(r.resultBytes) : undefined,
    withinLimits: r.withinLambda && r.withinPayload,
    note: `CPU ${Math.round(r.cpuMs)} ms; ${(r.ms / LAMBDA_LIMIT_MS * 100).toFixed(0)}% of 15 min; ${note}`,
  };
}

export async function run(): Promise<object> {
  const rows: Row[] = [];
  // synthesize once, outside the timings
  await runHousekeeping({ instances: 1, days: 1, retention: RETENTION_3_DAYS });
  await runHousekeeping({ instances: 1, days: 1, retention: RETENTION_COUNT_3 });
  await runJob(1);
  for (const instances of [10, 100, 1000]) {
    rows.push(await housekeepingRow(instances, RETENTION_3_DAYS, 'age'));
    rows.push(await housekeepingRow(instances, RETENTION_COUNT_3, 'count'));
    rows.push(await jobRow(instances));
  }
  for (const n of [100, 1000, 10_000, 100_000]) {
    rows.push(await archiveRow(n));
  }
  for (const n of [100, 1000, 10_000, 100_000]) {
    const drill = await runDrillSelect(n);
    rows.push(handlerRow(drill, `result ${drill.resultBytes} B (a state payload): ${drill.result.snapshots.length} snapshots of ${drill.result.sourceInstance}`));
  }
  for (const n of [100, 1000, 10_000, 100_000]) {
    const sweep = await runOrphanSweep(n);
    rows.push(handlerRow(sweep, `deleted ${sweep.result.deleted.length}, deferred ${sweep.result.deferred}`));
  }
  for (const n of [100, 1000, 10_000, 100_000]) {
    const job = await runJobExpiry(n);
    rows.push(handlerRow(job, `result ${job.resultBytes} B (a state payload); expired ${job.result.expired.length} (at most 500 a run)`));
  }
  for (const n of [100, 1000, 10_000, 100_000]) {
    const pre = await runPreChangeExpiry(n);
    rows.push(handlerRow(pre, `deleted ${pre.result.deletedSnapshots.length}, deferred ${pre.result.deferred} (next run)`));
  }
  console.log(`limit per payload/variable: ${PAYLOAD_LIMIT_BYTES / 1024} KiB; simulated EC2 latency: describe ${DESCRIBE_MS} ms, write ${WRITE_MS} ms`);
  console.log('| construct | artefacts | instances | time (ms) | requests | ms / 1,000 | requests / 1,000 | largest payload (KiB) | within limits | note |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|---|');
  for (const r of rows) {
    console.log(`| ${r.construct} | ${r.artefacts} | ${r.instances} | ${Math.round(r.ms)} | ${r.requests} | ${r.msPer1000.toFixed(0)} | ${r.requestsPer1000.toFixed(1)} | ${r.largestKiB ?? '-'} | ${r.withinLimits ? 'yes' : 'NO'} | ${r.note ?? ''} |`);
  }
  return { rows };
}
