import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  BackupArchiveVault, BackupTier, BackupVaultPolicy, BackupVaultPolicyProps, BlockPublicSharing, DlmPolicyBase, DlmSnapshotPolicy, DrillSource,
  EbsBackupBaseline, EbsBackupBaselineProps, FsfreezeMaintenanceWindow, MaintenanceTargets, PreChangeSnapshot, RecycleBinResourceType,
  RecycleBinRule, RecycleBinScope, RestoreDrill, RestoreDrillProps, Retention, SnapshotLock, SnapshotLockMode, SnapshotSchedule, SnapshotTarget,
  VaultLock, VssMaintenanceWindow, VssMaintenanceWindowProps, WormSnapshotGuard,
} from '../../src';

// The mistakes a newcomer makes (issue 20), one row each: a small app built as the user would
// write it, and the message it must get. Every row names the construct path, the prop the user
// wrote and the fix, as separate fragments, so a message that loses one of them fails its row.

const ENV = { account: '123456789012', region: 'us-east-1' };
const daily = events.Schedule.cron({ hour: '3', minute: '0' });
const nightly: SnapshotSchedule = { name: 'nightly', schedule: daily, retain: Retention.count(7) };

function app(): Stack {
  return new Stack(new App(), 'Prod', { env: ENV });
}

function snapshots(stack: Stack, schedule: Partial<SnapshotSchedule> = {}, schedules?: SnapshotSchedule[]): DlmSnapshotPolicy {
  return new DlmSnapshotPolicy(stack, 'Snapshots', {
    purpose: 'db', target: SnapshotTarget.volumes({ tags: { Backup: 'db' } }), schedules: schedules ?? [{ ...nightly, ...schedule }],
  });
}

function baseline(stack: Stack, props: Partial<EbsBackupBaselineProps> & { tiers: BackupTier[] }, id = 'Baseline'): EbsBackupBaseline {
  return new EbsBackupBaseline(stack, id, { checks: false, ...props });
}

const rules = [{ name: 'daily', schedule: events.Schedule.cron({ hour: '5', minute: '0' }), retain: Retention.age(Duration.days(35)) }];
function vault(stack: Stack, props: Partial<BackupVaultPolicyProps> = {}): BackupVaultPolicy {
  return new BackupVaultPolicy(stack, 'Backups', { purpose: 'db', rules, allTags: { Backup: 'db' }, ...props });
}

function vss(stack: Stack, props: Partial<VssMaintenanceWindowProps> = {}): VssMaintenanceWindow {
  return new VssMaintenanceWindow(stack, 'Windows', { purpose: 'erp', schedule: daily, targets: MaintenanceTargets.tagged({ Vss: 'true' }), ...props });
}

function drill(stack: Stack, props: Partial<RestoreDrillProps> = {}): RestoreDrill {
  return new RestoreDrill(stack, 'Drill', { purpose: 'db', schedule: daily, validation: ['test -f /data/ok'], ...props });
}

const silver = (options: Parameters<typeof BackupTier.silver>[0] = {}) => BackupTier.silver({ drRegion: 'us-west-2', ...options });

/** What a row expects: the fragments of one error, or a warning with its id. */
interface Expect {
  readonly path: string;
  readonly prop: string;
  readonly fix: string;
  /** A warning (with this id) instead of an error. */
  readonly warning?: string;
  /** The error is raised when the app synthesizes (a rule that depends on the whole app). */
  readonly atSynth?: boolean;
}

