import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { BaselineContext, Built, BuiltLock } from './builder';
import { snapshotRetentionDays } from './dlm';
import { Retention } from '../../core/retention';
import { checkDuration, isUnresolved, retentionAge, wholeDays } from '../../core/validation';
import { claimPublicSharingBlock } from '../../worm/account-settings';
import { BlockPublicSharing } from '../../worm/block-public-access';
import { ProtectedResources } from '../../worm/deny-policy';
import { WormSnapshotGuard } from '../../worm/guard';
import { DashboardBin } from '../dashboard';
import { BackupTier } from '../tier';

/** What the write-once guard is built from. */
export interface GuardOptions {
  readonly tiers: BackupTier[];
  readonly protectedResources?: ProtectedResources;
  readonly recycleBinRetain?: Retention;
  readonly recycleBinUnlockDelay?: Duration;
  readonly blockPublicSharing?: boolean;
  /** The keys of the tiers' vaults: a backup whose key is gone is gone, and Vault Lock does not protect keys. */
  readonly keys: kms.IKey[];
  readonly locks: BuiltLock[];
}

/** The guard and what the dashboard shows of it. */
export interface BuiltGuard extends Built {
  readonly guard: WormSnapshotGuard;
  readonly bins: DashboardBin[];
}

/**
 * The write-once guard: the deny policy over every purpose of the tiers, a locked region-level
 * Recycle Bin for snapshots and AMIs, block public sharing, and the snapshot locks' roles exempted.
 */
export function buildGuard(ctx: BaselineContext, options: GuardOptions): BuiltGuard {
  const { baseline } = ctx;
  const purposes = options.tiers.flatMap((t) => t.purposes());
  const binRetention = options.recycleBinRetain === undefined ? Duration.days(defaultBinDays(options.tiers))
    : retentionAge(baseline, 'recycleBinRetain', options.recycleBinRetain, 'Recycle Bin keeps deleted snapshots and AMIs for a period only');
  checkDuration(baseline, 'recycleBinRetain', binRetention, Duration.days(1), Duration.days(365));
  const unlockDelay = options.recycleBinUnlockDelay ?? Duration.days(7);
  const blockPublicSharing = options.blockPublicSharing ?? true;
  if (blockPublicSharing) {
    claimPublicSharingBlock(ctx.baseline, 'blockPublicSharing');
  }
  const breakGlass = ctx.breakGlassPrincipalArns;
  const guard = new WormSnapshotGuard(baseline, 'Guard', {
    breakGlassPrincipalArns: breakGlass,
    deploymentPrincipalArns: ctx.deploymentPrincipalArns,
    protectedResources: options.protectedResources ?? ProtectedResources.purposes(...purposes),
    recycleBin: { retain: Retention.age(binRetention), lockUnlockDelay: unlockDelay },
    blockPublicSharing: blockPublicSharing && !ctx.selfContained,
    keys: options.keys,
  });
  if (ctx.selfContained && blockPublicSharing) {
    // the AMI setting needs a custom resource (a code asset): the organization's EC2 declarative
    // policy (BaselineStackSet) blocks AMI sharing instead
    snapshotsOnlyBlock(baseline);
  }
  for (const { lock } of options.locks) {
    // the lock role locks snapshots; it never deletes them
    guard.exemptRole(lock.role, { lifecycle: false, snapshotLock: true });
  }
  const binDays = isUnresolved(binRetention) ? 0 : wholeDays(baseline, 'recycleBinRetain', binRetention);
  return {
    guard,
    alarms: options.locks.map((l) => l.lock.alarm),
    bins: guard.recycleBinRules.map((rule) => ({
      ruleId: rule.ruleId,
      what: rule.resource.resourceType === 'EC2_IMAGE' ? 'AMIs' : 'EBS snapshots',
      retentionDays: binDays,
      unlockDelayDays: rule.locked ? unlockDelay.toDays() : undefined,
    })),
    alwaysOn: [
      `write-once deny policy for purposes ${purposes.join(', ')}${breakGlass.length > 0 ? `, break-glass ${breakGlass.join(', ')}` : ''}`,
      `Recycle Bin for snapshots and AMIs, ${binDays} days, locked (unlock delay ${unlockDelay.toDays()} days)`,
      !blockPublicSharing ? 'public sharing left to another stack or the organization (blockPublicSharing: false)'
        : ctx.selfContained ? 'block public sharing of snapshots (AMIs: organization declarative policy)' : 'block public sharing of snapshots and AMIs',
      ...options.locks.map((l) => l.text),
    ],
  };
}

/**
 * worm's `BlockPublicSharing` for snapshots only. Its setting keeps the logical id it had when the
 * baseline wrote the L1 itself at `<baseline>/BlockSnapshotPublicSharing`: a new logical id would
 * create the new setting and then delete the old one, which turns block public access off.
 */
function snapshotsOnlyBlock(baseline: BaselineContext['baseline']): BlockPublicSharing {
  const id = 'BlockSnapshotPublicSharing';
  // the logical id CloudFormation already knows, from CDK's own allocation for that path
  const probe = new CfnResource(baseline, id, { type: 'Probe::Only::LogicalId' });
  const logicalId: string = Stack.of(baseline).resolve(probe.logicalId);
  baseline.node.tryRemoveChild(id);
  const block = new BlockPublicSharing(baseline, id, { images: false });
  block.snapshotBlockPublicAccess.overrideLogicalId(logicalId);
  return block;
}

/** The Recycle Bin default: no longer than any DLM schedule keeps its snapshots, at most 7 days. */
function defaultBinDays(tiers: BackupTier[]): number {
  const days = tiers.map(snapshotRetentionDays).filter((d): d is number => d !== undefined);
  return Math.max(1, Math.min(7, ...days));
}
