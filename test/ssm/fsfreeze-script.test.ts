/**
 * The Linux quiesce script, for real: root, loop-mounted ext4 and xfs file systems, the real AWS
 * CLI pointed at a local stub of the EC2 API and IMDSv2 (see fsfreeze-harness.ts).
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import {
  DEBIAN_AWS_CLI, childrenOf, INSTANCE_ID, LoopMounts, StubEc2, canRunFileSystemTests, installShims, isFrozen, resetStub, scriptEnv, sleep,
  startScript, startStubEc2, startWrite,
} from './fsfreeze-harness';
import { FsfreezeMaintenanceWindow, MaintenanceTargets } from '../../src';

const capable = canRunFileSystemTests();
// On CI (.ci/run installs the tools and runs as root) these tests are mandatory: never skipped.
const describeFs = capable.ok || process.env.CI ? describe : describe.skip;
test('the machine can run the real file-system tests (mandatory on CI)', () => {
  if (process.env.CI) {
    expect(capable).toEqual({ ok: true });
    // the real AWS CLI the script runs against the stub is Debian's awscli package
    expect(fs.existsSync(DEBIAN_AWS_CLI)).toBe(true);
  } else {
    expect(typeof capable.ok).toBe('boolean');
  }
});
if (!capable.ok) {
  // eslint-disable-next-line no-console
  console.warn(`skipping the real file-system tests of the fsfreeze script: ${capable.why}`);
}

describeFs('ssm-fsfreeze-snapshot.sh on real ext4 and xfs file systems', () => {
  // Real processes, real file systems and Debian's awscli on a 2-core CI machine running another
  // jest worker beside them: a test that fails is run once more, and its first failure is printed
  // in the log. A broken script fails both times. (The CLI retry case failed in CI with exit 124:
  // the job starting the CLI, slow on a loaded machine, was taken for the ready client; see the
  // slow-start case below, which makes that window wide.)
  jest.retryTimes(1, { logErrorsBeforeRetry: true });
  let mounts: LoopMounts;
  let stub: StubEc2;
  let ext4: string;
  let xfs: string;
  /** An EBS-backed mount the runs do not list: its volume must be excluded. */
  let other: string;
  /** A mount that is not on an EBS volume of the instance. */
  let stray: string;
  let lockFile: string;
  let shims: string;
  const env = (list: string[], extra: Record<string, string> = {}) => scriptEnv(stub, list, lockFile, mounts.byIdDir, extra);
  const real = () => stub.calls.filter((c) => !c.dryRun);
  const volumeOf = (m: string) => mounts.volumeIds[mounts.mountPoints.indexOf(m)];
  /** The exit code with the run's last events and stderr, so that a failure prints why in CI's log. */
  const outcome = (r: { code: number | null; elapsedMs: number; events: Array<Record<string, unknown>>; stderr: string }) =>
    `exit ${r.code} after ${Math.round(r.elapsedMs)} ms; events ${JSON.stringify(r.events.slice(-4))}; stderr ${r.stderr.slice(-600)}`;
  /** A run of ext4 and xfs against an endpoint that hangs, once its CreateSnapshots is in flight (both mounts frozen). */
  const startHungRun = async (extra: Record<string, string> = {}) => {
    stub.behaviour = { kind: 'hang' };
    const called = new Promise<void>((resolve) => {
      stub.onCreate = async () => resolve();
    });
    const run = startScript(env([ext4, xfs], extra));
    await called;
    return run;
  };

  beforeAll(async () => {
    mounts = new LoopMounts();
    ext4 = mounts.add('ext4');
    xfs = mounts.add('xfs');
    other = mounts.add('ext4');
    stray = mounts.add('ext4', false);
    lockFile = path.join(mounts.dir, 'fsfreeze.lock');
    shims = installShims(mounts.dir);
    stub = await startStubEc2();
  });

  afterAll(async () => {
    await stub?.close();
    mounts?.cleanup();
  });

  beforeEach(() => {
    // the instance's data volumes: every one has its by-id name (the stray mount is not on one of them)
    resetStub(stub, [volumeOf(ext4), volumeOf(xfs), volumeOf(other)]);
  });

  afterEach(async () => {
    // no test may leave a frozen file system behind, whatever happened
    for (const m of [ext4, xfs, other]) {
      expect(await isFrozen(m, 2000)).toBe(false);
    }
  });

  test.each(['curl', 'cli'])('with %s: writes block while frozen, resume after the thaw, and one CreateSnapshots takes exactly the frozen volumes', async (client) => {
    // GIVEN a stub that answers after 700 ms and probes the mounts while the call is pending
    stub.behaviour = { kind: 'succeed', latencyMs: 700 };
    const blockedWrites: Array<ReturnType<typeof startWrite>> = [];
    const frozenDuringCall: boolean[] = [];
    stub.onCreate = async () => {
      for (const m of [ext4, xfs]) {
        const w = startWrite(m);
        blockedWrites.push(w);
      }
      await sleep(300);
      frozenDuringCall.push(...blockedWrites.map((w) => !w.finished()));
    };

    // WHEN (bounds with headroom: Debian's awscli is a Python program, and on a loaded 2-core CI
    // machine its start and its answer parsing alone have taken more than the harness's 4 s)
    const result = await startScript(env([ext4, xfs], {
      FSFREEZE_API_CLIENT: client,
      FSFREEZE_SOURCE_INSTANCE_TAG_KEY: 'backup:source-instance',
      FSFREEZE_WATCHDOG_SECONDS: '40',
      FSFREEZE_API_TIMEOUT_SECONDS: '30',
    })).done;

    // THEN the run succeeded, writes were held during the call and completed after it
    expect(result.code).toBe(0);
    expect(frozenDuringCall).toEqual([true, true]);
    const writeMs = await Promise.all(blockedWrites.map((w) => w.done));
    for (const ms of writeMs) {
      expect(ms).toBeGreaterThanOrEqual(300);
    }

    // one real call (besides the dry run, made before any freeze) that snapshots the two frozen
    // volumes only: not the root volume, not the unlisted mount's volume, not the non-mounted one
    expect(real()).toHaveLength(1);
    expect(stub.calls[0].dryRun).toBe(true);
    expect(real()[0].volumeIds.sort()).toEqual([volumeOf(ext4), volumeOf(xfs)].sort());
    expect(real()[0].params).toMatchObject({
      'InstanceSpecification.InstanceId': INSTANCE_ID,
      'InstanceSpecification.ExcludeBootVolume': 'true',
      'CopyTagsFromSource': 'volume',
    });
    expect(real()[0].tags).toMatchObject({ 'backup:purpose': 'linux-app-consistent', 'AppConsistent': 'true' });
    expect(result.events.find((e) => e.event === 'dry-run')?.client).toBe(client);
    // curl signs the request before the pause and the freeze helper sends it; the CLI sends its own
    expect(result.events.find((e) => e.event === 'snapshots')?.requestBy).toBe(client === 'curl' ? 'helper' : 'client');
    // the source instance is recorded at creation, as a tag and (for drills in other accounts, which see no tags) in the description
    expect(real()[0].tags['backup:source-instance']).toBe(INSTANCE_ID);
    expect(real()[0].params.Description).toMatch(new RegExp(` of ${INSTANCE_ID}$`));

    // the pause is measured and reported, and covers the call's latency
    const thawed = result.events.find((e) => e.event === 'thawed')!;
    const snapshots = result.events.find((e) => e.event === 'snapshots')!;
    expect(thawed.mounts).toBe(2);
    expect(thawed.frozenMs).toBeGreaterThanOrEqual(snapshots.apiMs);
    expect(snapshots.apiMs).toBeGreaterThanOrEqual(700);
    expect(snapshots.snapshotIds).toHaveLength(2);
  });

  test('a root volume asked for is snapshotted after the thaw and labelled crash-consistent', async () => {
    const frozenAtCall: boolean[] = [];
    stub.onCreate = async () => {
      frozenAtCall.push(await isFrozen(ext4));
    };
    const result = await startScript(env([ext4], { FSFREEZE_EXCLUDE_BOOT_VOLUME: 'false' })).done;

    expect(result.code).toBe(0);
    const [consistent, root] = real();
    expect(frozenAtCall).toEqual([true, false]);
    expect(consistent.volumeIds).toEqual([volumeOf(ext4)]);
    expect(consistent.tags.AppConsistent).toBe('true');
    expect(root.volumeIds).toEqual([stub.rootVolume]);
    expect(root.tags).toMatchObject({ 'AppConsistent': 'false', 'RootVolume': 'true', 'backup:purpose': 'linux-app-consistent' });
  });

  test('with no mount points, every EBS-backed file system but the root one is frozen', async () => {
    const result = await startScript(env([])).done;
    expect(result.code).toBe(0);
    expect(result.events.find((e) => e.event === 'identity')).toMatchObject({ mounts: [ext4, xfs, other], excludedVolumes: [] });
    expect(real()[0].volumeIds.sort()).toEqual([volumeOf(ext4), volumeOf(xfs), volumeOf(other)].sort());
  });

  test('with no mount points and no EBS-backed file system, the run fails clearly', async () => {
    const result = await startScript(env([], { FSFREEZE_EBS_BY_ID_DIR: path.join(mounts.dir, 'no-such-dir') })).done;
    expect(result.code).toBe(3);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/no EBS-backed file system besides \/ is mounted/);
    expect(stub.calls).toHaveLength(0);
  });

  test('a failing API call (500 InternalError) is retried only as a new freeze cycle, then fails thawed', async () => {
    stub.behaviour = { kind: 'fail', latencyMs: 100 };
    const frozenAtCall: boolean[] = [];
    stub.onCreate = async () => {
      frozenAtCall.push(await isFrozen(ext4));
    };
    const result = await startScript(env([ext4, xfs], { FSFREEZE_FREEZE_CYCLES: '2' })).done;

    expect(result.code).not.toBe(0);
    expect(real().map((c) => c.status)).toEqual([500, 500]);
    expect(frozenAtCall).toEqual([true, true]);
    expect(result.events.filter((e) => e.event === 'thawed')).toHaveLength(2);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/CreateSnapshots failed \(thawed\): InternalError/);
  });

  test.each(['curl', 'cli'])('with %s and the CLI\'s production retry settings, a throttled call (503 RequestLimitExceeded) is retried only after a thaw', async (client) => {
    // GIVEN EC2 throttles the first call; no AWS_MAX_ATTEMPTS comes from the harness
    stub.queue = [{ kind: 'throttle', latencyMs: 50 }];
    const frozenAtCall: boolean[] = [];
    stub.onCreate = async () => {
      frozenAtCall.push(await isFrozen(ext4));
    };
    // (bounds with headroom for a loaded machine, as above)
    const result = await startScript(env([ext4], { FSFREEZE_API_CLIENT: client, FSFREEZE_WATCHDOG_SECONDS: '40', FSFREEZE_API_TIMEOUT_SECONDS: '30' })).done;

    // THEN one attempt per freeze: throttled, thawed, frozen again, succeeded
    expect(outcome(result)).toMatch(/^exit 0 /);
    expect(real().map((c) => c.status)).toEqual([503, 200]);
    expect(frozenAtCall).toEqual([true, true]);
    expect(result.events.map((e) => e.event).filter((e) => ['thawed', 'retry', 'snapshots'].includes(e))).toEqual(['thawed', 'retry', 'thawed', 'snapshots']);
    expect(result.events.find((e) => e.event === 'retry')).toMatchObject({ code: 'RequestLimitExceeded' });
  });

  test('a CLI that is slow to start is not taken for ready while its starting shell still holds the FIFO', async () => {
    // GIVEN the job that starts the CLI takes 1 s to build its arguments (a loaded machine), holding
    // the shell's read-write end of the FIFO meanwhile: a holder of the FIFO, but not yet the client
    const frozenAtCall: boolean[] = [];
    stub.onCreate = async () => {
      frozenAtCall.push(await isFrozen(ext4));
    };
    const result = await startScript(env([ext4], {
      PATH: `${shims}:${env([]).PATH}`, FSFREEZE_SHIM_SLOW_CAT: '1', FSFREEZE_API_CLIENT: 'cli', FSFREEZE_API_TIMEOUT_SECONDS: '6',
    })).done;

    // THEN the pause waits for the client itself: one call, made while frozen, and the run succeeds
    // (taken for ready, the pause began, the FIFO lost its last writer and the CLI's open() hung to the API timeout)
    expect(outcome(result)).toMatch(/^exit 0 /);
    expect(real().map((c) => c.status)).toEqual([200]);
    expect(frozenAtCall).toEqual([true]);
  });

  test.each(['curl', 'cli'])('with %s, a read timeout is cut off within the bound and never produces a second CreateSnapshots', async (client) => {
    // GIVEN an endpoint that hangs on the first call only (a retry would succeed), a 4 s API timeout and an 8 s watchdog
    stub.queue = [{ kind: 'hang' }];
    let frozenWhileHanging = false;
    stub.onCreate = async () => {
      frozenWhileHanging ||= await isFrozen(xfs);
    };

    const result = await startScript(env([ext4, xfs], { FSFREEZE_API_CLIENT: client })).done;
    await sleep(3000);

    // THEN the script thawed itself at the API timeout, before the watchdog's bound, and nothing followed
    expect(frozenWhileHanging).toBe(true);
    expect(result.code).toBe(124);
    const thawed = result.events.find((e) => e.event === 'thawed')!;
    expect(thawed.frozenMs).toBeGreaterThanOrEqual(3000);
    expect(thawed.frozenMs).toBeLessThan(8000);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/did not answer within 4s/);
    expect(real()).toHaveLength(1);
  });

  test('a killed script is thawed by the watchdog within the bound', async () => {
    // GIVEN a run whose API call hangs
    const run = await startHungRun({ FSFREEZE_API_TIMEOUT_SECONDS: '7' });
    expect(await isFrozen(ext4)).toBe(true);

    // WHEN the script's whole process group is killed (what the agent does on a cancel or timeout)
    const killedAt = Date.now();
    process.kill(-run.child.pid!, 'SIGKILL');
    await run.done;

    // THEN a write issued now blocks until the watchdog thaws, at most 8 s after the freeze
    const write = startWrite(xfs);
    await write.done;
    const thawedAfterKillMs = Date.now() - killedAt;
    expect(thawedAfterKillMs).toBeLessThan(8000);
    expect(await isFrozen(ext4)).toBe(false);
    const watchdogLog = fs.readFileSync(lockFile.replace(/\.lock$/, '.watchdog.log'), 'utf8');
    expect(watchdogLog).toContain('"event":"watchdog-thawed"');
    // the hung call is ended by its own timeout; wait for it so the lock is free for the next test
    await sleep(2500);
  });

  test('SIGTERM while frozen (an agent cancel) thaws at once, not at the watchdog bound', async () => {
    const run = await startHungRun();
    expect(await isFrozen(ext4)).toBe(true);

    process.kill(run.child.pid!, 'SIGTERM');
    const result = await run.done;
    await sleep(1000);

    expect(result.code).toBe(143);
    expect(await isFrozen(ext4, 1000)).toBe(false);
    expect(await isFrozen(xfs, 1000)).toBe(false);
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ mounts: 2 });
  });

  test.each(['ioctl', 'fsfreeze'])('with the %s freezer, SIGTERM during a slow freeze leaves nothing frozen 3 s after exit', async (freezer) => {
    // GIVEN a freeze that takes 2 s before it freezes
    const mark = path.join(mounts.dir, 'freezing');
    fs.rmSync(mark, { force: true });
    const run = startScript(env([ext4, xfs], {
      PATH: `${shims}:${env([]).PATH}`, FSFREEZE_SHIM_SLEEP: '2', FSFREEZE_SHIM_MARK: mark, FSFREEZE_FREEZER: freezer,
    }));
    while (!fs.existsSync(mark)) {
      await sleep(20);
    }

    // WHEN the script alone is terminated while the freezes are in flight
    process.kill(run.child.pid!, 'SIGTERM');
    const result = await run.done;
    await sleep(3000);

    // THEN (well before the 8 s watchdog) nothing is frozen, and no snapshot was taken
    expect(result.code).toBe(143);
    expect(await isFrozen(ext4, 1000)).toBe(false);
    expect(await isFrozen(xfs, 1000)).toBe(false);
    expect(real()).toHaveLength(0);
  });

  test.each(['ioctl', 'fsfreeze'])('with the %s freezer, a partial freeze failure thaws the mounts that froze, at once', async (freezer) => {
    const run = startScript(env([ext4, xfs], { PATH: `${shims}:${env([]).PATH}`, FSFREEZE_SHIM_FAIL: xfs, FSFREEZE_FREEZER: freezer }));
    const result = await run.done;
    const write = startWrite(ext4);
    const ms = await write.done;

    expect(result.code).not.toBe(0);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(new RegExp(`the freeze failed for ${xfs}`));
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ mounts: 1 });
    expect(ms).toBeLessThan(2000);
    expect(real()).toHaveLength(0);
  });

  test('the ioctl helper is the default freezer; a python3 that cannot run falls back to fsfreeze processes, and says so', async () => {
    const helper = await startScript(env([ext4, xfs])).done;
    const fallback = await startScript(env([ext4, xfs], { PATH: `${shims}:${env([]).PATH}`, FSFREEZE_SHIM_PYTHON_BROKEN: '1' })).done;
    const forced = await startScript(env([ext4], { PATH: `${shims}:${env([]).PATH}`, FSFREEZE_SHIM_PYTHON_BROKEN: '1', FSFREEZE_FREEZER: 'ioctl' })).done;

    expect(helper.code).toBe(0);
    expect(helper.events.find((e) => e.event === 'thawed')).toMatchObject({ freezer: 'ioctl', mounts: 2, requestBy: 'helper' });
    expect(fallback.code).toBe(0);
    expect(fallback.events.find((e) => e.event === 'freezer-fallback')?.reason).toMatch(/did not start: python3: broken/);
    expect(fallback.events.find((e) => e.event === 'thawed')).toMatchObject({ freezer: 'fsfreeze', mounts: 2 });
    // asked for explicitly, a helper that cannot run fails the run before any freeze
    expect(forced.code).not.toBe(0);
    expect(forced.events.find((e) => e.event === 'error')?.message).toMatch(/FSFREEZE_FREEZER=ioctl, but the freeze helper cannot run/);
    expect(forced.events.map((e) => e.event)).not.toContain('thawed');
    expect(real()).toHaveLength(2);
  });

  /**
   * A run frozen by the helper, its call in flight (the stub answers after 1.5 s), whose helper is
   * SIGKILLed (its fds close; the kernel does not thaw on close): whether ext4 was still frozen
   * 200 ms later, and the run's result.
   */
  const killHelperMidCall = async (extra: Record<string, string>) => {
    stub.behaviour = { kind: 'succeed', latencyMs: 1500 };
    let signalCall!: () => void;
    const called = new Promise<void>((resolve) => (signalCall = resolve));
    stub.onCreate = async () => signalCall();
    const run = startScript(env([ext4, xfs], extra));
    await called;
    const helperPid = childrenOf(run.child.pid!).find((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('python3\0-c'));
    expect(helperPid).toBeDefined();
    process.kill(helperPid!, 'SIGKILL');
    await sleep(200);
    const stillFrozen = await isFrozen(ext4);
    return { stillFrozen, result: await run.done };
  };

  test('a SIGKILLed helper mid-pause (the CLI sends): the kernel keeps the freeze, the script still thaws every mount after the call', async () => {
    const { stillFrozen, result } = await killHelperMidCall({ FSFREEZE_API_CLIENT: 'cli', FSFREEZE_WATCHDOG_SECONDS: '40', FSFREEZE_API_TIMEOUT_SECONDS: '30' });

    // the file systems stayed frozen for the call, and the script thawed them itself when it returned
    expect(stillFrozen).toBe(true);
    expect(result.code).toBe(0);
    expect(result.events.map((e) => e.event)).toContain('helper-lost');
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ freezer: 'ioctl', mounts: 2 });
    expect(await isFrozen(ext4, 1000)).toBe(false);
    expect(await isFrozen(xfs, 1000)).toBe(false);
    expect(real()).toHaveLength(1);
  });

  test('a SIGKILLed helper mid-pause (the helper sends): the freeze is held for the API timeout, then thawed, and the run fails unretried', async () => {
    // the helper sent the request, EC2 is still processing it, and the answer can no longer be read
    const { stillFrozen, result } = await killHelperMidCall({});

    // the request may still be processed, so the freeze holds; then the script thaws every mount
    // and fails without a second CreateSnapshots (the snapshots may exist)
    expect(stillFrozen).toBe(true);
    expect(result.code).not.toBe(0);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/the freeze helper was lost during the call/);
    expect(result.events.map((e) => e.event)).toContain('helper-lost');
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ freezer: 'ioctl', mounts: 2 });
    expect(await isFrozen(ext4, 1000)).toBe(false);
    expect(await isFrozen(xfs, 1000)).toBe(false);
    expect(real()).toHaveLength(1);
  });

  test('more than four mounts (their thaws wait in threads started before the freeze): all frozen for the call, all thawed at the answer', async () => {
    const many = new LoopMounts('fsfreeze-many-');
    try {
      const six = [0, 1, 2, 3, 4, 5].map((i) => many.add(i % 2 ? 'xfs' : 'ext4'));
      stub.volumes = many.volumeIds;
      stub.behaviour = { kind: 'succeed', latencyMs: 500 };
      const writes: Array<ReturnType<typeof startWrite>> = [];
      const frozenDuringCall: boolean[] = [];
      stub.onCreate = async () => {
        writes.push(...six.map((m) => startWrite(m)));
        await sleep(200);
        frozenDuringCall.push(...writes.map((w) => !w.finished()));
      };

      const result = await startScript(scriptEnv(stub, six, lockFile, many.byIdDir)).done;
      await Promise.all(writes.map((w) => w.done));

      expect(result.code).toBe(0);
      expect(frozenDuringCall).toEqual(six.map(() => true));
      expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ mounts: 6, requestBy: 'helper' });
      for (const m of six) {
        expect(await isFrozen(m, 1000)).toBe(false);
      }
      expect(real()).toHaveLength(1);
      expect(real()[0].volumeIds.sort()).toEqual([...many.volumeIds].sort());
    } finally {
      many.cleanup();
    }
  });

  test('behind a proxy the helper does not send (curl would go through the proxy, the helper could not): the curl process does', async () => {
    const result = await startScript(env([ext4, xfs], { https_proxy: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' })).done;

    expect(result.code).toBe(0);
    expect(result.events.find((e) => e.event === 'snapshots')).toMatchObject({ client: 'curl', freezer: 'ioctl', requestBy: 'client' });
    expect(real()).toHaveLength(1);
  });

  test('the script SIGKILLed alone mid-pause: the helper keeps the freeze until the bound (no call lands after a thaw), then thaws', async () => {
    const run = await startHungRun();
    const frozenAt = Date.now();

    process.kill(run.child.pid!, 'SIGKILL');
    await run.done;
    await sleep(1000);
    const frozenAfterKill = await isFrozen(ext4);
    const write = startWrite(xfs);
    await write.done;

    // the helper's input closed 1 s ago, yet the freeze holds while the client may still be sending; the bound (8 s) thaws
    expect(frozenAfterKill).toBe(true);
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(4000);
    expect(Date.now() - frozenAt).toBeLessThan(10000);
    expect(await isFrozen(ext4, 1000)).toBe(false);
    // the orphaned client is ended by its own timeout killer; wait for it so the lock is free for the next test
    await sleep(2500);
  });

  test('the script and its watchdog SIGKILLed mid-pause: the helper\'s own bound thaws (the two bounds do not cover for each other)', async () => {
    const run = await startHungRun();
    const frozenAt = Date.now();
    const cmdline = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } };
    const watchdog = childrenOf(run.child.pid!).find((pid) => cmdline(pid).includes('fsfreeze-watchdog'));
    try {
      expect(watchdog).toBeDefined();
      // the watchdog leads its own session: its sleep goes with it
      process.kill(-watchdog!, 'SIGKILL');
      process.kill(run.child.pid!, 'SIGKILL');
      await run.done;
      await sleep(1000);
      const frozenAfterKill = await isFrozen(ext4);
      // the helper's alarm (the same 8 s bound) is now the only thaw left: a write lands within the bound and headroom
      const xfsFrozenPastBound = await isFrozen(xfs, Math.max(0, frozenAt + 11000 - Date.now()));

      expect(frozenAfterKill).toBe(true);
      expect(xfsFrozenPastBound).toBe(false);
      expect(await isFrozen(ext4, 1000)).toBe(false);
    } finally {
      // whatever happened, leave nothing frozen for the next test
      for (const m of [ext4, xfs]) {
        try { execFileSync('fsfreeze', ['-u', m], { stdio: 'ignore' }); } catch { /* not frozen */ }
      }
      // the orphaned client is ended by its own timeout killer; wait for it so the lock is free for the next test
      await sleep(2500);
    }
  });

  test('the post command runs after the thaw: its write to a frozen mount does not wait for the watchdog', async () => {
    const probe = path.join(mounts.dir, 'post-ms');
    const result = await startScript(env([ext4], {
      FSFREEZE_PRE_COMMAND: 'true',
      FSFREEZE_POST_COMMAND: `s=$(date +%s%N); dd if=/dev/zero of=${ext4}/post bs=4k count=1 conv=fsync status=none; echo $(( ($(date +%s%N) - s) / 1000000 )) > ${probe}`,
    })).done;

    expect(result.code).toBe(0);
    expect(Number(fs.readFileSync(probe, 'utf8'))).toBeLessThan(2000);
    // the script thawed (not its watchdog, 8 s later): read from its events, not from the clock,
    // which a loaded machine stretches (a whole run once took 9.6 s on 2 busy cores)
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ mounts: 1 });
    expect(result.events.filter((e) => e.event.startsWith('watchdog'))).toEqual([]);
  });

  test('the fsfreeze-process fallback thaws a single mount after the call too: the post command writes at once', async () => {
    // one mount takes its own thaw path (no background thaws to wait for); without it the mount stays frozen until the watchdog
    const probe = path.join(mounts.dir, 'post-ms-fallback');
    const result = await startScript(env([ext4], {
      PATH: `${shims}:${env([]).PATH}`,
      FSFREEZE_SHIM_PYTHON_BROKEN: '1',
      FSFREEZE_PRE_COMMAND: 'true',
      FSFREEZE_POST_COMMAND: `s=$(date +%s%N); dd if=/dev/zero of=${ext4}/post bs=4k count=1 conv=fsync status=none; echo $(( ($(date +%s%N) - s) / 1000000 )) > ${probe}`,
    })).done;

    expect(result.code).toBe(0);
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ freezer: 'fsfreeze', mounts: 1 });
    expect(Number(fs.readFileSync(probe, 'utf8'))).toBeLessThan(2000);
    expect(await isFrozen(ext4, 1000)).toBe(false);
  });

  test('a second concurrent run does not double-freeze, and leaves the first run intact', async () => {
    // GIVEN a first run that is frozen and waiting for a call that answers only once the second run
    // is over (a fixed latency raced the second run's start on a loaded machine)
    let signalCall!: () => void;
    const called = new Promise<void>((resolve) => (signalCall = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    stub.onCreate = async () => {
      signalCall();
      await answered;
    };
    const first = startScript(env([ext4, xfs]));
    await called;

    // WHEN a second run starts meanwhile
    let second: Awaited<ReturnType<typeof startScript>['done']>;
    let frozenMeanwhile: boolean;
    try {
      second = await startScript(env([ext4, xfs])).done;
      frozenMeanwhile = await isFrozen(ext4);
    } finally {
      answer();
    }

    // THEN it refuses without touching the file systems, which stay frozen for the first run
    expect(second.code).toBe(75);
    expect(second.events.find((e) => e.event === 'error')?.message).toMatch(/another fsfreeze snapshot run holds/);
    expect(second.events.find((e) => e.event === 'thawed')).toBeUndefined();
    expect(frozenMeanwhile).toBe(true);
    const result = await first.done;
    expect(result.code).toBe(0);
    expect(real()).toHaveLength(1);
  });

  test('runs the pre and post commands around the freeze, and the post command even on failure', async () => {
    const marker = path.join(mounts.dir, 'hooks.log');
    fs.rmSync(marker, { force: true });
    stub.behaviour = { kind: 'fail', latencyMs: 0 };
    const result = await startScript(env([ext4], {
      FSFREEZE_FREEZE_CYCLES: '1',
      FSFREEZE_PRE_COMMAND: `echo pre >> ${marker}`,
      FSFREEZE_POST_COMMAND: `echo post >> ${marker}`,
    })).done;

    expect(result.code).not.toBe(0);
    expect(fs.readFileSync(marker, 'utf8')).toEqual('pre\npost\n');
  });

  test('a failing pre command aborts before any freeze', async () => {
    const result = await startScript(env([ext4], { FSFREEZE_PRE_COMMAND: 'exit 3' })).done;
    expect(result.code).not.toBe(0);
    expect(result.events.map((e) => e.event)).not.toContain('thawed');
    expect(real()).toHaveLength(0);
  });

  describe('refuses what it must not freeze', () => {
    const binds: string[] = [];
    let bindOfSubdir: string;
    let bindOfRootFsDir: string;
    beforeAll(() => {
      // a bind mount of a directory of the ext4 file system, and one of a directory of the root file system
      fs.mkdirSync(path.join(ext4, 'sub'), { recursive: true });
      bindOfSubdir = path.join(mounts.dir, 'bind-sub');
      bindOfRootFsDir = path.join(mounts.dir, 'bind-root');
      const rootDir = fs.mkdtempSync('/var/tmp/fsfreeze-rootfs-');
      for (const [src, dst] of [[path.join(ext4, 'sub'), bindOfSubdir], [rootDir, bindOfRootFsDir]]) {
        fs.mkdirSync(dst);
        execFileSync('mount', ['--bind', src, dst]);
        binds.push(dst);
      }
    });
    afterAll(() => {
      for (const b of binds.reverse()) {
        execFileSync('umount', [b]);
      }
    });

    test.each([
      ['the root file system', () => '/', /refusing to freeze: \/ is the root file system/],
      ['a bind mount of a directory of a data file system', () => bindOfSubdir, /is a bind mount \(of \/sub/],
      ['a bind mount of a directory of the root file system', () => bindOfRootFsDir, /is a bind mount|is the root file system/],
      ['a directory that is not a mount point', () => '/etc', /\/etc is not a mount point/],
      ['a file system that is not on an EBS volume', () => stray, /which is not an EBS volume of this instance/],
    ])('refuses %s without freezing anything', async (_name, mount, message) => {
      const result = await startScript(env([mount()])).done;
      expect(result.code).not.toBe(0);
      expect(result.events.find((e) => e.event === 'error')?.message).toMatch(message);
      expect(stub.calls).toHaveLength(0);
    });
  });

  describe('on a Xen instance (no NVMe names: IMDS lists the EBS devices, without volume ids)', () => {
    const xenEnv = (list: string[]) => env(list, { FSFREEZE_EBS_BY_ID_DIR: path.join(mounts.dir, 'no-by-id') });
    beforeEach(() => {
      const dev = (m: string) => path.basename(mounts.devices[mounts.mountPoints.indexOf(m)]);
      stub.blockDeviceMapping = { ami: 'sda1', root: '/dev/sda1', ebs1: dev(ext4), ebs2: dev(xfs), ebs3: dev(other) };
    });

    test('freezing every EBS data file system snapshots the data volumes, boot excluded', async () => {
      const result = await startScript(xenEnv([ext4, xfs, other])).done;
      expect(result.code).toBe(0);
      expect(real()[0].params).not.toHaveProperty(['InstanceSpecification.ExcludeDataVolumeId.1']);
      expect(real()[0].volumeIds.sort()).toEqual([volumeOf(ext4), volumeOf(xfs), volumeOf(other)].sort());
    });

    test('an unfrozen EBS data volume fails the run before any freeze: it could not be excluded', async () => {
      const result = await startScript(xenEnv([ext4, xfs])).done;
      expect(result.code).not.toBe(0);
      expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/is not frozen, and a Xen instance does not name its volume ids/);
      expect(stub.calls).toHaveLength(0);
    });
  });

  describe('over HTTPS, as EC2 answers (a stub with its own certificate for localhost)', () => {
    let tlsStub: StubEc2;
    let ca: string;
    const tlsEnv = (extra: Record<string, string>) => env([ext4, xfs], { FSFREEZE_EC2_ENDPOINT: tlsStub.url, CURL_CA_BUNDLE: ca, ...extra });
    const tlsReal = () => tlsStub.calls.filter((c) => !c.dryRun);

    beforeAll(async () => {
      const dir = path.join(mounts.dir, 'tls');
      fs.mkdirSync(dir);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
        '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
      ca = path.join(dir, 'cert.pem');
      tlsStub = await startStubEc2({ key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(ca, 'utf8') });
    });
    afterAll(async () => {
      await tlsStub?.close();
    });
    beforeEach(() => {
      tlsStub.calls.length = 0;
      tlsStub.volumes = [volumeOf(ext4), volumeOf(xfs), volumeOf(other)];
    });

    test('the helper checks the certificate against the trusted CAs, and sends the request curl signed while both mounts are frozen', async () => {
      tlsStub.behaviour = { kind: 'succeed', latencyMs: 300 };
      const writes: Array<ReturnType<typeof startWrite>> = [];
      const frozenDuringCall: boolean[] = [];
      tlsStub.onCreate = async () => {
        writes.push(startWrite(ext4), startWrite(xfs));
        await sleep(150);
        frozenDuringCall.push(...writes.map((w) => !w.finished()));
      };

      // SSL_CERT_FILE: the CA python's ssl module trusts (what the system store is on an instance)
      const result = await startScript(tlsEnv({ SSL_CERT_FILE: ca })).done;
      await Promise.all(writes.map((w) => w.done));

      expect(result.code).toBe(0);
      expect(result.events.find((e) => e.event === 'snapshots')).toMatchObject({ client: 'curl', freezer: 'ioctl', requestBy: 'helper' });
      expect(frozenDuringCall).toEqual([true, true]);
      // the stub checked the SigV4 signature over its own Host header (localhost:<port>)
      expect(tlsReal()).toHaveLength(1);
      expect(tlsReal()[0].status).toBe(200);
      expect(tlsReal()[0].volumeIds.sort()).toEqual([volumeOf(ext4), volumeOf(xfs)].sort());
    });

    test('a certificate the helper does not trust: the run stops before any freeze, and sends nothing', async () => {
      // curl trusts the stub's CA (its dry run passes); python's ssl module does not
      const result = await startScript(tlsEnv({ SSL_CERT_FILE: '/dev/null' })).done;

      expect(result.code).not.toBe(0);
      expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/could not prepare the request \(no file system was frozen\).*certificate verify failed/i);
      expect(result.events.map((e) => e.event)).not.toContain('thawed');
      expect(tlsReal()).toHaveLength(0);
    });
  });

  test('refuses an API timeout beyond the watchdog', async () => {
    const result = await startScript(env([ext4], { FSFREEZE_API_TIMEOUT_SECONDS: '9' })).done;
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/below the watchdog/);
    expect(stub.calls).toHaveLength(0);
  });

  test('the synthesized document itself, run by /bin/sh as the agent does, freezes, snapshots once and thaws', async () => {
    // GIVEN the Command document of a window over both mounts, with pre/post commands
    const marker = path.join(mounts.dir, 'doc-hooks.log');
    fs.rmSync(marker, { force: true });
    const stack = new Stack(new App(), 'Doc');
    const window = new FsfreezeMaintenanceWindow(stack, 'Linux', {
      purpose: 'linux-app-consistent',
      schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
      targets: MaintenanceTargets.tagged({ Backup: 'fsfreeze' }),
      mountPoints: [ext4, xfs],
      preFreezeCommand: `echo "pre 'quoted' {{ not-a-parameter }}" >> ${marker}`,
      postThawCommand: `echo post >> ${marker}`,
    });
    const content = stack.resolve(window.document.content);
    const runCommand: string[] = content.mainSteps[0].inputs.runCommand;
    stub.behaviour = { kind: 'succeed', latencyMs: 300 };
    let frozen = false;
    stub.onCreate = async () => {
      frozen = (await isFrozen(ext4)) && (await isFrozen(xfs));
    };

    // WHEN /bin/sh runs the lines (only the endpoints and the lock file come from outside)
    const docEnv = scriptEnv(stub, [], lockFile, mounts.byIdDir);
    delete docEnv.FSFREEZE_MOUNT_POINTS;
    delete docEnv.FSFREEZE_TAG_SPECIFICATIONS;
    delete docEnv.FSFREEZE_WATCHDOG_SECONDS;
    delete docEnv.FSFREEZE_API_TIMEOUT_SECONDS;
    const child = spawn('sh', ['-c', runCommand.join('\n')], { env: docEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    // THEN
    expect(code).toBe(0);
    expect(frozen).toBe(true);
    expect(real()).toHaveLength(1);
    expect(real()[0].volumeIds.sort()).toEqual([volumeOf(ext4), volumeOf(xfs)].sort());
    expect(real()[0].tags).toMatchObject({ 'backup:purpose': 'linux-app-consistent', 'backup:managed-by': 'Doc/Linux', 'AppConsistent': 'true' });
    expect(stdout).toContain('"event":"thawed"');
    expect(fs.readFileSync(marker, 'utf8')).toEqual("pre 'quoted' {{ not-a-parameter }}\npost\n");
  });
});
