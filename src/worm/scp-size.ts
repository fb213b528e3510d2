import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** AWS Organizations quota: a service control policy holds at most 5,120 characters. */
export const SCP_MAX_CHARACTERS = 5120;

/** The characters CloudFormation will upload, with every intrinsic counted as `tokenEstimate`. */
export function estimatePolicyLength(resolved: unknown, tokenEstimate = 100): number {
  const isIntrinsic = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
    && Object.keys(v as object).length === 1 && /^(Ref|Fn::)/.test(Object.keys(v as object)[0]);
  let intrinsics = 0;
  const text = JSON.stringify(resolved, (_k, v) => {
    if (isIntrinsic(v)) {
      intrinsics++;
      return '';
    }
    return v;
  });
  return text.length + intrinsics * tokenEstimate;
}

/** Check an SCP document's size for the stack that renders it; returns the errors. */
export function checkScpSize(scope: IConstruct, document: iam.PolicyDocument): string[] {
  const resolved = Stack.of(scope).resolve(document.toJSON());
  const length = estimatePolicyLength(resolved);
  return length > SCP_MAX_CHARACTERS
    ? [`${scope.node.path}: service control policy must be at most ${SCP_MAX_CHARACTERS} characters (AWS Organizations quota), got about ${length}; ` +
      'exempt principals by pattern (arn:aws:iam::*:role/...) instead of one ARN each, or split the protection']
    : [];
}

