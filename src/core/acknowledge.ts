import { Stack, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

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
 */
export function acknowledge(scope: IConstruct, ...findings: Acknowledged[]): void {
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
