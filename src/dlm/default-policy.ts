import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ExecutionGrants } from './grants';
import { DlmPolicyBase, DlmPolicyOptions } from './policy-base';
import { cfnTags, createPolicyResource, policyDescription } from './render';
import { dlmInterval } from './units';
import { planDays, planRetention, registerPlan } from '../core/plan-report';
import { Retention } from '../core/retention';
import { BackupTagging } from '../core/tagging';
import { check, checkCount, checkOneOf, checkRegion, checkTags, fail, isUnresolved, retentionAge } from '../core/validation';

/**
 * Exclusions of a default policy for EBS snapshots.
 */
export interface DefaultVolumePolicyOptions {
  /**
   * Leave out boot volumes: only data volumes are snapshotted.
   *
   * @default false
   */
  readonly excludeBootVolumes?: boolean;

  /**
   * Leave out volumes of these types (at most 6), such as throughput-optimized scratch volumes.
   *
   * @default - every volume type
   */
  readonly excludeVolumeTypes?: ec2.EbsDeviceVolumeType[];
}

/**
 * Exclusions of a default policy for EBS-backed AMIs.
 */
export interface DefaultInstancePolicyOptions {
  /**
   * Leave out instances that carry any of these tags (at most 50). In a default policy these
   * tags exclude whole instances; in a custom snapshot policy, `excludeDataVolumeTags` excludes
   * single data volumes of an instance that is still targeted.
   *
   * @default - no instance is excluded
   */
  readonly excludeTags?: Record<string, string>;
}

/**
 * What a default policy covers: every volume, or every instance, of the account and region that
 * has no recent backup by another policy.
 */
export class DefaultPolicyTarget {
  /** Snapshots of every volume in the region not backed up recently by another policy. */
  public static volumes(options: DefaultVolumePolicyOptions = {}): DefaultPolicyTarget {
    // Untyped callers may still pass excludeTags: kept, so the policy can reject it by name.
    const o = options as DefaultVolumePolicyOptions & DefaultInstancePolicyOptions;
    return new DefaultPolicyTarget('VOLUME', o.excludeBootVolumes, o.excludeVolumeTypes, o.excludeTags);
  }

  /** AMIs of every instance in the region not backed up recently by another policy. */
  public static instances(options: DefaultInstancePolicyOptions = {}): DefaultPolicyTarget {
    const o = options as DefaultVolumePolicyOptions & DefaultInstancePolicyOptions;
    return new DefaultPolicyTarget('INSTANCE', o.excludeBootVolumes, o.excludeVolumeTypes, o.excludeTags);
  }

  /** DLM's default policy type: `VOLUME` or `INSTANCE`. */
  public readonly resourceType: string;

  /**
   * Whether boot volumes are left out (volume policies).
   *
   * @default - not set
   */
  public readonly excludeBootVolumes?: boolean;

  /**
   * Volume types left out (volume policies).
   *
   * @default - not set
   */
  public readonly excludeVolumeTypes?: ec2.EbsDeviceVolumeType[];

  /**
   * Tags of instances left out (instance policies).
   *
   * @default - not set
   */
  public readonly excludeTags?: Record<string, string>;

  private constructor(
    resourceType: string, excludeBootVolumes?: boolean, excludeVolumeTypes?: ec2.EbsDeviceVolumeType[], excludeTags?: Record<string, string>,
  ) {
    this.resourceType = resourceType;
    this.excludeBootVolumes = excludeBootVolumes;
    this.excludeVolumeTypes = excludeVolumeTypes;
    this.excludeTags = excludeTags;
  }
}

/**
 * Properties of a DLM default policy.
 */
export interface DlmDefaultPolicyProps extends DlmPolicyOptions {
  /** Why the policy exists, for its description (default policies cannot tag their snapshots). */
  readonly purpose: string;

  /** Volumes or instances. */
  readonly target: DefaultPolicyTarget;

  /**
   * How often the policy backs up resources without a recent backup (1-7 days).
   *
   * @default Duration.days(1)
   */
  readonly createEvery?: Duration;

