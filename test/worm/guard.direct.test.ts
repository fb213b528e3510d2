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
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { PlanReport } from '../../src/core/plan-report';
import { ProtectedResources } from '../../src/worm/deny-policy';
import { WormSnapshotGuard, WormSnapshotGuardProps } from '../../src/worm/guard';
import { estimatePolicyLength, SCP_MAX_CHARACTERS } from '../../src/worm/scp-size';
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
  return new WormSnapshotGuard(stack, 'Guard', { blockPublicSharing: false, ...props });
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
