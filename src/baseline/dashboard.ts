import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { TierFacts } from './report';

/** The CloudWatch namespace of the consistent snapshot jobs' metrics (orchestration family). */
const JOB_NAMESPACE = 'CdkEbsBackup/ConsistentSnapshotJob';
/** The namespace of the maintenance windows' health metrics (ssm family). */
const WINDOW_NAMESPACE = 'CdkEbsBackup/MaintenanceWindow';

/** A DLM policy on the dashboard. */
export interface DashboardDlmPolicy {
  readonly policyId: string;
  readonly purpose: string;
}

/** A maintenance window on the dashboard. */
export interface DashboardWindow {
  readonly managedBy: string;
  readonly purpose: string;
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
  readonly vaultNames: Array<{ vaultName: string; purpose: string }>;
  readonly dlmPolicies: DashboardDlmPolicy[];
  readonly windows: DashboardWindow[];
  readonly bins: DashboardBin[];
  readonly locks: string[];
  readonly alarms: cloudwatch.IAlarm[];
  readonly drills: Array<{ succeeded: cloudwatch.IMetric; timeToRestore: cloudwatch.IMetric }>;
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

  const backupMetric = (metricName: string, vaultName: string, label: string) => new cloudwatch.Metric({
    namespace: 'AWS/Backup', metricName, dimensionsMap: { BackupVaultName: vaultName }, statistic: 'Sum', period: day, label,
  });
  const jobs = (kind: string, verb: string) => inputs.vaultNames.flatMap((v) => [
    backupMetric(`NumberOf${kind}JobsCompleted`, v.vaultName, `${v.purpose} ${verb} completed`),
    backupMetric(`NumberOf${kind}JobsFailed`, v.vaultName, `${v.purpose} ${verb} failed`),
  ]);
  const dlm = (metricName: string, label: string) => inputs.dlmPolicies.map((p) => new cloudwatch.Metric({
    namespace: 'AWS/EBS', metricName, dimensionsMap: { DLMPolicyId: p.policyId }, statistic: 'Sum', period: day, label: `${p.purpose} ${label}`,
  }));
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'AWS Backup: backup jobs', left: jobs('Backup', 'backups'), width: 8, stacked: true }),
    new cloudwatch.GraphWidget({ title: 'AWS Backup: copy jobs (DR and archive)', left: jobs('Copy', 'copies'), width: 8, stacked: true }),
    new cloudwatch.GraphWidget({ title: 'AWS Backup: restore and restore-test jobs', left: jobs('Restore', 'restores'), width: 8, stacked: true }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'DLM: snapshot create and copy failures',
      left: [...dlm('SnapshotsCreateFailed', 'create failed'), ...dlm('SnapshotsCopiedRegionFailed', 'copy failed')],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Snapshots created, by purpose',
      left: [
        ...dlm('SnapshotsCreateCompleted', 'created'),
        ...inputs.windows.map((w) => new cloudwatch.Metric({
          namespace: WINDOW_NAMESPACE, metricName: 'SnapshotsCreated', dimensionsMap: { ManagedBy: w.managedBy }, statistic: 'Sum', period: day, label: `${w.purpose} created`,
        })),
      ],
      right: inputs.windows.map((w) => new cloudwatch.Metric({
        namespace: WINDOW_NAMESPACE, metricName: 'CrashConsistentSnapshots', dimensionsMap: { ManagedBy: w.managedBy }, statistic: 'Sum', period: day, label: `${w.purpose} crash-consistent fallback`,
      })),
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Consistent snapshot jobs: I/O pause window (seconds)',
      left: [new cloudwatch.MathExpression({
        expression: `SEARCH('{${JOB_NAMESPACE},Purpose} MetricName="PauseWindow"', 'Maximum', 3600)`,
        label: 'pause window',
        period: hour,
      })],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Restore drills: succeeded and time to restore',
      left: inputs.drills.map((d) => d.succeeded),
      right: inputs.drills.map((d) => d.timeToRestore),
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
