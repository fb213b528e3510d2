import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupTier, EbsBackupBaseline, Retention } from '../../src';
import { TEST_ENV } from '../support';
import { selectedBy } from '../support/backup-selection';

/** A volume attached to an instance. */
interface Volume { readonly id: string; readonly boot: boolean; readonly tags: Record<string, string> }
/** An instance with its tags and volumes. */
interface Instance { readonly tags: Record<string, string>; readonly volumes: Volume[] }

const hasAny = (tags: Record<string, string>, pairs: Array<{ Key: string; Value: string }> = []) => pairs.some((p) => tags[p.Key] === p.Value);

/**
 * The volumes a DLM snapshot policy that targets instances puts in its multi-volume snapshot set,
 * as the DLM documentation states it: AWS::DLM::LifecyclePolicy Parameters — "ExcludeBootVolume
 * [...] the root volume is excluded from the multi-volume snapshot sets" and "ExcludeDataVolumeTags
 * [...] data volumes with the specified tags that are attached to targeted instances will be
 * excluded from the multi-volume snapshot sets created by the policy"; PolicyDetails TargetTags
 * selects the instances that carry any of the tags.
 */
function snapshotSet(policyDetails: any, instance: Instance): string[] {
  if (!hasAny(instance.tags, policyDetails.TargetTags)) {
    return [];
  }
  const p = policyDetails.Parameters ?? {};
  return instance.volumes
    .filter((v) => v.boot ? !p.ExcludeBootVolume : !hasAny(v.tags, p.ExcludeDataVolumeTags))
    .map((v) => v.id);
}

function silverPolicy(options: Parameters<typeof BackupTier.silver>[0]): any {
  const stack = new Stack(new App(), 'Prod', { env: TEST_ENV });
  new EbsBackupBaseline(stack, 'Baseline', { tiers: [BackupTier.silver({ drRegion: 'us-west-2', ...options })], checks: false });
  const policies = Object.values<any>(Template.fromStack(stack).findResources('AWS::DLM::LifecyclePolicy'))
    .filter((r) => r.Properties.PolicyDetails.PolicyType === 'EBS_SNAPSHOT_MANAGEMENT' && r.Properties.PolicyDetails.ResourceTypes?.includes('INSTANCE'));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDetails;
}

const database: Instance = {
  tags: { 'backup-tier': 'silver' },
  volumes: [
    { id: 'vol-root', boot: true, tags: { 'backup-tier': 'silver' } },
    { id: 'vol-data', boot: false, tags: { 'backup-tier': 'silver' } },
    { id: 'vol-scratch', boot: false, tags: { 'backup-tier': 'silver', 'Backup': 'skip' } },
  ],
};

describe('a tier leaves out the volumes tagged for exclusion', () => {
  test('the tagged scratch volume is not in the snapshot set; the boot and data volumes are', () => {
    const details = silverPolicy({ excludeVolumeTags: { Backup: 'skip' } });
    expect(snapshotSet(details, database)).toEqual(['vol-root', 'vol-data']);
  });

  test('without exclusion every volume of the tier\'s instances is in the set', () => {
    expect(snapshotSet(silverPolicy({}), database)).toEqual(['vol-root', 'vol-data', 'vol-scratch']);
  });

  test('excluding by the tier tag itself (which volumes inherit) is refused with the fix', () => {
    expect(() => silverPolicy({ excludeVolumeTags: { 'backup-tier': 'silver' } })).toThrow(
      "Prod/Baseline: tiers[0].snapshots.excludeVolumeTags must not name the tier tag key 'backup-tier', got {\"backup-tier\":\"silver\"}; " +
      'name a tag only the volumes to leave out carry, e.g. { Backup: "skip" }');
  });

  test('an empty exclusion is refused', () => {
    expect(() => silverPolicy({ excludeVolumeTags: {} })).toThrow('Prod/Baseline: tiers[0].snapshots.excludeVolumeTags must name at least one tag');
  });
});

describe('a tier with a backup plan cannot leave a volume out of it', () => {
  // AWS Backup selects the tier's EC2 instances (its selection conditions filter a resource by the
  // resource's own tags), and an EC2 backup is an AMI of the instance with every attached EBS
  // volume (AWS Backup Developer Guide, "Amazon EBS multi-volume, crash-consistent backups")
  const instanceArn = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0';
  function recoveryPointVolumes(template: any, instance: Instance): string[] {
    const selected = selectedBy(template, [{ arn: instanceArn, tags: instance.tags }]);
    return selected.includes(instanceArn) ? instance.volumes.map((v) => v.id) : [];
  }

  test('the backup plan keeps the excluded volume and the baseline warns, naming the prop and the fix', () => {
    const stack = new Stack(new App(), 'Prod', { env: TEST_ENV });
    const daily = events.Schedule.cron({ minute: '0', hour: '3' });
    new EbsBackupBaseline(stack, 'Baseline', {
      checks: false,
      tiers: [BackupTier.custom({
        name: 'silver',
        snapshots: { schedule: daily, retain: Retention.count(7), excludeVolumeTags: { Backup: 'skip' } },
        backupPlan: { schedule: daily, retain: Retention.age(Duration.days(35)), restoreTesting: false },
      })],
    });
    const template = Template.fromStack(stack).toJSON();
    expect(recoveryPointVolumes(template, database)).toEqual(['vol-root', 'vol-data', 'vol-scratch']);
    const warnings = Annotations.fromStack(stack).findWarning('/Prod/Baseline', Match.stringLikeRegexp('cdk-ebs-backup:baseline:excluded-volumes-backed-up'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toContain("Prod/Baseline: tiers[0].snapshots.excludeVolumeTags leaves volumes out of the tier's DLM snapshots only");
    expect(String(warnings[0].entry.data)).toContain('drop backupPlan from the tier or move them to instances of another tier');
  });

  test('a tier without a backup plan gets no such warning', () => {
    const stack = new Stack(new App(), 'Prod', { env: TEST_ENV });
    new EbsBackupBaseline(stack, 'Baseline', { tiers: [BackupTier.silver({ drRegion: 'us-west-2', excludeVolumeTags: { Backup: 'skip' } })], checks: false });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('excluded-volumes-backed-up'))).toHaveLength(0);
  });
});
