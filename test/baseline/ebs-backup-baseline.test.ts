import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DeploymentPrerequisites, EbsBackupBaseline, BackupTier, BackupTagging } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { selects } from '../support/backup-selection';
import { matchesPattern, renderIntrinsicsForEvents } from '../support/event-pattern';

// One synthesis for the whole file: through every gate, it takes a minute on a loaded machine.
let app: App;
let stack: Stack;
let baseline: EbsBackupBaseline;
let template: Template;
let json: any;

beforeAll(() => {
  app = createCheckedApp();
  stack = createTestStack(app);
  Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the organization prerequisites are in place (README Before you deploy)' });
  // --- the public contract of issue 9, verbatim
  baseline = new EbsBackupBaseline(stack, 'Baseline', {
    tiers: [
      BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '111122223333' }),
      BackupTier.silver(),
      BackupTier.bronze(),
    ],
    breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
  });
  // baseline.dashboard: the CloudWatch dashboard
  // --- end of the contract
  const drVault = baseline.addDrVaultStack('DrVault'); // gold's DR copies need their vault in eu-west-1
  Validations.of(drVault).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the organization prerequisites are in place (README Before you deploy)' });
  json = checkedTemplate(stack);
  template = Template.fromJSON(json);
}, 600_000);

const resources = (type: string) => Object.values<any>(json.Resources).filter((r) => r.Type === type);
const tagMap = (list: Array<{ Key: string; Value: string }> | undefined) => Object.fromEntries((list ?? []).map((t) => [t.Key, t.Value]));

describe('the contract', () => {
  test('synthesizes through every gate and exposes the dashboard', () => {
    expect(baseline.dashboard).toBeDefined();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(baseline.tiers.map((t) => t.name)).toEqual(['gold', 'silver', 'bronze']);
  });
});

describe('gold', () => {
  test('takes VSS snapshots of Windows and fsfreeze snapshots of Linux instances of the tier every 4 hours', () => {
    template.hasResourceProperties('AWS::SSM::MaintenanceWindowTarget', {
      Targets: [{ Key: 'tag:backup-tier', Values: ['gold'] }, { Key: 'tag:backup-platform', Values: ['windows'] }],
    });
    template.hasResourceProperties('AWS::SSM::MaintenanceWindowTarget', {
      Targets: [{ Key: 'tag:backup-tier', Values: ['gold'] }, { Key: 'tag:backup-platform', Values: ['linux'] }],
    });
    template.resourcePropertiesCountIs('AWS::SSM::MaintenanceWindow', { Schedule: 'rate(4 hours)' }, 2);
    template.hasResourceProperties('AWS::SSM::MaintenanceWindowTask', {
      TaskArn: 'AWSEC2-CreateVssSnapshot',
      MaxConcurrency: '100%',
    });
  });

  test('backs the tier up with AWS Backup into a compliance-locked vault, with VSS, and copies to the DR region and the archive account', () => {
    template.hasResourceProperties('AWS::Backup::BackupVault', {
      LockConfiguration: { MinRetentionDays: 7, MaxRetentionDays: 3650, ChangeableForDays: 3 },
    });
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        AdvancedBackupSettings: [{ BackupOptions: { WindowsVSS: 'enabled' }, ResourceType: 'EC2' }],
        BackupPlanRule: [Match.objectLike({
          ScheduleExpression: 'cron(0 5 * * ? *)',
          Lifecycle: { DeleteAfterDays: 35 },
          CopyActions: [
            { DestinationBackupVaultArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':backup:eu-west-1:123456789012:backup-vault:ebs-backup-dr']] }, Lifecycle: { DeleteAfterDays: 35 } },
            { DestinationBackupVaultArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':backup:us-east-1:111122223333:backup-vault:ebs-backup-archive']] }, Lifecycle: { DeleteAfterDays: 365 } },
          ],
        })],
      },
    });
  });

  test('is restore-tested by AWS Backup and by a weekly RestoreDrill of the Linux consistent snapshots', () => {
    template.resourceCountIs('AWS::Backup::RestoreTestingPlan', 1);
    expect(baseline.restoreDrills).toHaveLength(1);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 6 ? * SUN *)' });
  });
});

