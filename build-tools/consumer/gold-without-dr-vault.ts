// Gold copies its AWS Backup recovery points to the DR vault in its DR region; an app without
// that vault must fail synthesis with the message that says what to add (README "A first app").
import { App, Stack } from 'aws-cdk-lib';
import { BackupTier, EbsBackupBaseline } from 'cdk-ebs-backup';

const app = new App({ autoSynth: false }); // synthesized once, by the gate that expects the error
const stack = new Stack(app, 'Backup', { env: { account: '123456789012', region: 'us-east-1' } });
new EbsBackupBaseline(stack, 'Baseline', {
  tiers: [BackupTier.gold({ drRegion: 'eu-west-1' })],
  breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
});
(globalThis as any).consumer.expectSynthesisError(app,
  /Backup\/Baseline: tiers\[0\] \('gold'\) copies AWS Backup recovery points to the vault 'ebs-backup-dr' in eu-west-1, which nothing in this app creates \(every copy job would fail\): add baseline\.addDrVaultStack\('BackupDrVault'\)/m);
