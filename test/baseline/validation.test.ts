import { App, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import {
  BackupTier, BackupTierProps, BaselineStackSet, EbsBackupBaseline, EbsBackupBaselineProps, Retention, SnapshotLockMode,
} from '../../src';
import { TEST_ENV } from '../support';
import { selects } from '../support/backup-selection';

// Construction-time checks need no synthesis: plain apps keep this file fast.
let stack: Stack;
beforeEach(() => {
  stack = new Stack(new App(), 'TestStack', { env: TEST_ENV });
});

const gold = () => BackupTier.gold({ drRegion: 'eu-west-1' });
const daily = events.Schedule.cron({ minute: '0', hour: '1' });

describe('EbsBackupBaseline rejects', () => {
  test.each<[string, () => EbsBackupBaselineProps, string]>([
    ['no tier', () => ({ tiers: [] }), 'TestStack/Baseline: tiers must have between 1 and 20 items, got [] (0 items)'],
    ['two tiers with one name', () => ({ tiers: [BackupTier.bronze(), BackupTier.bronze()] }), "tiers[1].name must be unique among the tiers, got 'bronze'"],
    ['a tier that is not a BackupTier', () => ({ tiers: [{ name: 'x' } as unknown as BackupTier] }), 'tiers[0] must be BackupTier.gold(), .silver(), .bronze() or .custom()'],
    ['a reserved tier tag key', () => ({ tiers: [BackupTier.bronze()], tierTagKey: 'aws:tier' }), "tierTagKey must not start with 'aws:' (reserved by AWS), got 'aws:tier'"],
    // reserved in any case ("Tag naming limits and requirements"); the baseline's own regex once let these through
    ['a reserved tier tag key in capitals', () => ({ tiers: [BackupTier.bronze()], tierTagKey: 'AWS:tier' }), "tierTagKey must not start with 'aws:' (reserved by AWS), got 'AWS:tier'"],
    ['a reserved platform tag key in mixed case', () => ({ tiers: [BackupTier.bronze()], platformTagKey: 'Aws:platform' }), "platformTagKey must not start with 'aws:' (reserved by AWS), got 'Aws:platform'"],
    ['a tier tag key with a character tags refuse', () => ({ tiers: [BackupTier.bronze()], tierTagKey: 'tier#1' }), "tierTagKey must be a tag key of letters, digits, spaces and _ . : / = + - @, got 'tier#1'"],
    ['the library purpose key as tier tag', () => ({ tiers: [BackupTier.bronze()], tierTagKey: 'backup:purpose' }), "tierTagKey must not be one of the library's artefact tag keys"],
    ['one key for tier and platform', () => ({ tiers: [BackupTier.bronze()], platformTagKey: 'backup-tier' }), "platformTagKey must differ from tierTagKey, got 'backup-tier'"],
    ['silver without any DR region', () => ({ tiers: [BackupTier.silver(), BackupTier.bronze()] }), "tiers[0].snapshots.drRegion must be given for tier 'silver'"],
    ['a DR region that is the own region', () => ({ tiers: [BackupTier.gold({ drRegion: 'us-east-1' })] }), "tiers[0].backupPlan.drRegion must be another region than the baseline's own (us-east-1), got 'us-east-1'"],
    ['a DR region that is not a region', () => ({ tiers: [BackupTier.silver({ drRegion: 'europe' })] }), "tiers[0].snapshots.drRegion must be an AWS region name such as eu-west-1, got 'europe'"],
    ['an archive account that is the own account', () => ({ tiers: [BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '123456789012' })] }), "tiers[0].backupPlan.archiveAccount must be another account than the baseline's own"],
    ['an archive account that is not an account id', () => ({ tiers: [BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '1234' })] }), "tiers[0].backupPlan.archiveAccount must be a 12-digit AWS account id, got '1234'"],
    ['a lock as long as the retention', () => ({ tiers: [gold(), BackupTier.silver({ snapshotLock: SnapshotLockMode.governance(Duration.days(14)) })] }), "tiers[1].snapshots.snapshotLock must lock snapshots for less than the tier's retention (about 14 days)"],
    ['a Recycle Bin retention over a year', () => ({ tiers: [BackupTier.bronze()], recycleBinRetain: Retention.age(Duration.days(400)) }), 'recycleBinRetain must be between 1 day and 365 days, got 400 days'],
    ['a Recycle Bin kept by count', () => ({ tiers: [BackupTier.bronze()], recycleBinRetain: Retention.count(7) }),
      "TestStack/Baseline: recycleBinRetain must be Retention.age(Duration.days(n)), not a count: Recycle Bin keeps deleted snapshots and AMIs for a period only, got 'count:7'"],
    ['a gold backup kept by count', () => ({ tiers: [BackupTier.gold({ drRegion: 'eu-west-1', backupRetain: Retention.count(30) })] }),
      'TestStack/Baseline: tiers[0].backupPlan.retain must be Retention.age(Duration.days(n)), not a count: AWS Backup keeps recovery points by age only'],
    ['gold DR copies kept by count', () => ({ tiers: [BackupTier.gold({ drRegion: 'eu-west-1', drRetain: Retention.count(30) })] }),
      'TestStack/Baseline: tiers[0].backupPlan.drRetain must be Retention.age(Duration.days(n)), not a count'],
    ['silver DR copies kept by count', () => ({ tiers: [BackupTier.silver({ drRegion: 'eu-west-1', drRetain: Retention.count(14) })] }),
      'TestStack/Baseline: tiers[0].snapshots.drRetain must be Retention.age(Duration.days(n)), not a count: DLM keeps cross-region copies by age only'],
    ['a bad DR vault name', () => ({ tiers: [gold()], drVaultName: 'my vault' }), "drVaultName must be 2-50 characters of A-Z a-z 0-9 - _, got 'my vault'"],
  ])('%s', (_name, props, fragment) => {
    expect(() => new EbsBackupBaseline(stack, 'Baseline', props())).toThrow(fragment);
  });

  test('skips tokens: a DR region from an import is known at deploy time only', () => {
    expect(() => new EbsBackupBaseline(stack, 'Baseline', {
      tiers: [BackupTier.silver({ drRegion: Fn.importValue('DrRegion') }), BackupTier.bronze()],
    })).not.toThrow();
  });
});