describe('silver', () => {
  test('takes daily DLM snapshots of the tier, copied to the DR region', () => {
    template.hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      PolicyDetails: Match.objectLike({
        ResourceTypes: ['INSTANCE'],
        TargetTags: [{ Key: 'backup-tier', Value: 'silver' }],
        Schedules: [Match.objectLike({
          CreateRule: { CronExpression: 'cron(0 3 * * ? *)' },
          RetainRule: { Count: 14 },
          CrossRegionCopyRules: [Match.objectLike({ Target: 'eu-west-1', Encrypted: true, RetainRule: { Interval: 14, IntervalUnit: 'DAYS' } })],
        })],
      }),
    });
  });

  test('locks its snapshots in governance mode for 7 days, and only those', () => {
    const machine = Object.values<any>(resources('AWS::StepFunctions::StateMachine'))
      .map((m) => JSON.stringify(m.Properties.DefinitionString))
      .find((d) => d.includes('lockSnapshot'))!;
    expect(machine).toContain("'LockDuration': 7");
    expect(machine).toContain("$mode := $compliant ? 'compliance' : 'governance'");
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ec2:LockSnapshot', Condition: { StringEquals: { 'aws:ResourceTag/backup:purpose': ['silver-snapshots'] } } })]) },
    });
  });
});

describe('bronze', () => {
  test('takes daily DLM snapshots kept locally', () => {
    const bronze = resources('AWS::DLM::LifecyclePolicy').find((p) => tagMap(p.Properties.PolicyDetails.TargetTags)['backup-tier'] === 'bronze');
    expect(bronze.Properties.PolicyDetails.Schedules).toEqual([expect.objectContaining({
      CreateRule: { CronExpression: 'cron(0 2 * * ? *)' },
      RetainRule: { Count: 7 },
    })]);
    expect(bronze.Properties.PolicyDetails.Schedules[0].CrossRegionCopyRules).toBeUndefined();
  });
});

