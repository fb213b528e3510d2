import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { failureFlaggedResult, firstFailure } from './first-failure';
import { pollLoop, retryTransient } from './poll';
import { sdkCall } from '../core/sdk-call';

/**
 * Timeout and retry policy shared by every kind of step.
 */
export interface SnapshotStepOptions {
  /**
   * How long one attempt may take before it fails with a timeout (and the `after` steps run).
   * A step that hangs while the application is quiesced is the outage this bounds.
   *
   * @default - 5 minutes for Lambda steps, 10 minutes for Run Command steps, 1 hour for state machines
   */
  readonly timeout?: Duration;

  /**
   * How many times a failed or timed-out attempt is retried. Steps must be idempotent (safe to
   * run twice), as every step of a retried job is.
   *
   * @default 2
   */
  readonly retries?: number;

  /**
   * The pause before the first retry; later pauses grow by `retryBackoffRate`, with full jitter.
   *
   * @default Duration.seconds(5)
   */
  readonly retryInterval?: Duration;

  /**
   * The factor by which each retry pause grows.
   *
   * @default 2
   */
  readonly retryBackoffRate?: number;
}

/**
 * Options of a Run Command step on the job's target instances.
 */
export interface RunCommandStepOptions extends SnapshotStepOptions {
  /**
   * How often the job asks Systems Manager whether the command has finished.
   *
   * @default Duration.seconds(5)
   */
  readonly pollInterval?: Duration;
}

/**
 * Options of a step that runs a Systems Manager document on the job's target instances.
 */
export interface RunDocumentStepOptions extends RunCommandStepOptions {
  /**
   * The document's parameters, as Systems Manager takes them (every value is a list of strings).
   *
   * @default - no parameters
   */
  readonly parameters?: { [name: string]: string[] };
}

/**
 * Options of a step that freezes file systems on the job's target instances.
 */
export interface FreezeFileSystemsStepOptions extends RunCommandStepOptions {
  /**
   * The longest the file systems stay frozen: a watchdog started on each instance before the
   * freeze thaws them after this, even if the thaw step never reaches the instance (the execution
   * is stopped, SendCommand is denied or throttled, the agent is down).
   *
   * @default - the job's `maxPauseWindow`, or 5 minutes when the job sets none
   */
  readonly maxPause?: Duration;
}

/** The kinds of step. */
export enum SnapshotStepKind {
  /** Invoke a Lambda function. */
  LAMBDA = 'LAMBDA',
  /** Run a Systems Manager document (shell lines or a named document) on the target instances. */
  RUN_COMMAND = 'RUN_COMMAND',
  /** Run a nested Step Functions state machine to completion. */
  STATE_MACHINE = 'STATE_MACHINE',
}

/** @internal */
export interface StepRenderContext {
  /** The job's `maxPauseWindow`, the default bound of a freeze step's watchdog. */
  readonly maxPauseWindow?: Duration;
  /** The scope the states are created in (their construct ids start with `name`). */
  readonly scope: Construct;
  /** The state name of the step, e.g. `Before1`; inner states are `Before1.<Part>`. */
  readonly name: string;
  /** `before` or `after`. */
  readonly phase: string;
  /** The job's purpose tag value, passed to the step. */
  readonly purpose: string;
  /** Where the target instance ids are in the state data. */
  readonly instanceIdsPath: string;
}

/** @internal */
export interface RenderedStep {
  /** The one state the job chains, catches and retries. */
  readonly state: sfn.TaskStateBase | sfn.Parallel;
}

const AWS_SHELL = 'AWS-RunShellScript';
const AWS_POWERSHELL = 'AWS-RunPowerShellScript';

