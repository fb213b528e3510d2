/**
 * One principal-ARN check for every deny that exempts by `aws:PrincipalArn`: that key carries the
 * role ARN of an assumed-role session, never the session ARN (IAM User Guide, "AWS global
 * condition context keys", aws:PrincipalArn), so a session ARN would exempt nobody.
 */
import { App, DefaultStackSynthesizer, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupArchiveVault, BackupVaultPolicy, Retention, WormServiceControlPolicy, WormSnapshotGuard } from '../../src';
import { deploymentPrincipalArns } from '../../src/core/principal-arns';

const SESSION = 'arn:aws:sts::444455556666:assumed-role/ledger-break-glass/alice';
const rules = [{ name: 'nightly', schedule: events.Schedule.cron({ hour: '2', minute: '30' }), retain: Retention.age(Duration.days(45)) }];

let stack: Stack;
beforeEach(() => {
  stack = new Stack(new App(), 'Ledger', { env: { account: '444455556666', region: 'eu-central-1' } });
});

test.each([
  ['the guard', (s: Stack, arns: string[]) => new WormSnapshotGuard(s, 'Guard', { breakGlassPrincipalArns: arns })],
  ['the organization SCP', (s: Stack, arns: string[]) => new WormServiceControlPolicy(s, 'Scp', { breakGlassPrincipalArns: arns })],
  ['the vault', (s: Stack, arns: string[]) => new BackupVaultPolicy(s, 'Vault', { purpose: 'ledger-dr', rules, breakGlassPrincipalArns: arns, notifications: false })],
  ['the archive vault', (s: Stack, arns: string[]) => new BackupArchiveVault(s, 'Archive', { sourceAccounts: ['121212121212'], breakGlassPrincipalArns: arns })],
])('%s rejects an assumed-role session as break-glass and names the role ARN to use', (_name, create) => {
  expect(() => create(stack, [SESSION])).toThrow(
    `breakGlassPrincipalArns[0] must be a role ARN, not an assumed-role session: aws:PrincipalArn carries the role ARN, so a session ARN never matches; use the role ARN (arn:aws:iam::444455556666:role/ledger-break-glass), got '${SESSION}'`);
});

test.each([
  ['a user', 'arn:aws:iam::444455556666:user/deployer', 'deploymentPrincipalArns[0] must be an IAM role ARN'],
  ['an account root', 'arn:aws:iam::444455556666:root', 'deploymentPrincipalArns[0] must be an IAM role ARN'],
  ['a session', 'arn:aws:sts::444455556666:assumed-role/cdk-exec/session', 'deploymentPrincipalArns[0] must be a role ARN, not an assumed-role session'],
  ['not an ARN', 'cdk-exec', 'deploymentPrincipalArns[0] must be an IAM role ARN'],
])('a deployment principal that is %s is a synth error', (_name, arn, expected) => {
  expect(() => new WormSnapshotGuard(stack, 'Guard', { deploymentPrincipalArns: [arn] })).toThrow(`Ledger/Guard: ${expected}`);
  expect(() => new BackupVaultPolicy(stack, 'Vault', { purpose: 'ledger-dr', rules, deploymentPrincipalArns: [arn], notifications: false }))
    .toThrow(`Ledger/Vault: ${expected}`);
});

test('deployment principals default to the CDK bootstrap execution role of the stack, honour the qualifier, and may be empty', () => {
  expect(deploymentPrincipalArns(stack, 'deploymentPrincipalArns', undefined).map((a) => stack.resolve(a)))
    .toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::444455556666:role/cdk-hnb659fds-cfn-exec-role-444455556666-eu-central-1']] }]);
  const custom = new Stack(new App(), 'Custom', { synthesizer: new DefaultStackSynthesizer({ qualifier: 'ledger01' }), env: { account: '444455556666', region: 'eu-central-1' } });
  expect(JSON.stringify(custom.resolve(deploymentPrincipalArns(custom, 'p', undefined)))).toContain('role/cdk-ledger01-cfn-exec-role-444455556666-eu-central-1');
  expect(deploymentPrincipalArns(stack, 'p', [])).toEqual([]);
  // a token is known at deploy time only: not validated
  expect(deploymentPrincipalArns(stack, 'p', [Fn.importValue('LedgerDeployer')])).toHaveLength(1);
});