describe('always on', () => {
  test('a locked region-level Recycle Bin for snapshots and AMIs, no longer than bronze keeps its snapshots', () => {
    for (const type of ['EBS_SNAPSHOT', 'EC2_IMAGE']) {
      template.hasResourceProperties('AWS::Rbin::Rule', {
        ResourceType: type,
        RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' },
        LockConfiguration: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' },
        ResourceTags: Match.absent(),
        ExcludeResourceTags: Match.absent(),
      });
    }
  });

  test('block public sharing and a deny policy that exempts break-glass and every role that expires backups', () => {
    template.hasResourceProperties('AWS::EC2::SnapshotBlockPublicAccess', { State: 'block-all-sharing' });
    const deny = resources('AWS::IAM::ManagedPolicy').flatMap((p) => p.Properties.PolicyDocument.Statement).find((s: any) => s.Sid === 'DenyBackupDeletion');
    const exempt = JSON.stringify(deny.Condition.ArnNotLike['aws:PrincipalArn']);
    expect(exempt).toContain('arn:aws:iam::123456789012:role/BreakGlass');
    for (const role of ['DlmExecutionRole', 'goldBackupBackupRole', 'goldVssHousekeepingRole', 'goldFsfreezeHousekeepingRole']) {
      expect(exempt).toContain(role);
    }
  });

  test('every alarm notifies the baseline topic', () => {
    const alarms = resources('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(10);
    for (const alarm of alarms) {
      expect(JSON.stringify(alarm.Properties.AlarmActions ?? [])).toMatch(/Notifications|Topic/);
    }
    expect(baseline.alarms.length).toBe(alarms.length);
  });

  test('every DLM policy going into ERROR notifies the baseline topic, one rule per policy', () => {
    const policyIds = Object.keys(json.Resources).filter((id) => json.Resources[id].Type === 'AWS::DLM::LifecyclePolicy').sort();
    expect(policyIds).toHaveLength(2); // silver and bronze
    const rules = resources('AWS::Events::Rule').filter((r) => r.Properties.EventPattern?.source?.[0] === 'aws.dlm');
    const byPolicy = rules.map((r) => ({
      pattern: r.Properties.EventPattern,
      targets: r.Properties.Targets.map((t: any) => t.Arn),
    })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(byPolicy).toEqual(policyIds.map((id) => ({
      pattern: { 'source': ['aws.dlm'], 'detail-type': ['DLM Policy State Change'], 'detail': { state: ['ERROR'] }, 'resources': [{ 'Fn::GetAtt': [id, 'Arn'] }] },
      targets: [stack.resolve(baseline.alarmTopic.topicArn)],
    })));
  });
});

describe('dashboard', () => {
  test('shows job outcomes, DLM failures, snapshots by purpose, the pause window, the bin and lock state, and the tier promises', () => {
    const body = JSON.stringify(resources('AWS::CloudWatch::Dashboard')[0].Properties.DashboardBody);
    for (const fragment of [
      'What each tier promises', 'NumberOfBackupJobsFailed', 'NumberOfCopyJobsFailed', 'NumberOfRestoreJobsCompleted',
      'SnapshotsCreateFailed', 'SnapshotsCopiedRegionFailed', 'Snapshots created, by purpose', 'SnapshotsCreated',
      'PauseWindow', 'Recycle Bin and locks', 'locked, unlock delay 7 days', 'alarm', 'EBS Snapshot Lock governance 7 days',
    ]) {
      expect(body).toContain(fragment);
    }
    expect(baseline.promisesMarkdown()).toContain('| gold | `backup-tier=gold` | 1 day(s) (4 hour(s) with platform tag)');
  });
});

describe('coverage report', () => {
  test('is written to cdk.out as JSON and Markdown with tiers, selection tags, protections and worst-case RPO', () => {
    const md = fs.readFileSync(path.join(app.outdir, EbsBackupBaseline.COVERAGE_REPORT_MARKDOWN), 'utf8');
    expect(EbsBackupBaseline.COVERAGE_REPORT_MARKDOWN).toBe('coverage-report.md');
    expect(md).toContain('| silver | `backup-tier=silver` | 1 d | 1 d | dlm-snapshots (cron(0 3 * * ? *); keep count:14, copy region eu-west-1 (age:14d), lock governance 7 days)');
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, EbsBackupBaseline.COVERAGE_REPORT_JSON), 'utf8'));
    const gold = report.baselines[0].tiers.find((t: any) => t.name === 'gold');
    expect(gold).toMatchObject({ selection: { 'backup-tier': 'gold' }, worstCaseRpoHours: 24, platformRpoHours: 4 });
    expect(gold.mechanisms.map((m: any) => m.mechanism)).toEqual(['vss-window', 'fsfreeze-window', 'aws-backup', 'aws-backup-restore-testing', 'restore-drill']);
    expect(report.baselines[0].alwaysOn.join('\n')).toMatch(/Recycle Bin for snapshots and AMIs, 7 days, locked/);
  });

  test('names the managed policy that member accounts attach to the instance roles of each window, as deployed', () => {
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, EbsBackupBaseline.COVERAGE_REPORT_JSON), 'utf8'));
    const md = fs.readFileSync(path.join(app.outdir, EbsBackupBaseline.COVERAGE_REPORT_MARKDOWN), 'utf8');
    const gold = report.baselines[0].tiers.find((t: any) => t.name === 'gold');
    const named = gold.mechanisms.filter((m: any) => m.instancePolicy).map((m: any) => [m.mechanism, m.instancePolicy]);
    expect(named).toEqual([['vss-window', expect.stringMatching(/^EbsBackupVss-gold-vss-/)], ['fsfreeze-window', expect.stringMatching(/^EbsBackupFsfreeze-gold-fsfreeze-/)]]);
    // the names are those of the managed policies the stack deploys (rendered like the report: {Ref: X} as <X>)
    const deployed = resources('AWS::IAM::ManagedPolicy').map((p) => p.Properties.ManagedPolicyName)
      .map((n: any) => (typeof n === 'string' ? n : n?.['Fn::Join'][1].map((x: any) => (typeof x === 'string' ? x : `<${x.Ref}>`)).join('')));
    for (const [, name] of named) {
      expect(deployed).toContain(name);
      expect(md).toContain(`instance roles attach \`${name}\``);
    }
  });
});