/**
 * One step of a `ConsistentSnapshotJob` that runs before or after the snapshots: put a database
 * into hot-backup mode, flush and freeze a file system, stop a service, and undo it afterwards.
 *
 * Every step has a timeout and a retry policy, so a hung step cannot hold the application
 * quiesced for longer than its timeout.
 *
 * @example
 * declare const enterHotBackup: lambda.IFunction;
 * SnapshotStep.lambdaInvoke(enterHotBackup, { timeout: Duration.minutes(2) });
 * SnapshotStep.freezeFileSystems(['/data'], { maxPause: Duration.minutes(2) });
 */
export class SnapshotStep {
  /**
   * Invoke a Lambda function. It receives `{ phase, purpose, executionId, instanceIds }` and its
   * result is ignored; an error (or a timeout) fails the step.
   */
  public static lambdaInvoke(fn: lambda.IFunction, options: SnapshotStepOptions = {}): SnapshotStep {
    const where = 'SnapshotStep.lambdaInvoke';
    return new SnapshotStep(SnapshotStepKind.LAMBDA, where, options, Duration.minutes(5), Duration.seconds(1), Duration.minutes(15),
      (ctx, timeout) => new tasks.LambdaInvoke(ctx.scope, ctx.name, {
        stateName: ctx.name,
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(stepPayload(ctx)),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(timeout),
        resultPath: sfn.JsonPath.DISCARD,
      }));
  }

  /**
   * Run shell lines (`AWS-RunShellScript`) on every target instance through Run Command. The
   * step fails if the command fails on any instance.
   */
  public static runCommand(commands: string[], options: RunCommandStepOptions = {}): SnapshotStep {
    checkCommands('SnapshotStep.runCommand', commands);
    return SnapshotStep.document('SnapshotStep.runCommand', AWS_SHELL, { commands }, options, Duration.hours(48));
  }

  /**
   * Flush and freeze file systems on every target instance (`sync`, then `fsfreeze -f`), with an
   * on-instance watchdog that thaws them after `maxPause` even if the job's thaw step is lost.
   * Pair it with `SnapshotStep.thawFileSystems()` among the `after` steps. A mount point that is
   * `/` or not a mount point fails the step before anything is frozen; a freeze that fails on one
   * of them thaws the others.
   */
  public static freezeFileSystems(mountPoints: string[], options: FreezeFileSystemsStepOptions = {}): SnapshotStep {
    const where = 'SnapshotStep.freezeFileSystems';
    checkMountPoints(where, mountPoints);
    const explicit = options.maxPause;
    if (explicit) {
      checkRange(where, 'maxPause', explicit, Duration.seconds(5), Duration.days(1));
    }
    return SnapshotStep.document(where, AWS_SHELL, {}, options, Duration.hours(48),
      (ctx) => ({ commands: freezeCommands(mountPoints, explicit ?? ctx.maxPauseWindow ?? Duration.minutes(5)) }));
  }

  /**
   * Thaw file systems frozen by `SnapshotStep.freezeFileSystems()` and stop their watchdog.
   * Thawing a file system that is not frozen succeeds, so the step is safe to retry.
   */
  public static thawFileSystems(mountPoints: string[], options: RunCommandStepOptions = {}): SnapshotStep {
    const where = 'SnapshotStep.thawFileSystems';
    checkMountPoints(where, mountPoints);
    return SnapshotStep.document(where, AWS_SHELL, { commands: thawCommands(mountPoints) }, options, Duration.hours(48));
  }

  /**
   * Run PowerShell lines (`AWS-RunPowerShellScript`) on every target Windows instance.
   */
  public static runPowerShell(commands: string[], options: RunCommandStepOptions = {}): SnapshotStep {
    checkCommands('SnapshotStep.runPowerShell', commands);
    return SnapshotStep.document('SnapshotStep.runPowerShell', AWS_POWERSHELL, { commands }, options, Duration.hours(48));
  }