const rows: Array<[string, (stack: Stack) => unknown, Expect]> = [
  // --- values
  ['a retention of 0 snapshots', (s) => snapshots(s, { retain: Retention.count(0) }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].retain Retention.count(...)', fix: 'keep between 1 and 1000 artefacts' }],
  ['a retention in hours', (s) => snapshots(s, { retain: Retention.age(Duration.hours(5)) }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].retain Retention.age(...)', fix: 'pass Duration.days(n)' }],
  ['a retention over 100 years', (s) => snapshots(s, { retain: Retention.age(Duration.days(36501)) }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].retain', fix: 'with 1 <= n <= 36500' }],
  ['a copy kept by count', (s) => snapshots(s, { crossRegionCopies: [{ region: 'us-west-2', retain: Retention.count(7) }] }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].crossRegionCopies[0].retain', fix: 'keep copies by age, e.g. Retention.age(Duration.days(30))' }],
  ['a copy to a region that is not one', (s) => snapshots(s, { crossRegionCopies: [{ region: 'Ireland', retain: Retention.age(Duration.days(7)) }] }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].crossRegionCopies[0].region', fix: 'an AWS region name such as eu-west-1' }],
  ['a reserved tag key on snapshots', (s) => snapshots(s, { tags: { 'aws:owner': 'me' } }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].tags key', fix: "must not start with 'aws:'" }],
  ['a start time beside a cron', (s) => snapshots(s, { startTime: '03:00' }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].startTime', fix: 'must be omitted for a cron schedule (the cron expression sets the time)' }],
  // --- schedules and cron
  ['a 5-hour rate DLM cannot run', (s) => snapshots(s, { schedule: events.Schedule.rate(Duration.hours(5)) }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].schedule', fix: 'must be a rate of 1, 2, 3, 4, 6, 8, 12, 24 hours' }],
  ['a cron every 15 minutes', (s) => snapshots(s, { schedule: events.Schedule.cron({ minute: '0/15' }) }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].schedule', fix: 'must fire at most once an hour' }],
  ['a cron on 30 February', (s) => snapshots(s, { schedule: events.Schedule.cron({ month: '2', day: '30', hour: '0', minute: '0' }) }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].schedule', fix: 'must fire' }],
  // --- empty lists and duplicates
  ['no schedule at all', (s) => snapshots(s, {}, []),
    { path: 'Prod/Snapshots', prop: 'schedules', fix: 'must have between 1 and 4 items' }],
  ['two schedules with one name', (s) => snapshots(s, {}, [nightly, nightly]),
    { path: 'Prod/Snapshots', prop: 'schedules[1].name', fix: 'must be unique in the policy' }],
  ['a baseline without tiers', (s) => baseline(s, { tiers: [] }),
    { path: 'Prod/Baseline', prop: 'tiers', fix: 'must have between 1 and 20 items' }],
  ['two tiers with one name', (s) => baseline(s, { tiers: [BackupTier.bronze(), BackupTier.bronze()] }),
    { path: 'Prod/Baseline', prop: 'tiers[1].name', fix: 'give each tier its own name' }],
  ['a vault policy without rules', (s) => vault(s, { rules: [] }),
    { path: 'Prod/Backups', prop: 'rules', fix: 'must have between 1 and 100 items' }],
  ['a vault policy that selects nothing', (s) => vault(s, { allTags: undefined }),
    { path: 'Prod/Backups', prop: 'resources', fix: 'give resources, conditions or allTags' }],
  // --- wrong factory arguments, reported where they are used
  ['a tier name with a space', (s) => baseline(s, { tiers: [silver({ name: 'my silver' })] }),
    { path: 'Prod/Baseline', prop: 'tiers[0] BackupTier.silver(...): name', fix: "use e.g. 'gold-eu'" }],
  ['a tier retention of 0', (s) => baseline(s, { tiers: [BackupTier.bronze({ retain: Retention.count(0) })] }),
    { path: 'Prod/Baseline', prop: 'tiers[0] BackupTier.bronze(...): retain Retention.count(...)', fix: 'keep between 1 and 1000 artefacts' }],
  ['a custom tier that backs nothing up', (s) => baseline(s, { tiers: [BackupTier.custom({ name: 'empty' })] }),
    { path: 'Prod/Baseline', prop: 'tiers[0] BackupTier.custom(...)', fix: 'must have at least one of snapshots, consistentSnapshots and backupPlan' }],
  ['a gold retention of 0 consistent snapshots', (s) => baseline(s, { tiers: [BackupTier.gold({ drRegion: 'us-west-2', consistentRetain: Retention.count(0) })] }),
    { path: 'Prod/Baseline', prop: 'tiers[0] BackupTier.gold(...): consistentRetain Retention.count(...)', fix: 'keep between 1 and 1000 artefacts' }],
  ['a snapshot lock as long as the retention', (s) => baseline(s, { tiers: [silver({ snapshotLock: SnapshotLockMode.governance(Duration.days(14)) })] }),
    { path: 'Prod/Baseline', prop: 'tiers[0].snapshots.snapshotLock', fix: "must lock snapshots for less than the tier's retention" }],
  // --- tokens where the library needs a value
  ['a retention token in hours', (s) => snapshots(s, { retain: Retention.age(Duration.hours(new CfnParameter(s, 'Hours', { type: 'Number' }).valueAsNumber)) }),
    { path: 'Prod/Snapshots', prop: 'schedules[0].retain Retention.age(...)', fix: 'pass Duration.days(token)' }],
  ['a window retention from a parameter', (s) => new FsfreezeMaintenanceWindow(s, 'Linux', {
    purpose: 'app',
    schedule: daily,
    targets: MaintenanceTargets.tagged({ Fsfreeze: 'true' }),
    retain: Retention.count(new CfnParameter(s, 'Keep', { type: 'Number' }).valueAsNumber),
  }), { path: 'Prod/Linux', prop: 'retain must be known at synthesis', fix: 'not a parameter' }],
  // --- two baselines in one account and region
  ['a second baseline that also blocks public sharing', (s) => {
    baseline(s, { tiers: [BackupTier.bronze()] }, 'First');
    baseline(s, { tiers: [BackupTier.bronze({ name: 'scratch' })] }, 'Second');
  }, { path: 'Prod/Second', prop: 'blockPublicSharing', fix: 'set blockPublicSharing: false on Prod/Second' }],
  ['a second baseline whose locked Recycle Bin rules overlap the first', (s) => {
    baseline(s, { tiers: [BackupTier.bronze()] }, 'First');
    baseline(s, { tiers: [BackupTier.bronze({ name: 'scratch' })], blockPublicSharing: false }, 'Second');
  }, {
    path: 'Prod/Second/Guard/SnapshotRecycleBin',
    prop: 'locked region-level Recycle Bin rule',
    fix: 'keep one EbsBackupBaseline',
    warning: 'worm:overlapping-locked-recycle-bin-rules',
  }],
  ['a second BlockPublicSharing', (s) => {
    new BlockPublicSharing(s, 'One', { images: false });
    new BlockPublicSharing(s, 'Two', { images: false });
  }, { path: 'Prod/Two', prop: 'BlockPublicSharing', fix: 'create BlockPublicSharing once per account and region (keep Prod/One)' }],
  ['a guard that turns off public sharing but sets its mode', (s) => new WormSnapshotGuard(s, 'Guard', { blockPublicSharing: false, snapshotSharingBlock: 'block-new-sharing' as any }),
    { path: 'Prod/Guard', prop: 'snapshotSharingBlock', fix: 'needs blockPublicSharing: true' }],
  // --- bad ARNs and ids
  ['a copy to a vault ARN that is not one', (s) => vault(s, { rules: [{ ...rules[0], copyTo: [{ vaultArn: 'arn:aws:s3:::my-bucket' }] }] }),
    { path: 'Prod/Backups', prop: 'rules[0].copyTo[0].vaultArn', fix: 'must be a backup vault ARN such as arn:aws:backup:eu-west-1:111122223333:backup-vault:name' }],
  ['a break-glass session ARN', (s) => vault(s, { breakGlassPrincipalArns: ['arn:aws:sts::123456789012:assumed-role/Admin/alice'] }),
    { path: 'Prod/Backups', prop: 'breakGlassPrincipalArns[0]', fix: 'must be a role ARN, not an assumed-role session' }],
  ['a DLM policy ARN of another service', (s) => DlmPolicyBase.fromPolicyArn(s, 'Imported', 'arn:aws:ec2:us-east-1:123456789012:volume/vol-1'),
    { path: 'Prod', prop: 'Imported policyArn', fix: 'must be a DLM policy ARN such as arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0' }],
  ['an archive account that is not an account id', (s) => baseline(s, { tiers: [BackupTier.gold({ drRegion: 'us-west-2', archiveAccount: '1234' })] }),
    { path: 'Prod/Baseline', prop: 'tiers[0].backupPlan.archiveAccount', fix: 'must be a 12-digit AWS account id' }],
  // --- retention against a lock, and settings that exclude each other
  ['a rule shorter than the vault lock allows', (s) => vault(s, {
    vaultLock: VaultLock.governance({ minRetention: Duration.days(60) }),
  }), { path: 'Prod/Backups', prop: 'rules[0].retain', fix: '60 days', atSynth: true }],
  ['a key and the AWS managed key at once', (s) => vault(s, { encryptionKey: new kms.Key(s, 'Key'), useAwsManagedKey: true }),
    { path: 'Prod/Backups', prop: 'encryptionKey', fix: 'must not be set together with useAwsManagedKey' }],
  ['a lock on an adopted vault', (s) => vault(s, {
    vault: backup.BackupVault.fromBackupVaultName(s, 'Existing', 'company-vault'), vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }),
  }), { path: 'Prod/Backups', prop: 'vaultLock cannot be set with vault', fix: 'lock the vault in the stack or account that created it' }],
  // --- factories whose arguments are reported by the construct that uses them (issue 20)
  ['a vault lock that stays changeable for 1 day', (s) => vault(s, {
    vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), changeableFor: Duration.days(1) }),
  }), { path: 'Prod/Backups', prop: 'vaultLock VaultLock.compliance(...): changeableFor', fix: 'pass Duration.days(n) with 3 <= n <= 36500' }],
  ['a vault lock whose maximum is its minimum', (s) => vault(s, {
    vaultLock: VaultLock.governance({ minRetention: Duration.days(30), maxRetention: Duration.days(30) }),
  }), { path: 'Prod/Backups', prop: 'vaultLock VaultLock.governance(...): maxRetention', fix: 'raise maxRetention or leave it out for no maximum' }],
  ['a gold tier whose vault lock keeps nothing', (s) => baseline(s, {
    tiers: [BackupTier.gold({ drRegion: 'us-west-2', vaultLock: VaultLock.governance({ minRetention: Duration.days(0) }) })],
  }), { path: 'Prod/Baseline', prop: 'tiers[0] BackupTier.gold(...): vaultLock VaultLock.governance(...)', fix: 'pass Duration.days(n) with 1 <= n <= 36500' }],
  ['an archive vault lock in hours', (s) => new BackupArchiveVault(s, 'Archive', {
    sourceAccounts: ['111122223333'], vaultLock: VaultLock.governance({ minRetention: Duration.hours(36) }),
  }), { path: 'Prod/Archive', prop: 'vaultLock VaultLock.governance(...): minRetention', fix: 'pass Duration.days(n)' }],
  ['a snapshot lock of 12 hours in a guard', (s) => new WormSnapshotGuard(s, 'Guard', { snapshotLock: { mode: SnapshotLockMode.governance(Duration.hours(12)) } }),
    { path: 'Prod/Guard', prop: 'snapshotLock.mode SnapshotLockMode.governance(...): duration', fix: 'pass Duration.days(n) with 1 <= n <= 36500' }],
  ['a silver tier whose lock cools off for 73 hours', (s) => baseline(s, {
    tiers: [silver({ snapshotLock: SnapshotLockMode.compliance(Duration.days(7), Duration.hours(73)) })],
  }), { path: 'Prod/Baseline', prop: 'tiers[0] BackupTier.silver(...): snapshotLock SnapshotLockMode.compliance(...)', fix: 'pass Duration.hours(n) with 1 <= n <= 72' }],
  ['a Recycle Bin rule excluding by 6 tags', (s) => new WormSnapshotGuard(s, 'Guard', {
    recycleBin: { retain: Retention.age(Duration.days(7)), ruleScope: RecycleBinScope.region(Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, 'x']))) },
  }), { path: 'Prod/Guard', prop: 'recycleBin.ruleScope RecycleBinScope.region(...)', fix: 'at most 5 exclusion tags per rule' }],
  ['a Recycle Bin rule for no tags', (s) => new RecycleBinRule(s, 'Bin', {
    resourceType: RecycleBinResourceType.EBS_SNAPSHOT, retain: Retention.age(Duration.days(7)), ruleScope: RecycleBinScope.tagged({}),
  }), { path: 'Prod/Bin', prop: 'ruleScope RecycleBinScope.tagged(...)', fix: 'or use RecycleBinScope.region()' }],
  ['a window on volume ids', (s) => vss(s, { targets: MaintenanceTargets.instanceIds(['vol-0123456789abcdef0']) }),
    { path: 'Prod/Windows', prop: 'targets MaintenanceTargets.instanceIds(...): ids', fix: 'select the instances by tag with MaintenanceTargets.tagged()' }],
  ['a window on no tags', (s) => vss(s, { targets: MaintenanceTargets.tagged({}) }),
    { path: 'Prod/Windows', prop: 'targets MaintenanceTargets.tagged(...): tags', fix: 'use taggedAnyOf(key, values)' }],
  ['a drill of AMIs shared by an account named, not numbered', (s) => drill(s, { source: DrillSource.image({ owner: 'archive' }) }),
    { path: 'Prod/Drill', prop: 'source DrillSource.image(...): owner', fix: 'leave owner out for this account' }],
  ['a compliance lock (legal, irreversible)', (s) => vault(s, {
    vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), changeableFor: Duration.days(3) }),
  }), { path: 'Prod/Backups', prop: 'compliance-mode Vault Lock', fix: 'becomes immutable 3 days after deployment', warning: 'backup:compliance-lock' }],
];

