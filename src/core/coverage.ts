import { CfnResource } from 'aws-cdk-lib';
import { checkCount, checkTags, fail } from './validation';

/**
 * The CloudFormation `Metadata` key under which a resource declares which EC2 instances or EBS
 * volumes it backs up, for resources whose coverage cannot be read from their own properties
 * (a state machine that calls `CreateSnapshots`, a Lambda function, a third-party agent).
 *
 * The value is one declaration or a list of them:
 * `{ "resourceTypes": ["INSTANCE"], "tags": { "App": "orders" } }`. A resource of one of the
 * listed types is covered when it carries every listed tag (AND, as the EC2 `Describe*` tag
 * filters that such jobs use are ANDed). `EbsBackupChecks` reads it across every stack of the
 * app's environment.
 */
const COVERAGE_METADATA_KEY = 'cdk-ebs-backup:coverage';

/**
 * What a backup mechanism protects.
 */
export enum CoverageResourceType {
  /** EC2 instances, with every EBS volume attached to them. */
  INSTANCE = 'INSTANCE',
  /** EBS volumes. */
  VOLUME = 'VOLUME',
}

/**
 * One coverage declaration: which resources, selected by tags, a backup mechanism protects.
 */
export interface BackupCoverageOptions {
  /** The kinds of resources protected. */
  readonly resourceTypes: CoverageResourceType[];
  /**
   * The tags a resource must all carry to be protected (ANDed).
   */
  readonly tags: Record<string, string>;
}

/**
 * The coverage convention of this library: how constructs that back up instances or volumes
 * without a DLM policy, an AWS Backup selection or a maintenance window declare what they protect,
 * so that `EbsBackupChecks` counts them.
 *
 * @example
 * declare const job: CfnResource; // e.g. the L1 state machine of a snapshot job
 * BackupCoverage.declare(job, { resourceTypes: [CoverageResourceType.INSTANCE], tags: { App: 'orders' } });
 */
export class BackupCoverage {
  /** The construct metadata key under which coverage declarations are recorded. */
  public static readonly METADATA_KEY = COVERAGE_METADATA_KEY;

  /**
   * Declare on `resource` (its CloudFormation Metadata) that it backs up the resources of the given
   * types that carry all the given tags. Several declarations on one resource add up.
   */
  public static declare(resource: CfnResource, options: BackupCoverageOptions): void {
    checkCount(resource, 'resourceTypes', options.resourceTypes, 1, 2);
    checkTags(resource, 'tags', options.tags);
    if (Object.keys(options.tags).length === 0) {
      fail(resource, 'tags', 'must name at least one tag (coverage of every resource is what DLM default policies are for)', options.tags);
    }
    const entry = { resourceTypes: [...new Set(options.resourceTypes)], tags: { ...options.tags } };
    const existing = resource.getMetadata(COVERAGE_METADATA_KEY);
    const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
    resource.addMetadata(COVERAGE_METADATA_KEY, [...list, entry]);
  }

  private constructor() {}
}
