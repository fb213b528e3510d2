/**
 * The write-once guard's deny statements (src/worm/deny-statements.ts, src/worm/deny-policy.ts),
 * built directly (no synthesis through the gates) and evaluated with the IAM policy evaluator
 * (`@cloud-copilot/iam-simulate`) as AWS evaluates them, for a principal that holds a broad allow:
 * - "Policy evaluation logic": an explicit deny in an identity policy or an SCP overrides every
 *   allow. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * - `aws:PrincipalArn` is the role's ARN for a role session, matched here with the negated
 *   `ArnNotLike` (the only way past a deny).
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 * - `Null` is true when the key is absent; negated operators (`StringNotEquals`, `ArnNotEquals`)
 *   match a request without the key; `ForAnyValue` over `aws:TagKeys`.
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 * - EC2: `ec2:CreateAction` is present only when tags are applied by the creating call ("Grant
 *   permission to tag Amazon EC2 resources during creation", EC2 User Guide); DeleteTags without
 *   a tag list removes every tag (EC2 API Reference, DeleteTags); `ec2:Add/userId` carries the
 *   account added to a snapshot's createVolumePermission (Service Authorization Reference, EC2).
 * - "IAM JSON policy elements: Sid": letters and digits only.
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
 * - IAM: `iam:PolicyARN` of the Detach*Policy actions, `iam:PermissionsBoundary` of the
 *   *PermissionsBoundary actions (Service Authorization Reference, IAM).
 *
 * The same statements synthesized through every gate are evaluated by iam-evaluation.test.ts,
 * deny-conditions.test.ts and attack-paths.test.ts; this file is what the mutation modules
 * `worm-deny-statements` and `worm-deny-policy` run (those synthesize whole guards, 10-60 s a mutant).
 * Every principal, account, purpose and tag prefix here differs from the docs and the examples.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { BackupTagging, ProtectedResources, RetentionRoles, WormDenyOptions } from '../../src';
import { DESTRUCTIVE_ACTIONS, DestructiveActionGroupName, TRUSTED_TAG_NAMES } from '../../src/core/destructive-actions';
import { DenyStatementOptions, WormDenyStatements, WormPolicyDocument } from '../../src/worm/deny-statements';
import { sampleRequest } from '../support/attack-paths/action-matrix';
import type { World } from '../support/attack-paths/world';
import { evaluate, Request } from '../support/iam-evaluation';
import { renderIntrinsics, TEST_ACCOUNT as ACCOUNT, TEST_REGION as REGION } from '../support/intrinsics';

const PREFIX = 'ledgerco:';
const arn = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const ADMIN = arn('PlatformAdmin');
const BREAK_GLASS = arn('ledger-break-glass');
const DLM_DEFAULT = 'arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole';
const LOCK_PATTERN = 'arn:aws:iam::*:role/ledger-lockers/*';
const DEPLOYER = arn(`cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`);
const PARTNER = '121212121212';
const FOREIGN = '989898989898';
const SOURCE_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/5a1d7e0c-93b4-4c2e-8f61-0d9e4b7a2c13`;
const TAGGED_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0c6b5a49-3827-4160-9e8d-7c6b5a493827`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`;
const GUARD_POLICY = `arn:aws:iam::${ACCOUNT}:policy/ledger-worm`;
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/ledger-worm-boundary`;
const SNAPSHOT = `arn:aws:ec2:${REGION}::snapshot/snap-0f1e2d3c4b5a69788`;
const IMAGE = `arn:aws:ec2:${REGION}::image/ami-0a9b8c7d6e5f40312`;

/** The adversary's broad allow: a compromised admin role, a pipeline, an insider. */
const BROAD_ALLOW = {
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow',
    Action: ['ec2:*', 'ebs:*', 'iam:*', 'dlm:*', 'rbin:*', 'backup:*', 'kms:*', 'ssm:*', 'events:*', 'states:*', 'lambda:*', 'cloudwatch:*', 'sns:*'],
    Resource: '*',
  }],
};

interface Built {
  readonly stack: Stack;
  readonly deny: WormDenyStatements;
  /** Rendered ARNs of the roles the statements name. */
  readonly registered: string;
  readonly expiry: string;
  readonly lock: string;
  readonly lockRole: iam.IRole;
  readonly purposeKey: string;
  readonly managedByKey: string;
}

/**
 * The statements of a tag-scoped guard: break-glass, the DLM default role by pattern, a registered
 * retention role, an exempt role, lockers by pattern and a lock role, one named source key.
 */
function build(options: Partial<WormDenyOptions> = {}, organizationWide = false): Built {
  const app = new App({ context: { [BackupTagging.PREFIX_CONTEXT]: PREFIX } });
  const stack = new Stack(app, 'LedgerBackups', { env: { account: ACCOUNT, region: REGION } });
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
  const registered = role('LedgerDlmRole');
  RetentionRoles.register(registered, registered, 'DLM execution role');
  const expiry = role('ExpiryRole');
  const lockRole = role('LockRole');
  const given: WormDenyOptions = {
    breakGlassPrincipalArns: [BREAK_GLASS],
    exemptPrincipalArns: [DLM_DEFAULT],
    exemptRoles: [expiry],
    exemptLockPrincipalArns: [LOCK_PATTERN],
    protectedResources: ProtectedResources.purposes('ledger-archive', 'ledger-dr'),
    keys: [kms.Key.fromKeyArn(stack, 'VolumeKey', SOURCE_KEY)],
    sharingAllowedAccounts: [PARTNER],
    ...options,
  };
  // the guard leaves the third argument out: a guard in one account is not organization-wide
  const deny = organizationWide ? new WormDenyStatements(stack, given, true) : new WormDenyStatements(stack, given);
  const keys = BackupTagging.keys(stack);
  const rendered = (r: iam.IRole) => renderIntrinsics(stack.resolve(r.roleArn));
  return {
    stack,
    deny,
    registered: rendered(registered),
    expiry: rendered(expiry),
    lock: rendered(lockRole),
    lockRole,
    purposeKey: keys.purpose,
    managedByKey: keys.managedBy,
  };
}

