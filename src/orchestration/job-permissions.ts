import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { IConstruct } from 'constructs';
import { acknowledge, acknowledgeFindings, ANY_RESOURCE_FINDING, guard, wildcardArn, wildcardFindings } from '../core/acknowledge';

/** The expiry function may delete only the job's own artefacts, recognised by their tags. */
export function grantExpiry(role: iam.Role, resourceType: 'snapshot' | 'image', tags: Record<string, string>, keys: string[]): void {
  const own = { StringEquals: Object.fromEntries(keys.map((k) => [`aws:ResourceTag/${k}`, tags[k]])) };
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'FindArtefacts',
    actions: resourceType === 'snapshot' ? ['ec2:DescribeSnapshots'] : ['ec2:DescribeImages'],
    resources: ['*'],
  }));
  const snapshots = wildcardArn('ec2', 'snapshot/*', false);
  const images = wildcardArn('ec2', 'image/*', false);
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'DeleteOwnArtefactsOnly',
    // deregistering an AMI with DeleteAssociatedSnapshots also needs DeleteSnapshot on its (tagged) snapshots
    actions: resourceType === 'snapshot' ? ['ec2:DeleteSnapshot'] : ['ec2:DeregisterImage', 'ec2:DeleteSnapshot'],
    resources: resourceType === 'snapshot' ? [snapshots.arn] : [images.arn, snapshots.arn],
    conditions: own,
  }));
  acknowledgeFindings(role,
    'Describe actions support no resource-level permissions; deletion is limited by aws:ResourceTag to artefacts ' +
    'that carry this job\'s purpose and managed-by tags', ANY_RESOURCE_FINDING, snapshots.nagId, images.nagId);
}

/** The metrics function may publish only to the job's namespace. */
export function grantMetrics(role: iam.Role, namespace: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'PublishJobMetrics',
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
  }));
  acknowledgeFindings(role, 'PutMetricData supports no resource-level permissions; the cloudwatch:namespace condition limits it to the job\'s namespace', ANY_RESOURCE_FINDING);
}

/**
 * Guard rails on the state machine's role, as explicit denies next to the allows the tasks add:
 * no artefact can be created without the purpose tag, and with tag selection the job can touch
 * (snapshot, image, stop, start, command) only instances carrying the selection tags.
 */
export function guardStateMachine(sm: sfn.StateMachine, instanceTags: Record<string, string> | undefined, purposeKey: string): void {
  const stack = Stack.of(sm);
  const artefacts = [
    stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' }),
    stack.formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' }),
  ];
  sm.addToRolePolicy(new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: ['ec2:CreateSnapshots', 'ec2:CreateImage'],
    resources: artefacts,
    conditions: { Null: { [`aws:RequestTag/${purposeKey}`]: 'true' } },
  }));
  const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
  for (const [key, value] of Object.entries(instanceTags ?? {})) {
    sm.addToRolePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['ec2:CreateSnapshots', 'ec2:CreateImage', 'ec2:StopInstances', 'ec2:StartInstances'],
      resources: [instances],
      conditions: { StringNotEquals: { [`aws:ResourceTag/${key}`]: value } },
    }));
    sm.addToRolePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['ssm:SendCommand'],
      resources: [instances],
      // Run Command reads instance tags through its own condition key
      conditions: { StringNotEquals: { [`ssm:resourceTag/${key}`]: value } },
    }));
  }
}

/** Findings the job accepts on purpose, with the reasons. */
export function acknowledgeJob(sm: sfn.StateMachine, functions: IConstruct[], logGroups: logs.ILogGroup[]): void {
  const policy = sm.role.node.findChild('DefaultPolicy') as iam.Policy;
  acknowledgeFindings(policy,
    'Step Functions SDK integrations: Describe*/List* calls support no resource-level permissions; EC2 snapshots, ' +
    'images and instances are created or started by id known only at run time, scoped to this account and region, ' +
    'and narrowed by the explicit deny statements (purpose tag required on create, instance selection tags); ' +
    'Lambda invoke permissions include the function\'s versions; kms:GenerateDataKey* is the grant for the encrypted alarm topic',
    ...wildcardFindings(policy, policy.document));
  for (const fn of functions) {
    acknowledge(fn, guard('lambda_inside_vpc_check', 'the handler calls only public AWS APIs (EC2, CloudWatch) and reaches no private resource; a VPC adds NAT cost and no control'));
  }
  for (const lg of logGroups) {
    acknowledge(lg, guard('cloudwatch_log_group_encrypted_check',
      'the log holds state names, instance, snapshot and execution ids and counts, no customer data or secrets; CloudWatch Logs encrypts it at rest'));
  }
}
