/**
 * BackupVaultPolicy against the equivalent hand-written aws-backup L2 code: synthesis time and
 * template size of 20 policies (a compliance-locked vault with a rotating key that denies its own
 * deletion, a deny-destruction access policy with a break-glass exemption, a daily rule with a
 * cross-account copy and the three backup tags, a tag selection), measured side by side.
 *
 * The construct side also validates every rule against the lock, limits the selection to EBS and
 * EC2, writes least-privilege backup and restore roles, and adds notifications and alarms; the
 * hand-written side uses AWS's managed service-role policy, as most hand-written code does.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { compare } from './measure';
import { BackupVaultPolicy, Retention, VaultLock } from 'cdk-ebs-backup';

const POLICIES = 20;
const ENV = { account: '123456789012', region: 'us-east-1' };
const BREAK_GLASS = 'arn:aws:iam::123456789012:role/BreakGlass';
const ARCHIVE = 'arn:aws:backup:eu-west-1:111122223333:backup-vault:ebs-archive';

function newStack(): { app: App; stack: Stack } {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'backup-bench-')) });
  return { app, stack: new Stack(app, 'Bench', { env: ENV }) };
}

function withConstruct(): string {
  const { app, stack } = newStack();
  for (let i = 0; i < POLICIES; i++) {
    const policy = new BackupVaultPolicy(stack, `Policy${i}`, {
      purpose: `app-${i}`,
      vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(3650) }),
      rules: [{
        name: 'daily',
        schedule: events.Schedule.cron({ hour: String(i % 24), minute: '0' }),
        retain: Retention.age(Duration.days(35)),
        copyTo: [{ vaultArn: ARCHIVE, retain: Retention.age(Duration.days(365)) }],
      }],
      resources: [backup.BackupResource.fromTag('Backup', `app-${i}`)],
      breakGlassPrincipalArns: [BREAK_GLASS],
    });
    Validations.of(policy).acknowledge({ id: BackupVaultPolicy.COMPLIANCE_LOCK_WARNING, reason: 'bench' });
  }
  return JSON.stringify(app.synth().getStackByName('Bench').template);
}

function withL2(): string {
  const { app, stack } = newStack();
  const archive = backup.BackupVault.fromBackupVaultArn(stack, 'Archive', ARCHIVE);
  const exempt = { ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] } };
  for (let i = 0; i < POLICIES; i++) {
    const key = new kms.Key(stack, `Key${i}`, { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    key.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.StarPrincipal()],
      resources: ['*'],
      conditions: exempt,
      actions: ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:RevokeGrant'],
    }));
    const vault = new backup.BackupVault(stack, `Vault${i}`, {
      encryptionKey: key,
      lockConfiguration: { minRetention: Duration.days(7), maxRetention: Duration.days(3650), changeableFor: Duration.days(3) },
    });
    vault.addToAccessPolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.StarPrincipal()],
      resources: ['*'],
      conditions: exempt,
      actions: ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle', 'backup:PutBackupVaultAccessPolicy',
        'backup:DeleteBackupVaultAccessPolicy', 'backup:PutBackupVaultLockConfiguration', 'backup:DeleteBackupVaultLockConfiguration'],
    }));
    const plan = new backup.BackupPlan(stack, `Plan${i}`, { backupVault: vault });
    plan.addRule(new backup.BackupPlanRule({
      ruleName: 'daily',
      scheduleExpression: events.Schedule.cron({ hour: String(i % 24), minute: '0' }),
      startWindow: Duration.hours(1),
      deleteAfter: Duration.days(35),
      copyActions: [{ destinationBackupVault: archive, deleteAfter: Duration.days(365) }],
      recoveryPointTags: { 'backup:purpose': `app-${i}`, 'backup:retention': 'age:35d', 'backup:managed-by': `Bench/Policy${i}` },
    }));
    plan.addSelection('Selection', { resources: [backup.BackupResource.fromTag('Backup', `app-${i}`)] });
  }
  return JSON.stringify(app.synth().getStackByName('Bench').template);
}

export async function run(): Promise<object> {
  const time = compare({ name: 'BackupVaultPolicy', fn: withConstruct }, { name: 'aws-backup L2', fn: withL2 }, 5);
  const sizeConstruct = withConstruct().length;
  const sizeL2 = withL2().length;
  const result = {
    policies: POLICIES,
    synthMs: time.medianMs,
    synthRatio: +time.ratio.toFixed(2),
    templateBytes: { 'BackupVaultPolicy': sizeConstruct, 'aws-backup L2': sizeL2 },
    templateRatio: +(sizeConstruct / sizeL2).toFixed(3),
  };
  console.log(`${POLICIES} vault policies: synth ${time.medianMs.BackupVaultPolicy.toFixed(0)} ms vs ${time.medianMs['aws-backup L2'].toFixed(0)} ms ` +
    `(ratio ${result.synthRatio}); template ${sizeConstruct} vs ${sizeL2} bytes (ratio ${result.templateRatio})`);
  return result;
}
