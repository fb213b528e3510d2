import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import { Construct } from 'constructs';
import { ExecutionGrants } from './grants';
import { DlmPolicyBase, DlmPolicyOptions } from './policy-base';
import {
  ageDays, cfnTags, checkCopies, checkSchedules, checkTargetTags, renderCopyRetain, renderCreateRule, renderRetain, renderScheduleTags,
  createPolicyResource, policyDescription,
} from './render';
import { ImageSchedule } from './schedule';
import { dlmInterval } from './units';
import { planRetention, planSchedule, planTags, registerPlan } from '../core/plan-report';
import { BackupArtefactTagSet, BackupTagging } from '../core/tagging';
import { check, isUnresolved, reportFactoryProblems } from '../core/validation';

/** AMI deprecation may be at most 10 years away (DeprecateRule, CrossRegionCopyDeprecateRule). */
const MAX_DEPRECATE_DAYS = 3650;

/**
 * Properties of a custom EBS-backed AMI policy.
 */
export interface DlmImagePolicyProps extends DlmPolicyOptions {
  /** Why the AMIs exist: written to the purpose tag of every AMI. */
  readonly purpose: string;

  /** Instances with ANY of these tags are imaged (1-50 tags). */
  readonly targetTags: Record<string, string>;

  /** One to four schedules. */
  readonly schedules: ImageSchedule[];

  /**
   * Reboot each instance before imaging it, for file-system consistency at the cost of a short
   * outage (the guidance: quiesce first). Without reboot, AMIs are crash-consistent.
   *
   * @default false
   */
  readonly reboot?: boolean;
}

/**
 * A Data Lifecycle Manager policy that creates EBS-backed AMIs of tagged instances, with
 * retention, deprecation and cross-region copies: the way to rebuild whole instances, where
 * snapshots alone cannot launch anything.
 */
export class DlmImagePolicy extends DlmPolicyBase {
  /** The L1 resource, for escape hatches. */
  public readonly resource: dlm.CfnLifecyclePolicy;

  /**
   * In alarm when the policy created no images within 1.5 times its most frequent schedule's
   * longest interval (missing data breaching: a disabled policy publishes nothing).
   */
  public readonly heartbeatAlarm: cloudwatch.Alarm;

