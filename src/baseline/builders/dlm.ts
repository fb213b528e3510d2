import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { BaselineContext, Built, TierContext } from './builder';
import { failureAlarm } from '../../core/failure-alarm';
import { protectAsMachinery } from '../../core/machinery';
import { Retention } from '../../core/retention';
import { check, fail, isUnresolved, retentionAge } from '../../core/validation';
import { DefaultPolicyTarget, DlmDefaultPolicy } from '../../dlm/default-policy';
import { DlmPolicyBase } from '../../dlm/policy-base';
import { DlmSnapshotPolicy } from '../../dlm/snapshot-policy';
import { SnapshotTarget } from '../../dlm/target';
import { intervalHours, retentionText } from '../report';
import { BackupTier } from '../tier';

/** A tier's crash-consistent DLM snapshots, copied to the DR region when the tier asks. */
export function buildDlmSnapshots(ctx: TierContext): Built | undefined {
  const { tier, at, baseline } = ctx;
  const s = tier.definition.snapshots;
  if (!s) {
    return undefined;
  }
  const region = s.drCopy || s.drRegion ? s.drRegion ?? ctx.drRegion : undefined;
  if (s.drCopy && region === undefined) {
    fail(baseline, `${at}.snapshots.drRegion`, `must be given for tier '${tier.name}' (it copies to a DR region): pass drRegion to the tier or to the baseline`);
  }
  ctx.checkRegionAway(`${at}.snapshots.drRegion`, region);
  const liveDays = snapshotRetentionDays(tier);
  const drRetain = s.drRetain !== undefined
    ? retentionAge(baseline, `${at}.snapshots.drRetain`, s.drRetain, 'DLM keeps cross-region copies by age only')
    : Duration.days(liveDays !== undefined ? Math.max(1, liveDays) : 14);
  if (s.snapshotLock) {
    const lockDays = s.snapshotLock.duration.toDays();
    check(liveDays === undefined || isUnresolved(s.snapshotLock.duration) || lockDays < liveDays, baseline, `${at}.snapshots.snapshotLock`,
      `must lock snapshots for less than the tier's retention (about ${liveDays} days), or DLM cannot delete them when they expire`, s.snapshotLock.duration);
  }
  const policy = new DlmSnapshotPolicy(ctx.scope, 'Snapshots', {
    purpose: tier.snapshotPurpose,
    target: SnapshotTarget.instances({ tags: ctx.selection, excludeDataVolumeTags: s.excludeVolumeTags }),
    schedules: [{
      name: `${tier.name} snapshots`,
      schedule: s.schedule,
      retain: s.retain,
      copyTags: true,
      crossRegionCopies: region === undefined ? undefined : [{ region, retain: Retention.age(drRetain) }],
    }],
    alarmActions: [ctx.alarmAction],
  });
  return {
    snapshotPolicies: [{ construct: policy, purpose: tier.snapshotPurpose }],
    alarms: [dlmAlarms(ctx, ctx.scope, policy, tier.snapshotPurpose)],
    covers: [{
      mechanism: 'dlm-snapshots',
      selection: ctx.selection,
      purpose: tier.snapshotPurpose,
      schedule: s.schedule.expressionString,
      intervalHours: intervalHours(s.schedule),
      retention: s.retain.toTagValue(),
      copies: region === undefined ? [] : [`region ${region} (${retentionText(drRetain)})`],
      lock: s.snapshotLock ? `${s.snapshotLock.mode} ${s.snapshotLock.duration.toDays()} days` : undefined,
      coversWholeTier: true,
    }],
  };
}

/** The DLM default policy: the safety net for volumes no other DLM policy backed up recently. */
export function buildSafetyNet(ctx: BaselineContext): Built {
  const policy = new DlmDefaultPolicy(ctx.baseline, 'SafetyNet', {
    purpose: 'untagged-volumes-safety-net',
    target: DefaultPolicyTarget.volumes(),
  });
  return {
    defaultPolicy: policy,
    alarms: [dlmAlarms(ctx, ctx.baseline, policy, 'safety net')],
    alwaysOn: ['DLM default policy: daily snapshots of every volume no other DLM policy backed up, kept 7 days'],
  };
}

/** How many days a tier's DLM snapshots are kept (count × interval for counts); undefined when unknown. */
export function snapshotRetentionDays(tier: BackupTier): number | undefined {
  const s = tier.definition.snapshots;
  return s ? retentionDays(s.retain, intervalHours(s.schedule)) : undefined;
}

/** A DLM policy's failed snapshots and copies, and its ERROR state, notify the baseline's topic. */
function dlmAlarms(ctx: BaselineContext, scope: Construct, policy: DlmPolicyBase, purpose: string): cloudwatch.IAlarm {
  const period = Duration.hours(1);
  const alarm = failureAlarm(scope, 'SnapshotFailuresAlarm', {
    description: `DLM snapshots (${purpose}) failed to be created or copied`,
    metric: new cloudwatch.MathExpression({
      expression: 'FILL(created, 0) + FILL(copied, 0)',
      usingMetrics: { created: policy.metricSnapshotsCreateFailed({ period }), copied: policy.metricSnapshotsCopiedRegionFailed({ period }) },
      period: Duration.hours(1),
    }),
    alarmAction: ctx.alarmAction,
  });
  protectAsMachinery(new events.Rule(scope, 'PolicyErrorRule', {
    description: `DLM policy (${purpose}) went into the ERROR state`,
    eventPattern: { source: ['aws.dlm'], detailType: ['DLM Policy State Change'], detail: { state: ['ERROR'] }, resources: [policy.policyArn] },
    targets: [new targets.SnsTopic(ctx.alarmTopic)],
  }));
  return alarm;
}

/** How many days a retention keeps snapshots of a schedule (count × interval for counts). */
function retentionDays(retain: Retention, everyHours: number | undefined): number | undefined {
  if (retain.maxAge !== undefined) {
    return isUnresolved(retain.maxAge) ? undefined : retain.maxAge.toDays();
  }
  if (retain.maxCount === undefined || isUnresolved(retain.maxCount) || everyHours === undefined) {
    return undefined;
  }
  return Math.floor((retain.maxCount * everyHours) / 24);
}
