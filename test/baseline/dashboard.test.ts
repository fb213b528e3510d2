/**
 * The baseline's dashboard is built from the families' metric*() methods: a family that renames
 * its metrics (or its namespace) changes the dashboard with it, so a rename can never silently
 * blank a graph.
 */
import { App } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { BackupTier, BackupVaultPolicy, ConsistentSnapshotJob, EbsBackupBaseline, RestoreDrill } from '../../src';
import { DlmPolicyBase } from '../../src/dlm/policy-base';
import { SnapshotMaintenanceWindowBase } from '../../src/ssm/window-base';
import { createTestStack } from '../support';

/** The dashboard body of a baseline with every tier, as one string. */
function dashboardBody(): string {
  const stack = createTestStack(new App());
  new EbsBackupBaseline(stack, 'Baseline', {
    tiers: [BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '111122223333' }), BackupTier.silver(), BackupTier.bronze()],
    breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
  });
  const resources = stack.resolve((stack as any)._toCloudFormation().Resources);
  const dashboard = Object.values<any>(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  return JSON.stringify(dashboard.Properties.DashboardBody);
}

/** Every family's `metric()`, renamed: the metric name gets a prefix, the namespace a suffix. */
function renameEveryFamily(): void {
  for (const family of [DlmPolicyBase, BackupVaultPolicy, SnapshotMaintenanceWindowBase, RestoreDrill] as any[]) {
    const original = family.prototype.metric;
    jest.spyOn(family.prototype, 'metric').mockImplementation(function (this: any, name: any, props?: any) {
      const metric: cloudwatch.Metric = original.call(this, `Renamed${name}`, props);
      return metric;
    });
  }
  jest.replaceProperty(ConsistentSnapshotJob as { METRIC_NAMESPACE: string }, 'METRIC_NAMESPACE', 'CdkEbsBackup/RenamedJob');
}

afterEach(() => jest.restoreAllMocks());

const SHOWN = ['SnapshotsCreateFailed', 'SnapshotsCopiedRegionFailed', 'SnapshotsCreateCompleted', 'NumberOfBackupJobsCompleted', 'NumberOfBackupJobsFailed',
  'NumberOfCopyJobsCompleted', 'NumberOfCopyJobsFailed', 'NumberOfRestoreJobsCompleted', 'NumberOfRestoreJobsFailed', 'SnapshotsCreated',
  'CrashConsistentSnapshots', 'DrillSucceeded', 'TimeToRestore'];

test('renaming the families\' metrics renames every metric on the dashboard', () => {
  const quoted = (name: string) => `\\"${name}\\"`; // as it appears in the JSON-in-JSON body
  const before = dashboardBody();
  for (const name of SHOWN) {
    expect(before).toContain(quoted(name));
  }
  expect(before).toContain('CdkEbsBackup/ConsistentSnapshotJob');

  renameEveryFamily();
  const after = dashboardBody();
  for (const name of SHOWN) {
    expect([name, after.includes(quoted(name)), after.includes(quoted(`Renamed${name}`))]).toEqual([name, false, true]);
  }
  expect(after).toContain('CdkEbsBackup/RenamedJob');
  expect(after).not.toContain('CdkEbsBackup/ConsistentSnapshotJob');
});
