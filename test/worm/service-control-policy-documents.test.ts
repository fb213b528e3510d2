/**
 * `WormServiceControlPolicy` (src/worm/service-control-policy.ts) built in a bare app, without
 * synthesis through the gates, its documents evaluated as SCPs with the IAM policy evaluator
 * (`@cloud-copilot/iam-simulate`):
 * - "Service control policies": an SCP never grants; a deny in any SCP attached to the account
 *   (or an OU above it) denies, for every principal of the member account but service-linked roles.
 *   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * - "Quotas for AWS Organizations": an SCP document holds at most 5,120 characters, and an account
 *   or OU takes at most five SCPs; a policy name is 1-128 characters, a description up to 512.
 *   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
 * - CreatePolicy / AttachPolicy target ids: a root `r-` with 4-32 lowercase letters or digits,
 *   an account of 12 digits, an OU `ou-<root id part>-<8-32 lowercase letters or digits>`.
 *   https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html
 * - EC2 declarative policies: `snapshot_block_public_access` and `image_block_public_access`.
 *   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_declarative_syntax.html
 *
 * The same construct synthesized through every gate is tested by service-control-policy.test.ts;
 * this file is what the mutation module `worm-service-control-policy` runs.
 */
import { App, Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BackupTagging, PlanReport, ProtectedResources, WormServiceControlPolicy, WormServiceControlPolicyProps } from '../../src';
import { WormDenyStatements } from '../../src/worm/deny-statements';
import { estimatePolicyLength, SCP_MAX_CHARACTERS } from '../../src/worm/scp-size';
import { evaluate, Request } from '../support/iam-evaluation';
import { renderIntrinsics } from '../support/intrinsics';

const MEMBER = '210987654321';
const MANAGEMENT = '111122223333';
const BREAK_GLASS = 'arn:aws:iam::*:role/ledger-break-glass';
const ADMIN = `arn:aws:iam::${MEMBER}:role/PlatformAdmin`;
const SNAPSHOT = 'arn:aws:ec2:eu-west-1::snapshot/snap-0f1e2d3c4b5a69788';
const BROAD_ALLOW = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ec2:*', 'iam:*', 'dlm:*', 'backup:*'], Resource: '*' }] };

function organization(): Stack {
  return new Stack(new App(), 'Organization', { env: { account: MANAGEMENT, region: 'us-east-1' } });
}

function scp(props: WormServiceControlPolicyProps = {}, stack = organization()): { stack: Stack; scp: WormServiceControlPolicy } {
  return { stack, scp: new WormServiceControlPolicy(stack, 'Worm', { breakGlassPrincipalArns: [BREAK_GLASS], ...props }) };
}

/** The documents as AWS Organizations receives them. */
const documentsOf = (stack: Stack, policy: WormServiceControlPolicy): any[] =>
  policy.policies.map((p) => renderIntrinsics(stack.resolve(p.content), { account: MEMBER }));

/** A member account principal's request under every SCP of the construct (and FullAWSAccess). */
const decide = (request: Request, documents: any[]): Promise<string> => evaluate(request, { identity: [BROAD_ALLOW], scps: documents });

