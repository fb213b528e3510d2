/**
 * WormSnapshotGuard's own logic (src/worm/guard.ts), called on a bare stack and evaluated
 * directly: the documents it renders are resolved and evaluated with the IAM policy evaluator
 * (`@cloud-copilot/iam-simulate`), the SCP documents measured against the AWS Organizations quota
 * ("Maximum size of a policy document: service control policies: 5,120 characters",
 * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html), and the
 * plan report read with `PlanReport.json`. Nothing here synthesizes through the gates: this file
 * is what the mutation module `worm-guard` runs (guard.test.ts, guard-exemptions.test.ts and
 * iam-evaluation.test.ts synthesize whole guards through every gate, 10-60 s a mutant).
 * "Policy evaluation logic": an explicit deny in an identity policy, a permissions boundary or an
 * SCP overrides every allow.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { App, Aspects, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { GUARD_ACKNOWLEDGED_METADATA_KEY, wildcardFindings } from '../../src/core/acknowledge';
import { PlanReport } from '../../src/core/plan-report';
import { Retention } from '../../src/core/retention';
import { BlockPublicSharing, SnapshotSharingBlock } from '../../src/worm/block-public-access';
import { ProtectedResources } from '../../src/worm/deny-policy';
import { WormSnapshotGuard, WormSnapshotGuardProps } from '../../src/worm/guard';
import { RecycleBinResourceType, RecycleBinScope } from '../../src/worm/recycle-bin';
import { estimatePolicyLength, SCP_MAX_CHARACTERS } from '../../src/worm/scp-size';
import { SnapshotLockMode } from '../../src/worm/snapshot-lock';
import { evaluate, FULL_ACCESS } from '../support/iam-evaluation';
import { renderIntrinsics, TEST_ACCOUNT as ACCOUNT, TEST_REGION as REGION } from '../support/intrinsics';

const ENV = { account: ACCOUNT, region: REGION };
const OPERATOR = `arn:aws:iam::${ACCOUNT}:role/Nightshift`;
const RECOVERY_POINT = `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:0c6a8f3e-5b2d-4e71-9a0b-3f1d2c4e5a6b`;
const SNAPSHOT = `arn:aws:ec2:${REGION}::snapshot/snap-0fedcba9876543210`;

let app: App;
let stack: Stack;
beforeEach(() => {
  app = new App();
  stack = new Stack(app, 'Vaultless', { env: ENV });
});

/** The guard's managed policy document as CloudFormation receives it, intrinsics rendered for the account. */
function rendered(document: iam.PolicyDocument): any {
  return renderIntrinsics(stack.resolve(document.toJSON()));
}

function newGuard(props: WormSnapshotGuardProps = {}): WormSnapshotGuard {
  return newGuardIn(stack, props);
}

function newGuardIn(scope: Stack, props: WormSnapshotGuardProps = {}): WormSnapshotGuard {
  return new WormSnapshotGuard(scope, 'Guard', { blockPublicSharing: false, ...props });
}

