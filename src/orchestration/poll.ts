import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** A bounded polling loop: wait, check, decide; give up after `maxPolls` checks. */
export interface PollLoopOptions {
  /** The pause before each check. */
  readonly interval: Duration;
  /** How many checks before `onTimeout`. */
  readonly maxPolls: number;
  /** Where the loop keeps its `{ count }` (under an object that exists). */
  readonly counterPath: string;
  /** The state that reads the status. */
  readonly check: sfn.State & sfn.INextable;
  /** An optional state after `check` that derives flags for the conditions. */
  readonly evaluate?: sfn.Pass;
  /**
   * True when the status is not there yet (an eventually consistent read): keep polling. Tested
   * first so that the other conditions never read a missing path (a States.Runtime error, which
   * no Catch can handle). Write it as `Not(IsPresent)`: aws-local-stepfunctions 3 evaluates
   * `IsPresent: false` as always false.
   */
  readonly pending?: sfn.Condition;
  readonly succeeded: sfn.Condition;
  /** A final failure; with `onFailed`. @default - no check ends the loop as failed */
  readonly failed?: sfn.Condition;
  readonly onSucceeded: sfn.IChainable;
  /** @default - none (only with `failed`) */
  readonly onFailed?: sfn.IChainable;
  readonly onTimeout: sfn.IChainable;
  /**
   * States after `onSucceeded` that find the work not done after all: each goes on to the next
   * poll, counted against `maxPolls` like any other. @default none
   */
  readonly pollAgain?: Array<sfn.INextable>;
}

/** Build the loop; state names start with `prefix`. */
export function pollLoop(scope: Construct, prefix: string, o: PollLoopOptions): sfn.Chain {
  const init = new sfn.Pass(scope, `${prefix}.StartPolling`, {
    stateName: `${prefix}.StartPolling`,
    result: sfn.Result.fromObject({ count: 0 }),
    resultPath: o.counterPath,
  });
  const wait = new sfn.Wait(scope, `${prefix}.Wait`, { stateName: `${prefix}.Wait`, time: sfn.WaitTime.duration(o.interval) });
  const count = new sfn.Pass(scope, `${prefix}.CountPoll`, {
    stateName: `${prefix}.CountPoll`,
    parameters: { count: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt(`${o.counterPath}.count`), 1) },
    resultPath: o.counterPath,
  });
  const limit = new sfn.Choice(scope, `${prefix}.PollLimit`, { stateName: `${prefix}.PollLimit` })
    .when(sfn.Condition.numberGreaterThanEquals(`${o.counterPath}.count`, o.maxPolls), o.onTimeout)
    .otherwise(wait);
  const decide = new sfn.Choice(scope, `${prefix}.Status`, { stateName: `${prefix}.Status` });
  if (o.pending) {
    decide.when(o.pending, limit);
  }
  if (o.failed && o.onFailed) {
    decide.when(o.failed, o.onFailed);
  }
  decide.when(o.succeeded, o.onSucceeded).otherwise(limit);
  for (const again of o.pollAgain ?? []) {
    again.next(limit);
  }
  const afterCheck = o.evaluate ? o.check.next(o.evaluate) : o.check;
  afterCheck.next(count);
  count.next(decide);
  return init.next(wait).next(o.check) as sfn.Chain;
}

/** Retry a state on transient failures (throttling, service errors) with capped, jittered backoff. */
export function retryTransient(
  state: { addRetry(props: sfn.RetryProps): unknown }, maxAttempts = 3, interval = Duration.seconds(2), errors = [sfn.Errors.TASKS_FAILED],
): void {
  state.addRetry({ errors, maxAttempts, interval, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
}
