/**
 * Fixes found by the baseline family: the guard in environment-agnostic stacks, which roles pass
 * the snapshot-lock statement, and a guard nobody is exempt from.
 */
import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { ACCOUNT, ALLOW_EC2_AND_MORE, evaluate, render } from './iam-simulation';
import { BlockPublicSharing, Retention, RetentionRoles, SnapshotLockMode, WormSnapshotGuard } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/BreakGlass`;
const SNAPSHOT = 'arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0';
const RULE = `arn:aws:rbin:us-east-1:${ACCOUNT}:rule/a1b2c3d4e5f`;

function logicalId(c: IConstruct): string {
  return Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);
}

function statementsOf(template: any, policy: iam.ManagedPolicy): any[] {
  return template.Resources[logicalId(policy)].Properties.PolicyDocument.Statement;
}

describe('WormSnapshotGuard in an environment-agnostic stack', () => {
  test('blocks public sharing with the deployment region and passes every gate', () => {
    const app = createCheckedApp();
    const stack = new Stack(app, 'S');
    const guard = new WormSnapshotGuard(stack, 'Guard', {
      breakGlassPrincipalArns: [BREAK_GLASS],
      recycleBin: { retain: Retention.age(Duration.days(14)) },
      snapshotLock: { mode: SnapshotLockMode.governance(Duration.days(7)) },
    });
    const template = Template.fromJSON(checkedTemplate(stack));

    expect(guard.publicSharingBlock).toBeDefined();
    template.hasResourceProperties('AWS::EC2::SnapshotBlockPublicAccess', { State: 'block-all-sharing' });
    // the AMI setting's physical id names the region the stack is deployed to
    template.hasResourceProperties('Custom::AWS', {
      Create: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('image-block-public-access-'), { Ref: 'AWS::Region' }])] },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'DenyBlockPublicAccessChanges' })]) },
    });
  });

  test('one per stack: a second in the same agnostic stack is an error, another agnostic stack is fine', () => {
    const app = createCheckedApp();
    const one = new Stack(app, 'One');
    new BlockPublicSharing(one, 'First', { images: false });
    expect(() => new BlockPublicSharing(one, 'Second', { images: false })).toThrow(
      /One\/Second: BlockPublicSharing blocks public sharing, an account-and-region setting that One\/First \(BlockPublicSharing\) already blocks .*create BlockPublicSharing once per account and region \(keep One\/First\)/,
    );
    // an agnostic stack may deploy anywhere: nothing is known to clash, and both pass every gate
    const two = new Stack(app, 'Two');
    expect(() => new BlockPublicSharing(two, 'First', { images: false })).not.toThrow();
    Template.fromJSON(checkedTemplate(two)).resourceCountIs('AWS::EC2::SnapshotBlockPublicAccess', 1);
  });
});

describe('the snapshot-lock statement', () => {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  const guard = new WormSnapshotGuard(stack, 'Guard', {
    breakGlassPrincipalArns: [BREAK_GLASS],
    snapshotLock: { mode: SnapshotLockMode.governance(Duration.days(30)) },
    exemptLockPrincipalArns: ['arn:aws:iam::*:role/cdk-ebs-backup/retention/*'],
  });
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const deleter = role('Deleter');
  const locker = role('Locker');
  const both = role('Both');
  const registered = new iam.Role(stack, 'Registered', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
  RetentionRoles.register(registered, registered, 'DLM execution role');
  guard.exemptRole(deleter);
  guard.exemptRole(locker, { lifecycle: false, snapshotLock: true });
  guard.exemptRole(both, { snapshotLock: true });
  const template = checkedTemplate(stack);
  const policy = render(template.Resources[logicalId(guard.managedPolicy)].Properties.PolicyDocument);
  const arnOf = (c: IConstruct) => `arn:aws:iam::${ACCOUNT}:role/${logicalId(c)}`;
  const who: Record<string, string> = {
    'break-glass': BREAK_GLASS,
    'the guard\'s lock job': arnOf(guard.snapshotLock!.role),
    'a role exempted for locking': arnOf(locker),
    'a role exempted for both': arnOf(both),
    'a lock principal pattern': `arn:aws:iam::${ACCOUNT}:role/cdk-ebs-backup/retention/member-lock`,
    'a role exempted for deletion only': arnOf(deleter),
    'a registered retention role': arnOf(registered),
    'an operator': `arn:aws:iam::${ACCOUNT}:role/Operator`,
  };

  test.each([
    // [principal, may lock/unlock, may delete]
    ['break-glass', true, true],
    ['the guard\'s lock job', true, false],
    ['a role exempted for locking', true, false],
    ['a role exempted for both', true, true],
    ['a lock principal pattern', true, false],
    ['a role exempted for deletion only', false, true],
    ['a registered retention role', false, true],
    ['an operator', false, false],
  ])('%s: lock %s, delete %s', async (name, mayLock, mayDelete) => {
    const policies = { identity: [ALLOW_EC2_AND_MORE, policy] };
    const outcome = (may: boolean) => (may ? 'Allowed' : 'ExplicitlyDenied');
    for (const action of ['ec2:LockSnapshot', 'ec2:UnlockSnapshot']) {
      expect([action, await evaluate({ principal: who[name], action, resource: SNAPSHOT }, policies)]).toEqual([action, outcome(mayLock)]);
    }
    expect(await evaluate({ principal: who[name], action: 'ec2:DeleteSnapshot', resource: SNAPSHOT }, policies)).toBe(outcome(mayDelete));
  });

  test('exempting a role from nothing is an error', () => {
    expect(() => guard.exemptRole(role('Nothing'), { lifecycle: false })).toThrow(
      /TestStack\/Guard: exemptRole\(options\) must exempt the role from at least one statement group/,
    );
  });
});

describe('a guard nobody is exempt from', () => {
  test('renders its denies without an empty Condition, and warns until acknowledged', async () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    // no deployment principal either: only detaching the policy lifts it
    const guard = new WormSnapshotGuard(stack, 'Guard', { exemptRegisteredRetentionRoles: false, deploymentPrincipalArns: [] });
    const scps = guard.toServiceControlPolicies();
    // the platform team's deliberate choice: only detaching the policy lifts it
    Validations.of(guard).acknowledge({
      id: WormSnapshotGuard.NO_EXEMPTION_WARNING,
      reason: 'no human may ever delete a backup in this account; the policy is detached by change control only',
    });
    const template = checkedTemplate(stack);

    const statements = statementsOf(template, guard.managedPolicy);
    expect(statements.map((s) => s.Sid)).toEqual(expect.arrayContaining(['DenyBackupDeletion', 'DenySnapshotLockChanges', 'DenyRecycleBinChanges']));
    for (const statement of [...statements, ...scps.flatMap((scp) => stack.resolve(scp).Statement)]) {
      // no exemption at all, and never an empty Condition block (conditions on tags or request keys stay)
      expect([statement.Sid, statement.Condition?.ArnNotLike, statement.Condition !== undefined && Object.keys(statement.Condition).length === 0])
        .toEqual([statement.Sid, undefined, false]);
    }
    // a deny for everyone, evaluated
    const policy = render(Template.fromJSON(template).toJSON().Resources[logicalId(guard.managedPolicy)].Properties.PolicyDocument);
    for (const [action, resource] of [['ec2:DeleteSnapshot', SNAPSHOT], ['ec2:UnlockSnapshot', SNAPSHOT], ['rbin:DeleteRule', RULE]]) {
      const result = await evaluate({ principal: BREAK_GLASS, action, resource }, { identity: [ALLOW_EC2_AND_MORE, policy] });
      expect([action, result]).toEqual([action, 'ExplicitlyDenied']);
    }
  });

  test('keeps the conditions that remain: the registered retention roles', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    const guard = new WormSnapshotGuard(stack, 'Guard', { deploymentPrincipalArns: [] });
    Validations.of(guard).acknowledge({ id: WormSnapshotGuard.NO_EXEMPTION_WARNING, reason: 'only the DLM role expires backups here' });
    const dlm = new iam.Role(stack, 'Dlm', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    RetentionRoles.register(dlm, dlm, 'DLM execution role');
    const statements = statementsOf(checkedTemplate(stack), guard.managedPolicy);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid);

    expect(bySid('DenyBackupDeletion').Condition).toEqual({
      ArnNotLike: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [logicalId(dlm), 'Arn'] }] },
    });
    expect(bySid('DenySnapshotLockChanges').Condition).toBeUndefined();
    expect(bySid('DenyRecycleBinChanges').Condition).toBeUndefined();
  });

  test('fails the strict synthesis with the warning when not acknowledged', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    new WormSnapshotGuard(stack, 'Guard');
    expect(() => checkedTemplate(stack)).toThrow(/no break-glass principal and no exempt role: nobody can ever delete/);
  });

  test('does not warn once a break-glass principal or an exempt role is given', () => {
    for (const configure of [
      (stack: Stack) => new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [BREAK_GLASS] }),
      (stack: Stack) => new WormSnapshotGuard(stack, 'Guard').exemptRole(iam.Role.fromRoleName(stack, 'Dlm', 'MyDlmRole')),
    ]) {
      const app = createCheckedApp();
      const stack = createTestStack(app);
      configure(stack);
      const template = checkedTemplate(stack);
      const policies = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
      // the break-glass-only statements of the second guard still render without an empty Condition
      for (const statement of policies.flatMap((p) => p.Properties.PolicyDocument.Statement)) {
        expect(statement.Condition).not.toEqual({});
      }
    }
  });
});
