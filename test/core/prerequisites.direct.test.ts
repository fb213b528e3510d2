/**
 * The prerequisites warning built directly (module `core-prerequisites`), without synthesis:
 * constructs register what they need, the stack's validation (run as synthesis runs it) adds the
 * one warning. `test/core/prerequisites.test.ts` checks the constructs that register and the README.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DeploymentPrerequisites } from '../../src/core/deployment-prerequisites';
import { prerequisitesMessage, requirePrerequisite } from '../../src/core/prerequisites';
import { warningsOn } from '../support/warnings';


const ACK = '[ack: cdk-ebs-backup:core:prerequisites]';
const INTRO = (stack: string) => `${stack} needs what CloudFormation cannot create (README "Before you deploy"); set it up, then acknowledge `
  + 'Annotation::cdk-ebs-backup:core:prerequisites: ';

describe('requirePrerequisite', () => {
  test('one warning on the stack, in the README\'s order whatever the order of registration, each with every construct that needs it once', () => {
    const app = new App();
    const stack = new Stack(app, 'Workload');
    const copy = new Construct(new Construct(stack, 'Dr'), 'Copy');
    const vault = new Construct(stack, 'Vault');
    requirePrerequisite(copy, 'dlm-customer-key');
    requirePrerequisite(vault, 'backup-cross-account');
    requirePrerequisite(copy, 'dlm-customer-key');
    requirePrerequisite(new Construct(stack, 'Shared'), 'dlm-customer-key');
    expect(warningsOn(stack)).toEqual([]); // nothing until the stack is validated
    expect(stack.node.validate()).toEqual([]);
    expect(warningsOn(stack)).toEqual([INTRO('Workload')
      + "(1) the organization's cross-account backup setting in AWS Backup, needed by Workload/Vault: "
      + 'aws backup update-global-settings --global-settings isCrossAccountBackupEnabled=true (management account); '
      + '(2) a customer managed KMS key on the source volumes, shared with the target account: DLM cannot share snapshots encrypted '
      + 'with the default aws/ebs key, needed by Workload/Dr/Copy, Workload/Shared: encrypt the volumes with a customer key and allow '
      + `the target account kms:Decrypt, kms:CreateGrant, kms:DescribeKey in its key policy ${ACK}`]);
    // synthesized again (a second synth of the same app): still one warning
    stack.node.validate();
    expect(warningsOn(stack)).toHaveLength(1);
  });

  test('each stack lists only its own constructs\' needs; a stack that needs nothing has no warning', () => {
    const app = new App();
    const org = new Stack(app, 'Org');
    const other = new Stack(app, 'Other');
    const quiet = new Stack(app, 'Quiet');
    requirePrerequisite(new Construct(org, 'Scp'), 'scp-policy-type');
    requirePrerequisite(new Construct(org, 'Declarative'), 'declarative-policy-type');
    requirePrerequisite(new Construct(other, 'StackSet'), 'stacksets-trusted-access');
    [org, other, quiet].forEach((s) => s.node.validate());
    expect(warningsOn(org)).toEqual([INTRO('Org')
      + '(1) the DECLARATIVE_POLICY_EC2 policy type enabled on the organization root, needed by Org/Declarative: '
      + 'aws organizations enable-policy-type --root-id r-… --policy-type DECLARATIVE_POLICY_EC2 (management account); '
      + '(2) the SERVICE_CONTROL_POLICY policy type enabled on the organization root, needed by Org/Scp: '
      + `aws organizations enable-policy-type --root-id r-… --policy-type SERVICE_CONTROL_POLICY (management account) ${ACK}`]);
    expect(warningsOn(other)).toEqual([INTRO('Other')
      + '(1) trusted access for CloudFormation StackSets in AWS Organizations, needed by Other/StackSet: '
      + `aws cloudformation activate-organizations-access (management or delegated administrator account) ${ACK}`]);
    expect(warningsOn(quiet)).toEqual([]);
  });

  test('the message of a nested stack path, and the id users acknowledge', () => {
    expect(prerequisitesMessage('App/Stage/Stack', new Map([['scp-policy-type', new Set(['App/Stage/Stack/Scp'])]])))
      .toBe(INTRO('App/Stage/Stack') + '(1) the SERVICE_CONTROL_POLICY policy type enabled on the organization root, needed by App/Stage/Stack/Scp: '
        + 'aws organizations enable-policy-type --root-id r-… --policy-type SERVICE_CONTROL_POLICY (management account)');
    expect(DeploymentPrerequisites.WARNING).toBe('Annotation::cdk-ebs-backup:core:prerequisites');
  });
});
