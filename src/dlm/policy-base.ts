import { Arn, ArnFormat, IResource, Resource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { fail } from '../core/validation';

/**
 * A Data Lifecycle Manager lifecycle policy.
 */
export interface IDlmPolicy extends IResource {
  /**
   * The policy's id, such as `policy-0123456789abcdef0`.
   *
   * @attribute
   */
  readonly policyId: string;

  /**
   * The policy's ARN.
   *
   * @attribute
   */
  readonly policyArn: string;
}

/**
 * Options every DLM policy of this library takes.
 */
export interface DlmPolicyOptions {
  /**
   * The policy description shown in the console (at most 500 of `0-9 A-Z a-z _ -` and space).
   *
   * @default - derived from the purpose and the construct path
   */
  readonly description?: string;

  /**
   * Whether the policy runs. A disabled policy neither creates nor deletes anything.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * The role DLM assumes. The construct adds the permissions the policy needs to it (unless it
   * was imported as immutable) and registers it as a role that expires backups.
   *
   * @default - the stack's shared `DlmExecutionRole`
   */
  readonly executionRole?: iam.IRole;
}

/**
 * What every lifecycle policy construct of this library has.
 */
export abstract class DlmPolicyBase extends Resource implements IDlmPolicy {
  /**
   * Import an existing policy by its id.
   */
  public static fromPolicyId(scope: Construct, id: string, policyId: string): IDlmPolicy {
    if (!Token.isUnresolved(policyId) && !/^policy-[A-Za-z0-9]+$/.test(policyId)) {
      fail(scope, `${id} policyId`, 'must be a DLM policy id such as policy-0123456789abcdef0', policyId);
    }
    class Import extends Resource implements IDlmPolicy {
      public readonly policyId = policyId;
      public readonly policyArn = Stack.of(scope).formatArn({ service: 'dlm', resource: 'policy', resourceName: policyId });
    }
    return new Import(scope, id);
  }

  /**
   * Import an existing policy by its ARN (`arn:aws:dlm:<region>:<account>:policy/<id>`).
   */
  public static fromPolicyArn(scope: Construct, id: string, policyArn: string): IDlmPolicy {
    let policyId: string;
    if (Token.isUnresolved(policyArn)) {
      policyId = Arn.split(policyArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName!;
    } else {
      const match = /^arn:[\w-]+:dlm:[a-z0-9-]+:\d{12}:policy\/(policy-[A-Za-z0-9]+)$/.exec(policyArn);
      if (!match) {
        fail(scope, `${id} policyArn`, 'must be a DLM policy ARN such as arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0', policyArn);
      }
      policyId = match[1];
    }
    class Import extends Resource implements IDlmPolicy {
      public readonly policyId = policyId;
      public readonly policyArn = policyArn;
    }
    return new Import(scope, id);
  }

  public abstract readonly policyId: string;
  public abstract readonly policyArn: string;

  /** The role DLM assumes to run this policy. */
  public abstract readonly executionRole: iam.IRole;
}
