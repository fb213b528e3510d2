/**
 * Small L1 fixtures for the EbsBackupChecks tests: the resources a platform team's app holds, in
 * the CloudFormation shapes that the library's constructs (and hand-written L1s) synthesize.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { EbsBackupChecks, EbsBackupChecksProps } from '../../src/checks';
import { createCheckedApp, createTestStack, synthesizeChecked } from '../support';

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/service-role/Lifecycle';

/**
 * An app with the schema and IAM gates and EbsBackupChecks. The fixtures below are a user's own
 * resources, deliberately minimal, so cdk-nag AwsSolutions and cfn-guard (which judge this
 * library's constructs elsewhere) are left out here.
 */
export function checksApp(props?: EbsBackupChecksProps): App {
  const app = createCheckedApp({ rules: false });
  Validations.of(app).addPlugins(new EbsBackupChecks(app, props));
  return app;
}

export function stackIn(app: App, id = 'TestStack', region = 'us-east-1'): Stack {
  return createTestStack(app, id, { env: { account: '123456789012', region } });
}

/** An AMI id resolved from the public SSM parameter, as a real app would. */
export function imageId(stack: Stack): string {
  return ec2.MachineImage.latestAmazonLinux2023().getImage(stack).imageId;
}

export function volume(stack: Stack, id: string, tags: Record<string, string> = {}, extra: Partial<ec2.CfnVolumeProps> = {}): ec2.CfnVolume {
  return new ec2.CfnVolume(stack, id, {
    availabilityZone: Fn.select(0, Fn.getAzs()),
    size: 10,
    encrypted: true,
    volumeType: 'gp3',
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    ...extra,
  });
}

export function instance(stack: Stack, id: string, tags: Record<string, string> = {}, extra: Partial<ec2.CfnInstanceProps> = {}): ec2.CfnInstance {
  return new ec2.CfnInstance(stack, id, {
    imageId: imageId(stack),
    instanceType: 't3.micro',
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    ...extra,
  });
}

export function dlmPolicy(
  stack: Stack, id: string, resourceType: 'VOLUME' | 'INSTANCE', targetTags: Record<string, string>,
  schedule: Partial<dlm.CfnLifecyclePolicy.ScheduleProperty> = {}, parameters?: dlm.CfnLifecyclePolicy.ParametersProperty,
): dlm.CfnLifecyclePolicy {
  return new dlm.CfnLifecyclePolicy(stack, id, {
    description: 'test policy',
    state: 'ENABLED',
    executionRoleArn: ROLE_ARN,
    policyDetails: {
      policyType: 'EBS_SNAPSHOT_MANAGEMENT',
      resourceTypes: [resourceType],
      targetTags: Object.entries(targetTags).map(([key, value]) => ({ key, value })),
      parameters,
      schedules: [{
        name: 'nightly',
        createRule: { interval: 24, intervalUnit: 'HOURS' },
        retainRule: { count: 14 },
        copyTags: true,
        ...schedule,
      }],
    },
  });
}

export function backupSelection(
  stack: Stack, id: string, selection: Partial<backup.CfnBackupSelection.BackupSelectionResourceTypeProperty>,
): backup.CfnBackupSelection {
  return new backup.CfnBackupSelection(stack, id, {
    backupPlanId: 'plan-id',
    backupSelection: { selectionName: id, iamRoleArn: ROLE_ARN, ...selection },
  });
}

export function vssWindow(stack: Stack, id: string, tags: Record<string, string>, taskArn = 'AWSEC2-CreateVssSnapshot'): ssm.CfnMaintenanceWindowTask {
  const window = new ssm.CfnMaintenanceWindow(stack, `${id}Window`, {
    name: `${id}-window`, schedule: 'cron(0 4 * * ? *)', duration: 2, cutoff: 1, allowUnassociatedTargets: false,
  });
  const target = new ssm.CfnMaintenanceWindowTarget(stack, `${id}Target`, {
    windowId: window.ref,
    resourceType: 'INSTANCE',
    targets: Object.entries(tags).map(([k, v]) => ({ key: `tag:${k}`, values: [v] })),
  });
  return new ssm.CfnMaintenanceWindowTask(stack, `${id}Task`, {
    windowId: window.ref,
    taskArn,
    taskType: 'RUN_COMMAND',
    priority: 1,
    maxConcurrency: '1',
    maxErrors: '1',
    targets: [{ key: 'WindowTargetIds', values: [target.ref] }],
  });
}

/** Synthesize and return the EbsBackupChecks violations as `ruleName: description` lines (errors throw). */
export function findings(app: App): string[] {
  let error: Error | undefined;
  try {
    synthesizeChecked(app);
  } catch (e) {
    error = e as Error;
  }
  const report = path.join(app.outdir, 'validation-report.json');
  const lines: string[] = [];
  if (fs.existsSync(report)) {
    for (const plugin of JSON.parse(fs.readFileSync(report, 'utf8')).pluginReports ?? []) {
      for (const v of plugin.violations ?? []) {
        if (plugin.pluginName === 'EbsBackupChecks' || String(v.ruleName).includes('EC2EBSInBackupPlan')) {
          lines.push(`${v.ruleName}: ${v.description}`);
        }
      }
    }
  }
  if (error && lines.length === 0) {
    throw error;
  }
  return lines;
}

/** Mark a resource as the library's convention does for a job that snapshots instances. */
export function declaredJob(stack: Stack, id: string): CfnResource {
  return new CfnResource(stack, id, { type: 'AWS::SQS::Queue', properties: {} });
}
