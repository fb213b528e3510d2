import { Built, TierContext } from './builder';
import { SnapshotLock } from '../../worm/snapshot-lock';

/**
 * EBS Snapshot Lock on a tier's DLM snapshots: the same construct in an app and in a
 * self-contained member template (Step Functions SDK integrations, no code asset). The guard
 * exempts its role from the snapshot-lock denies; the DLM builder checks the duration.
 */
export function buildSnapshotLock(ctx: TierContext): Built | undefined {
  const { tier } = ctx;
  const mode = tier.definition.snapshots?.snapshotLock;
  if (!mode) {
    return undefined;
  }
  const lock = new SnapshotLock(ctx.scope, 'Lock', { mode, purposes: [tier.snapshotPurpose], alarmAction: ctx.alarmAction });
  return {
    locks: [{ lock, text: `${tier.snapshotPurpose}: EBS Snapshot Lock ${mode.mode} ${mode.duration.toDays()} days (Step Functions)` }],
  };
}
