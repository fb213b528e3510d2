/**
 * EC2 as the snapshot lock's three calls behave, for running the lock's JSONata definition
 * locally (EC2 API reference: DescribeSnapshots filters `tag:<key>` and `tag-key`;
 * DescribeLockedSnapshots; LockSnapshot, and "Lock Amazon EBS snapshots" in the EBS user guide):
 * a compliance lock past its cool-off cannot become governance nor be shortened, a cool-off
 * period applies only to a new compliance lock, and an expired lock is no lock.
 */

const DAY = 86_400_000;
/** The execution start every run of these tests uses (the lock's clock). */
export const NOW = '2026-11-30T10:00:00.000Z';

export interface Snap { tags: Record<string, string>; lock?: { LockState: string; LockExpiresOn: string; LockDuration?: number } }

/** The account's snapshots; `calls` records every call the run made, in order. */
export class Ec2World {
  public readonly calls: Array<{ api: string; args: any }> = [];
  public throttleLocks = 0;
  /** PutMetricData answers fail (a CloudWatch outage): the run must not fail for it. */
  public failHeartbeat = false;
  constructor(public readonly snapshots: Record<string, Snap>) {}

  stubs() {
    return {
      RecordHeartbeat: async (args: any) => {
        this.calls.push({ api: 'PutMetricData', args });
        if (this.failHeartbeat) {
          throw new Error('CloudWatch.InternalServiceError');
        }
        return {};
      },
      FindTaggedSnapshots: async (args: any) => {
        this.calls.push({ api: 'DescribeSnapshots', args });
        const [filter] = args.Filters;
        const ids: string[] = args.SnapshotIds;
        return {
          Snapshots: ids.filter((id) => {
            const s = this.snapshots[id];
            if (!s) {
              return false;
            }
            if (filter.Name === 'tag-key') {
              return filter.Values.some((k: string) => k in s.tags);
            }
            const key = filter.Name.replace(/^tag:/, '');
            return filter.Values.includes(s.tags[key]);
          }).map((SnapshotId) => ({ SnapshotId })),
        };
      },
      FindExistingLocks: async (args: any) => {
        this.calls.push({ api: 'DescribeLockedSnapshots', args });
        if (!args.SnapshotIds || args.SnapshotIds.length === 0) {
          throw new Error('test world: DescribeLockedSnapshots without ids lists the whole account');
        }
        const locked = args.SnapshotIds.filter((id: string) => this.snapshots[id]?.lock);
        return { Snapshots: locked.map((id: string) => ({ SnapshotId: id, ...this.snapshots[id].lock })) };
      },
      Lock: async (args: any) => {
        this.calls.push({ api: 'LockSnapshot', args });
        if (this.throttleLocks-- > 0) {
          throw new Error('Ec2.RequestLimitExceeded');
        }
        const s = this.snapshots[args.SnapshotId];
        if (args.CoolOffPeriod !== undefined && args.LockMode !== 'compliance') {
          throw new Error('Ec2.InvalidParameterCombination: a cool-off period is for compliance mode only');
        }
        const expires = Date.parse(NOW) + args.LockDuration * DAY;
        if (s.lock?.LockState === 'compliance') {
          if (args.LockMode !== 'compliance') {
            throw new Error('Ec2.InvalidParameterCombination: a compliance lock cannot become governance');
          }
          if (expires < Date.parse(s.lock.LockExpiresOn)) {
            throw new Error('Ec2.InvalidParameterValue: a compliance lock can only be extended');
          }
          if (args.CoolOffPeriod !== undefined) {
            throw new Error('Ec2.InvalidParameterCombination: cool-off applies to a new lock only');
          }
        }
        const state = args.LockMode === 'compliance' && args.CoolOffPeriod ? 'compliance-cooloff' : args.LockMode;
        s.lock = { LockState: state, LockExpiresOn: new Date(expires).toISOString() };
        return { SnapshotId: args.SnapshotId, LockState: state };
      },
    };
  }

  api(name: string) {
    return this.calls.filter((c) => c.api === name);
  }
}

export function event(detail: object) {
  return { 'source': 'aws.ec2', 'detail-type': 'EBS Snapshot Notification', detail };
}
export const created = (id: string) => event({ event: 'createSnapshot', result: 'succeeded', snapshot_id: `arn:aws:ec2::us-east-1:snapshot/${id}` });