describe('the plan report says what the deny statements protect', () => {
  /** Whether an operator under an allow-all may delete a snapshot with these tags, the guard attached. */
  const deletes = async (guard: WormSnapshotGuard, tags: Record<string, string>) =>
    evaluate({ principal: OPERATOR, action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags },
      { identity: [FULL_ACCESS, rendered(guard.managedPolicy.document)] });
  const selects = () => JSON.parse(PlanReport.json(app)).stacks[0].protections
    .filter((p: any) => p.construct === 'Vaultless/Guard').map((p: any) => p.selects);

  test.each([
    ['the default scope (ProtectedResources.all())', undefined, 'every snapshot, AMI and recovery point'],
    ['ProtectedResources.all()', ProtectedResources.all(), 'every snapshot, AMI and recovery point'],
    ['ProtectedResources.purposeTagged()', ProtectedResources.purposeTagged(), 'purpose-tagged snapshots and AMIs, and every recovery point'],
    ['ProtectedResources.purposes()', ProtectedResources.purposes('ledger', 'ledger-dr'), 'snapshots and AMIs with purpose ledger, ledger-dr, and every recovery point'],
  ])('%s', async (_name, protectedResources, expected) => {
    const guard = newGuard({ protectedResources });
    const untagged = await deletes(guard, {});
    expect(selects()).toEqual([expected]);
    // the wording follows the statements: an untagged snapshot is protected only when the plan says every snapshot
    expect(untagged === 'ExplicitlyDenied').toBe(expected.startsWith('every snapshot'));
    expect(await deletes(guard, { 'backup:purpose': 'ledger' })).toBe('ExplicitlyDenied');
    // and every recovery point, tagged or not
    expect(await evaluate({ principal: OPERATOR, action: 'backup:DeleteRecoveryPoint', resource: RECOVERY_POINT },
      { identity: [FULL_ACCESS, rendered(guard.managedPolicy.document)] })).toBe('ExplicitlyDenied');
  });
});

