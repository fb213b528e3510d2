import { Aws, Duration } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from './protection';
import { failureAlarm } from '../core/failure-alarm';
import { protectAsMachinery } from '../core/machinery';

/**
 * The vault events AWS Backup still sends through the notification API (the `*_FAILED` and
 * `*_SUCCESSFUL` backup and restore events are no longer sent: failures arrive as `*_COMPLETED`
 * with a failed state, and through EventBridge below).
 */
export const VAULT_NOTIFICATION_EVENTS = [
  backup.BackupVaultEvents.BACKUP_JOB_COMPLETED,
  backup.BackupVaultEvents.COPY_JOB_FAILED,
  backup.BackupVaultEvents.RESTORE_JOB_COMPLETED,
  backup.BackupVaultEvents.RECOVERY_POINT_MODIFIED,
];

/** A topic for backup events, encrypted with its own key that the publishing services may use. */
export function createNotificationTopic(scope: Construct): sns.Topic {
  const key = new kms.Key(scope, 'NotificationKey', {
    enableKeyRotation: true,
    description: `Encrypts the backup notifications of ${scope.node.path}`,
  });
  // AWS Backup, EventBridge and CloudWatch alarms publish to the encrypted topic on their own
  // behalf, so the key must let them generate data keys, for this account only.
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowServicesToPublish',
    principals: ['backup.amazonaws.com', 'events.amazonaws.com', 'cloudwatch.amazonaws.com'].map((s) => new iam.ServicePrincipal(s)),
    actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
  }));
  key.addToResourcePolicy(denyGrantsExceptForAwsServices());
  const topic = new sns.Topic(scope, 'Notifications', { masterKey: key, enforceSSL: true });
  protectAsMachinery(key);
  protectAsMachinery(topic);
  return topic;
}

/**
 * EventBridge rules for failed backup, copy and restore (including restore-test) jobs, and
 * CloudWatch alarms on the vault's failed-job metrics, all to `topic`.
 */
export function addFailureMonitoring(scope: Construct, vault: backup.IBackupVault, topic: sns.ITopic): cloudwatch.Alarm[] {
  const target = new targets.SnsTopic(topic);
  protectAsMachinery(new events.Rule(scope, 'BackupJobFailed', {
    description: 'AWS Backup jobs of this vault that failed, aborted or expired',
    eventPattern: {
      source: ['aws.backup'],
      detailType: ['Backup Job State Change'],
      detail: { state: ['FAILED', 'ABORTED', 'EXPIRED'], backupVaultName: [vault.backupVaultName] },
    },
    targets: [target],
  }));
  protectAsMachinery(new events.Rule(scope, 'CopyJobFailed', {
    description: 'AWS Backup copy jobs that failed',
    eventPattern: { source: ['aws.backup'], detailType: ['Copy Job State Change'], detail: { state: ['FAILED'] } },
    targets: [target],
  }));
  protectAsMachinery(new events.Rule(scope, 'RestoreJobFailed', {
    description: 'AWS Backup restore jobs, including restore tests, that failed',
    eventPattern: { source: ['aws.backup'], detailType: ['Restore Job State Change'], detail: { status: ['FAILED'] } },
    targets: [target],
  }));

  const action = new cw_actions.SnsAction(topic);
  return [
    ['BackupJobsFailedAlarm', 'NumberOfBackupJobsFailed', 'backup jobs'],
    ['CopyJobsFailedAlarm', 'NumberOfCopyJobsFailed', 'copy jobs'],
  ].map(([id, metricName, what]) => {
    return failureAlarm(scope, id, {
      description: `Failed AWS Backup ${what} of vault ${vault.node.path}`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Backup',
        metricName,
        dimensionsMap: { BackupVaultName: vault.backupVaultName },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.hours(1),
      }),
      alarmAction: action,
    });
  });
}
