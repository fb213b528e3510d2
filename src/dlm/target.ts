/**
 * Options for a policy that snapshots every volume attached to the targeted instances together.
 */
export interface InstanceTargetOptions {
  /**
   * Instances with ANY of these tags are targeted (DLM ORs the target tags).
   */
  readonly tags: Record<string, string>;

  /**
   * Leave the root volume out of each multi-volume snapshot set, for instances whose boot volume
   * is rebuilt from an AMI and only the data volumes (a RAID set, a database) matter.
   *
   * @default false
   */
  readonly excludeBootVolume?: boolean;

  /**
   * Leave out the data volumes that carry any of these tags (scratch or swap volumes).
   *
   * Unlike the exclusion tags of a default policy, which exclude whole instances, these exclude
   * single data volumes from the snapshot set of an instance that is still targeted.
   *
   * @default - no data volume is excluded
   */
  readonly excludeDataVolumeTags?: Record<string, string>;
}

/**
 * Options for a policy that snapshots volumes one by one.
 */
export interface VolumeTargetOptions {
  /**
   * Volumes with ANY of these tags are targeted (DLM ORs the target tags).
   */
  readonly tags: Record<string, string>;
}

/**
 * What a custom snapshot policy snapshots: instances (all their volumes at one point in time) or
 * single volumes.
 *
 * @example
 * SnapshotTarget.instances({ tags: { Backup: 'database' }, excludeBootVolume: true });
 * SnapshotTarget.volumes({ tags: { Records: 'keep' } });
 */
export class SnapshotTarget {
  /**
   * Multi-volume, crash-consistent snapshot sets of every targeted instance (EC2
   * `CreateSnapshots`): the volumes of a RAID array or of a database are captured at the same
   * instant, as the guidance requires for multi-volume backups. Needed for pre/post scripts.
   */
  public static instances(options: InstanceTargetOptions): SnapshotTarget {
    return new SnapshotTarget('INSTANCE', options.tags, options.excludeBootVolume, options.excludeDataVolumeTags);
  }

  /**
   * One snapshot per targeted volume. Needed for the archive tier.
   */
  public static volumes(options: VolumeTargetOptions): SnapshotTarget {
    return new SnapshotTarget('VOLUME', options.tags, undefined, undefined);
  }

  /** DLM's resource type: `INSTANCE` or `VOLUME`. */
  public readonly resourceType: string;

  /** The tags that select the targeted resources. */
  public readonly tags: Record<string, string>;

  /**
   * Whether the root volume is left out of instance snapshot sets.
   *
   * @default - undefined for volume targets
   */
  public readonly excludeBootVolume?: boolean;

  /**
   * Tags of data volumes left out of instance snapshot sets.
   *
   * @default - undefined for volume targets
   */
  public readonly excludeDataVolumeTags?: Record<string, string>;

  private constructor(
    resourceType: string, tags: Record<string, string>,
    excludeBootVolume: boolean | undefined, excludeDataVolumeTags: Record<string, string> | undefined,
  ) {
    this.resourceType = resourceType;
    this.tags = tags ?? {};
    this.excludeBootVolume = excludeBootVolume;
    this.excludeDataVolumeTags = excludeDataVolumeTags;
  }

  /** True for instance targets. */
  public get isInstances(): boolean {
    return this.resourceType === 'INSTANCE';
  }
}
