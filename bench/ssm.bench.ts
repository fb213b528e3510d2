/**
 * The I/O pause of the Linux quiesce script (freeze to thaw) against the latency of the API call
 * it waits for, at 1, 4 and 16 mounted volumes, in one run: loop-mounted ext4/xfs file systems,
 * the real AWS CLI, a local stub of EC2 and IMDSv2 answering CreateSnapshots after a fixed latency.
 *
 * Every path of the script: `curl --aws-sigv4` (what runs where the instance's curl signs) and the
 * AWS CLI fallback, each with the ioctl freeze helper (python3) and with its fallback, one
 * `fsfreeze` process per mount. Side by side (compare()), interleaved: the script as shipped
 * (expedited RCU grace periods for the freezes: /sys/kernel/rcu_expedited, the kernel's own
 * setting, 1 during the freezes) against the same script with them turned off
 * (FSFREEZE_EXPEDITE_GRACE_PERIODS=false, `expediteFreeze: false`). The pause figures come from
 * the script's own `thawed` / `snapshots` events, and from an application's writes; the bound is
 * pause <= 1.10x the stub's latency (issue 18). Where the helper
 * sends the request (curl+ioctl), `thawed` is the helper's clock, first FIFREEZE issued to last
 * FITHAW returned, with its parts; on the other paths it is the script's, which also counts its
 * hand-offs to the freezer and the client.
 * Needs root; returns { skipped } otherwise.
 *
 * BENCH_SSM_PATHS=curl+ioctl,… runs only those paths; BENCH_SSM_ROUNDS=n, n rounds each. BENCH_SSM_BASELINE=<another copy of the
 * script> (e.g. main's) puts that script on the other side instead; BENCH_SSM_BASELINE=bare, a bare
 * call of the same client (the client's own cost): both sides interleaved under the same load.
 * The machine's rcu_expedited is checked before and after: the bench fails if a run left it changed.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { compare, median } from './measure';
import { DEBIAN_AWS_CLI, LoopMounts, STUB_CREDENTIALS, canRunFileSystemTests, SCRIPT } from '../test/ssm/fsfreeze-harness';

const STUB_LATENCY_MS = 400;
const VOLUME_COUNTS = [1, 4, 16];
/** The acceptance bound of issue 18: the pause may exceed the API latency by 10 % at most. */
const MAX_PAUSE_OVER_LATENCY = 1.1;
/** Every request path × freezer the script can take: the ioctl helper (python3) and its fsfreeze-process fallback. */
const PATHS: Array<{ client: 'curl' | 'cli'; freezer: 'ioctl' | 'fsfreeze'; rounds: number }> = [
  { client: 'curl', freezer: 'ioctl', rounds: 9 },
  { client: 'curl', freezer: 'fsfreeze', rounds: 9 },
  { client: 'cli', freezer: 'ioctl', rounds: 3 },
  { client: 'cli', freezer: 'fsfreeze', rounds: 3 },
];

const ONLY = process.env.BENCH_SSM_PATHS?.split(',');
/** More rounds per volume count than the path's default, for a steadier median on a busy machine. */
const ROUNDS = process.env.BENCH_SSM_ROUNDS ? Number(process.env.BENCH_SSM_ROUNDS) : undefined;
/** The other side: a script file, `bare` (a bare client call), or (unset) this script with expedited grace periods off. */
const BASELINE = process.env.BENCH_SSM_BASELINE;
const BARE = BASELINE === 'bare';
const RCU_EXPEDITED = '/sys/kernel/rcu_expedited';

