import { Token } from 'aws-cdk-lib';
import { FactoryProblem, recordFactoryProblems } from '../core/validation';

/**
 * Options of a drill source.
 */
export interface DrillSourceOptions {
  /**
   * The account that owns the snapshots or AMIs, when an archive account shares them with the
   * account the drill runs in. To drill the copies in a DR region, create the drill in a stack
   * in that region: a volume can only be created in the region of its snapshot.
   *
   * EC2 tags are not visible across accounts, so the owner's purpose tag cannot select them:
   * shared snapshots are those the owner made restorable by this account (`RestorableByUserIds`)
   * whose description names the purpose as a whole word, grouped by the instance id in the
   * description (the library's creators write both, e.g. `orders-db: consistent snapshots by
   * Prod/Job (i-0123...)`); shared AMIs those launchable by this account whose name or
   * description names the purpose.
   *
   * @default - this account
   */
  readonly owner?: string;
}

/**
 * What a RestoreDrill restores.
 *
 * A bad owner is reported by the drill that uses the source, with its path and prop, together
 * with the drill's other problems.
 */
export class DrillSource {
  /**
   * The newest complete set of EBS snapshots with the purpose tag, of one source instance (the
   * snapshots one multi-volume `CreateSnapshots` call or DLM run took of one instance), restored
   * as volumes and attached to a scratch instance. A set of more than 21 volumes (`/dev/sdf` to
   * `/dev/sdz`) fails the drill as `NoRestorePoint` with the reason.
   */
  public static snapshots(options: DrillSourceOptions = {}): DrillSource {
    return recordFactoryProblems(new DrillSource('SNAPSHOTS', options.owner), ownerProblems('DrillSource.snapshots', options.owner));
  }

  /**
   * The newest available AMI with the purpose tag, launched itself as the scratch instance
   * (it needs the SSM agent, as Amazon's AMIs have). A Windows AMI is validated by
   * `windowsValidation`, or fails the drill as not validated.
   */
  public static image(options: DrillSourceOptions = {}): DrillSource {
    return recordFactoryProblems(new DrillSource('IMAGE', options.owner), ownerProblems('DrillSource.image', options.owner));
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

function ownerProblems(factory: string, owner: string | undefined): FactoryProblem[] {
  if (owner === undefined || Token.isUnresolved(owner) || /^\d{12}$/.test(owner)) {
    return [];
  }
  return [new FactoryProblem(factory, 'owner must be a 12-digit AWS account id', owner,
    'pass the id of the account that shares the snapshots or AMIs, or leave owner out for this account')];
}
