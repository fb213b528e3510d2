/**
 * The principal-ARN rule value by value (mutation testing found these lines unchecked): which
 * ARNs `aws:PrincipalArn` can carry and an `ArnNotLike` exemption can therefore match (IAM User
 * Guide, "AWS global condition context keys": a role, a user or an account root; for an
 * assumed-role session the role's ARN; "IAM identifiers": the partitions and name characters).
 */
import { App, CliCredentialsStackSynthesizer, DefaultStackSynthesizer, Fn, Stack } from 'aws-cdk-lib';
import { checkPrincipalArns, deploymentPrincipalArns, isRoleArn } from '../../src/core/principal-arns';

let stack: Stack;
beforeEach(() => {
  stack = new Stack(new App(), 'Ledger', { env: { account: '444455556666', region: 'eu-central-1' } });
});

const check = (arns: string[] | undefined, rolesOnly?: boolean) => () => checkPrincipalArns(stack, 'principals', arns, { rolesOnly });

describe('accepted: what aws:PrincipalArn carries, with the wildcards ArnLike matches', () => {
  test.each([
    'arn:aws:iam::444455556666:role/BreakGlass',
    'arn:aws:iam::444455556666:role/path/to/Break+Glass=,.@-_',
    'arn:aws-cn:iam::444455556666:role/BreakGlass',
    'arn:aws-us-gov:iam::444455556666:role/BreakGlass',
    'arn:aws-iso-b:iam::444455556666:role/BreakGlass',
    'arn:aws-eusc:iam::444455556666:role/BreakGlass',
    'arn:*:iam::444455556666:role/BreakGlass',
    'arn:aws:iam::*:role/cdk-*-cfn-exec-role-*',
    'arn:aws:iam::4444555566?6:role/Break?lass',
    'arn:aws:iam::????????????*:role/BreakGlass',
    'arn:aws:iam::4444*6666:role/BreakGlass',
  ])('role %s (also as a role only)', (arn) => {
    expect(check([arn])).not.toThrow();
    expect(check([arn], true)).not.toThrow();
    expect(isRoleArn(arn)).toBe(true);
  });

  test.each([
    'arn:aws:iam::444455556666:user/alice',
    'arn:aws:iam::444455556666:root',
  ])('user or root %s, but not where only roles are allowed', (arn) => {
    expect(check([arn])).not.toThrow();
    expect(check([arn], true)).toThrow(`Ledger: principals[0] must be an IAM role ARN such as arn:aws:iam::123456789012:role/Deployer (wildcards allowed), got '${arn}'`);
    expect(isRoleArn(arn)).toBe(false);
  });
});

describe('rejected, naming the entry', () => {
  test.each([
    ['no ARN', 'BreakGlass'],
    ['a service other than iam', 'arn:aws:s3:::444455556666:role/BreakGlass'],
    ['a region in an IAM ARN', 'arn:aws:iam:eu-central-1:444455556666:role/BreakGlass'],
    ['a group', 'arn:aws:iam::444455556666:group/Admins'],
    ['an unknown partition', 'arn:aws-moon:iam::444455556666:role/BreakGlass'],
    ['a role without a name', 'arn:aws:iam::444455556666:role/'],
    ['a root with a suffix', 'arn:aws:iam::444455556666:root/x'],
    ['a prefix before arn:', ' arn:aws:iam::444455556666:role/BreakGlass'],
    ['a suffix after the name', 'arn:aws:iam::444455556666:role/Break Glass'],
  ])('%s', (_name, arn) => {
    expect(check(['arn:aws:iam::444455556666:role/Ok', arn])).toThrow(
      `Ledger: principals[1] must be an IAM role, user or root ARN such as arn:aws:iam::123456789012:role/BreakGlass (wildcards allowed), got '${arn}'`);
    expect(check([arn], true)).toThrow(`Ledger: principals[0] must be an IAM role ARN such as arn:aws:iam::123456789012:role/Deployer (wildcards allowed), got '${arn}'`);
    expect(isRoleArn(arn)).toBe(false);
  });

  test('a session names the role to use, in its own partition', () => {
    const session = 'arn:aws-cn:sts::444455556666:assumed-role/ledger-break-glass/alice';
    expect(check([session])).toThrow(`Ledger: principals[0] must be a role ARN, not an assumed-role session: aws:PrincipalArn carries the role ARN, so a session ARN never matches; use the role ARN (arn:aws-cn:iam::444455556666:role/ledger-break-glass), got '${session}'`);
    expect(isRoleArn(session)).toBe(false);
  });

  test('a session whose account is not a 12-digit number names no role', () => {
    const session = 'arn:aws:sts::*:assumed-role/ledger-break-glass/alice';
    expect(check([session])).toThrow(`Ledger: principals[0] must be a role ARN, not an assumed-role session: aws:PrincipalArn carries the role ARN, so a session ARN never matches; use the role ARN, got '${session}'`);
  });

  test.each([
    ['11 digits', '44445555666'],
    ['13 digits', '4444555566667'],
    ['13 characters with ?', '4444555566??6'],
    ['13 characters besides a *', '4444555566667*'],
  ])('an account of %s (matches no 12-digit account)', (_name, account) => {
    const arn = `arn:aws:iam::${account}:role/BreakGlass`;
    const requirement = `principals[0] must name a 12-digit account id (\`?\` stands for one digit, \`*\` for any run), got '${arn}'; '${account}' matches no account, so the entry exempts nobody`;
    expect(check([arn])).toThrow(`Ledger: ${requirement}`);
    expect(check([arn], true)).toThrow(`Ledger: ${requirement}`);
    expect(isRoleArn(arn)).toBe(false);
  });

  test('more than 100 entries', () => {
    const many = Array.from({ length: 101 }, (_, i) => `arn:aws:iam::444455556666:role/R${i}`);
    expect(check(many)).toThrow('Ledger: principals must have at most 100 items');
    expect(check(many.slice(0, 100))).not.toThrow();
  });
});

