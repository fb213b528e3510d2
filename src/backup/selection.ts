import { Aws, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { check, checkLength, fail, isUnresolved } from '../core/validation';

/** The condition operators AWS Backup selections accept in `Conditions` (ANDed). */
export enum BackupConditionOperator {
  /** The tag has exactly this value. */
  STRING_EQUALS = 'StringEquals',
  /** The tag does not have this value (or is absent): the way to exclude resources. */
  STRING_NOT_EQUALS = 'StringNotEquals',
  /** The tag value matches a pattern with `*` wildcards. */
  STRING_LIKE = 'StringLike',
  /** The tag value does not match a pattern with `*` wildcards. */
  STRING_NOT_LIKE = 'StringNotLike',
}

/**
 * One tag condition of a backup selection. Unlike `BackupResource.fromTag()` (ListOfTags, ORed),
 * every condition must hold (AND), and the negated operators exclude resources.
 *
 * @example
 * BackupCondition.tagEquals('Backup', 'daily');
 * BackupCondition.tagNotEquals('Environment', 'dev');
 */
export class BackupCondition {
  /** Resources whose tag `key` equals `value`. */
  public static tagEquals(key: string, value: string): BackupCondition {
    return new BackupCondition(BackupConditionOperator.STRING_EQUALS, key, value);
  }

  /** Resources whose tag `key` does not equal `value`. */
  public static tagNotEquals(key: string, value: string): BackupCondition {
    return new BackupCondition(BackupConditionOperator.STRING_NOT_EQUALS, key, value);
  }

  /** Resources whose tag `key` matches `pattern` (`*` matches any characters). */
  public static tagLike(key: string, pattern: string): BackupCondition {
    return new BackupCondition(BackupConditionOperator.STRING_LIKE, key, pattern);
  }

  /** Resources whose tag `key` does not match `pattern`. */
  public static tagNotLike(key: string, pattern: string): BackupCondition {
    return new BackupCondition(BackupConditionOperator.STRING_NOT_LIKE, key, pattern);
  }

  private constructor(
    /** The operator. */
    public readonly conditionOperator: BackupConditionOperator,
    /** The tag key (without `aws:ResourceTag/`). */
    public readonly tagKey: string,
    /** The value or pattern. */
    public readonly value: string,
  ) {
    const scope = { node: { path: `BackupCondition.${conditionOperator}` } } as unknown as IConstruct;
    checkLength(scope, 'tag key', tagKey, 1, 128);
    checkLength(scope, `value of tag '${tagKey}'`, value, 0, 256);
  }

  /** The condition key AWS Backup expects. */
  public get conditionKey(): string {
    return `aws:ResourceTag/${this.tagKey}`;
  }
}

/** The resource types this library protects with AWS Backup. */
export enum ProtectedResourceType {
  /** EBS volumes. */
  EBS = 'EBS',
  /** EC2 instances (an AMI with all attached volumes). */
  EC2 = 'EC2',
}

/** The wildcard ARN that restricts a tag or condition selection to one resource type. */
export function wildcardArnFor(type: ProtectedResourceType): string {
  return type === ProtectedResourceType.EBS
    ? `arn:${Aws.PARTITION}:ec2:*:*:volume/*`
    : `arn:${Aws.PARTITION}:ec2:*:*:instance/*`;
}

type RenderedConditions = Record<string, Array<{ ConditionKey: string; ConditionValue: string }>>;

/** Render conditions in the shape of `BackupSelection.Conditions`. */
export function renderConditions(conditions: readonly BackupCondition[]): RenderedConditions | undefined {
  if (conditions.length === 0) {
    return undefined;
  }
  const out: RenderedConditions = {};
  for (const c of conditions) {
    (out[c.conditionOperator] ??= []).push({ ConditionKey: c.conditionKey, ConditionValue: c.value });
  }
  return out;
}

/**
 * The selection limits of AWS Backup: at most 500 ARNs without wildcards or 30 with; a wildcard
 * in the resource id only as a trailing `*`.
 */
export function checkSelectionArns(scope: IConstruct, property: string, arns: readonly string[]): void {
  const literal = arns.filter((a) => !isUnresolved(a));
  const wildcards = literal.filter((a) => a.includes('*'));
  if (wildcards.length > 0) {
    check(arns.length <= 30, scope, property, 'must have at most 30 ARNs when any has a wildcard', arns.length);
  } else {
    check(arns.length <= 500, scope, property, 'must have at most 500 ARNs', arns.length);
  }
  for (const arn of literal) {
    const parts = arn.split(':');
    if (parts.length < 6 || parts[0] !== 'arn') {
      fail(scope, property, 'must contain ARNs such as arn:aws:ec2:us-east-1:123456789012:volume/vol-0123', arn);
    }
    const resource = parts.slice(5).join(':');
    const star = resource.indexOf('*');
    check(star === -1 || star === resource.length - 1, scope, property,
      "must use a wildcard only as a trailing '*' in the resource id", arn);
  }
}

/** True for an ARN of an EBS volume or EC2 instance (or a token, which cannot be known). */
export function isEc2Arn(arn: string): boolean {
  return Token.isUnresolved(arn) || /^arn:[^:]+:ec2:[^:]*:[^:]*:(volume|instance)\//.test(arn);
}
