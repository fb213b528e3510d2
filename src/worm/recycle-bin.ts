import { Duration, Resource, Stack } from 'aws-cdk-lib';
import * as rbin from 'aws-cdk-lib/aws-rbin';
import { Construct, IConstruct } from 'constructs';
import { warnOverlappingLockedRule } from './account-settings';
import { planDays, planRetention, registerPlan } from '../core/plan-report';
import { Retention } from '../core/retention';
import { BackupTagging } from '../core/tagging';
import {
  check, checkDuration, checkLength, checkTags, collectProblems, FactoryProblem, isUnresolved, recordFactoryProblems, reportFactoryProblems,
  retentionAge, wholeDays,
} from '../core/validation';

/**
 * What a Recycle Bin rule retains after deletion.
 */
export enum RecycleBinResourceType {
  /** EBS snapshots (retention 1-365 days). */
  EBS_SNAPSHOT = 'EBS_SNAPSHOT',
  /** EBS-backed AMIs (retention 1-365 days). Their snapshots need their own rule. */
  EC2_IMAGE = 'EC2_IMAGE',
}

/**
 * Which deleted resources a Recycle Bin rule retains.
 *
 * A scope with too many or too few tags is reported by the rule that uses it, with its path and
 * prop, together with the rule's other problems.
 *
 * @example
 * RecycleBinScope.region();
 * RecycleBinScope.region({ 'scratch': 'true' });
 * RecycleBinScope.purposes('database-dr');
 */
export class RecycleBinScope {
  /**
   * Every deleted resource of the type in the region, except those carrying one of
   * `excludeTags` (at most 5). Only a region-level rule without exclusion tags can be locked.
   */
  public static region(excludeTags?: { [key: string]: string }): RecycleBinScope {
    const count = Object.keys(excludeTags ?? {}).length;
    return recordFactoryProblems(new RecycleBinScope('region', { ...excludeTags }, []), count > 5 ? [
      new FactoryProblem('RecycleBinScope.region', 'excludeTags must have at most 5 tags', count,
        'Recycle Bin takes at most 5 exclusion tags per rule: exclude by fewer tags'),
    ] : []);
  }

  /**
   * Only deleted resources carrying one of `tags` (1-50 key/value pairs). A tag-level rule
   * cannot be locked.
   */
  public static tagged(tags: { [key: string]: string }): RecycleBinScope {
    const count = Object.keys(tags ?? {}).length;
    return recordFactoryProblems(new RecycleBinScope('tag', { ...tags }, []), count < 1 || count > 50 ? [
      new FactoryProblem('RecycleBinScope.tagged', 'tags must have between 1 and 50 tags', count,
        'name 1 to 50 tag pairs, or use RecycleBinScope.region() for every deleted resource of the type'),
    ] : []);
  }

  /**
   * Only deleted resources whose library purpose tag has one of `purposes` (1-50). A tag-level
   * rule cannot be locked.
   */
  public static purposes(...purposes: string[]): RecycleBinScope {
    return recordFactoryProblems(new RecycleBinScope('tag', {}, purposes), purposes.length < 1 || purposes.length > 50 ? [
      new FactoryProblem('RecycleBinScope.purposes', 'purposes must have between 1 and 50 items', purposes.length,
        'name 1 to 50 purposes, or use RecycleBinScope.region() for every deleted resource of the type'),
    ] : []);
  }

  /** `region` or `tag`. */
  public readonly level: string;

  private constructor(level: 'region' | 'tag', private readonly tags: Record<string, string>, private readonly purposeValues: string[]) {
    this.level = level;
  }

  /** @internal */
  public _render(scope: IConstruct, property: string): RenderedScope {
    if (this.level === 'region') {
      checkTags(scope, `${property} excludeTags`, this.tags, 5);
      const exclude = toTagList(this.tags);
      return exclude.length > 0 ? { excludeResourceTags: exclude } : {};
    }
    const key = BackupTagging.keys(scope).purpose;
    this.purposeValues.forEach((p, i) => BackupTagging.validatePurpose(scope, `${property} purposes[${i}]`, p));
    checkTags(scope, `${property} tags`, this.tags, 50);
    const tags = [...toTagList(this.tags), ...this.purposeValues.map((v) => ({ resourceTagKey: key, resourceTagValue: v }))];
    return { resourceTags: tags };
  }

