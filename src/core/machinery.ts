import { Tags } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { MACHINERY_RESOURCE_TYPES } from './destructive-actions';
import { BackupTagging } from './tagging';

/** The constructs `protectAsMachinery` was called on: the library's jobs, as they are created. */
const MACHINERY_ROOTS = new WeakSet<IConstruct>();

/** Whether `construct` is, or is part of, a construct the library protects as its machinery. */
export function isMachinery(construct: IConstruct): boolean {
  return construct.node.scopes.some((c) => MACHINERY_ROOTS.has(c));
}

/** The value of the managed-by tag on the library's own jobs (their functions, machines, windows, ...). */
export const MACHINERY_TAG_VALUE = 'cdk-ebs-backup';

/**
 * Tag the library's machinery under `construct` (its functions, state machines, SSM documents,
 * windows and associations, EventBridge rules, alarms, topics and keys: `MACHINERY_RESOURCE_TYPES`)
 * with the managed-by key at creation. The write-once guard's machinery statements
 * (`DenyMachineryChanges`, `DenyMachineryTagChanges`) protect whatever carries it: only
 * break-glass and the deployment principals may rewrite, silence or untag a job whose roles are
 * exempt from the data denies. Other resources under `construct` are not tagged.
 */
export function protectAsMachinery(construct: IConstruct): void {
  MACHINERY_ROOTS.add(construct);
  Tags.of(construct).add(BackupTagging.keys(construct).managedBy, MACHINERY_TAG_VALUE, {
    includeResourceTypes: [...MACHINERY_RESOURCE_TYPES],
  });
}
