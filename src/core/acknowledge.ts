import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A finding of a validation plugin (cdk-nag, cfn-guard) that a construct of this library
 * deliberately accepts, with the reason a reviewer would read.
 */
export interface Acknowledged {
  /** The rule id, e.g. `AwsSolutions::AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is accepted here. */
  readonly reason: string;
}

/**
 * Acknowledge findings on `scope` with aws-cdk-lib's own `Validations` API, so that users who run
 * cdk-nag or cfn-guard on their app see only findings about their own choices, and the reasons
 * for ours are recorded in the construct metadata.
 */
export function acknowledge(scope: IConstruct, ...findings: Acknowledged[]): void {
  Validations.of(scope).acknowledge(...findings.map((f) => ({ id: f.id, reason: f.reason })));
}

/** The cdk-nag AwsSolutions rule id for `rule` (e.g. `IAM5`). */
export function nag(rule: string, reason: string): Acknowledged {
  return { id: `AwsSolutions::AwsSolutions-${rule}`, reason };
}

/** The cfn-guard rule id for `rule` (e.g. `iam_policy_no_statements_with_admin_access`). */
export function guard(rule: string, reason: string): Acknowledged {
  return { id: `cdk-validator-cfnguard::${rule}`, reason };
}
