import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { sourceInstanceTagKey } from '../core/source-instance';
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
    sourceInstance: sourceInstanceTagKey(scope),
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
