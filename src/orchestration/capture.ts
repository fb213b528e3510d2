import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { pollLoop, retryTransient } from './poll';
import { sdkCall, SNAPSHOT_PAGE_SIZE } from '../core/sdk-call';
import { sourceInstanceTagKey } from '../core/source-instance';

/**
 * Options of multi-volume snapshots (`CreateSnapshots`), one call per instance.
 */
export interface SnapshotCaptureOptions {
  /**
   * Leave the root volume out, when only the data volumes hold what must be restored.
   *
   * @default false
   */
  readonly excludeBootVolume?: boolean;

  /**
   * Copy the volumes' own tags (Name, cost centre) onto the snapshots, besides the backup tags.
   *
   * @default false
   */
  readonly copyVolumeTags?: boolean;
}

/**
 * Options of AMIs (`CreateImage`), for root devices that must boot as they were.
 */
export interface ImageCaptureOptions {
  /**
   * Stop each instance, create the image, and start it again (the instance is started again on
   * every failure too). Without it the image is taken with `NoReboot`, which is only
   * crash-consistent.
   *
   * @default true
   */
  readonly stopInstance?: boolean;

  /**
   * How long to wait for an instance to stop before giving up (and starting it again).
   *
   * @default Duration.minutes(10)
   */
  readonly stopTimeout?: Duration;
}

/** What a job creates. */
export enum CaptureKind {
  /** Multi-volume EBS snapshots, crash-consistent across the volumes of an instance. */
  SNAPSHOTS = 'SNAPSHOTS',
  /** AMIs (with their EBS snapshots). */
  IMAGES = 'IMAGES',
}

/** @internal */
export interface CaptureRenderContext {
  readonly scope: Construct;
  /** The purpose tag value. */
  readonly purpose: string;
  /** Every tag an artefact carries, besides the execution id tag. */
  readonly tags: Record<string, string>;
  /** The key of the tag holding the execution id. */
  readonly executionTagKey: string;
  /** The description of each artefact. */
  readonly description: string;
}

/** @internal */
export interface CaptureRendering {
  /** The Map item processor, run for `{ instanceId }`. */
  readonly iteration: sfn.IChainable;
  /**
   * The JSONPath, over the Map's result (one entry per instance), of every artefact id, when the
   * job carries the ids (AMIs: one per instance). Snapshots carry none: their verification finds
   * them by the execution tag. @default - the ids stay out of the state
   */
  readonly idsPath?: string;
  /** The JSONPath, over the Map's result, of one short entry per artefact: their number is the artefact count. */
  readonly countPath: string;
  /**
   * Build a poll of every artefact's state. The artefact count is at `$.artefacts.count`; with
   * `idsPath`, the ids are at `$.artefacts.batches` (lists of at most VERIFY_BATCH_SIZE).
   */
  readonly verify: (interval: Duration, maxPolls: number, done: sfn.IChainable, failed: sfn.IChainable, timeout: sfn.IChainable) => sfn.Chain;
  /** What the artefacts are called in messages and the expiry handler. */
  readonly resourceType: 'snapshot' | 'image';
  /**
   * Each iteration runs as a child execution of a distributed Map (its own history of 25,000
   * events), reads the job's execution id and name at `$.job`, and never fails: it returns
   * `{ imageId, failed: false }` or `{ failed: true, error: { instanceId, Error } }`, so that no
   * failed instance aborts the others mid-stop (each one starts its own instance again).
   */
  readonly childExecutions?: boolean;
}

/** Where a child execution finds the job's execution (its own `$$.Execution` is the child's). */
const JOB_EXECUTION_ID = '$.job.executionId';
const JOB_EXECUTION_NAME = '$.job.executionName';

/**
 * What a `ConsistentSnapshotJob` creates for each instance: multi-volume snapshots (the default)
 * or AMIs.
 */