describe('end-to-end line-up of tags', () => {
  test('the tier tag is what DLM and AWS Backup select, the snapshot purpose is what the bin and deny protect, the retention tag is the retention', () => {
    const keys = BackupTagging.keys(stack);
    // the deny policy (the windows' instance policies are managed policies too)
    const denyStatements = resources('AWS::IAM::ManagedPolicy').map((p) => p.Properties.PolicyDocument.Statement)
      .find((statements: any[]) => statements.some((s: any) => s.Sid === 'DenyBackupDeletion'));
    const protectedPurposes = new Set<string>(denyStatements.find((s: any) => s.Sid === 'DenyBackupDeletion').Condition.StringEquals[`aws:ResourceTag/${keys.purpose}`]);
    const bin = resources('AWS::Rbin::Rule').find((r) => r.Properties.ResourceType === 'EBS_SNAPSHOT');
    const binCovers = (tags: Record<string, string>) => bin.Properties.ResourceTags === undefined
      ? !(bin.Properties.ExcludeResourceTags ?? []).some((t: any) => tags[t.ResourceTagKey] === t.ResourceTagValue)
      : bin.Properties.ResourceTags.some((t: any) => tags[t.ResourceTagKey] === t.ResourceTagValue);

    // What each tier's mechanisms carry, as specific values: the loop below records what it saw,
    // so a tier that lost a mechanism (or a loop that skipped everything) fails the comparison.
    const seen: string[] = [];
    for (const tier of baseline.tiers) {
      const d = tier.definition;
      if (d.snapshots) {
        seen.push(`${tier.name} dlm ${tier.snapshotPurpose} ${d.snapshots.retain.toTagValue()}`);
        const policy = resources('AWS::DLM::LifecyclePolicy').find((p) => tagMap(p.Properties.PolicyDetails.TargetTags)[baseline.tierTagKey] === tier.name);
        expect(tagMap(policy.Properties.PolicyDetails.TargetTags)).toEqual({ [baseline.tierTagKey]: tier.name });
        const schedule = policy.Properties.PolicyDetails.Schedules[0];
        const tags = tagMap(schedule.TagsToAdd);
        expect(tags[keys.purpose]).toBe(tier.snapshotPurpose);
        expect(tags[keys.retention]).toBe(d.snapshots.retain.toTagValue());
        expect(schedule.RetainRule).toEqual(d.snapshots.retain.maxCount !== undefined ? { Count: d.snapshots.retain.maxCount } : expect.anything());
        expect(protectedPurposes.has(tags[keys.purpose])).toBe(true);
        expect(binCovers(tags)).toBe(true);
      }
      if (d.backupPlan) {
        seen.push(`${tier.name} backup ${tier.backupPurpose} ${d.backupPlan.retain.maxAge!.toDays()}d`);
        // evaluated with AWS Backup's documented selection semantics (test/support/backup-selection.ts)
        const arns = ['arn:aws:ec2:us-east-1:123456789012:volume/vol-0aaaaaaaaaaaaaaa1', 'arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1'];
        const inTier = arns.map((arn) => ({ arn, tags: { [baseline.tierTagKey]: tier.name } }));
        const selection = resources('AWS::Backup::BackupSelection').find((s) => inTier.some((r) => selects(s.Properties.BackupSelection, r)));
        expect(selection).toBeDefined();
        for (const arn of arns) {
          expect(selects(selection.Properties.BackupSelection, { arn, tags: { [baseline.tierTagKey]: `not-${tier.name}` } })).toBe(false);
          expect(selects(selection.Properties.BackupSelection, { arn, tags: {} })).toBe(false);
        }
        const rule = resources('AWS::Backup::BackupPlan').flatMap((p) => p.Properties.BackupPlan.BackupPlanRule).find((r) => r.RecoveryPointTags[keys.purpose] === tier.backupPurpose);
        expect(rule.RecoveryPointTags[keys.retention]).toBe(d.backupPlan.retain.toTagValue());
        expect(rule.Lifecycle.DeleteAfterDays).toBe(d.backupPlan.retain.maxAge!.toDays());
        expect(protectedPurposes.has(tier.backupPurpose)).toBe(true);
        expect(binCovers(rule.RecoveryPointTags)).toBe(true);
      }
      if (d.consistentSnapshots) {
        for (const [platform, purpose] of [['windows', tier.windowsPurpose], ['linux', tier.linuxPurpose]]) {
          seen.push(`${tier.name} ${platform}-window ${purpose} ${d.consistentSnapshots.retain.toTagValue()}`);
          const target = resources('AWS::SSM::MaintenanceWindowTarget').find((t) => JSON.stringify(t.Properties.Targets)
            === JSON.stringify([{ Key: `tag:${baseline.tierTagKey}`, Values: [tier.name] }, { Key: `tag:${baseline.platformTagKey}`, Values: [platform] }]));
          expect(target).toBeDefined();
          const window = baseline.maintenanceWindows.find((w) => w.snapshotTags[keys.purpose] === purpose)!;
          expect(window.snapshotTags[keys.retention]).toBe(d.consistentSnapshots.retain.toTagValue());
          expect(protectedPurposes.has(purpose)).toBe(true);
          expect(binCovers(window.snapshotTags)).toBe(true);
        }
      }
    }
    expect(seen).toEqual([
      'gold backup gold-backup 35d',
      'gold windows-window gold-vss age:3d',
      'gold linux-window gold-fsfreeze age:3d',
      'silver dlm silver-snapshots count:14',
      'bronze dlm bronze-snapshots count:7',
    ]);
    // the silver lock locks exactly the purpose its snapshots carry
    expect(baseline.snapshotLocks).toHaveLength(1);
    const lockStatements = resources('AWS::IAM::Policy').flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => st.Action === 'ec2:LockSnapshot' && st.Effect === 'Allow');
    // ...and only for at least its configured duration (the role can lengthen a lock, never shorten it)
    expect(lockStatements.map((st: any) => st.Condition)).toEqual([{
      StringEquals: { [`aws:ResourceTag/${keys.purpose}`]: ['silver-snapshots'] },
      NumericGreaterThanEquals: { 'ec2:SnapshotLockDuration': 7 },
    }]);
  });
});

