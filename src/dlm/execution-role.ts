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
 * `AWSDataLifecycleManagerServiceRole` and `...ForAMIManagement` but scoped (the role parity
 * test evaluates every action of those policies against it).
 *
 * The trust policy names `dlm.amazonaws.com` without `aws:SourceAccount`/`aws:SourceArn`: DLM's
 * documentation ("IAM service roles for Amazon Data Lifecycle Manager", custom service roles)
 * shows the trust policy with the service principal only, and DLM does not document sending those
 * keys when it assumes the role (it is not among the services of IAM's confused-deputy page).
 * A condition the service does not send would put every policy in `ERROR`. Only this account can
 * pass the role to a policy (`iam:PassRole`), which is the protection DLM documents.
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
    this.role = new iam.Role(this, 'Role', {
      description: 'Execution role of the Data Lifecycle Manager policies of this stack (cdk-ebs-backup)',
      assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com'),
    });
    RetentionRoles.register(this, this.role,
      'DLM execution role: deletes snapshots and deregisters AMIs whose retention has expired');
  }
}
