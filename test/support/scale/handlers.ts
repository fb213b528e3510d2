/**
 * The library's Lambda handlers at scale: each runs against the paged account model
 * (account.ts) through a fake EC2 client that counts requests and adds a simulated latency per
 * sequential request. A run's time is its measured CPU time plus that latency, against Lambda's
 * 15 minutes (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); a result
 * that becomes a Step Functions connector result is measured against 256 KiB (limits.ts).
 *
 * Scenarios, at `n` snapshots (each about 690 bytes as DescribeSnapshots returns it):
 * - drill selection: n snapshots of the drilled purpose, two volumes per instance, one set a day;
 * - orphan sweeper: n snapshots, 1 % of them created for an AMI that is gone (deleted);
 * - job expiry: n snapshots of one ConsistentSnapshotJob, one run a day, count retention;
 * - pre-change expiry: n snapshots of one runbook, half of them past their `age:` retention.
 */
import { performance } from 'perf_hooks';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ScaleAccount } from './account';
import { PAYLOAD_LIMIT_BYTES } from './limits';
import { expire as expireJob, ExpiryConfig as JobExpiryConfig, RecordedExecution } from '../../../lambda/orchestration/snapshot-expiry';
import { select } from '../../../lambda/restore/drill-select';
import { sweepOrphans } from '../../../lambda/restore/orphans';
import { expire as expirePreChange } from '../../../lambda/runbooks/prechange-expiry';

/** Simulated EC2 latency per request (ms): describe calls ~150 ms, writes ~100 ms. */
export const DESCRIBE_MS = 150;
export const WRITE_MS = 100;
/** Lambda's maximum timeout. */
export const LAMBDA_LIMIT_MS = 15 * 60_000;

export interface SimulatedClock {
  simulatedMs: number;
}

/** An EC2 (and CloudWatch) client over the account model: every request counted and charged its latency. */
export function fakeEc2(account: ScaleAccount, clock: SimulatedClock): any {
  const count = (name: string) => (account.requests[name] = (account.requests[name] ?? 0) + 1);
  // an EC2Client by prototype: the SDK's paginators check the client's class
  return Object.assign(Object.create(EC2Client.prototype), {
    send: async (command: any) => {
      const name = command.constructor.name.replace(/Command$/, '');
      const input = command.input;
      switch (name) {
        case 'DescribeSnapshots': {
          clock.simulatedMs += DESCRIBE_MS;
          const page = account.describeSnapshots(input);
          // the SDK parses StartTime into a Date
          return { ...page, Snapshots: page.Snapshots.map((s: any) => ({ ...s, StartTime: new Date(s.StartTime) })) };
        }
        case 'DescribeImages':
        case 'DescribeVolumes':
          clock.simulatedMs += DESCRIBE_MS;
          count(name);
          return name === 'DescribeImages' ? { Images: [] } : { Volumes: [] };
        case 'DeleteSnapshot':
          clock.simulatedMs += WRITE_MS;
          return account.deleteSnapshot(input);
        default:
          clock.simulatedMs += WRITE_MS;
          count(name);
          return {};
      }
    },
  });
}

export interface HandlerRun {
  readonly handler: string;
  readonly snapshots: number;
  /** CPU time plus the simulated latency of every sequential request. */
  readonly ms: number;
  readonly cpuMs: number;
  readonly requests: number;
  /** The handler's result, as JSON, in bytes. */
  readonly resultBytes: number;
  /** Whether the result must fit a Step Functions payload (the handler is a state machine's task). */
  readonly resultIsStatePayload: boolean;
  readonly withinLambda: boolean;
  readonly withinPayload: boolean;
  readonly result: any;
}

async function timed(handler: string, snapshots: number, account: ScaleAccount, resultIsStatePayload: boolean,
  fn: (ec2: any, elapsedMs: () => number) => Promise<any>): Promise<HandlerRun> {
  const clock: SimulatedClock = { simulatedMs: 0 };
  const log = console.log;
  const t0 = performance.now();
  let result: any;
  console.log = () => undefined;
  try {
    result = await fn(fakeEc2(account, clock), () => performance.now() - t0 + clock.simulatedMs);
  } finally {
    console.log = log;
  }
  const cpuMs = performance.now() - t0;
  const ms = cpuMs + clock.simulatedMs;
  const resultBytes = Buffer.byteLength(JSON.stringify(result ?? null), 'utf8');
  return {
    handler,
    snapshots,
    ms,
    cpuMs,
    requests: account.totalRequests,
    resultBytes,
    resultIsStatePayload,
    result,
    withinLambda: ms <= LAMBDA_LIMIT_MS,
    withinPayload: !resultIsStatePayload || resultBytes <= PAYLOAD_LIMIT_BYTES,
  };
}

const DAY = 86_400_000;
const NOW = new Date('2026-11-30T12:00:00.000Z');
const PURPOSE = 'orders-db';
const tags = (extra: Record<string, string>) => ({ 'backup:purpose': PURPOSE, 'backup:managed-by': 'Stack/Job', ...extra });
const instanceId = (i: number) => `i-${i.toString(16).padStart(17, '0')}`;

