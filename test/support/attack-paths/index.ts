/**
 * The attack-path suite: write-once protection proven against sequences of calls, not single
 * calls. A path is data (a named sequence of requests); the suite evaluates every step with a
 * real IAM policy evaluator (`@cloud-copilot/iam-simulate`, via `evaluate`) under each delivery
 * form of the guard (managed policy, permissions boundary, SCP), for principals that hold a
 * broad allow. An attack path holds when at least one of its steps is `ExplicitlyDenied`; a
 * legitimate path holds when every step is `Allowed`.
 *
 * Add a path: append it to `attackPaths()` or `legitimatePaths()` in `paths.ts` (or pass your
 * own list to `evaluatePaths`), naming the statement you expect to break it.
 */
import { evaluate, Policies, Request } from '../../worm/iam-simulation';

export { synthesizeWorld } from './world';
export type { World, WorldOptions } from './world';
export { attackPaths, legitimatePaths, machineryPaths } from './paths';
export { sampleRequest } from './action-matrix';

/** One call of a path. */
export interface Step extends Request {
  /** What the step achieves for the attacker (or the legitimate user), for the report. */
  readonly note?: string;
  /**
   * The principal's own identity policies (a job role's), evaluated in every delivery form
   * alongside the broad allow: what the role denies itself holds whatever else it is granted.
   */
  readonly ownPolicies?: readonly any[];
  /** The resource's own policy (a role's trust policy for `sts:AssumeRole`), over the world's. */
  readonly resourcePolicy?: any;
}

/** A named sequence of calls. */
export interface Path {
  /** A sentence: what the principal tries. */
  readonly name: string;
  /** Where the path comes from (an issue item, a doc page). */
  readonly source: string;
  readonly steps: readonly Step[];
  /**
   * The statements (Sids) expected to break an attack path: the README's threat model names
   * them. Empty for legitimate paths.
   */
  readonly brokenBy: readonly string[];
}

/** The broad allow of the adversary: a compromised admin role, a pipeline, an insider. */
export const BROAD_ALLOW = {
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow',
    Action: ['ec2:*', 'ebs:*', 'iam:*', 'dlm:*', 'rbin:*', 'backup:*', 'kms:*', 'ssm:*', 'events:*', 'states:*', 'lambda:*', 'cloudwatch:*', 'sns:*'],
    Resource: '*',
  }],
};

/** How the guard is delivered: the policies every principal of the path is evaluated under. */
export type DeliveryForm = 'managed policy' | 'permissions boundary' | 'SCP';
export const DELIVERY_FORMS: readonly DeliveryForm[] = ['managed policy', 'permissions boundary', 'SCP'];

/** The guard's documents, rendered for the world's account. */
export interface GuardDocuments {
  readonly managedPolicy: any;
  readonly boundary: any;
  readonly scps: readonly any[];
}

/** The policies of one delivery form, with the broad allow as the identity policy. */
export function policiesFor(form: DeliveryForm, guard: GuardDocuments, resourcePolicy?: any): Policies {
  switch (form) {
    case 'managed policy':
      return { identity: [BROAD_ALLOW, guard.managedPolicy], resourcePolicy };
    case 'permissions boundary':
      return { identity: [BROAD_ALLOW], boundary: guard.boundary, resourcePolicy };
    case 'SCP':
      return { identity: [BROAD_ALLOW], scps: [...guard.scps], resourcePolicy };
  }
}

/** The outcome of each step. */
export interface PathResult {
  readonly path: Path;
  readonly results: readonly string[];
}

/**
 * Evaluate every step of `path`. `resourcePolicyOf` gives the resource's own policy (a vault
 * access policy) where the world has one.
 */
export async function evaluatePath(path: Path, form: DeliveryForm, guard: GuardDocuments,
  resourcePolicyOf: (resource: string) => any = () => undefined): Promise<PathResult> {
  const results: string[] = [];
  for (const step of path.steps) {
    const policies = policiesFor(form, guard, step.resourcePolicy ?? resourcePolicyOf(step.resource));
    results.push(await evaluate(step, { ...policies, identity: [...policies.identity ?? [], ...step.ownPolicies ?? []] }));
  }
  return { path, results };
}

/** A one-line account of a result, for assertion messages. */
export function describeResult(r: PathResult): string {
  return `${r.path.name}\n${r.path.steps.map((s, i) => `  ${r.results[i]}: ${s.principal} ${s.action} ${s.resource}`).join('\n')}`;
}

export { synthesizeStackSetWorld, stackSetAttackPaths, stackSetLegitimatePaths } from './stackset-world';
export type { StackSetWorld } from './stackset-world';
