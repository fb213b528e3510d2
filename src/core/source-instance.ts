import { IConstruct } from 'constructs';
import { BackupTagging } from './tagging';

/**
 * The tag that names the instance a snapshot or AMI was taken of (`backup:source-instance`).
 * EC2's DescribeSnapshots names no instance, so every creator that snapshots instances records it
 * at creation, and a RestoreDrill groups snapshot sets by it: one machine per drill.
 */
export function sourceInstanceTagKey(scope: IConstruct): string {
  return BackupTagging.key(scope, 'source-instance');
}
