/**
 * Application-consistent snapshots in Systems Manager maintenance windows: SQL Server hosts with
 * VSS (AWS's AWSEC2-CreateVssSnapshot, copy-only so the DBA's native backup chain stays intact)
 * and MySQL hosts frozen with fsfreeze around one multi-volume CreateSnapshots, each window with
 * its own retention, transcripts in S3 and CloudWatch Logs, and alarms routed to the on-call topic
 * when a snapshot falls back to crash-consistent or a run fails.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FsfreezeMaintenanceWindow, MaintenanceTargets, Retention, VssMaintenanceWindow } from 'cdk-ebs-backup';

export function build(app: App): void {
  const stack = new Stack(app, 'DatabaseSnapshotWindows', { env: { account: '123456789012', region: 'us-east-1' } });
  // CloudWatch alarms publish to an encrypted topic only with a customer managed key they may use
  const key = new kms.Key(stack, 'OnCallKey', { enableKeyRotation: true, description: 'On-call alarm topic' });
  key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
  key.addToResourcePolicy(new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: ['kms:CreateGrant'],
    principals: [new iam.AnyPrincipal()],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
  const onCall = new sns.Topic(stack, 'OnCall', { enforceSSL: true, masterKey: key });
  const page = [new cw_actions.SnsAction(onCall)];

  // Windows: SQL Server at 02:00 Berlin time, every day; copy-only keeps the native log chain
  const sql = new VssMaintenanceWindow(stack, 'SqlServerVss', {
    purpose: 'sqlserver-app-consistent',
    schedule: events.Schedule.cron({ hour: '2', minute: '0' }),
    scheduleTimezone: 'Europe/Berlin',
    duration: Duration.hours(2),
    cutoff: Duration.hours(1),
    targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True', 'Workload': 'sqlserver' }),
    maxConcurrency: '25%',
    maxErrors: '100%',
    copyOnly: true,
    retain: Retention.age(Duration.days(35)),
    alarmActions: page,
  });

  // Linux: MySQL data and binlog volumes frozen for at most 15 s, read lock held around the freeze
  const mysql = new FsfreezeMaintenanceWindow(stack, 'MysqlFsfreeze', {
    purpose: 'mysql-app-consistent',
    schedule: events.Schedule.cron({ hour: '3', minute: '30' }),
    scheduleTimezone: 'Europe/Berlin',
    duration: Duration.hours(1),
    targets: MaintenanceTargets.tagged({ Workload: 'mysql' }),
    maxConcurrency: '1',
    maxErrors: '100%',
    mountPoints: ['/var/lib/mysql', '/var/log/mysql-binlog'],
    maxFreeze: Duration.seconds(15),
    preFreezeCommand: "mysql --defaults-file=/etc/mysql/backup.cnf -e 'FLUSH LOGS'",
    retain: Retention.count(14),
    alarmActions: page,
  });

  // attach sql.instanceProfile / mysql.instanceProfile to the instances' launch templates
  void sql.instanceProfile;
  void mysql.instanceProfile;
}