export async function run(): Promise<object> {
  const capable = canRunFileSystemTests();
  if (!capable.ok) {
    console.log(`ssm bench skipped: ${capable.why}`);
    return { skipped: capable.why };
  }
  console.log(`load average at the start: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const rcuBefore = fs.existsSync(RCU_EXPEDITED) ? fs.readFileSync(RCU_EXPEDITED, 'utf8').trim() : 'absent';
  console.log(`${RCU_EXPEDITED} at the start: ${rcuBefore}`);
  const mounts = new LoopMounts('fsfreeze-bench-');
  let stub: { url: string; child: ChildProcess } | undefined;
  try {
    for (let i = 0; i < Math.max(...VOLUME_COUNTS); i++) {
      mounts.add(i % 2 === 0 ? 'ext4' : 'xfs');
    }
    stub = await startStubProcess(STUB_LATENCY_MS, mounts.volumeIds);
    const env = {
      // Debian's awscli when installed, as in the tests
      PATH: fs.existsSync(DEBIAN_AWS_CLI) ? `${path.dirname(DEBIAN_AWS_CLI)}:${process.env.PATH}` : process.env.PATH,
      HOME: process.env.HOME ?? '/root',
      LANG: 'C',
      FSFREEZE_IMDS_ENDPOINT: stub.url,
      FSFREEZE_EC2_ENDPOINT: stub.url,
      FSFREEZE_EBS_BY_ID_DIR: mounts.byIdDir,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      FSFREEZE_WATCHDOG_SECONDS: '30',
      FSFREEZE_API_TIMEOUT_SECONDS: '20',
      FSFREEZE_LOCK_FILE: path.join(mounts.dir, 'bench.lock'),
      FSFREEZE_TAG_SPECIFICATIONS: JSON.stringify([{ ResourceType: 'snapshot', Tags: [{ Key: 'backup:purpose', Value: 'bench' }] }]),
    };
    const creds = {
      AWS_ACCESS_KEY_ID: STUB_CREDENTIALS.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: STUB_CREDENTIALS.SecretAccessKey,
      AWS_SESSION_TOKEN: STUB_CREDENTIALS.Token,
    };
    const body = 'Action=CreateSnapshots&Version=2016-11-15&InstanceSpecification.InstanceId=i-0123456789abcdef0&InstanceSpecification.ExcludeBootVolume=true';
    // the same request outside any script: the client's own cost, side by side with a script run
    const bare: Record<string, () => ReturnType<typeof spawnSync>> = {
      curl: () => spawnSync('curl', ['-sS', '-f', '--aws-sigv4', 'aws:amz:us-east-1:ec2', '--user', `${creds.AWS_ACCESS_KEY_ID}:${creds.AWS_SECRET_ACCESS_KEY}`,
        '-H', `X-Amz-Security-Token: ${creds.AWS_SESSION_TOKEN}`, '-H', 'Content-Type: application/x-www-form-urlencoded; charset=utf-8',
        '--data-binary', body, `${stub!.url}/`], { env }),
      cli: () => spawnSync('aws', ['ec2', 'create-snapshots', '--instance-specification', 'InstanceId=i-0123456789abcdef0,ExcludeBootVolume=true', '--output', 'json',
        '--endpoint-url', stub!.url], { env: { ...env, ...creds, AWS_DEFAULT_REGION: 'us-east-1' } }),
    };

    const results: Record<string, Record<string, any>> = {};
    const paths = PATHS.filter((p) => !ONLY || ONLY.includes(`${p.client}+${p.freezer}`)).map((p) => ({ ...p, rounds: ROUNDS ?? p.rounds }));
    for (const { client, freezer, rounds } of paths) {
      const key = `${client}+${freezer}`;
      results[key] = {};
      for (const n of VOLUME_COUNTS) {
        const runs = { script: new ScriptRuns(), baseline: new ScriptRuns() };
        // an application writing to every mount the script freezes, through both sides' runs
        const probe = new WriteProbe(mounts.dir, mounts.mountPoints.slice(0, n));
        // which side froze, in order: the probe's blocked writes are paired with the runs by it
        const order: Array<'script' | 'baseline'> = [];
        const runScript = (script: string, side: 'script' | 'baseline', extra: Record<string, string> = {}) => () => {
          order.push(side);
          const r = spawnSync('bash', [script], {
            env: { ...env, FSFREEZE_API_CLIENT: client, FSFREEZE_FREEZER: freezer, FSFREEZE_MOUNT_POINTS: mounts.mountPoints.slice(0, n).join(' '), ...extra }, encoding: 'utf8',
          });
          runs[side].add(r.status, r.stdout, client, freezer, n);
        };
        const bareCall = {
          name: `bare ${client} call`,
          fn: () => {
            const r = bare[client]();
            if (r.status !== 0) {
              throw new Error(`bare ${client} call failed: ${r.stderr}`);
            }
          },
        };
        const other = !BASELINE
          ? { name: 'script, expedited grace periods off', fn: runScript(SCRIPT, 'baseline', { FSFREEZE_EXPEDITE_GRACE_PERIODS: 'false' }) }
          : BARE ? bareCall : { name: 'baseline script', fn: runScript(BASELINE, 'baseline') };
        const comparison = compare({ name: `script, ${n} volume(s)`, fn: runScript(SCRIPT, 'script') }, other, rounds);
        const stalls = probe.stop();
        const { frozenMs, apiMs, freezeThawMs, failures, breakdown, expedited } = runs.script.measured();
        const pauseMs = median(frozenMs);
        const baseline = BARE ? undefined : runs.baseline.measured();
        // the pause as the application saw it: per script run (each side's warm-up dropped, as in
        // measured()), its longest blocked write over the frozen mounts; paired only when every run
        // succeeded and each froze once
        const paired = failures.length === 0 && (!baseline || baseline.failures.length === 0) && stalls.length === order.length;
        const writesOf = (side: 'script' | 'baseline') => (paired ? stalls.filter((_, i) => order[i] === side).slice(1) : undefined);
        const writePauseMs = writesOf('script');
        const baselineWritePauseMs = baseline ? writesOf('baseline') : undefined;
        results[key][`${n}`] = {
          volumes: n,
          client,
          freezer,
          pauseMs,
          callInsidePauseMs: median(apiMs),
          freezePlusThawMs: median(freezeThawMs),
          stubLatencyMs: STUB_LATENCY_MS,
          pauseOverStubLatency: round(pauseMs / STUB_LATENCY_MS),
          withinBound: pauseMs / STUB_LATENCY_MS <= MAX_PAUSE_OVER_LATENCY,
          pauseOverheadMs: pauseMs - STUB_LATENCY_MS,
          writePauseMs: writePauseMs && round(median(writePauseMs)),
          writePauseOverStubLatency: writePauseMs && round(median(writePauseMs) / STUB_LATENCY_MS),
          writeProbe: writePauseMs ? undefined : `not paired: ${stalls.length} blocked writes for ${order.length} runs, ${failures.length} failed`,
          expeditedGracePeriods: expedited,
          [BARE ? 'scriptRunOverBareCall' : 'scriptRunOverBaselineRun']: round(comparison.ratio),
          wholeRunMs: comparison.medianMs,
          failures,
          // where the pause goes, from the helper's own clock (when it sends the request): freeze issued to
          // the last FIFREEZE returned, to the request sent, to the answer's status line, to the last FITHAW returned
          breakdownUs: breakdown,
          samples: { frozenMs, apiMs, freezeThawMs, writePauseMs },
          baseline: baseline && {
            name: BASELINE ?? 'expedited grace periods off',
            pauseMs: median(baseline.frozenMs),
            pauseOverStubLatency: round(median(baseline.frozenMs) / STUB_LATENCY_MS),
            writePauseMs: baselineWritePauseMs && round(median(baselineWritePauseMs)),
            writePauseOverStubLatency: baselineWritePauseMs && round(median(baselineWritePauseMs) / STUB_LATENCY_MS),
            expeditedGracePeriods: baseline.expedited,
            breakdownUs: baseline.breakdown,
            failures: baseline.failures,
            samples: { frozenMs: baseline.frozenMs, writePauseMs: baselineWritePauseMs },
          },
        };
      }
    }
    console.log(`stub latency ${STUB_LATENCY_MS} ms; bound: pause <= ${MAX_PAUSE_OVER_LATENCY}x the latency`);
    const baselineName = !BASELINE ? 'expedited grace periods off' : BARE ? 'bare call' : 'baseline script';
    for (const { client, freezer, rounds } of paths) {
      for (const n of VOLUME_COUNTS) {
        const r = results[`${client}+${freezer}`][`${n}`];
        const b = r.breakdownUs;
        const bb = r.baseline?.breakdownUs;
        console.log(`${`${client}+${freezer}`.padEnd(13)} ${String(n).padStart(2)} volume(s), ${rounds} rounds, expedited grace periods: ${r.expeditedGracePeriods}: ` +
          `pause ${r.pauseMs} ms = ${r.pauseOverStubLatency}x the stub latency ` +
          `(${r.withinBound ? 'within' : 'OVER'} the bound; +${r.pauseOverheadMs} ms: call inside the pause ${r.callInsidePauseMs} ms, freeze+thaw ${r.freezePlusThawMs} ms` +
          (b ? `; median µs: freeze ${b.freezeUs}, to the request ${b.requestAfterFreezeUs}, call ${b.callUs}, thaw ${b.thawUs}` : '') + '); ' +
          (r.writePauseMs !== undefined ? `an application's longest blocked write ${r.writePauseMs} ms = ${r.writePauseOverStubLatency}x; ` : `${r.writeProbe ?? ''}; `) +
          (r.baseline ? `${baselineName} (expedited: ${r.baseline.expeditedGracePeriods}): pause ${r.baseline.pauseMs} ms = ${r.baseline.pauseOverStubLatency}x` +
            (bb ? ` (freeze ${bb.freezeUs} µs)` : '') +
            (r.baseline.writePauseMs !== undefined ? `, longest blocked write ${r.baseline.writePauseMs} ms = ${r.baseline.writePauseOverStubLatency}x` : '') +
            `; whole run ${r.scriptRunOverBaselineRun}x the other side's`
            : `whole run ${r.scriptRunOverBareCall}x a bare ${client} call`) +
          (r.failures.length ? `; ${r.failures.length} failed run(s): ${r.failures[0]}` : '') +
          (r.baseline?.failures.length ? `; ${baselineName}: ${r.baseline.failures.length} failed run(s): ${r.baseline.failures[0]}` : ''));
      }
    }
    // the table the issue asks for: one row per path and side, the ratio per volume count side by side
    const cell = (x: { overLatency?: number; ms?: number }) => (x.ms === undefined ? 'not paired' : `${x.overLatency}x (${x.ms} ms)`);
    console.log(`| path | ${VOLUME_COUNTS.map((n) => `${n} volume(s)`).join(' | ')} |`);
    console.log(`|---|${VOLUME_COUNTS.map(() => '---').join('|')}|`);
    for (const key of Object.keys(results)) {
      const row = (label: string, pick: (r: Record<string, any>) => { overLatency?: number; ms?: number }) =>
        console.log(`| ${key}, ${label} | ${VOLUME_COUNTS.map((n) => cell(pick(results[key][`${n}`]))).join(' | ')} |`);
      const side = BASELINE ? '' : ', expedited';
      row(`FIFREEZE issued to last FITHAW returned${side}`, (r) => ({ overLatency: r.pauseOverStubLatency, ms: r.pauseMs }));
      row(`an application's longest blocked write${side}`, (r) => ({ overLatency: r.writePauseOverStubLatency, ms: r.writePauseMs }));
      if (!BARE) {
        row(`FIFREEZE issued to last FITHAW returned, ${baselineName}`, (r) => ({ overLatency: r.baseline.pauseOverStubLatency, ms: r.baseline.pauseMs }));
        row(`an application's longest blocked write, ${baselineName}`, (r) => ({ overLatency: r.baseline.writePauseOverStubLatency, ms: r.baseline.writePauseMs }));
      }
    }
    const rcuAfter = fs.existsSync(RCU_EXPEDITED) ? fs.readFileSync(RCU_EXPEDITED, 'utf8').trim() : 'absent';
    console.log(`${RCU_EXPEDITED} at the end: ${rcuAfter}`);
    if (rcuAfter !== rcuBefore) {
      throw new Error(`${RCU_EXPEDITED} was ${rcuBefore} before the bench and is ${rcuAfter} after it: a run did not put it back`);
    }
    console.log(`load average at the end: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    return { stubLatencyMs: STUB_LATENCY_MS, maxPauseOverLatency: MAX_PAUSE_OVER_LATENCY, byPath: results };
  } finally {
    mounts.cleanup();
    stub?.child.kill();
  }
}

/**
 * An application writing to each of the given mounts: one thread per mount appends 64 bytes, then
 * sleeps 1 ms, over and over. A write that blocks longer than half the stub's latency can only be
 * one held by a freeze (every freeze lasts at least the latency); stop() returns, per freeze in
 * order, the longest such write over the mounts (ms): the I/O pause the application felt, from
 * its first blocked write (issued at most about 1 ms after writes stopped passing) to the thaw.
 */
class WriteProbe {
  private readonly stopFile: string;
  private readonly outFile: string;
  private readonly child: ChildProcess;

  constructor(dir: string, private readonly mountPoints: string[]) {
    this.stopFile = path.join(dir, `probe-${process.pid}-${mountPoints.length}.stop`);
    this.outFile = path.join(dir, `probe-${process.pid}-${mountPoints.length}.json`);
    const code = [
      'import json, os, sys, threading, time',
      'stop, out, threshold, mounts = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]',
      'stalls = {}',
      'def write(m):',
      '    f = os.open(os.path.join(m, ".bench-write-probe"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)',
      '    mine = stalls[m] = []',
      '    n = 0',
      '    while not os.path.exists(stop):',
      '        t = time.monotonic()',
      '        os.pwrite(f, b"p" * 64, (n % 1024) * 64)',
      '        d = (time.monotonic() - t) * 1000',
      '        if d > threshold: mine.append(d)',
      '        n += 1',
      '        time.sleep(0.001)',
      '    os.close(f)',
      'threads = [threading.Thread(target=write, args=(m,)) for m in mounts]',
      'for t in threads: t.start()',
      'open(out + ".ready", "w").close()',
      'for t in threads: t.join()',
      'json.dump(stalls, open(out + ".tmp", "w")); os.rename(out + ".tmp", out)',
    ].join('\n');
    this.child = spawn('python3', ['-c', code, this.stopFile, this.outFile, String(STUB_LATENCY_MS / 2), ...mountPoints], { stdio: 'ignore' });
    waitFor(`${this.outFile}.ready`, 10_000);
  }

  public stop(): number[] {
    fs.writeFileSync(this.stopFile, '');
    waitFor(this.outFile, 10_000);
    const stalls: Record<string, number[]> = JSON.parse(fs.readFileSync(this.outFile, 'utf8'));
    for (const f of [this.stopFile, this.outFile, `${this.outFile}.ready`]) {
      fs.rmSync(f, { force: true });
    }
    this.child.kill();
    const perMount = this.mountPoints.map((m) => stalls[m] ?? []);
    if (perMount.some((x) => x.length !== perMount[0].length)) {
      // a mount that saw a freeze fewer or more times than another: the freezes cannot be paired
      return [];
    }
    return perMount[0].map((_, i) => Math.max(...perMount.map((x) => x[i])));
  }
}

/** Waits (blocking: the runs around it are synchronous) until `file` exists, or throws after `ms`. */
function waitFor(file: string, ms: number): void {
  const until = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > until) {
      throw new Error(`the write probe did not write ${file} within ${ms} ms`);
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/** The pause figures of one script's runs, from its `thawed` and `snapshots` events. */
class ScriptRuns {
  private readonly frozenMs: number[] = [];
  private readonly apiMs: number[] = [];
  private readonly freezeThawMs: number[] = [];
  private readonly parts: Record<string, number[]> = {};
  /** A run that fails (on a loaded machine the CLI can exceed the API timeout) is counted, not measured. */
  private readonly failures: string[] = [];
  private warm = false;
  /** Whether the runs' freezes had expedited grace periods (their `thawed` events). */
  private readonly expedited = new Set<string>();

  public add(status: number | null, stdout: string, client: string, freezer: string, volumes: number): void {
    const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const thawed = events.find((e) => e.event === 'thawed');
    const snapshots = events.find((e) => e.event === 'snapshots');
    const ranAsAsked = snapshots?.client === client && snapshots?.freezer === freezer;
    if (status !== 0 || !thawed || !snapshots || !ranAsAsked || snapshots.snapshotIds.length !== volumes) {
      this.failures.push(events.find((e) => e.event === 'error')?.message ?? `exit ${status}`);
      return;
    }
    // compare() runs each side once to warm up: that run is not measured
    if (!this.warm) {
      this.warm = true;
      return;
    }
    this.expedited.add(String(thawed.expedited));
    this.frozenMs.push(thawed.frozenMs);
    this.apiMs.push(snapshots.apiMs);
    this.freezeThawMs.push(thawed.freezeMs + thawed.thawMs);
    for (const part of ['freezeUs', 'requestAfterFreezeUs', 'callUs', 'thawUs']) {
      if (typeof thawed[part] === 'number') {
        (this.parts[part] ??= []).push(thawed[part]);
      }
    }
  }

  public measured() {
    const breakdown = Object.keys(this.parts).length
      ? Object.fromEntries(Object.entries(this.parts).map(([k, v]) => [k, median(v)]))
      : undefined;
    const expedited = this.expedited.size === 1 ? [...this.expedited][0] : this.expedited.size ? 'mixed' : 'unknown';
    return { frozenMs: this.frozenMs, apiMs: this.apiMs, freezeThawMs: this.freezeThawMs, failures: this.failures, breakdown, expedited };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function startStubProcess(latencyMs: number, volumeIds: string[]): Promise<{ url: string; child: ChildProcess }> {
  // a separate process: the benchmark runs the script synchronously, which would block an in-process stub
  const harness = path.join(__dirname, '..', 'test', 'ssm', 'fsfreeze-harness.ts');
  const main = `require('ts-node').register({ transpileOnly: true });
    require(${JSON.stringify(harness)}).startStubEc2().then((stub) => {
      stub.behaviour = { kind: 'succeed', latencyMs: ${latencyMs} };
      stub.volumes = ${JSON.stringify(volumeIds)};
      process.stdout.write(stub.url + '\\n');
    });`;
  const child = spawn(process.execPath, ['-e', main], { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        resolve(out.trim());
      }
    });
    child.on('exit', (code) => reject(new Error(`stub exited with ${code}`)));
  });
  return { url, child };
}
