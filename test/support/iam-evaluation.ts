/**
 * The one IAM evaluation helper of the tests: a request evaluated with a real policy evaluator
 * (`@cloud-copilot/iam-simulate`) against identity policies, SCPs, a permissions boundary and a
 * resource policy, in the request context AWS sends (`aws:PrincipalArn`, resource and request
 * tags). Call replay, role parity, the WORM evaluation matrices and the attack paths use it.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { TEST_ACCOUNT } from './intrinsics';

export interface Request {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** Tags of the resource (`aws:ResourceTag/*`, and `ssm:resourceTag/*` for SSM actions). */
  readonly tags?: Record<string, string>;
  /** Tags in the request (`aws:RequestTag/*`, `aws:TagKeys`). */
  readonly requestTags?: Record<string, string>;
  /** The region the request is made in (`aws:RequestedRegion`). @default not set */
  readonly region?: string;
  /** More request context, e.g. `ec2:CreateAction`; it wins over the keys above. */
  readonly context?: Record<string, string | string[]>;
}

export interface Policies {
  /** Identity policies of the principal. */
  readonly identity?: any[];
  /** SCPs below FullAWSAccess. */
  readonly scps?: any[];
  /** A permissions boundary. */
  readonly boundary?: any;
  /** The resource's own policy (a vault access policy, a key policy); KMS keys default to the default key policy. */
  readonly resourcePolicy?: any;
}

export const FULL_ACCESS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/** KMS requires the key policy to allow: the default key policy delegates to IAM in the account. */
export function defaultKeyPolicy(account: string): any {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  };
}

/**
 * AWS-owned SSM documents and automation definitions have ARNs without an account
 * (`arn:aws:ssm:us-east-1::document/AWS-RunShellScript`), which the evaluator's resource-type
 * patterns do not accept. The same sentinel account on both sides, request and policies, keeps the
 * match exactly as strict: `::` matches only `::`, and `*` matches both.
 */
const AWS_OWNED = '000000000000';
export function awsOwnedSsmArns<T>(value: T): T {
  return value === undefined ? value
    : JSON.parse(JSON.stringify(value).replace(/(arn:aws[a-z-]*:ssm:[^:"]*)::(document|automation-definition)\//g, `$1:${AWS_OWNED}:$2/`));
}

/** `Allowed`, `ExplicitlyDenied` or `ImplicitlyDenied`. */
export async function evaluate(request: Request, policies: Policies): Promise<string> {
  const contextVariables: Record<string, string | string[]> = { 'aws:PrincipalArn': request.principal };
  if (request.region) {
    contextVariables['aws:RequestedRegion'] = request.region;
  }
  for (const [k, v] of Object.entries(request.tags ?? {})) {
    contextVariables[`aws:ResourceTag/${k}`] = v;
    if (request.action.startsWith('ssm:')) {
      contextVariables[`ssm:resourceTag/${k}`] = v;
    }
  }
  if (request.requestTags) {
    for (const [k, v] of Object.entries(request.requestTags)) {
      contextVariables[`aws:RequestTag/${k}`] = v;
    }
    contextVariables['aws:TagKeys'] = Object.keys(request.requestTags);
  }
  Object.assign(contextVariables, request.context);
  // the request is made in the principal's own account
  const account = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(request.principal)?.[1] ?? TEST_ACCOUNT;
  const result = await runSimulation({
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: awsOwnedSsmArns(request.resource), accountId: account },
      contextVariables,
    },
    identityPolicies: awsOwnedSsmArns(policies.identity ?? []).map((policy, i) => ({ name: `identity${i}`, policy })),
    serviceControlPolicies: [
      { orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: FULL_ACCESS }] },
      { orgIdentifier: account, policies: [{ name: 'FullAWSAccess', policy: FULL_ACCESS }, ...awsOwnedSsmArns(policies.scps ?? []).map((policy, i) => ({ name: `scp${i}`, policy }))] },
    ],
    resourceControlPolicies: [],
    permissionBoundaryPolicies: policies.boundary ? [{ name: 'boundary', policy: awsOwnedSsmArns(policies.boundary) }] : undefined,
    resourcePolicy: awsOwnedSsmArns(policies.resourcePolicy) ?? (request.action.startsWith('kms:') ? defaultKeyPolicy(account) : undefined),
  }, {});
  if (result.resultType === 'error') {
    throw new Error(`simulation error for ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult;
}
