/**
 * Evaluate synthesized policy documents with a real IAM policy evaluator
 * (`@cloud-copilot/iam-simulate`), after rendering the CloudFormation intrinsics the way
 * CloudFormation would for this account.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';

export const ACCOUNT = '123456789012';

/** Render `{ Fn::GetAtt: [X, Arn] }` to the role ARN `role/X`, `{ Ref: AWS::Partition }` to `aws`, joins to strings. */
export function render(value: unknown, arns: Record<string, string> = {}): any {
  if (Array.isArray(value)) {
    return value.map((v) => render(v, arns));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const v = value as Record<string, any>;
  if (v.Ref === 'AWS::Partition') {
    return 'aws';
  }
  if (v.Ref === 'AWS::Region') {
    return 'us-east-1';
  }
  if (v.Ref === 'AWS::AccountId') {
    return ACCOUNT;
  }
  if (v['Fn::GetAtt']) {
    const [logicalId] = v['Fn::GetAtt'];
    return arns[logicalId] ?? `arn:aws:iam::${ACCOUNT}:role/${logicalId}`;
  }
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'];
    return render(parts, arns).join(sep);
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, render(x, arns)]));
}

const FULL_ACCESS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
export const ALLOW_EC2_AND_MORE = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['ec2:*', 'rbin:*', 'backup:*', 'kms:*'], Resource: '*' }],
};

export interface Request {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly tags?: Record<string, string>;
  /** Extra request context, e.g. `aws:TagKeys`. */
  readonly context?: Record<string, string | string[]>;
}

/** KMS requires the key policy to allow: the default key policy delegates to IAM in the account. */
function defaultKeyPolicy(account: string): any {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  };
}

export interface Policies {
  /** Identity policies of the principal (besides its grants). */
  readonly identity?: any[];
  /** SCPs below FullAWSAccess. */
  readonly scps?: any[];
  /** A permissions boundary. */
  readonly boundary?: any;
  /** The resource's own policy (a vault access policy, a key policy); KMS keys default to the default key policy. */
  readonly resourcePolicy?: any;
}

/** `Allowed`, `ExplicitlyDenied` or `ImplicitlyDenied`. */
export async function evaluate(request: Request, policies: Policies): Promise<string> {
  const contextVariables: Record<string, string | string[]> = { 'aws:PrincipalArn': request.principal, ...request.context };
  for (const [k, v] of Object.entries(request.tags ?? {})) {
    contextVariables[`aws:ResourceTag/${k}`] = v;
  }
  // the request is made in the principal's own account
  const account = /^arn:aws:iam::(\d{12}):/.exec(request.principal)?.[1] ?? ACCOUNT;
  const result = await runSimulation({
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: account },
      contextVariables,
    },
    identityPolicies: (policies.identity ?? []).map((policy, i) => ({ name: `identity${i}`, policy })),
    serviceControlPolicies: [
      { orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: FULL_ACCESS }] },
      { orgIdentifier: account, policies: [{ name: 'FullAWSAccess', policy: FULL_ACCESS }, ...(policies.scps ?? []).map((policy, i) => ({ name: `scp${i}`, policy }))] },
    ],
    resourceControlPolicies: [],
    permissionBoundaryPolicies: policies.boundary ? [{ name: 'boundary', policy: policies.boundary }] : undefined,
    resourcePolicy: policies.resourcePolicy ?? (request.action.startsWith('kms:') ? defaultKeyPolicy(account) : undefined),
  }, {});
  if (result.resultType === 'error') {
    throw new Error(`simulation error: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult;
}
