import { Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import { Construct } from 'constructs';
import { MS_PER_DAY, minimumIntervalMs } from './cron';
import { ExecutionGrants } from './grants';
import { DlmPolicyBase, DlmPolicyOptions } from './policy-base';
import {
  cfnTags, checkCopies, checkSchedules, checkTargetTags, human, renderCopyRetain, renderCreateRule, renderRetain, renderScheduleTags,
  createPolicyResource, policyDescription,
} from './render';
import { SnapshotSchedule } from './schedule';
import { ScriptFailureAction, ScriptStage, SnapshotScript } from './script';
import { SnapshotTarget } from './target';
import { dlmInterval } from './units';
import { PlanCost, PlanFacts, planDays, planRetention, planSchedule, planTags, registerPlan } from '../core/plan-report';
import { FAST_SNAPSHOT_RESTORE } from '../core/plan-report-pricing';
import { requirePrerequisite } from '../core/prerequisites';
import { BackupArtefactTagSet, BackupTagging } from '../core/tagging';
import {
  attempt, check, checkAccountId, checkCount, checkInteger, checkPattern, checkTags,
  collectProblems, isUnresolved, reportFactoryProblems, retentionAge, warn,
} from '../core/validation';

/**
 * Properties of a custom EBS snapshot policy.
 */
export interface DlmSnapshotPolicyProps extends DlmPolicyOptions {
  /**
   * Why the snapshots exist (`database-dr`): written to the purpose tag of every snapshot, so
   * cleanup scripts and auditors can tell what a snapshot is for.
   */
  readonly purpose: string;

  /** What is snapshotted: `SnapshotTarget.instances(...)` or `SnapshotTarget.volumes(...)`. */
  readonly target: SnapshotTarget;

  /** One to four schedules, each with its own frequency, retention and copies. */
  readonly schedules: SnapshotSchedule[];
}

/**
 * A Data Lifecycle Manager policy that snapshots EBS volumes, or all volumes of instances at
 * once, on up to four schedules, with retention, cross-region copies, sharing, fast restore,
 * the archive tier and application-consistent pre/post scripts.
 *
 * Every rule DLM enforces only at deploy or run time is checked at synthesis, and every
 * snapshot carries the library's purpose, retention and managed-by tags.
 */
export class DlmSnapshotPolicy extends DlmPolicyBase {
  /** The L1 resource, for escape hatches. */
  public readonly resource: dlm.CfnLifecyclePolicy;

  /**
   * In alarm when the policy created no snapshots within 1.5 times its most frequent schedule's
   * longest interval (missing data breaching: a disabled policy publishes nothing).
   */
  public readonly heartbeatAlarm: cloudwatch.Alarm;

  /**
   * In alarm when the policy was changed, disabled or deleted (a CloudTrail management event
   * matched its change-detection rule; a deployment counts too).
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;

  private readonly tagSets: BackupArtefactTagSet[] = [];

  constructor(scope: Construct, id: string, props: DlmSnapshotPolicyProps) {
    super(scope, id, props);
    const target = props.target;
    // every problem of the policy at once
    const schedules = collectProblems(this, () => {
      BackupTagging.validatePurpose(this, 'purpose', props.purpose);
      check(target instanceof SnapshotTarget, this, 'target',
        'must be SnapshotTarget.instances(...) or SnapshotTarget.volumes(...)', target);
      checkTargetTags(this, 'target.tags', target.tags);
      if (target.excludeDataVolumeTags !== undefined) {
        checkTags(this, 'target.excludeDataVolumeTags', target.excludeDataVolumeTags, 50);
      }
      checkSchedules(this, props.schedules);
      const grants = ExecutionGrants.of(this, this.executionRole);
      grants.snapshots();
      return props.schedules.map((s, i) => attempt(this, () => this.renderSchedule(`schedules[${i}]`, s, props, grants))!);
    });

    this.resource = createPolicyResource(this, {
      description: policyDescription(this, props.description, 'EBS snapshots', props.purpose),
      policyDetails: {
        // Explicit: the L1 has silently dropped the default before (aws/aws-cdk#27817).
        policyType: 'EBS_SNAPSHOT_MANAGEMENT',
        policyLanguage: 'STANDARD',
        resourceTypes: [target.resourceType],
        resourceLocations: ['CLOUD'],
        targetTags: cfnTags(target.tags),
        parameters: target.isInstances ? {
          excludeBootVolume: target.excludeBootVolume ?? false,
          excludeDataVolumeTags: target.excludeDataVolumeTags === undefined ? undefined : cfnTags(target.excludeDataVolumeTags),
        } : undefined,
        schedules,
      },
    }, this.executionRole, props.enabled);
    this.heartbeatAlarm = this.createHeartbeatAlarm('snapshots', props.schedules.map((s) => s.schedule.expressionString), props.alarmActions);
    this.changeAlarm = this.detectChanges(props.alarmActions);

    registerPlan(this, 'DlmSnapshotPolicy', () => snapshotPolicyPlan(target, props));
    BackupTagging.addArtefactSource(this, { artefactTagSets: () => this.tagSets });
  }

  private renderSchedule(
    prop: string, s: SnapshotSchedule, props: DlmSnapshotPolicyProps, grants: ExecutionGrants,
  ): dlm.CfnLifecyclePolicy.ScheduleProperty {
    const target = props.target;
    const { createRule: baseCreateRule, parsed } = renderCreateRule(this, prop, s);
    let createRule = baseCreateRule;
    const library = BackupTagging.tagsFor(this, { purpose: props.purpose, retention: s.retain });
    const { tags, tagsToAdd, variableTags } = renderScheduleTags(this, prop, s, library, target.isInstances);
    this.tagSets.push({ artefact: `snapshots of schedule '${s.name}'`, tags });

    if (s.script !== undefined) {
      check(target.isInstances, this, `${prop}.script`,
        'must be omitted for volume targets (DLM runs pre/post scripts on instances only: use SnapshotTarget.instances())', s.script.handler);
      createRule = { ...createRule, scripts: [this.renderScript(`${prop}.script`, s.script, target, grants)] };
    }

    // Copies: DLM copies all tags of the source snapshot, which carries the library's tags.
    checkCopies(this, prop, s.crossRegionCopies);
    const crossRegionCopyRules = s.crossRegionCopies?.map((c) => {
      grants.snapshotCopies(isUnresolved(c.region) ? '*' : c.region);
      if (c.encryptionKey) {
        grants.key(c.encryptionKey);
      }
      this.tagSets.push({ artefact: `copies of schedule '${s.name}' in ${c.region}`, tags });
      return {
        target: c.region, // snapshot policies name the region with Target (AMI policies: TargetRegion)
        encrypted: c.encrypted ?? true,
        cmkArn: c.encryptionKey?.keyArn,
        copyTags: true,
        retainRule: renderCopyRetain(c.retain),
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
      fastRestoreRule: s.fastRestore === undefined ? undefined : this.renderFastRestore(`${prop}.fastRestore`, s, grants),
      archiveRule: s.archive === undefined ? undefined : this.renderArchive(prop, s, target, parsed, grants),
      shareRules: s.share === undefined ? undefined : [this.renderShare(`${prop}.share`, s, grants)],
    };
  }

  private renderFastRestore(prop: string, s: SnapshotSchedule, grants: ExecutionGrants): dlm.CfnLifecyclePolicy.FastRestoreRuleProperty {
    const fsr = s.fastRestore!;
    reportFactoryProblems(this, `${prop}.retain`, fsr.retain);
    const region = Stack.of(this).region;
    checkCount(this, `${prop}.availabilityZones`, fsr.availabilityZones, 1, 10);
    for (const [i, az] of (fsr.availabilityZones ?? []).entries()) {
      checkPattern(this, `${prop}.availabilityZones[${i}]`, az, /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'an availability zone name such as us-east-1a');
      check(isUnresolved(az) || Token.isUnresolved(region) || az.startsWith(region), this, `${prop}.availabilityZones[${i}]`,
        `must be in the policy's region ${region}`, az);
    }
    check(new Set(fsr.availabilityZones).size === fsr.availabilityZones.length, this, `${prop}.availabilityZones`,
      'must not repeat a zone', fsr.availabilityZones);
    if (fsr.retain.maxCount !== undefined && !isUnresolved(fsr.retain.maxCount) && fsr.retain.maxCount > 5) {
      warn(this, 'dlm:fast-restore-quota', `${this.node.path}: ${prop}.retain keeps fast restore on ${fsr.retain.maxCount} snapshots; ` +
        'the default quota is 5 per region and every snapshot-AZ pair is billed hourly');
    }
    grants.fastRestore();
    return { availabilityZones: fsr.availabilityZones, ...renderRetain(fsr.retain) };
  }

  private renderArchive(
    prop: string, s: SnapshotSchedule, target: SnapshotTarget, parsed: ReturnType<typeof renderCreateRule>['parsed'], grants: ExecutionGrants,
  ): dlm.CfnLifecyclePolicy.ArchiveRuleProperty {
    const archive = s.archive!;
    check(!target.isInstances, this, `${prop}.archive`,
      'must be omitted for instance targets (DLM archives snapshots of volume policies only: use SnapshotTarget.volumes())', 'INSTANCE target');
    const inArchive = retentionAge(this, `${prop}.archive.retain`, archive.retain,
      'it is the least time each snapshot stays archived; a count-based schedule gets its archive count derived from it');
    const retain = dlmInterval(this, `${prop}.archive.retain`, inArchive, 90, 36500);
    grants.archive();
    if (parsed === undefined) {
      // A tokenized schedule: the frequency is known at deploy time only.
      return { retainRule: { retentionArchiveTier: s.retain.maxCount !== undefined ? { count: Math.ceil(retain.interval / 28) } : retain } };
    }
    const every = minimumIntervalMs(parsed);
    check(every >= 28 * MS_PER_DAY, this, `${prop}.schedule`,
      'must create snapshots at most every 28 days to archive them (DLM ArchiveRule)', `${parsed.expression} (every ${human(every)})`);
    if (s.retain.maxCount === undefined) {
      return { retainRule: { retentionArchiveTier: retain } };
    }
    // Count-based schedules keep a count in the archive too (RetentionArchiveTier): enough
    // snapshots that each stays at least archive.retain, even at the schedule's shortest gap.
    const count = Math.ceil((retain.interval * MS_PER_DAY) / every);
    checkInteger(this, `${prop}.archive.retain`, count, 1, 1000, 'snapshots in the archive');
    return { retainRule: { retentionArchiveTier: { count } } };
  }

  private renderShare(prop: string, s: SnapshotSchedule, grants: ExecutionGrants): dlm.CfnLifecyclePolicy.ShareRuleProperty {
    const share = s.share!;
    const own = Stack.of(this).account;
    checkCount(this, `${prop}.accounts`, share.accounts, 1, 50);
    (share.accounts ?? []).forEach((a, i) => {
      checkAccountId(this, `${prop}.accounts[${i}]`, a);
      check(isUnresolved(a) || Token.isUnresolved(own) || a !== own, this, `${prop}.accounts[${i}]`,
        "must be another account than the policy's own", a);
    });
    const unshare = share.unshareAfter === undefined ? undefined : dlmInterval(this, `${prop}.unshareAfter`, share.unshareAfter, 1, 36500);
    grants.share(share.accounts);
    requirePrerequisite(this, 'dlm-customer-key');
    return { targetAccounts: share.accounts, unshareInterval: unshare?.interval, unshareIntervalUnit: unshare?.intervalUnit };
  }

  private renderScript(prop: string, script: SnapshotScript, target: SnapshotTarget, grants: ExecutionGrants): dlm.CfnLifecyclePolicy.ScriptProperty {
    check(script instanceof SnapshotScript, this, prop, 'must be SnapshotScript.windowsVss(), .sapHana() or .ssmDocument(...)', script);
    const o = script.options;
    checkInteger(this, `${prop} maxRetries`, o.maxRetries, 0, 3);
    const failure = o.onPreScriptFailure === undefined ? undefined : o.onPreScriptFailure === ScriptFailureAction.CRASH_CONSISTENT_SNAPSHOT;
    if (script.isVss) {
      grants.script(grants.documentArn('AWSEC2-CreateVssSnapshot', true), target.tags);
      // For VSS, DLM fixes the service, stages and timeout: they must be omitted.
      return { executionHandler: script.handler, maximumRetryCount: o.maxRetries ?? 0, executeOperationOnScriptFailure: failure ?? true };
    }
    const handler = script.handler;
    checkPattern(this, `${prop} document`, handler,
      /^([a-zA-Z0-9_\-.]{3,128}|arn:[\w-]+:ssm:[a-z0-9-]+:(\d{12})?:document\/[a-zA-Z0-9_\-.]{3,128})$/,
      'an SSM document name (3-128 of a-z A-Z 0-9 _ - .) or document ARN');
    const stages = o.stages ?? [ScriptStage.PRE, ScriptStage.POST];
    checkCount(this, `${prop} stages`, stages, 1, 2);
    check(new Set(stages).size === stages.length && stages.every((st) => st === ScriptStage.PRE || st === ScriptStage.POST),
      this, `${prop} stages`, 'must be PRE, POST or both, each once', stages);
    let timeout: number | undefined;
    if (o.timeout !== undefined && !isUnresolved(o.timeout)) {
      timeout = o.timeout.toSeconds({ integral: false });
      check(Number.isInteger(timeout) && timeout >= 10 && timeout <= 120, this, `${prop} timeout`,
        'must be a whole number of seconds between 10 and 120', o.timeout);
    } else if (o.timeout !== undefined) {
      timeout = o.timeout.toSeconds();
    }
    const hasPre = stages.includes(ScriptStage.PRE);
    check(hasPre || failure === undefined, this, `${prop} onPreScriptFailure`,
      'must be omitted without a PRE stage (it says what to do when the pre script fails)', o.onPreScriptFailure);
    const awsOwned = handler === SnapshotScript.SAP_HANA_DOCUMENT;
    grants.script(grants.documentArn(handler, awsOwned), target.tags);
    return {
      executionHandler: handler,
      executionHandlerService: 'AWS_SYSTEMS_MANAGER',
      executionTimeout: timeout ?? 10,
      maximumRetryCount: o.maxRetries ?? 0,
      stages,
      executeOperationOnScriptFailure: hasPre ? failure ?? true : undefined,
    };
  }
}

/** What a snapshot policy protects, and the standing cost of its fast snapshot restore. */
function snapshotPolicyPlan(target: SnapshotTarget, props: DlmSnapshotPolicyProps): PlanFacts {
  const what = `${target.isInstances ? 'instances' : 'volumes'} tagged ${planTags(target.tags)}`;
  const extraCosts: PlanCost[] = [];
  const protects = props.schedules.map((s) => {
    const copies = [
      ...(s.crossRegionCopies ?? []).map((c) => `${c.region} (${planRetention(c.retain)})`),
      ...(s.share?.accounts ?? []).map((a) => `shared with ${a}`),
      ...s.archive ? [`archive tier ${planDays(s.archive.retain.maxAge)}`] : [],
    ];
    if (s.fastRestore) {
      const count = s.fastRestore.retain.maxCount;
      const kept = count !== undefined && !Token.isUnresolved(count) ? count : 1;
      const units = kept * s.fastRestore.availabilityZones.length;
      extraCosts.push({
        construct: '',
        item: `${FAST_SNAPSHOT_RESTORE.item} × ${units} (schedule '${s.name}')`,
        units,
        monthlyUsd: Math.round(units * FAST_SNAPSHOT_RESTORE.monthlyUsd * 100) / 100,
        basis: FAST_SNAPSHOT_RESTORE.basis,
        page: FAST_SNAPSHOT_RESTORE.page,
      });
    }
    return { mechanism: `DLM schedule '${s.name}'`, selects: what, schedule: planSchedule(s.schedule), retention: planRetention(s.retain), copies };
  });
  return { protects, extraCosts };
}
