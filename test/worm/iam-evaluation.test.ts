/**
 * The synthesized deny policy, permissions boundary and SCP, evaluated by a real IAM policy
 * evaluator (`@cloud-copilot/iam-simulate`) for a matrix of principal x action x resource tags,
 * with another policy allowing ec2:* (and rbin, backup, kms) attached to every principal.
 */
import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { ALLOW_EC2_AND_MORE, ACCOUNT, evaluate, Policies, render } from './iam-simulation';
import {
  DeploymentPrerequisites, ProtectedResources, Retention, RetentionRoles, SnapshotLockMode, WormServiceControlPolicy,
  WormSnapshotGuard,
} from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/BreakGlass`;
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/11111111-1111-1111-1111-111111111111`;
const SNAPSHOT = 'arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0';
const IMAGE = 'arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0';
const RULE = `arn:aws:rbin:us-east-1:${ACCOUNT}:rule/a1b2c3d4e5f`;
const VAULT = `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:ebs-vault`;
const RECOVERY_POINT = `arn:aws:backup:us-east-1:${ACCOUNT}:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45`;
const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

type Who = 'operator' | 'breakGlass' | 'dlm' | 'backup' | 'dlmPattern' | 'lock';
type Kind = 'lifecycle' | 'lock' | 'guardOnly' | 'unrelated';

/** Which principals may do each kind of action: everyone else is explicitly denied. */
const MAY: Record<Kind, Who[] | 'all'> = {
  lifecycle: ['breakGlass', 'dlm', 'backup', 'dlmPattern'],
  lock: ['breakGlass', 'lock'],
  guardOnly: ['breakGlass'],
  unrelated: 'all',
};