describe('toServiceControlPolicies', () => {
  /** The characters of each document, every token counted as 100 (the size check's estimate). */
  const lengths = (documents: iam.PolicyDocument[]) => documents.map((d) => estimatePolicyLength(stack.resolve(d.toJSON())));

  test('with 20 to 40 exempt role ARNs, the statements added after the split still fit every document in the quota', () => {
    for (let n = 20; n <= 40; n++) {
      // GIVEN a guard whose split fills its last document, then the keys and the boundary added after the split (reserved for)
      stack = new Stack(new App(), 'Vaultless', { env: ENV });
      const guard = newGuard({
        breakGlassPrincipalArns: [`arn:aws:iam::${ACCOUNT}:role/Emergency`],
        exemptPrincipalArns: Array.from({ length: n }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/ledger-expiry-${i}`),
      });
      const documents = guard.toServiceControlPolicies();
      guard.protectKey(new kms.Key(stack, 'LedgerKey'));
      guard.protectKey(new kms.Key(stack, 'ArchiveKey'));
      void guard.permissionsBoundary;
      // THEN
      expect({ n, over: lengths(documents).filter((l) => l > SCP_MAX_CHARACTERS) }).toEqual({ n, over: [] });
      const sids = documents.flatMap((d) => stack.resolve(d.toJSON()).Statement.map((s: any) => s.Sid));
      expect(sids.filter((s: string) => s === 'DenyNamedKeyDestruction')).toHaveLength(1);
      expect(sids.filter((s: string) => s === 'DenyBoundaryReplacement')).toHaveLength(1);
    }
  });
});

const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/ledger-break-glass`;
const KEY_A = `arn:aws:kms:${REGION}:${ACCOUNT}:key/4b7e1c2a-9d3f-4e60-8a15-2c7d9e0f3b41`;
const KEY_B = `arn:aws:kms:${REGION}:${ACCOUNT}:key/8e2f6a1d-3c5b-4972-b0d4-6f1a2e3c4d5e`;

/** The Sids of a document as rendered. */
const sidsOf = (document: iam.PolicyDocument): string[] => rendered(document).Statement.map((s: any) => s.Sid);
/** What `principal` gets under an allow-all with the guard's managed policy attached. */
const underGuard = (
  guard: WormSnapshotGuard, principal: string, action: string, resource: string, extra: { context?: Record<string, string> } = {},
) =>
  evaluate({ principal, action, resource, ...extra }, { identity: [FULL_ACCESS, rendered(guard.managedPolicy.document)] });
/** The warnings recorded on the guard once it is validated. */
const warningsOf = (guard: WormSnapshotGuard): string[] => {
  guard.node.validate();
  return guard.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
};
const cfn = (policy: iam.ManagedPolicy) => policy.node.defaultChild as iam.CfnManagedPolicy;

describe('the guard\'s props', () => {
  test('every problem of the guard\'s own props is reported at once', () => {
    expect(() => newGuard({ managedPolicyName: 'p'.repeat(129), blockPublicSharing: false, snapshotSharingBlock: SnapshotSharingBlock.BLOCK_NEW_SHARING }))
      .toThrow(/managedPolicyName must be between 1 and 128 characters long[\s\S]*snapshotSharingBlock needs blockPublicSharing: true/);
  });

  test.each([
    ['no resource type', [], 'recycleBin.resourceTypes must have between 1 and 2 items, got [] (0 items)'],
    ['three resource types', [RecycleBinResourceType.EBS_SNAPSHOT, RecycleBinResourceType.EC2_IMAGE, RecycleBinResourceType.EBS_SNAPSHOT],
      'recycleBin.resourceTypes must have between 1 and 2 items'],
    ['a repeated resource type', [RecycleBinResourceType.EC2_IMAGE, RecycleBinResourceType.EC2_IMAGE], 'recycleBin.resourceTypes must not repeat a resource type'],
  ])('a Recycle Bin with %s is rejected', (_name, resourceTypes, message) => {
    expect(() => newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], recycleBin: { retain: Retention.age(Duration.days(9)), resourceTypes } }))
      .toThrow(message);
  });

  test('a bad Recycle Bin retention or scope and a bad lock mode are reported at once with the guard\'s prop names', () => {
    const message = (() => {
      try {
        newGuard({
          recycleBin: { retain: Retention.age(Duration.days(0)), ruleScope: RecycleBinScope.tagged({}) },
          snapshotLock: { mode: SnapshotLockMode.governance(Duration.days(0)) },
        });
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    })();
    expect(message).toMatch(/^Vaultless\/Guard: 3 problems/);
    for (const fragment of ['Vaultless/Guard: recycleBin.retain Retention.age(...)', 'Vaultless/Guard: recycleBin.ruleScope RecycleBinScope.tagged(...)',
      'Vaultless/Guard: snapshotLock.mode SnapshotLockMode.governance(...)']) {
      expect(message).toContain(fragment);
    }
  });

  test('a snapshot sharing block is accepted with blocking on (the default) and passed to the block', () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [BREAK_GLASS], snapshotSharingBlock: SnapshotSharingBlock.BLOCK_NEW_SHARING });
    expect(guard.publicSharingBlock!.snapshotBlockPublicAccess.state).toBe('block-new-sharing');
  });
});

describe('what the guard creates', () => {
  test('by default: public sharing blocked and its setting protected, no Recycle Bin, no lock job, no archiver', async () => {
    const guard = new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [BREAK_GLASS] });
    expect(guard.publicSharingBlock).toBeInstanceOf(BlockPublicSharing);
    expect(guard.publicSharingBlock!.snapshotBlockPublicAccess.state).toBe('block-all-sharing');
    expect([guard.recycleBinRules, guard.snapshotLock, guard.archiver]).toEqual([[], undefined, undefined]);
    expect(await underGuard(guard, OPERATOR, 'ec2:DisableSnapshotBlockPublicAccess', '*')).toBe('ExplicitlyDenied');
    // the account-and-region setting is claimed: a second block in the stack is an error
    expect(() => new BlockPublicSharing(stack, 'Again')).toThrow(/already blocks/);
  });

  test('blockPublicSharing: false leaves the setting (and its statement) to someone else', async () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    expect(guard.publicSharingBlock).toBeUndefined();
    expect(sidsOf(guard.managedPolicy.document)).not.toContain('DenyBlockPublicAccessChanges');
    expect(await underGuard(guard, OPERATOR, 'ec2:DisableSnapshotBlockPublicAccess', '*')).toBe('Allowed');
    expect(() => new BlockPublicSharing(stack, 'Elsewhere')).not.toThrow();
  });

  test('a Recycle Bin rule per resource type: snapshots and AMIs by default, or the types asked for', () => {
    const both = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], recycleBin: { retain: Retention.age(Duration.days(9)) } });
    expect(both.recycleBinRules.map((r) => [r.node.id, r.resource.resourceType])).toEqual([
      ['SnapshotRecycleBin', RecycleBinResourceType.EBS_SNAPSHOT], ['ImageRecycleBin', RecycleBinResourceType.EC2_IMAGE],
    ]);
    const images = new WormSnapshotGuard(new Stack(new App(), 'Other', { env: ENV }), 'Guard', {
      blockPublicSharing: false,
      recycleBin: { retain: Retention.age(Duration.days(9)), resourceTypes: [RecycleBinResourceType.EC2_IMAGE] },
    });
    expect(images.recycleBinRules.map((r) => [r.node.id, r.resource.resourceType])).toEqual([['ImageRecycleBin', RecycleBinResourceType.EC2_IMAGE]]);
  });

  test('the lock job is exempt from the lock statement only, and protected like every exempt role', async () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], snapshotLock: { mode: SnapshotLockMode.governance(Duration.days(14)) } });
    const job = renderIntrinsics(stack.resolve(guard.snapshotLock!.role.roleArn));
    expect(await underGuard(guard, job, 'ec2:LockSnapshot', SNAPSHOT)).toBe('Allowed');
    expect(await underGuard(guard, job, 'ec2:DeleteSnapshot', SNAPSHOT)).toBe('ExplicitlyDenied');
    expect(await underGuard(guard, OPERATOR, 'ec2:LockSnapshot', SNAPSHOT)).toBe('ExplicitlyDenied');
    expect(await underGuard(guard, OPERATOR, 'iam:UpdateAssumeRolePolicy', job)).toBe('ExplicitlyDenied');
    // and in the SCP form
    const [scp] = guard.toServiceControlPolicies();
    expect(await evaluate({ principal: job, action: 'ec2:LockSnapshot', resource: SNAPSHOT }, { identity: [FULL_ACCESS], scps: [rendered(scp)] })).toBe('Allowed');
  });

  test('the managed policy: its name (given, or generated within 100 characters and unique), its description, and the guard protects it', async () => {
    const named = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], managedPolicyName: 'ledger-worm' });
    expect(cfn(named.managedPolicy).managedPolicyName).toBe('ledger-worm');
    expect(cfn(named.managedPolicy).description).toBe('Write-once protection of EBS snapshots, AMIs and backups (cdk-ebs-backup WormSnapshotGuard)');
    // iam:CreatePolicyVersion on the guard's own policy (an IAM policy ARN has no region)
    const own = `arn:aws:iam::${ACCOUNT}:policy/ledger-worm`;
    expect(await underGuard(named, OPERATOR, 'iam:CreatePolicyVersion', own)).toBe('ExplicitlyDenied');
    expect(await underGuard(named, OPERATOR, 'iam:DetachRolePolicy', OPERATOR, { context: { 'iam:PolicyARN': own } })).toBe('ExplicitlyDenied');
    expect(await underGuard(named, OPERATOR, 'iam:CreatePolicyVersion', `arn:aws:iam::${ACCOUNT}:policy/other`)).toBe('Allowed');
    // generated: a deep construct path still gives a name IAM takes, one per guard
    let deep: Construct = stack;
    for (let i = 0; i < 8; i++) {
      deep = new Construct(deep, `LedgerBackupsOfTheNightlyDatabaseFleet${i}`);
    }
    const a = new WormSnapshotGuard(deep, 'GuardForTheFirstDatabaseFleet', { blockPublicSharing: false });
    const b = new WormSnapshotGuard(deep, 'GuardForTheSecondDatabaseFleet', { blockPublicSharing: false });
    const names = [a, b].map((g) => cfn(g.managedPolicy).managedPolicyName!);
    expect(names.map((n) => n.length <= 100)).toEqual([true, true]);
    expect(names[0]).not.toBe(names[1]);
    expect(rendered(a.managedPolicy.document).Statement.find((s: any) => s.Sid === 'DenyGuardPolicyVersions').Resource)
      .toEqual([`arn:aws:iam::${ACCOUNT}:policy/${names[0]}`]);
  });
});

