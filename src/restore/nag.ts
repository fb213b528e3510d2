import { CfnElement, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { acknowledge } from '../core/acknowledge';

/**
 * Acknowledge cdk-nag findings on `scope` and its children only, as cdk-nag reads them
 * (`AwsSolutions-IAM5[Resource::...]`). `Validations.acknowledge()` rejects these granular ids
 * (more than one `::`), and its prefixed form suppresses a rule for the whole app, so the entry
 * is written as the metadata it would write.
 */
export function acknowledgeNag(scope: IConstruct, reason: string, ...ids: string[]): void {
  acknowledge(scope, ...ids.map((id) => ({ id: `AwsSolutions-${id}`, reason })));
}

/** The id of the granular IAM5 finding for a wildcard ARN of `service` in `scope`'s stack. */
export function wildcardFinding(scope: IConstruct, service: string, resource: string, withAccount = true): string {
  const stack = Stack.of(scope);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = withAccount ? (Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account) : '';
  return `IAM5[Resource::arn:<AWS::Partition>:${service}:${region}:${account}:${resource}]`;
}

/** The id of the granular IAM5 finding for `<resource>.Arn:*` (e.g. invoking any version of a function). */
export function attributeWildcardFinding(resource: CfnElement): string {
  return `IAM5[Resource::<${Stack.of(resource).resolve(resource.logicalId)}.Arn>:*]`;
}
