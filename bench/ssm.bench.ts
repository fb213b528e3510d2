/**
 * The I/O pause of the Linux quiesce script (freeze to thaw) against the latency of the API call
 * it waits for, at 1, 4 and 16 mounted volumes, in one run: loop-mounted ext4/xfs file systems,
 * the real AWS CLI, a local stub of EC2 and IMDSv2 answering CreateSnapshots after a fixed latency.
 *
 * Side by side (compare()): a whole script run against a bare `aws ec2 create-snapshots` call,
 * interleaved. The pause figures come from the script's own `thawed` / `snapshots` events.
 * Needs root; returns { skipped } otherwise.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { compare, median } from './measure';
import { DEBIAN_AWS_CLI, LoopMounts, canRunFileSystemTests, SCRIPT } from '../test/ssm/fsfreeze-harness';

const STUB_LATENCY_MS = 400;
const VOLUME_COUNTS = [1, 4, 16];
const ROUNDS = 9;

export async function run(): Promise<object> {
  const capable = canRunFileSystemTests();
  if (!capable.ok) {
    console.log(`ssm bench skipped: ${capable.why}`);
    return { skipped: capable.why };
  }
  const stub = await startStubProcess(STUB_LATENCY_MS);
  const mounts = new LoopMounts('fsfreeze-bench-');
  try {
    for (let i = 0; i < Math.max(...VOLUME_COUNTS); i++) {
      mounts.add(i % 2 === 0 ? 'ext4' : 'xfs');
    }
    const env = {
      // Debian's awscli when installed, as in the tests
      PATH: fs.existsSync(DEBIAN_AWS_CLI) ? `${path.dirname(DEBIAN_AWS_CLI)}:${process.env.PATH}` : process.env.PATH,
      HOME: process.env.HOME ?? '/root',
      LANG: 'C',
      FSFREEZE_IMDS_ENDPOINT: stub.url,
      FSFREEZE_EC2_ENDPOINT: stub.url,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_MAX_ATTEMPTS: '1',
      FSFREEZE_WATCHDOG_SECONDS: '30',
      FSFREEZE_API_TIMEOUT_SECONDS: '20',
      FSFREEZE_LOCK_FILE: path.join(mounts.dir, 'bench.lock'),
      FSFREEZE_TAG_SPECIFICATIONS: JSON.stringify([{ ResourceType: 'snapshot', Tags: [{ Key: 'backup:purpose', Value: 'bench' }] }]),
    };
    const bareCli = {
      ...env, AWS_ACCESS_KEY_ID: 'ASIASTUB', AWS_SECRET_ACCESS_KEY: 'stub', AWS_DEFAULT_REGION: 'us-east-1',
    };

    const results: Record<string, object> = {};
    for (const n of VOLUME_COUNTS) {
      const frozenMs: number[] = [];
      const apiMs: number[] = [];
      const freezeThawMs: number[] = [];
      const comparison = compare(
        {
          name: `script, ${n} volume(s)`,
          fn: () => {
            const r = spawnSync('bash', [SCRIPT], { env: { ...env, FSFREEZE_MOUNT_POINTS: mounts.mountPoints.slice(0, n).join(' ') }, encoding: 'utf8' });
            const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
            const thawed = events.find((e) => e.event === 'thawed');
            const snapshots = events.find((e) => e.event === 'snapshots');
            if (r.status !== 0 || !thawed || !snapshots) {
              throw new Error(`script failed (${r.status}): ${r.stdout}\n${r.stderr}`);
            }
            frozenMs.push(thawed.frozenMs);
            apiMs.push(snapshots.apiMs);
            freezeThawMs.push(thawed.freezeMs + thawed.thawMs);
          },
        },
        {
          name: 'bare CLI call',
          fn: () => {
            const r = spawnSync('aws', ['ec2', 'create-snapshots', '--instance-specification', 'InstanceId=i-0123456789abcdef0', '--output', 'json',
              '--endpoint-url', stub.url], { env: bareCli });
            if (r.status !== 0) {
              throw new Error(`bare CLI call failed: ${r.stderr}`);
            }
          },
        },
        ROUNDS,
      );
      // compare() runs each side once to warm up: drop that run from the pause figures
      frozenMs.shift();
      apiMs.shift();
      freezeThawMs.shift();
      results[`${n}`] = {
        volumes: n,
        pauseMs: median(frozenMs),
        callInsidePauseMs: median(apiMs),
        freezePlusThawMs: median(freezeThawMs),
        stubLatencyMs: STUB_LATENCY_MS,
        pauseOverStubLatency: round(median(frozenMs) / STUB_LATENCY_MS),
        pauseOverheadMs: median(frozenMs) - STUB_LATENCY_MS,
        scriptRunOverBareCliCall: round(comparison.ratio),
        wholeRunMs: comparison.medianMs,
        samples: { frozenMs, apiMs, freezeThawMs },
      };
    }
    const p1 = (results['1'] as any).pauseMs;
    const p16 = (results['16'] as any).pauseMs;
    const summary = {
      stubLatencyMs: STUB_LATENCY_MS,
      rounds: ROUNDS,
      byVolumes: results,
      pause16Over1: round(p16 / p1),
      // the part of the pause that depends on the number of volumes (the CLI call does not)
      freezeThaw16Over1: round((results['16'] as any).freezePlusThawMs / (results['1'] as any).freezePlusThawMs),
      freezeThawGrowthOverPause1: round(((results['16'] as any).freezePlusThawMs - (results['1'] as any).freezePlusThawMs) / p1),
      flatWithin10Percent: Math.abs(p16 / p1 - 1) <= 0.1,
    };
    console.log(`stub latency ${STUB_LATENCY_MS} ms, ${ROUNDS} rounds each`);
    for (const n of VOLUME_COUNTS) {
      const r = results[`${n}`] as any;
      console.log(`${String(n).padStart(2)} volume(s): pause ${r.pauseMs} ms = ${r.pauseOverStubLatency}x the stub latency ` +
        `(+${r.pauseOverheadMs} ms: CLI call inside the pause ${r.callInsidePauseMs} ms, freeze+thaw ${r.freezePlusThawMs} ms); whole run ${r.scriptRunOverBareCliCall}x a bare CLI call`);
    }
    console.log(`pause at 16 volumes / pause at 1 volume: ${summary.pause16Over1} (flat within 10%: ${summary.flatWithin10Percent}); ` +
      `freeze+thaw grew by ${Math.round(summary.freezeThawGrowthOverPause1 * 100)}% of the 1-volume pause`);
    return summary;
  } finally {
    mounts.cleanup();
    stub.child.kill();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function startStubProcess(latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  // a separate process: the benchmark runs the script synchronously, which would block an in-process stub
  const harness = path.join(__dirname, '..', 'test', 'ssm', 'fsfreeze-harness.ts');
  const main = `require('ts-node').register({ transpileOnly: true });
    require(${JSON.stringify(harness)}).startStubEc2().then((stub) => {
      stub.behaviour = { kind: 'succeed', latencyMs: ${latencyMs} };
      stub.volumes = Array.from({ length: 16 }, (_, i) => 'vol-0' + String(i).padStart(16, '0'));
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