/** Every statement the guard renders from this builder, as one policy document, as deployed. */
function guardPolicy(b: Built, options: Partial<DenyStatementOptions> = {}): any {
  const statements = [
    ...b.deny.statements({ blockPublicAccess: true, lockRoles: [b.lockRole], ...options }),
    ...b.deny.guardPolicyStatements(() => [GUARD_POLICY]),
    ...b.deny.boundaryStatements(BOUNDARY),
  ];
  return documentOf(b, statements);
}

function documentOf(b: Built, statements: iam.PolicyStatement[]): any {
  return renderIntrinsics(b.stack.resolve(new WormPolicyDocument({ statements })));
}

type Form = 'managed policy' | 'SCP';
/** What `request` gets under the broad allow with the guard attached as a managed policy, or as an SCP. */
function decide(request: Request, document: any, form: Form = 'managed policy'): Promise<string> {
  return evaluate(request, form === 'SCP' ? { identity: [BROAD_ALLOW], scps: [document] } : { identity: [BROAD_ALLOW, document] });
}

/** The sample requests of test/support/attack-paths (one per catalogued action), aimed at this builder's resources. */
function worldOf(b: Built): World {
  const m = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  return {
    account: ACCOUNT,
    foreignAccount: FOREIGN,
    partnerAccount: PARTNER,
    region: REGION,
    purposeKey: b.purposeKey,
    purpose: 'ledger-archive',
    protectedTags: { [b.purposeKey]: 'ledger-archive', [`${PREFIX}retention`]: 'count:9' },
    principals: { attacker: ADMIN, breakGlass: BREAK_GLASS, dlmRole: b.registered },
    managedByKey: b.managedByKey,
    tagKey: (name: string) => BackupTagging.key(b.stack, name),
    machineryTags: { [b.managedByKey]: 'cdk-ebs-backup' },
    machinery: {
      function: m('lambda', 'function:LedgerBackups-ExpiryFunction4c1d'),
      stateMachine: m('states', 'stateMachine:LedgerLockJob7b2e'),
      execution: m('states', 'execution:LedgerLockJob7b2e:3a4b5c6d'),
      document: m('ssm', 'document/LedgerBackups-FsfreezeDocument9d8c'),
      window: m('ssm', 'maintenancewindow/mw-0a1b2c3d4e5f60718'),
      association: m('ssm', 'association/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9'),
      rule: m('events', 'rule/LedgerBackups-OnSnapshotCompleted6a5b'),
      alarm: m('cloudwatch', 'alarm:LedgerBackups-LockFailed2c3d'),
      topic: m('sns', 'LedgerBackups-AlarmTopic8e9f'),
      topicKey: m('kms', 'key/7e6d5c4b-3a29-4180-b7c6-d5e4f3a2b190'),
    },
    resources: {
      snapshot: SNAPSHOT,
      image: IMAGE,
      recoveryPoint: m('backup', 'recovery-point:7C1D2E3F-4A5B-4C6D-8E9F-0A1B2C3D4E5F'),
      vault: m('backup', 'backup-vault:ledger-vault'),
      backupPlan: m('backup', 'backup-plan:3f2e1d0c-ba98-7654-3210-fedcba987654'),
      dlmPolicy: m('dlm', 'policy/policy-0d1c2b3a49586f7e0'),
      recycleBinRule: m('rbin', 'rule/Xq7Lm2Np9Rt'),
      sourceKey: SOURCE_KEY,
      taggedKey: TAGGED_KEY,
      guardPolicy: GUARD_POLICY,
      boundaryPolicy: BOUNDARY,
    },
  } as unknown as World;
}

const GROUPS = Object.keys(DESTRUCTIVE_ACTIONS) as DestructiveActionGroupName[];

/** Which exemption class a group's statement belongs to: who legitimately passes it. */
function exemptionOf(group: DestructiveActionGroupName): 'lifecycle' | 'lock' | 'breakGlass' | 'deployment' {
  if (group === 'lock') {
    return 'lock';
  }
  if (['directRead', 'imageExport', 'keyDestruction'].includes(group)) {
    return 'breakGlass';
  }
  return DESTRUCTIVE_ACTIONS[group].denyClass === 'data' ? 'lifecycle' : 'deployment';
}