  /**
   * Run a Systems Manager Command document (by name or ARN) on every target instance.
   */
  public static runDocument(documentName: string, options: RunDocumentStepOptions = {}): SnapshotStep {
    const where = 'SnapshotStep.runDocument';
    if (!Token.isUnresolved(documentName) && !/^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:(\d{12})?:document\/)?[a-zA-Z0-9_.\-:/]{3,128}$/.test(documentName)) {
      throw new Error(`${where}: documentName must be a document name of 3-128 characters of a-z A-Z 0-9 _ - . or a document ARN, got '${documentName}'`);
    }
    return SnapshotStep.document(where, documentName, options.parameters ?? {}, options, Duration.days(30));
  }

  /**
   * Run a nested state machine to completion (`startExecution.sync:2`), associated with the
   * job's execution. It receives the same input as a Lambda step.
   */
  public static stateMachine(stateMachine: sfn.IStateMachine, options: SnapshotStepOptions = {}): SnapshotStep {
    return new SnapshotStep(SnapshotStepKind.STATE_MACHINE, 'SnapshotStep.stateMachine', options, Duration.hours(1), Duration.seconds(1), Duration.days(365),
      (ctx, timeout) => new tasks.StepFunctionsStartExecution(ctx.scope, ctx.name, {
        stateName: ctx.name,
        stateMachine,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        input: sfn.TaskInput.fromObject(stepPayload(ctx)),
        associateWithParent: true,
        taskTimeout: sfn.Timeout.duration(timeout),
        resultPath: sfn.JsonPath.DISCARD,
      }));
  }

  private static document(
    where: string, documentName: string, parameters: { [name: string]: string[] }, options: RunCommandStepOptions, maxTimeout: Duration,
    parametersFor?: (ctx: StepRenderContext) => { [name: string]: string[] },
  ): SnapshotStep {
    const pollInterval = options.pollInterval ?? Duration.seconds(5);
    checkRange(where, 'pollInterval', pollInterval, Duration.seconds(1), Duration.minutes(5));
    // Run Command timeouts are 30 s to 30 days; AWS-RunShellScript's executionTimeout at most 48 hours.
    return new SnapshotStep(SnapshotStepKind.RUN_COMMAND, where, options, Duration.minutes(10), Duration.seconds(30), maxTimeout,
      (ctx, timeout) => renderRunCommand(ctx, documentName, parametersFor ? parametersFor(ctx) : parameters, timeout, pollInterval));
  }

  /** What the step runs. */
  public readonly kind: SnapshotStepKind;

  /** How long one attempt may take. */
  public readonly timeout: Duration;

  /** How many times a failed attempt is retried. */
  public readonly retries: number;

  private readonly retryInterval: Duration;
  private readonly retryBackoffRate: number;
  private readonly build: (ctx: StepRenderContext, timeout: Duration) => sfn.TaskStateBase | sfn.Parallel;

  private constructor(
    kind: SnapshotStepKind, where: string, options: SnapshotStepOptions, defaultTimeout: Duration, minTimeout: Duration, maxTimeout: Duration,
    build: (ctx: StepRenderContext, timeout: Duration) => sfn.TaskStateBase | sfn.Parallel,
  ) {
    this.kind = kind;
    this.timeout = options.timeout ?? defaultTimeout;
    this.retries = options.retries ?? 2;
    this.retryInterval = options.retryInterval ?? Duration.seconds(5);
    this.retryBackoffRate = options.retryBackoffRate ?? 2;
    checkRange(where, 'timeout', this.timeout, minTimeout, maxTimeout);
    if (!this.timeout.isUnresolved() && this.timeout.toMilliseconds() % 1000 !== 0) {
      throw new Error(`${where}: timeout must be a whole number of seconds, got ${this.timeout.toHumanString()}`);
    }
    if (!Token.isUnresolved(this.retries) && (!Number.isInteger(this.retries) || this.retries < 0 || this.retries > 10)) {
      throw new Error(`${where}: retries must be an integer between 0 and 10, got ${this.retries}`);
    }
    checkRange(where, 'retryInterval', this.retryInterval, Duration.seconds(1), Duration.hours(1));
    if (!Token.isUnresolved(this.retryBackoffRate) && !(this.retryBackoffRate >= 1 && this.retryBackoffRate <= 10)) {
      throw new Error(`${where}: retryBackoffRate must be between 1 and 10, got ${this.retryBackoffRate}`);
    }
    this.build = build;
  }

  /**
   * Create the step's states in `ctx.scope`, with its retry policy applied.
   *
   * @internal
   */
  public _render(ctx: StepRenderContext): RenderedStep {
    const state = this.build(ctx, this.timeout);
    if (this.retries > 0) {
      state.addRetry({
        errors: [sfn.Errors.ALL],
        maxAttempts: this.retries,
        interval: this.retryInterval,
        backoffRate: this.retryBackoffRate,
        jitterStrategy: sfn.JitterType.FULL,
      });
    }
    return { state };
  }
}

