import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { CaptureRendering } from './capture';
import { failureFlaggedResult, firstFailure } from './first-failure';
import { retryTransient } from './poll';
import { SnapshotStep } from './snapshot-step';
import { sdkCall, SNAPSHOT_PAGE_SIZE } from '../core/sdk-call';

/** Everything the workflow needs from the job. */
export interface WorkflowConfig {
  readonly purpose: string;
  readonly jobPath: string;
  readonly instanceTags?: Record<string, string>;
  readonly instanceIds?: string[];
  readonly before: SnapshotStep[];
  readonly after: SnapshotStep[];
  readonly capture: (scope: Construct) => CaptureRendering;
  readonly maxConcurrency: number;
  readonly completionTimeout?: Duration;
  readonly maxPauseWindow?: Duration;
  readonly expiryFunction: lambda.IFunction;
  readonly metricsFunction: lambda.IFunction;
  readonly topic: sns.ITopic;
}

/** The label of the capture's map run, when it runs child executions: their ARNs are `execution:<machine>/<label>:<id>`. */
export const CAPTURE_MAP_RUN_LABEL = 'Capture';

/** DescribeInstances page size: 20 records of about 3 KiB (at most ~12 KiB) stay far below 256 KiB. */
export const INSTANCE_PAGE_SIZE = 20;
/** The most polls of a run's verification (at least 30 s apart): 240, each about 15 history events. */
export const VERIFY_MAX_POLLS = 240;
/** Image ids per DescribeImages verification call (about 70 KiB of records); snapshots are found by tag. */
export const VERIFY_BATCH_SIZE = 100;

const ERROR = '$.error';

/** Step Functions' limit on a state's input or output and on a connector result (service quotas page). */
const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;
/** Headroom for everything else a payload carries (purpose, guard, pause, step results, a describe page's token): 32 KiB. */
const STATE_HEADROOM_BYTES = 32 * 1024;
/**
 * What one snapshot costs in the capture's Map result, the largest payload that grows with the
 * snapshots: its state, `"pending"` and a comma, 10 bytes (its id stays out of the state; the
 * verification finds the snapshots by the execution tag). An instance costs `{"states":[]},`, 14
 * bytes, there: counted as two snapshots.
 */
const SNAPSHOT_ENTRY_BYTES = 10;
/**
 * What one instance costs where the state carries the most instance ids: a Run Command step holds
 * them twice, in `$.instances.ids` and in its batches (`"i-` and 17 hex digits`"` and a comma, 22
 * bytes each).
 */
const INSTANCE_ID_BYTES = 2 * 22;

/**
 * The most EBS volumes, plus two for each instance, one run of a snapshot job captures within
 * Step Functions' 256 KiB per payload: (256 KiB - 32 KiB headroom) / 10 bytes = 22,937. Measured
 * in the scale harness at the bound (test/scale/job-scale.test.ts).
 */
export const MAX_CAPTURE_UNITS = Math.floor((STATE_PAYLOAD_LIMIT_BYTES - STATE_HEADROOM_BYTES) / SNAPSHOT_ENTRY_BYTES);

/** Step Functions' limit on a standard execution's history (service quotas page). */
const HISTORY_EVENT_LIMIT = 25_000;
/** History events of one verification poll (wait, describe, count, two choices), rounded up. */
const EVENTS_PER_POLL = 15;
/** History events of one page of the verification's count (describe, add, choice), rounded up. */
const EVENTS_PER_COUNT_PAGE = 10;
/**
 * History events per instance: its Map iteration (7), its share of a DescribeInstances page and of
 * a Run Command step's batch. Measured 8.3 in the scale harness with a freeze and a thaw step.
 */
const EVENTS_PER_INSTANCE = 9;
/** Headroom for the fixed states, retries, more steps and longer Run Command polls. */
const EVENT_HEADROOM = 2_000;

/**
 * The most instances one run of a snapshot job captures: each instance adds about 9 events to
 * the execution's history (25,000 at most), beside a verification's worst case (240 polls and a
 * count of MAX_CAPTURE_UNITS snapshots): 1,900. Their ids in the state (44 bytes each in a Run
 * Command step, 5,213 within 224 KiB) bind later.
 */