// A tier does not know where it goes: the baseline that uses it reports its problems with the
// baseline's path, the tier's place and the factory the user called.
describe('BackupTier rejects', () => {
  test.each<[string, () => BackupTier, string]>([
    ['a name with capitals', () => BackupTier.custom({ name: 'Gold', snapshots: { schedule: daily, retain: Retention.count(3) } }),
      "TestStack/Baseline: tiers[0] BackupTier.custom(...): name must be 1-40 characters of a-z 0-9 - (not starting or ending with -), got 'Gold'"],
    ['a name ending with -', () => BackupTier.bronze({ name: 'bronze-' }), 'tiers[0] BackupTier.bronze(...): name must be 1-40 characters of a-z 0-9 -'],
    ['a name with a space', () => BackupTier.silver({ name: 'my silver', drRegion: 'eu-west-1' }), "tiers[0] BackupTier.silver(...): name must be 1-40 characters of a-z 0-9 - (not starting or ending with -), got 'my silver'"],
    ['a bad retention in a tier', () => BackupTier.silver({ drRegion: 'eu-west-1', retain: Retention.count(0) }),
      'tiers[0] BackupTier.silver(...): retain Retention.count(...): count must be an integer between 1 and 1000, got 0'],
    ['a tier without mechanism', () => BackupTier.custom({ name: 'empty' }), 'tiers[0] BackupTier.custom(...): must have at least one of snapshots, consistentSnapshots and backupPlan'],
    ['a drill of Windows volumes only', () => BackupTier.custom({
      name: 'win', consistentSnapshots: { schedule: daily, retain: Retention.count(3), linux: false }, restoreDrill: { schedule: daily },
    } as BackupTierProps), 'tiers[0] BackupTier.custom(...): restoreDrill needs snapshots or Linux consistentSnapshots to restore'],
    ['consistent snapshots for no platform', () => BackupTier.custom({
      name: 'none', consistentSnapshots: { schedule: daily, retain: Retention.count(3), linux: false, windows: false },
    }), 'tiers[0] BackupTier.custom(...): consistentSnapshots must keep windows or linux enabled'],
  ])('%s', (_name, make, fragment) => {
    const tier = make();
    expect(() => new EbsBackupBaseline(stack, 'Baseline', { tiers: [tier] })).toThrow(fragment);
  });

  test('lists every problem of the baseline at once', () => {
    expect(() => new EbsBackupBaseline(stack, 'Baseline', {
      tierTagKey: 'aws:tier',
      tiers: [BackupTier.silver({ name: 'my silver', retain: Retention.count(0) }), BackupTier.bronze(), BackupTier.bronze()],
    })).toThrow([
      'TestStack/Baseline: 4 problems',
      "  - TestStack/Baseline: tierTagKey must not start with 'aws:' (reserved by AWS), got 'aws:tier'",
      "  - TestStack/Baseline: tiers[0] BackupTier.silver(...): name must be 1-40 characters of a-z 0-9 - (not starting or ending with -), got 'my silver'; " +
        "the name is the tier tag's value and the prefix of its purpose tags: use e.g. 'gold-eu'",
      '  - TestStack/Baseline: tiers[0] BackupTier.silver(...): retain Retention.count(...): count must be an integer between 1 and 1000, got 0; ' +
        'keep between 1 and 1000 artefacts, or use Retention.age(Duration.days(n)) to keep them by age',
      "  - TestStack/Baseline: tiers[2].name must be unique among the tiers, got 'bronze'; give each tier its own name (the tier tag value selects its instances)",
    ].join('\n'));
  });
});