export class Capture {
  /**
   * One multi-volume `CreateSnapshots` per instance: all its volumes at the same moment, and all
   * instances as close together as the API allows (the calls run in parallel).
   */
  public static snapshots(options: SnapshotCaptureOptions = {}): Capture {
    return new Capture(CaptureKind.SNAPSHOTS, (ctx) => renderSnapshots(ctx, options));
  }

  /**
   * One AMI per instance, for root devices: stop, create the image, start (or a no-reboot image).
   *
   * With `stopInstance`, each instance runs as a child execution of a distributed Map (its own
   * history, so 1,000 instances stay within Step Functions' 25,000 events per execution); the
   * job's role may start, describe and stop its own executions only. A failed instance is started
   * again and does not stop the others; the job then fails with the first failed instance's error.
   */
  public static images(options: ImageCaptureOptions = {}): Capture {
    const stopTimeout = options.stopTimeout ?? Duration.minutes(10);
    if (!stopTimeout.isUnresolved() && (stopTimeout.toSeconds({ integral: false }) < 30 || stopTimeout.toHours({ integral: false }) > 2)) {
      throw new Error(`Capture.images: stopTimeout must be between 30 seconds and 2 hours, got ${stopTimeout.toHumanString()}`);
    }
    return new Capture(CaptureKind.IMAGES, (ctx) => renderImages(ctx, options.stopInstance ?? true, stopTimeout));
  }

  /** What is created. */
  public readonly kind: CaptureKind;

  private readonly build: (ctx: CaptureRenderContext) => CaptureRendering;

  private constructor(kind: CaptureKind, build: (ctx: CaptureRenderContext) => CaptureRendering) {
    this.kind = kind;
    this.build = build;
  }

  /** @internal */
  public _render(ctx: CaptureRenderContext): CaptureRendering {
    return this.build(ctx);
  }
}

/** `[{ Key, Value }]` with the execution id tag taken from the context object. */
function tagSpec(ctx: CaptureRenderContext, executionId = sfn.JsonPath.executionId): Array<{ Key: string; Value: string }> {
  return [
    ...Object.entries(ctx.tags).map(([Key, Value]) => ({ Key, Value })),
    { Key: ctx.executionTagKey, Value: executionId },
  ];
}

function ec2Arn(scope: Construct, resource: string, withAccount = true): string {
  return Stack.of(scope).formatArn({ service: 'ec2', resource, resourceName: '*', account: withAccount ? undefined : '' });
}

/** Tag-on-create needs ec2:CreateTags, allowed only as part of `createAction`. */
function createTagsOn(createAction: string, resources: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['ec2:CreateTags'],
    resources,
    conditions: { StringEquals: { 'ec2:CreateAction': createAction } },
  });
}


function renderSnapshots(ctx: CaptureRenderContext, options: SnapshotCaptureOptions): CaptureRendering {
  const scope = ctx.scope;
  const snapshotArn = ec2Arn(scope, 'snapshot', false);
  const create = sdkCall(scope, 'CreateSnapshots', 'ec2:CreateSnapshots', {
    iamResources: [ec2Arn(scope, 'instance'), ec2Arn(scope, 'volume'), snapshotArn],
    additionalIamStatements: [createTagsOn('CreateSnapshots', [snapshotArn])],
    parameters: {
      InstanceSpecification: { InstanceId: sfn.JsonPath.stringAt('$.instanceId'), ExcludeBootVolume: options.excludeBootVolume ?? false },
      // the source instance in the description too: the only place another account (a drill of
      // shared snapshots) can read it, as tags are not visible across accounts
      Description: sfn.JsonPath.format('{} ({})', ctx.description.replace(/[{}]/g, '').slice(0, 255 - 22), sfn.JsonPath.stringAt('$.instanceId')),
      // tagged at creation, atomically: no snapshot of this job ever exists without its tags, and
      // each names its instance, so that a drill restores one machine's set (EC2 records none)
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: [...tagSpec(ctx), { Key: sourceInstanceTagKey(scope), Value: sfn.JsonPath.stringAt('$.instanceId') }] }],
      ...(options.copyVolumeTags ? { CopyTagsFromSource: 'volume' } : {}),
    },
    // each iteration returns one short entry per snapshot (its state, `"pending",` 10 bytes), not its
    // id (25 bytes): the Map's result holds one small entry per instance, and their number is the count
    resultSelector: { states: sfn.JsonPath.listAt('$.Snapshots[*].State') },
    resultPath: '$.created',
    outputPath: '$.created',
    taskTimeout: sfn.Timeout.duration(Duration.minutes(2)),
  });
  // throttling and transient EC2 errors; a retry at worst adds a set tagged with the same execution id
  retryTransient(create);
  return {
    iteration: create,
    countPath: '$[*].states[*]',
    resourceType: 'snapshot',
    verify: (interval, maxPolls, done, failed, timeout) => verifySnapshotsByTag(ctx, interval, maxPolls, done, failed, timeout),
  };
}

