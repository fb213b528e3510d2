import { CfnResource, Stack } from 'aws-cdk-lib';

/**
 * The template entries a resource renders, by logical id, as CloudFormation receives them: in
 * CloudFormation casing, with every property override applied (`addPropertyOverride`, CDK's
 * documented escape hatch, which the L1's own props never show) and tokens resolved to intrinsics
 * (`Ref`, `Fn::ImportValue`, ...).
 */
export function renderedResources(resource: CfnResource): Record<string, any> {
  return Stack.of(resource).resolve((resource as unknown as { _toCloudFormation(): any })._toCloudFormation()).Resources ?? {};
}

/**
 * A resource's properties as CloudFormation receives them (`renderedResources`), so that a number
 * or string here is a literal.
 */
export function renderedProperties(resource: CfnResource): Record<string, any> {
  return Object.values<any>(renderedResources(resource))[0]?.Properties ?? {};
}