describe('the archiver and the plan entry', () => {
  test('archive: the guard runs a SnapshotArchiver with the props given; none without', () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], archive: { minimumAge: Duration.days(180), purposes: ['ledger'] } });
    expect(guard.archiver).toBe(guard.node.findChild('Archiver'));
    const env = stack.resolve((guard.archiver!.function.node.defaultChild as any).environment).variables;
    expect([env.MINIMUM_AGE_DAYS, env.PURPOSES]).toEqual(['180', '["ledger"]']);
    expect(newGuardIn(new Stack(new App(), 'Other', { env: ENV })).archiver).toBeUndefined();
  });

  test('the plan entry: the deny policy by name, how it is attached, always, what it locks', () => {
    newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], managedPolicyName: 'ledger-worm' });
    const [entry] = JSON.parse(PlanReport.json(app)).stacks[0].protections.filter((p: any) => p.construct === 'Vaultless/Guard');
    expect(entry).toEqual(expect.objectContaining({
      kind: 'WormSnapshotGuard',
      mechanism: 'write-once deny policy ledger-worm (attached with protect(); SCPs with toServiceControlPolicies())',
      schedule: 'always',
      locks: ['deny deleting, unlocking, sharing and re-tagging except break-glass'],
    }));
  });

  test('a second guard blocking public sharing in the account and region is refused, naming its prop and the fix', () => {
    new WormSnapshotGuard(stack, 'First', { breakGlassPrincipalArns: [BREAK_GLASS] });
    expect(() => new WormSnapshotGuard(stack, 'Second', { breakGlassPrincipalArns: [BREAK_GLASS] })).toThrow(
      `Vaultless/Second: blockPublicSharing blocks public sharing, an account-and-region setting that Vaultless/First (blockPublicSharing) already blocks for ${ACCOUNT}/${REGION}`);
  });
});