describe('BaselineStackSet rejects', () => {
  const baseline = { tiers: [gold(), BackupTier.silver(), BackupTier.bronze()] };
  test.each<[string, Partial<ConstructorParameters<typeof BaselineStackSet>[2]>, string]>([
    ['no OU', { organizationalUnitIds: [] }, 'organizationalUnitIds must have between 1 and 1000 items'],
    ['an account id as OU', { organizationalUnitIds: ['123456789012'] }, "organizationalUnitIds[0] must be an organization root (r-...) or OU id (ou-...-...), got '123456789012'"],
    ['the DR region as a deployment region', { regions: ['us-east-1', 'eu-west-1'] }, "regions[1] must not be a DR region of the baseline (a region cannot copy to itself), got 'eu-west-1'"],
    ['a bad StackSet name', { stackSetName: '1-baseline' }, 'stackSetName must be a StackSet name'],
    ['a concurrency over 100%', { maxConcurrentPercentage: 150 }, 'maxConcurrentPercentage must be an integer between 1 and 100, got 150'],
  ])('%s', (_name, override, fragment) => {
    expect(() => new BaselineStackSet(stack, 'Rollout', {
      baseline, organizationalUnitIds: ['ou-abcd-12345678'], regions: ['us-east-1'], ...override,
    })).toThrow(fragment);
  });
});

describe('configuration', () => {
  test('a second baseline in the same account and region leaves public sharing to the first', () => {
    // GIVEN tiers split over two stacks of one account and region
    new EbsBackupBaseline(stack, 'First', { tiers: [BackupTier.bronze()], checks: false });
    const second = new Stack(stack.node.root, 'Second', { env: TEST_ENV });
    // THEN the account setting is created once
    expect(() => new EbsBackupBaseline(second, 'Baseline', { tiers: [BackupTier.bronze({ name: 'scratch' })], blockPublicSharing: false, checks: false }))
      .not.toThrow();
    expect(() => new EbsBackupBaseline(new Stack(stack.node.root, 'Third', { env: TEST_ENV }), 'Baseline', { tiers: [BackupTier.bronze()], checks: false }))
      .toThrow(/Third\/Baseline: blockPublicSharing blocks public sharing, an account-and-region setting that TestStack\/First \(blockPublicSharing\) already blocks for 123456789012\/us-east-1, got true; set blockPublicSharing: false on Third\/Baseline/);
  });

  test('the tier and platform tag keys are configurable and reach every selection', () => {
    // GIVEN a company that already tags instances with BackupTier and OS
    const baseline = new EbsBackupBaseline(stack, 'Baseline', {
      tiers: [BackupTier.gold({ drRegion: 'eu-west-1' }), BackupTier.silver(), BackupTier.bronze()],
      tierTagKey: 'BackupTier',
      platformTagKey: 'OS',
      checks: false,
      drVaultCreatedElsewhere: true,
    });
    // THEN the DLM targets, the window targets and the Backup selection use them
    const template = Template.fromStack(stack).toJSON();
    const of = (type: string) => Object.values<any>(template.Resources).filter((r) => r.Type === type);
    expect(of('AWS::DLM::LifecyclePolicy').map((p) => p.Properties.PolicyDetails.TargetTags)).toEqual([
      [{ Key: 'BackupTier', Value: 'silver' }], [{ Key: 'BackupTier', Value: 'bronze' }],
    ]);
    expect(of('AWS::SSM::MaintenanceWindowTarget').map((t) => t.Properties.Targets)).toEqual([
      [{ Key: 'tag:BackupTier', Values: ['gold'] }, { Key: 'tag:OS', Values: ['windows'] }],
      [{ Key: 'tag:BackupTier', Values: ['gold'] }, { Key: 'tag:OS', Values: ['linux'] }],
    ]);
    // AWS Backup's documented selection semantics: the configured key selects, the default does not
    const selection = of('AWS::Backup::BackupSelection')[0].Properties.BackupSelection;
    expect(selects(selection, { arn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1', tags: { BackupTier: 'gold' } })).toBe(true);
    expect(selects(selection, { arn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1', tags: { 'backup:tier': 'gold' } })).toBe(false);
    expect(baseline.coverageMarkdown()).toContain('Tier tag `BackupTier`, platform tag `OS`');
  });
});