/** Where the snapshot verification keeps a describe page while it counts (replaced by `{}` once counted). */
const COUNT_PAGE = '$.artefacts.page';

/**
 * The verification of a snapshot run without its ids in the state: EC2 finds the run's snapshots
 * by the execution tag they were created with (`DescribeSnapshots` filters `tag:<key>` and
 * `status`, in pages of SNAPSHOT_PAGE_SIZE records, about 69 KiB). Each poll asks first for one
 * page of the run's `pending` snapshots: while there are any, it waits. Then for `error` ones:
 * any fails the verification. Then it counts the `completed` ones page by page, and the run is
 * verified when they number at least the snapshots CreateSnapshots reported (`$.artefacts.count`;
 * more when a retried call made a second set). Fewer, and the next poll looks again: a tag filter
 * may not see a snapshot created seconds ago, and EC2 may return a filtered page short or empty
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination);
 * a snapshot still missing at the completion timeout fails the run. The state carries counts,
 * never ids: a run's size is not bounded by the verification. Each poll while any is pending is
 * one call (EVENTS_PER_POLL in workflow.ts, 15 history events); a count page is a describe, an
 * add and a choice (EVENTS_PER_COUNT_PAGE, 10).
 */
function verifySnapshotsByTag(
  ctx: CaptureRenderContext, interval: Duration, maxPolls: number, done: sfn.IChainable, failed: sfn.IChainable, timeout: sfn.IChainable,
): sfn.Chain {
  const scope = ctx.scope;
  const ofThisRun = { Name: `tag:${ctx.executionTagKey}`, Values: sfn.JsonPath.array(sfn.JsonPath.executionId) };
  const describe = (id: string, status: string, resultSelector?: { [key: string]: unknown }, next = false) => {
    const task = sdkCall(scope, id, 'ec2:DescribeSnapshots', {
      iamResources: ['*'],
      parameters: {
        OwnerIds: ['self'],
        Filters: [ofThisRun, { Name: 'status', Values: [status] }],
        MaxResults: SNAPSHOT_PAGE_SIZE,
        ...next ? { NextToken: sfn.JsonPath.stringAt(`${COUNT_PAGE}.NextToken`) } : {},
      },
      ...resultSelector ? { resultSelector, resultPath: '$.artefacts.poll' } : { resultPath: COUNT_PAGE },
    });
    retryTransient(task);
    return task;
  };
  const found = { found: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.Snapshots')) };
  const pending = describe('FindPendingSnapshots', 'pending', found);
  const errors = describe('FindFailedSnapshots', 'error', found);
  const countFirst = describe('CountCompletedSnapshots', 'completed');
  const countMore = describe('CountMoreCompletedSnapshots', 'completed', undefined, true);
  const startCount = new sfn.Pass(scope, 'Verify.StartCount', {
    stateName: 'Verify.StartCount', result: sfn.Result.fromObject({ count: 0 }), resultPath: '$.artefacts.completed',
  });
  const addPage = new sfn.Pass(scope, 'Verify.AddPage', {
    stateName: 'Verify.AddPage',
    parameters: {
      count: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.artefacts.completed.count'),
        sfn.JsonPath.arrayLength(sfn.JsonPath.listAt(`${COUNT_PAGE}.Snapshots`)) as any),
    },
    resultPath: '$.artefacts.completed',
  });
  const counted = new sfn.Pass(scope, 'Verify.Counted', { stateName: 'Verify.Counted', result: sfn.Result.fromObject({}), resultPath: COUNT_PAGE });
  const notYet = new sfn.Pass(scope, 'Verify.NotAllCompleted', { stateName: 'Verify.NotAllCompleted', result: sfn.Result.fromObject({}), resultPath: sfn.JsonPath.DISCARD });
  const enough = new sfn.Choice(scope, 'Verify.EveryCompleted', { stateName: 'Verify.EveryCompleted' })
    .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.artefacts.completed.count', '$.artefacts.count'), done)
    .otherwise(notYet);
  countFirst.next(addPage);
  countMore.next(addPage);
  addPage.next(new sfn.Choice(scope, 'Verify.MoreCompleted', { stateName: 'Verify.MoreCompleted' })
    .when(sfn.Condition.isPresent(`${COUNT_PAGE}.NextToken`), countMore)
    .otherwise(counted.next(enough)));
  const anyFailed = new sfn.Choice(scope, 'Verify.AnyFailed', { stateName: 'Verify.AnyFailed' })
    .when(sfn.Condition.numberGreaterThan('$.artefacts.poll.found', 0), failed)
    .otherwise(startCount.next(countFirst));
  errors.next(anyFailed);
  return pollLoop(scope, 'Verify', {
    interval,
    maxPolls,
    counterPath: '$.artefacts.polls',
    check: pending,
    succeeded: sfn.Condition.numberEquals('$.artefacts.poll.found', 0),
    onSucceeded: errors,
    onTimeout: timeout,
    pollAgain: [notYet],
  });
}