describe('protect()', () => {
  test('attaches the policy to a role, a user or a group, imported or not', () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    guard.protect(iam.Role.fromRoleName(stack, 'Ops', 'ledger-ops'));
    guard.protect(iam.User.fromUserName(stack, 'Oncall', 'ledger-oncall'));
    guard.protect(iam.Group.fromGroupName(stack, 'Admins', 'ledger-admins'));
    const resource = stack.resolve(cfn(guard.managedPolicy)._toCloudFormation());
    const props = Object.values<any>(resource.Resources)[0].Properties;
    expect([props.Roles, props.Users, props.Groups]).toEqual([['ledger-ops'], ['ledger-oncall'], ['ledger-admins']]);
  });

  test('a user: the policy records why a user policy is accepted (it only denies)', () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    const before = JSON.stringify(guard.managedPolicy.node.metadata);
    guard.protect(iam.Role.fromRoleName(stack, 'Ops', 'ledger-ops'));
    expect(JSON.stringify(guard.managedPolicy.node.metadata)).toBe(before);
    guard.protect(iam.User.fromUserName(stack, 'Oncall', 'ledger-oncall'));
    expect(guard.managedPolicy.node.metadata.find((m) => m.type === GUARD_ACKNOWLEDGED_METADATA_KEY)?.data)
      .toEqual({ iam_user_no_policies_check: expect.stringContaining('only denies') });
  });

  test('anything else is an error naming it', () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    const principal = new Construct(stack, 'NotAnIdentity') as unknown as iam.IIdentity;
    expect(() => guard.protect(principal)).toThrow("Vaultless/Guard: protect(principal) must be an IAM role, user or group, got 'Vaultless/NotAnIdentity'");
  });
});