  /** @internal */
  public get _hasExclusions(): boolean {
    return Object.keys(this.tags).length > 0 && this.level === 'region';
  }
}

/** The tag properties of a rule. */
interface RenderedScope {
  readonly resourceTags?: rbin.CfnRule.ResourceTagProperty[];
  readonly excludeResourceTags?: rbin.CfnRule.ResourceTagProperty[];
}

function toTagList(tags: Record<string, string>): rbin.CfnRule.ResourceTagProperty[] {
  return Object.entries(tags).map(([resourceTagKey, resourceTagValue]) => ({ resourceTagKey, resourceTagValue }));
}

/**
 * Settings of a Recycle Bin rule, for any resource type.
 */
export interface RecycleBinRuleOptions {
  /**
   * How long a deleted snapshot or AMI stays recoverable: `Retention.age(...)` of 1-365 days
   * (Recycle Bin keeps deleted resources for a period, not by count), the window in which a
   * mistaken or malicious deletion can be undone.
   */
  readonly retain: Retention;

  /**
   * Lock the rule, so that it cannot be deleted or weakened; unlocking takes effect only after
   * this delay (7-30 days), which cannot be changed or bypassed. AWS locks only region-level rules
   * without exclusion tags. The deploying role needs `rbin:LockRule` besides `rbin:CreateRule`.
   *
   * @default - the rule is not locked
   */
  readonly lockUnlockDelay?: Duration;

  /**
   * Which deleted resources are retained.
   *
   * @default RecycleBinScope.region() - every deleted resource of the type in the region
   */
  readonly ruleScope?: RecycleBinScope;

  /**
   * The rule's description, for the console and auditors.
   *
   * @default - a description naming the construct
   */
  readonly description?: string;
}

/**
 * Properties of one Recycle Bin rule.
 */
export interface RecycleBinRuleProps extends RecycleBinRuleOptions {
  /** What the rule retains. */
  readonly resourceType: RecycleBinResourceType;
}

/**
 * A Recycle Bin retention rule for EBS snapshots or EBS-backed AMIs, optionally locked.
 *
 * Checks at synthesis what the CloudFormation schema does not: retention 1-365 days, unlock
 * delay 7-30 days, a lock only on a region-level rule without exclusion tags, at most 5
 * exclusion tags and 50 resource tags, and a tag pair in at most 5 rules.
 */
export class RecycleBinRule extends Resource {
  /** @attribute */
  public readonly ruleArn: string;
  /** @attribute */
  public readonly ruleId: string;
  /** True when the rule is locked. */
  public readonly locked: boolean;
  /** The underlying L1 resource. */
  public readonly resource: rbin.CfnRule;