describe('the conditions each decide', () => {
  const document = (options: Partial<WormDenyOptions> = {}) => {
    const b = build(options);
    return { b, policy: guardPolicy(b) };
  };
  const protectedTags = (b: Built, purpose = 'ledger-archive') => ({ [b.purposeKey]: purpose });

  test('only snapshots carrying a protected purpose are protected under purposes()', async () => {
    const { b, policy } = document();
    const del = (tags: Record<string, string>) => decide({ principal: ADMIN, action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags }, policy);
    expect(await del(protectedTags(b))).toBe('ExplicitlyDenied');
    expect(await del(protectedTags(b, 'ledger-dr'))).toBe('ExplicitlyDenied');
    expect(await del(protectedTags(b, 'scratch'))).toBe('Allowed');
    expect(await del({})).toBe('Allowed');
  });

  test('any purpose value is protected under purposeTagged(), every snapshot under all()', async () => {
    const tagged = document({ protectedResources: ProtectedResources.purposeTagged() });
    const del = (policy: any, tags: Record<string, string>) =>
      decide({ principal: ADMIN, action: 'ec2:DeregisterImage', resource: IMAGE, tags }, policy);
    expect(await del(tagged.policy, protectedTags(tagged.b, 'scratch'))).toBe('ExplicitlyDenied');
    expect(await del(tagged.policy, {})).toBe('Allowed');
    const all = document({ protectedResources: ProtectedResources.all() });
    expect(await del(all.policy, {})).toBe('ExplicitlyDenied');
    // the default is all()
    expect(await del(guardPolicy(build({ protectedResources: undefined })), {})).toBe('ExplicitlyDenied');
  });

  test('ProtectedResources: what each form selects, and purposes() needs at least one', () => {
    expect([ProtectedResources.all().tagScoped, ProtectedResources.all().purposeValues]).toEqual([false, []]);
    expect([ProtectedResources.purposeTagged().tagScoped, ProtectedResources.purposeTagged().purposeValues]).toEqual([true, []]);
    expect([ProtectedResources.purposes('a', 'b').tagScoped, ProtectedResources.purposes('a', 'b').purposeValues]).toEqual([true, ['a', 'b']]);
    expect(() => ProtectedResources.purposes()).toThrow('ProtectedResources.purposes: purposes must have at least 1 item, got [] (0 items)');
  });

  test('the purpose tag cannot be removed or re-valued on a protected backup, other tags can', async () => {
    const { b, policy } = document();
    const tags = protectedTags(b);
    const retag = (action: string, context: Record<string, any>) => decide({ principal: ADMIN, action, resource: SNAPSHOT, tags, context }, policy);
    expect(await retag('ec2:CreateTags', { 'aws:TagKeys': [b.purposeKey], [`aws:RequestTag/${b.purposeKey}`]: 'scratch' })).toBe('ExplicitlyDenied');
    expect(await retag('ec2:DeleteTags', { 'aws:TagKeys': [b.purposeKey] })).toBe('ExplicitlyDenied');
    expect(await retag('ec2:DeleteTags', { 'aws:TagKeys': ['Name', b.purposeKey] })).toBe('ExplicitlyDenied');
    expect(await retag('ec2:CreateTags', { 'aws:TagKeys': ['Name'], 'aws:RequestTag/Name': 'ledger' })).toBe('Allowed');
    expect(await retag('ec2:DeleteTags', { 'aws:TagKeys': ['Name'] })).toBe('Allowed');
    // DenyPurposeTagChanges decides on its own, not only through DenyTrustedTagChanges (the purpose key is also a trusted
    // tag): a change to the trusted-tag list must not open the purpose tag. (ec2:CreateAction is a condition key of
    // CreateTags only, Service Authorization Reference, EC2: a DeleteTags "at creation" does not exist.)
    const alone = { ...policy, Statement: policy.Statement.filter((st: any) => st.Sid === 'DenyPurposeTagChanges') };
    const retagAlone = (action: string, keys: string[]) =>
      decide({ principal: ADMIN, action, resource: SNAPSHOT, tags, context: { 'aws:TagKeys': keys } }, alone);
    expect(await retagAlone('ec2:DeleteTags', [b.purposeKey])).toBe('ExplicitlyDenied');
    expect(await retagAlone('ec2:CreateTags', ['Name', b.purposeKey])).toBe('ExplicitlyDenied');
    expect(await retagAlone('ec2:DeleteTags', ['Name'])).toBe('Allowed');
    // an unprotected snapshot is the operator's to re-tag
    expect(await decide({
      principal: ADMIN,
      action: 'ec2:CreateTags',
      resource: SNAPSHOT,
      tags: protectedTags(b, 'scratch'),
      context: { 'aws:TagKeys': ['Name'] },
    }, policy)).toBe('Allowed');
  });

  test('the purpose tag statement is rendered only when the guard is tag-scoped', () => {
    const sids = (resources: ProtectedResources) => guardPolicy(build({ protectedResources: resources })).Statement.map((s: any) => s.Sid);
    expect(sids(ProtectedResources.purposeTagged())).toContain('DenyPurposeTagChanges');
    expect(sids(ProtectedResources.all())).not.toContain('DenyPurposeTagChanges');
  });

  test('DeleteTags without a tag list (removes every tag) is denied on a protected backup only', async () => {
    const { b, policy } = document();
    const strip = (resource: string, tags: Record<string, string>) => decide({ principal: ADMIN, action: 'ec2:DeleteTags', resource, tags }, policy);
    expect(await strip(SNAPSHOT, protectedTags(b))).toBe('ExplicitlyDenied');
    expect(await strip(IMAGE, protectedTags(b, 'ledger-dr'))).toBe('ExplicitlyDenied');
    expect(await strip(SNAPSHOT, protectedTags(b, 'scratch'))).toBe('Allowed');
    expect(await decide({ principal: b.registered, action: 'ec2:DeleteTags', resource: SNAPSHOT, tags: protectedTags(b) }, policy)).toBe('Allowed');
    const all = build({ protectedResources: ProtectedResources.all() });
    expect(await decide({ principal: ADMIN, action: 'ec2:DeleteTags', resource: SNAPSHOT, tags: {} }, guardPolicy(all))).toBe('ExplicitlyDenied');
  });

  test('attack: strip the purpose tag, then delete — the first step is denied, the second then too', async () => {
    const { b, policy } = document();
    expect(await decide({
      principal: ADMIN,
      action: 'ec2:DeleteTags',
      resource: SNAPSHOT,
      tags: protectedTags(b),
      context: { 'aws:TagKeys': [b.purposeKey] },
    }, policy)).toBe('ExplicitlyDenied');
    expect(await decide({ principal: ADMIN, action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags: protectedTags(b) }, policy)).toBe('ExplicitlyDenied');
  });

  test('a copy of a protected backup must carry a protected purpose', async () => {
    const { b, policy } = document();
    const copy = (requestTags?: Record<string, string>, action = 'ec2:CopySnapshot') =>
      decide({ principal: ADMIN, action, resource: SNAPSHOT, tags: protectedTags(b), requestTags }, policy);
    expect(await copy()).toBe('ExplicitlyDenied');
    expect(await copy({ Name: 'copy' })).toBe('ExplicitlyDenied');
    expect(await copy({ [b.purposeKey]: 'scratch' })).toBe('ExplicitlyDenied');
    expect(await copy({ [b.purposeKey]: 'ledger-dr' })).toBe('Allowed');
    expect(await copy({ [b.purposeKey]: 'ledger-archive' }, 'ec2:CopyImage')).toBe('Allowed');
    // copying an unprotected snapshot is free
    expect(await decide({ principal: ADMIN, action: 'ec2:CopySnapshot', resource: SNAPSHOT, tags: protectedTags(b, 'scratch') }, policy)).toBe('Allowed');
  });

  test('under purposeTagged(), stripping every tag and copying without the purpose tag are denied on a tagged backup only', async () => {
    const b = build({ protectedResources: ProtectedResources.purposeTagged() });
    const policy = guardPolicy(b);
    const call = (action: string, tags: Record<string, string>) => decide({ principal: ADMIN, action, resource: SNAPSHOT, tags }, policy);
    // DeleteTags without a tag list, and a copy without tags (EC2 API Reference, DeleteTags, CopySnapshot)
    for (const action of ['ec2:DeleteTags', 'ec2:CopySnapshot']) {
      expect([action, await call(action, protectedTags(b, 'anything'))]).toEqual([action, 'ExplicitlyDenied']);
      expect([action, await call(action, { Name: 'scratch' })]).toEqual([action, 'Allowed']);
    }
  });

  test('under purposeTagged() and all(), a copy must carry the purpose tag (any value)', async () => {
    for (const resources of [ProtectedResources.purposeTagged(), ProtectedResources.all()]) {
      const b = build({ protectedResources: resources });
      const policy = guardPolicy(b);
      const copy = (requestTags?: Record<string, string>) =>
        decide({ principal: ADMIN, action: 'ec2:CopySnapshot', resource: SNAPSHOT, tags: protectedTags(b, 'anything'), requestTags }, policy);
      expect(await copy()).toBe('ExplicitlyDenied');
      expect(await copy({ Name: 'copy' })).toBe('ExplicitlyDenied');
      expect(await copy({ [b.purposeKey]: 'scratch' })).toBe('Allowed');
    }
  });

  test('sharing: only with the allowed accounts, and never a protected backup; removing a share is free', async () => {
    const { b, policy } = document();
    const share = (tags: Record<string, string>, context: Record<string, string>) =>
      decide({ principal: ADMIN, action: 'ec2:ModifySnapshotAttribute', resource: SNAPSHOT, tags, context }, policy);
    const unprotected = protectedTags(b, 'scratch');
    expect(await share(unprotected, { 'ec2:Add/userId': FOREIGN })).toBe('ExplicitlyDenied');
    expect(await share(unprotected, { 'ec2:Add/userId': PARTNER })).toBe('Allowed');
    expect(await share(unprotected, { 'ec2:Remove/userId': FOREIGN })).toBe('Allowed');
    expect(await share(protectedTags(b), { 'ec2:Add/userId': PARTNER })).toBe('ExplicitlyDenied');
    // the retention roles may share (a DLM cross-account copy rule)
    expect(await decide({
      principal: b.registered,
      action: 'ec2:ModifySnapshotAttribute',
      resource: SNAPSHOT,
      tags: unprotected,
      context: { 'ec2:Add/userId': FOREIGN },
    }, policy)).toBe('Allowed');
  });

  test('sharing with no allowed account (an empty list, or none given): every add is denied, removals are free', async () => {
    for (const sharingAllowedAccounts of [[], undefined]) {
      const b = build({ sharingAllowedAccounts });
      const policy = guardPolicy(b);
      const share = (context: Record<string, string>) =>
        decide({ principal: ADMIN, action: 'ec2:ModifySnapshotAttribute', resource: SNAPSHOT, tags: protectedTags(b, 'scratch'), context }, policy);
      expect(await share({ 'ec2:Add/userId': PARTNER })).toBe('ExplicitlyDenied');
      expect(await share({ 'ec2:Remove/userId': PARTNER })).toBe('Allowed');
    }
  });

  test('trusted tags: set at creation only, on every snapshot whatever the guard protects', async () => {
    for (const resources of [ProtectedResources.purposes('ledger-archive'), ProtectedResources.all()]) {
      const b = build({ protectedResources: resources });
      const policy = guardPolicy(b);
      for (const key of [...TRUSTED_TAG_NAMES.map((n) => BackupTagging.key(b.stack, n)), b.purposeKey, `${PREFIX}retention`, b.managedByKey]) {
        const tag = (context: Record<string, string>) => decide({
          principal: ADMIN,
          action: 'ec2:CreateTags',
          resource: SNAPSHOT,
          context: { 'aws:TagKeys': [key] as any, [`aws:RequestTag/${key}`]: 'age:0d', ...context },
        } as Request, policy);
        expect([key, await tag({})]).toEqual([key, 'ExplicitlyDenied']);
        expect([key, await tag({ 'ec2:CreateAction': 'CreateSnapshot' })]).toEqual([key, 'Allowed']);
      }
      // a retention role re-tags (the lock job records its lock)
      expect(await decide({
        principal: b.registered,
        action: 'ec2:CreateTags',
        resource: SNAPSHOT,
        context: { 'aws:TagKeys': [`${PREFIX}retention`] },
      }, policy)).toBe('Allowed');
    }
  });

  test('AppConsistent: only AWS\'s VSS agent adds it after creation, from the instance, to a VSS snapshot', async () => {
    const { policy } = document();
    const tag = (tags: Record<string, string>, context: Record<string, string>) => decide({
      principal: arn('ledger-sql-server'),
      action: 'ec2:CreateTags',
      resource: SNAPSHOT,
      tags,
      context: { 'aws:TagKeys': ['AppConsistent'] as any, ...context },
    } as Request, policy);
    const vss = { AwsVssConfig: 'true' };
    const fromInstance = { 'ec2:SourceInstanceARN': `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0` };
    expect(await tag(vss, fromInstance)).toBe('Allowed');
    expect(await tag(vss, {})).toBe('ExplicitlyDenied');
    expect(await tag({}, fromInstance)).toBe('ExplicitlyDenied');
    expect(await tag({}, { 'ec2:CreateAction': 'CreateSnapshots' })).toBe('Allowed');
  });

  test('keys: a purpose-tagged key and every named key, destruction only by break-glass, policy only by deployments', async () => {
    const { b, policy } = document();
    const key = (principal: string, action: string, resource: string, tags: Record<string, string> = {}) =>
      decide({ principal, action, resource, tags }, policy);
    expect(await key(ADMIN, 'kms:ScheduleKeyDeletion', TAGGED_KEY, protectedTags(b, 'anything'))).toBe('ExplicitlyDenied');
    expect(await key(ADMIN, 'kms:ScheduleKeyDeletion', OTHER_KEY)).toBe('Allowed');
    expect(await key(ADMIN, 'kms:ScheduleKeyDeletion', SOURCE_KEY)).toBe('ExplicitlyDenied');
    expect(await key(b.registered, 'kms:DisableKey', SOURCE_KEY)).toBe('ExplicitlyDenied');
    expect(await key(b.registered, 'kms:DisableKey', TAGGED_KEY, protectedTags(b))).toBe('ExplicitlyDenied');
    expect(await key(DEPLOYER, 'kms:DisableKey', SOURCE_KEY)).toBe('ExplicitlyDenied');
    expect(await key(BREAK_GLASS, 'kms:DisableKey', SOURCE_KEY)).toBe('Allowed');
    expect(await key(ADMIN, 'kms:PutKeyPolicy', TAGGED_KEY, protectedTags(b))).toBe('ExplicitlyDenied');
    expect(await key(ADMIN, 'kms:PutKeyPolicy', SOURCE_KEY)).toBe('ExplicitlyDenied');
    expect(await key(ADMIN, 'kms:PutKeyPolicy', OTHER_KEY)).toBe('Allowed');
    expect(await key(DEPLOYER, 'kms:PutKeyPolicy', SOURCE_KEY)).toBe('Allowed');
    expect(await key(DEPLOYER, 'kms:PutKeyPolicy', TAGGED_KEY, protectedTags(b))).toBe('Allowed');
  });

  test('keys added later (addKey, sourceKeys) are named once each; without any, no named-key statement', async () => {
    const b = build({ keys: undefined, sourceKeys: [kms.Key.fromKeyArn(new Stack(), 'K', OTHER_KEY)] });
    const extra = kms.Key.fromKeyArn(b.stack, 'Extra', TAGGED_KEY);
    b.deny.addKey(extra);
    b.deny.addKey(extra);
    const policy = guardPolicy(b);
    const named = policy.Statement.find((s: any) => s.Sid === 'DenyNamedKeyDestruction');
    // each key once: the SCP quota counts every character
    expect(named.Resource).toEqual([OTHER_KEY, TAGGED_KEY]);
    expect(await decide({ principal: ADMIN, action: 'kms:DisableKey', resource: OTHER_KEY }, policy)).toBe('ExplicitlyDenied');
    const none = build({ keys: undefined });
    expect(guardPolicy(none).Statement.map((s: any) => s.Sid)).not.toContain('DenyNamedKeyDestruction');
    // an empty resource list is not a valid statement: the named-key statements vanish
    expect(documentOf(none, none.deny.keyStatements()).Statement).toEqual([]);
  });

  test('the library\'s machinery: only tagged resources, and the tag itself', async () => {
    const { b, policy } = document();
    const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:app`;
    const tagged = { [b.managedByKey]: 'cdk-ebs-backup' };
    expect(await decide({ principal: ADMIN, action: 'lambda:UpdateFunctionCode', resource: fn, tags: tagged }, policy)).toBe('ExplicitlyDenied');
    expect(await decide({ principal: ADMIN, action: 'lambda:UpdateFunctionCode', resource: fn, tags: {} }, policy)).toBe('Allowed');
    expect(await decide({ principal: DEPLOYER, action: 'lambda:UpdateFunctionCode', resource: fn, tags: tagged }, policy)).toBe('Allowed');
    expect(await decide({ principal: b.registered, action: 'lambda:UpdateFunctionCode', resource: fn, tags: tagged }, policy)).toBe('ExplicitlyDenied');
    const untag = (keys: string[]) => decide({
      principal: ADMIN,
      action: 'lambda:UntagResource',
      resource: fn,
      tags: tagged,
      context: { 'aws:TagKeys': keys },
    }, policy);
    expect(await untag([b.managedByKey])).toBe('ExplicitlyDenied');
    expect(await untag(['Owner'])).toBe('Allowed');
  });

  test('the guard\'s own policies: not detached, not re-versioned; other policies are', async () => {
    const { policy } = document();
    const detach = (policyArn: string) => decide({
      principal: ADMIN,
      action: 'iam:DetachRolePolicy',
      resource: ADMIN,
      context: { 'iam:PolicyARN': policyArn },
    }, policy);
    expect(await detach(GUARD_POLICY)).toBe('ExplicitlyDenied');
    expect(await detach(`arn:aws:iam::${ACCOUNT}:policy/other`)).toBe('Allowed');
    const version = (resource: string, principal = ADMIN) => decide({ principal, action: 'iam:CreatePolicyVersion', resource }, policy);
    expect(await version(GUARD_POLICY)).toBe('ExplicitlyDenied');
    expect(await version(GUARD_POLICY, DEPLOYER)).toBe('Allowed');
    expect(await version(`arn:aws:iam::${ACCOUNT}:policy/other`)).toBe('Allowed');
  });

  test('the permissions boundary: neither removed nor swapped; another boundary is the operator\'s', async () => {
    const { policy } = document();
    const call = (action: string, boundary: string, principal = ADMIN) => decide({
      principal,
      action,
      resource: action.includes('User') ? `arn:aws:iam::${ACCOUNT}:user/ops` : arn('app'),
      context: { 'iam:PermissionsBoundary': boundary },
    }, policy);
    const other = `arn:aws:iam::${ACCOUNT}:policy/AllowEverything`;
    expect(await call('iam:DeleteRolePermissionsBoundary', BOUNDARY)).toBe('ExplicitlyDenied');
    expect(await call('iam:DeleteUserPermissionsBoundary', BOUNDARY)).toBe('ExplicitlyDenied');
    expect(await call('iam:DeleteRolePermissionsBoundary', other)).toBe('Allowed');
    expect(await call('iam:PutRolePermissionsBoundary', other)).toBe('ExplicitlyDenied');
    expect(await call('iam:PutRolePermissionsBoundary', BOUNDARY)).toBe('Allowed');
    expect(await call('iam:PutRolePermissionsBoundary', other, DEPLOYER)).toBe('Allowed');
    expect(await call('iam:DeleteRolePermissionsBoundary', BOUNDARY, DEPLOYER)).toBe('Allowed');
  });

  test('block public access: denied only when asked for', async () => {
    const b = build();
    const disable = (policy: any) => decide({ principal: ADMIN, action: 'ec2:DisableSnapshotBlockPublicAccess', resource: '*' }, policy);
    expect(await disable(guardPolicy(b, { blockPublicAccess: true }))).toBe('ExplicitlyDenied');
    expect(await disable(guardPolicy(build(), { blockPublicAccess: false }))).toBe('Allowed');
  });
});

describe('the statement ids', () => {
  test('each is a valid IAM Sid, unique, and named in the README threat model (what an auditor\'s query and the attack paths name)', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const b = build({ protectedResources: ProtectedResources.purposeTagged() });
    const sids = guardPolicy(b).Statement.map((s: any) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    for (const sid of sids) {
      // "Sid" element: ASCII uppercase and lowercase letters and digits
      expect([sid, /^[A-Za-z0-9]+$/.test(sid), readme.includes(`\`${sid}\``)]).toEqual([sid, true, true]);
    }
  });
});