  /**
   * How long each backup is kept: `Retention.age(...)` of 2-14 days (default policies keep
   * backups by age only), longer than `createEvery` so that at least one is always there.
   *
   * @default Retention.age(Duration.days(7))
   */
  readonly retain?: Retention;

  /**
   * Copy the source's tags to the backups: the only tags a default policy can give them.
   *
   * @default true
   */
  readonly copyTags?: boolean;

  /**
   * Keep deleting old backups when the source is gone or the policy is disabled, including the
   * last one. Off by default, which keeps the last backup of a deleted volume forever.
   *
   * @default false
   */
  readonly extendDeletion?: boolean;

  /**
   * Regions to copy every backup to (at most 3).
   *
   * @default - no copies
   */
  readonly copyRegions?: string[];
}

const TAKEN = Symbol.for('cdk-ebs-backup.dlmDefaultPolicies');

/**
 * A Data Lifecycle Manager default policy: the account and region safety net that backs up
 * every volume (or instance) that no other policy has backed up recently.
 *
 * DLM allows one default policy per resource type in a region. Default policies cannot add
 * tags, so their snapshots carry only the source's own tags (`copyTags`), not the library's
 * purpose and retention tags: treat them as a safety net, not as the backup of record.
 */
export class DlmDefaultPolicy extends DlmPolicyBase {
  /** The L1 resource, for escape hatches. */
  public readonly resource: dlm.CfnLifecyclePolicy;

