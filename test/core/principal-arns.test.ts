/**
 * One principal-ARN check for every deny that exempts by `aws:PrincipalArn`: that key carries the
 * role ARN of an assumed-role session, never the session ARN (IAM User Guide, "AWS global
 * condition context keys", aws:PrincipalArn), so a session ARN would exempt nobody.
 */
import { App, DefaultStackSynthesizer, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupArchiveVault, BackupVaultPolicy, Retention, WormServiceControlPolicy, WormSnapshotGuard } from '../../src';
import { deploymentPrincipalArns } from '../../src/core/principal-arns';
import { evaluate, FULL_ACCESS } from '../support/iam-evaluation';

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

/**
 * An account id is 12 digits (AWS Account Management Reference Guide, "View AWS account
 * identifiers"); `ArnLike` matches `?` to one character and `*` to any run (IAM User Guide, "IAM JSON
 * policy elements: Condition operators", ARN condition operators). So an account part that can
 * match no 12-digit account makes the exemption exempt nobody; on a compliance-locked vault that is
 * a break-glass role that never works. The evaluator decides, for the break-glass role in every
 * 12-digit account the pattern could name, whether the `ArnNotLike` exemption lets it through.
 */
describe('the account of a principal ARN: accepted exactly when ArnLike can match it to a 12-digit account', () => {
  const DENY = (pattern: string) => ({
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Deny',
      Action: 'backup:DeleteRecoveryPoint',
      Resource: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': `arn:aws:iam::${pattern}:role/BreakGlass` } },
    }],
  });

  /** The 12-digit accounts the pattern might name: `?` as 7, the first `*` filled to 12 characters, every other `*` empty. */
  function candidates(pattern: string): string[] {
    const fixed = pattern.replace(/\*/g, '').replace(/\?/g, '7');
    if (!pattern.includes('*')) {
      return fixed.length === 12 ? [fixed] : [fixed.padEnd(12, '7').slice(0, 12)];
    }
    const [head, ...rest] = pattern.replace(/\?/g, '7').split('*');
    const tail = rest.join('');
    return Array.from({ length: 13 }, (_, n) => `${head}${'7'.repeat(n)}${tail}`).filter((a) => a.length === 12);
  }

  async function exemptsSomeone(pattern: string): Promise<boolean> {
    for (const account of candidates(pattern)) {
      const result = await evaluate(
        { principal: `arn:aws:iam::${account}:role/BreakGlass`, action: 'backup:DeleteRecoveryPoint', resource: `arn:aws:backup:eu-central-1:${account}:recovery-point:rp-1` },
        { identity: [FULL_ACCESS], scps: [DENY(pattern)] });
      if (result === 'Allowed') {
        return true;
      }
    }
    return false;
  }

  test.each([
    '444455556666', '44445555666', '4444555566667', '4444555566?6', '4444555566?', '4444555566???',
    '*', '4444*', '*6666', '4444*6666', '444455556666*', '4444555566667*', '*4444555566667', '44*44*55', '?*', '????????????*', '?????????????*',
  ])('account %s', async (account) => {
    const arn = `arn:aws:iam::${account}:role/BreakGlass`;
    const matches = await exemptsSomeone(account);
    if (matches) {
      expect(() => new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [arn] })).not.toThrow();
    } else {
      expect(() => new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [arn] })).toThrow(
        `Ledger/Guard: breakGlassPrincipalArns[0] must name a 12-digit account id (\`?\` stands for one digit, \`*\` for any run), got '${arn}'; '${account}' matches no account, so the entry exempts nobody`);
    }
  });

  test('the known bug: an 11-digit account is a synth error, in every construct that takes principal ARNs', () => {
    const arn = 'arn:aws:iam::44445555666:role/BreakGlass';
    expect(() => new WormSnapshotGuard(stack, 'Guard', { breakGlassPrincipalArns: [arn] })).toThrow('breakGlassPrincipalArns[0] must name a 12-digit account id');
    expect(() => new WormServiceControlPolicy(stack, 'Scp', { breakGlassPrincipalArns: [arn] })).toThrow('breakGlassPrincipalArns[0] must name a 12-digit account id');
    expect(() => new BackupVaultPolicy(stack, 'Vault', { purpose: 'ledger-dr', rules, deploymentPrincipalArns: [arn], notifications: false }))
      .toThrow('Ledger/Vault: deploymentPrincipalArns[0] must name a 12-digit account id');
  });
});
