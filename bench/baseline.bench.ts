/**
 * EbsBackupBaseline: synthesis time and template size of the gold/silver/bronze baseline, side by
 * side with the same family constructs composed by hand, and how both grow with the number of
 * tiers (1, 3, 10), each measured side by side with the 1-tier baseline in one run.
 *
 * The hand-composed side has the same DLM policies, maintenance windows, Backup vault policy,
 * restore drill, snapshot lock and write-once guard, without the dashboard, the alarms on DLM,
 * the coverage report and the checks: the ratio is the price of the baseline's own additions.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import { compare } from './measure';
import {
  BackupTier, BackupVaultPolicy, DlmSnapshotPolicy, EbsBackupBaseline, FsfreezeMaintenanceWindow, MaintenanceTargets,
  ProtectedResourceType, RestoreDrill, Retention, SnapshotLock, SnapshotLockMode, SnapshotTarget, VaultLock,
  VssMaintenanceWindow, WormSnapshotGuard,
} from 'cdk-ebs-backup';

const ENV = { account: '123456789012', region: 'us-east-1' };
const last = new Map<string, number>();
const resourceCounts = new Map<string, number>();

function synth(name: string, build: (stack: Stack) => void): void {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'baseline-bench-')) });
  const stack = new Stack(app, 'Bench', { env: ENV });
  build(stack);
  const synthesized = app.synth().getStackByName('Bench').template;
  const template = JSON.stringify(synthesized);
  last.set(name, Buffer.byteLength(template));
  resourceCounts.set(name, Object.keys(synthesized.Resources ?? {}).length);
  fs.rmSync(app.outdir, { recursive: true, force: true });
}

function threeTiers(stack: Stack): void {
  new EbsBackupBaseline(stack, 'Baseline', {
    tiers: [BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '111122223333' }), BackupTier.silver(), BackupTier.bronze()],
    breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
    checks: false,
    drVaultCreatedElsewhere: true, // the bench measures the baseline's own stack
  });
}

function byHand(stack: Stack): void {
  const cron = (hour: string, weekDay?: string) => events.Schedule.cron({ minute: '0', hour, weekDay });
  for (const [platform, purpose] of [['windows', 'gold-vss'], ['linux', 'gold-fsfreeze']]) {
    const common = {
      purpose,
      schedule: events.Schedule.rate(Duration.hours(4)),
      retain: Retention.age(Duration.days(3)),
      targets: MaintenanceTargets.tagged({ 'backup-tier': 'gold', 'backup-platform': platform }),
      maxConcurrency: '100%',
    };
    if (platform === 'windows') {
      new VssMaintenanceWindow(stack, 'Vss', common);
    } else {
      new FsfreezeMaintenanceWindow(stack, 'Fsfreeze', { ...common, mountPoints: ['/data'] });
    }
  }
  new BackupVaultPolicy(stack, 'Backup', {
    purpose: 'gold-backup',
    rules: [{
      name: 'gold-daily',
      schedule: cron('5'),
      retain: Retention.age(Duration.days(35)),
      copyTo: [
        { vaultArn: 'arn:aws:backup:eu-west-1:123456789012:backup-vault:ebs-backup-dr', retain: Retention.age(Duration.days(35)) },
        { vaultArn: 'arn:aws:backup:us-east-1:111122223333:backup-vault:ebs-backup-archive', retain: Retention.age(Duration.days(365)) },
      ],
    }],
    resources: [backup.BackupResource.fromTag('backup-tier', 'gold')],
    resourceTypes: [ProtectedResourceType.EC2],
    vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(3650) }),
    breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
    windowsVss: true,
    restoreTesting: {},
  });
  new RestoreDrill(stack, 'Drill', { purpose: 'gold-fsfreeze', schedule: cron('6', 'SUN'), validation: ['test -n "$(ls -A /data)"'] });
  for (const [tier, hour, count] of [['silver', '3', 14], ['bronze', '2', 7]] as const) {
    new DlmSnapshotPolicy(stack, tier, {
      purpose: `${tier}-snapshots`,
      target: SnapshotTarget.instances({ tags: { 'backup-tier': tier } }),
      schedules: [{
        name: `${tier} snapshots`,
        schedule: cron(hour),
        retain: Retention.count(count),
        copyTags: true,
        crossRegionCopies: tier === 'silver' ? [{ region: 'eu-west-1', retain: Retention.age(Duration.days(14)) }] : undefined,
      }],
    });
  }
  const lock = new SnapshotLock(stack, 'Lock', { mode: SnapshotLockMode.governance(Duration.days(7)), purposes: ['silver-snapshots'] });
  const guard = new WormSnapshotGuard(stack, 'Guard', {
    breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
    recycleBin: { retain: Retention.age(Duration.days(7)), lockUnlockDelay: Duration.days(7) },
  });
  guard.exemptRole(lock.role);
}

/** `n` tiers: every third one gold-like (consistent snapshots and AWS Backup, no drill), the others silver-like. */
function tiers(n: number): BackupTier[] {
  return Array.from({ length: n }, (_, i) => i % 3 === 0
    ? BackupTier.custom({
      name: `tier-${i}`,
      consistentSnapshots: { schedule: events.Schedule.rate(Duration.hours(4)), retain: Retention.age(Duration.days(3)) },
      backupPlan: { schedule: events.Schedule.cron({ minute: '0', hour: '5' }), retain: Retention.age(Duration.days(35)), drRegion: 'eu-west-1' },
    })
    : BackupTier.silver({ name: `tier-${i}`, schedule: events.Schedule.cron({ minute: '0', hour: String(i % 24) }) }));
}

