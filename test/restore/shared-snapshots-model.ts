/**
 * EC2's DescribeSnapshots as seen from one account, over snapshots owned by several accounts,
 * modelled on the API reference
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html):
 *
 * - a caller sees the snapshots it owns and those shared with it (create volume permission for
 *   its account or `all`); `OwnerIds` and `RestorableByUserIds` narrow that (`self` = the caller);
 * - `Filters`: `tag:<key>` matches the tags the caller can see, `description` matches with the
 *   `*` and `?` wildcards of EC2 filters (`\` escapes them);
 * - tags are the owner's metadata: a snapshot another account owns is returned without them, and
 *   a tag filter never matches it (sharing grants create volume permission on the snapshot,
 *   ModifySnapshotAttribute; the owner's tags stay the owner's);
 * - `MaxResults` 5-1000 pages with `NextToken`.
 */
export interface ModelSnapshot {
  readonly SnapshotId: string;
  readonly VolumeId: string;
  readonly StartTime: Date;
  readonly State: string;
  readonly OwnerId: string;
  readonly Description: string;
  readonly VolumeSize: number;
  readonly Tags: Array<{ Key: string; Value: string }>;
  /** Accounts (or `all`) with create volume permission, besides the owner. */
  readonly sharedWith: string[];
}

function wildcard(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      source += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '*') {
      source += '.*';
    } else if (c === '?') {
      source += '.';
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

export class SnapshotAccounts {
  public readonly snapshots: ModelSnapshot[] = [];
  public readonly requests: any[] = [];

  constructor(public readonly caller: string) {}

  public add(s: Partial<ModelSnapshot> & Pick<ModelSnapshot, 'SnapshotId' | 'VolumeId' | 'StartTime'>): void {
    this.snapshots.push({ State: 'completed', OwnerId: this.caller, Description: '', VolumeSize: 8, Tags: [], sharedWith: [], ...s });
  }

  public describeSnapshots(input: any): any {
    this.requests.push(input);
    const me = (id: string) => (id === 'self' ? this.caller : id);
    const size = input.MaxResults ?? 1000;
    if (size < 5 || size > 1000) {
      throw Object.assign(new Error(`MaxResults must be between 5 and 1000, got ${size}`), { name: 'InvalidParameterValue' });
    }
    const restorable = (s: ModelSnapshot, account: string) => s.OwnerId === account || s.sharedWith.includes(account) || s.sharedWith.includes('all');
    const visible = this.snapshots.filter((s) => restorable(s, this.caller))
      .filter((s) => !input.OwnerIds || input.OwnerIds.map(me).includes(s.OwnerId))
      .filter((s) => !input.RestorableByUserIds || input.RestorableByUserIds.map(me).some((a: string) => restorable(s, a)))
      .map((s) => ({ ...s, Tags: s.OwnerId === this.caller ? s.Tags : undefined }))
      .filter((s) => (input.Filters ?? []).every((f: any) => {
        if (f.Name.startsWith('tag:')) {
          const value = s.Tags?.find((t) => t.Key === f.Name.slice(4))?.Value;
          return value !== undefined && f.Values.some((v: string) => wildcard(v).test(value));
        }
        if (f.Name === 'description') {
          return f.Values.some((v: string) => wildcard(v).test(s.Description));
        }
        throw new Error(`the model does not know the filter ${f.Name}`);
      }));
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = visible.slice(start, start + size).map(({ sharedWith: _, ...s }) => s);
    return { Snapshots: page, ...start + size < visible.length ? { NextToken: String(start + size) } : {} };
  }
}