describe('deploy-time values are not checked', () => {
  test('an absent list, a token list and a token entry', () => {
    expect(check(undefined)).not.toThrow();
    expect(() => checkPrincipalArns(stack, 'principals', Fn.split(',', Fn.importValue('Principals')))).not.toThrow();
    expect(check([Fn.importValue('BreakGlass'), 'arn:aws:iam::444455556666:role/Ok'])).not.toThrow();
    expect(check([Fn.importValue('BreakGlass'), 'not-an-arn'])).toThrow('Ledger: principals[1] must be an IAM role, user or root ARN');
    expect(isRoleArn(Fn.importValue('BreakGlass'))).toBe(false);
  });
});

describe('deployment principals', () => {
  test('given ones are checked as roles and copied', () => {
    const given = ['arn:aws:iam::444455556666:role/Deployer'];
    const out = deploymentPrincipalArns(stack, 'deploymentPrincipalArns', given);
    expect(out).toEqual(given);
    expect(out).not.toBe(given);
    expect(() => deploymentPrincipalArns(stack, 'deploymentPrincipalArns', ['arn:aws:iam::444455556666:root']))
      .toThrow("Ledger: deploymentPrincipalArns[0] must be an IAM role ARN such as arn:aws:iam::123456789012:role/Deployer (wildcards allowed), got 'arn:aws:iam::444455556666:root'");
  });

  test('the bootstrap execution role of the stack, in its own account and region, with every placeholder replaced', () => {
    const [arn] = deploymentPrincipalArns(stack, 'p', undefined);
    expect(stack.resolve(arn)).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::444455556666:role/cdk-hnb659fds-cfn-exec-role-444455556666-eu-central-1']] });
  });

  test('for an SCP: the bootstrap role of the qualifier in any account and region', () => {
    expect(stack.resolve(deploymentPrincipalArns(stack, 'p', undefined, true)))
      .toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/cdk-hnb659fds-cfn-exec-role-*-*']] }]);
    const custom = new Stack(new App(), 'Custom', { synthesizer: new DefaultStackSynthesizer({ qualifier: 'ledger01' }) });
    expect(JSON.stringify(custom.resolve(deploymentPrincipalArns(custom, 'p', undefined, true)))).toContain(':iam::*:role/cdk-ledger01-cfn-exec-role-*-*');
  });

  test('none under another synthesizer (no known deployment role)', () => {
    const cli = new Stack(new App(), 'Cli', { synthesizer: new CliCredentialsStackSynthesizer() });
    expect(deploymentPrincipalArns(cli, 'p', undefined)).toEqual([]);
    expect(deploymentPrincipalArns(cli, 'p', undefined, true)).toEqual([]);
  });
});
