import { Aws, CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { fail } from './validation';

/**
 * A finding of a validation plugin (cdk-nag, cfn-guard) that a construct of this library
 * deliberately accepts, with the reason a reviewer would read.
 */
export interface Acknowledged {
  /** The rule id, e.g. `AwsSolutions-IAM5[Action::ec2:CreateSnapshot*]` or `cdk-validator-cfnguard::rule`. */
  readonly id: string;
  /** Why the finding is accepted here. */
  readonly reason: string;
}

/**
 * The construct metadata key under which this library records its cfn-guard acknowledgements,
 * scoped to the construct that carries them (see `acknowledge`).
 */
export const GUARD_ACKNOWLEDGED_METADATA_KEY = 'cdk-ebs-backup:acknowledged';

const GUARD_PREFIX = 'cdk-validator-cfnguard::';

/**
 * Acknowledge findings on `scope` and its children only, never app-wide.
 *
 * aws-cdk-lib 2.262 collects `Validations.acknowledge()` ids in one app-wide map: acknowledging
 * `AwsSolutions::AwsSolutions-IAM5` on a library construct would also hide that finding on the
 * user's own resources. So:
 * - cdk-nag ids are written as `Annotation::<rule id>` acknowledged-rules metadata (what
 *   `Validations.acknowledge('AwsSolutions-IAM5')` writes, also for granular ids such as
 *   `AwsSolutions-IAM5[Resource::*]` that `acknowledge()` refuses because of their `::`).
 *   cdk-nag 3 matches them on the resource and its ancestors; the app-wide map never matches a
 *   plugin finding with them.
 * - cfn-guard (Control Tower) rules have no per-resource suppression, so they are recorded under
 *   `GUARD_ACKNOWLEDGED_METADATA_KEY`, for a scoped filter (the test harness has one) and for
 *   auditors reading the construct tree.
 *
 * Every finding needs a reason: it is what a reviewer reads instead of the finding.
 */
export function acknowledge(scope: IConstruct, ...findings: Acknowledged[]): void {
  for (const f of findings) {
    if (f.reason.trim() === '') {
      fail(scope, `acknowledgement of ${f.id}`, 'needs a reason', f.reason,
        'say why the finding is accepted here, for the reviewer who reads it instead of the finding');
    }
  }
  const nagAcks: Record<string, string> = {};
  const guardAcks: Record<string, string> = {};
  for (const f of findings) {
    if (f.id.startsWith(GUARD_PREFIX)) {
      guardAcks[f.id.slice(GUARD_PREFIX.length)] = f.reason;
    } else {
      for (const id of environmentForms(scope, f.id.replace(/^AwsSolutions::/, ''))) {
        nagAcks[`Annotation::${id}`] = f.reason;
      }
    }
  }
  if (Object.keys(nagAcks).length > 0) {
    scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, nagAcks);
  }
  if (Object.keys(guardAcks).length > 0) {
    scope.node.addMetadata(GUARD_ACKNOWLEDGED_METADATA_KEY, guardAcks);
  }
}

const PSEUDO = { partition: '<AWS::Partition>', region: '<AWS::Region>', account: '<AWS::AccountId>' };

/**
 * A granular finding id in both forms cdk-nag prints it: with `<AWS::Region>`/`<AWS::AccountId>`
 * (an environment-agnostic stack, or an ARN built from `Aws.REGION`) and with the stack's concrete
 * account, region and partition (an environment-specific stack, where `Stack.formatArn` and
 * everything aws-cdk-lib builds from `stack.region` render literally). Acknowledging only the
 * first form leaves the same wildcard unacknowledged as soon as the user gives the stack an `env`.
 */
export function environmentForms(scope: IConstruct, id: string): string[] {
  if (!Object.values(PSEUDO).some((p) => id.includes(p))) {
    return [id];
  }
  const stack = Stack.of(scope);
  const concrete = (value: string, placeholder: string) => Token.isUnresolved(value) ? placeholder : value;
  const specific = id
    .split(PSEUDO.partition).join(concrete(stack.partition, PSEUDO.partition))
    .split(PSEUDO.region).join(concrete(stack.region, PSEUDO.region))
    .split(PSEUDO.account).join(concrete(stack.account, PSEUDO.account));
  return specific === id ? [id] : [id, specific];
}

/**
 * A cdk-nag AwsSolutions finding: `nag('IAM5', reason)` for the whole rule, or
 * `nag('IAM5', reason, 'Resource::*')` for one granular finding (`AwsSolutions-IAM5[Resource::*]`).
 */
