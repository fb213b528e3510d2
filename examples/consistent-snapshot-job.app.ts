/**
 * The orders service runs on three instances (database primary, replica, and the app server holding
 * the file uploads). Every night at 02:00 UTC the job pauses order intake (a Lambda function that
 * disables the queue consumer), flushes and freezes the data file systems, takes one multi-volume
 * snapshot per instance (all three in parallel), and undoes it all again: the thaw and the resume
 * run even if a snapshot fails or a step hangs. Seven nights are kept; the on-call team hears about
 * failures and about a pause window longer than two minutes.
 *
 * A second job images the bastion hosts' root volumes monthly, stopping each one so that the AMI
 * boots clean, and starting it again whatever happens.
 */
import { App, CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { Capture, ConsistentSnapshotJob, Retention, SnapshotStep } from 'cdk-ebs-backup';

export function build(app: App): void {
  const stack = new Stack(app, 'OrdersBackup', { env: { account: '123456789012', region: 'us-east-1' } });

  // the team's own functions that pause and resume order intake
  const pauseIntake = teamFunction(stack, 'PauseIntake', 'disable the order queue consumer');
  const resumeIntake = teamFunction(stack, 'ResumeIntake', 'enable the order queue consumer');

  const job = new ConsistentSnapshotJob(stack, 'OrdersDb', {
    purpose: 'orders-db',
    instances: { tags: { App: 'orders' } },
    schedule: events.Schedule.cron({ hour: '2', minute: '0' }),
    before: [
      SnapshotStep.lambdaInvoke(pauseIntake, { timeout: Duration.minutes(2) }),
      // an on-instance watchdog thaws /data after maxPauseWindow even if the thaw step is lost
      SnapshotStep.freezeFileSystems(['/data'], { timeout: Duration.minutes(1) }),
    ],
    // after[i] undoes before[i]; they run last first: thaw, then resume intake
    after: [
      SnapshotStep.lambdaInvoke(resumeIntake, { timeout: Duration.minutes(2), retries: 5 }),
      SnapshotStep.thawFileSystems(['/data'], { timeout: Duration.minutes(1), retries: 5 }),
    ],
    retain: Retention.count(7),
    waitForCompletion: true,
    maxPauseWindow: Duration.minutes(2),
  });

  new ConsistentSnapshotJob(stack, 'Bastions', {
    purpose: 'bastion-root',
    instances: { tags: { Role: 'bastion' } },
    schedule: events.Schedule.cron({ day: '1', hour: '3', minute: '0' }),
    capture: Capture.images({ stopInstance: true, stopTimeout: Duration.minutes(5) }),
    retain: Retention.age(Duration.days(90)),
    // the same on-call topic
    alarmTopic: job.alarmTopic,
  });

  new CfnOutput(stack, 'OrdersDbStateMachine', { value: job.stateMachine.stateMachineArn });
  new CfnOutput(stack, 'AlarmTopic', { value: job.alarmTopic.topicArn });
}

/** A stand-in for the team's function: its own role and a log group kept for a year. */
function teamFunction(scope: Construct, id: string, action: string): lambda.IFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_YEAR });
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  logGroup.grantWrite(role);
  const fn = new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(`exports.handler = async () => { console.log(${JSON.stringify(action)}); return {}; };`),
    role,
    logGroup,
  });
  // the team's own choices for its own functions
  Validations.of(fn).acknowledge({ id: 'cdk-validator-cfnguard::lambda_inside_vpc_check', reason: 'calls only the public Lambda API' });
  Validations.of(logGroup).acknowledge({ id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check', reason: 'logs hold no customer data' });
  return fn;
}
