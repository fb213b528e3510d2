import { Token } from 'aws-cdk-lib';

/**
 * Options of a drill source.
 */
export interface DrillSourceOptions {
  /**
   * The account that owns the snapshots or AMIs, when an archive account shares them with the
   * account the drill runs in. To drill the copies in a DR region, create the drill in a stack
   * in that region: a volume can only be created in the region of its snapshot.
   *
   * @default - this account
   */
  readonly owner?: string;
}

/**
 * What a RestoreDrill restores.
 */
export class DrillSource {
  /**
   * The newest complete set of EBS snapshots with the purpose tag (all snapshots one
   * multi-volume `CreateSnapshots` call or DLM run took together), restored as volumes and
   * attached to a scratch instance.
   */
  public static snapshots(options: DrillSourceOptions = {}): DrillSource {
    return new DrillSource('SNAPSHOTS', checkOwner('DrillSource.snapshots', options.owner));
  }

  /**
   * The newest available AMI with the purpose tag, launched itself as the scratch instance
   * (it needs the SSM agent, as Amazon's AMIs have).
   */
  public static image(options: DrillSourceOptions = {}): DrillSource {
    return new DrillSource('IMAGE', checkOwner('DrillSource.image', options.owner));
  }

  private constructor(
    /** `SNAPSHOTS` or `IMAGE`. */
    public readonly mode: string,
    /**
     * The owning account.
     *
     * @default - this account
     */
    public readonly owner?: string,
  ) {}
}

function checkOwner(factory: string, owner: string | undefined): string | undefined {
  if (owner !== undefined && !Token.isUnresolved(owner) && !/^\d{12}$/.test(owner)) {
    throw new Error(`${factory}: owner must be a 12-digit AWS account id, got '${owner}'`);
  }
  return owner;
}