/** The input every Lambda and state-machine step receives. */
function stepPayload(ctx: StepRenderContext): { [key: string]: unknown } {
  return {
    phase: ctx.phase,
    step: ctx.name,
    purpose: ctx.purpose,
    executionId: sfn.JsonPath.executionId,
    instanceIds: sfn.JsonPath.listAt(ctx.instanceIdsPath),
  };
}

/** SendCommand takes at most 50 instance ids (SSM API reference, SendCommand `InstanceIds`). */
const SEND_COMMAND_MAX_INSTANCES = 50;

/**
 * A Run Command step: the instance ids in batches of 50 (SendCommand's limit), every batch sent at
 * once, each polled with ListCommands until its command's overall status is final. Wrapped in a
 * one-branch Parallel so that the job can retry and catch it as one state. A command still
 * running at the step's timeout is cancelled.
 *
 * A batch never fails its iteration: it records its error, so that every batch is sent and
 * polled even when another fails (a thaw reaches every frozen instance; an inline Map would
 * abort the other iterations at the first failure, and those not yet started would never be
 * sent). The step then fails with the first failed batch's error (`SnapshotStep.CommandFailed`,
 * `SnapshotStep.Timeout`, or the SendCommand error).
 */
function renderRunCommand(
  ctx: StepRenderContext, documentName: string, parameters: { [name: string]: string[] }, timeout: Duration, pollInterval: Duration,
): sfn.Parallel {
  const scope = ctx.scope;
  const n = ctx.name;
  const seconds = timeout.toSeconds();
  const isShell = documentName === AWS_SHELL || documentName === AWS_POWERSHELL;
  const batchFailed = (id: string, error: string | undefined, cause: string) => new sfn.Pass(scope, id, {
    stateName: id,
    parameters: {
      failed: true,
      Error: error ?? sfn.JsonPath.stringAt('$.batchError.Error'),
      Cause: cause,
    },
  });
  const send = sdkCall(scope, `${n}.SendCommand`, 'ssm:SendCommand', {
    iamResources: [documentArn(scope, documentName), Stack.of(scope).formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
    parameters: {
      DocumentName: documentName,
      InstanceIds: sfn.JsonPath.listAt('$.instanceIds'),
      // the shell documents take the execution timeout as a parameter (a string, in seconds)
      Parameters: isShell ? { ...parameters, executionTimeout: [String(seconds)] } : parameters,
      // delivery timeout: an instance that cannot start the command within the step's timeout fails it
      TimeoutSeconds: seconds,
      MaxErrors: '0',
      MaxConcurrency: '100%',
      Comment: `${ctx.purpose} ${n}`.slice(0, 100),
    },
    resultSelector: { id: sfn.JsonPath.stringAt('$.Command.CommandId') },
    resultPath: '$.command',
  });
  // no retry of its own: the step's retry policy re-runs the step (a denied send is not retried in the pause window)
  send.addCatch(batchFailed(`${n}.SendFailed`, undefined, `Run Command step ${n} (${documentName}): SendCommand failed for a batch of instances`),
    { resultPath: '$.batchError' });
  const check = sdkCall(scope, `${n}.ListCommands`, 'ssm:ListCommands', {
    iamResources: ['*'],
    parameters: { CommandId: sfn.JsonPath.stringAt('$.command.id') },
    resultSelector: { commands: sfn.JsonPath.objectAt('$.Commands') },
    resultPath: '$.command.poll',
  });
  retryTransient(check);
  // the command runs on; its status is unknown, so the step fails (and the after steps still run)
  check.addCatch(batchFailed(`${n}.PollFailed`, undefined, `Run Command step ${n} (${documentName}): ListCommands failed; the command's outcome is unknown`),
    { resultPath: '$.batchError' });
  const cancel = sdkCall(scope, `${n}.CancelCommand`, 'ssm:CancelCommand', {
    iamResources: ['*'],
    parameters: { CommandId: sfn.JsonPath.stringAt('$.command.id') },
    resultPath: sfn.JsonPath.DISCARD,
  });
  const timedOut = batchFailed(`${n}.TimedOut`, 'SnapshotStep.Timeout', `Run Command step ${n} did not finish within ${timeout.toHumanString()}`);
  cancel.addCatch(timedOut, { resultPath: sfn.JsonPath.DISCARD });
  const status = '$.command.poll.commands[0].Status';
  const loop = pollLoop(scope, n, {
    interval: pollInterval,
    maxPolls: Math.max(1, Math.ceil(seconds / pollInterval.toSeconds())),
    counterPath: '$.command.polls',
    check,
    pending: sfn.Condition.not(sfn.Condition.isPresent(status)),
    succeeded: sfn.Condition.stringEquals(status, 'Success'),
    failed: sfn.Condition.or(...['Failed', 'Cancelled', 'TimedOut', 'Cancelling'].map((s) => sfn.Condition.stringEquals(status, s))),
    onSucceeded: new sfn.Pass(scope, `${n}.Done`, { stateName: `${n}.Done`, parameters: { failed: false } }),
    onFailed: batchFailed(`${n}.CommandFailed`, 'SnapshotStep.CommandFailed', `Run Command step ${n} (${documentName}) did not succeed on every instance`),
    onTimeout: cancel.next(timedOut),
  });
  const batches = new sfn.Pass(scope, `${n}.Batches`, {
    stateName: `${n}.Batches`,
    parameters: { batches: sfn.JsonPath.arrayPartition(sfn.JsonPath.listAt(ctx.instanceIdsPath), SEND_COMMAND_MAX_INSTANCES) },
    resultPath: '$.runCommand',
  });
  const eachBatch = new sfn.Map(scope, `${n}.EachBatch`, {
    stateName: `${n}.EachBatch`,
    itemsPath: '$.runCommand.batches',
    itemSelector: { instanceIds: sfn.JsonPath.objectAt('$$.Map.Item.Value') },
    // every batch at once (1,000 instances are 20 batches): the instances pause together
    maxConcurrency: 40,
    resultSelector: failureFlaggedResult(),
    resultPath: '$.runCommand',
  });
  eachBatch.itemProcessor(send.next(loop));
  const failed = new sfn.Fail(scope, `${n}.Failed`, {
    stateName: `${n}.Failed`,
    errorPath: '$.runCommand.failures[0].Error',
    causePath: '$.runCommand.failures[0].Cause',
  });
  const outcome = firstFailure(scope, {
    resultPath: '$.runCommand',
    choiceName: `${n}.EveryBatch`,
    collectName: `${n}.FirstFailure`,
    onFailure: failed,
    onSuccess: new sfn.Succeed(scope, `${n}.Succeeded`, { stateName: `${n}.Succeeded` }),
  });
  const parallel = new sfn.Parallel(scope, n, { stateName: n, resultPath: sfn.JsonPath.DISCARD });
  parallel.branch(batches.next(eachBatch).next(outcome));
  return parallel;
}

function documentArn(scope: Construct, documentName: string): string {
  if (!Token.isUnresolved(documentName) && documentName.startsWith('arn:')) {
    return documentName;
  }
  // AWS-owned documents have no account in their ARN
  const owned = !Token.isUnresolved(documentName) && documentName.startsWith('AWS-');
  return Stack.of(scope).formatArn({
    service: 'ssm', resource: 'document', resourceName: documentName, account: owned ? '' : undefined, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** Where the freeze step's watchdog records its process group, for the thaw step to end it. */
const WATCHDOG_PID_FILE = '/run/cdk-ebs-backup-freeze-watchdog.pid';

/**
 * The freeze step's shell lines. The watchdog leads its own session (setsid), so neither the end
 * of this command nor a cancel by the agent ends it; it is armed before the first freeze.
 */
function freezeCommands(mountPoints: string[], maxPause: Duration): string[] {
  const list = mountPoints.map(shellQuote).join(' ');
  return [
    'set -u',
    `for m in ${list}; do mountpoint -q "$m" || { echo "$m is not a mount point; nothing was frozen" >&2; exit 1; }; done`,
    'sync',
    `setsid sh -c 'sleep "$1"; shift; for m in "$@"; do fsfreeze -u "$m" 2>/dev/null && echo "watchdog thawed $m"; done' cdk-ebs-backup-freeze-watchdog ${maxPause.toSeconds()} ${list} </dev/null >>/var/log/cdk-ebs-backup-freeze-watchdog.log 2>&1 &`,
    `echo $! > ${WATCHDOG_PID_FILE}`,
    `for m in ${list}; do fsfreeze -f "$m" || { echo "fsfreeze -f $m failed; thawing" >&2; for t in ${list}; do fsfreeze -u "$t" 2>/dev/null; done; exit 1; }; done`,
    `echo "frozen: ${mountPoints.join(' ')} (the watchdog thaws them after ${maxPause.toSeconds()} s)"`,
  ];
}

function thawCommands(mountPoints: string[]): string[] {
  const list = mountPoints.map(shellQuote).join(' ');
  return [
    `for m in ${list}; do fsfreeze -u "$m" 2>/dev/null || true; done`,
    // /bin/kill: dash's builtin takes no process group
    `[ ! -s ${WATCHDOG_PID_FILE} ] || env kill -TERM -- "-$(cat ${WATCHDOG_PID_FILE})" 2>/dev/null || true`,
    `rm -f ${WATCHDOG_PID_FILE}`,
    `echo "thawed: ${mountPoints.join(' ')}"`,
  ];
}

function shellQuote(s: string): string {
  return `'${s}'`;
}

function checkMountPoints(where: string, mountPoints: string[]): void {
  if (mountPoints.length === 0) {
    throw new Error(`${where}: mountPoints must have at least one item, got [] (0 items)`);
  }
  for (const [i, m] of mountPoints.entries()) {
    if (Token.isUnresolved(m)) {
      throw new Error(`${where}: mountPoints[${i}] must be known at synthesis (it is embedded in the command), got a token`);
    }
    if (!/^\/[A-Za-z0-9._/-]*$/.test(m) || m.replace(/\/+$/, '') === '') {
      throw new Error(`${where}: mountPoints[${i}] must be an absolute path of letters, digits and . _ / - other than /, got '${m}'`);
    }
  }
}

function checkCommands(where: string, commands: string[]): void {
  if (Token.isUnresolved(commands)) {
    return;
  }
  if (commands.length === 0 || commands.every((c) => !Token.isUnresolved(c) && c.trim() === '')) {
    throw new Error(`${where}: commands must have at least one non-empty line, got [] (0 items)`);
  }
}

function checkRange(where: string, prop: string, value: Duration, min: Duration, max: Duration): void {
  if (value.isUnresolved()) {
    return;
  }
  const ms = value.toMilliseconds();
  if (ms < min.toMilliseconds() || ms > max.toMilliseconds()) {
    throw new Error(`${where}: ${prop} must be between ${min.toHumanString()} and ${max.toHumanString()}, got ${value.toHumanString()}`);
  }
}
