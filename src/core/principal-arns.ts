import { Aws, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { check, checkCount, fail, isUnresolved } from './validation';

/**
 * An IAM principal as `aws:PrincipalArn` carries it: a role, a user or an account root, with
 * `*` and `?` allowed in the account and the name (as `ArnLike` matches them).
 */
// the partitions aws-cdk-lib's region-info knows: aws, aws-cn, aws-us-gov, aws-iso(-b|-e|-f) and aws-eusc
// (the European Sovereign Cloud), or `*`; the name characters IAM allows, with ArnLike's wildcards
const PARTITION = '(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*|aws-eusc|\\*)';
const NAME = '[\\w+=,.@\\-/*?]+';
const PRINCIPAL = new RegExp(`^arn:${PARTITION}:iam::([*?\\d]+):(root|role/${NAME}|user/${NAME})$`);
const ROLE = new RegExp(`^arn:${PARTITION}:iam::([*?\\d]+):role/${NAME}$`);
const SESSION = /^arn:[^:]+:sts::[^:]*:assumed-role\//;

/**
 * True when the account part can match a 12-digit account id as `ArnLike` matches it (`?` one
 * character, `*` any run): without `*` exactly 12 characters, with `*` at most 12 besides the `*`s.
 * An 11- or 13-digit account matches no principal, so an exemption naming it exempts nobody.
 */
function matchesAnAccount(account: string): boolean {
  const fixed = account.replace(/\*/g, '').length;
  return account.includes('*') ? fixed <= 12 : fixed === 12;
}

/** What a list of principal ARNs may hold. */
export interface PrincipalArnRules {
  /** Only IAM roles (deployment principals are always roles). */
  readonly rolesOnly?: boolean;
}

/**
 * The one check of principal ARNs that a deny exempts with `ArnNotLike aws:PrincipalArn`.
 *
 * `aws:PrincipalArn` of a request made with an assumed-role session carries the ROLE's ARN
 * (IAM User Guide, "AWS global condition context keys", aws:PrincipalArn), so an
 * `arn:aws:sts::…:assumed-role/…` entry never matches anything: a break-glass list made of it
 * exempts nobody, and on a compliance-locked vault nobody can ever break glass.
 */
export function checkPrincipalArns(scope: IConstruct, property: string, arns: readonly string[] | undefined, rules: PrincipalArnRules = {}): void {
  if (arns === undefined || isUnresolved(arns)) {
    return;
  }
  checkCount(scope, property, arns, 0, 100);
  arns.forEach((arn, i) => {
    if (isUnresolved(arn)) {
      return;
    }
    const at = `${property}[${i}]`;
    if (SESSION.test(arn)) {
      const role = roleOfSession(arn);
      fail(scope, at, 'must be a role ARN, not an assumed-role session: aws:PrincipalArn carries the role ARN, so a session ARN never ' +
        `matches; use the role ARN${role ? ` (${role})` : ''}`, arn);
    }
    const shape = rules.rolesOnly ? ROLE : PRINCIPAL;
    const m = shape.exec(arn);
    if (m === null) {
      check(false, scope, at, rules.rolesOnly
        ? 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/Deployer (wildcards allowed)'
        : 'must be an IAM role, user or root ARN such as arn:aws:iam::123456789012:role/BreakGlass (wildcards allowed)', arn);
      return;
    }
    check(matchesAnAccount(m[2]), scope, at, 'must name a 12-digit account id (`?` stands for one digit, `*` for any run)', arn,
      `'${m[2]}' matches no account, so the entry exempts nobody`);
  });
}

/** `arn:aws:sts::111:assumed-role/Name/session` → `arn:aws:iam::111:role/Name` (the path is unknown). */
function roleOfSession(arn: string): string | undefined {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

/** True for a (possibly wildcarded) IAM role ARN; false for tokens, users, roots and sessions. */
export function isRoleArn(arn: string): boolean {
  if (isUnresolved(arn)) {
    return false;
  }
  const m = ROLE.exec(arn);
  return m !== null && matchesAnAccount(m[2]);
}

/**
 * The principals that deploy the stack holding `scope`: by default the CDK bootstrap
 * CloudFormation execution role of the stack's account and region
 * (`cdk-<qualifier>-cfn-exec-role-<account>-<region>`) when the stack uses the
 * `DefaultStackSynthesizer`, none under other synthesizers; with `anyAccount` (an SCP) the same role
 * in any account and region. `given` overrides it (and may be empty).
 */
export function deploymentPrincipalArns(scope: IConstruct, property: string, given: readonly string[] | undefined, anyAccount = false): string[] {
  if (given !== undefined) {
    checkPrincipalArns(scope, property, given, { rolesOnly: true });
    return [...given];
  }
  const stack = Stack.of(scope);
  const synthesizer = stack.synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) {
    return [];
  }
  if (anyAccount) {
    // an SCP applies in every member account: the same bootstrap role, in any account and region
    return [`arn:${Aws.PARTITION}:iam::*:role/cdk-${synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER}-cfn-exec-role-*-*`];
  }
  // The synthesizer names the role with CLI placeholders; the template needs the stack's own values.
  return [synthesizer.cloudFormationExecutionRoleArn
    .replace(/\$\{AWS::Partition\}/g, Aws.PARTITION)
    .replace(/\$\{AWS::AccountId\}/g, stack.account)
    .replace(/\$\{AWS::Region\}/g, stack.region)];
}
