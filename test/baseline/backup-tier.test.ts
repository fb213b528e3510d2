import { App, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupTier, EbsBackupBaseline, FsfreezeMaintenanceWindow, Retention, SnapshotLockMode, VaultLock, VaultLockMode } from '../../src';

describe('BackupTier', () => {
  test('gold promises consistent snapshots every 4 hours, a compliance-locked daily backup copied twice, restore tests and a weekly drill', () => {
    const gold = BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '111122223333' });
    const d = gold.definition;
    expect(gold.name).toBe('gold');
    expect(d.consistentSnapshots!.schedule.expressionString).toBe('rate(4 hours)');
    expect(d.consistentSnapshots!.retain.toTagValue()).toBe('age:3d');
    expect(d.backupPlan).toMatchObject({ drRegion: 'eu-west-1', archiveAccount: '111122223333', restoreTesting: true, windowsVss: true });
    expect(d.backupPlan!.retain.maxAge!.toDays()).toBe(35);
    expect(d.backupPlan!.archiveRetain!.maxAge!.toDays()).toBe(365);
    expect(d.backupPlan!.vaultLock!.mode).toBe(VaultLockMode.COMPLIANCE);
    expect(d.restoreDrill!.schedule.expressionString).toBe('cron(0 6 ? * SUN *)');
    expect(d.snapshots).toBeUndefined();
    expect(gold.purposes()).toEqual(['gold-vss', 'gold-fsfreeze', 'gold-backup']);
  });

  test('silver promises daily DLM snapshots, a DR copy and a governance lock shorter than the retention', () => {
    const silver = BackupTier.silver();
    expect(silver.definition.snapshots).toMatchObject({ drCopy: true });
    expect(silver.definition.snapshots!.retain.maxCount).toBe(14);
    expect(silver.definition.snapshots!.snapshotLock!.mode).toBe('governance');
    expect(silver.definition.snapshots!.snapshotLock!.duration.toDays()).toBe(7);
    expect(silver.purposes()).toEqual(['silver-snapshots']);
  });

  test('bronze promises daily DLM snapshots kept locally', () => {
    const bronze = BackupTier.bronze();
    expect(bronze.definition.snapshots!.schedule.expressionString).toBe('cron(0 2 * * ? *)');
    expect(bronze.definition.snapshots!.retain.maxCount).toBe(7);
    expect(bronze.definition.snapshots!.drCopy).toBeUndefined();
    expect(bronze.definition.snapshots!.snapshotLock).toBeUndefined();
  });

  test('every number of a preset can be overridden', () => {
    const gold = BackupTier.gold({
      drRegion: 'eu-west-1',
      name: 'platinum',
      consistentEvery: Duration.hours(1),
      consistentRetain: Retention.count(24),
      backupRetain: Retention.age(Duration.days(90)),
      vaultLock: VaultLock.governance({ minRetention: Duration.days(30) }),
      linuxMountPoints: ['/var/lib/pgsql'],
      linuxExpediteFreeze: false,
    });
    expect(gold.name).toBe('platinum');
    expect(gold.definition.consistentSnapshots).toMatchObject({ linuxMountPoints: ['/var/lib/pgsql'], linuxExpediteFreeze: false });
    expect(gold.definition.consistentSnapshots!.schedule.expressionString).toBe('rate(1 hour)');
    expect(gold.definition.backupPlan!.retain.maxAge!.toDays()).toBe(90);
    expect(gold.definition.backupPlan!.vaultLock!.mode).toBe(VaultLockMode.GOVERNANCE);
    const silver = BackupTier.silver({ retain: Retention.count(30), snapshotLock: SnapshotLockMode.compliance(Duration.days(10)), drRegion: 'us-west-2' });
    expect(silver.definition.snapshots).toMatchObject({ drRegion: 'us-west-2' });
    expect(silver.definition.snapshots!.snapshotLock!.mode).toBe('compliance');
  });

  test.each([undefined, false])('linuxExpediteFreeze %s reaches the script of the tier\'s Linux window', (linuxExpediteFreeze) => {
    const stack = new Stack(new App(), 'Tier');
    const baseline = new EbsBackupBaseline(stack, 'Baseline', {
      tiers: [BackupTier.custom({
        name: 'app',
        consistentSnapshots: { schedule: events.Schedule.rate(Duration.hours(6)), retain: Retention.count(4), linuxExpediteFreeze },
      })],
      breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
    });
    const linux = baseline.maintenanceWindows.find((w): w is FsfreezeMaintenanceWindow => w instanceof FsfreezeMaintenanceWindow)!;
    const runCommand: string[] = stack.resolve(linux.document.content).mainSteps[0].inputs.runCommand;
    // what the script reads (fsfreeze-expedite.test.ts runs the document with both values)
    expect(runCommand).toContain(`export FSFREEZE_EXPEDITE_GRACE_PERIODS='${linuxExpediteFreeze ?? true}'`);
  });

  test('custom tiers are plain objects', () => {
    const scratch = BackupTier.custom({
      name: 'scratch',
      snapshots: { schedule: events.Schedule.rate(Duration.hours(12)), retain: Retention.count(2) },
    });
    expect(scratch.snapshotPurpose).toBe('scratch-snapshots');
    expect(scratch.purposes()).toEqual(['scratch-snapshots']);
  });
});
