/**
 * An in-memory AWS account for the scale harness: EC2 snapshots and instances and maintenance
 * window executions with the records' shapes from the API references, the library's tags, and
 * describe calls that page as the APIs do (MaxResults and its documented bounds, NextToken,
 * filters). Every call is counted.
 *
 * - DescribeSnapshots: MaxResults 5-1000, not with SnapshotIds
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html
 * - DescribeInstances: MaxResults 5-1000, not with InstanceIds
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
 * - DescribeVolumes: MaxResults 5-500, not with VolumeIds
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumes.html
 * - TerminateInstances: an instance goes through shutting-down to terminated
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
 * - DescribeMaintenanceWindowExecutions: MaxResults 10-100, filters ExecutedBefore/ExecutedAfter
 *   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeMaintenanceWindowExecutions.html
 */
export const ACCOUNT = '123456789012';
const hex = (n: number, width = 17) => n.toString(16).padStart(width, '0');

export interface Tag { Key: string; Value: string }
export interface SnapshotRecord {
  SnapshotId: string;
  VolumeId: string;
  State: string;
  StartTime: string;
  Progress: string;
  OwnerId: string;
  Description: string;
  VolumeSize: number;
  Encrypted: boolean;
  KmsKeyId: string;
  StorageTier: string;
  Tags: Tag[];
}

/** An AWS API error as Step Functions names it (`Ec2.<Code>`) and the SDK names it (`<Code>`). */
export function apiError(code: string, message: string, prefix = 'Ec2.'): Error {
  const e = new Error(message);
  e.name = `${prefix}${code}`;
  (e as any).code = code;
  return e;
}

function checkMaxResults(api: string, input: any, min: number, max: number): number | undefined {
  if (input.MaxResults === undefined) {
    return undefined;
  }
  if (!Number.isInteger(input.MaxResults) || input.MaxResults < min || input.MaxResults > max) {
    throw apiError('InvalidParameterValue', `${api}: MaxResults must be between ${min} and ${max}, got ${input.MaxResults}`);
  }
  return input.MaxResults;
}

function page<T>(items: T[], input: any, size: number): { items: T[]; next?: string } {
  const start = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64').toString().split(':')[1]) : 0;
  if (!Number.isInteger(start)) {
    throw apiError('InvalidNextToken', 'the token is not valid');
  }
  const end = start + size;
  // a real token is opaque and long
  return { items: items.slice(start, end), next: end < items.length ? Buffer.from(`page:${end}:${'x'.repeat(160)}`).toString('base64') : undefined };
}

function matches(tags: Tag[], filters: { Name: string; Values: string[] }[] | undefined, fields: Record<string, string>): boolean {
  return (filters ?? []).every((f) => {
    if (f.Name.startsWith('tag:')) {
      const t = tags.find((x) => x.Key === f.Name.slice(4));
      return !!t && f.Values.includes(t.Value);
    }
    if (f.Name === 'tag-key') {
      return tags.some((t) => f.Values.includes(t.Key));
    }
    if (!(f.Name in fields)) {
      throw apiError('InvalidParameterValue', `the filter '${f.Name}' is not supported by this model`);
    }
    return f.Values.includes(fields[f.Name]);
  });
}

export class ScaleAccount {
  public readonly snapshots = new Map<string, SnapshotRecord>();
  public readonly instances: any[] = [];
  public readonly volumes = new Map<string, any>();
  public readonly windowExecutions: any[] = [];
  /** API calls by name. */
  public readonly requests: Record<string, number> = {};

  private count(api: string): void {
    this.requests[api] = (this.requests[api] ?? 0) + 1;
  }

  public get totalRequests(): number {
    return Object.values(this.requests).reduce((a, b) => a + b, 0);
  }