export const MAX_JOB_INSTANCES = Math.min(
  Math.floor((STATE_PAYLOAD_LIMIT_BYTES - STATE_HEADROOM_BYTES) / INSTANCE_ID_BYTES),
  Math.floor((HISTORY_EVENT_LIMIT - VERIFY_MAX_POLLS * EVENTS_PER_POLL - Math.ceil(MAX_CAPTURE_UNITS / SNAPSHOT_PAGE_SIZE) * EVENTS_PER_COUNT_PAGE
    - EVENT_HEADROOM) / EVENTS_PER_INSTANCE),
);

/**
 * The job's state machine definition (JSONPath).
 *
 * The one property that matters: once the first `before` step has started, every path (a failed
 * or timed-out step, a failed CreateSnapshots, a failed `after` step) runs every `after` step,
 * in reverse order, before the execution ends. Only the pre-flight checks (concurrency, instance
 * discovery, the snapshot run's size) fail without them, because nothing has been changed yet. No state-machine-level
 * timeout: it would end the execution without the `after` steps, so every state is bounded
 * instead (step timeouts, bounded polls).
 */
export function buildWorkflow(scope: Construct, c: WorkflowConfig): sfn.IChainable {
  const d = scope;

  // ---- failure tail: metrics, notification, Fail with the first error -------------------------
  const failed = new sfn.Fail(d, 'Failed', { stateName: 'Failed', errorPath: `${ERROR}.Error`, causePath: `${ERROR}.Cause` });
  const notify = new tasks.SnsPublish(d, 'NotifyFailure', {
    stateName: 'NotifyFailure',
    topic: c.topic,
    subject: `Snapshot job '${c.purpose}' failed`.slice(0, 99),
    message: sfn.TaskInput.fromObject({
      job: c.jobPath,
      purpose: c.purpose,
      executionId: sfn.JsonPath.executionId,
      error: sfn.JsonPath.objectAt(ERROR),
      afterStepErrors: sfn.JsonPath.objectAt('$.afterErrors'),
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  notify.addCatch(failed, { resultPath: '$.notifyError' });
  const reportFailure = report(d, 'ReportFailure', c, 'FAILED');
  reportFailure.addCatch(notify, { resultPath: '$.reportError' });
  reportFailure.next(notify).next(failed);
  const setError = (id: string, error: string, cause: string) => new sfn.Pass(d, id, {
    stateName: id, result: sfn.Result.fromObject({ Error: error, Cause: cause }), resultPath: ERROR,
  }).next(reportFailure);

  // ---- success tail: collect, verify, expire, metrics -----------------------------------------
  const rendering = c.capture(new Construct(d, 'Iteration'));
  const succeeded = new sfn.Succeed(d, 'Succeeded', { stateName: 'Succeeded' });
  const reportSuccess = report(d, 'ReportSuccess', c, 'SUCCEEDED');
  reportSuccess.addCatch(succeeded, { resultPath: '$.reportError' });
  reportSuccess.next(succeeded);
  const expire = new tasks.LambdaInvoke(d, 'ExpireOldArtefacts', {
    stateName: 'ExpireOldArtefacts',
    lambdaFunction: c.expiryFunction,
    payload: sfn.TaskInput.fromObject({ executionId: sfn.JsonPath.executionId }),
    payloadResponseOnly: true,
    resultSelector: {
      found: sfn.JsonPath.numberAt('$.found'),
      expired: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.expired')),
      dryRun: sfn.JsonPath.stringAt('$.dryRun'),
    },
    resultPath: '$.expiry',
    taskTimeout: sfn.Timeout.duration(Duration.minutes(6)),
  });
  retryTransient(expire, 2, Duration.seconds(10));
  expire.addCatch(reportFailure, { resultPath: ERROR });
  expire.next(reportSuccess);
  let successTail: sfn.IChainable = expire;
  if (c.completionTimeout) {
    // every 30 s, or less often for a long timeout: at most VERIFY_MAX_POLLS polls (each about 15
    // history events) keep the execution far below Step Functions' 25,000 events
    const timeout = c.completionTimeout.toSeconds();
    const interval = Duration.seconds(Math.max(30, Math.ceil(timeout / VERIFY_MAX_POLLS)));
    successTail = rendering.verify(
      interval,
      Math.max(1, Math.ceil(timeout / interval.toSeconds())),
      expire,
      setError('VerificationFailed', 'SnapshotJob.VerificationFailed', `a ${rendering.resourceType} failed or is missing`),
      setError('VerificationTimedOut', 'SnapshotJob.CompletionTimeout', `not every ${rendering.resourceType} completed within ${c.completionTimeout.toHumanString()}`),
    );
  }
  // with ids in the state (AMIs), the ids are replaced by batches for the verification's describe
  // calls (each batch's records stay small); snapshots carry their count only
  let count: sfn.IChainable = successTail;
  if (rendering.idsPath) {
    count = new sfn.Pass(d, 'CountArtefacts', {
      stateName: 'CountArtefacts',
      parameters: {
        batches: sfn.JsonPath.arrayPartition(sfn.JsonPath.listAt('$.artefacts.ids'), VERIFY_BATCH_SIZE),
        count: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.artefacts.ids')),
      },
      resultPath: '$.artefacts',
    }).next(successTail);
  }

  // ---- outcome: after the after steps -----------------------------------------------------------
  const afterNames = c.after.map((_, i) => `After${i + 1}`);
  const outcome = new sfn.Choice(d, 'Outcome', { stateName: 'Outcome' })
    .when(sfn.Condition.isPresent(ERROR), reportFailure);
  if (afterNames.length > 0) {
    // only with after steps: the CDK renders a state that links to the tail even when nothing
    // reaches it, and Step Functions rejects a definition with an unreachable state
    const afterFailed = new sfn.Pass(d, 'AfterStepFailed', {
      stateName: 'AfterStepFailed',
      parameters: { Error: 'SnapshotJob.AfterStepFailed', Cause: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.afterErrors')) },
      resultPath: ERROR,
    }).next(reportFailure);
    outcome.when(sfn.Condition.or(...afterNames.map((n) => sfn.Condition.isPresent(`$.afterErrors.${n}`))), afterFailed);
  }
  outcome.otherwise(count);

  // ---- after steps, last first; each one's failure is recorded and the next still runs ---------
  let afterEntry: sfn.IChainable = outcome;
  for (let i = 0; i < c.after.length; i++) {
    const { state } = c.after[i]._render({ scope: d, name: afterNames[i], phase: 'after', purpose: c.purpose, instanceIdsPath: '$.instances.ids' });
    state.addCatch(afterEntry, { errors: [sfn.Errors.ALL], resultPath: `$.afterErrors.${afterNames[i]}` });
    state.next(afterEntry);
    afterEntry = state;
  }

  // ---- capture, inside the pause window ---------------------------------------------------------
  const pauseEnded = new sfn.Pass(d, 'PauseEnded', {
    stateName: 'PauseEnded',
    parameters: { startedAt: sfn.JsonPath.stringAt('$.pause.startedAt'), endedAt: sfn.JsonPath.stateEnteredTime },
    resultPath: '$.pause',
  });
  pauseEnded.next(afterEntry);
  const capture = rendering.childExecutions ? childExecutionCapture(d, c, rendering, pauseEnded) : inlineCapture(d, c, rendering);
  capture.addCatch(pauseEnded, { errors: [sfn.Errors.ALL], resultPath: ERROR });
  if (!rendering.childExecutions) {
    capture.next(pauseEnded);
  }
  const pauseStarted = new sfn.Pass(d, 'PauseStarted', {
    stateName: 'PauseStarted', parameters: { startedAt: sfn.JsonPath.stateEnteredTime }, resultPath: '$.pause',
  });
  pauseStarted.next(capture);

  // ---- before steps, in order; a failure goes straight to the after steps ----------------------
  let beforeEntry: sfn.IChainable = pauseStarted;
  for (let i = c.before.length - 1; i >= 0; i--) {
    const { state } = c.before[i]._render({
      scope: d, name: `Before${i + 1}`, phase: 'before', purpose: c.purpose, instanceIdsPath: '$.instances.ids', maxPauseWindow: c.maxPauseWindow,
    });
    state.addCatch(afterEntry, { errors: [sfn.Errors.ALL], resultPath: ERROR });
    state.next(beforeEntry);
    beforeEntry = state;
  }

  // ---- pre-flight: one run at a time, find the instances -----------------------------------------
  const checkInstances = new sfn.Choice(d, 'CheckInstances', { stateName: 'CheckInstances' });
  // a Choice needs at least one rule (ASL): without any check the instances go straight on
  const literalIds = c.instanceIds && !Token.isUnresolved(c.instanceIds) ? c.instanceIds : undefined;
  if (literalIds) {
    checkInstances.when(sfn.Condition.not(sfn.Condition.numberEquals('$.instances.count', literalIds.length)),
      setError('InstancesMissing', 'SnapshotJob.InstancesMissing', `not all of the ${literalIds.length} instances are running`));
  }
  checkInstances.otherwise(beforeEntry);

  // DescribeInstances in bounded pages: an instance record is about 3 KiB (up to ~12 KiB with many
  // interfaces, volumes and tags), so 20 per page stay far below the 256 KiB connector limit. Each
  // page keeps only its instance ids, chained to the previous pages' ({ prev, ids }): JSONPath has
  // no array concatenation, and a deep scan flattens the chain at the end.
  const filters = [
    ...c.instanceIds ? [{ Name: 'instance-id', Values: c.instanceIds }] : [],
    ...Object.entries(c.instanceTags ?? {}).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
    { Name: 'instance-state-name', Values: ['running'] },
  ];
  const describePage = (id: string, first: boolean) => {
    const task = sdkCall(d, id, 'ec2:DescribeInstances', {
      iamResources: ['*'],
      parameters: {
        Filters: filters,
        MaxResults: INSTANCE_PAGE_SIZE,
        ...first ? {} : { NextToken: sfn.JsonPath.stringAt('$.instances.page.NextToken') },
      },
      // the page as returned, until its ids are taken: a wildcard path over an empty list is an error
      resultPath: '$.instances.page',
    });
    retryTransient(task);
    task.addCatch(reportFailure, { resultPath: ERROR });
    return task;
  };
  const describe = describePage('DescribeInstances', true);
  const describeMore = describePage('DescribeMoreInstances', false);
  // the running count of EBS volumes ($.instances.found.volumes) for the pre-flight size check; a
  // wildcard path that matches nothing is an error, so a page whose first instance has no block
  // device mapping (an instance-store instance) adds none
  const collectPageWith = (id: string, volumes: string | number) => new sfn.Pass(d, id, {
    stateName: id,
    parameters: {
      prev: sfn.JsonPath.objectAt('$.instances.found'),
      ids: sfn.JsonPath.listAt('$.instances.page.Reservations[*].Instances[*].InstanceId'),
      volumes,
    },
    resultPath: '$.instances.found',
  });
  const collectPage = collectPageWith('CollectInstancePage', sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.instances.found.volumes'),
    sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.instances.page.Reservations[*].Instances[*].BlockDeviceMappings[*].Ebs.VolumeId')) as any));
  const collectPageWithoutVolumes = collectPageWith('CollectInstancePageWithoutVolumes', sfn.JsonPath.numberAt('$.instances.found.volumes'));
  const morePages = new sfn.Choice(d, 'MoreInstancePages', { stateName: 'MoreInstancePages' });
  const pageHasInstances = new sfn.Choice(d, 'PageHasInstances', { stateName: 'PageHasInstances' })
    .when(sfn.Condition.isPresent('$.instances.page.Reservations[0].Instances[0].BlockDeviceMappings[0].Ebs.VolumeId'), collectPage)
    .when(sfn.Condition.isPresent('$.instances.page.Reservations[0]'), collectPageWithoutVolumes)
    .otherwise(morePages);
  collectPage.next(morePages);
  collectPageWithoutVolumes.next(morePages);
  describe.next(pageHasInstances);
  describeMore.next(pageHasInstances);
  const listIds = new sfn.Pass(d, 'ListInstanceIds', {
    stateName: 'ListInstanceIds',
    parameters: { ids: sfn.JsonPath.listAt('$.instances.found..ids[*]'), volumes: sfn.JsonPath.numberAt('$.instances.found.volumes') },
    resultPath: '$.instances',
  });
  const anyInstances = new sfn.Choice(d, 'AnyInstances', { stateName: 'AnyInstances' })
    .when(sfn.Condition.isPresent('$.instances.found.ids'), listIds)
    .otherwise(setError('NoInstances', 'SnapshotJob.NoInstances', 'no running instance matches the job\'s instance selection'));
  morePages.when(sfn.Condition.isPresent('$.instances.page.NextToken'), describeMore).otherwise(anyInstances);
  const countInstances = new sfn.Pass(d, 'CountInstances', {
    stateName: 'CountInstances',
    parameters: {
      ids: sfn.JsonPath.listAt('$.instances.ids'),
      count: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.instances.ids')),
      volumes: sfn.JsonPath.numberAt('$.instances.volumes'),
      // what the capture's result will carry, in snapshot entries: one per volume and two per instance (MAX_CAPTURE_UNITS)
      units: sfn.JsonPath.mathAdd(
        sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.instances.volumes'), sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.instances.ids')) as any) as any,
        sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.instances.ids')) as any),
    },
    resultPath: '$.instances',
  });
  let afterDiscovery: sfn.IChainable = literalIds ? checkInstances : beforeEntry;
  if (rendering.resourceType === 'snapshot') {
    // the capture's result holds an entry per snapshot and per instance, and Step Functions fails
    // a payload over 256 KiB with States.DataLimitExceeded, which no Catch handles: inside the
    // pause window that would end the run without its after steps. So a run too large fails here,
    // before any before step, as any failure does (metrics, notification, alarm). Every EBS
    // volume counts (with excludeBootVolume the boot volume too: the bound errs on the safe side).
    const tooLarge = new sfn.Pass(d, 'JobTooLarge', {
      stateName: 'JobTooLarge',
      parameters: {
        Error: 'SnapshotJob.JobTooLarge',
        Cause: sfn.JsonPath.format(
          `{} volumes across {} instances count as {} (two more for each instance); one run captures at most ${MAX_CAPTURE_UNITS} across at most ${MAX_JOB_INSTANCES} instances (Step Functions' 256 KiB payload limit): split the selection by tag into several jobs`,
          sfn.JsonPath.stringAt('$.instances.volumes'), sfn.JsonPath.stringAt('$.instances.count'), sfn.JsonPath.stringAt('$.instances.units')),
      },
      resultPath: ERROR,
    }).next(reportFailure);
    const checkSize = new sfn.Choice(d, 'CheckJobSize', { stateName: 'CheckJobSize' })
      .when(sfn.Condition.or(
        sfn.Condition.numberGreaterThan('$.instances.units', MAX_CAPTURE_UNITS),
        sfn.Condition.numberGreaterThan('$.instances.count', MAX_JOB_INSTANCES)), tooLarge)
      .otherwise(afterDiscovery);
    afterDiscovery = checkSize;
  }
  listIds.next(countInstances).next(afterDiscovery);

  const listRunning = new tasks.CallAwsService(d, 'ListRunningExecutions', {
    stateName: 'ListRunningExecutions',
    service: 'sfn',
    action: 'listExecutions',
    iamAction: 'states:ListExecutions',
    // its own ARN would make the role depend on the state machine: a cycle; listing is read-only
    iamResources: [Stack.of(d).formatArn({ service: 'states', resource: 'stateMachine', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    parameters: { StateMachineArn: sfn.JsonPath.stateMachineId, StatusFilter: 'RUNNING', MaxResults: 2 },
    resultSelector: { running: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.Executions')), executions: sfn.JsonPath.objectAt('$.Executions') },
    resultPath: '$.guard',
  });
  retryTransient(listRunning);
  listRunning.addCatch(reportFailure, { resultPath: ERROR });
  // two runs would interleave their before and after steps: the second one stops here. The list is
  // eventually consistent, so this run may be missing from it; the rules are ordered so that no
  // rule reads an execution that is not there (a States.Runtime error no Catch handles).
  const alreadyRunning = setError('AlreadyRunning', 'SnapshotJob.AlreadyRunning', 'another execution of this job is running');
  const guard = new sfn.Choice(d, 'OneRunAtATime', { stateName: 'OneRunAtATime' })
    .when(sfn.Condition.numberGreaterThan('$.guard.running', 1), alreadyRunning)
    .when(sfn.Condition.numberEquals('$.guard.running', 0), describe)
    .when(sfn.Condition.not(sfn.Condition.stringEqualsJsonPath('$.guard.executions[0].ExecutionArn', sfn.JsonPath.executionId)), alreadyRunning)
    .otherwise(describe);
  listRunning.next(guard);

  const start = new sfn.Pass(d, 'Start', {
    stateName: 'Start',
    // the execution input is ignored: the job's behaviour is fixed at synthesis
    parameters: { purpose: c.purpose, pause: {}, afterErrors: {}, instances: { found: { volumes: 0 } } },
  });
  return start.next(listRunning);
}

/** The capture as an inline Map: every iteration in the job's own history. */
function inlineCapture(d: Construct, c: WorkflowConfig, rendering: CaptureRendering): sfn.Map {
  const capture = new sfn.Map(d, 'Capture', {
    stateName: 'Capture',
    itemsPath: '$.instances.ids',
    itemSelector: { instanceId: sfn.JsonPath.stringAt('$$.Map.Item.Value') },
    // all instances at once, as close together in time as the API allows
    maxConcurrency: c.maxConcurrency,
    // the artefact count, and the ids only where the job carries them (AMIs, one per instance)
    resultSelector: {
      count: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt(rendering.countPath)),
      ...rendering.idsPath ? { ids: sfn.JsonPath.listAt(rendering.idsPath) } : {},
    },
    resultPath: '$.artefacts',
  });
  capture.itemProcessor(rendering.iteration);
  return capture;
}

/**
 * The capture as a distributed Map: one child execution per instance, each with its own history
 * (its own 25,000 events), while the job's history holds a few map-run events
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html). A child never
 * fails (it records its failure in its result), so no failure stops the other children while
 * their instances are stopped; the job fails afterwards with the first child's error.
 */
function childExecutionCapture(d: Construct, c: WorkflowConfig, rendering: CaptureRendering, pauseEnded: sfn.IChainable): sfn.DistributedMap {
  const capture = new sfn.DistributedMap(d, 'Capture', {
    stateName: 'Capture',
    itemsPath: '$.instances.ids',
    // a child's $$.Execution is its own: the job's execution id and name tag and name the images
    itemSelector: {
      instanceId: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
      job: { executionId: sfn.JsonPath.executionId, executionName: sfn.JsonPath.executionName },
    },
    maxConcurrency: c.maxConcurrency,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    label: CAPTURE_MAP_RUN_LABEL,
    // each child's result is small ({ imageId } or { instanceId, Error }): 1,000 stay about 100 KiB
    resultSelector: failureFlaggedResult(),
    resultPath: '$.artefacts',
  });
  capture.itemProcessor(rendering.iteration);
  const collect = new sfn.Pass(d, 'CollectArtefacts', {
    stateName: 'CollectArtefacts',
    parameters: { ids: sfn.JsonPath.listAt(`$.artefacts.results${rendering.idsPath!.slice(1)}`) },
    resultPath: '$.artefacts',
  }).next(pauseEnded);
  const captureFailed = new sfn.Pass(d, 'InstanceCaptureFailed', {
    stateName: 'InstanceCaptureFailed',
    parameters: {
      Error: sfn.JsonPath.stringAt('$.artefacts.failures[0].Error'),
      Cause: sfn.JsonPath.format('{} of {} instances failed, the first {} with {} (each cause is in its child execution of map run Capture)',
        sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.artefacts.failures')), sfn.JsonPath.stringAt('$.artefacts.count'),
        sfn.JsonPath.stringAt('$.artefacts.failures[0].instanceId'), sfn.JsonPath.stringAt('$.artefacts.failures[0].Error')),
    },
    resultPath: ERROR,
  });
  captureFailed.next(pauseEnded);
  capture.next(firstFailure(d, {
    resultPath: '$.artefacts',
    choiceName: 'EveryInstanceCaptured',
    collectName: 'CollectCaptureFailures',
    field: '.error',
    count: true,
    onFailure: captureFailed,
    onSuccess: collect,
  }));
  return capture;
}

function report(scope: Construct, id: string, c: WorkflowConfig, outcome: string): tasks.LambdaInvoke {
  return new tasks.LambdaInvoke(scope, id, {
    stateName: id,
    lambdaFunction: c.metricsFunction,
    payload: sfn.TaskInput.fromObject({
      outcome,
      executionId: sfn.JsonPath.executionId,
      pause: sfn.JsonPath.objectAt('$.pause'),
      ...(outcome === 'SUCCEEDED' ? { artefacts: sfn.JsonPath.numberAt('$.artefacts.count') } : {}),
    }),
    payloadResponseOnly: true,
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
  });
}
