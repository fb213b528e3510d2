import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { acknowledge } from '../core/acknowledge';
import { BackupTagging } from '../core/tagging';

/** The run-time tag keys of the runbooks, in the app's tag namespace. */
export interface RunbookTagKeys {
  /** The change ticket the artefact was taken for. */
  readonly changeReference: string;
  /** The ARN of whoever started the automation. */
  readonly executedBy: string;
  /** The automation execution id, to find the run in the console. */
  readonly execution: string;
  /** The instance the artefact was taken of. */
  readonly sourceInstance: string;
}

/** The runbooks' own tag keys, in the same namespace as the library's three tags. */
export function runbookTagKeys(scope: IConstruct): RunbookTagKeys {
  return {
    changeReference: BackupTagging.key(scope, 'change-ref'),
    executedBy: BackupTagging.key(scope, 'executed-by'),
    execution: BackupTagging.key(scope, 'automation-execution'),
    sourceInstance: BackupTagging.key(scope, 'source-instance'),
  };
}

/**
 * A role for Automation to assume, trusted by Systems Manager only for automation executions of
 * this account (the confused-deputy conditions of the Automation setup guide).
 */
export function automationRole(scope: IConstruct, id: string, description: string): iam.Role {
  const stack = Stack.of(scope);
  return new iam.Role(scope, id, {
    description,
    assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'ssm', resource: 'automation-execution', resourceName: '*' }) },
      },
    }),
  });
}

/** A wildcard ARN and the id of the cdk-nag finding it raises. */
export interface WildcardArn {
  readonly arn: string;
  /** `AwsSolutions-IAM5[Resource::<the ARN as cdk-nag renders it>]`. */
  readonly nagId: string;
}

/**
 * A wildcard resource ARN built from pseudo parameters only (never the stack's concrete region
 * or account), so that the id of the granular cdk-nag IAM5 finding it raises is known here.
 */
export function wildcardArn(service: string, resource: string, withAccount = true): WildcardArn {
  const account = withAccount ? Aws.ACCOUNT_ID : '';
  const rendered = withAccount ? '<AWS::AccountId>' : '';
  return {
    arn: `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${account}:${resource}`,
    nagId: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${service}:<AWS::Region>:${rendered}:${resource}]`,
  };
}

/** The cdk-nag finding id for a plain `"Resource": "*"`. */
export const ANY_RESOURCE_NAG_ID = 'AwsSolutions-IAM5[Resource::*]';

/**
 * Acknowledge granular cdk-nag IAM5 findings (one per wildcard resource) with a reason.
 *
 * `Validations.acknowledge()` (behind core's `acknowledge()`) rejects ids with more than one
 * `::`, which every ARN built from pseudo parameters has, and cdk-nag reports IAM5 only with
 * the granular ids; so these are recorded with the same metadata entry it writes.
 */
export function acknowledgeWildcards(scope: IConstruct, reason: string, nagIds: string[]): void {
  acknowledge(scope, ...nagIds.map((id) => ({ id, reason })));
}