describe('exemptRole()', () => {
  const lockAndDelete = async (guard: WormSnapshotGuard, role: iam.IRole) => {
    const principal = renderIntrinsics(stack.resolve(role.roleArn));
    return [await underGuard(guard, principal, 'ec2:UnlockSnapshot', SNAPSHOT), await underGuard(guard, principal, 'ec2:DeleteSnapshot', SNAPSHOT)];
  };
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  test.each([
    ['by default, from the lifecycle statements only', undefined, ['ExplicitlyDenied', 'Allowed']],
    ['for locking only', { lifecycle: false, snapshotLock: true }, ['Allowed', 'ExplicitlyDenied']],
    ['for both', { snapshotLock: true }, ['Allowed', 'Allowed']],
    ['lifecycle: true, snapshotLock: false', { lifecycle: true, snapshotLock: false }, ['ExplicitlyDenied', 'Allowed']],
  ])('%s', async (_name, options, expected) => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    const r = role('Expiry');
    guard.exemptRole(r, options);
    expect(await lockAndDelete(guard, r)).toEqual(expected);
  });

  test('from nothing: an error', () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    expect(() => guard.exemptRole(role('Idle'), { lifecycle: false })).toThrow(
      "Vaultless/Guard: exemptRole(options) must exempt the role from at least one statement group (lifecycle or snapshotLock), got 'Vaultless/Idle'");
  });
});

describe('the warning when nobody is exempt', () => {
  test('warns with nobody exempt; not once a break-glass principal or an exempt role is given', () => {
    const nobody = newGuard();
    expect(warningsOf(nobody)).toEqual([expect.stringContaining(
      'no break-glass principal and no exempt role: nobody can ever delete, unlock or share a protected backup, nor delete its '
      + 'keys, except the registered retention roles (and the lock job), and only the deployment principals can change the '
      + 'Recycle Bin, vault policies, key policies or block public access, until the policy is detached; set breakGlassPrincipalArns, or acknowledge this')]);
    expect(WormSnapshotGuard.NO_EXEMPTION_WARNING).toBe('Annotation::cdk-ebs-backup:worm:no-exempt-principal');
    expect(warningsOf(new WormSnapshotGuard(stack, 'WithBreakGlass', { blockPublicSharing: false, breakGlassPrincipalArns: [BREAK_GLASS] }))).toEqual([]);
    // read at synthesis: a role exempted after construction counts
    const later = new WormSnapshotGuard(stack, 'Later', { blockPublicSharing: false });
    later.exemptRole(iam.Role.fromRoleName(stack, 'Dlm', 'ledger-dlm'));
    expect(warningsOf(later)).toEqual([]);
  });
});

describe('keys', () => {
  const namedKeyStatements = (document: iam.PolicyDocument) => rendered(document).Statement.filter((s: any) => s.Sid.startsWith('DenyNamedKey'));

  test('the first protected key adds the named-key statements to every document rendered so far, once; later keys join them', async () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    const single = guard.toServiceControlPolicy();
    const split = guard.toServiceControlPolicies();
    expect(namedKeyStatements(guard.managedPolicy.document)).toEqual([]);
    guard.protectKey(kms.Key.fromKeyArn(stack, 'A', KEY_A));
    guard.protectKey(kms.Key.fromKeyArn(stack, 'B', KEY_B));
    for (const document of [guard.managedPolicy.document, single, split[split.length - 1]]) {
      expect(namedKeyStatements(document).map((s: any) => [s.Sid, s.Resource]))
        .toEqual([['DenyNamedKeyDestruction', [KEY_A, KEY_B]], ['DenyNamedKeyPolicyChanges', [KEY_A, KEY_B]]]);
    }
    expect(await underGuard(guard, OPERATOR, 'kms:ScheduleKeyDeletion', KEY_B)).toBe('ExplicitlyDenied');
    expect(await underGuard(guard, BREAK_GLASS, 'kms:ScheduleKeyDeletion', KEY_B)).toBe('Allowed');
  });

  test('keys given as props are in the statements from the start; a key protected later joins them without a second statement', () => {
    for (const props of [{ keys: [kms.Key.fromKeyArn(stack, 'A', KEY_A)] }, { sourceKeys: [kms.Key.fromKeyArn(stack, 'S', KEY_A)] }]) {
      stack = new Stack(new App(), 'Vaultless', { env: ENV });
      const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], ...props });
      const scps = guard.toServiceControlPolicies();
      expect(namedKeyStatements(guard.managedPolicy.document).map((s: any) => s.Resource)).toEqual([[KEY_A], [KEY_A]]);
      guard.protectKey(kms.Key.fromKeyArn(stack, 'B', KEY_B));
      expect(namedKeyStatements(guard.managedPolicy.document).map((s: any) => s.Resource)).toEqual([[KEY_A, KEY_B], [KEY_A, KEY_B]]);
      expect(scps.flatMap((scp) => namedKeyStatements(scp)).map((s: any) => s.Resource)).toEqual([[KEY_A, KEY_B], [KEY_A, KEY_B]]);
    }
  });
});

