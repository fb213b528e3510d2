import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as organizations from 'aws-cdk-lib/aws-organizations';
import { DeploymentPrerequisites, RetentionRoles, WormServiceControlPolicy, WormSnapshotGuard } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

describe('WormServiceControlPolicy', () => {
  let app: App;
  let org: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    org = createTestStack(app, 'Organization');
    Validations.of(org).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the policy types are enabled on the root (README Before you deploy)' });
  });

  test('attaches the deny statements to OUs and accounts, with a declarative policy for public sharing', () => {
    new WormServiceControlPolicy(org, 'Worm', {
      breakGlassPrincipalArns: ['arn:aws:iam::*:role/BreakGlass'],
      exemptPrincipalArns: ['arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole'],
      targetIds: ['ou-abcd-12345678', '210987654321'],
      blockPublicSharing: true,
    });
    const template = Template.fromJSON(checkedTemplate(org));
    template.hasResourceProperties('AWS::Organizations::Policy', {
      Type: 'SERVICE_CONTROL_POLICY',
      TargetIds: ['ou-abcd-12345678', '210987654321'],
      Content: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DenyBackupDeletion',
            Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/BreakGlass', 'arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole'] } },
          }),
        ]),
      },
    });
    // the configuration class exempts the CDK bootstrap execution role of every member account
    template.hasResourceProperties('AWS::Organizations::Policy', {
      Type: 'SERVICE_CONTROL_POLICY',
      TargetIds: ['ou-abcd-12345678', '210987654321'],
      Content: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'DenyBlockPublicAccessChanges',
          Condition: {
            ArnNotLike: {
              'aws:PrincipalArn': ['arn:aws:iam::*:role/BreakGlass',
                { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/cdk-hnb659fds-cfn-exec-role-*-*']] }],
            },
          },
        })]),
      },
    });
    template.hasResourceProperties('AWS::Organizations::Policy', {
      Type: 'DECLARATIVE_POLICY_EC2',
      TargetIds: ['ou-abcd-12345678', '210987654321'],
      Content: {
        ec2_attributes: {
          snapshot_block_public_access: { state: { '@@assign': 'block_all_sharing' } },
          image_block_public_access: { state: { '@@assign': 'block_new_sharing' } },
        },
      },
    });
  });

  test('names a member account role registered in another environment when it has a physical name', () => {
    const member = createTestStack(app, 'Member', { env: { account: '210987654321', region: 'us-east-1' } });
    const dlm = new iam.Role(member, 'Dlm', { roleName: 'ebs-backup-dlm', assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    RetentionRoles.register(dlm, dlm, 'DLM execution role');
    new WormServiceControlPolicy(org, 'Worm', { breakGlassPrincipalArns: ['arn:aws:iam::*:role/BreakGlass'] });
    Template.fromJSON(checkedTemplate(org)).hasResourceProperties('AWS::Organizations::Policy', {
      Content: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'DenyBackupDeletion',
          Condition: {
            ArnNotLike: {
              'aws:PrincipalArn': ['arn:aws:iam::*:role/BreakGlass', { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::210987654321:role/ebs-backup-dlm']] }],
            },
          },
        })]),
      },
    });
  });

  test('fails, saying what to do, for a member account role with a generated name', () => {
    const member = createTestStack(app, 'Member', { env: { account: '210987654321', region: 'us-east-1' } });
    const dlm = new iam.Role(member, 'Dlm', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    RetentionRoles.register(dlm, dlm, 'DLM execution role');
    expect(() => {
      new WormServiceControlPolicy(org, 'Worm', { breakGlassPrincipalArns: ['arn:aws:iam::*:role/BreakGlass'] });
      app.synth();
    }).toThrow(/Member\/Dlm lives in another environment \(210987654321\/us-east-1\) and has a generated name.*give it a roleName, or exempt it by pattern with exemptPrincipalArns/);
  });

  test('the guard\'s SCP document can be attached from the organization stack', () => {
    const account = createTestStack(app, 'Account');
    const guard = new WormSnapshotGuard(account, 'Guard', {
      breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
      exemptRegisteredRetentionRoles: false,
      blockPublicSharing: false,
    });
    guard.protect(new iam.Role(account, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
    guard.toServiceControlPolicies().forEach((content, i) => new organizations.CfnPolicy(org, `FromGuard${i}`, {
      type: 'SERVICE_CONTROL_POLICY', name: `worm-${i}`, content,
    }));
    Template.fromJSON(checkedTemplate(org)).hasResourceProperties('AWS::Organizations::Policy', {
      Content: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'DenyBackupDeletion' })]) },
    });
  });

  test('splits the statements over several policies when they outgrow the 5,120-character quota', () => {
    const scp = new WormServiceControlPolicy(org, 'Worm', {
      exemptPrincipalArns: Array.from({ length: 12 }, (_, i) => `arn:aws:iam::*:role/team-${i}-snapshot-lifecycle-role`),
      targetIds: ['ou-abcd-12345678'],
    });
    const template = checkedTemplate(org);
    const policies = Object.values<any>(template.Resources).filter((r) => r.Properties.Type === 'SERVICE_CONTROL_POLICY');
    expect(policies.length).toBeGreaterThan(1);
    expect(scp.policies).toHaveLength(policies.length);
    for (const policy of policies) {
      // AWS Organizations counts the characters of the policy as uploaded
      expect(JSON.stringify(policy.Properties.Content).length).toBeLessThanOrEqual(5120);
      expect(policy.Properties.TargetIds).toEqual(['ou-abcd-12345678']);
    }
    const sids = policies.flatMap((p) => p.Properties.Content.Statement.map((s: any) => s.Sid));
    expect(new Set(sids).size).toBe(sids.length);
    expect(sids).toEqual(expect.arrayContaining(['DenyBackupDeletion', 'DenyExemptRoleChanges', 'DenyDlmPolicyChanges']));
  });

  test.each([
    ['a bad target', { targetIds: ['ou-x'] }, "targetIds[0] must be an organization root (r-...), OU (ou-...-...) or 12-digit account id, got 'ou-x'"],
    ['a long name', { policyName: 'p'.repeat(129) }, 'policyName must be between 1 and 128 characters long'],
    ['a bad exemption', { exemptPrincipalArns: ['*'] }, 'exemptPrincipalArns[0] must be an IAM role, user or root ARN'],
  ])('rejects %s', (_name, props, fragment) => {
    expect(() => new WormServiceControlPolicy(org, 'Worm', props)).toThrow(fragment);
  });
});
