import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { TierFacts } from './report';
import { BackupVaultPolicy } from '../backup/vault-policy';
import { DlmPolicyBase } from '../dlm/policy-base';
import { ConsistentSnapshotJob } from '../orchestration/consistent-snapshot-job';
import { RestoreDrill } from '../restore/restore-drill';
import { SnapshotMaintenanceWindowBase } from '../ssm/window-base';

// Every metric below comes from its family's metric*() methods: a family that renames a metric
// or a namespace changes this dashboard with it, and nothing here spells another family's names.

/** A mechanism on the dashboard, labelled by the purpose it serves. */
interface Labelled<T> {
  readonly purpose: string;
  readonly source: T;
}

/** A Recycle Bin rule on the dashboard. */
export interface DashboardBin {
  readonly ruleId: string;
  readonly what: string;
  readonly retentionDays: number;
  readonly unlockDelayDays?: number;
}

/** What the dashboard shows. */
export interface DashboardInputs {
  readonly dashboardName?: string;
  readonly tiers: TierFacts[];
  readonly vaults: Array<Labelled<BackupVaultPolicy>>;
  readonly dlmPolicies: Array<Labelled<DlmPolicyBase>>;
  readonly windows: Array<Labelled<SnapshotMaintenanceWindowBase>>;
  readonly bins: DashboardBin[];
  readonly locks: string[];
  readonly alarms: cloudwatch.IAlarm[];
  readonly drills: RestoreDrill[];
}

function hours(h: number | undefined): string {
  return h === undefined ? 'unknown' : h >= 24 && h % 24 === 0 ? `${h / 24} day(s)` : `${h} hour(s)`;
}

/** The tier promises as a Markdown table (RPO, retention, copies). */
export function promisesMarkdown(tiers: TierFacts[]): string {
  const rows = tiers.map((t) => {
    const retention = t.mechanisms.filter((m) => m.retention).map((m) => `${m.mechanism}: ${m.retention}`).join(', ');
    const copies = t.mechanisms.flatMap((m) => m.copies).join(', ') || 'none';
    const tag = Object.entries(t.selection).map(([k, v]) => `${k}=${v}`).join(' ');
    return `| ${t.name} | \`${tag}\` | ${hours(t.worstCaseRpoHours)} (${hours(t.platformRpoHours)} with platform tag) | ${retention} | ${copies} |`;
  });
  return ['## What each tier promises', '', '| Tier | Tag | Worst-case RPO | Retention | Copies |', '|---|---|---|---|---|', ...rows].join('\n');
}

/**
 * The baseline's dashboard: backup, copy and restore(-test) job outcomes, DLM create and copy
 * failures, snapshots created by purpose, the pause window of consistent jobs, the Recycle Bin
 * and lock state, every alarm, and what each tier promises.
 */
export function createDashboard(scope: Construct, id: string, inputs: DashboardInputs): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, id, {
    dashboardName: inputs.dashboardName,
    defaultInterval: Duration.days(7),
  });
  const day = Duration.days(1);
  const hour = Duration.hours(1);

  dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: promisesMarkdown(inputs.tiers), width: 24, height: 2 + inputs.tiers.length }));

  const daily = (label: string): cloudwatch.MetricOptions => ({ period: day, label });
  type VaultMetric = (v: BackupVaultPolicy, o: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  const jobs = (verb: string, completed: VaultMetric, failed: VaultMetric) => inputs.vaults.flatMap((v) => [
    completed(v.source, daily(`${v.purpose} ${verb} completed`)),
    failed(v.source, daily(`${v.purpose} ${verb} failed`)),
  ]);
  type DlmMetric = (p: DlmPolicyBase, o: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  const dlm = (metric: DlmMetric, label: string) => inputs.dlmPolicies.map((p) => metric(p.source, daily(`${p.purpose} ${label}`)));
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'AWS Backup: backup jobs',
      width: 8,
      stacked: true,
      left: jobs('backups', (v, o) => v.metricBackupJobsCompleted(o), (v, o) => v.metricBackupJobsFailed(o)),
    }),
    new cloudwatch.GraphWidget({
      title: 'AWS Backup: copy jobs (DR and archive)',
      width: 8,
      stacked: true,
      left: jobs('copies', (v, o) => v.metricCopyJobsCompleted(o), (v, o) => v.metricCopyJobsFailed(o)),
    }),
    new cloudwatch.GraphWidget({
      title: 'AWS Backup: restore and restore-test jobs',
      width: 8,
      stacked: true,
      left: jobs('restores', (v, o) => v.metricRestoreJobsCompleted(o), (v, o) => v.metricRestoreJobsFailed(o)),
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'DLM: snapshot create and copy failures',
      left: [
        ...dlm((p, o) => p.metricSnapshotsCreateFailed(o), 'create failed'),
        ...dlm((p, o) => p.metricSnapshotsCopiedRegionFailed(o), 'copy failed'),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Snapshots created, by purpose',
      left: [
        ...dlm((p, o) => p.metricSnapshotsCreateCompleted(o), 'created'),
        ...inputs.windows.map((w) => w.source.metricSnapshotsCreated(daily(`${w.purpose} created`))),
      ],
      right: inputs.windows.map((w) => w.source.metricCrashConsistentSnapshots(daily(`${w.purpose} crash-consistent fallback`))),
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Consistent snapshot jobs: I/O pause window (seconds)',
      left: [ConsistentSnapshotJob.searchPauseWindow({ period: hour, label: 'pause window' })],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Restore drills: succeeded and time to restore',
      left: inputs.drills.map((d) => d.metricDrillSucceeded()),
      right: inputs.drills.map((d) => d.metricTimeToRestore()),
      width: 12,
    }),
  );
  const bins = inputs.bins.map((b) => `| ${b.what} | \`${b.ruleId}\` | ${b.retentionDays} days | ${b.unlockDelayDays === undefined ? 'not locked' : `locked, unlock delay ${b.unlockDelayDays} days`} |`);
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: ['## Recycle Bin and locks', '', '| Retains | Rule | Retention | Lock |', '|---|---|---|---|', ...bins, '',
        ...inputs.locks.map((l) => `- ${l}`)].join('\n'),
      width: 12,
      height: 6,
    }),
    new cloudwatch.AlarmStatusWidget({ title: 'Backup alarms', alarms: inputs.alarms, width: 12, height: 6 }),
  );
  return dashboard;
}