function renderImages(ctx: CaptureRenderContext, stopInstance: boolean, stopTimeout: Duration): CaptureRendering {
  const scope = ctx.scope;
  const instanceArn = ec2Arn(scope, 'instance');
  const imageArn = ec2Arn(scope, 'image', false);
  const snapshotArn = ec2Arn(scope, 'snapshot', false);
  const instanceIds = sfn.JsonPath.array(sfn.JsonPath.stringAt('$.instanceId'));
  // with a stop, each instance is a child execution: the job's execution is passed in at $.job
  const executionId = stopInstance ? sfn.JsonPath.stringAt(JOB_EXECUTION_ID) : sfn.JsonPath.executionId;
  const executionName = stopInstance ? sfn.JsonPath.stringAt(JOB_EXECUTION_NAME) : sfn.JsonPath.executionName;
  const create = sdkCall(scope, 'CreateImage', 'ec2:CreateImage', {
    iamResources: [instanceArn, imageArn, snapshotArn],
    additionalIamStatements: [createTagsOn('CreateImage', [imageArn, snapshotArn])],
    parameters: {
      InstanceId: sfn.JsonPath.stringAt('$.instanceId'),
      // unique per execution and instance, so that a retried call fails as a duplicate instead of adding an image
      Name: sfn.JsonPath.format(`${amiNamePart(ctx.purpose)}-{}-{}`, sfn.JsonPath.stringAt('$.instanceId'), executionName),
      Description: ctx.description,
      NoReboot: true,
      TagSpecifications: [{ ResourceType: 'image', Tags: tagSpec(ctx, executionId) }, { ResourceType: 'snapshot', Tags: tagSpec(ctx, executionId) }],
    },
    resultSelector: stopInstance ? { imageId: sfn.JsonPath.stringAt('$.ImageId'), failed: false } : { imageId: sfn.JsonPath.stringAt('$.ImageId') },
    resultPath: '$.created',
    // without a stop the iteration ends here: it returns its image id only
    ...stopInstance ? {} : { outputPath: '$.created' },
    taskTimeout: sfn.Timeout.duration(Duration.minutes(2)),
  });
  retryTransient(create);
  const verify: CaptureRendering['verify'] = (interval, maxPolls, done, failed, timeout) => {
    const check = sdkCall(scope, 'DescribeImages', 'ec2:DescribeImages', {
      iamResources: ['*'],
      parameters: { ImageIds: sfn.JsonPath.listAt('$'), Owners: ['self'] },
      resultSelector: { states: sfn.JsonPath.listAt('$.Images[*].State') },
    });
    retryTransient(check);
    return verifyLoop(scope, batched(scope, check), ['failed', 'error', 'invalid', 'deregistered', 'disabled'], 'pending', interval, maxPolls, done, failed, timeout);
  };
  const base = { idsPath: '$[*].imageId', countPath: '$[*].imageId', resourceType: 'image' as const, verify };
  if (!stopInstance) {
    // each iteration returns its image id only
    return { ...base, iteration: create };
  }
  // stop, poll, image and start: about 30 history events per instance, past a standard
  // execution's 25,000 at some 800 instances inline; as child executions the job's history stays small

  // the child execution ends successfully with its failure recorded: a failed child would fail the
  // whole map run and stop the other children mid-stop, leaving their instances stopped. The error
  // name only (a cause can be long; 1,000 of them would pass 256 KiB in the job's Map result); the
  // cause stays in this child execution's history.
  const captureFailed = new sfn.Pass(scope, 'CaptureFailed', {
    stateName: 'CaptureFailed',
    parameters: { failed: true, error: { instanceId: sfn.JsonPath.stringAt('$.instanceId'), Error: sfn.JsonPath.stringAt('$.captureError.Error') } },
  });
  const startAfterFailure = sdkCall(scope, 'StartAfterFailure', 'ec2:StartInstances', {
    iamResources: [instanceArn],
    parameters: { InstanceIds: instanceIds },
    resultPath: sfn.JsonPath.DISCARD,
  });
  retryTransient(startAfterFailure, 5, Duration.seconds(5), [sfn.Errors.ALL]);
  startAfterFailure.addCatch(captureFailed, { resultPath: '$.startError' });
  const recover = startAfterFailure.next(captureFailed);

  const stop = sdkCall(scope, 'StopInstance', 'ec2:StopInstances', {
    iamResources: [instanceArn],
    parameters: { InstanceIds: instanceIds },
    resultPath: sfn.JsonPath.DISCARD,
  });
  retryTransient(stop);
  const describe = sdkCall(scope, 'DescribeInstanceState', 'ec2:DescribeInstances', {
    iamResources: ['*'],
    parameters: { InstanceIds: instanceIds },
    resultSelector: { reservations: sfn.JsonPath.objectAt('$.Reservations') },
    resultPath: '$.stopping.poll',
  });
  retryTransient(describe);
  const start = sdkCall(scope, 'StartInstance', 'ec2:StartInstances', {
    iamResources: [instanceArn],
    parameters: { InstanceIds: instanceIds },
    resultPath: sfn.JsonPath.DISCARD,
    // the iteration ends here: it returns its image id only, not the instance records it polled
    outputPath: '$.created',
  });
  retryTransient(start, 5, Duration.seconds(5), [sfn.Errors.ALL]);
  start.addCatch(captureFailed, { resultPath: '$.captureError' });
  for (const s of [stop, describe, create]) {
    s.addCatch(recover, { resultPath: '$.captureError' });
  }
  const state = '$.stopping.poll.reservations[0].Instances[0].State.Name';
  const markFailure = (id: string, error: string, cause: string) => new sfn.Pass(scope, id, {
    stateName: id, result: sfn.Result.fromObject({ Error: error, Cause: cause }), resultPath: '$.captureError',
  }).next(recover);
  const interval = Duration.seconds(10);
  const stopped = pollLoop(scope, 'StopInstance', {
    interval,
    maxPolls: Math.max(1, Math.ceil(stopTimeout.toSeconds() / interval.toSeconds())),
    counterPath: '$.stopping.polls',
    check: describe,
    pending: sfn.Condition.not(sfn.Condition.isPresent(state)),
    succeeded: sfn.Condition.stringEquals(state, 'stopped'),
    failed: sfn.Condition.or(sfn.Condition.stringEquals(state, 'terminated'), sfn.Condition.stringEquals(state, 'shutting-down')),
    onSucceeded: create.next(start),
    onFailed: markFailure('InstanceGone', 'SnapshotJob.InstanceGone', 'the instance was terminated while the job stopped it'),
    onTimeout: markFailure('StopTimedOut', 'SnapshotJob.StopTimeout', `the instance did not stop within ${stopTimeout.toHumanString()}`),
  });
  const init = new sfn.Pass(scope, 'PrepareStop', { stateName: 'PrepareStop', result: sfn.Result.fromObject({}), resultPath: '$.stopping' });
  return { ...base, childExecutions: true, iteration: init.next(stop).next(stopped) };
}

