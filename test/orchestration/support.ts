/**
 * Helpers for the orchestration tests: the contract's stack, and the state machine definition
 * resolved from the template (its `Fn::Join` with placeholder ARNs), ready to validate and run.
 */
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * A Lambda function as users bring one for a step: their own, deployed elsewhere (the contract
 * declares it as an `IFunction`), so the only findings in the template are the job's.
 */
export function userFunction(stack: Stack, id: string): lambda.IFunction {
  return lambda.Function.fromFunctionArn(stack, id, `arn:aws:lambda:us-east-1:123456789012:function:${id}`);
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** A realistic ARN for a reference to a resource of the template, by its type. */
function placeholderArn(template: any, logicalId: string): string {
  const type = template?.Resources?.[logicalId]?.Type;
  switch (type) {
    case 'AWS::Lambda::Function': return `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`;
    case 'AWS::SNS::Topic': return `arn:aws:sns:us-east-1:123456789012:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:us-east-1:123456789012:stateMachine:${logicalId}`;
    default: return `arn:aws:placeholder:us-east-1:123456789012:${logicalId}`;
  }
}

/** Resolve the intrinsics of a DefinitionString, with a placeholder ARN for every resource reference. */
export function resolveIntrinsics(value: any, template?: any): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value['Fn::Join']) {
    const [sep, parts] = value['Fn::Join'];
    return parts.map((p: any) => resolveIntrinsics(p, template)).join(sep);
  }
  if (value.Ref) {
    return PSEUDO[value.Ref] ?? placeholderArn(template, value.Ref);
  }
  if (value['Fn::GetAtt']) {
    const [id, attr] = value['Fn::GetAtt'];
    if (attr !== 'Arn') {
      throw new Error(`cannot resolve ${JSON.stringify(value)}`);
    }
    return placeholderArn(template, id);
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
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
