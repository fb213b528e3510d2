/**
 * Helpers for the orchestration tests: the contract's stack, and the state machine definition
 * resolved from the template (its `Fn::Join` with placeholder ARNs), ready to validate and run.
 */
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { renderIntrinsics } from '../support/intrinsics';

/**
 * A Lambda function as users bring one for a step: their own, deployed elsewhere (the contract
 * declares it as an `IFunction`), so the only findings in the template are the job's.
 */
export function userFunction(stack: Stack, id: string): lambda.IFunction {
  return lambda.Function.fromFunctionArn(stack, id, `arn:aws:lambda:us-east-1:123456789012:function:${id}`);
}

/** Resolve the intrinsics of a DefinitionString, with the test account's ARN for every resource reference (test/support/intrinsics). */
export function resolveIntrinsics(value: any, template?: any): string {
  return renderIntrinsics(value, { template: template ?? {} });
}

/** The definition of the (single, or named by logical-id prefix) state machine in a template. */
export function stateMachineDefinition(template: any, logicalIdPrefix = ''): any {
  const machines = Object.entries<any>(template.Resources)
    .filter(([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(logicalIdPrefix));
  if (machines.length !== 1) {
    throw new Error(`expected one state machine with prefix '${logicalIdPrefix}', found ${machines.length}`);
  }
  return JSON.parse(resolveIntrinsics(machines[0][1].Properties.DefinitionString, template));
}