const ACTIONS: Array<[string, string, Kind]> = [
  ['ec2:DeleteSnapshot', SNAPSHOT, 'lifecycle'],
  ['ec2:DeregisterImage', IMAGE, 'lifecycle'],
  ['ec2:DisableImageDeregistrationProtection', IMAGE, 'lifecycle'],
  ['ec2:ModifySnapshotAttribute', SNAPSHOT, 'lifecycle'],
  ['ec2:ModifyImageAttribute', IMAGE, 'lifecycle'],
  ['backup:DeleteRecoveryPoint', RECOVERY_POINT, 'lifecycle'],
  ['backup:UpdateRecoveryPointLifecycle', RECOVERY_POINT, 'lifecycle'],
  ['backup:DeleteBackupVault', VAULT, 'guardOnly'], // configuration class: retention roles are not exempt
  ['backup:PutBackupVaultAccessPolicy', VAULT, 'guardOnly'], // configuration class: retention roles are not exempt
  ['backup:DeleteBackupVaultLockConfiguration', VAULT, 'guardOnly'], // configuration class: retention roles are not exempt
  ['ec2:LockSnapshot', SNAPSHOT, 'lock'],
  ['ec2:UnlockSnapshot', SNAPSHOT, 'lock'],
  ['rbin:DeleteRule', RULE, 'guardOnly'],
  ['rbin:UpdateRule', RULE, 'guardOnly'],
  ['rbin:UnlockRule', RULE, 'guardOnly'],
  ['kms:ScheduleKeyDeletion', KEY_ARN, 'guardOnly'],
  ['kms:DisableKey', KEY_ARN, 'guardOnly'],
  ['ec2:DisableSnapshotBlockPublicAccess', '*', 'guardOnly'],
  ['ec2:DisableImageBlockPublicAccess', '*', 'guardOnly'],
  ['ec2:CreateSnapshot', SNAPSHOT, 'unrelated'],
  // a copy must carry the purpose tag from its creation, or it escapes the guard
  ['ec2:CopySnapshot', SNAPSHOT, 'lifecycle'],
  ['ec2:DescribeSnapshots', '*', 'unrelated'],
  // archived snapshots take 24-72 hours to restore
  ['ec2:ModifySnapshotTier', SNAPSHOT, 'lifecycle'],
  ['ec2:RunInstances', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*`, 'unrelated'],
  ['kms:Decrypt', KEY_ARN, 'unrelated'],
  ['rbin:ListRules', '*', 'unrelated'],
];

interface Fixture {
  readonly principals: Record<Who, string>;
  readonly managedPolicy: any;
  readonly boundary: any;
  readonly scps: any[];
  /** Every role in the template, by ARN as the renderer names it. */
  readonly templateRoles: string[];
}

function logicalId(c: IConstruct): string {
  return Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);
}

function synthesizeGuard(protectedResources?: ProtectedResources): Fixture {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  const guard = new WormSnapshotGuard(stack, 'Guard', {
    breakGlassPrincipalArns: [BREAK_GLASS],
    exemptPrincipalArns: ['arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole'],
    keys: [kms.Key.fromKeyArn(stack, 'Key', KEY_ARN)],
    snapshotLock: { mode: SnapshotLockMode.governance(Duration.days(30)) },
    recycleBin: { retain: Retention.age(Duration.days(30)), lockUnlockDelay: Duration.days(7) },
    protectedResources,
  });
  // roles that expire backups, registered after the guard (as other families do)
  const dlm = new iam.Role(stack, 'DlmRole', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
  const backup = new iam.Role(stack, 'BackupRole', { assumedBy: new iam.ServicePrincipal('backup.amazonaws.com') });
  RetentionRoles.register(dlm, dlm, 'DLM execution role');
  RetentionRoles.register(backup, backup, 'AWS Backup role');
  const operators = new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() });
  guard.protect(operators);
  guard.applyPermissionsBoundary(operators);
  const scps = guard.toServiceControlPolicies();

  const template = checkedTemplate(stack);
  const docOf = (id: string) => render(template.Resources[id].Properties.PolicyDocument);
  const arnOf = (c: IConstruct) => `arn:aws:iam::${ACCOUNT}:role/${logicalId(c)}`;
  return {
    principals: {
      operator: arnOf(operators),
      breakGlass: BREAK_GLASS,
      dlm: arnOf(dlm),
      backup: arnOf(backup),
      dlmPattern: 'arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRole',
      lock: arnOf(guard.snapshotLock!.role),
    },
    managedPolicy: docOf(logicalId(guard.managedPolicy)),
    boundary: docOf(logicalId(guard.permissionsBoundary)),
    scps: scps.map((scp) => render(stack.resolve(scp.toJSON()))),
    templateRoles: Object.entries<any>(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id]) => `arn:aws:iam::${ACCOUNT}:role/${id}`),
  };
}

describe('IAM evaluation of the write-once guard', () => {
  const fx = synthesizeGuard();
  const deliveries: Record<string, (f: Fixture) => Policies> = {
    'managed policy beside an ec2:* allow': (f) => ({ identity: [ALLOW_EC2_AND_MORE, f.managedPolicy] }),
    'permissions boundary beside an ec2:* allow': (f) => ({ identity: [ALLOW_EC2_AND_MORE], boundary: f.boundary }),
    'SCP under an ec2:* allow': (f) => ({ identity: [ALLOW_EC2_AND_MORE], scps: f.scps }),
    'SCP under an administrator allow': (f) => ({ identity: [ALLOW_ALL], scps: f.scps }),
  };

  const rows: Array<[string, Who, string, string, Kind]> = [];
  for (const delivery of Object.keys(deliveries)) {
    for (const who of Object.keys(fx.principals) as Who[]) {
      for (const [action, resource, kind] of ACTIONS) {
        rows.push([delivery, who, action, resource, kind]);
      }
    }
  }

  test.each(rows)('%s: %s %s', async (delivery, who, action, resource, kind) => {
    const may = MAY[kind];
    const expected = may === 'all' || may.includes(who) ? 'Allowed' : 'ExplicitlyDenied';
    for (const tags of [{}, { 'backup:purpose': 'database-dr' }] as Array<Record<string, string>>) {
      const result = await evaluate({ principal: fx.principals[who], action, resource, tags }, deliveries[delivery](fx));
      expect([who, action, tags, result]).toEqual([who, action, tags, expected]);
    }
  });

  test('under the SCP, only the exempted lifecycle roles (and break-glass) can delete snapshots and AMIs', async () => {
    // every role in the app, plus principals from outside it
    const everyone = new Set([
      ...fx.templateRoles, ...Object.values(fx.principals),
      `arn:aws:iam::${ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`,
    ]);
    const exempt = new Set([fx.principals.dlm, fx.principals.backup, fx.principals.dlmPattern, BREAK_GLASS]);
    const allowed: string[] = [];
    for (const principal of everyone) {
      for (const [action, resource] of [['ec2:DeleteSnapshot', SNAPSHOT], ['ec2:DeregisterImage', IMAGE]]) {
        const result = await evaluate({ principal, action, resource, tags: { 'backup:purpose': 'database-dr', 'backup:retention': 'count:14' } },
          { identity: [ALLOW_ALL], scps: fx.scps });
        if (result === 'Allowed') {
          allowed.push(`${principal} ${action}`);
        } else {
          expect(result).toBe('ExplicitlyDenied');
        }
      }
    }
    expect(allowed.sort()).toEqual([...exempt].flatMap((p) => [`${p} ec2:DeleteSnapshot`, `${p} ec2:DeregisterImage`]).sort());
    expect(everyone.size).toBeGreaterThan(exempt.size + 3);
  });
});

describe('IAM evaluation of a purpose-scoped guard', () => {
  const fx = synthesizeGuard(ProtectedResources.purposeTagged());
  const policies = (f: Fixture) => ({ identity: [ALLOW_EC2_AND_MORE], scps: f.scps });

  test.each([
    ['deleting an untagged snapshot', 'ec2:DeleteSnapshot', {}, {}, 'Allowed'],
    ['deleting a purpose-tagged snapshot', 'ec2:DeleteSnapshot', { 'backup:purpose': 'database-dr' }, {}, 'ExplicitlyDenied'],
    ['sharing a purpose-tagged snapshot', 'ec2:ModifySnapshotAttribute', { 'backup:purpose': 'database-dr' }, {}, 'ExplicitlyDenied'],
    ['removing the purpose tag', 'ec2:DeleteTags', { 'backup:purpose': 'database-dr' }, { 'aws:TagKeys': ['backup:purpose'] }, 'ExplicitlyDenied'],
    ['overwriting the purpose tag', 'ec2:CreateTags', { 'backup:purpose': 'database-dr' }, { 'aws:TagKeys': ['backup:purpose'] }, 'ExplicitlyDenied'],
    ['removing another tag', 'ec2:DeleteTags', { 'backup:purpose': 'database-dr' }, { 'aws:TagKeys': ['owner'] }, 'Allowed'],
    // the machinery trusts the purpose tag: set at creation only (issue 16), whatever the scope
    ['tagging a new snapshot with a purpose as it is created', 'ec2:CreateTags', {}, { 'aws:TagKeys': ['backup:purpose'], 'ec2:CreateAction': 'CreateSnapshot' }, 'Allowed'],
    ['tagging an untagged snapshot with a purpose after creation', 'ec2:CreateTags', {}, { 'aws:TagKeys': ['backup:purpose'] }, 'ExplicitlyDenied'],
    ['tagging an untagged snapshot with an unrelated tag after creation', 'ec2:CreateTags', {}, { 'aws:TagKeys': ['owner'] }, 'Allowed'],
  ])('an ordinary principal %s: %s', async (_name, action, tags, context, expected) => {
    const result = await evaluate({ principal: fx.principals.operator, action, resource: SNAPSHOT, tags, context }, policies(fx));
    expect(result).toBe(expected);
  });

  test('the Recycle Bin stays protected whatever the tags', async () => {
    const result = await evaluate({ principal: fx.principals.operator, action: 'rbin:DeleteRule', resource: RULE }, policies(fx));
    expect(result).toBe('ExplicitlyDenied');
  });
});

describe('IAM evaluation of the organization SCP', () => {
  const app = createCheckedApp();
  const org = createTestStack(app, 'Organization');
  Validations.of(org).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the policy types are enabled on the root (README Before you deploy)' });
  const policy = new WormServiceControlPolicy(org, 'WormScp', {
    breakGlassPrincipalArns: ['arn:aws:iam::*:role/BreakGlass'],
    exemptPrincipalArns: ['arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole', 'arn:aws:iam::*:role/service-role/AWSBackupDefaultServiceRole'],
    targetIds: ['ou-abcd-12345678'],
  });
  const template = checkedTemplate(org);
  const scp = render(template.Resources[org.getLogicalId(policy.policy)].Properties.Content);

  test.each([
    ['a member account\'s DLM default role', 'arn:aws:iam::210987654321:role/AWSDataLifecycleManagerDefaultRole', 'Allowed'],
    ['a member account\'s AWS Backup role', 'arn:aws:iam::210987654321:role/service-role/AWSBackupDefaultServiceRole', 'Allowed'],
    ['a member account\'s break-glass role', 'arn:aws:iam::210987654321:role/BreakGlass', 'Allowed'],
    ['a member account\'s administrator', 'arn:aws:iam::210987654321:role/Administrator', 'ExplicitlyDenied'],
    ['a role named like the DLM role on another path', 'arn:aws:iam::210987654321:role/x/AWSDataLifecycleManagerDefaultRole', 'ExplicitlyDenied'],
  ])('%s deleting a snapshot: %s', async (_name, principal, expected) => {
    expect(await evaluate({ principal, action: 'ec2:DeleteSnapshot', resource: SNAPSHOT }, { identity: [ALLOW_ALL], scps: [scp] })).toBe(expected);
  });
});