  /**
   * In alarm when the policy was changed, disabled or deleted (a CloudTrail management event
   * matched its change-detection rule; a deployment counts too).
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;

  private readonly tagSets: BackupArtefactTagSet[] = [];

  constructor(scope: Construct, id: string, props: DlmImagePolicyProps) {
    super(scope, id, props);
    BackupTagging.validatePurpose(this, 'purpose', props.purpose);
    checkTargetTags(this, 'targetTags', props.targetTags);
    checkSchedules(this, props.schedules);

    const grants = ExecutionGrants.of(this, this.executionRole);
    grants.images();

    const schedules = props.schedules.map((s, i) => this.renderSchedule(`schedules[${i}]`, s, props.purpose, grants));
    this.resource = createPolicyResource(this, {
      description: policyDescription(this, props.description, 'EBS-backed AMIs', props.purpose),
      policyDetails: {
        policyType: 'IMAGE_MANAGEMENT',
        policyLanguage: 'STANDARD',
        resourceTypes: ['INSTANCE'],
        resourceLocations: ['CLOUD'],
        targetTags: cfnTags(props.targetTags),
        parameters: { noReboot: !(props.reboot ?? false) },
        schedules,
      },
    }, this.executionRole, props.enabled);
    this.heartbeatAlarm = this.createHeartbeatAlarm('images', props.schedules.map((s) => s.schedule.expressionString), props.alarmActions);
    this.changeAlarm = this.detectChanges(props.alarmActions);
    BackupTagging.addArtefactSource(this, { artefactTagSets: () => this.tagSets });
    registerPlan(this, 'DlmImagePolicy', () => ({
      protects: props.schedules.map((s) => ({
        mechanism: `DLM AMI schedule '${s.name}'`,
        selects: `instances tagged ${planTags(props.targetTags)}`,
        schedule: planSchedule(s.schedule),
        retention: planRetention(s.retain),
        copies: (s.crossRegionCopies ?? []).map((c) => `${c.region} (${planRetention(c.retain)})`),
      })),
    }));
  }

  private renderSchedule(prop: string, s: ImageSchedule, purpose: string, grants: ExecutionGrants): dlm.CfnLifecyclePolicy.ScheduleProperty {
    const { createRule } = renderCreateRule(this, prop, s);
    const library = BackupTagging.tagsFor(this, { purpose, retention: s.retain });
    const { tags, tagsToAdd, variableTags } = renderScheduleTags(this, prop, s, library, true);
    this.tagSets.push({ artefact: `AMIs of schedule '${s.name}'`, tags });

    checkCopies(this, prop, s.crossRegionCopies);
    const crossRegionCopyRules = s.crossRegionCopies?.map((c, j) => {
      grants.imageCopies(isUnresolved(c.region) ? '*' : c.region);
      if (c.encryptionKey) {
        grants.key(c.encryptionKey);
      }
      this.tagSets.push({ artefact: `AMI copies of schedule '${s.name}' in ${c.region}`, tags });
      let deprecateRule: dlm.CfnLifecyclePolicy.CrossRegionCopyDeprecateRuleProperty | undefined;
      if (c.deprecateAfter !== undefined) {
        const p = `${prop}.crossRegionCopies[${j}].deprecateAfter`;
        deprecateRule = dlmInterval(this, p, c.deprecateAfter, 1, MAX_DEPRECATE_DAYS);
        const keep = ageDays(c.retain);
        check(keep === undefined || isUnresolved(c.deprecateAfter) || deprecateRule.interval <= keep, this, p,
          `must be at most the copy's retention of ${keep} days`, c.deprecateAfter);
      }
      return {
        // The trap: AMI policies name the region with TargetRegion; Target is for snapshot policies.
        targetRegion: c.region,
        encrypted: c.encrypted ?? true,
        cmkArn: c.encryptionKey?.keyArn,
        copyTags: true,
        retainRule: renderCopyRetain(c.retain),
        deprecateRule,
      };
    });

    return {
      name: s.name,
      createRule,
      retainRule: renderRetain(s.retain),
      copyTags: s.copyTags ?? false,
      tagsToAdd,
      variableTags,
      crossRegionCopyRules,
      deprecateRule: s.deprecate === undefined ? undefined : this.renderDeprecate(`${prop}.deprecate`, s),
    };
  }

  /** Deprecation follows the kind of the retention: a count of the oldest, or an age. */
  private renderDeprecate(prop: string, s: ImageSchedule): dlm.CfnLifecyclePolicy.DeprecateRuleProperty {
    const deprecate = s.deprecate!;
    reportFactoryProblems(this, prop, deprecate);
    const retainCount = s.retain.maxCount;
    if (retainCount !== undefined) {
      check(deprecate.maxCount !== undefined, this, prop,
        'must be Retention.count(...) for a count-based schedule (DLM deprecates the n oldest AMIs)', deprecate.toTagValue());
      check(isUnresolved(retainCount) || isUnresolved(deprecate.maxCount) || deprecate.maxCount! <= retainCount, this, prop,
        `must deprecate at most the ${retainCount} AMIs the schedule retains`, deprecate.maxCount);
      return { count: deprecate.maxCount };
    }
    check(deprecate.maxAge !== undefined, this, prop,
      'must be Retention.age(...) for an age-based schedule (DLM deprecates each AMI after a period)', deprecate.toTagValue());
    const interval = dlmInterval(this, prop, deprecate.maxAge!, 1, MAX_DEPRECATE_DAYS);
    const keep = ageDays(s.retain);
    check(keep === undefined || isUnresolved(deprecate.maxAge) || interval.interval <= keep, this, prop,
      `must be at most the schedule's retention of ${keep} days`, deprecate.maxAge);
    return interval;
  }
}
