/**
 * The Prescriptive Guidance scenarios for EBS backups with Data Lifecycle Manager:
 *
 * - multi-volume (RAID) instance snapshots, crash-consistent across volumes, with the file
 *   system frozen by a pre/post script and the boot and scratch volumes left out;
 * - nightly snapshots plus a monthly schedule archived for a year;
 * - a disaster-recovery copy in a second region, encrypted with a key there;
 * - sharing with a backup archive account, where an event-based policy copies each shared
 *   snapshot on arrival, so that the workload account cannot delete the archive;
 * - a default policy as the account's safety net for volumes no other policy covers.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import {
  DeploymentPrerequisites,
  DefaultPolicyTarget, DlmDefaultPolicy, DlmSharedSnapshotCopyPolicy, DlmSnapshotPolicy, Retention, ScriptFailureAction,
  SnapshotScript, SnapshotTarget, VariableTagValue,
} from 'cdk-ebs-backup';

const WORKLOAD = { account: '111111111111', region: 'us-east-1' };
const ARCHIVE = { account: '222222222222', region: 'us-east-1' };

export function build(app: App): void {
  // what CloudFormation cannot create is in place (README "Before you deploy")
  Validations.of(app).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the workload volumes are encrypted with a customer managed key shared with the archive account' });
  const workload = new Stack(app, 'DlmWorkload', { env: WORKLOAD });

  // fsfreeze around the snapshot: DLM calls the document with pre-script, then post-script.
  const freeze = new ssm.CfnDocument(workload, 'FsFreeze', {
    documentType: 'Command',
    content: {
      schemaVersion: '2.2',
      description: 'Freeze /data for DLM snapshots (pre-script) and thaw it (post-script)',
      parameters: { executionId: { type: 'String', default: '' }, command: { type: 'String', allowedValues: ['pre-script', 'post-script', 'dry-run'] } },
      mainSteps: [{
        action: 'aws:runShellScript',
        name: 'freeze',
        inputs: { runCommand: ['if [ "{{command}}" = pre-script ]; then sync && fsfreeze -f /data; elif [ "{{command}}" = post-script ]; then fsfreeze -u /data; fi'] },
      }],
    },
  });

  // RAID / multi-volume instance snapshots, nightly, with a DR copy in eu-west-1.
  const drKey = kms.Key.fromKeyArn(workload, 'DrKey', 'arn:aws:kms:eu-west-1:111111111111:key/0b7c1e3a-1111-2222-3333-444455556666');
  new DlmSnapshotPolicy(workload, 'DatabaseRaid', {
    purpose: 'database-raid',
    target: SnapshotTarget.instances({ tags: { Backup: 'database' }, excludeBootVolume: true, excludeDataVolumeTags: { Scratch: 'true' } }),
    schedules: [{
      name: 'nightly',
      schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
      retain: Retention.count(14),
      variableTags: { 'snapshot-set-of': VariableTagValue.INSTANCE_ID },
      script: SnapshotScript.ssmDocument(freeze.ref, {
        timeout: Duration.seconds(30), maxRetries: 2, onPreScriptFailure: ScriptFailureAction.CRASH_CONSISTENT_SNAPSHOT,
      }),
      crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(30)), encryptionKey: drKey }],
      fastRestore: { availabilityZones: ['us-east-1a'], retain: Retention.count(1) },
    }],
  });

  // Records: nightly for a week, and a monthly snapshot archived for a year.
  new DlmSnapshotPolicy(workload, 'Records', {
    purpose: 'records',
    target: SnapshotTarget.volumes({ tags: { Records: 'keep' } }),
    schedules: [
      { name: 'nightly', schedule: events.Schedule.rate(Duration.hours(24)), startTime: '02:00', retain: Retention.age(Duration.days(7)) },
      {
        name: 'monthly',
        schedule: events.Schedule.cron({ day: '1', hour: '5', minute: '0' }),
        retain: Retention.count(3),
        archive: { retain: Retention.age(Duration.days(365)) },
      },
    ],
  });

  // Shared with the archive account, unshared once it has had time to copy.
  new DlmSnapshotPolicy(workload, 'ToArchive', {
    purpose: 'archive-copy',
    target: SnapshotTarget.volumes({ tags: { Archive: 'true' } }),
    schedules: [{
      name: 'daily-share',
      schedule: events.Schedule.cron({ hour: '6', minute: '0' }),
      retain: Retention.count(3),
      share: { accounts: [ARCHIVE.account], unshareAfter: Duration.days(2) },
    }],
  });

  // The safety net for volumes that no other policy covers.
  new DlmDefaultPolicy(workload, 'SafetyNet', {
    purpose: 'safety-net',
    target: DefaultPolicyTarget.volumes({ excludeBootVolumes: true }),
    retain: Retention.age(Duration.days(7)),
  });

  // The archive account copies every snapshot shared by the workload account on arrival.
  const archive = new Stack(app, 'DlmArchive', { env: ARCHIVE });
  new DlmSharedSnapshotCopyPolicy(archive, 'CopyShared', {
    purpose: 'archive-copy',
    sourceAccounts: [WORKLOAD.account],
    copies: [
      { region: 'us-east-1', retain: Retention.age(Duration.days(365)) },
      { region: 'us-west-2', retain: Retention.age(Duration.days(90)) },
    ],
  });
}
