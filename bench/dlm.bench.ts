/**
 * DlmSnapshotPolicy against hand-written CfnLifecyclePolicy: synthesis time and template size of
 * 200 equivalent policies (instance targets, nightly cron, count retention, a DR copy with its
 * own retention, fast restore, the three backup tags), measured side by side in one run.
 *
 * The construct side also validates every rule, derives the tags, and writes a least-privilege
 * execution role; the raw side uses one role with AWS's managed service-role policy, as most
 * hand-written templates do.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { compare } from './measure';
import { DlmSnapshotPolicy, Retention, SnapshotTarget } from 'cdk-ebs-backup';

const POLICIES = 200;
const ENV = { account: '123456789012', region: 'us-east-1' };

function newStack(): { app: App; stack: Stack } {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'dlm-bench-')) });
  return { app, stack: new Stack(app, 'Bench', { env: ENV }) };
}

function withConstruct(): string {
  const { app, stack } = newStack();
  for (let i = 0; i < POLICIES; i++) {
    new DlmSnapshotPolicy(stack, `Policy${i}`, {
      purpose: `app-${i}`,
      target: SnapshotTarget.instances({ tags: { Backup: `app-${i}` }, excludeBootVolume: true }),
      schedules: [{
        name: 'nightly',
        schedule: events.Schedule.cron({ hour: String(i % 24), minute: '0' }),
        retain: Retention.count(14),
        crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(30)) }],
        fastRestore: { availabilityZones: ['us-east-1a'], retain: Retention.count(1) },
      }],
    });
  }
  return JSON.stringify(app.synth().getStackByName('Bench').template);
}

function withL1(): string {
  const { app, stack } = newStack();
  const role = new iam.Role(stack, 'DlmRole', {
    assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com'),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSDataLifecycleManagerServiceRole')],
  });
  for (let i = 0; i < POLICIES; i++) {
    new dlm.CfnLifecyclePolicy(stack, `Policy${i}`, {
      description: `EBS snapshots for app-${i}`,
      state: 'ENABLED',
      executionRoleArn: role.roleArn,
      policyDetails: {
        policyType: 'EBS_SNAPSHOT_MANAGEMENT',
        resourceTypes: ['INSTANCE'],
        targetTags: [{ key: 'Backup', value: `app-${i}` }],
        parameters: { excludeBootVolume: true },
        schedules: [{
          name: 'nightly',
          createRule: { cronExpression: `cron(0 ${i % 24} * * ? *)` },
          retainRule: { count: 14 },
          copyTags: false,
          tagsToAdd: [
            { key: 'backup:purpose', value: `app-${i}` },
            { key: 'backup:retention', value: 'count:14' },
            { key: 'backup:managed-by', value: `Bench/Policy${i}` },
          ],
          crossRegionCopyRules: [{ target: 'eu-west-1', encrypted: true, copyTags: true, retainRule: { interval: 30, intervalUnit: 'DAYS' } }],
          fastRestoreRule: { availabilityZones: ['us-east-1a'], count: 1 },
        }],
      },
    });
  }
  return JSON.stringify(app.synth().getStackByName('Bench').template);
}

export async function run(): Promise<object> {
  const time = compare({ name: 'DlmSnapshotPolicy', fn: withConstruct }, { name: 'CfnLifecyclePolicy', fn: withL1 }, 5);
  const sizeConstruct = withConstruct().length;
  const sizeL1 = withL1().length;
  const result = {
    policies: POLICIES,
    synthMs: time.medianMs,
    synthRatio: +time.ratio.toFixed(2),
    templateBytes: { DlmSnapshotPolicy: sizeConstruct, CfnLifecyclePolicy: sizeL1 },
    templateRatio: +(sizeConstruct / sizeL1).toFixed(3),
  };
  console.log(`${POLICIES} policies: synth ${time.medianMs.DlmSnapshotPolicy.toFixed(0)} ms vs ${time.medianMs.CfnLifecyclePolicy.toFixed(0)} ms ` +
    `(ratio ${result.synthRatio}); template ${sizeConstruct} vs ${sizeL1} bytes (ratio ${result.templateRatio})`);
  return result;
}
