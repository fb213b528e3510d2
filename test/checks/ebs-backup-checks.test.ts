import * as fs from 'fs';
import * as path from 'path';
import { Fn, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rbin from 'aws-cdk-lib/aws-rbin';
import { NIST80053R5Checks } from 'cdk-nag';
import {
  backupSelection, checksApp, declaredJob, dlmPolicy, findings, imageId, instance, ROLE_ARN, stackIn, volume, vssWindow,
} from './checks-fixtures';
import { FsfreezeMaintenanceWindow, MaintenanceTargets, VssMaintenanceWindow } from '../../src';
import { EbsBackupChecks } from '../../src/checks';
import { BackupCoverage, CoverageResourceType } from '../../src/core/coverage';
import { synthesizeChecked } from '../support';

describe('EbsBackup-VolumeCovered', () => {
  test('fails for a volume no policy covers, naming it, its tags and the ways to fix it', () => {
    // GIVEN a volume whose tags no policy targets
    const app = checksApp();
    const stack = stackIn(app);
    volume(stack, 'Data', { Backup: 'none' });
    dlmPolicy(stack, 'Policy', 'VOLUME', { Backup: 'database' });

    // THEN
    expect(findings(app)).toEqual([
      expect.stringMatching(/^EbsBackup-VolumeCovered: EBS volume TestStack\/Data \(tags: Backup=none\) is covered by no backup policy: tag it to match a DLM policy's target tags/),
    ]);
    expect(() => synthesizeChecked(app)).toThrow(/EbsBackup-VolumeCovered/);
  });

  test.each([
    ['a DLM volume policy by one of its target tags (ORed)', (s: any) => dlmPolicy(s, 'P', 'VOLUME', { Other: 'x', Backup: 'database' })],
    ['a DLM default policy for volumes', (s: any) => new dlm.CfnLifecyclePolicy(s, 'VolumeDefaults', {
      description: 'default', state: 'ENABLED', executionRoleArn: ROLE_ARN, defaultPolicy: 'VOLUME', createInterval: 1, retainInterval: 7,
    })],
    ['an AWS Backup selection by ListOfTags', (s: any) => backupSelection(s, 'Sel', { listOfTags: [{ conditionType: 'STRINGEQUALS', conditionKey: 'Backup', conditionValue: 'database' }] })],
    ['an AWS Backup selection by a wildcard ARN and Conditions (ANDed)', (s: any) => backupSelection(s, 'Sel', {
      resources: ['arn:aws:ec2:*:*:volume/*'],
      conditions: { StringEquals: [{ ConditionKey: 'aws:ResourceTag/Backup', ConditionValue: 'database' }], StringLike: [{ ConditionKey: 'aws:ResourceTag/Team', ConditionValue: 'pay*' }] },
    })],
    ['an AWS Backup selection naming the volume by Fn::Join with its Ref', (s: any) => backupSelection(s, 'Sel', {
      resources: [Fn.join('', ['arn:aws:ec2:us-east-1:123456789012:volume/', s.node.findChild('Data').ref])],
    })],
    ['a resource that declares coverage with the metadata convention', (s: any) => BackupCoverage.declare(declaredJob(s, 'Job'), {
      resourceTypes: [CoverageResourceType.VOLUME], tags: { Backup: 'database', Team: 'payments' },
    })],
  ])('passes for a volume covered by %s', (_name, cover) => {
    // GIVEN
    const app = checksApp();
    const stack = stackIn(app);
    volume(stack, 'Data', { Backup: 'database', Team: 'payments' });
    cover(stack);
    // THEN
    expect(findings(app)).toEqual([]);
    expect(() => synthesizeChecked(app)).not.toThrow();
  });

  test.each([
    ['a Conditions StringNotEquals that excludes it', { conditions: { StringNotEquals: [{ ConditionKey: 'aws:ResourceTag/Team', ConditionValue: 'payments' }] } }],
    ['NotResources that exclude every volume', { listOfTags: [{ conditionType: 'STRINGEQUALS', conditionKey: 'Backup', conditionValue: 'database' }], notResources: ['arn:aws:ec2:*:*:volume/*'] }],
    ['a metadata declaration whose tags it carries only in part (ANDed)', undefined],
  ])('fails for a volume left out by %s', (_name, selection) => {
    const app = checksApp();
    const stack = stackIn(app);
    volume(stack, 'Data', { Backup: 'database', Team: 'payments' });
    if (selection) {
      backupSelection(stack, 'Sel', selection);
    } else {
      BackupCoverage.declare(declaredJob(stack, 'Job'), { resourceTypes: [CoverageResourceType.VOLUME], tags: { Backup: 'database', Team: 'orders' } });
    }
    expect(findings(app)).toEqual([expect.stringMatching(/^EbsBackup-VolumeCovered: EBS volume TestStack\/Data/)]);
  });

  test('a volume attached to an instance that an instance policy covers is covered, unless excluded as a data volume', () => {
    // GIVEN an instance policy that leaves out data volumes tagged Scratch=true
    const app = checksApp();
    const stack = stackIn(app);
    const db = instance(stack, 'Db', { Backup: 'database' });
    const data = volume(stack, 'Data');
    const scratch = volume(stack, 'Scratch', { Scratch: 'true' });
    new ec2.CfnVolumeAttachment(stack, 'AttachData', { instanceId: db.ref, volumeId: data.ref, device: '/dev/sdf' });
    new ec2.CfnVolumeAttachment(stack, 'AttachScratch', { instanceId: db.ref, volumeId: scratch.ref, device: '/dev/sdg' });
    dlmPolicy(stack, 'Policy', 'INSTANCE', { Backup: 'database' }, {}, { excludeBootVolume: true, excludeDataVolumeTags: [{ key: 'Scratch', value: 'true' }] });

    // THEN only the excluded data volume is reported, with the instance it is attached to
    expect(findings(app)).toEqual([
      expect.stringMatching(/EBS volume TestStack\/Scratch \(tags: Scratch=true; attached to TestStack\/Db\) is covered by no backup policy/),
    ]);
  });

  test('matches by tag across the stacks of one environment, never across regions', () => {
    // GIVEN a policy stack and a workload stack in us-east-1, and a workload stack in eu-west-1
    const app = checksApp();
    dlmPolicy(stackIn(app, 'Policies'), 'Policy', 'VOLUME', { Backup: 'database' });
    volume(stackIn(app, 'Workload'), 'Data', { Backup: 'database' });
    volume(stackIn(app, 'DrWorkload', 'eu-west-1'), 'Data', { Backup: 'database' });

    // THEN only the volume in the other region is uncovered
    expect(findings(app)).toEqual([expect.stringMatching(/EBS volume DrWorkload\/Data/)]);
  });

  test('a disabled DLM policy covers nothing', () => {
    const app = checksApp();
    const stack = stackIn(app);
    volume(stack, 'Data', { Backup: 'database' });
    dlmPolicy(stack, 'Policy', 'VOLUME', { Backup: 'database' }).state = 'DISABLED';
    expect(findings(app)).toEqual([
      expect.stringMatching(/^EbsBackup-VolumeCovered: EBS volume TestStack\/Data \(tags: Backup=database\) is covered by no backup policy/),
    ]);
  });

  test('an acknowledgement on one volume accepts that volume only', () => {
    // GIVEN two uncovered volumes, one acknowledged
    const app = checksApp();
    const stack = stackIn(app);
    const scratch = volume(stack, 'Scratch');
    volume(stack, 'Data');
    Validations.of(scratch).acknowledge({ id: EbsBackupChecks.VOLUME_COVERED, reason: 'scratch space, rebuilt from the build cache' });

    // THEN the other is still reported
    expect(findings(app)).toEqual([expect.stringMatching(/EBS volume TestStack\/Data /)]);
  });

  test('rules can be excluded from the pack, and unknown rule ids are rejected', () => {
    const app = checksApp({ excludeRules: [EbsBackupChecks.VOLUME_COVERED] });
    volume(stackIn(app), 'Data');
    expect(findings(app)).toEqual([]);
    expect(() => new EbsBackupChecks(app, { excludeRules: ['EbsBackup-Nope'] })).toThrow(
      /excludeRules must name rules of the pack \(EbsBackup-VolumeCovered, .*\), got 'EbsBackup-Nope'/);
  });
});

describe('EbsBackup-InstanceCovered', () => {
  test('fails for an instance no policy covers', () => {
    const app = checksApp();
    instance(stackIn(app), 'Web', { Role: 'web' });
    expect(findings(app)).toEqual([
      expect.stringMatching(/^EbsBackup-InstanceCovered: EC2 instance TestStack\/Web \(tags: Role=web\) is covered by no backup policy: tag it to match a DLM instance policy/),
    ]);
  });

  test.each([
    ['a DLM instance policy', (s: any) => dlmPolicy(s, 'P', 'INSTANCE', { Backup: 'web' })],
    ['a DLM AMI policy', (s: any) => new dlm.CfnLifecyclePolicy(s, 'Ami', {
      description: 'ami',
      state: 'ENABLED',
      executionRoleArn: ROLE_ARN,
      policyDetails: {
        policyType: 'IMAGE_MANAGEMENT',
        resourceTypes: ['INSTANCE'],
        targetTags: [{ key: 'Backup', value: 'web' }],
        schedules: [{ name: 'weekly', createRule: { cronExpression: 'cron(0 5 ? * SUN *)' }, retainRule: { count: 4 } }],
      },
    })],
    ['a maintenance window that creates AMIs of its tags', (s: any) => vssWindow(s, 'Ami', { Backup: 'web' }, 'AWS-CreateImage')],
    ['an AWS Backup selection of every instance ARN', (s: any) => backupSelection(s, 'Sel', { resources: ['arn:aws:ec2:*:*:instance/*'] })],
    ['a volume policy matching the tags it propagates to its volumes', (s: any) => {
      dlmPolicy(s, 'P', 'VOLUME', { Backup: 'web' });
      (s.node.findChild('Web') as ec2.CfnInstance).propagateTagsToVolumeOnCreation = true;
    }],
    ['its launch template\'s instance tags', (s: any) => {
      const lt = new ec2.CfnLaunchTemplate(s, 'Lt', {
        launchTemplateData: { tagSpecifications: [{ resourceType: 'instance', tags: [{ key: 'Tier', value: 'gold' }] }] },
      });
      (s.node.findChild('Web') as ec2.CfnInstance).launchTemplate = { launchTemplateId: lt.ref, version: lt.attrLatestVersionNumber };
      dlmPolicy(s, 'P', 'INSTANCE', { Tier: 'gold' });
    }],
  ])('passes for an instance covered by %s', (_name, cover) => {
    const app = checksApp();
    const stack = stackIn(app);
    instance(stack, 'Web', { Backup: 'web' });
    cover(stack);
    expect(findings(app)).toEqual([]);
  });

  test('a maintenance window that does not snapshot (patching) covers nothing', () => {
    const app = checksApp();
    const stack = stackIn(app);
    instance(stack, 'Web', { Backup: 'web' });
    vssWindow(stack, 'Patch', { Backup: 'web' }, 'AWS-RunPatchBaseline');
    expect(findings(app)).toEqual([expect.stringMatching(/EbsBackup-InstanceCovered: EC2 instance TestStack\/Web/)]);
  });
});

describe('EbsBackup-LaunchTemplateCovered', () => {
  function launchTemplate(stack: any, tags: Record<string, string>) {
    return new ec2.CfnLaunchTemplate(stack, 'Lt', {
      launchTemplateData: {
        imageId: imageId(stack),
        tagSpecifications: Object.keys(tags).length === 0 ? undefined : [{ resourceType: 'instance', tags: Object.entries(tags).map(([key, value]) => ({ key, value })) }],
      },
    });
  }

  test('fails for a template whose Auto Scaling group instances no policy covers, naming the group', () => {
    const app = checksApp();
    const stack = stackIn(app);
    const lt = launchTemplate(stack, {});
    new autoscaling.CfnAutoScalingGroup(stack, 'Asg', {
      minSize: '1',
      maxSize: '2',
      availabilityZones: [Fn.select(0, Fn.getAzs())],
      launchTemplate: { launchTemplateId: lt.ref, version: lt.attrLatestVersionNumber },
      tags: [{ key: 'Backup', value: 'web', propagateAtLaunch: false }],
    });
    dlmPolicy(stack, 'P', 'INSTANCE', { Backup: 'web' });
    expect(findings(app)).toEqual([
      expect.stringMatching(/^EbsBackup-LaunchTemplateCovered: launch template TestStack\/Lt: instances of Auto Scaling group TestStack\/Asg would be covered by no backup policy/),
    ]);
  });

  test('passes when the group propagates a targeted tag at launch, or the template tags its instances', () => {
    const app = checksApp();
    const stack = stackIn(app);
    const lt = launchTemplate(stack, {});
    new autoscaling.CfnAutoScalingGroup(stack, 'Asg', {
      minSize: '1',
      maxSize: '2',
      availabilityZones: [Fn.select(0, Fn.getAzs())],
      launchTemplate: { launchTemplateId: lt.ref, version: lt.attrLatestVersionNumber },
      tags: [{ key: 'Backup', value: 'web', propagateAtLaunch: true }],
    });
    dlmPolicy(stack, 'P', 'INSTANCE', { Backup: 'web' });
    const other = stackIn(app, 'Other');
    launchTemplate(other, { Backup: 'web' });
    dlmPolicy(other, 'P', 'INSTANCE', { Backup: 'web' });
    expect(findings(app)).toEqual([]);
  });
});

describe('EbsBackup-VssInstanceRole', () => {
  function vssInstance(stack: any, managedPolicy?: string) {
    const role = new iam.CfnRole(stack, 'Role', {
      assumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      managedPolicyArns: managedPolicy ? [`arn:aws:iam::aws:policy/${managedPolicy}`] : undefined,
    });
    const profile = new iam.CfnInstanceProfile(stack, 'Profile', { roles: [role.ref] });
    instance(stack, 'Win', { 'VSS-Snapshot': 'True' }, { iamInstanceProfile: profile.ref });
    vssWindow(stack, 'Vss', { 'VSS-Snapshot': 'True' });
  }

  test('fails for a VSS-targeted instance whose role cannot take the snapshots', () => {
    const app = checksApp();
    vssInstance(stackIn(app), 'AmazonSSMManagedInstanceCore');
    expect(findings(app)).toEqual([
      expect.stringMatching(/^EbsBackup-VssInstanceRole: EC2 instance TestStack\/Win is in a VSS tier \(maintenance window task TestStack\/VssTask \(AWSEC2-CreateVssSnapshot on tag:VSS-Snapshot=True\)\) but its role TestStack\/Role cannot take the snapshots: add the AWSEC2VssSnapshotPolicy/),
    ]);
  });

  test('fails for a VSS-targeted instance without an instance profile', () => {
    const app = checksApp();
    const stack = stackIn(app);
    instance(stack, 'Win', { 'VSS-Snapshot': 'True' });
    vssWindow(stack, 'Vss', { 'VSS-Snapshot': 'True' });
    expect(findings(app)).toEqual([expect.stringMatching(/EC2 instance TestStack\/Win is in a VSS tier .* but has no instance profile/)]);
  });

  test('passes when the role has the VSS managed policy', () => {
    const app = checksApp();
    vssInstance(stackIn(app), 'AWSEC2VssSnapshotPolicy');
    expect(findings(app)).toEqual([]);
  });

  test('checks every action the VSS agent uses (AWSEC2VssSnapshotPolicy parity), not only CreateSnapshots', () => {
    // the old rule approved this role: it lacks ec2:DescribeInstanceAttribute, which the agent needs
    // to read its block device mapping, so every VSS run fails
    const app = checksApp();
    const stack = stackIn(app);
    vssInstance(stack);
    new iam.CfnPolicy(stack, 'Partial', {
      policyName: 'partial',
      roles: [(stack.node.findChild('Role') as iam.CfnRole).ref],
      policyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['ec2:CreateSnapshots', 'ec2:CreateTags'], Resource: '*' },
          { Effect: 'Allow', Action: 'ec2:Describe*', Resource: 'arn:aws:ec2:*:*:volume/*' },
        ],
      },
    });
    expect(findings(app)).toEqual([
      expect.stringMatching(/cannot take the snapshots: .* missing ec2:DescribeInstanceAttribute on instance, ec2:DescribeSnapshots, ec2:DescribeImages$/),
    ]);
  });

  test('passes for the role of a VssMaintenanceWindow (the library\'s own instance policy)', () => {
    const app = checksApp();
    const stack = stackIn(app);
    const window = new VssMaintenanceWindow(stack, 'Window', {
      purpose: 'erp', schedule: events.Schedule.cron({ hour: '2', minute: '0' }), targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' }),
    });
    instance(stack, 'Win', { 'VSS-Snapshot': 'True' }, { iamInstanceProfile: window.instanceProfile.instanceProfileName });
    expect(findings(app).filter((f: string) => f.startsWith('EbsBackup-VssInstanceRole'))).toEqual([]);
  });
});