describe('change detection', () => {
  // CloudTrail management events as EventBridge delivers them ("Events from AWS services")
  const rules = () => resources('AWS::Events::Rule').filter((r) => r.Properties.EventPattern?.['detail-type']?.[0] === 'AWS API Call via CloudTrail');
  const event = (eventSource: string, eventName: string, requestParameters: Record<string, unknown>) => ({
    'detail-type': 'AWS API Call via CloudTrail',
    'source': `aws.${eventSource.split('.')[0]}`,
    'detail': { eventSource, eventName, requestParameters, eventType: 'AwsApiCall' },
  });
  const alarming = (e: unknown) => rules().filter((r) => matchesPattern(renderIntrinsicsForEvents(r.Properties.EventPattern, '123456789012', 'us-east-1'), e));
  const ref = (r: any) => renderIntrinsicsForEvents({ Ref: Object.entries<any>(json.Resources).find(([, v]) => v === r)![0] }, '123456789012', 'us-east-1');

  test('changing any of the baseline\'s DLM policies, vaults or Recycle Bin rules notifies its alarm topic (once); another account resource does not', () => {
    const topic = stack.resolve((baseline.alarmTopic as any).topicArn);
    const idOf = (r: any) => Object.entries<any>(json.Resources).find(([, v]) => v === r)![0];
    // each rule's matches alarm (TriggeredRules, per rule) to the topic; the baseline's own rules also deliver the event
    const alarmedRules = resources('AWS::CloudWatch::Alarm')
      .filter((a) => JSON.stringify(a.Properties.AlarmActions ?? []) === JSON.stringify([topic]))
      .flatMap((a) => (a.Properties.Metrics ?? []).filter((m: any) => m.MetricStat?.Metric?.MetricName === 'TriggeredRules')
        .map((m: any) => m.MetricStat.Metric.Dimensions[0].Value.Ref));
    for (const r of rules()) {
      expect([idOf(r), alarmedRules.includes(idOf(r))]).toEqual([idOf(r), true]);
      expect(r.Properties.Targets ?? [expect.objectContaining({ Arn: topic })]).toEqual([expect.objectContaining({ Arn: topic })]);
    }
    for (const policy of resources('AWS::DLM::LifecyclePolicy')) {
      expect(alarming(event('dlm.amazonaws.com', 'UpdateLifecyclePolicy', { policyId: ref(policy), state: 'DISABLED' }))).toHaveLength(1);
    }
    for (const vault of resources('AWS::Backup::BackupVault')) {
      expect(alarming(event('backup.amazonaws.com', 'DeleteBackupVaultAccessPolicy', { backupVaultName: ref(vault) }))).toHaveLength(1);
    }
    const bins = resources('AWS::Rbin::Rule');
    expect(bins.length).toBeGreaterThan(0);
    for (const bin of bins) {
      const identifier = renderIntrinsicsForEvents({ 'Fn::GetAtt': [Object.entries<any>(json.Resources).find(([, v]) => v === bin)![0], 'Identifier'] }, '', '');
      expect(alarming(event('rbin.amazonaws.com', 'UnlockRule', { identifier }))).toHaveLength(1);
    }
    expect(alarming(event('dlm.amazonaws.com', 'UpdateLifecyclePolicy', { policyId: 'policy-0aaaabbbbccccdddd' }))).toEqual([]);
    expect(alarming(event('dlm.amazonaws.com', 'GetLifecyclePolicy', { policyId: ref(resources('AWS::DLM::LifecyclePolicy')[0]) }))).toEqual([]);
  });
});
