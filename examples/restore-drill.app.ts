/**
 * Prove that backups restore, and that nothing is left unprotected:
 *
 * - the database's volumes are snapshotted nightly by a DLM policy, with a copy in the DR region;
 * - every Saturday a RestoreDrill restores the newest complete snapshot set in a scratch VPC,
 *   mounts it read-only and checks that PostgreSQL's data directory is there, publishing pass/fail,
 *   time-to-restore and the real recovery point, and alarming when the data is older than 26 hours;
 * - a second drill in the DR region restores the copies there, where a disaster would need them;
 * - EbsBackupChecks fails synthesis if any EBS volume in the app is covered by no backup policy.
 */
import { App, Duration, Fn, Size, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DlmSnapshotPolicy, EbsBackupChecks, RestoreDrill, Retention, SnapshotTarget } from 'cdk-ebs-backup';

const PRIMARY = { account: '123456789012', region: 'us-east-1' };
const DR = { account: '123456789012', region: 'eu-west-1' };

export function build(app: App): void {
  const primary = new Stack(app, 'DrillPrimary', { env: PRIMARY });

  // The workload: a data volume, tagged for the nightly policy.
  const data = new ec2.Volume(primary, 'PgData', {
    availabilityZone: Fn.select(0, Fn.getAzs()),
    size: Size.gibibytes(100),
    volumeType: ec2.EbsDeviceVolumeType.GP3,
    encrypted: true,
  });
  Tags.of(data).add('Backup', 'database');
  new DlmSnapshotPolicy(primary, 'Nightly', {
    purpose: 'database-dr',
    target: SnapshotTarget.volumes({ tags: { Backup: 'database' } }),
    schedules: [{
      name: 'nightly',
      schedule: events.Schedule.cron({ hour: '2', minute: '0' }),
      retain: Retention.count(14),
      crossRegionCopies: [{ region: DR.region, retain: Retention.age(Duration.days(30)) }],
    }],
  });

  // CloudWatch alarms can publish to an encrypted topic only with a customer managed key it may use.
  const key = new kms.Key(primary, 'AlarmKey', { enableKeyRotation: true, description: 'Restore drill alarm topic' });
  key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
  key.addToResourcePolicy(new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: ['kms:CreateGrant'],
    principals: [new iam.AnyPrincipal()],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
  const alarms = new sns.Topic(primary, 'DrillAlarms', { masterKey: key, enforceSSL: true });
  new RestoreDrill(primary, 'WeeklyDrill', {
    purpose: 'database-dr',
    schedule: events.Schedule.cron({ weekDay: 'SAT', hour: '3', minute: '0' }),
    validation: ['test -f /data/PG_VERSION', 'test "$(cat /data/PG_VERSION)" -ge 15'],
    maxSnapshotAge: Duration.hours(26),
    alarmTopic: alarms,
  });

  // The DR copies are restored where they are: a drill in a stack in the DR region.
  const dr = new Stack(app, 'DrillDr', { env: DR });
  new RestoreDrill(dr, 'MonthlyDrDrill', {
    purpose: 'database-dr',
    schedule: events.Schedule.cron({ day: '1', hour: '5', minute: '0' }),
    validation: ['test -f /data/PG_VERSION'],
    maxSnapshotAge: Duration.days(2),
  });

  Validations.of(app).addPlugins(new EbsBackupChecks(app));
}