describe('the permissions boundary', () => {
  test('created once, named after the policy, an allow-all ceiling with the denies under it', async () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], managedPolicyName: 'l'.repeat(128) });
    const boundary = guard.permissionsBoundary;
    expect(guard.permissionsBoundary).toBe(boundary);
    expect(cfn(boundary).managedPolicyName).toBe(`${'l'.repeat(100)}-boundary`);
    expect(cfn(boundary).description).toBe('Permissions boundary: anything the identity policies allow, except destroying or sharing backups (cdk-ebs-backup)');
    const underBoundary = (principal: string, action: string, resource: string) =>
      evaluate({ principal, action, resource }, { identity: [FULL_ACCESS], boundary: rendered(boundary.document) });
    expect(await underBoundary(OPERATOR, 'ec2:DeleteSnapshot', SNAPSHOT)).toBe('ExplicitlyDenied');
    expect(await underBoundary(OPERATOR, 'ec2:CreateSnapshot', `arn:aws:ec2:${REGION}::snapshot/*`)).toBe('Allowed');
    expect(await underBoundary(BREAK_GLASS, 'ec2:DeleteSnapshot', SNAPSHOT)).toBe('Allowed');
    // a ceiling, not a grant: the plugins' admin-access findings are acknowledged with the reason
    const acks = boundary.node.metadata.find((m) => m.type === GUARD_ACKNOWLEDGED_METADATA_KEY)?.data;
    expect(Object.keys(acks)).toEqual(['iam_managed_policy_no_statements_with_admin_access_check', 'iam_managed_policy_no_statements_with_full_access_check']);
    // cdk-nag's findings on the allow-all (AwsSolutions-IAM5 on Action::* and Resource::*) acknowledged, or the user's synthesis fails
    const findings = wildcardFindings(boundary, boundary.document);
    expect(findings.sort()).toEqual(['AwsSolutions-IAM5[Action::*]', 'AwsSolutions-IAM5[Resource::*]']);
    const nag = Object.assign({}, ...boundary.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data));
    for (const finding of findings) {
      expect(nag[`Annotation::${finding}`]).toMatch(/^a permissions boundary is a ceiling, not a grant/);
    }
  });

  test('neither removed nor swapped, nor re-versioned, in every document rendered before or after it', async () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS], managedPolicyName: 'ledger-worm' });
    const before = guard.toServiceControlPolicy();
    const beforeSplit = guard.toServiceControlPolicies();
    const boundary = guard.permissionsBoundary;
    const after = guard.toServiceControlPolicies();
    const boundaryArn = `arn:aws:iam::${ACCOUNT}:policy/ledger-worm-boundary`;
    const documents = {
      'managed policy': guard.managedPolicy.document,
      'boundary': boundary.document,
      'SCP before': before,
      'SCPs before': beforeSplit[beforeSplit.length - 1],
      'SCPs after': after[after.length - 1],
    };
    for (const [name, document] of Object.entries(documents)) {
      const policies = name.startsWith('SCP') ? { identity: [FULL_ACCESS], scps: [rendered(document)] }
        : name === 'boundary' ? { identity: [FULL_ACCESS], boundary: rendered(document) } : { identity: [FULL_ACCESS, rendered(document)] };
      const call = (action: string, resource: string, context: Record<string, string>) =>
        evaluate({ principal: OPERATOR, action, resource, context }, policies);
      expect([name, await call('iam:DeleteRolePermissionsBoundary', OPERATOR, { 'iam:PermissionsBoundary': boundaryArn })]).toEqual([name, 'ExplicitlyDenied']);
      expect([name, await call('iam:PutRolePermissionsBoundary', OPERATOR, { 'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/open` })])
        .toEqual([name, 'ExplicitlyDenied']);
      expect([name, await call('iam:PutRolePermissionsBoundary', OPERATOR, { 'iam:PermissionsBoundary': boundaryArn })]).toEqual([name, 'Allowed']);
      const sids = rendered(document).Statement.map((s: any) => s.Sid);
      expect([name, sids.filter((s: string) => s === 'DenyBoundaryReplacement').length]).toEqual([name, 1]);
    }
    // the boundary's own policy is one of the guard's policies (no new version), in the documents rendered after it
    const forms = [{ identity: [FULL_ACCESS], boundary: rendered(boundary.document) }, { identity: [FULL_ACCESS], scps: after.map(rendered) }];
    for (const policies of forms) {
      expect(await evaluate({ principal: OPERATOR, action: 'iam:CreatePolicyVersion', resource: boundaryArn }, policies)).toBe('ExplicitlyDenied');
    }
  });

  test('applyPermissionsBoundary sets it on the roles of a scope', () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    const team = new iam.Role(stack, 'Team', { assumedBy: new iam.AccountRootPrincipal() });
    guard.applyPermissionsBoundary(team);
    // the boundary is set by an aspect, which synthesis runs
    for (const aspect of Aspects.of(team).all) {
      aspect.visit(team.node.defaultChild!);
    }
    const props = stack.resolve((team.node.defaultChild as iam.CfnRole)._toCloudFormation());
    expect(Object.values<any>(props.Resources)[0].Properties.PermissionsBoundary)
      .toEqual({ Ref: stack.getLogicalId(cfn(guard.permissionsBoundary)) });
  });
});

