/**
 * SnapshotStep.freezeFileSystems() / thawFileSystems(): the job's freeze pattern, with an
 * on-instance watchdog bounded by the job's maxPauseWindow. The state machine is run locally
 * (aws-local-stepfunctions); the freeze step's SendCommand runs its shell lines for real, as root,
 * on a loop-mounted ext4 file system, and the thaw step's SendCommand is denied.
 */
import { execFileSync, spawnSync } from 'child_process';
import { performance } from 'perf_hooks';
import { Duration, Fn } from 'aws-cdk-lib';
import { ConsistentSnapshotJob, FreezeFileSystemsStepOptions, Retention, SnapshotStep } from '../../src';
import { LoopMounts, canRunFileSystemTests, isFrozen, sleep } from '../ssm/fsfreeze-harness';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { allStates, awsError, execute, healthyStubs, runCommandStubs } from './local-execution';
import { stateMachineDefinition } from './support';

function synthesizeJob(mountPoint: string, maxPauseWindow?: Duration, freeze: FreezeFileSystemsStepOptions = {}): any {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  new ConsistentSnapshotJob(stack, 'Db', {
    purpose: 'db',
    instances: { tags: { App: 'db' } },
    before: [SnapshotStep.freezeFileSystems([mountPoint], { timeout: Duration.seconds(30), retries: 0, ...freeze })],
    after: [SnapshotStep.thawFileSystems([mountPoint], { timeout: Duration.seconds(30), retries: 1 })],
    retain: Retention.count(7),
    maxPauseWindow,
  });
  return stateMachineDefinition(checkedTemplate(stack));
}

function commandsOf(definition: any, state: string): string[] {
  return allStates(definition)[state].Parameters.Parameters.commands;
}

describe('SnapshotStep.freezeFileSystems', () => {
  test.each<[string, Duration | undefined, FreezeFileSystemsStepOptions, number]>([
    ['the job\'s maxPauseWindow', Duration.minutes(2), {}, 120],
    ['5 minutes when the job sets no maxPauseWindow', undefined, {}, 300],
    ['its own maxPause over the job\'s', Duration.minutes(2), { maxPause: Duration.seconds(45) }, 45],
  ])('bounds the watchdog by %s', (_name, window, options, seconds) => {
    const lines = commandsOf(synthesizeJob('/data', window, options), 'Before1.SendCommand');
    const watchdog = lines.find((l) => l.startsWith('setsid '))!;
    expect(watchdog).toContain(`cdk-ebs-backup-freeze-watchdog ${seconds} '/data'`);
    // armed before the first freeze
    expect(lines.indexOf(watchdog)).toBeLessThan(lines.findIndex((l) => l.includes('fsfreeze -f')));
  });

  test.each<[string, () => unknown, string]>([
    ['no mount point', () => SnapshotStep.freezeFileSystems([]), 'SnapshotStep.freezeFileSystems: mountPoints must have at least one item, got [] (0 items)'],
    ['the root file system', () => SnapshotStep.freezeFileSystems(['/']), "mountPoints[0] must be an absolute path of letters, digits and . _ / - other than /, got '/'"],
    ['a quote', () => SnapshotStep.thawFileSystems(["/data'"]), 'SnapshotStep.thawFileSystems: mountPoints[0] must be an absolute path'],
    ['a token', () => SnapshotStep.freezeFileSystems([Fn.importValue('Mount')]), 'mountPoints[0] must be known at synthesis'],
    ['a 1 s bound', () => SnapshotStep.freezeFileSystems(['/data'], { maxPause: Duration.seconds(1) }), 'maxPause must be between 5 seconds and 1 day, got 1 second'],
  ])('rejects %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});

const capable = canRunFileSystemTests();
const describeFs = capable.ok || process.env.CI ? describe : describe.skip;

describeFs('the freeze pattern on a real file system', () => {
  let mounts: LoopMounts;
  let mnt: string;

  beforeAll(() => {
    mounts = new LoopMounts('freeze-step-');
    mnt = mounts.add('ext4');
  });
  afterAll(() => {
    spawnSync('sh', ['-c', '[ ! -s /run/cdk-ebs-backup-freeze-watchdog.pid ] || env kill -TERM -- "-$(cat /run/cdk-ebs-backup-freeze-watchdog.pid)"']);
    mounts?.cleanup();
  });

  test('the after step\'s SendCommand denied: the watchdog thaws the file system within maxPauseWindow', async () => {
    // GIVEN a job with a 6 s pause window whose freeze step really runs on the instance
    const definition = synthesizeJob(mnt, Duration.seconds(6));
    let frozenAt = 0;
    let frozenDuringCapture = false;
    const run = await execute(definition, {
      ...healthyStubs(),
      ...runCommandStubs('Before1'),
      ...runCommandStubs('After1'),
      'Before1.SendCommand': (input: any) => {
        const r = spawnSync('sh', ['-c', input.Parameters.commands.join('\n')], { encoding: 'utf8' });
        if (r.status !== 0) {
          throw awsError('Ssm.CommandFailed', r.stderr);
        }
        frozenAt = performance.now();
        return { Command: { CommandId: 'cmd-before', Status: 'Pending' } };
      },
      'CreateSnapshots': async (input: any) => {
        frozenDuringCapture ||= await isFrozen(mnt);
        return healthyStubs().CreateSnapshots(input, 1);
      },
      // WHEN the thaw step cannot reach the instance
      'After1.SendCommand': () => {
        throw awsError('Ssm.AccessDeniedException', 'User is not authorized to perform: ssm:SendCommand');
      },
    });

    // THEN the job reports the lost after step, the file system was frozen for the capture and is
    // still frozen right after the run, and the watchdog thaws it within the pause window
    expect(run.error).toBeDefined();
    expect(run.order.filter((s) => s === 'After1.SendCommand')).toHaveLength(2);
    expect(frozenDuringCapture).toBe(true);
    expect(await isFrozen(mnt)).toBe(true);
    let thawedAfterMs = -1;
    while (performance.now() - frozenAt < 12_000) {
      if (!(await isFrozen(mnt, 250))) {
        thawedAfterMs = performance.now() - frozenAt;
        break;
      }
    }
    expect(thawedAfterMs).toBeGreaterThan(4_000);
    // 6 s bound, plus headroom for a loaded machine and the 250 ms probe
    expect(thawedAfterMs).toBeLessThan(6_000 + 1_500);
  });

  test('the thaw step thaws at once and stops the watchdog', async () => {
    const definition = synthesizeJob(mnt, Duration.seconds(30));
    const sh = (input: any) => {
      const r = spawnSync('sh', ['-c', input.Parameters.commands.join('\n')], { encoding: 'utf8' });
      if (r.status !== 0) {
        throw awsError('Ssm.CommandFailed', r.stderr);
      }
      return { Command: { CommandId: 'cmd', Status: 'Pending' } };
    };
    const run = await execute(definition, {
      ...healthyStubs(),
      ...runCommandStubs('Before1'),
      ...runCommandStubs('After1'),
      'Before1.SendCommand': sh,
      'After1.SendCommand': sh,
    });

    expect(run.error).toBeUndefined();
    expect(await isFrozen(mnt)).toBe(false);
    await sleep(200);
    expect(execFileSync('sh', ['-c', 'pgrep -f cdk-ebs-backup-freeze-watchdo[g] || true'], { encoding: 'utf8' }).trim()).toEqual('');
  });
});
