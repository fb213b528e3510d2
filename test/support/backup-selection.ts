/**
 * AWS Backup's documented resource-assignment semantics, as a small evaluator, so tests model what
 * AWS Backup selects rather than what we render. Sources: AWS Backup API reference,
 * `BackupSelection` ("If you specify multiple ARNs, the resources much match any of the ARNs (OR
 * logic)"; `ListOfTags` ORs; "If you specify multiple conditions, the resources much match all
 * conditions (AND logic)"); CloudFormation `AWS::Backup::BackupSelection BackupSelectionResourceType`;
 * AWS Knowledge Center "assign resources to a backup plan" (example 2: `Resources` and
 * `ListOfTags` are ORed); "Assigning resources programmatically" (`NotResources` excludes; no
 * `Resources`/`ListOfTags` means every supported resource).
 */
import { renderIntrinsics } from './managed-policy-parity';

/** A resource AWS Backup could select: its ARN and tags. */
export interface SampleResource {
  readonly arn: string;
  readonly tags: Record<string, string>;
}

const glob = (pattern: string, value: string) =>
  new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$').test(value);

function tagOf(resource: SampleResource, conditionKey: string): string | undefined {
  return resource.tags[conditionKey.replace(/^aws:ResourceTag\//, '')];
}

/** Whether one `BackupSelection` (as rendered in the template) selects `resource`. */
export function selects(selection: any, resource: SampleResource): boolean {
  const s = renderIntrinsics(selection);
  const arns: string[] = s.Resources ?? [];
  const listOfTags: any[] = s.ListOfTags ?? [];
  const byArn = arns.some((a) => glob(a, resource.arn));
  const byTag = listOfTags.some((t) => t.ConditionType === 'STRINGEQUALS' && resource.tags[t.ConditionKey] === t.ConditionValue);
  const included = (arns.length === 0 && listOfTags.length === 0) || byArn || byTag;
  const c = s.Conditions ?? {};
  const all = [
    ...(c.StringEquals ?? []).map((x: any) => tagOf(resource, x.ConditionKey) === x.ConditionValue),
    ...(c.StringNotEquals ?? []).map((x: any) => tagOf(resource, x.ConditionKey) !== x.ConditionValue),
    ...(c.StringLike ?? []).map((x: any) => { const v = tagOf(resource, x.ConditionKey); return v !== undefined && glob(x.ConditionValue, v); }),
    ...(c.StringNotLike ?? []).map((x: any) => { const v = tagOf(resource, x.ConditionKey); return v === undefined || !glob(x.ConditionValue, v); }),
  ].every(Boolean);
  const excluded = (s.NotResources ?? []).some((a: string) => glob(a, resource.arn));
  return included && all && !excluded;
}

/** The ARNs of `resources` that any `AWS::Backup::BackupSelection` of `template` selects (selections are ORed). */
export function selectedBy(template: any, resources: readonly SampleResource[]): string[] {
  const selections = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::Backup::BackupSelection').map((r) => r.Properties.BackupSelection);
  return resources.filter((r) => selections.some((s) => selects(s, r))).map((r) => r.arn);
}
