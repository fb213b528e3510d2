/**
 * The one synth warning per stack that names what CloudFormation cannot create, and its agreement
 * with README "Before you deploy". The prerequisites themselves are AWS's:
 * - policy types: AWS Organizations User Guide, "Enabling and disabling a policy type"
 *   (SCPs and declarative policies must be enabled on the root before a policy of the type is attached);
 * - StackSets: CloudFormation User Guide, "Activate trusted access for stack sets with AWS Organizations"
 *   (service-managed permissions require it);
 * - AWS Backup: Developer Guide, "Creating backup copies across AWS accounts" (the management
 *   account turns on cross-account backup for the organization);
 * - DLM: EBS User Guide, "Automate cross-account snapshot copies" (snapshots encrypted with the
 *   default AWS managed key cannot be shared; share a customer managed key with the target account).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import {
  BackupVaultPolicy, DeploymentPrerequisites, DlmSharedSnapshotCopyPolicy, DlmSnapshotPolicy, Retention, SnapshotTarget,
  VssMaintenanceWindow, MaintenanceTargets, WormServiceControlPolicy,
} from '../../src';
import { PREREQUISITES } from '../../src/core/prerequisites';
import { createCheckedApp, createTestStack, synthesizeChecked } from '../support';

const nightly = events.Schedule.cron({ hour: '4', minute: '0' });
const WARNING_ID = DeploymentPrerequisites.WARNING.replace('Annotation::', '');

function warnings(stack: Stack): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(`\\[ack: ${WARNING_ID}\\]`))
    .map((w) => `${w.id} ${String(w.entry.data)}`);
}

describe('deployment prerequisites', () => {
  test('one warning per stack names every prerequisite its constructs need, with the constructs and how to set it up', () => {
    // plain apps: the warnings are read here, not failed on (the strict gates are the last test's);
    // the organization in its own app, as it is deployed (its SCP exempts the roles of its app)
    const org = createTestStack(new App(), 'Org');
    new WormServiceControlPolicy(org, 'Worm', {
      breakGlassPrincipalArns: ['arn:aws:iam::*:role/BreakGlass'],
      exemptPrincipalArns: ['arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole'],
      targetIds: ['ou-abcd-12345678'],
      blockPublicSharing: true,
    });
    const workload = createTestStack(new App(), 'Workload');
    new DlmSnapshotPolicy(workload, 'Shared', {
      purpose: 'archive',
      target: SnapshotTarget.volumes({ tags: { Backup: 'archive' } }),
      schedules: [{ name: 'nightly', schedule: nightly, retain: Retention.count(7), share: { accounts: ['222222222222'] } }],
    });
    new BackupVaultPolicy(workload, 'Vault', {
      purpose: 'dr',
      rules: [{
        name: 'daily',
        schedule: nightly,
        retain: Retention.age(Duration.days(35)),
        copyTo: [{ vaultArn: 'arn:aws:backup:us-east-1:222222222222:backup-vault:archive', retain: Retention.age(Duration.days(35)) }],
      }],
      resources: [backup.BackupResource.fromTag('Backup', 'dr')],
    });
    const org1 = warnings(org);
    expect(org1).toEqual([expect.stringMatching(/^\/Org /)]);
    expect(org1[0]).toContain('(1) the DECLARATIVE_POLICY_EC2 policy type enabled on the organization root, needed by Org/Worm: aws organizations enable-policy-type');
    expect(org1[0]).toContain('(2) the SERVICE_CONTROL_POLICY policy type enabled on the organization root, needed by Org/Worm');
    expect(org1[0]).not.toMatch(/StackSets|AWS Backup|aws\/ebs/);
    const work = warnings(workload);
    expect(work).toHaveLength(1);
    expect(work[0]).toContain("(1) the organization's cross-account backup setting in AWS Backup, needed by Workload/Vault: aws backup update-global-settings --global-settings isCrossAccountBackupEnabled=true");
    expect(work[0]).toContain('(2) a customer managed KMS key on the source volumes, shared with the target account: DLM cannot share snapshots encrypted with the default aws/ebs key, needed by Workload/Shared');
    expect(work[0]).not.toMatch(/policy type|StackSets/);
  });

  test('stacks that need nothing outside CloudFormation get no warning; same-account copies need no cross-account setting', () => {
    const stack = createTestStack(new App());
    new VssMaintenanceWindow(stack, 'Window', { purpose: 'erp', schedule: nightly, targets: MaintenanceTargets.tagged({ Vss: 'yes' }) });
    new DlmSnapshotPolicy(stack, 'Local', {
      purpose: 'local',
      target: SnapshotTarget.volumes({ tags: { Backup: 'local' } }),
      schedules: [{ name: 'nightly', schedule: nightly, retain: Retention.count(7) }],
    });
    new BackupVaultPolicy(stack, 'Vault', {
      purpose: 'dr',
      rules: [{
        name: 'daily',
        schedule: nightly,
        retain: Retention.age(Duration.days(35)),
        copyTo: [{ vaultArn: 'arn:aws:backup:eu-west-1:123456789012:backup-vault:dr', retain: Retention.age(Duration.days(35)) }],
      }],
      resources: [backup.BackupResource.fromTag('Backup', 'dr')],
    });
    expect(warnings(stack)).toEqual([]);
  });

  test('the target account of a shared-snapshot copy needs the customer key too; acknowledged, the strict gates pass', () => {
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new DlmSharedSnapshotCopyPolicy(stack, 'Copy', { purpose: 'archive', sourceAccounts: ['111122223333'], copies: [{ region: 'us-east-1', retain: Retention.age(Duration.days(14)) }] });
    expect(() => synthesizeChecked(app)).toThrow(/cdk-ebs-backup:core:prerequisites/);
    const again = createCheckedApp({ rules: false });
    const s2 = createTestStack(again);
    new DlmSharedSnapshotCopyPolicy(s2, 'Copy', { purpose: 'archive', sourceAccounts: ['111122223333'], copies: [{ region: 'us-east-1', retain: Retention.age(Duration.days(14)) }] });
    Validations.of(s2).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the source accounts encrypt with a customer key shared with this account' });
    expect(() => synthesizeChecked(again)).not.toThrow();
  });

  test('README "Before you deploy" and the warning say the same: every prerequisite and its command are in the checklist', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Before you deploy'), readme.indexOf('\n## ', readme.indexOf('## Before you deploy') + 5)).replace(/`/g, '');
    const missing = Object.entries(PREREQUISITES).flatMap(([id, p]) => {
      const command = p.how.replace(/ \(.*\)$/, '');
      return [
        ...section.includes(command) ? [] : [`${id}: command '${command}'`],
        ...section.includes(p.what.split(':')[0]) ? [] : [`${id}: prerequisite '${p.what.split(':')[0]}'`],
      ];
    });
    expect(missing).toEqual([]);
  });
});
