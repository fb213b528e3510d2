import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { RetentionRoles } from '../core/retention-roles';

const SINGLETON_ID = 'DlmExecutionRole';

/**
 * The one execution role that every Data Lifecycle Manager policy of this library in a stack
 * shares (unless a policy is given its own).
 *
 * It starts with no permissions: each policy adds exactly what its features need (snapshots in
 * its region, copies in the copy regions, fast restore, sharing with the named accounts only,
 * archiving, AMIs, the scripts' documents on the targeted instances), mirroring AWS's
 * `AWSDataLifecycleManagerServiceRole` and `...ForAMIManagement` but scoped. The trust policy
 * admits DLM only on behalf of this account (`aws:SourceAccount`), against the confused deputy.
 */
export class DlmExecutionRole extends Construct {
  /**
   * The stack's shared execution role, created on first use.
   */
  public static of(scope: IConstruct): DlmExecutionRole {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SINGLETON_ID);
    return existing instanceof DlmExecutionRole ? existing : new DlmExecutionRole(stack, SINGLETON_ID);
  }

  /** The IAM role DLM assumes. */
  public readonly role: iam.Role;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      description: 'Execution role of the Data Lifecycle Manager policies of this stack (cdk-ebs-backup)',
      assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    RetentionRoles.register(this, this.role,
      'DLM execution role: deletes snapshots and deregisters AMIs whose retention has expired');
  }
}