describe('the mistakes a newcomer makes get a message with the place, the prop and the fix', () => {
  test('the table covers at least 30 mistakes', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });

  test.each(rows)('%s', (_name, build, expected) => {
    const stack = app();
    if (expected.warning !== undefined) {
      build(stack);
      const warnings = Annotations.fromStack(stack).findWarning(`/${expected.path}`, Match.stringLikeRegexp(`ack: cdk-ebs-backup:${expected.warning}`));
      expect(warnings).toHaveLength(1);
      const text = String(warnings[0].entry.data);
      for (const fragment of [`${expected.path}:`, expected.prop, expected.fix]) {
        expect(text).toContain(fragment);
      }
      return;
    }
    let message = '';
    try {
      build(stack);
      if (expected.atSynth) {
        (stack.node.root as App).synth();
      }
    } catch (e) {
      message = (e as Error).message;
    }
    const line = message.split('\n').find((l) => l.includes(expected.prop)) ?? message;
    // the path starts the line, the prop follows it, the fix is in the same line
    expect(line).toContain(`${expected.path}: `);
    expect(line.indexOf(expected.prop)).toBeGreaterThan(line.indexOf(`${expected.path}: `));
    expect(line).toContain(expected.fix);
  });

  test('every problem of a construct is listed at once', () => {
    const stack = app();
    expect(() => snapshots(stack, {}, [
      { ...nightly, retain: Retention.count(0) },
      { ...nightly, schedule: events.Schedule.rate(Duration.hours(5)) },
    ])).toThrow(/^Prod\/Snapshots: 3 problems\n  - Prod\/Snapshots: schedules\[0\]\.retain Retention\.count\(\.\.\.\).*\n  - Prod\/Snapshots: schedules\[1\]\.name must be unique.*\n  - Prod\/Snapshots: schedules\[1\]\.schedule must be a rate/);
  });

  // one construct, several wrong props: one error lists each, in the shape of a single problem
  const several: Array<[string, (stack: Stack) => unknown, string, string[]]> = [
    ['a vault policy', (s) => vault(s, {
      rules: [{ ...rules[0], name: 'daily backup' }],
      encryptionKey: new kms.Key(s, 'Key'),
      useAwsManagedKey: true,
      vaultLock: VaultLock.governance({ minRetention: Duration.days(0) }),
    }), 'Prod/Backups', ['encryptionKey must not be set together with useAwsManagedKey', 'vaultLock VaultLock.governance(...): minRetention',
      'rules[0].name must be 1-50 characters']],
    ['a maintenance window', (s) => vss(s, { duration: Duration.hours(30), maxErrors: 'lots', targets: MaintenanceTargets.tagged({}) }),
      'Prod/Windows', ['targets MaintenanceTargets.tagged(...)', 'duration must be between 1 hour and 1 day', 'maxErrors must be a count from 0']],
    ['a guard', (s) => new WormSnapshotGuard(s, 'Guard', {
      managedPolicyName: '',
      blockPublicSharing: false,
      snapshotSharingBlock: 'block-new-sharing' as any,
      snapshotLock: { mode: SnapshotLockMode.governance(Duration.days(0)) },
    }), 'Prod/Guard', ['managedPolicyName must be between 1 and 128 characters', 'snapshotSharingBlock needs blockPublicSharing: true',
      'snapshotLock.mode SnapshotLockMode.governance(...)']],
    ['a restore drill', (s) => drill(s, { validation: [], mountPoint: 'data', source: DrillSource.snapshots({ owner: '1234' }) }),
      'Prod/Drill', ['source DrillSource.snapshots(...)', 'validation must have between 1 and 100 items', 'mountPoint must be an absolute path']],
    ['a pre-change runbook', (s) => new PreChangeSnapshot(s, 'PreChange', { retain: Retention.count(3), rebootForImage: true }),
      'Prod/PreChange', ['rebootForImage applies only with includeImage: true', 'retain must be Retention.age(Duration.days(n)), not a count']],
    ['an archive vault', (s) => new BackupArchiveVault(s, 'Archive', {
      sourceAccounts: ['1234'], vaultName: 'x', vaultLock: VaultLock.governance({ minRetention: Duration.days(7), maxRetention: Duration.days(7) }),
    }), 'Prod/Archive', ['sourceAccounts[0] must be a 12-digit AWS account id', 'vaultName must be 2-50 characters', 'vaultLock VaultLock.governance(...): maxRetention']],
    ['a Recycle Bin rule', (s) => new RecycleBinRule(s, 'Bin', {
      resourceType: RecycleBinResourceType.EBS_SNAPSHOT,
      retain: Retention.age(Duration.days(400)),
      lockUnlockDelay: Duration.days(3),
      ruleScope: RecycleBinScope.purposes(),
    }), 'Prod/Bin', ['retain must be between 1 day and 365 days', 'ruleScope RecycleBinScope.purposes(...)', 'lockUnlockDelay must be between 7 days and 30 days',
      'lockUnlockDelay cannot be set on a tag-level rule']],
    ['a snapshot lock', (s) => new SnapshotLock(s, 'Lock', { mode: SnapshotLockMode.compliance(Duration.days(7), Duration.minutes(5)), purposes: [''] }),
      'Prod/Lock', ['mode SnapshotLockMode.compliance(...): coolOffPeriod', 'purposes[0] must be between 1 and 256 characters']],
  ];
  test.each(several)('every problem of %s at once', (_name, build, path, fragments) => {
    let message = '';
    try {
      build(app());
    } catch (e) {
      message = (e as Error).message;
    }
    const [head, ...lines] = message.split('\n');
    expect(head).toBe(`${path}: ${lines.length} problems`);
    for (const fragment of fragments) {
      expect(lines.filter((l) => l.startsWith(`  - ${path}: ${fragment}`))).toHaveLength(1);
    }
  });
});