export function nag(rule: string, reason: string, appliesTo?: string): Acknowledged {
  return { id: `AwsSolutions-${rule}${appliesTo ? `[${appliesTo}]` : ''}`, reason };
}

/** A cfn-guard rule (e.g. `sns_topic_encrypted_check`). */
export function guard(rule: string, reason: string): Acknowledged {
  return { id: `${GUARD_PREFIX}${rule}`, reason };
}

/**
 * A resolved CloudFormation value as cdk-nag prints it in granular finding ids: `{ Ref: X }`
 * becomes `<X>`, `{ Fn::GetAtt: [X, Arn] }` becomes `<X.Arn>`, `Fn::Join` is joined.
 */
export function nagRendering(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  const v = value as Record<string, any>;
  if (v?.Ref !== undefined) {
    return `<${v.Ref}>`;
  }
  if (v?.['Fn::GetAtt'] !== undefined) {
    return `<${[v['Fn::GetAtt']].flat().join('.')}>`;
  }
  if (v?.['Fn::Join'] !== undefined) {
    const [sep, parts] = v['Fn::Join'];
    return (parts as unknown[]).map(nagRendering).join(sep);
  }
  return JSON.stringify(value);
}

/** The cdk-nag finding id for a plain `"Resource": "*"`. */
export const ANY_RESOURCE_FINDING = 'AwsSolutions-IAM5[Resource::*]';

/** A wildcard ARN and the id of the granular cdk-nag IAM5 finding it raises. */
export interface WildcardArn {
  readonly arn: string;
  /** `AwsSolutions-IAM5[Resource::<the ARN as cdk-nag renders it>]`, agnostic form. */
  readonly nagId: string;
}

/**
 * A wildcard resource ARN of this account and region, built from pseudo parameters, and the id of
 * the IAM5 finding it raises (`acknowledge` adds the concrete form for environment-specific stacks).
 */
export function wildcardArn(service: string, resource: string, withAccount = true): WildcardArn {
  return {
    arn: `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${withAccount ? Aws.ACCOUNT_ID : ''}:${resource}`,
    nagId: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${service}:<AWS::Region>:${withAccount ? '<AWS::AccountId>' : ''}:${resource}]`,
  };
}

/** The id of the IAM5 finding for `<resource>.Arn:*` (e.g. invoking any version of a function). */
export function attributeWildcardFinding(resource: CfnElement): string {
  return `AwsSolutions-IAM5[Resource::<${Stack.of(resource).resolve(resource.logicalId)}.Arn>:*]`;
}

/** Acknowledge cdk-nag findings by their full ids (e.g. `AwsSolutions-IAM5[Resource::*]`), all for one reason. */
export function acknowledgeFindings(scope: IConstruct, reason: string, ...ids: string[]): void {
  acknowledge(scope, ...ids.map((id) => ({ id, reason })));
}

/**
 * The granular IAM5 ids of every wildcard resource and action in the Allow statements of
 * `statements` (or of a policy document), as cdk-nag prints them.
 */
export function wildcardFindings(scope: IConstruct, statements: iam.PolicyStatement[] | iam.PolicyDocument): string[] {
  const stack = Stack.of(scope);
  const json: any[] = Array.isArray(statements)
    ? statements.map((st) => stack.resolve(st.toStatementJson()))
    : (stack.resolve(statements.toJSON()) as { Statement?: any[] } | undefined)?.Statement ?? [];
  const ids = new Set<string>();
  for (const st of json) {
    // aws-cdk-lib renders every statement's Effect (a statement read from JSON without one is an Allow)
    if (st.Effect !== 'Allow') {
      continue;
    }
    for (const r of [st.Resource ?? []].flat().map(nagRendering)) {
      if (r.includes('*')) {
        ids.add(`AwsSolutions-IAM5[Resource::${r}]`);
      }
    }
    for (const a of [st.Action ?? []].flat()) {
      if (typeof a === 'string' && a.includes('*')) {
        ids.add(`AwsSolutions-IAM5[Action::${a}]`);
      }
    }
  }
  return [...ids];
}

/** Acknowledge, for one reason, the IAM5 findings the wildcards of `statements` raise under `scope`. */
export function acknowledgeWildcards(scope: IConstruct, reason: string, statements: iam.PolicyStatement[] | iam.PolicyDocument): void {
  acknowledgeFindings(scope, reason, ...wildcardFindings(scope, statements));
}

/** Add `statement` to `role` and acknowledge, for `reason`, the IAM5 findings its wildcards raise. */
export function addAcknowledgedStatement(role: iam.IRole, statement: iam.PolicyStatement, reason: string): void {
  role.addToPrincipalPolicy(statement);
  acknowledgeWildcards(role, reason, [statement]);
}
