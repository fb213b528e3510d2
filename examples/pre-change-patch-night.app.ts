/**
 * Patch night: before the monthly OS patching, the on-call operators snapshot every web server
 * and take an AMI, without holding any EC2 permission themselves.
 *
 * They run, with the change ticket as reference:
 *   aws ssm start-automation-execution --document-name <PatchNightRunbookName> \
 *     --target-parameter-name InstanceId --targets Key=tag:patch-group,Values=web \
 *     --parameters ChangeReference=CHG0012345 --max-concurrency 5 --max-errors 0
 *
 * The snapshots and AMIs carry the ticket, the operator and a retention tag; a scheduled job
 * removes them after a week unless someone re-tags one to `keep` because the patch went wrong.
 */
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PreChangeSnapshot, Retention } from 'cdk-ebs-backup';

export function build(app: App): void {
  const stack = new Stack(app, 'PatchNight', { env: { account: '123456789012', region: 'us-east-1' } });

  // the on-call operators, e.g. assumed through IAM Identity Center
  const operators = new iam.Role(stack, 'OnCallOperators', {
    assumedBy: new iam.AccountRootPrincipal(),
    description: 'On-call operators who patch the web fleet',
  });

  const runbook = new PreChangeSnapshot(stack, 'PatchNightSnapshots', {
    purpose: 'pre-patch',
    retain: Retention.age(Duration.days(7)),
    includeImage: true, // no reboot: the fleet stays in service until the patch itself
    instanceTags: { 'patch-group': 'web' }, // the runbook can touch the web fleet only
    expirySchedule: events.Schedule.cron({ minute: '0', hour: '4' }),
  });
  runbook.grantStart(operators);

  new CfnOutput(stack, 'PatchNightRunbookName', { value: runbook.documentName });
}
