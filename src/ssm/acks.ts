import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { acknowledge, nagRendering } from '../core/acknowledge';

/**
 * Add `statement` to `role` and acknowledge, with `reason`, the granular cdk-nag IAM5 findings
 * its wildcards raise (`AwsSolutions-IAM5[Resource::...]`, `[Action::...]`).
 *
 * `Validations.acknowledge()` rejects ids with more than one `::`, which every ARN built from
 * pseudo parameters has, so the same metadata entry it writes is written directly on the role.
 */
export function addAcknowledgedStatement(role: iam.IRole, statement: iam.PolicyStatement, reason: string): void {
  role.addToPrincipalPolicy(statement);
  acknowledgeStatement(role, statement, reason);
}

/** Acknowledge the IAM5 findings of `statement` (already added to a policy under `scope`). */
export function acknowledgeStatement(scope: IConstruct, statement: iam.PolicyStatement, reason: string): void {
  const json = Stack.of(scope).resolve(statement.toStatementJson());
  const ids: string[] = [];
  for (const r of [json.Resource ?? []].flat().map(nagRendering)) {
    if (r.includes('*')) {
      ids.push(`AwsSolutions-IAM5[Resource::${r}]`);
    }
  }
  for (const a of [json.Action ?? []].flat() as string[]) {
    if (a.includes('*')) {
      ids.push(`AwsSolutions-IAM5[Action::${a}]`);
    }
  }
  if (ids.length > 0) {
    acknowledge(scope, ...ids.map((id) => ({ id, reason })));
  }
}


/** Acknowledge one cdk-nag finding by its full (possibly granular) id, e.g. `AwsSolutions-IAM4[Policy::...]`. */
export function acknowledgeNagId(scope: IConstruct, id: string, reason: string): void {
  acknowledge(scope, { id, reason });
}