describe('the exempt roles', () => {
  test('every exempt role and role pattern is protected from re-trust and re-permission; other roles are not', async () => {
    const b = build({ exemptLockRoles: [] });
    const policy = guardPolicy(b);
    const retrust = (role: string, principal = ADMIN) => decide({ principal, action: 'iam:UpdateAssumeRolePolicy', resource: role }, policy);
    for (const role of [b.registered, b.expiry, b.lock, BREAK_GLASS, arn('AWSDataLifecycleManagerDefaultRole', '210987654321'),
      arn('ledger-lockers/nightly'), DEPLOYER]) {
      expect([role, await retrust(role)]).toEqual([role, 'ExplicitlyDenied']);
      expect([role, await retrust(role, DEPLOYER)]).toEqual([role, 'Allowed']);
    }
    expect(await retrust(arn('app'))).toBe('Allowed');
    // the registered retention roles can pass their own exemptions to something the attacker runs: no PassRole
    expect(await decide({ principal: ADMIN, action: 'iam:PassRole', resource: b.registered }, policy)).toBe('ExplicitlyDenied');
  });

  test('roles added later (addExemptRole, addLockRole, exemptLockRoles) are exempt and protected', async () => {
    const b = build();
    const late = new iam.Role(b.stack, 'LateRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const locker = new iam.Role(b.stack, 'LateLocker', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
    const optionLocker = new iam.Role(b.stack, 'OptionLocker', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
    const b2 = {
      ...b,
      deny: new WormDenyStatements(b.stack, {
        breakGlassPrincipalArns: [BREAK_GLASS],
        exemptLockRoles: [optionLocker],
        protectedResources: ProtectedResources.purposes('ledger-archive'),
      }),
    };
    b.deny.addExemptRole(late);
    b.deny.addExemptRole(late);
    b.deny.addLockRole(locker);
    b.deny.addLockRole(locker);
    const policy = guardPolicy(b);
    const name = (r: iam.IRole) => renderIntrinsics(b.stack.resolve(r.roleArn));
    const tags = { [b.purposeKey]: 'ledger-archive' };
    expect(await decide({ principal: name(late), action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags }, policy)).toBe('Allowed');
    expect(await decide({ principal: name(late), action: 'ec2:UnlockSnapshot', resource: SNAPSHOT, tags }, policy)).toBe('ExplicitlyDenied');
    expect(await decide({ principal: name(locker), action: 'ec2:LockSnapshot', resource: SNAPSHOT, tags }, policy)).toBe('Allowed');
    expect(await decide({ principal: name(locker), action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags }, policy)).toBe('ExplicitlyDenied');
    for (const r of [late, locker]) {
      expect(await decide({ principal: ADMIN, action: 'iam:AttachRolePolicy', resource: name(r) }, policy)).toBe('ExplicitlyDenied');
    }
    // each exempt principal once in a condition: the SCP quota counts every character
    const values = policy.Statement.flatMap((s: any) => [s.Condition?.ArnNotLike?.['aws:PrincipalArn'] ?? [], s.Resource].filter(Array.isArray));
    for (const list of values) {
      expect(new Set(list).size).toBe(list.length);
    }
    const policy2 = guardPolicy(b2, { lockRoles: [] });
    expect(await decide({ principal: name(optionLocker), action: 'ec2:LockSnapshot', resource: SNAPSHOT, tags }, policy2)).toBe('Allowed');
    expect(await decide({ principal: ADMIN, action: 'iam:PutRolePolicy', resource: name(optionLocker) }, policy2)).toBe('ExplicitlyDenied');
  });

  test('exemptRegisteredRetentionRoles: false — the registered roles neither pass nor are protected', async () => {
    const b = build({ exemptRegisteredRetentionRoles: false });
    const policy = guardPolicy(b);
    const tags = { [b.purposeKey]: 'ledger-archive' };
    expect(await decide({ principal: b.registered, action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags }, policy)).toBe('ExplicitlyDenied');
    expect(await decide({ principal: b.expiry, action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags }, policy)).toBe('Allowed');
    expect(await decide({ principal: ADMIN, action: 'iam:UpdateAssumeRolePolicy', resource: b.registered }, policy)).toBe('Allowed');
  });

  test('a break-glass user is exempt, but only role ARNs are protected as roles', () => {
    const user = `arn:aws:iam::${ACCOUNT}:user/ledger-oncall`;
    const b = build({ breakGlassPrincipalArns: [BREAK_GLASS, user] });
    const statement = guardPolicy(b).Statement.find((s: any) => s.Sid === 'DenyExemptRoleChanges');
    expect(statement.Resource).toContain(BREAK_GLASS);
    expect(statement.Resource).not.toContain(user);
  });
});

describe('nobody exempt', () => {
  const bare = (options: Partial<WormDenyOptions> = {}) => build({
    breakGlassPrincipalArns: undefined,
    exemptPrincipalArns: undefined,
    exemptRoles: undefined,
    exemptLockPrincipalArns: undefined,
    exemptRegisteredRetentionRoles: false,
    deploymentPrincipalArns: [],
    ...options,
  });

  test('every statement then denies everyone: no Condition block where no condition is left', async () => {
    const b = bare();
    const policy = guardPolicy(b, { lockRoles: [] });
    const recovery = policy.Statement.find((s: any) => s.Sid === 'DenyRecoveryPointChanges');
    // IAM rejects an empty condition operator block; an absent Condition applies to every request
    expect(recovery).not.toHaveProperty('Condition');
    const deletion = policy.Statement.find((s: any) => s.Sid === 'DenyBackupDeletion');
    expect(Object.keys(deletion.Condition)).toEqual(['StringEquals']);
    // nobody is exempt, so no exempt role is protected: the statement would have no resource
    expect(policy.Statement.map((s: any) => s.Sid)).not.toContain('DenyExemptRoleChanges');
    for (const principal of [ADMIN, BREAK_GLASS, b.registered, DEPLOYER]) {
      expect(await decide({ principal, action: 'backup:DeleteRecoveryPoint', resource: `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:x` }, policy))
        .toBe('ExplicitlyDenied');
      expect(await decide({ principal, action: 'dlm:DeleteLifecyclePolicy', resource: `arn:aws:dlm:${REGION}:${ACCOUNT}:policy/p` }, policy))
        .toBe('ExplicitlyDenied');
    }
  });

  test('nobodyExempt and noBreakGlass say who is left to pass the data statements', () => {
    expect([bare().deny.nobodyExempt, bare().deny.noBreakGlass]).toEqual([true, true]);
    expect(bare({ breakGlassPrincipalArns: [BREAK_GLASS] }).deny.nobodyExempt).toBe(false);
    expect(bare({ breakGlassPrincipalArns: [BREAK_GLASS] }).deny.noBreakGlass).toBe(false);
    expect(bare({ exemptPrincipalArns: [DLM_DEFAULT] }).deny.nobodyExempt).toBe(false);
    expect(bare({ exemptPrincipalArns: [DLM_DEFAULT] }).deny.noBreakGlass).toBe(true);
    expect(bare({ exemptLockPrincipalArns: [LOCK_PATTERN] }).deny.nobodyExempt).toBe(false);
    const withRole = bare();
    withRole.deny.addExemptRole(withRole.lockRole);
    expect(withRole.deny.nobodyExempt).toBe(false);
    const withLock = bare();
    withLock.deny.addLockRole(withLock.lockRole);
    expect(withLock.deny.nobodyExempt).toBe(false);
    // deployment principals pass the configuration statements only: they do not count
    expect(bare({ deploymentPrincipalArns: [DEPLOYER] }).deny.nobodyExempt).toBe(true);
    expect(build().deny.tagKey).toBe(`${PREFIX}purpose`);
  });

  test('a policy document that is not a statement list, or a statement without conditions, passes through', () => {
    const b = bare();
    const plain = new iam.PolicyStatement({ sid: 'AllowRead', actions: ['ec2:DescribeSnapshots'], resources: ['*'] });
    expect(documentOf(b, [plain]).Statement).toEqual([{ Sid: 'AllowRead', Effect: 'Allow', Action: 'ec2:DescribeSnapshots', Resource: '*' }]);
    expect(b.stack.resolve(new WormPolicyDocument())).toBeUndefined();
  });
});

describe('organization-wide and cross-environment', () => {
  test('organization-wide, the deployment role is the bootstrap role of any member account', async () => {
    const b = build({}, true);
    const policy = guardPolicy(b);
    const member = arn('cdk-hnb659fds-cfn-exec-role-210987654321-eu-west-1', '210987654321');
    const dlm = 'arn:aws:dlm:eu-west-1:210987654321:policy/policy-0d1c2b3a49586f7e0';
    expect(await decide({ principal: member, action: 'dlm:UpdateLifecyclePolicy', resource: dlm }, policy, 'SCP')).toBe('Allowed');
    expect(await decide({ principal: arn('Admin', '210987654321'), action: 'dlm:UpdateLifecyclePolicy', resource: dlm }, policy, 'SCP'))
      .toBe('ExplicitlyDenied');
    expect(await decide({
      principal: arn('cdk-hnb659fds-cfn-exec-role-210987654321-eu-west-1', '210987654321'),
      action: 'dlm:UpdateLifecyclePolicy',
      resource: dlm,
    }, guardPolicy(build()), 'SCP')).toBe('ExplicitlyDenied');
  });

  test('a role of another environment: named by its physical name, or a synth-time error saying what to do', () => {
    const b = build({ exemptRegisteredRetentionRoles: false });
    const member = new Stack(b.stack.node.root as App, 'Member', { env: { account: '210987654321', region: REGION } });
    const named = new iam.Role(member, 'Named', { roleName: 'ledger-dlm', assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    b.deny.addExemptRole(named);
    expect(guardPolicy(b).Statement.find((s: any) => s.Sid === 'DenyBackupDeletion').Condition.ArnNotLike['aws:PrincipalArn'])
      .toContain('arn:aws:iam::210987654321:role/ledger-dlm');
    const sameEnv = new Stack(b.stack.node.root as App, 'Sibling', { env: { account: ACCOUNT, region: REGION } });
    b.deny.addExemptRole(new iam.Role(sameEnv, 'Generated', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') }));
    expect(() => guardPolicy(b)).not.toThrow();
    const c = build({ exemptRegisteredRetentionRoles: false });
    const other = new Stack(c.stack.node.root as App, 'Member', { env: { account: '210987654321', region: REGION } });
    c.deny.addExemptRole(new iam.Role(other, 'Dlm', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') }));
    expect(() => guardPolicy(c)).toThrow('Member/Dlm lives in another environment (210987654321/us-east-1) and has a generated name, so the '
      + 'policy cannot name it; give it a roleName, or exempt it by pattern with exemptPrincipalArns and set exemptRegisteredRetentionRoles: false');
    const d = build({ exemptRegisteredRetentionRoles: false });
    const region = new Stack(d.stack.node.root as App, 'Region', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    d.deny.addExemptRole(new iam.Role(region, 'Dlm', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') }));
    expect(() => guardPolicy(d)).toThrow(/Region\/Dlm lives in another environment/);
    // an imported role has a plain ARN: named as given
    const e = build({ exemptRegisteredRetentionRoles: false });
    e.deny.addExemptRole(iam.Role.fromRoleArn(e.stack, 'Imported', arn('imported-dlm', '210987654321')));
    expect(guardPolicy(e).Statement.find((s: any) => s.Sid === 'DenyBackupDeletion').Condition.ArnNotLike['aws:PrincipalArn'])
      .toContain(arn('imported-dlm', '210987654321'));
  });
});

describe('bad input is a synth-time error naming the property and the value', () => {
  test.each([
    ['breakGlassPrincipalArns', { breakGlassPrincipalArns: ['*'] }, /breakGlassPrincipalArns\[0\] must be an IAM role, user or root ARN/],
    ['exemptPrincipalArns', { exemptPrincipalArns: ['ledger'] }, /exemptPrincipalArns\[0\] must be an IAM role, user or root ARN/],
    ['exemptLockPrincipalArns', { exemptLockPrincipalArns: ['ledger'] }, /exemptLockPrincipalArns\[0\] must be an IAM role, user or root ARN/],
    ['deploymentPrincipalArns', { deploymentPrincipalArns: [`arn:aws:iam::${ACCOUNT}:user/deployer`] }, /deploymentPrincipalArns\[0\]/],
    ['sharingAllowedAccounts', { sharingAllowedAccounts: [PARTNER, '12345'] }, /sharingAllowedAccounts\[1\] must be a 12-digit AWS account id.*12345/],
    ['sharingAllowedAccounts count', { sharingAllowedAccounts: Array.from({ length: 101 }, (_, i) => String(100000000000 + i)) },
      /sharingAllowedAccounts must have at most 100 items/],
    ['purposes', { protectedResources: ProtectedResources.purposes('ledger-archive', 'bad purpose!') }, /protectedResources\.purposes\[1\]/],
  ])('%s', (_name, options, message) => {
    expect(() => build(options as Partial<WormDenyOptions>)).toThrow(message);
  });

  test('100 sharing accounts are accepted', () => {
    expect(() => build({ sharingAllowedAccounts: Array.from({ length: 100 }, (_, i) => String(100000000000 + i)) })).not.toThrow();
  });
});

// last: the widest tests (Stryker runs a file's tests in order and stops at the first failure)
describe('every catalogued action', () => {
  // built in each test, not in the describe body: Stryker's per-test coverage sees only what a test runs
  // as a managed policy; attack-paths.test.ts runs the same matrix in all three delivery forms (managed policy, boundary, SCP)
  test.each(GROUPS)('%s: every action denied to an administrator, allowed to break-glass', async (group) => {
    const b = build();
    const document = guardPolicy(b);
    const world = worldOf(b);
    for (const action of DESTRUCTIVE_ACTIONS[group].actions) {
      const attacker = await decide(sampleRequest(world, group, action, ADMIN), document);
      const breakGlass = await decide(sampleRequest(world, group, action, BREAK_GLASS), document);
      expect([action, attacker, breakGlass]).toEqual([action, 'ExplicitlyDenied', 'Allowed']);
    }
  });

  // who passes is decided per statement, and a group renders into one statement: its first action stands for it
  test.each(GROUPS)('%s: exactly the principals of its class pass', async (group) => {
    const action = DESTRUCTIVE_ACTIONS[group].actions[0];
    const b = build();
    const document = guardPolicy(b);
    const world = worldOf(b);
    const locker = arn('ledger-lockers/nightly');
    const exemptClass = exemptionOf(group);
    const principals: Record<string, string> = {
      'the DLM default role (by pattern)': arn('AWSDataLifecycleManagerDefaultRole'),
      'a registered retention role': b.registered,
      'an exempt role': b.expiry,
      'a locker (by pattern)': locker,
      'the lock role': b.lock,
      'the deployment role': DEPLOYER,
    };
    const passes: Record<string, boolean> = {
      'the DLM default role (by pattern)': exemptClass === 'lifecycle',
      'a registered retention role': exemptClass === 'lifecycle',
      'an exempt role': exemptClass === 'lifecycle',
      'a locker (by pattern)': exemptClass === 'lock',
      'the lock role': exemptClass === 'lock',
      'the deployment role': exemptClass === 'deployment',
    };
    for (const [who, principal] of Object.entries(principals)) {
      const request = sampleRequest(world, group, action, principal);
      const expected = passes[who] ? 'Allowed' : 'ExplicitlyDenied';
      expect([who, await decide(request, document)]).toEqual([who, expected]);
    }
  });
});

describe('the rendered document: nobody exempt, and roles of other environments', () => {
  test('nobody exempt: the exemption goes, the other conditions stay, and the deny binds everyone', async () => {
    const b = build({
      breakGlassPrincipalArns: [], exemptPrincipalArns: [], exemptRoles: [], exemptLockPrincipalArns: [], exemptRegisteredRetentionRoles: false,
    });
    const policy = documentOf(b, b.deny.statements({ blockPublicAccess: true, lockRoles: [] }));
    // IAM refuses an empty Condition block or an operator without keys (IAM JSON policy elements: Condition)
    for (const statement of policy.Statement) {
      if (statement.Condition !== undefined) {
        expect([statement.Sid, Object.keys(statement.Condition).length > 0]).toEqual([statement.Sid, true]);
        for (const [operator, value] of Object.entries<any>(statement.Condition)) {
          const keyed = typeof value === 'object' && value !== null && Object.keys(value).length > 0;
          expect([statement.Sid, operator, keyed]).toEqual([statement.Sid, operator, true]);
        }
      }
    }
    const deleting = policy.Statement.find((s: any) => [s.Action].flat().includes('ec2:DeleteSnapshot'));
    expect(deleting.Condition?.ArnNotLike).toBeUndefined();
    const del = (principal: string, tags: Record<string, string>) => decide({ principal, action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags }, policy);
    expect(await del(BREAK_GLASS, { [b.purposeKey]: 'ledger-archive' })).toBe('ExplicitlyDenied');
    expect(await del(b.registered, { [b.purposeKey]: 'ledger-dr' })).toBe('ExplicitlyDenied');
    // the purpose condition stayed: an unprotected snapshot is still free
    expect(await del(BREAK_GLASS, { [b.purposeKey]: 'scratch' })).toBe('Allowed');
  });

  test('an exempt role of another account is named by its roleName; a generated name cannot be, and the error says what to do', () => {
    const b = build();
    const app = b.stack.node.root as App;
    const elsewhere = new Stack(app, 'Partner', { env: { account: FOREIGN, region: REGION } });
    const named = new iam.Role(elsewhere, 'Named', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com'), roleName: 'ledger-partner-expiry' });
    const imported = iam.Role.fromRoleArn(elsewhere, 'Imported', arn('ledger-imported', FOREIGN), { mutable: false });
    b.deny.addExemptRole(named);
    b.deny.addExemptRole(imported);
    const policy = documentOf(b, b.deny.statements({ blockPublicAccess: true, lockRoles: [] }));
    const deleting = policy.Statement.find((s: any) => [s.Action].flat().includes('ec2:DeleteSnapshot'));
    expect(deleting.Condition.ArnNotLike['aws:PrincipalArn']).toEqual(expect.arrayContaining([arn('ledger-partner-expiry', FOREIGN), arn('ledger-imported', FOREIGN)]));
    const generated = new iam.Role(elsewhere, 'Generated', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
    b.deny.addExemptRole(generated);
    expect(() => documentOf(b, b.deny.statements({ blockPublicAccess: true, lockRoles: [] }))).toThrow(
      `LedgerBackups: exempt role Partner/Generated lives in another environment (${FOREIGN}/${REGION}) and has a generated name, so the policy cannot name it; `
      + 'give it a roleName, or exempt it by pattern with exemptPrincipalArns and set exemptRegisteredRetentionRoles: false');
  });
});
