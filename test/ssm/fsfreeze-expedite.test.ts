/**
 * Expedited RCU grace periods around the Linux quiesce script's freezes, for real: root,
 * loop-mounted ext4 and xfs, the stub of EC2 and IMDSv2 (fsfreeze-harness.ts).
 *
 * FIFREEZE (freeze_super) takes the superblock's three percpu rw-semaphores; each
 * percpu_down_write waits for an RCU grace period (rcu_sync_enter -> synchronize_rcu), which
 * `/sys/kernel/rcu_expedited` = 1 turns into an expedited one (kernel documentation:
 * Documentation/RCU/Design/Expedited-Grace-Periods, and the `rcupdate.rcu_expedited` entry of
 * admin-guide/kernel-parameters: "Use expedited grace-period primitives, for example,
 * synchronize_rcu_expedited() instead of synchronize_rcu()"). The setting is system-wide, so the
 * script sets it for the freezes only and puts back what it found on every exit path.
 *
 * Every run but one uses a file of the test's own as the setting (FSFREEZE_RCU_EXPEDITED_FILE,
 * from scriptEnv()); the fault shims record what that file holds at the moment of each FIFREEZE.
 * One test uses the kernel's own file, and puts its value back.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import {
  KERNEL_RCU_EXPEDITED, LoopMounts, StubEc2, canRunFileSystemTests, installShims, isFrozen, rcuExpeditedFile, resetStub, scriptEnv, sleep,
  startScript, startStubEc2,
} from './fsfreeze-harness';
import { FsfreezeMaintenanceWindow, MaintenanceTargets } from '../../src';

const capable = canRunFileSystemTests();
const describeFs = capable.ok || process.env.CI ? describe : describe.skip;

describeFs('expedited RCU grace periods around the freezes (ssm-fsfreeze-snapshot.sh, real ext4 and xfs)', () => {
  jest.retryTimes(1, { logErrorsBeforeRetry: true });
  let mounts: LoopMounts;
  let stub: StubEc2;
  let ext4: string;
  let xfs: string;
  let lockFile: string;
  let shims: string;
  /** The test's stand-in for /sys/kernel/rcu_expedited. */
  let rcu: string;
  /** What the setting held at each FIFREEZE, one line per freeze (written by the shims). */
  let rcuLog: string;
  const env = (extra: Record<string, string> = {}) => scriptEnv(stub, [ext4, xfs], lockFile, mounts.byIdDir, {
    PATH: `${shims}:${scriptEnv(stub, [], lockFile, mounts.byIdDir).PATH}`,
    FSFREEZE_SHIM_RCU_LOG: rcuLog,
    ...extra,
  });
  const setting = (file = rcu) => fs.readFileSync(file, 'utf8').trim();
  const atFreezes = () => (fs.existsSync(rcuLog) ? fs.readFileSync(rcuLog, 'utf8').trim().split('\n') : []);
  const outcome = (r: { code: number | null; events: Array<Record<string, unknown>>; stderr: string }) =>
    `exit ${r.code}; events ${JSON.stringify(r.events.slice(-4))}; stderr ${r.stderr.slice(-600)}`;
  const real = () => stub.calls.filter((c) => !c.dryRun);

  beforeAll(async () => {
    mounts = new LoopMounts('fsfreeze-rcu-');
    ext4 = mounts.add('ext4');
    xfs = mounts.add('xfs');
    lockFile = path.join(mounts.dir, 'fsfreeze.lock');
    shims = installShims(mounts.dir);
    rcu = rcuExpeditedFile(lockFile);
    rcuLog = path.join(mounts.dir, 'rcu-at-freeze.log');
    stub = await startStubEc2();
  });

  afterAll(async () => {
    await stub?.close();
    mounts?.cleanup();
  });

  beforeEach(() => {
    resetStub(stub, [...mounts.volumeIds]);
    fs.writeFileSync(rcu, '0\n');
    fs.rmSync(rcuLog, { force: true });
  });

  afterEach(async () => {
    for (const m of [ext4, xfs]) {
      expect(await isFrozen(m, 2000)).toBe(false);
    }
  });

  test.each([
    ['ioctl', 'curl', '0'], // the helper freezes and sends
    ['ioctl', 'cli', '0'], // the helper freezes, the CLI sends
    ['fsfreeze', 'curl', '0'], // one fsfreeze process per mount
    ['ioctl', 'curl', '1'],
    ['fsfreeze', 'curl', '1'],
  ])('%s freezer, %s client, the setting at %s: 1 at every FIFREEZE, back to its value during the call and after the run', async (freezer, client, before) => {
    fs.writeFileSync(rcu, `${before}\n`);
    stub.behaviour = { kind: 'succeed', latencyMs: 300 };
    let duringCall = '';
    let frozenDuringCall = false;
    stub.onCreate = async () => {
      duringCall = setting();
      frozenDuringCall = await isFrozen(ext4, 150);
    };

    const result = await startScript(env({ FSFREEZE_FREEZER: freezer, FSFREEZE_API_CLIENT: client, FSFREEZE_WATCHDOG_SECONDS: '40', FSFREEZE_API_TIMEOUT_SECONDS: '30' })).done;

    expect(outcome(result)).toMatch(/^exit 0;/);
    // both mounts were frozen with the setting at 1
    expect(atFreezes()).toEqual(['1', '1']);
    // the call ran frozen, the setting already back: it is expedited for the freezes only
    expect(frozenDuringCall).toBe(true);
    expect(duringCall).toBe(before);
    expect(setting()).toBe(before);
    expect(result.events.find((e) => e.event === 'expedite')).toMatchObject(before === '0'
      ? { expedited: true, previous: 0, file: rcu }
      : { expedited: true, reason: expect.stringMatching(/already set on this instance: left alone/) });
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ freezer, expedited: true, mounts: 2 });
  });

  test.each(['ioctl', 'fsfreeze'])('%s freezer: a failed CreateSnapshots (500, then 500 in a second freeze cycle) puts the setting back', async (freezer) => {
    stub.behaviour = { kind: 'fail', latencyMs: 0 };

    const result = await startScript(env({ FSFREEZE_FREEZER: freezer, FSFREEZE_FREEZE_CYCLES: '2' })).done;

    expect(result.code).not.toBe(0);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/CreateSnapshots failed \(thawed\): InternalError/);
    expect(real()).toHaveLength(2);
    expect(atFreezes()).toEqual(['1', '1', '1', '1']);
    expect(setting()).toBe('0');
  });

  test.each(['ioctl', 'fsfreeze'])('%s freezer: a partial freeze failure puts the setting back', async (freezer) => {
    const result = await startScript(env({ FSFREEZE_FREEZER: freezer, FSFREEZE_SHIM_FAIL: xfs })).done;

    expect(result.code).not.toBe(0);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(new RegExp(`the freeze failed for ${xfs}`));
    expect(atFreezes()).toEqual(['1']);
    expect(setting()).toBe('0');
    expect(real()).toHaveLength(0);
  });

  test.each([
    ['ioctl', 'SIGTERM'], ['fsfreeze', 'SIGTERM'], ['ioctl', 'SIGINT'], ['fsfreeze', 'SIGHUP'],
  ] as const)('%s freezer: %s during a slow freeze puts the setting back', async (freezer, signal) => {
    const mark = path.join(mounts.dir, 'freezing');
    fs.rmSync(mark, { force: true });
    const run = startScript(env({ FSFREEZE_FREEZER: freezer, FSFREEZE_SHIM_SLEEP: '2', FSFREEZE_SHIM_MARK: mark }));
    while (!fs.existsSync(mark)) {
      await sleep(20);
    }
    const whileFreezing = setting();

    process.kill(run.child.pid!, signal);
    const result = await run.done;

    expect(whileFreezing).toBe('1');
    expect(result.code).toBe({ SIGTERM: 143, SIGINT: 130, SIGHUP: 129 }[signal]);
    expect(setting()).toBe('0');
    expect(real()).toHaveLength(0);
  });

  test('the script SIGKILLed during a slow freeze (fsfreeze processes): the watchdog puts the setting back at its bound', async () => {
    const mark = path.join(mounts.dir, 'freezing');
    fs.rmSync(mark, { force: true });
    const watchdogLog = lockFile.replace(/\.lock$/, '.watchdog.log');
    fs.rmSync(watchdogLog, { force: true });
    const run = startScript(env({ FSFREEZE_FREEZER: 'fsfreeze', FSFREEZE_SHIM_SLEEP: '1', FSFREEZE_SHIM_MARK: mark, FSFREEZE_WATCHDOG_SECONDS: '5', FSFREEZE_API_TIMEOUT_SECONDS: '3' }));
    while (!fs.existsSync(mark)) {
      await sleep(20);
    }

    // the script alone: its fsfreeze processes go on and freeze; nothing of the script is left to undo
    process.kill(run.child.pid!, 'SIGKILL');
    await run.done;
    await sleep(1500);
    const afterKill = setting();
    const frozenAfterKill = await isFrozen(ext4);
    const until = Date.now() + 10_000;
    while (!(fs.existsSync(watchdogLog) && fs.readFileSync(watchdogLog, 'utf8').includes('watchdog-restored-rcu-expedited')) && Date.now() < until) {
      await sleep(100);
    }

    expect(afterKill).toBe('1');
    expect(frozenAfterKill).toBe(true);
    expect(fs.readFileSync(watchdogLog, 'utf8')).toContain('"event":"watchdog-restored-rcu-expedited"');
    expect(setting()).toBe('0');
    // the lock is free again once the watchdog is done
    await sleep(300);
  });

  test('an absent setting (a kernel or container without it): the run succeeds with normal grace periods, and says so', async () => {
    const absent = path.join(mounts.dir, 'no-such-dir', 'rcu_expedited');

    const result = await startScript(env({ FSFREEZE_RCU_EXPEDITED_FILE: absent })).done;

    expect(result.code).toBe(0);
    expect(result.events.find((e) => e.event === 'expedite')).toMatchObject({ expedited: false, reason: `${absent} does not exist: normal grace periods` });
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ expedited: false, mounts: 2 });
    expect(atFreezes()).toEqual(['-', '-']);
    expect(fs.existsSync(absent)).toBe(false);
    expect(real()).toHaveLength(1);
  });

  test('a read-only setting (a container\'s /sys is mounted read-only): the run succeeds with normal grace periods, and says so', async () => {
    // a read-only bind mount: writes fail with EROFS, for root too, as in a container
    const dir = path.join(mounts.dir, 'ro-sys');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'rcu_expedited'), '0\n');
    execFileSync('mount', ['--bind', dir, dir]);
    try {
      execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
      const file = path.join(dir, 'rcu_expedited');

      const result = await startScript(env({ FSFREEZE_RCU_EXPEDITED_FILE: file })).done;

      expect(result.code).toBe(0);
      expect(result.events.find((e) => e.event === 'expedite')).toMatchObject({
        expedited: false, reason: `${file} is not writable (a container, or not root): normal grace periods`,
      });
      expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ expedited: false, mounts: 2 });
      expect(atFreezes()).toEqual(['0', '0']);
      expect(setting(file)).toBe('0');
      expect(real()).toHaveLength(1);
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  test.each(['ioctl', 'fsfreeze'])('%s freezer, turned off: the setting is not written at all', async (freezer) => {
    const before = fs.statSync(rcu).mtimeMs;
    await sleep(20);

    const result = await startScript(env({ FSFREEZE_FREEZER: freezer, FSFREEZE_EXPEDITE_GRACE_PERIODS: 'false' })).done;

    expect(result.code).toBe(0);
    expect(atFreezes()).toEqual(['0', '0']);
    expect(fs.statSync(rcu).mtimeMs).toBe(before);
    expect(result.events.find((e) => e.event === 'expedite')).toMatchObject({ expedited: false, reason: expect.stringMatching(/turned off/) });
  });

  test.each([true, false])('the synthesized document with expediteFreeze: %s, run by /bin/sh as the agent does', async (expediteFreeze) => {
    const stack = new Stack(new App(), 'Doc');
    const window = new FsfreezeMaintenanceWindow(stack, 'Linux', {
      purpose: 'linux-app-consistent',
      schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
      targets: MaintenanceTargets.tagged({ Backup: 'fsfreeze' }),
      mountPoints: [ext4, xfs],
      expediteFreeze,
    });
    const runCommand: string[] = stack.resolve(window.document.content).mainSteps[0].inputs.runCommand;
    const before = fs.statSync(rcu).mtimeMs;
    await sleep(20);

    const docEnv = env();
    for (const k of ['FSFREEZE_MOUNT_POINTS', 'FSFREEZE_TAG_SPECIFICATIONS', 'FSFREEZE_WATCHDOG_SECONDS', 'FSFREEZE_API_TIMEOUT_SECONDS']) {
      delete docEnv[k];
    }
    const child = spawn('sh', ['-c', runCommand.join('\n')], { env: docEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code).toBe(0);
    expect(real()).toHaveLength(1);
    expect(atFreezes()).toEqual(expediteFreeze ? ['1', '1'] : ['0', '0']);
    expect(setting()).toBe('0');
    if (!expediteFreeze) {
      expect(fs.statSync(rcu).mtimeMs).toBe(before);
    }
    expect(stdout).toContain('"event":"expedite","time"');
  });

  test('the kernel\'s own /sys/kernel/rcu_expedited: 1 at every FIFREEZE, its value again after the run', async () => {
    // the one run on the real setting (system-wide): the value found is put back whatever happens
    const found = fs.readFileSync(KERNEL_RCU_EXPEDITED, 'utf8');
    let writable = true;
    try {
      fs.writeFileSync(KERNEL_RCU_EXPEDITED, found);
    } catch {
      writable = false;
    }
    try {
      const result = await startScript(env({ FSFREEZE_RCU_EXPEDITED_FILE: KERNEL_RCU_EXPEDITED })).done;

      expect(result.code).toBe(0);
      expect(fs.readFileSync(KERNEL_RCU_EXPEDITED, 'utf8')).toBe(found);
      if (writable) {
        // a machine that lets root write it (a container may not): expedited for the freezes
        expect(atFreezes()).toEqual(['1', '1']);
        expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ expedited: true, mounts: 2 });
      } else {
        expect(result.events.find((e) => e.event === 'expedite')).toMatchObject({ expedited: false, reason: expect.stringMatching(/not writable/) });
      }
    } finally {
      if (writable) {
        fs.writeFileSync(KERNEL_RCU_EXPEDITED, found);
      }
    }
  }, 60_000);
});
