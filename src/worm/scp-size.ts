import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { WormPolicyDocument } from './deny-statements';

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
      'use toServiceControlPolicies() or WormServiceControlPolicy, which split the statements over several policies, or exempt principals by pattern (arn:aws:iam::*:role/...) instead of one ARN each']
    : [];
}


/** The characters each split document keeps free for lists that grow after the split. */
export const SPLIT_HEADROOM = 400;

/** The characters of a policy without statements. */
export const EMPTY_POLICY_LENGTH = estimatePolicyLength({ Version: '2012-10-17', Statement: [] });

/** The characters one statement adds to a policy (with its separating comma). */
export function statementLength(scope: IConstruct, statement: iam.PolicyStatement): number {
  // resolved inside a document, as the template renders it (the statement's own JSON copies tokens into plain objects)
  const resolved = Stack.of(scope).resolve(new WormPolicyDocument({ statements: [statement] }).toJSON());
  return estimatePolicyLength(resolved) - EMPTY_POLICY_LENGTH + 1;
}


/**
 * Split statements over as few documents as fit the SCP quota each, in order (first fit: later
 * statements never move ahead of earlier ones, so the split is stable as statements are added).
 * `reserveOnLast` characters stay free in the last document, for statements added to it later
 * (the guard's key and boundary statements): when they would not, its last statement moves to a
 * further document, the new last one. Every document keeps `SPLIT_HEADROOM` free for the lists
 * resolved at synthesis that grow after the split (keys given to `protectKey()`, roles registered
 * later).
 */
export function splitStatements(scope: IConstruct, statements: iam.PolicyStatement[], reserveOnLast = 0): iam.PolicyDocument[] {
  const capacity = SCP_MAX_CHARACTERS - SPLIT_HEADROOM;
  const groups: { statements: iam.PolicyStatement[]; size: number }[] = [];
  for (const statement of statements) {
    const length = statementLength(scope, statement);
    if (groups.length === 0 || groups[groups.length - 1].size + length > capacity) {
      groups.push({ statements: [], size: EMPTY_POLICY_LENGTH });
    }
    const group = groups[groups.length - 1];
    group.statements.push(statement);
    group.size += length;
  }
  if (groups.length === 0) {
    return [new WormPolicyDocument()];
  }
  // the last document is where the later statements go: when it lacks the room, its last statement opens a further
  // document, which becomes the last one (moving more statements would only fill that one)
  const documents = groups.map((g) => g.statements);
  const last = groups[groups.length - 1];
  if (last.statements.length > 1 && last.size + reserveOnLast > capacity) {
    documents.push([last.statements.pop()!]);
  }
  return documents.map((d) => new WormPolicyDocument({ statements: d }));
}