/** RestoreDrill's selection (a state machine task: its result is a payload). */
export async function runDrillSelect(n: number): Promise<HandlerRun> {
  const account = new ScaleAccount();
  const instances = Math.max(1, Math.floor(n / 20));
  for (let i = 0; i < n; i++) {
    const instance = i % instances;
    const day = Math.floor(i / (instances * 2));
    account.addSnapshot(i + 1, {
      volume: instance * 2 + (Math.floor(i / instances) % 2),
      startTime: new Date(NOW.getTime() - day * DAY - instance * 1000),
      tags: tags({ 'backup:source-instance': instanceId(instance + 1) }),
    });
  }
  return timed('RestoreDrill selection', n, account, true, (ec2) => select(ec2, {
    purpose: PURPOSE,
    purposeTagKey: 'backup:purpose',
    mode: 'SNAPSHOTS',
    setWindowSeconds: 300,
    mountPoint: '/restore',
    sourceInstanceTagKeys: ['backup:source-instance'],
  }, NOW));
}

/** The orphan sweeper (scheduled; deletes the 1 % of snapshots whose AMI is gone). */
export async function runOrphanSweep(n: number, o: { budgetMs?: number } = {}): Promise<HandlerRun> {
  const account = new ScaleAccount();
  for (let i = 0; i < n; i++) {
    const s = account.addSnapshot(i + 1, { volume: i, startTime: new Date(NOW.getTime() - 40 * DAY), tags: tags({}) });
    if (i % 100 === 0) {
      s.Description = `Created by CreateImage(${instanceId(i + 1)}) for ami-${(i + 1).toString(16).padStart(17, '0')} from ${s.VolumeId}`;
    }
  }
  return timed('orphan sweeper', n, account, false, (ec2, elapsedMs) =>
    sweepOrphans(ec2, ec2, { purposeTagKey: 'backup:purpose', dryRun: false, namespace: 'EbsBackup' }, { elapsedMs, budgetMs: o.budgetMs }));
}

/** ConsistentSnapshotJob's expiry (a state machine task): n snapshots, one run a day, keep the 7 newest runs. */
export async function runJobExpiry(n: number, o: { untagged?: number } = {}): Promise<HandlerRun> {
  const account = new ScaleAccount();
  // snapshots carrying the job's tags but no execution tag (tagged by hand): skipped, never deleted
  for (let i = 0; i < (o.untagged ?? 0); i++) {
    account.addSnapshot(n + i + 1, { volume: 100_000 + i, startTime: new Date(NOW.getTime() - 90 * DAY), tags: tags({}) });
  }
  const perRun = 20;
  const runs = Math.ceil(n / perRun);
  const machine = 'arn:aws:states:us-east-1:123456789012:stateMachine:Job';
  const execution = (r: number) => `arn:aws:states:us-east-1:123456789012:execution:Job:run-${r}`;
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / perRun);
    account.addSnapshot(i + 1, { volume: i % perRun, startTime: new Date(NOW.getTime() - (r + 1) * DAY), tags: tags({ 'backup:execution': execution(r) }) });
  }
  const current = 'arn:aws:states:us-east-1:123456789012:execution:Job:current';
  const executions: RecordedExecution[] = [
    { arn: current, status: 'RUNNING', start: NOW },
    ...Array.from({ length: runs }, (_, r) => ({ arn: execution(r), status: 'SUCCEEDED', start: new Date(NOW.getTime() - (r + 1) * DAY) })),
  ];
  const config: JobExpiryConfig = {
    resourceType: 'snapshot',
    purposeKey: 'backup:purpose',
    purpose: PURPOSE,
    managedByKey: 'backup:managed-by',
    managedBy: 'Stack/Job',
    executionKey: 'backup:execution',
    retainCount: 7,
    dryRun: false,
    maxDeletions: 500,
  } as any;
  return timed('job expiry', n, account, true, (ec2) => expireJob(ec2, config, { executionId: current }, NOW, async (m) => {
    if (m !== machine) {
      throw new Error(`history of ${m}`);
    }
    return executions;
  }));
}

/** PreChangeSnapshot's expiry (scheduled): half of n snapshots past their 7-day retention. */
export async function runPreChangeExpiry(n: number, o: { budgetMs?: number } = {}): Promise<HandlerRun> {
  const account = new ScaleAccount();
  for (let i = 0; i < n; i++) {
    account.addSnapshot(i + 1, { volume: i, startTime: new Date(NOW.getTime() - (i % 2 === 0 ? 30 : 1) * DAY), tags: tags({ 'backup:retention': 'age:7d' }) });
  }
  return timed('pre-change expiry', n, account, false, (ec2, elapsedMs) => expirePreChange(ec2, {
    purposeKey: 'backup:purpose',
    purpose: PURPOSE,
    managedByKey: 'backup:managed-by',
    managedBy: 'Stack/Job',
    retentionKey: 'backup:retention',
    minRetentionDays: 1,
  }, NOW, { elapsedMs, budgetMs: o.budgetMs }));
}