const many = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:iam::*:role/team-${i}-snapshot-lifecycle-role`);

describe('as service control policies', () => {
  test('a member account administrator is denied, break-glass and the member deployment role pass where they should', async () => {
    const { stack, scp: policy } = scp({ protectedResources: ProtectedResources.purposeTagged() });
    const documents = documentsOf(stack, policy);
    const tags = { [BackupTagging.keys(stack).purpose]: 'ledger' };
    const deleteSnapshot = (principal: string) => decide({ principal, action: 'ec2:DeleteSnapshot', resource: SNAPSHOT, tags }, documents);
    expect(await deleteSnapshot(ADMIN)).toBe('ExplicitlyDenied');
    expect(await deleteSnapshot(`arn:aws:iam::${MEMBER}:role/ledger-break-glass`)).toBe('Allowed');
    const dlm = `arn:aws:dlm:eu-west-1:${MEMBER}:policy/policy-0d1c2b3a49586f7e0`;
    const deployer = `arn:aws:iam::${MEMBER}:role/cdk-hnb659fds-cfn-exec-role-${MEMBER}-eu-west-1`;
    expect(await decide({ principal: deployer, action: 'dlm:UpdateLifecyclePolicy', resource: dlm }, documents)).toBe('Allowed');
    expect(await decide({ principal: ADMIN, action: 'dlm:UpdateLifecyclePolicy', resource: dlm }, documents)).toBe('ExplicitlyDenied');
    // the first document is the one `document` names
    expect(policy.document).toBe(policy.documents[0]);
    expect(policy.policy).toBe(policy.policies[0]);
    expect(stack.resolve(policy.policyId)).toEqual({ Ref: stack.getLogicalId(policy.policies[0]) });
  });

  test('block public access changes are denied only with blockPublicSharing', async () => {
    const disable = async (props: WormServiceControlPolicyProps) => {
      const { stack, scp: policy } = scp(props);
      return decide({ principal: ADMIN, action: 'ec2:DisableSnapshotBlockPublicAccess', resource: '*' }, documentsOf(stack, policy));
    };
    expect(await disable({ blockPublicSharing: true })).toBe('ExplicitlyDenied');
    expect(await disable({ blockPublicSharing: false })).toBe('Allowed');
    expect(await disable({})).toBe('Allowed');
  });
});

describe('the 5,120-character quota', () => {
  test('statements outgrowing one policy are split over several, each within the quota, none lost, in order', async () => {
    const { stack, scp: policy } = scp({ exemptPrincipalArns: many(12), targetIds: ['ou-abcd-12345678'] });
    const documents = documentsOf(stack, policy);
    // an account or OU takes at most five SCPs
    expect(documents.length).toBeGreaterThan(2);
    expect(documents.length).toBeLessThanOrEqual(5);
    expect(policy.documents).toHaveLength(documents.length);
    for (const document of documents) {
      expect(estimatePolicyLength(document)).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
      expect(JSON.stringify(document).length).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
    }
    // every statement the guard renders, once, in its order
    const expected = new WormDenyStatements(new Stack(new App(), 'Reference'), { breakGlassPrincipalArns: [BREAK_GLASS] }, true)
      .statements({ blockPublicAccess: false }).map((s) => s.sid);
    expect(documents.flatMap((d) => d.Statement.map((s: any) => s.Sid))).toEqual(expected);
    // the last statements, in a later part, still deny
    const lastSid = expected[expected.length - 1];
    expect(documents[0].Statement.map((s: any) => s.Sid)).not.toContain(lastSid);
    expect(await decide({ principal: ADMIN, action: 'iam:UpdateAssumeRolePolicy', resource: `arn:aws:iam::${MEMBER}:role/team-3-snapshot-lifecycle-role` },
      documents)).toBe('ExplicitlyDenied');
    // each part is its own policy, attached to the same targets, named and described after the first
    const names = policy.policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    policy.policies.forEach((p, i) => {
      expect(p.targetIds).toEqual(['ou-abcd-12345678']);
      expect(p.type).toBe('SERVICE_CONTROL_POLICY');
      if (i > 0) {
        expect(p.name).toBe(`${names[0]}-${i + 1}`);
        expect(p.description).toBe(`${policy.policies[0].description} (part ${i + 1})`);
        expect(stack.getLogicalId(p)).toMatch(new RegExp(`^WormPart${i + 1}[0-9A-F]{8}$`));
      }
    });
    // the first keeps its logical id whatever the split
    expect(stack.getLogicalId(policy.policies[0])).toMatch(/^Worm[0-9A-F]{8}$/);
    expect(policy.node.validate()).toEqual([]);
  });

  // the split counts a comma after every statement, one more than the document has: a part is filled to 5,119 characters at most
  test('a document is filled up to the quota, and a statement that does not fit opens the next one', () => {
    const { stack, scp: policy } = scp();
    const parts = policy.documents.length;
    const last = () => policy.documents[policy.documents.length - 1];
    const room = SCP_MAX_CHARACTERS - estimatePolicyLength(stack.resolve(last()));
    const sized = (sid: string, length: number) => {
      const statement = (chars: number) => new iam.PolicyStatement({
        sid,
        effect: iam.Effect.DENY,
        actions: ['ec2:DeleteSnapshot'],
        resources: [`arn:aws:ec2:*::snapshot/${'x'.repeat(chars)}`],
      });
      // the length a statement adds (with its comma), measured as a one-statement document
      const base = estimatePolicyLength(stack.resolve({ Version: '2012-10-17', Statement: [stack.resolve(statement(0).toStatementJson())] }))
        - estimatePolicyLength({ Version: '2012-10-17', Statement: [] }) + 1;
      return statement(length - base);
    };
    policy.addStatements(sized('FillsTheRoom', room - 1));
    expect(policy.documents).toHaveLength(parts);
    expect(estimatePolicyLength(stack.resolve(last()))).toBe(SCP_MAX_CHARACTERS - 1);
    expect(policy.node.validate()).toEqual([]);
    policy.addStatements(sized('One', 200));
    expect(policy.documents).toHaveLength(parts + 1);
    expect(policy.policies[parts].content).toBe(last());
    // the new part's size counts from an empty policy: it holds statements up to the quota too
    const nextRoom = SCP_MAX_CHARACTERS - estimatePolicyLength(stack.resolve(last()));
    policy.addStatements(sized('FillsTheNext', nextRoom - 1));
    expect(policy.documents).toHaveLength(parts + 1);
    expect(estimatePolicyLength(stack.resolve(last()))).toBe(SCP_MAX_CHARACTERS - 1);
    policy.addStatements(sized('OneMore', 200));
    expect(policy.documents).toHaveLength(parts + 2);
    expect(policy.node.validate()).toEqual([]);
  });

  test('more parts than a target takes (five SCPs) fail at synthesis, saying what to do', () => {
    // the fewest exempt patterns that need a sixth part, and one fewer
    let n = 12;
    while (scp({ exemptPrincipalArns: many(n) }).scp.policies.length < 6) {
      n++;
    }
    const five = scp({ exemptPrincipalArns: many(n - 1) }).scp;
    expect([five.policies.length, five.node.validate()]).toEqual([5, []]);
    const six = scp({ exemptPrincipalArns: many(n) }).scp;
    expect(six.policies).toHaveLength(6);
    expect(six.node.validate()).toEqual(['Organization/Worm: the statements need 6 service control policies of 5,120 characters, and a root, OU or '
      + 'account takes at most 5 SCPs (AWS Organizations quota, FullAWSAccess included); exempt principals by pattern (arn:aws:iam::*:role/...) '
      + 'instead of one ARN each']);
  });

  test('a single statement larger than the quota fails at synthesis, naming the policy and the fix', () => {
    const { scp: policy } = scp();
    policy.addStatements(new iam.PolicyStatement({
      sid: 'Huge',
      effect: iam.Effect.DENY,
      actions: ['ec2:DeleteSnapshot'],
      resources: many(200),
    }));
    const errors = policy.node.validate();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`Organization/Worm/Part${policy.policies.length}: service`);
    expect(errors[0]).toMatch(/service control policy must be at most 5120 characters \(AWS Organizations quota\)/);
  });
});

describe('names, descriptions and targets', () => {
  test('defaults: a name from the construct path, unique per construct, a description naming the library, not attached', () => {
    const stack = organization();
    const first = new WormServiceControlPolicy(stack, 'Worm', {});
    const second = new WormServiceControlPolicy(stack, 'WormEu', {});
    expect(first.policy.name).toBe(Names.uniqueResourceName(first, { maxLength: 128 }));
    expect(first.policy.name).not.toBe(second.policy.name);
    expect(first.policy.description).toMatch(/^Write-once protection of EBS snapshots, AMIs and backups \(cdk-ebs-backup\)$/);
    expect(first.policy.targetIds).toBeUndefined();
    expect(first.declarativePolicy).toBeUndefined();
  });

  test('a given name and description, and the parts derived from them within the quotas', () => {
    const name = 'n'.repeat(128);
    const description = 'd'.repeat(512);
    const { scp: policy } = scp({ policyName: name, description, exemptPrincipalArns: many(12) });
    expect(policy.policies.length).toBeGreaterThan(1);
    expect(policy.policies[0].name).toBe(name);
    expect(policy.policies[0].description).toBe(description);
    expect(policy.policies[1].name).toBe(`${'n'.repeat(120)}-2`);
    expect(policy.policies[1].description).toBe(`${'d'.repeat(490)} (part 2)`);
    for (const p of policy.policies) {
      expect(p.name!.length).toBeLessThanOrEqual(128);
      expect(p.description!.length).toBeLessThanOrEqual(512);
    }
    expect(scp({ description: '' }).scp.policy.description).toBe('');
  });

  test('blockPublicSharing: an EC2 declarative policy on the same targets', () => {
    const { scp: policy } = scp({ blockPublicSharing: true, targetIds: ['r-ab12', MEMBER], policyName: 'ledger-worm' });
    const declarative = policy.declarativePolicy!;
    expect(declarative.type).toBe('DECLARATIVE_POLICY_EC2');
    expect(declarative.name).toBe('ledger-worm-block-public-sharing');
    expect(declarative.description).toBe('Blocks public sharing of EBS snapshots and AMIs (cdk-ebs-backup)');
    expect(declarative.targetIds).toEqual(['r-ab12', MEMBER]);
    expect(declarative.content).toEqual({
      ec2_attributes: {
        snapshot_block_public_access: { state: { '@@assign': 'block_all_sharing' } },
        image_block_public_access: { state: { '@@assign': 'block_new_sharing' } },
      },
    });
    const long = scp({ blockPublicSharing: true, policyName: 'p'.repeat(128) }).scp.declarativePolicy!;
    expect(long.name).toBe(`${'p'.repeat(100)}-block-public-sharing`);
    expect(long.targetIds).toBeUndefined();
    const stack = organization();
    const unnamed = new WormServiceControlPolicy(stack, 'Worm', { blockPublicSharing: true }).declarativePolicy!;
    expect(unnamed.name).toMatch(/^Organization.*-block-public-sharing$/);
    expect(unnamed.name!.length).toBeLessThanOrEqual(128);
  });

  test('the stack warns that the SCP (and declarative) policy types must be enabled on the root', () => {
    const warnings = (props: WormServiceControlPolicyProps) => {
      const { stack } = scp(props);
      stack.node.validate();
      return stack.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data)).join('\n');
    };
    const plain = warnings({});
    expect(plain).toContain('the SERVICE_CONTROL_POLICY policy type enabled on the organization root');
    expect(plain).not.toContain('DECLARATIVE_POLICY_EC2');
    expect(warnings({ blockPublicSharing: true })).toContain('the DECLARATIVE_POLICY_EC2 policy type enabled on the organization root');
  });

  test('the plan entry in full: what it protects, always, what it locks', () => {
    const { stack } = scp({ policyName: 'ledger-worm', targetIds: [MEMBER] });
    const entries = JSON.parse(PlanReport.json(stack.node.root as App)).stacks[0].protections.filter((p: any) => p.construct === 'Organization/Worm');
    // the JSON report's kind names the construct class, for tools that group the plan by mechanism
    expect(entries).toEqual([{
      construct: 'Organization/Worm',
      kind: 'WormServiceControlPolicy',
      mechanism: 'write-once SCP ledger-worm (AWS Organizations)',
      selects: `every principal of ${MEMBER} but the management account`,
      schedule: 'always',
      locks: ['deny deleting, unlocking, sharing and re-tagging except break-glass'],
    }]);
  });

  test('names generated from a deep construct path stay within the 128-character quota, one per construct', () => {
    let deep: Construct = organization();
    for (let i = 0; i < 6; i++) {
      deep = new Construct(deep, `LedgerOrganizationWriteOnceGuardrails${i}`);
    }
    const policies = ['WormForTheProductionOrganizationalUnit', 'WormForTheStagingOrganizationalUnit'].map((id) =>
      new WormServiceControlPolicy(deep, id, { breakGlassPrincipalArns: [BREAK_GLASS], blockPublicSharing: true }));
    const names = policies.flatMap((p) => [p.policy.name!, p.declarativePolicy!.name!]);
    expect(names.filter((n) => n.length > 128)).toEqual([]);
    expect(new Set(names).size).toBe(4);
  });

  test('the plan names the policy and its targets', () => {
    const { stack } = scp({ policyName: 'ledger-worm', targetIds: ['ou-ab12-abcdefgh', MEMBER] });
    const plan = PlanReport.markdown(stack);
    expect(plan).toContain('write-once SCP ledger-worm (AWS Organizations)');
    expect(plan).toContain(`every principal of ou-ab12-abcdefgh, ${MEMBER} but the management account`);
    expect(PlanReport.markdown(scp({ policyName: 'ledger-worm' }).stack)).toContain('every principal of the targets it is attached to but the management account');
  });

  test.each([
    ['r-ab12'], ['r-' + 'a1'.repeat(16)], [MEMBER], ['ou-ab12-abcdefgh'], ['ou-' + 'a'.repeat(32) + '-' + '1'.repeat(32)],
  ])('accepts the target %s', (target) => {
    expect(scp({ targetIds: [target] }).scp.policy.targetIds).toEqual([target]);
  });

  test.each([
    ['r-ab1'], ['r-' + 'a'.repeat(33)], ['R-AB12'], ['xr-ab12'], ['r-ab12x!'], ['12345678901'], ['1234567890123'], ['x210987654321'],
    ['ou-ab1-abcdefgh'], ['ou-ab12-abcdefg'], ['ou-ab12-' + 'a'.repeat(33)], ['ou-AB12-abcdefgh'], ['ou-ab12-ABCDEFGH'], ['ou-ab12'],
  ])('rejects the target %s, saying what a target is', (target) => {
    expect(() => scp({ targetIds: [MEMBER, target] })).toThrow(
      `targetIds[1] must be an organization root (r-...), OU (ou-...-...) or 12-digit account id, got '${target}'`);
  });

  test.each([
    ['1,001 targets', { targetIds: Array.from({ length: 1001 }, (_, i) => String(100000000000 + i)) }, 'targetIds must have at most 1000 items'],
    ['an empty name', { policyName: '' }, 'policyName must be between 1 and 128 characters long'],
    ['a long name', { policyName: 'p'.repeat(129) }, 'policyName must be between 1 and 128 characters long'],
    ['a long description', { description: 'd'.repeat(513) }, 'description must be between 0 and 512 characters long'],
  ])('rejects %s', (_name, props, fragment) => {
    expect(() => scp(props)).toThrow(fragment);
  });

  test('1,000 targets are accepted', () => {
    expect(scp({ targetIds: Array.from({ length: 1000 }, (_, i) => String(100000000000 + i)) }).scp.policy.targetIds).toHaveLength(1000);
  });
});
