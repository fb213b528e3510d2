import { CfnResource, Stack } from 'aws-cdk-lib';

/**
 * A resource's properties as CloudFormation receives them: in CloudFormation casing, with every
 * property override applied (`addPropertyOverride`, CDK's documented escape hatch, which the L1's
 * own props never show) and tokens resolved to intrinsics (`Ref`, `Fn::ImportValue`, ...), so
 * that a number or string here is a literal.
 */
export function renderedProperties(resource: CfnResource): Record<string, any> {
  const rendered = Stack.of(resource).resolve((resource as unknown as { _toCloudFormation(): any })._toCloudFormation());
  return Object.values<any>(rendered.Resources ?? {})[0]?.Properties ?? {};
}