describe('toServiceControlPolicy', () => {
  test('one document with every statement; over the quota it fails at synthesis naming the guard', () => {
    const guard = newGuard({ breakGlassPrincipalArns: [BREAK_GLASS] });
    const scp = guard.toServiceControlPolicy();
    expect(sidsOf(scp)).toEqual(sidsOf(guard.managedPolicy.document));
    const big = new WormSnapshotGuard(stack, 'Big', {
      blockPublicSharing: false,
      exemptPrincipalArns: Array.from({ length: 40 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/dlm-execution-role-for-account-${i}`),
    });
    big.toServiceControlPolicy();
    expect(big.node.validate()).toEqual([expect.stringMatching(/^Vaultless\/Big: service control policy must be at most 5120 characters \(AWS Organizations quota\)/)]);
  });

  test('toServiceControlPolicies: each part checked at synthesis', () => {
    const big = newGuard({ exemptPrincipalArns: Array.from({ length: 40 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/dlm-execution-role-for-account-${i}`) });
    const parts = big.toServiceControlPolicies();
    expect(parts.length).toBeGreaterThan(1);
    expect(big.node.validate()).toEqual([]);
    parts[0].addStatements(new iam.PolicyStatement({
      sid: 'Huge',
      effect: iam.Effect.DENY,
      actions: ['ec2:DeleteSnapshot'],
      resources: Array.from({ length: 120 }, (_, i) => `arn:aws:ec2:*::snapshot/snap-${String(i).padStart(17, '0')}`),
    }));
    expect(big.node.validate()).toEqual([expect.stringMatching(/service control policy must be at most 5120 characters/)]);
  });
});
