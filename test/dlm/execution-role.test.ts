import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import {
  DeploymentPrerequisites,
  DlmExecutionRole, DlmImagePolicy, DlmSnapshotPolicy, Retention, RetentionRoles, SnapshotScript, SnapshotTarget,
} from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

let app: App;
let stack: Stack;
beforeEach(() => {
  app = createCheckedApp();
  stack = createTestStack(app);
  Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the shared volumes are encrypted with a customer key shared with the target account (README Before you deploy)' });
});

const schedule = (extra: object = {}) => ({ name: 'nightly', schedule: events.Schedule.cron({ hour: '4', minute: '0' }), retain: Retention.count(7), ...extra });

/** CloudFormation's rendering of the intrinsics in a policy document, for this account. */
function render(value: unknown): any {
  if (Array.isArray(value)) {
    return value.map(render);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const v = value as Record<string, any>;
  if (v.Ref === 'AWS::Partition') {
    return 'aws';
  }
  if (v['Fn::Join']) {
    return render(v['Fn::Join'][1]).join(v['Fn::Join'][0]);
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, render(x)]));
}

function rolePolicies(t: any): any[] {
  return Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::IAM::Policy').map((r) => render(r.Properties.PolicyDocument));
}

async function allowed(policies: any[], action: string, resource: string, context: Record<string, string | string[]> = {}): Promise<boolean> {
  const full = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
  const result = await runSimulation({
    request: {
      principal: 'arn:aws:iam::123456789012:role/DlmRole',
      action,
      resource: { resource, accountId: '123456789012' },
      contextVariables: context,
    },
    identityPolicies: policies.map((policy, i) => ({ name: `p${i}`, policy })),
    serviceControlPolicies: [
      { orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: full }] },
      { orgIdentifier: '123456789012', policies: [{ name: 'FullAWSAccess', policy: full }] },
    ],
    resourceControlPolicies: [],
  }, {});
  if (result.resultType === 'error') {
    throw new Error(JSON.stringify(result.errors));
  }
  return result.overallResult === 'Allowed';
}

describe('DlmExecutionRole', () => {
  test('one role per stack, trusted by DLM as DLM documents it, registered as a retention role', () => {
    // WHEN two policies of different kinds
    const a = new DlmSnapshotPolicy(stack, 'A', { purpose: 'a', target: SnapshotTarget.volumes({ tags: { A: '1' } }), schedules: [schedule()] });
    const b = new DlmImagePolicy(stack, 'B', { purpose: 'b', targetTags: { B: '1' }, schedules: [schedule()] });

    // THEN
    expect(a.executionRole).toBe(b.executionRole);
    expect(a.executionRole).toBe(DlmExecutionRole.of(stack).role);
    expect(RetentionRoles.roles(stack)).toContain(a.executionRole);
    const template = Template.fromJSON(checkedTemplate(stack));
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'dlm.amazonaws.com' },
          // "IAM service roles for Amazon Data Lifecycle Manager" (custom service roles): the
          // trust policy DLM documents names the service only; a condition key DLM does not
          // send would put every policy in ERROR
          Condition: Match.absent(),
        }],
      },
    });
  });

  test('a plain volume policy gets snapshot permissions in its region only: no AMIs, sharing, fast restore, archive or scripts', async () => {
    new DlmSnapshotPolicy(stack, 'Plain', { purpose: 'a', target: SnapshotTarget.volumes({ tags: { A: '1' } }), schedules: [schedule()] });
    const policies = rolePolicies(checkedTemplate(stack));
    const text = JSON.stringify(policies);
    for (const absent of ['ec2:CreateImage', 'ec2:ModifySnapshotAttribute', 'FastSnapshotRestores', 'ec2:ModifySnapshotTier', 'ssm:', 'events:', 'ec2:CopySnapshot']) {
      expect(text).not.toContain(absent);
    }
    expect(await allowed(policies, 'ec2:DeleteSnapshot', 'arn:aws:ec2:us-east-1::snapshot/snap-1')).toBe(true);
    expect(await allowed(policies, 'ec2:DeleteSnapshot', 'arn:aws:ec2:eu-west-1::snapshot/snap-1')).toBe(false);
    expect(await allowed(policies, 'ec2:CreateSnapshot', 'arn:aws:ec2:us-east-1:123456789012:volume/vol-1')).toBe(true);
    expect(await allowed(policies, 'ec2:CreateSnapshot', 'arn:aws:ec2:us-east-1:999999999999:volume/vol-1')).toBe(false);
  });

  test('sharing is allowed with the named accounts only, never publicly', async () => {
    new DlmSnapshotPolicy(stack, 'Shared', {
      purpose: 'a',
      target: SnapshotTarget.volumes({ tags: { A: '1' } }),
      schedules: [schedule({ share: { accounts: ['222222222222'] } })],
    });
    new DlmSnapshotPolicy(stack, 'Shared2', {
      purpose: 'b',
      target: SnapshotTarget.volumes({ tags: { B: '1' } }),
      schedules: [schedule({ share: { accounts: ['333333333333'], unshareAfter: Duration.days(7) } })],
    });
    const policies = rolePolicies(checkedTemplate(stack));
    const snapshot = 'arn:aws:ec2:us-east-1::snapshot/snap-1';
    expect(await allowed(policies, 'ec2:ModifySnapshotAttribute', snapshot, { 'ec2:Add/userId': ['222222222222'] })).toBe(true);
    expect(await allowed(policies, 'ec2:ModifySnapshotAttribute', snapshot, { 'ec2:Add/userId': ['333333333333'] })).toBe(true);
    expect(await allowed(policies, 'ec2:ModifySnapshotAttribute', snapshot, { 'ec2:Remove/userId': ['222222222222'] })).toBe(true);
    expect(await allowed(policies, 'ec2:ModifySnapshotAttribute', snapshot, { 'ec2:Add/userId': ['444444444444'] })).toBe(false);
    expect(await allowed(policies, 'ec2:ModifySnapshotAttribute', snapshot, { 'ec2:Add/group': 'all' })).toBe(false);
  });

  test('scripts may run their document on the targeted instances only', async () => {
    new DlmSnapshotPolicy(stack, 'Script', {
      purpose: 'a',
      target: SnapshotTarget.instances({ tags: { Backup: 'db' } }),
      schedules: [schedule({ script: SnapshotScript.ssmDocument('fsfreeze') })],
    });
    const policies = rolePolicies(checkedTemplate(stack));
    const instance = 'arn:aws:ec2:us-east-1:123456789012:instance/i-1';
    expect(await allowed(policies, 'ssm:SendCommand', instance, { 'ssm:resourceTag/Backup': 'db' })).toBe(true);
    expect(await allowed(policies, 'ssm:SendCommand', instance, { 'ssm:resourceTag/Backup': 'web' })).toBe(false);
    expect(await allowed(policies, 'ssm:SendCommand', 'arn:aws:ssm:us-east-1:123456789012:document/fsfreeze')).toBe(true);
    expect(await allowed(policies, 'ssm:SendCommand', 'arn:aws:ssm:us-east-1:123456789012:document/delete-everything')).toBe(false);
  });
});