  /**
   * In alarm when the policy was changed, disabled or deleted (a CloudTrail management event
   * matched its change-detection rule; a deployment counts too).
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;

  constructor(scope: Construct, id: string, props: DlmDefaultPolicyProps) {
    super(scope, id, props);
    BackupTagging.validatePurpose(this, 'purpose', props.purpose);
    check(props.target instanceof DefaultPolicyTarget, this, 'target',
      'must be DefaultPolicyTarget.volumes(...) or DefaultPolicyTarget.instances(...)', props.target);
    const type = props.target.resourceType;
    const volumes = type === 'VOLUME';
    this.claim(type);

    const create = dlmInterval(this, 'createEvery', props.createEvery ?? Duration.days(1), 1, 7).interval;
    const retainFor = props.retain === undefined ? Duration.days(7)
      : retentionAge(this, 'retain', props.retain, 'a DLM default policy keeps backups by age only (RetainInterval)');
    const retain = dlmInterval(this, 'retain', retainFor, 2, 14).interval;
    check(Token.isUnresolved(create) || Token.isUnresolved(retain) || retain > create, this, 'retain',
      `must be longer than createEvery (${create} days), so that a backup always exists`, retainFor);

    const o = props.target;
    let exclusions: dlm.CfnLifecyclePolicy.ExclusionsProperty | undefined;
    if (volumes) {
      if (o.excludeTags !== undefined) {
        fail(this, 'target.excludeTags', 'must be omitted for a volume default policy: DLM applies exclusion tags to instance default ' +
          'policies only (in a custom instance policy, excludeDataVolumeTags excludes single data volumes)', o.excludeTags);
      }
      checkCount(this, 'target.excludeVolumeTypes', o.excludeVolumeTypes, 0, 6);
      o.excludeVolumeTypes?.forEach((t, i) => checkOneOf(this, `target.excludeVolumeTypes[${i}]`, t, Object.values(ec2.EbsDeviceVolumeType)));
      // the excluded volume types are added as an override below
      exclusions = o.excludeBootVolumes === undefined ? undefined : { excludeBootVolumes: o.excludeBootVolumes };
    } else {
      if (o.excludeBootVolumes !== undefined || o.excludeVolumeTypes !== undefined) {
        fail(this, o.excludeBootVolumes !== undefined ? 'target.excludeBootVolumes' : 'target.excludeVolumeTypes',
          'must be omitted for an instance default policy (DLM applies them to volume default policies only)',
          o.excludeBootVolumes ?? o.excludeVolumeTypes);
      }
      checkTags(this, 'target.excludeTags', o.excludeTags, 50);
      exclusions = o.excludeTags === undefined ? undefined : { excludeTags: cfnTags(o.excludeTags) };
    }

    checkCount(this, 'copyRegions', props.copyRegions, 0, 3);
    const own = Stack.of(this).region;
    props.copyRegions?.forEach((r, i) => {
      checkRegion(this, `copyRegions[${i}]`, r);
      check(isUnresolved(r) || Token.isUnresolved(own) || r !== own, this, `copyRegions[${i}]`, `must differ from the policy's own region ${own}`, r);
    });

    const grants = ExecutionGrants.of(this, this.executionRole);
    if (volumes) {
      grants.snapshots();
      props.copyRegions?.forEach((r) => grants.snapshotCopies(isUnresolved(r) ? '*' : r));
    } else {
      grants.images();
      props.copyRegions?.forEach((r) => grants.imageCopies(isUnresolved(r) ? '*' : r));
    }

    this.resource = createPolicyResource(this, {
      description: policyDescription(this, props.description, `default ${volumes ? 'snapshot' : 'AMI'} policy`, props.purpose),
      defaultPolicy: type,
      // The default-policy settings go inside PolicyDetails only: DLM rejects them in both places.
      policyDetails: {
        policyType: volumes ? 'EBS_SNAPSHOT_MANAGEMENT' : 'IMAGE_MANAGEMENT',
        policyLanguage: 'SIMPLIFIED',
        resourceType: type,
        createInterval: create,
        retainInterval: retain,
        copyTags: props.copyTags ?? true,
        extendDeletion: props.extendDeletion ?? false,
        exclusions,
        crossRegionCopyTargets: props.copyRegions?.map((targetRegion) => ({ targetRegion })),
      },
    }, this.executionRole, props.enabled);
    this.changeAlarm = this.detectChanges(props.alarmActions);
    if (volumes && o.excludeVolumeTypes !== undefined) {
      // Which form CloudFormation accepts at deploy time, with the evidence:
      // - DLM API reference, `Exclusions.ExcludeVolumeTypes`: "Array of strings", 0-6 items, each
      //   0-50 characters (the volume types: standard, gp2, gp3, io1, io2, st1, sc1);
      // - the CloudFormation registry schema of AWS::DLM::LifecyclePolicy as packaged in
      //   @aws-cdk/aws-service-spec 0.1.216 (the current one): `Exclusions.ExcludeVolumeTypes`
      //   is an array whose items are `string` (test/dlm/default-policy.test.ts reads it);
      // - CloudFormation resolves Fn::Split before the resource handler validates the property,
      //   so the handler receives exactly that list of strings.
      // The L1 (`Array<any>`) and aws-cdk-lib 2.262's bundled validator still type the items as
      // objects (a literal list fails it with F3012, and a linter on a stale schema warns W1033
      // on the Fn::Split): both are stale schema copies, not what CloudFormation checks. Fn::Split
      // deploys the same list of strings without an app-wide suppression.
      this.resource.addPropertyOverride('PolicyDetails.Exclusions.ExcludeVolumeTypes', { 'Fn::Split': [',', o.excludeVolumeTypes.join(',')] });
    }
    registerPlan(this, 'DlmDefaultPolicy', () => ({
      protects: [{
        mechanism: 'DLM default policy (safety net)',
        selects: `every ${props.target.resourceType === 'INSTANCE' ? 'instance' : 'volume'} no other policy backed up recently`,
        schedule: `every ${planDays(props.createEvery ?? Duration.days(1))}`,
        retention: planRetention(props.retain ?? Duration.days(7)),
        copies: props.copyRegions ?? [],
      }],
    }));
  }

  /** One default policy per resource type and region (per stack, as far as synthesis can see). */
  private claim(type: string): void {
    const stack = Stack.of(this) as unknown as { [TAKEN]?: Map<string, string> };
    const taken = (stack[TAKEN] ??= new Map<string, string>());
    const other = taken.get(type);
    check(other === undefined, this, 'target', `must not repeat the ${type} default policy ${other} (DLM allows one per resource type and region)`, type);
    taken.set(type, this.node.path);
  }
}
