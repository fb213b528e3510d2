// A standalone DlmSnapshotPolicy whose policy id is exported: the id must be a CloudFormation
// reference in every aws-cdk-lib of the peer range (undefined here was issue 13's first finding).
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { DlmSnapshotPolicy, Retention, SnapshotTarget } from 'cdk-ebs-backup';

const app = new App();
const stack = new Stack(app, 'DlmPolicyId');
const policy = new DlmSnapshotPolicy(stack, 'Nightly', {
  purpose: 'app-data',
  target: SnapshotTarget.volumes({ tags: { Backup: 'app' } }),
  schedules: [{ name: 'nightly', schedule: events.Schedule.cron({ hour: '3', minute: '0' }), retain: Retention.count(7) }],
});
if (policy.policyId === undefined || policy.policyArn === undefined) {
  throw new Error(`DlmSnapshotPolicy.policyId is ${policy.policyId}, policyArn is ${policy.policyArn}`);
}
new CfnOutput(stack, 'PolicyId', { value: policy.policyId });
new CfnOutput(stack, 'PolicyArn', { value: policy.policyArn });
