/**
 * Evaluate synthesized policy documents with a real IAM policy evaluator, after rendering the
 * CloudFormation intrinsics the way CloudFormation would for this account: the shared helpers of
 * test/support (intrinsics.ts, iam-evaluation.ts), under the names the WORM tests use.
 */
import { renderIntrinsics, TEST_ACCOUNT } from '../support/intrinsics';

export { evaluate } from '../support/iam-evaluation';
export type { Policies, Request } from '../support/iam-evaluation';

export const ACCOUNT = TEST_ACCOUNT;

/** Render `{ Fn::GetAtt: [X, Arn] }` to the role ARN `role/X` (or `arns[X]`), pseudo parameters to the test account, joins to strings. */
export function render(value: unknown, arns: Record<string, string> = {}): any {
  return renderIntrinsics(value, { arns });
}

export const ALLOW_EC2_AND_MORE = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['ec2:*', 'rbin:*', 'backup:*', 'kms:*'], Resource: '*' }],
};
