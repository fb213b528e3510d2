/**
 * The Linux quiesce script, for real: root, loop-mounted ext4 and xfs file systems, the real AWS
 * CLI pointed at a local stub of the EC2 API and IMDSv2 (see fsfreeze-harness.ts).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import {
  DEBIAN_AWS_CLI, INSTANCE_ID, LoopMounts, StubEc2, canRunFileSystemTests, isFrozen, scriptEnv, sleep, startScript, startStubEc2, startWrite,
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
  let mounts: LoopMounts;
  let stub: StubEc2;
  let ext4: string;
  let xfs: string;
  let lockFile: string;

  beforeAll(async () => {
    mounts = new LoopMounts();
    ext4 = mounts.add('ext4');
    xfs = mounts.add('xfs');
    lockFile = path.join(mounts.dir, 'fsfreeze.lock');
    stub = await startStubEc2();
  });

  afterAll(async () => {
    await stub?.close();
    mounts?.cleanup();
  });

  beforeEach(() => {
    stub.calls.length = 0;
    stub.onCreate = undefined;
    stub.volumes = ['vol-0aaaaaaaaaaaaaaa1', 'vol-0aaaaaaaaaaaaaaa2', 'vol-0aaaaaaaaaaaaaaa3'];
  });

  afterEach(async () => {
    // no test may leave a frozen file system behind, whatever happened
    for (const m of [ext4, xfs]) {
      expect(await isFrozen(m, 2000)).toBe(false);
    }
  });

  test('writes block while frozen, resume after the thaw, and CreateSnapshots is called once for every volume', async () => {
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

    // WHEN
    const result = await startScript(scriptEnv(stub, [ext4, xfs], lockFile)).done;

    // THEN the run succeeded, writes were held during the call and completed after it
    expect(result.code).toBe(0);
    expect(frozenDuringCall).toEqual([true, true]);
    const writeMs = await Promise.all(blockedWrites.map((w) => w.done));
    for (const ms of writeMs) {
      expect(ms).toBeGreaterThanOrEqual(300);
    }
    for (const m of [ext4, xfs]) {
      expect(await isFrozen(m)).toBe(false);
    }

    // exactly one real call (besides the permission dry run, made before any freeze), for the instance,
    // with the library's tags, all data volumes included
    const real = stub.calls.filter((c) => !c.dryRun);
    expect(real).toHaveLength(1);
    expect(stub.calls.filter((c) => c.dryRun)).toHaveLength(1);
    expect(stub.calls[0].dryRun).toBe(true);
    expect(real[0].params).toMatchObject({
      'Action': 'CreateSnapshots',
      'InstanceSpecification.InstanceId': INSTANCE_ID,
      'InstanceSpecification.ExcludeBootVolume': 'false',
      'CopyTagsFromSource': 'volume',
      'TagSpecification.1.ResourceType': 'snapshot',
      'TagSpecification.1.Tag.1.Key': 'backup:purpose',
      'TagSpecification.1.Tag.1.Value': 'linux-app-consistent',
    });
    expect(Object.keys(real[0].params).filter((k) => k.startsWith('InstanceSpecification.ExcludeDataVolumeId'))).toEqual([]);

    // the pause is measured and reported, and covers the call's latency
    const thawed = result.events.find((e) => e.event === 'thawed')!;
    const snapshots = result.events.find((e) => e.event === 'snapshots')!;
    expect(thawed.mounts).toBe(2);
    expect(thawed.frozenMs).toBeGreaterThanOrEqual(snapshots.apiMs);
    expect(snapshots.apiMs).toBeGreaterThanOrEqual(700);
    expect(snapshots.snapshotIds).toHaveLength(3);
  });

  test('a failing API call still thaws, and the run fails', async () => {
    stub.behaviour = { kind: 'fail', latencyMs: 100 };
    const result = await startScript(scriptEnv(stub, [ext4, xfs], lockFile)).done;

    expect(result.code).not.toBe(0);
    expect(result.events.find((e) => e.event === 'thawed')).toMatchObject({ mounts: 2 });
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/CreateSnapshots failed/);
    expect(await isFrozen(ext4)).toBe(false);
  });

  test('a hanging API call is cut off and thawed within the bound', async () => {
    // GIVEN an endpoint that never answers, a 4 s API timeout and an 8 s watchdog
    stub.behaviour = { kind: 'hang' };
    let frozenWhileHanging = false;
    stub.onCreate = async () => {
      frozenWhileHanging = await isFrozen(xfs);
    };

    const result = await startScript(scriptEnv(stub, [ext4, xfs], lockFile)).done;

    // THEN the script thawed itself at the API timeout, before the watchdog's bound
    expect(frozenWhileHanging).toBe(true);
    expect(result.code).toBe(124);
    const thawed = result.events.find((e) => e.event === 'thawed')!;
    expect(thawed.frozenMs).toBeGreaterThanOrEqual(3500);
    expect(thawed.frozenMs).toBeLessThan(8000);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(/did not answer within 4s/);
  });

  test('a killed script is thawed by the watchdog within the bound', async () => {
    // GIVEN a run whose API call hangs
    stub.behaviour = { kind: 'hang' };
    let signalCall!: () => void;
    const called = new Promise<void>((resolve) => (signalCall = resolve));
    stub.onCreate = async () => signalCall();
    const run = startScript(scriptEnv(stub, [ext4, xfs], lockFile, { FSFREEZE_API_TIMEOUT_SECONDS: '7' }));
    await called;
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
    // the hung CLI call is ended by its own timeout; wait for it so the lock is free for the next test
    await sleep(2500);
  });

  test('a second concurrent run does not double-freeze, and leaves the first run intact', async () => {
    // GIVEN a first run that is frozen and waiting for a slow call
    stub.behaviour = { kind: 'succeed', latencyMs: 1500 };
    let signalCall!: () => void;
    const called = new Promise<void>((resolve) => (signalCall = resolve));
    stub.onCreate = async () => signalCall();
    const first = startScript(scriptEnv(stub, [ext4, xfs], lockFile));
    await called;

    // WHEN a second run starts meanwhile
    const second = await startScript(scriptEnv(stub, [ext4, xfs], lockFile)).done;

    // THEN it refuses without touching the file systems, which stay frozen for the first run
    expect(second.code).toBe(75);
    expect(second.events.find((e) => e.event === 'error')?.message).toMatch(/another fsfreeze snapshot run holds/);
    expect(second.events.find((e) => e.event === 'thawed')).toBeUndefined();
    expect(await isFrozen(ext4)).toBe(true);
    const result = await first.done;
    expect(result.code).toBe(0);
    expect(stub.calls.filter((c) => !c.dryRun)).toHaveLength(1);
  });

  test('runs the pre and post commands around the freeze, and the post command even on failure', async () => {
    const marker = path.join(mounts.dir, 'hooks.log');
    fs.rmSync(marker, { force: true });
    stub.behaviour = { kind: 'fail', latencyMs: 0 };
    const result = await startScript(scriptEnv(stub, [ext4], lockFile, {
      FSFREEZE_PRE_COMMAND: `echo pre >> ${marker}`,
      FSFREEZE_POST_COMMAND: `echo post >> ${marker}`,
    })).done;

    expect(result.code).not.toBe(0);
    expect(fs.readFileSync(marker, 'utf8')).toEqual('pre\npost\n');
  });

  test('a failing pre command aborts before any freeze', async () => {
    const result = await startScript(scriptEnv(stub, [ext4], lockFile, { FSFREEZE_PRE_COMMAND: 'exit 3' })).done;
    expect(result.code).not.toBe(0);
    expect(result.events.map((e) => e.event)).not.toContain('thawed');
    expect(stub.calls.filter((c) => !c.dryRun)).toHaveLength(0);
  });

  test.each([
    ['the root file system', { FSFREEZE_MOUNT_POINTS: '/' }, /refusing to freeze \//],
    ['a directory that is not a mount point', { FSFREEZE_MOUNT_POINTS: '/etc' }, /is not a mount point/],
    ['no mount point', { FSFREEZE_MOUNT_POINTS: '' }, /FSFREEZE_MOUNT_POINTS is empty/],
    ['an API timeout beyond the watchdog', { FSFREEZE_API_TIMEOUT_SECONDS: '9' }, /below the watchdog/],
  ])('refuses %s without freezing anything', async (_name, extra, message) => {
    const result = await startScript(scriptEnv(stub, [ext4], lockFile, extra)).done;
    expect(result.code).not.toBe(0);
    expect(result.events.find((e) => e.event === 'error')?.message).toMatch(message);
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
    const env = scriptEnv(stub, [], lockFile);
    delete env.FSFREEZE_MOUNT_POINTS;
    delete env.FSFREEZE_TAG_SPECIFICATIONS;
    delete env.FSFREEZE_WATCHDOG_SECONDS;
    delete env.FSFREEZE_API_TIMEOUT_SECONDS;
    const child = spawn('sh', ['-c', runCommand.join('\n')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    // THEN
    expect(code).toBe(0);
    expect(frozen).toBe(true);
    const real = stub.calls.filter((c) => !c.dryRun);
    expect(real).toHaveLength(1);
    expect(real[0].params).toMatchObject({
      'TagSpecification.1.Tag.1.Key': 'backup:purpose',
      'TagSpecification.1.Tag.3.Value': 'Doc/Linux',
      'TagSpecification.1.Tag.4.Key': 'AppConsistent',
      'TagSpecification.1.Tag.4.Value': 'true',
    });
    expect(stdout).toContain('"event":"thawed"');
    expect(fs.readFileSync(marker, 'utf8')).toEqual("pre 'quoted' {{ not-a-parameter }}\npost\n");
  });
});