function baselineOf(n: number) {
  return (stack: Stack) => new EbsBackupBaseline(stack, 'Baseline', { tiers: tiers(n), drRegion: 'eu-west-1', checks: false, drVaultCreatedElsewhere: true });
}

export async function run(): Promise<object> {
  const rounds = 3;
  const three = compare({ name: 'baseline', fn: () => synth('baseline', threeTiers) }, { name: 'by hand', fn: () => synth('by hand', byHand) }, rounds);
  const threeBytes = { baseline: last.get('baseline')!, byHand: last.get('by hand')! };
  console.log(`3 tiers: baseline ${three.medianMs.baseline.toFixed(0)} ms, ${threeBytes.baseline} bytes; ` +
    `by hand ${three.medianMs['by hand'].toFixed(0)} ms, ${threeBytes.byHand} bytes; ` +
    `time x${three.ratio.toFixed(2)}, size x${(threeBytes.baseline / threeBytes.byHand).toFixed(2)}`);

  const growth = [];
  for (const n of [1, 3, 10]) {
    const c = compare({ name: `${n}`, fn: () => synth(`${n}`, baselineOf(n)) }, { name: 'one', fn: () => synth('one', baselineOf(1)) }, rounds);
    const bytes = last.get(`${n}`)!;
    const oneBytes = last.get('one')!;
    const resources = resourceCounts.get(`${n}`)!;
    growth.push({ tiers: n, medianMs: c.medianMs[`${n}`], bytes, resources, timeVsOneTier: c.ratio, sizeVsOneTier: bytes / oneBytes });
    console.log(`${String(n).padStart(2)} tiers: ${c.medianMs[`${n}`].toFixed(0)} ms (x${c.ratio.toFixed(2)} of 1 tier), ` +
      `${bytes} bytes (x${(bytes / oneBytes).toFixed(2)}, ${Math.round(bytes / n)} bytes per tier), ${resources} resources`);
  }
  return {
    threeTiers: { medianMs: three.medianMs, timeRatio: three.ratio, bytes: threeBytes, sizeRatio: threeBytes.baseline / threeBytes.byHand },
    growth,
  };
}
