/**
 * The snapshot lock at scale: the JSONata definition `SnapshotLock` embeds, run per EBS event in
 * the scale harness against the account model. One execution per "EBS Snapshot Notification";
 * a createSnapshots event names every snapshot of the instance (at most one per attached
 * volume), so an execution's payloads grow with the volumes of one instance, never with the
 * account. https://docs.aws.amazon.com/ebs/latest/userguide/ebs-cloud-watch-events.html
 */
import { ACCOUNT, ScaleAccount } from './account';
import { runJsonata } from './jsonata-runner';
import { PayloadMeter } from './limits';
import { snapshotLockDefinition } from '../../../src/worm/snapshot-lock-definition';
import { taskStates } from '../call-replay';

export const LOCK_START = '2026-11-30T12:00:00.000Z';
const PURPOSE = 'orders-db';

/** A createSnapshots event of EventBridge for the given snapshot ids. */
export function createSnapshotsEvent(ids: string[]): any {
  const arn = (id: string) => `arn:aws:ec2::${ACCOUNT}:snapshot/${id}`;
  return {
    'source': 'aws.ec2',
    'detail-type': 'EBS Multi-Volume Snapshots Completion Status',
    'detail': {
      event: 'createSnapshots',
      result: 'succeeded',
      snapshots: ids.map((id) => ({ snapshot_id: arn(id), source: `arn:aws:ec2::${ACCOUNT}:volume/vol-0`, status: 'completed' })),
    },
  };
}

/**
 * `events` createSnapshots events of `volumes` snapshots each (every snapshot tagged with the
 * purpose), run one execution each; returns the largest payload over all runs. `synthesized`: a
 * lock definition from a template (an example's), instead of the one SnapshotLock embeds.
 */
export async function runLocks(events: number, volumes: number, synthesized?: any) {
  const account = new ScaleAccount();
  const locks = new Map<string, any>();
  const definition = synthesized ?? snapshotLockDefinition({ purposeTagKey: 'backup:purpose', purposes: [PURPOSE], mode: 'governance', durationDays: 30 });
  // the purpose tag the lock selects by: `tag:<key>` with the purposes, or `tag-key`
  const [filter] = taskStates(definition).FindTaggedSnapshots.Arguments.Filters;
  const purposeTag = filter.Name.startsWith('tag:') ? { [filter.Name.slice(4)]: filter.Values[0] } : { [filter.Values[0]]: PURPOSE };
  const meter = new PayloadMeter();
  const errors: any[] = [];
  // a history is one execution's: the longest of them
  let maxEvents = 0;
  let n = 0;
  for (let e = 0; e < events; e++) {
    const ids: string[] = [];
    for (let v = 0; v < volumes; v++) {
      ids.push(account.addSnapshot(++n, { volume: e * volumes + v, startTime: new Date(LOCK_START), tags: purposeTag }).SnapshotId);
    }
    const eventsBefore = meter.events;
    const run = await runJsonata(definition, {
      meter,
      startTime: LOCK_START,
      input: createSnapshotsEvent(ids),
      handlers: {
        FindTaggedSnapshots: (a: any) => account.describeSnapshots(a),
        FindExistingLocks: (a: any) => {
          account.requests.DescribeLockedSnapshots = (account.requests.DescribeLockedSnapshots ?? 0) + 1;
          return { Snapshots: a.SnapshotIds.filter((id: string) => locks.has(id)).map((id: string) => locks.get(id)) };
        },
        Lock: (a: any) => {
          account.requests.LockSnapshot = (account.requests.LockSnapshot ?? 0) + 1;
          const lock = { SnapshotId: a.SnapshotId, LockState: a.LockMode, LockDuration: a.LockDuration };
          locks.set(a.SnapshotId, lock);
          return lock;
        },
      },
    });
    maxEvents = Math.max(maxEvents, meter.events - eventsBefore);
    if (run.error) {
      errors.push(run.error);
    }
  }
  return { account, locks, meter, errors, maxEvents };
}