describe('EbsBackup-WindowInstanceAccess', () => {
  const nightly = events.Schedule.cron({ hour: '2', minute: '0' });
  const windowAccess = (app: any) => findings(app).filter((f: string) => f.startsWith('EbsBackup-WindowInstanceAccess'));

  /** A Windows instance with a role of its own (the VSS managed policy and SSM core: snapshots work, the window's output does not). */
  function ownRole(stack: any, tags: Record<string, string>, id = 'Win') {
    const role = new iam.Role(stack, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: ['AmazonSSMManagedInstanceCore', 'AWSEC2VssSnapshotPolicy'].map((n) => iam.ManagedPolicy.fromAwsManagedPolicyName(n)),
    });
    const profile = new iam.CfnInstanceProfile(stack, `${id}Profile`, { roles: [role.roleName] });
    instance(stack, id, tags, { iamInstanceProfile: profile.ref });
    return role;
  }

  test('fails for a targeted instance whose own role lacks the window\'s managed policy, naming the policy to attach', () => {
    const app = checksApp();
    const stack = stackIn(app);
    new VssMaintenanceWindow(stack, 'Window', { purpose: 'erp', schedule: nightly, targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' }) });
    ownRole(stack, { 'VSS-Snapshot': 'True' });
    expect(windowAccess(app)).toEqual([
      expect.stringMatching(/^EbsBackup-WindowInstanceAccess: EC2 instance TestStack\/Win is targeted by maintenance window task TestStack\/Window\/SnapshotTask .* but has instance profile TestStack\/WinProfile \(role TestStack\/WinRole\/Resource\) without the window's instance permissions: .*attach the managed policy EbsBackupVss-erp-us-east-1 and AmazonSSMManagedInstanceCore/),
    ]);
  });

  test('fails for a targeted instance without an instance profile (fsfreeze window)', () => {
    const app = checksApp();
    const stack = stackIn(app);
    new FsfreezeMaintenanceWindow(stack, 'Linux', { purpose: 'web', schedule: nightly, targets: MaintenanceTargets.tagged({ Tier: 'web' }), mountPoints: ['/data'] });
    instance(stack, 'Web', { Tier: 'web' });
    expect(windowAccess(app)).toEqual([expect.stringMatching(/EC2 instance TestStack\/Web is targeted by .* but has no instance profile .*EbsBackupFsfreeze-web-us-east-1/)]);
  });

  test.each([
    ['the managed policy on the role', (role: iam.Role, w: VssMaintenanceWindow) => role.addManagedPolicy(w.instancePolicy)],
    ['the managed policy attached from the policy side', (role: iam.Role, w: VssMaintenanceWindow) => w.instancePolicy.attachToRole(role)],
    ['the managed policy imported by its stable name', (role: iam.Role, w: VssMaintenanceWindow) =>
      role.addManagedPolicy(iam.ManagedPolicy.fromManagedPolicyName(role, 'ByName', w.instancePolicyName))],
  ])('passes with %s', (_how, attach) => {
    const app = checksApp();
    const stack = stackIn(app);
    const window = new VssMaintenanceWindow(stack, 'Window', { purpose: 'erp', schedule: nightly, targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' }) });
    attach(ownRole(stack, { 'VSS-Snapshot': 'True' }), window);
    expect(windowAccess(app)).toEqual([]);
  });

  test('passes with the window\'s instance profile, or a profile of the window\'s role; untargeted instances are not judged', () => {
    const app = checksApp();
    const stack = stackIn(app);
    const window = new VssMaintenanceWindow(stack, 'Window', { purpose: 'erp', schedule: nightly, targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' }) });
    instance(stack, 'Win', { 'VSS-Snapshot': 'True' }, { iamInstanceProfile: window.instanceProfile.instanceProfileName });
    const own = new iam.CfnInstanceProfile(stack, 'OwnProfile', { roles: [window.instanceRole.roleName] });
    instance(stack, 'Win2', { 'VSS-Snapshot': 'True' }, { iamInstanceProfile: own.ref });
    instance(stack, 'Other', { Tier: 'none' });
    expect(windowAccess(app)).toEqual([]);
  });

  test('another window\'s policy does not count: each targeting window is judged on its own', () => {
    const app = checksApp();
    const stack = stackIn(app);
    new VssMaintenanceWindow(stack, 'Erp', { purpose: 'erp', schedule: nightly, targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' }) });
    const sql = new VssMaintenanceWindow(stack, 'Sql', { purpose: 'sql', schedule: nightly, targets: MaintenanceTargets.tagged({ App: 'sql' }) });
    ownRole(stack, { 'VSS-Snapshot': 'True', 'App': 'sql' }).addManagedPolicy(sql.instancePolicy);
    expect(windowAccess(app)).toEqual([expect.stringMatching(/targeted by maintenance window task TestStack\/Erp\/SnapshotTask .*attach the managed policy EbsBackupVss-erp-us-east-1 /)]);
  });
});

describe('EbsBackup-BackupRetentionWithinVaultLock', () => {
  function plan(stack: any, deleteAfterDays: number | undefined, copyDays?: number) {
    const vault = new backup.CfnBackupVault(stack, 'Vault', { backupVaultName: 'locked', lockConfiguration: { minRetentionDays: 7, maxRetentionDays: 365 } });
    const dr = new backup.CfnBackupVault(stack, 'DrVault', { backupVaultName: 'dr', lockConfiguration: { minRetentionDays: 30 } });
    new backup.CfnBackupPlan(stack, 'Plan', {
      backupPlan: {
        backupPlanName: 'daily',
        backupPlanRule: [{
          ruleName: 'Daily',
          targetBackupVault: vault.ref,
          scheduleExpression: 'cron(0 5 * * ? *)',
          lifecycle: deleteAfterDays === undefined ? undefined : { deleteAfterDays },
          copyActions: copyDays === undefined ? undefined
            : [{ destinationBackupVaultArn: dr.attrBackupVaultArn, lifecycle: { deleteAfterDays: copyDays } }],
        }],
      },
    });
  }

  test.each([
    ['a rule above the maximum', 3650, undefined, /rule 'Daily' keeps recovery points 3650 days, but vault TestStack\/Vault is locked to at most 365 days/],
    ['a rule below the minimum', 1, undefined, /rule 'Daily' keeps recovery points 1 day, but vault TestStack\/Vault is locked to at least 7 days/],
    ['a rule that never expires under a maximum', undefined, undefined, /rule 'Daily' never expires its recovery points, but vault TestStack\/Vault is locked to at most 365 days/],
    ['a copy below its vault\'s minimum', 35, 14, /rule 'Daily' copy #0 keeps recovery points 14 days, but vault TestStack\/DrVault is locked to at least 30 days/],
  ])('fails for %s', (_name, days, copyDays, message) => {
    const app = checksApp();
    plan(stackIn(app), days, copyDays);
    expect(findings(app)).toEqual([expect.stringMatching(message)]);
  });

  test('passes when every rule and copy retains within its vault lock', () => {
    const app = checksApp();
    plan(stackIn(app), 35, 90);
    expect(findings(app)).toEqual([]);
  });
});

describe('EbsBackup-RecycleBinRetention', () => {
  function bin(stack: any, days: number, resourceTags?: Record<string, string>) {
    return new rbin.CfnRule(stack, 'Bin', {
      resourceType: 'EBS_SNAPSHOT',
      retentionPeriod: { retentionPeriodValue: days, retentionPeriodUnit: 'DAYS' },
      resourceTags: resourceTags && Object.entries(resourceTags).map(([resourceTagKey, resourceTagValue]) => ({ resourceTagKey, resourceTagValue })),
    });
  }

  test('warns (a warning, not an error) when the bin holds more expired snapshots than the schedule keeps', () => {
    const app = checksApp();
    const stack = stackIn(app);
    volume(stack, 'Data', { Backup: 'database' });
    dlmPolicy(stack, 'Policy', 'VOLUME', { Backup: 'database' }, { createRule: { interval: 4, intervalUnit: 'HOURS' }, retainRule: { count: 6 } });
    bin(stack, 30);
    expect(findings(app)).toEqual([
      expect.stringMatching(/^EbsBackup-RecycleBinRetention: Recycle Bin rule TestStack\/Bin keeps every deleted EBS snapshot for 30 days: schedule 'nightly' of DLM policy TestStack\/Policy deletes a snapshot every 4 hours, so at least 180 expired snapshots stay billed in the bin beside the 6 it keeps/),
    ]);
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
    const plugin = report.pluginReports.find((r: any) => r.pluginName === 'EbsBackupChecks');
    expect(plugin.violations.map((v: any) => v.severity)).toEqual(['warning']);
  });

  test('passes when the bin retention is within what the schedule keeps, or the bin does not match its snapshots', () => {
    const app = checksApp();
    const stack = stackIn(app);
    volume(stack, 'Data', { Backup: 'database' });
    dlmPolicy(stack, 'Policy', 'VOLUME', { Backup: 'database' }, { createRule: { cronExpression: 'cron(0 4 * * ? *)' }, retainRule: { interval: 30, intervalUnit: 'DAYS' } });
    bin(stack, 14);
    const other = stackIn(app, 'Other', 'eu-west-1');
    volume(other, 'Data', { Backup: 'database' });
    dlmPolicy(other, 'Policy', 'VOLUME', { Backup: 'database' }, { createRule: { interval: 1, intervalUnit: 'HOURS' }, retainRule: { count: 24 } });
    bin(other, 365, { Keep: 'forever' });
    expect(findings(app)).toEqual([]);
  });
});

describe('EbsBackup-RecycleBinRetention with calendar retentions', () => {
  // DLM's RetainRule MONTHS is a calendar month: a daily schedule keeps 28 to 31 snapshots. The
  // warning says the bin holds more than the schedule keeps, so it counts the longest month.
  function monthlyRetention(binDays: number) {
    const app = checksApp();
    const stack = stackIn(app);
    volume(stack, 'Data', { Backup: 'database' });
    dlmPolicy(stack, 'Policy', 'VOLUME', { Backup: 'database' }, { createRule: { interval: 24, intervalUnit: 'HOURS' }, retainRule: { interval: 1, intervalUnit: 'MONTHS' } });
    new rbin.CfnRule(stack, 'Bin', { resourceType: 'EBS_SNAPSHOT', retentionPeriod: { retentionPeriodValue: binDays, retentionPeriodUnit: 'DAYS' } });
    return findings(app);
  }

  test('a 31-day bin holds no more than a 1 MONTHS daily schedule keeps in a 31-day month: no warning', () => {
    expect(monthlyRetention(31)).toEqual([]);
  });

  test('a 32-day bin holds more than the 31 snapshots the schedule keeps at the most: warned, naming the 31', () => {
    expect(monthlyRetention(32)).toEqual([
      expect.stringMatching(/^EbsBackup-RecycleBinRetention: Recycle Bin rule TestStack\/Bin keeps every deleted EBS snapshot for 32 days: schedule 'nightly' of DLM policy TestStack\/Policy deletes a snapshot every 24 hours, so at least 32 expired snapshots stay billed in the bin beside the 31 it keeps/),
    ]);
  });
});

describe('EbsBackup-RecycleBinRetention with a monthly schedule', () => {
  // a cron on day 1 of every month runs 28 to 31 days apart: a bin holds more than the 12 a yearly
  // count keeps only when its retention spans 13 deletions at the longest gap (13 x 31 = 403 days)
  function monthly(binDays: number, day = '1') {
    const app = checksApp();
    const stack = stackIn(app);
    volume(stack, 'Data', { Backup: 'database' });
    dlmPolicy(stack, 'Policy', 'VOLUME', { Backup: 'database' }, { createRule: { cronExpression: `cron(0 4 ${day} * ? *)` }, retainRule: { count: 12 } });
    new rbin.CfnRule(stack, 'Bin', { resourceType: 'EBS_SNAPSHOT', retentionPeriod: { retentionPeriodValue: binDays, retentionPeriodUnit: 'DAYS' } });
    return findings(app);
  }

  test('a 370-day bin may hold 12 (a year of 31-day gaps): no warning, where an average month of 730 hours claimed 13', () => {
    expect(monthly(370)).toEqual([]);
    expect(monthly(402)).toEqual([]);
  });

  test('a 403-day bin holds at least 13: warned, naming the range of the interval', () => {
    expect(monthly(403)).toEqual([
      expect.stringMatching(/deletes a snapshot every 672 to 744 hours \(a calendar month\), so at least 13 expired snapshots stay billed in the bin beside the 12 it keeps/),
    ]);
  });

  test('a day after the 28th is skipped in shorter months: no interval is claimed', () => {
    expect(monthly(1000, '31')).toEqual([]);
  });
});

describe("cdk-nag's EC2EBSInBackupPlan", () => {
  test('does not report volumes that EbsBackupChecks proves covered by DLM, and still reports uncovered ones', () => {
    // GIVEN the NIST 800-53 R5 pack (added before EbsBackupChecks) and two volumes
    const app = checksApp();
    Validations.of(app).addPlugins(new NIST80053R5Checks(app));
    const stack = stackIn(app);
    volume(stack, 'Covered', { Backup: 'database' });
    volume(stack, 'Uncovered', { Backup: 'none' });
    dlmPolicy(stack, 'Policy', 'VOLUME', { Backup: 'database' });
    Validations.of(stack.node.findChild('Uncovered')).acknowledge({ id: EbsBackupChecks.VOLUME_COVERED, reason: 'test: only cdk-nag is under test' });

    // THEN cdk-nag reports the uncovered volume only
    const nag = findings(app).filter((f) => f.includes('EC2EBSInBackupPlan'));
    expect(nag).toHaveLength(1);
    expect(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8').replace(/\s+/g, ' '))
      .toMatch(/EC2EBSInBackupPlan.*TestStack\/Uncovered/);
    expect(JSON.stringify(app.node.findAll().find((c) => c.node.path === 'TestStack/Covered')!.node.metadata))
      .toContain('covered by DLM snapshot policy TestStack/Policy (target tags Backup=database) (proven by EbsBackupChecks)');
  });
});