  constructor(scope: Construct, id: string, props: RecycleBinRuleProps) {
    super(scope, id);
    const ruleScope = props.ruleScope ?? RecycleBinScope.region();
    const { retentionDays, tags } = collectProblems(this, () => {
      const retention = retentionAge(this, 'retain', props.retain, 'Recycle Bin keeps deleted resources for a period only (RetentionPeriod)');
      checkDuration(this, 'retain', retention, Duration.days(1), Duration.days(365));
      reportFactoryProblems(this, 'ruleScope', ruleScope);
      if (props.lockUnlockDelay !== undefined) {
        checkDuration(this, 'lockUnlockDelay', props.lockUnlockDelay, Duration.days(7), Duration.days(30));
        // Recycle Bin user guide, "Lock retention rules": only Region-level rules without exclusion tags.
        check(ruleScope.level === 'region', this, 'lockUnlockDelay',
          'cannot be set on a tag-level rule: AWS locks only region-level retention rules (use RecycleBinScope.region())');
        check(!ruleScope._hasExclusions, this, 'lockUnlockDelay',
          'cannot be set on a rule with exclusion tags: AWS locks only region-level retention rules without exclusion tags');
      }
      if (props.description !== undefined) {
        checkLength(this, 'description', props.description, 0, 500);
      }
      return { retentionDays: wholeDays(this, 'retain', retention), tags: ruleScope._render(this, 'ruleScope') };
    });

    this.resource = new rbin.CfnRule(this, 'Resource', {
      resourceType: props.resourceType,
      description: props.description ?? `Retains deleted ${props.resourceType === RecycleBinResourceType.EC2_IMAGE ? 'AMIs' : 'EBS snapshots'} (${this.node.path})`.slice(0, 500),
      retentionPeriod: { retentionPeriodValue: retentionDays, retentionPeriodUnit: 'DAYS' },
      status: 'available',
      ...tags,
      lockConfiguration: props.lockUnlockDelay === undefined ? undefined : {
        unlockDelayValue: wholeDays(this, 'lockUnlockDelay', props.lockUnlockDelay),
        unlockDelayUnit: 'DAYS',
      },
    });
    this.ruleArn = this.resource.attrArn;
    this.ruleId = this.resource.attrIdentifier;
    this.locked = props.lockUnlockDelay !== undefined;
    if (this.locked) {
      warnOverlappingLockedRule(this, props.resourceType);
    }
    this.node.addValidation({ validate: () => tagPairLimit(this) });
    const what = props.resourceType === RecycleBinResourceType.EC2_IMAGE ? 'AMIs' : 'EBS snapshots';
    registerPlan(this, 'RecycleBinRule', () => ({
      protects: [{
        mechanism: `Recycle Bin rule${this.locked ? ' (locked)' : ''}`,
        selects: `deleted ${what} (${ruleScope.level === 'region' ? 'every one in the region' : 'tagged'})`,
        schedule: 'on deletion',
        retention: planRetention(props.retain),
        locks: this.locked ? [`rule lock, unlock delay ${planDays(props.lockUnlockDelay)}`] : [],
      }],
      irreversible: this.locked ? [{
        what: `locked Recycle Bin rule for ${what} (retention ${planDays(props.retain.maxAge)})`,
        consequence: `cannot be deleted or changed while locked; an unlock takes effect only ${planDays(props.lockUnlockDelay)} after it is requested, ` +
          'and deleted snapshots stay billed for the retention',
      }] : [],
    }));
  }
}

/**
 * Recycle Bin: "You can add the same tag key and value pair to a maximum of five retention rules."
 * Counted over the rules of the stack (one region).
 */
function tagPairLimit(rule: RecycleBinRule): string[] {
  const stack = Stack.of(rule);
  const counts = new Map<string, number>();
  for (const c of stack.node.findAll()) {
    if (!rbin.CfnRule.isCfnRule(c)) { // not instanceof: an app may load two copies of aws-cdk-lib
      continue;
    }
    const pairs = [...asList(c.resourceTags), ...asList(c.excludeResourceTags)];
    for (const p of pairs) {
      if (isUnresolved(p.resourceTagKey) || isUnresolved(p.resourceTagValue)) {
        continue;
      }
      const k = `${c.resourceType}|${p.resourceTagKey}=${p.resourceTagValue}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  const mine = [...asList(rule.resource.resourceTags), ...asList(rule.resource.excludeResourceTags)];
  const errors: string[] = [];
  for (const p of mine) {
    const n = counts.get(`${rule.resource.resourceType}|${p.resourceTagKey}=${p.resourceTagValue}`) ?? 0;
    if (n > 5) {
      errors.push(`${rule.node.path}: scope tag '${p.resourceTagKey}=${p.resourceTagValue}' must appear in at most 5 Recycle Bin rules for ${rule.resource.resourceType}, got ${n}`);
    }
  }
  return errors;
}

function asList(value: unknown): rbin.CfnRule.ResourceTagProperty[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter((v) => v !== null && typeof v === 'object' && 'resourceTagKey' in v) as rbin.CfnRule.ResourceTagProperty[];
}
