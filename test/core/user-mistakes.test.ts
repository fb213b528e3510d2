import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  BackupTier, BackupVaultPolicy, BackupVaultPolicyProps, BlockPublicSharing, DlmPolicyBase, DlmSnapshotPolicy, EbsBackupBaseline,
  EbsBackupBaselineProps, FsfreezeMaintenanceWindow, MaintenanceTargets, Retention, SnapshotLockMode, SnapshotSchedule, SnapshotTarget,
  VaultLock, WormSnapshotGuard,
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
});