/**
 * The verification's describe call for every batch of ids (`$.artefacts.batches`), in an inline
 * Map whose result is the artefacts' states only: one call for thousands of ids would return
 * records far over the 256 KiB connector limit.
 */
function batched(scope: Construct, check: tasks.CallAwsService): sfn.Map {
  const map = new sfn.Map(scope, `${check.node.id}Batches`, {
    stateName: `${check.node.id}Batches`,
    itemsPath: '$.artefacts.batches',
    maxConcurrency: 5,
    resultSelector: { states: sfn.JsonPath.listAt('$[*].states[*]') },
    resultPath: '$.artefacts.poll',
  });
  map.itemProcessor(check);
  return map;
}

/** Poll artefact states until none is pending; any failed state, or a missing artefact, fails the verification. */
function verifyLoop(
  scope: Construct, check: sfn.Map, failedStates: string[], pendingState: string,
  interval: Duration, maxPolls: number, done: sfn.IChainable, failed: sfn.IChainable, timeout: sfn.IChainable,
): sfn.Chain {
  const states = sfn.JsonPath.listAt('$.artefacts.poll.states');
  const flags: { [key: string]: string } = {};
  failedStates.forEach((s, i) => flags[`failed${i}`] = sfn.JsonPath.arrayContains(states, s));
  const evaluate = new sfn.Pass(scope, 'EvaluateArtefacts', {
    stateName: 'EvaluateArtefacts',
    parameters: {
      ...flags,
      pending: sfn.JsonPath.arrayContains(states, pendingState),
      count: sfn.JsonPath.arrayLength(states),
    },
    resultPath: '$.artefacts.poll',
  });
  return pollLoop(scope, 'Verify', {
    interval,
    maxPolls,
    counterPath: '$.artefacts.polls',
    check,
    evaluate,
    failed: sfn.Condition.or(
      sfn.Condition.not(sfn.Condition.numberEqualsJsonPath('$.artefacts.poll.count', '$.artefacts.count')),
      ...failedStates.map((_, i) => sfn.Condition.booleanEquals(`$.artefacts.poll.failed${i}`, true)),
    ),
    succeeded: sfn.Condition.booleanEquals('$.artefacts.poll.pending', false),
    onSucceeded: done,
    onFailed: failed,
    onTimeout: timeout,
  });
}

/** The purpose as an AMI name part: AMI names allow only a-z A-Z 0-9 ( ) [ ] space . / - ' @ _ and 128 characters. */
function amiNamePart(purpose: string): string {
  return purpose.replace(/[^a-zA-Z0-9()[\] ./\-'@_]/g, '-').slice(0, 24);
}
