import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * "Never fail, then fail with the first": a Map whose iterations never fail (each records
 * `{ failed: true, ... }` instead) runs every item even when some fail, and the state after it
 * then fails with the first failed item's error. Step Functions fails an inline Map at its first
 * failed iteration and stops the others
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html), which would leave
 * instances frozen (a thaw batch) or stopped (an AMI child execution).
 *
 * The Map's `ResultSelector`: whether any iteration failed, and every iteration's result.
 */
export function failureFlaggedResult(): { [key: string]: unknown } {
  return {
    // JsonPath.arrayContains renders no boolean literal
    'failed.$': 'States.ArrayContains($[*].failed, true)',
    'results': sfn.JsonPath.objectAt('$'),
  };
}

export interface FirstFailureOptions {
  /** Where the Map wrote `failureFlaggedResult()`; the failures replace it there. */
  readonly resultPath: string;
  /** The name of the Choice on the Map's `failed` flag. */
  readonly choiceName: string;
  /** The name of the Pass that lists the failed results. */
  readonly collectName: string;
  /** The part of each failed result that is listed (e.g. `.error`). @default the whole result */
  readonly field?: string;
  /** List `count` (how many items the Map ran) beside the failures. @default false */
  readonly count?: boolean;
  /** Where a failure goes: `<resultPath>.failures[0]` is the first failed result (its `field`). */
  readonly onFailure: sfn.IChainable;
  /** Where a run with no failure goes. */
  readonly onSuccess: sfn.IChainable;
}

/** The Choice after a Map with `failureFlaggedResult()`: every failure listed, then `onFailure`; else `onSuccess`. */
export function firstFailure(scope: Construct, o: FirstFailureOptions): sfn.Choice {
  const collect = new sfn.Pass(scope, o.collectName, {
    stateName: o.collectName,
    parameters: {
      failures: sfn.JsonPath.listAt(`${o.resultPath}.results[?(@.failed == true)]${o.field ?? ''}`),
      ...o.count ? { count: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt(`${o.resultPath}.results`)) } : {},
    },
    resultPath: o.resultPath,
  });
  collect.next(o.onFailure);
  return new sfn.Choice(scope, o.choiceName, { stateName: o.choiceName })
    .when(sfn.Condition.booleanEquals(`${o.resultPath}.failed`, true), collect)
    .otherwise(o.onSuccess);
}