  /** A snapshot as DescribeSnapshots returns it, about 690 bytes with the library's tags. */
  public addSnapshot(n: number, o: { volume: number; startTime: Date; tags: Record<string, string> }): SnapshotRecord {
    const record: SnapshotRecord = {
      SnapshotId: `snap-${hex(n)}`,
      VolumeId: `vol-${hex(o.volume)}`,
      State: 'completed',
      StartTime: o.startTime.toISOString(),
      Progress: '100%',
      OwnerId: ACCOUNT,
      Description: 'cdk-ebs-backup orders-db (fsfreeze)',
      VolumeSize: 100,
      Encrypted: true,
      KmsKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      StorageTier: 'standard',
      Tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })),
    };
    this.snapshots.set(record.SnapshotId, record);
    return record;
  }

  /** A running instance as DescribeInstances returns it (several KiB: network, devices, tags). */
  public addInstance(n: number, tags: Record<string, string>, volumes = 2): any {
    const id = `i-${hex(n)}`;
    const eni = `eni-${hex(n)}`;
    const instance = {
      AmiLaunchIndex: 0,
      ImageId: 'ami-0abcdef1234567890',
      InstanceId: id,
      InstanceType: 'm6i.large',
      KeyName: 'ops',
      LaunchTime: '2026-10-01T08:00:00.000Z',
      Monitoring: { State: 'disabled' },
      Placement: { AvailabilityZone: 'us-east-1a', GroupName: '', Tenancy: 'default' },
      PrivateDnsName: `ip-10-0-${n % 256}-${n % 250}.ec2.internal`,
      PrivateIpAddress: `10.0.${n % 256}.${n % 250}`,
      ProductCodes: [],
      PublicDnsName: '',
      State: { Code: 16, Name: 'running' },
      StateTransitionReason: '',
      SubnetId: 'subnet-0123456789abcdef0',
      VpcId: 'vpc-0123456789abcdef0',
      Architecture: 'x86_64',
      BlockDeviceMappings: Array.from({ length: volumes }, (_, v) => ({
        DeviceName: v === 0 ? '/dev/xvda' : `/dev/sd${String.fromCharCode(102 + v)}`,
        Ebs: { AttachTime: '2026-10-01T08:00:01.000Z', DeleteOnTermination: v === 0, Status: 'attached', VolumeId: `vol-${hex(n * 16 + v)}` },
      })),
      ClientToken: '',
      EbsOptimized: true,
      EnaSupport: true,
      Hypervisor: 'xen',
      IamInstanceProfile: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/orders-db`, Id: 'AIPAJ2EXAMPLE1234567' },
      NetworkInterfaces: [{
        Attachment: { AttachTime: '2026-10-01T08:00:00.000Z', AttachmentId: `eni-attach-${hex(n)}`, DeleteOnTermination: true, DeviceIndex: 0, Status: 'attached', NetworkCardIndex: 0 },
        Description: '',
        Groups: [{ GroupName: 'orders-db', GroupId: 'sg-0123456789abcdef0' }],
        Ipv6Addresses: [],
        MacAddress: '0a:1b:2c:3d:4e:5f',
        NetworkInterfaceId: eni,
        OwnerId: ACCOUNT,
        PrivateDnsName: `ip-10-0-${n % 256}-${n % 250}.ec2.internal`,
        PrivateIpAddress: `10.0.${n % 256}.${n % 250}`,
        PrivateIpAddresses: [{ Primary: true, PrivateDnsName: `ip-10-0-${n % 256}-${n % 250}.ec2.internal`, PrivateIpAddress: `10.0.${n % 256}.${n % 250}` }],
        SourceDestCheck: true,
        Status: 'in-use',
        SubnetId: 'subnet-0123456789abcdef0',
        VpcId: 'vpc-0123456789abcdef0',
        InterfaceType: 'interface',
      }],
      RootDeviceName: '/dev/xvda',
      RootDeviceType: 'ebs',
      SecurityGroups: [{ GroupName: 'orders-db', GroupId: 'sg-0123456789abcdef0' }],
      SourceDestCheck: true,
      Tags: Object.entries({ Name: `orders-db-${n}`, ...tags }).map(([Key, Value]) => ({ Key, Value })),
      VirtualizationType: 'hvm',
      CpuOptions: { CoreCount: 1, ThreadsPerCore: 2 },
      CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
      HibernationOptions: { Configured: false },
      MetadataOptions: { State: 'applied', HttpTokens: 'required', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled' },
      EnclaveOptions: { Enabled: false },
      PlatformDetails: 'Linux/UNIX',
      UsageOperation: 'RunInstances',
      UsageOperationUpdateTime: '2026-10-01T08:00:00.000Z',
      PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
      MaintenanceOptions: { AutoRecovery: 'default' },
      CurrentInstanceBootMode: 'legacy-bios',
    };
    this.instances.push(instance);
    return instance;
  }

  /** A volume as DescribeVolumes returns it (about 700 bytes with the library's tags). */
  public addVolume(n: number, o: { tags: Record<string, string>; snapshotId?: string; attachedTo?: string }): any {
    const id = `vol-${hex(n)}`;
    const volume = {
      Attachments: o.attachedTo ? [{ AttachTime: '2026-11-21T03:05:00.000Z', Device: '/dev/sdf', InstanceId: o.attachedTo, State: 'attached', VolumeId: id, DeleteOnTermination: false }] : [],
      AvailabilityZone: 'us-east-1a',
      CreateTime: '2026-11-21T03:04:00.000Z',
      Encrypted: true,
      KmsKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      Size: 100,
      SnapshotId: o.snapshotId ?? '',
      State: o.attachedTo ? 'in-use' : 'available',
      VolumeId: id,
      Iops: 3000,
      Tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })),
      VolumeType: 'gp3',
      MultiAttachEnabled: false,
      Throughput: 125,
    };
    this.volumes.set(id, volume);
    return volume;
  }

  public addWindowExecution(n: number, windowId: string, start: Date, status: string): void {
    this.windowExecutions.push({
      WindowId: windowId,
      WindowExecutionId: `${hex(n, 8)}-1a2b-3c4d-5e6f-${hex(n, 12)}`,
      Status: status,
      StatusDetails: status === 'SUCCESS' ? '' : 'One or more tasks in the orchestration failed.',
      StartTime: start.toISOString(),
      EndTime: new Date(start.getTime() + 1_200_000).toISOString(),
    });
  }

  public describeSnapshots(input: any): any {
    this.count('DescribeSnapshots');
    if (input.SnapshotIds && input.MaxResults !== undefined) {
      throw apiError('InvalidParameterCombination', 'MaxResults cannot be used with SnapshotIds');
    }
    const size = checkMaxResults('DescribeSnapshots', input, 5, 1000) ?? 1000;
    const all = [...this.snapshots.values()].filter((s) =>
      (!input.SnapshotIds || input.SnapshotIds.includes(s.SnapshotId))
      && matches(s.Tags, input.Filters, { 'volume-id': s.VolumeId, 'status': s.State, 'storage-tier': s.StorageTier }));
    const p = page(all, input, size);
    return { Snapshots: p.items, ...p.next ? { NextToken: p.next } : {} };
  }

  /** DeleteSnapshot, with the role's condition: every tag in `requiredTags` on the snapshot. */
  public deleteSnapshot(input: any, requiredTags: Record<string, string> = {}): any {
    this.count('DeleteSnapshot');
    const s = this.snapshots.get(input.SnapshotId);
    if (!s) {
      throw apiError('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotId}' does not exist.`);
    }
    for (const [k, v] of Object.entries(requiredTags)) {
      if (!s.Tags.some((t) => t.Key === k && t.Value === v)) {
        throw apiError('UnauthorizedOperation', `not authorized to delete ${input.SnapshotId} (aws:ResourceTag/${k})`);
      }
    }
    this.snapshots.delete(input.SnapshotId);
    return {};
  }

  public describeInstances(input: any): any {
    this.count('DescribeInstances');
    if (input.InstanceIds && input.MaxResults !== undefined) {
      throw apiError('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    }
    const size = checkMaxResults('DescribeInstances', input, 5, 1000) ?? 1000;
    const all = this.instances.filter((i) => (!input.InstanceIds || input.InstanceIds.includes(i.InstanceId))
      && matches(i.Tags, input.Filters, { 'instance-state-name': i.State.Name }));
    const p = page(all, input, size);
    // one reservation per instance, as separate launches give
    return {
      Reservations: p.items.map((i) => ({ Groups: [], Instances: [i], OwnerId: ACCOUNT, ReservationId: `r-${i.InstanceId.slice(2)}` })),
      ...p.next ? { NextToken: p.next } : {},
    };
  }

  /** TerminateInstances: each instance shutting down; its volumes without DeleteOnTermination detach. */
  public terminateInstances(input: any): any {
    this.count('TerminateInstances');
    const ids: string[] = input.InstanceIds ?? [];
    if (ids.length === 0 || ids.length > 1000) {
      throw apiError('InvalidParameterValue', `TerminateInstances takes 1 to 1000 instance ids, got ${ids.length}`);
    }
    const found = ids.map((id) => this.instances.find((i) => i.InstanceId === id));
    const missing = ids.filter((_, k) => !found[k]);
    if (missing.length > 0) {
      throw apiError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    }
    const changes = found.map((i) => {
      const previous = i.State.Name;
      if (previous !== 'terminated') {
        i.State = { Code: 32, Name: 'shutting-down' };
      }
      for (const v of this.volumes.values()) {
        if (v.Attachments.some((a: any) => a.InstanceId === i.InstanceId)) {
          v.Attachments = [];
          v.State = 'available';
        }
      }
      return { InstanceId: i.InstanceId, CurrentState: i.State, PreviousState: { Name: previous } };
    });
    return { TerminatingInstances: changes };
  }

  /** Let time pass: every shutting-down instance is terminated. */
  public settle(): void {
    for (const i of this.instances) {
      if (i.State.Name === 'shutting-down') {
        i.State = { Code: 48, Name: 'terminated' };
      }
    }
  }

  public describeVolumes(input: any): any {
    this.count('DescribeVolumes');
    if (input.VolumeIds && input.MaxResults !== undefined) {
      throw apiError('InvalidParameterCombination', 'MaxResults cannot be used with VolumeIds');
    }
    const size = checkMaxResults('DescribeVolumes', input, 5, 500) ?? 500;
    const all = [...this.volumes.values()].filter((v) => (!input.VolumeIds || input.VolumeIds.includes(v.VolumeId))
      && matches(v.Tags, input.Filters, { status: v.State }));
    const p = page(all, input, size);
    return { Volumes: p.items, ...p.next ? { NextToken: p.next } : {} };
  }

  /** DeleteVolume: only an available volume can be deleted. */
  public deleteVolume(input: any): any {
    this.count('DeleteVolume');
    const v = this.volumes.get(input.VolumeId);
    if (!v) {
      throw apiError('InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
    }
    if (v.State !== 'available') {
      throw apiError('VolumeInUse', `Volume ${input.VolumeId} is currently attached`);
    }
    this.volumes.delete(input.VolumeId);
    return {};
  }

  public describeMaintenanceWindowExecutions(input: any): any {
    this.count('DescribeMaintenanceWindowExecutions');
    const size = (() => {
      if (input.MaxResults === undefined) {
        return 10;
      }
      if (input.MaxResults < 10 || input.MaxResults > 100) {
        throw apiError('ValidationException', `MaxResults must be between 10 and 100, got ${input.MaxResults}`, 'Ssm.');
      }
      return input.MaxResults;
    })();
    let all = this.windowExecutions.filter((e) => e.WindowId === input.WindowId);
    for (const f of input.Filters ?? []) {
      const at = Date.parse(f.Values[0]);
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(f.Values[0]) || Number.isNaN(at)) {
        throw apiError('ValidationException', `filter ${f.Key}: '${f.Values[0]}' is not yyyy-MM-ddTHH:mm:ssZ`, 'Ssm.');
      }
      if (f.Key === 'ExecutedAfter') {
        all = all.filter((e) => Date.parse(e.StartTime) >= at);
      } else if (f.Key === 'ExecutedBefore') {
        all = all.filter((e) => Date.parse(e.StartTime) <= at);
      } else {
        throw apiError('ValidationException', `unknown filter key ${f.Key}`, 'Ssm.');
      }
    }
    const p = page(all, input, size);
    return { WindowExecutions: p.items, ...p.next ? { NextToken: p.next } : {} };
  }
}
