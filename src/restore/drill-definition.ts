/**
 * The states of a RestoreDrill: restore, validate, record, and tear down whatever happens.
 *
 * Everything the drill creates carries the execution tag, and teardown finds what to delete by
 * that tag, not from the state: a failure halfway through a Map (or a lost RunInstances response)
 * loses the ids, never the tags. The sweeper runs the same teardown by the drill's managed-by tag.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { VALIDATION_MARKER } from './validation-document';

/** What the definition needs from the construct. */
export interface DrillDefinitionOptions {
  readonly mode: string;
  readonly purpose: string;
  readonly namespace: string;
  readonly selectFunction: lambda.IFunction;
  readonly selectPayload: Record<string, unknown>;
  readonly metricsFunction: lambda.IFunction;
  readonly launchTemplateId: string;
  readonly launchTemplateArn: string;
  readonly subnetId: string;
  readonly securityGroupId: string;
  /** The library's tags for everything the drill creates. */
  readonly restoredTags: Record<string, string>;
  readonly executionTagKey: string;
  readonly volumeType: string;
  readonly kmsKeyArn?: string;
  readonly documentName: string;
  /** The PowerShell validation document, for Windows AMIs; without it a Windows AMI is reported not validated. */
  readonly windowsDocumentName?: string;
  readonly validationTimeout: Duration;
}

/** The tag filter teardown deletes by: a fixed value, or the execution name. */
export interface TeardownFilter {
  readonly tagKey: string;
  /** A fixed value; when absent, the execution name. */
  readonly value?: string;
  /**
   * Volume pages deleted per run, after which the run ends and the next one goes on (each page is
   * a Map of TEARDOWN_VOLUME_PAGE deletions, about 700 history events). When absent, every page.
   */
  readonly maxVolumePages?: number;
}

const POLL_INTERVAL = Duration.seconds(15);

function arn(scope: Construct, service: string, resource: string, resourceName = '*', account?: string): string {
  return Stack.of(scope).formatArn({ service, resource, resourceName, account, arnFormat: undefined });
}

function call(scope: Construct, id: string, service: string, action: string, iamAction: string, iamResources: string[],
  parameters: Record<string, unknown>, extra: Partial<tasks.CallAwsServiceProps> = {}): tasks.CallAwsService {
  return new tasks.CallAwsService(scope, id, { service, action, iamAction, iamResources, parameters, ...extra });
}

/**
 * A bounded polling loop: wait, check, and continue when `done` holds; fail with `DrillTimeout`
 * after `maxAttempts`, or at once with `failError` when `failed` holds.
 */
function poll(scope: Construct, id: string, check: sfn.TaskStateBase, done: sfn.Condition, maxAttempts: number,
  failed?: { condition: sfn.Condition; error: string; cause: string }): sfn.Chain {
  const init = new sfn.Pass(scope, `${id}Start`, { result: sfn.Result.fromObject({ n: 0 }), resultPath: '$.poll' });
  const wait = new sfn.Wait(scope, `${id}Wait`, { time: sfn.WaitTime.duration(POLL_INTERVAL) });
  const count = new sfn.Pass(scope, `${id}Count`, {
    parameters: { n: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.poll.n'), 1) }, resultPath: '$.poll',
  });
  const ready = new sfn.Pass(scope, `${id}Done`);
  const choice = new sfn.Choice(scope, `${id}?`)
    .when(done, ready)
    .when(sfn.Condition.numberGreaterThanEquals('$.poll.n', maxAttempts - 1),
      new sfn.Fail(scope, `${id}TimedOut`, { error: 'DrillTimeout', cause: `${id}: still waiting after ${maxAttempts} checks` }));
  if (failed) {
    choice.when(failed.condition, new sfn.Fail(scope, `${id}Failed`, { error: failed.error, cause: failed.cause }));
  }
  choice.otherwise(count.next(wait));
  init.next(wait).next(check).next(choice);
  return sfn.Chain.custom(init, [ready], choice);
}

function tagList(tags: Record<string, string>, executionTagKey: string): unknown[] {
  return [
    ...Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    { Key: executionTagKey, Value: sfn.JsonPath.stringAt('$$.Execution.Name') },
  ];
}

/**
 * Page sizes of teardown: a DescribeInstances record is about 3 KiB (up to ~12 KiB with many
 * interfaces and tags) and a DescribeVolumes record about 700 bytes, so a page stays far below
 * Step Functions' 256 KiB connector limit however much a failed teardown left behind.
 */
export const TEARDOWN_INSTANCE_PAGE = 20;
export const TEARDOWN_VOLUME_PAGE = 100;
/**
 * Volume pages one sweeper run deletes (1,000 volumes, about 7,000 history events); a daily run
 * takes the rest the next day. Instances are all terminated in every run (about 14 events per
 * page of 20), so that no deleted volume is still attached.
 */
export const SWEEPER_VOLUME_PAGES = 10;

/**
 * Terminate the instances and delete the volumes that carry the filter tag, a page at a time;
 * retries transient errors. Each round asks for the first page again: what it removed has left
 * the filters (a terminated instance is shutting-down, a deleted volume deleting), so no
 * NextToken is carried over a changing list, and the loop ends on an empty page.
 */
export function teardown(scope: Construct, filter: TeardownFilter): sfn.Chain {
  const values = filter.value !== undefined ? [filter.value] : sfn.JsonPath.array(sfn.JsonPath.stringAt('$$.Execution.Name'));
  const tagFilter = { Name: `tag:${filter.tagKey}`, Values: values };
  const live = { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] };
  const instanceArn = arn(scope, 'ec2', 'instance');
  const volumeArn = arn(scope, 'ec2', 'volume');
  const retry = (task: sfn.TaskStateBase) =>
    task.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(5), maxAttempts: 4, backoffRate: 2 });

  // the page as returned, until its ids are taken: a wildcard path over an empty list is an error
  const findInstances = retry(call(scope, 'FindRestoredInstances', 'ec2', 'describeInstances', 'ec2:DescribeInstances', ['*'],
    { Filters: [tagFilter, live], MaxResults: TEARDOWN_INSTANCE_PAGE },
    { resultSelector: { reservations: sfn.JsonPath.listAt('$.Reservations') }, resultPath: '$.instancesFound' }));
  const instanceIds = new sfn.Pass(scope, 'RestoredInstanceIds', {
    parameters: { ids: sfn.JsonPath.listAt('$.instancesFound.reservations[*].Instances[*].InstanceId') },
    resultPath: '$.instancesFound',
  });
  const terminate = retry(call(scope, 'TerminateInstances', 'ec2', 'terminateInstances', 'ec2:TerminateInstances', [instanceArn],
    { InstanceIds: sfn.JsonPath.listAt('$.instancesFound.ids') }, { resultPath: sfn.JsonPath.DISCARD }));
  const stillThere = retry(call(scope, 'CheckInstancesGone', 'ec2', 'describeInstances', 'ec2:DescribeInstances', ['*'],
    // whether any is left, not how many: the smallest page DescribeInstances allows
    { Filters: [tagFilter, { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }], MaxResults: 5 },
    { resultSelector: { remaining: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.Reservations')) }, resultPath: '$.check' }));
  const capped = filter.maxVolumePages !== undefined;
  const countStart = new sfn.Pass(scope, 'LeftoverCountStart', {
    result: sfn.Result.fromObject(capped ? { volumes: 0, pages: 0 } : { volumes: 0 }), resultPath: '$.leftovers',
  });
  const findVolumes = retry(call(scope, 'FindRestoredVolumes', 'ec2', 'describeVolumes', 'ec2:DescribeVolumes', ['*'],
    { Filters: [tagFilter, { Name: 'status', Values: ['creating', 'available', 'in-use', 'error'] }], MaxResults: TEARDOWN_VOLUME_PAGE },
    { resultSelector: { volumes: sfn.JsonPath.listAt('$.Volumes') }, resultPath: '$.volumesFound' }));
  const volumeIds = new sfn.Pass(scope, 'RestoredVolumeIds', {
    parameters: {
      ids: sfn.JsonPath.listAt('$.volumesFound.volumes[*].VolumeId'),
      count: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.volumesFound.volumes')),
    },
    resultPath: '$.volumesFound',
  });
  const countVolumes = new sfn.Pass(scope, 'CountLeftoverVolumes', {
    parameters: {
      volumes: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.leftovers.volumes'), sfn.JsonPath.numberAt('$.volumesFound.count')),
      ...capped ? { pages: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.leftovers.pages'), 1) } : {},
    },
    resultPath: '$.leftovers',
  });
  const deleteVolumes = new sfn.Map(scope, 'DeleteRestoredVolumes', { itemsPath: '$.volumesFound.ids', resultPath: sfn.JsonPath.DISCARD });
  deleteVolumes.itemProcessor(call(scope, 'DeleteVolume', 'ec2', 'deleteVolume', 'ec2:DeleteVolume', [volumeArn],
    { VolumeId: sfn.JsonPath.stringAt('$') }, { resultPath: sfn.JsonPath.DISCARD })
    // a volume detaches some seconds after its instance terminated
    .addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(10), maxAttempts: 8, backoffRate: 1.5 }));
  const volumesDone = new sfn.Pass(scope, 'VolumesDeleted');

  findInstances.next(new sfn.Choice(scope, 'AnyRestoredInstance?')
    .when(sfn.Condition.isPresent('$.instancesFound.reservations[0]'), instanceIds.next(terminate).next(findInstances))
    .otherwise(countStart));
  countStart.next(poll(scope, 'InstancesGone', stillThere, sfn.Condition.numberEquals('$.check.remaining', 0), 40))
    .next(findVolumes)
    .next(new sfn.Choice(scope, 'AnyRestoredVolume?')
      .when(sfn.Condition.isPresent('$.volumesFound.volumes[0]'), volumeIds.next(countVolumes).next(deleteVolumes).next(capped
        // a bounded run: the rest waits for the next one, so no run's history nears 25,000 events
        ? new sfn.Choice(scope, 'VolumePageLimit?')
          .when(sfn.Condition.numberGreaterThanEquals('$.leftovers.pages', filter.maxVolumePages!), volumesDone)
          .otherwise(findVolumes)
        : findVolumes))
      .otherwise(volumesDone));
  return sfn.Chain.custom(findInstances, [volumesDone], volumesDone);
}

/** The drill: select, launch, restore, attach, validate, record; every failure goes to teardown. */
export function drillDefinition(scope: Construct, o: DrillDefinitionOptions): sfn.IChainable {
  const image = o.mode === 'IMAGE';
  const instanceArn = arn(scope, 'ec2', 'instance');
  const volumeArn = arn(scope, 'ec2', 'volume');

  const prepare = new sfn.Pass(scope, 'Prepare', {
    parameters: { execution: sfn.JsonPath.stringAt('$$.Execution.Name'), startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime') },
    resultPath: '$.drill',
  });

  const select = new tasks.LambdaInvoke(scope, 'SelectRestorePoint', {
    lambdaFunction: o.selectFunction, payload: sfn.TaskInput.fromObject(o.selectPayload), payloadResponseOnly: true, resultPath: '$.selection',
  });
  const noRestorePoint = new sfn.Fail(scope, 'NoRestorePoint', { error: 'NoRestorePoint', causePath: '$.selection.reason' });

  const launch = call(scope, 'LaunchScratchInstance', 'ec2', 'runInstances', 'ec2:RunInstances', [
    instanceArn, volumeArn, arn(scope, 'ec2', 'network-interface'), arn(scope, 'ec2', 'subnet', o.subnetId),
    arn(scope, 'ec2', 'security-group', o.securityGroupId), o.launchTemplateArn, arn(scope, 'ec2', 'image', '*', ''),
  ], {
    LaunchTemplate: { LaunchTemplateId: o.launchTemplateId, Version: '$Latest' },
    ...(image ? { ImageId: sfn.JsonPath.stringAt('$.selection.imageId') } : {}),
    SubnetId: o.subnetId,
    MinCount: 1,
    MaxCount: 1,
    TagSpecifications: ['instance', 'volume'].map((ResourceType) => ({ ResourceType, Tags: tagList(o.restoredTags, o.executionTagKey) })),
  }, {
    resultSelector: {
      instanceId: sfn.JsonPath.stringAt('$.Instances[0].InstanceId'),
      availabilityZone: sfn.JsonPath.stringAt('$.Instances[0].Placement.AvailabilityZone'),
    },
    resultPath: '$.instance',
  });

  const describeInstance = call(scope, 'DescribeScratchInstance', 'ec2', 'describeInstances', 'ec2:DescribeInstances', ['*'],
    { InstanceIds: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.instance.instanceId')) },
    { resultSelector: { state: sfn.JsonPath.stringAt('$.Reservations[0].Instances[0].State.Name') }, resultPath: '$.check' });
  const running = poll(scope, 'InstanceRunning', describeInstance, sfn.Condition.stringEquals('$.check.state', 'running'), 40, {
    condition: sfn.Condition.or(sfn.Condition.stringEquals('$.check.state', 'terminated'), sfn.Condition.stringEquals('$.check.state', 'shutting-down')),
    error: 'ScratchInstanceFailed',
    cause: 'the scratch instance stopped before it ran',
  });

  const restore = new sfn.Map(scope, 'RestoreVolumes', {
    itemsPath: '$.selection.snapshots',
    itemSelector: {
      snapshot: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      instanceId: sfn.JsonPath.stringAt('$.instance.instanceId'),
      availabilityZone: sfn.JsonPath.stringAt('$.instance.availabilityZone'),
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  const createVolume = call(scope, 'CreateRestoredVolume', 'ec2', 'createVolume', 'ec2:CreateVolume',
    [volumeArn, arn(scope, 'ec2', 'snapshot', '*', '')], {
      SnapshotId: sfn.JsonPath.stringAt('$.snapshot.snapshotId'),
      AvailabilityZone: sfn.JsonPath.stringAt('$.availabilityZone'),
      VolumeType: o.volumeType,
      Encrypted: true,
      ...(o.kmsKeyArn ? { KmsKeyId: o.kmsKeyArn } : {}),
      TagSpecifications: [{ ResourceType: 'volume', Tags: tagList(o.restoredTags, o.executionTagKey) }],
    }, { resultSelector: { volumeId: sfn.JsonPath.stringAt('$.VolumeId') }, resultPath: '$.volume' });
  const describeVolume = call(scope, 'DescribeRestoredVolume', 'ec2', 'describeVolumes', 'ec2:DescribeVolumes', ['*'],
    { VolumeIds: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.volume.volumeId')) },
    { resultSelector: { state: sfn.JsonPath.stringAt('$.Volumes[0].State') }, resultPath: '$.check' });
  const attach = call(scope, 'AttachRestoredVolume', 'ec2', 'attachVolume', 'ec2:AttachVolume', [instanceArn, volumeArn], {
    Device: sfn.JsonPath.stringAt('$.snapshot.device'),
    InstanceId: sfn.JsonPath.stringAt('$.instanceId'),
    VolumeId: sfn.JsonPath.stringAt('$.volume.volumeId'),
  }, { resultPath: sfn.JsonPath.DISCARD });
  restore.itemProcessor(createVolume
    .next(poll(scope, 'VolumeAvailable', describeVolume, sfn.Condition.stringEquals('$.check.state', 'available'), 120, {
      condition: sfn.Condition.stringEquals('$.check.state', 'error'), error: 'RestoredVolumeFailed', cause: 'a volume created from the snapshot went to the error state',
    }))
    .next(attach));

  const describeAgent = call(scope, 'DescribeAgent', 'ssm', 'describeInstanceInformation', 'ssm:DescribeInstanceInformation', ['*'],
    { Filters: [{ Key: 'InstanceIds', Values: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.instance.instanceId')) }] },
    { resultSelector: { list: sfn.JsonPath.listAt('$.InstanceInformationList') }, resultPath: '$.check' });
  const agentOnline = poll(scope, 'AgentOnline', describeAgent, sfn.Condition.and(
    sfn.Condition.isPresent('$.check.list[0].PingStatus'), sfn.Condition.stringEquals('$.check.list[0].PingStatus', 'Online')), 40);

  const documentArns = [o.documentName, ...o.windowsDocumentName ? [o.windowsDocumentName] : []].map((d) => arn(scope, 'ssm', 'document', d));
  const send = call(scope, 'RunValidation', 'ssm', 'sendCommand', 'ssm:SendCommand', [...documentArns, instanceArn], {
    DocumentName: sfn.JsonPath.stringAt('$.validationDocument'),
    InstanceIds: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.instance.instanceId')),
    Parameters: { mounts: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.selection.mounts')) },
    TimeoutSeconds: 600,
    Comment: `restore drill of ${o.purpose}`.slice(0, 100),
  }, { resultSelector: { commandId: sfn.JsonPath.stringAt('$.Command.CommandId') }, resultPath: '$.command' });
  const invocation = call(scope, 'GetValidationResult', 'ssm', 'getCommandInvocation', 'ssm:GetCommandInvocation', ['*'], {
    CommandId: sfn.JsonPath.stringAt('$.command.commandId'), InstanceId: sfn.JsonPath.stringAt('$.instance.instanceId'),
  }, {
    resultSelector: {
      status: sfn.JsonPath.stringAt('$.Status'),
      output: sfn.JsonPath.stringAt('$.StandardOutputContent'),
      error: sfn.JsonPath.stringAt('$.StandardErrorContent'),
      // the marker is the output's first field before a colon (a Choice wildcard need not span lines)
      ran: sfn.JsonPath.arrayContains(sfn.JsonPath.stringSplit(sfn.JsonPath.stringAt('$.StandardOutputContent'), ':'), VALIDATION_MARKER),
    },
    resultPath: '$.validation',
  });
  // the invocation exists a moment after SendCommand returns
  invocation.addRetry({ errors: ['Ssm.InvocationDoesNotExistException'], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2 });
  const pending = ['Pending', 'InProgress', 'Delayed'].map((s) => sfn.Condition.stringEquals('$.validation.status', s));
  const finished = poll(scope, 'ValidationFinished', invocation, sfn.Condition.not(sfn.Condition.or(...pending)),
    Math.ceil(o.validationTimeout.toSeconds() / POLL_INTERVAL.toSeconds()) + 8);

  const figures = new tasks.LambdaInvoke(scope, 'PublishDrillFigures', {
    lambdaFunction: o.metricsFunction,
    payload: sfn.TaskInput.fromObject({
      namespace: o.namespace,
      purpose: o.purpose,
      startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      snapshotTime: sfn.JsonPath.stringAt('$.selection.snapshotTime'),
    }),
    payloadResponseOnly: true,
    resultPath: '$.figures',
  });
  const validationFailed = new sfn.Fail(scope, 'ValidationFailed', { error: 'ValidationFailed', causePath: '$.validation.error' });
  // Success alone is not enough: a step whose platform precondition fails is skipped and the
  // command still succeeds; the output must hold the marker the validation prints first
  const passed = new sfn.Choice(scope, 'ValidationPassed?')
    .when(sfn.Condition.and(
      sfn.Condition.stringEquals('$.validation.status', 'Success'),
      sfn.Condition.booleanEquals('$.validation.ran', true),
    ), figures)
    .otherwise(validationFailed);

  const windows = sfn.Condition.and(sfn.Condition.isPresent('$.selection.platform'), sfn.Condition.stringEquals('$.selection.platform', 'windows'));
  const useDocument = (id: string, name: string) => new sfn.Pass(scope, id, { result: sfn.Result.fromString(name), resultPath: '$.validationDocument' });
  const validate = send.next(finished).next(passed);
  const linuxValidation = useDocument('UseLinuxValidation', o.documentName).next(validate);
  const chooseDocument = o.windowsDocumentName
    ? new sfn.Choice(scope, 'ValidationPlatform?')
      .when(windows, useDocument('UseWindowsValidation', o.windowsDocumentName).next(validate))
      .otherwise(linuxValidation)
    : linuxValidation;

  const notValidated = new sfn.Fail(scope, 'NotValidated', {
    error: 'DrillNotValidated',
    cause: 'the restore point is a Windows AMI and the drill has no windowsValidation: the Linux validation cannot run on it, so nothing was validated',
  });
  const found = new sfn.Choice(scope, 'RestorePointFound?')
    .when(sfn.Condition.booleanEquals('$.selection.found', false), noRestorePoint);
  if (!o.windowsDocumentName) {
    // decided before anything is launched: a drill that cannot validate reports so, never success
    found.when(windows, notValidated);
  }
  found.otherwise(launch.next(running).next(restore).next(agentOnline).next(chooseDocument));

  const drill = new sfn.Parallel(scope, 'Drill', { resultPath: sfn.JsonPath.DISCARD });
  drill.branch(select.next(found));

  const metric = (id: string, name: string) => call(scope, id, 'cloudwatch', 'putMetricData', 'cloudwatch:PutMetricData', ['*'], {
    Namespace: o.namespace,
    MetricData: [{ MetricName: name, Value: name === 'DrillSucceeded' ? 0 : 1, Unit: 'Count', Dimensions: [{ Name: 'Purpose', Value: o.purpose }] }],
  }, { resultPath: sfn.JsonPath.DISCARD });

  const teardownBranch = new sfn.Parallel(scope, 'Teardown', { resultPath: sfn.JsonPath.DISCARD });
  teardownBranch.branch(teardown(scope, { tagKey: o.executionTagKey }));
  teardownBranch.addCatch(metric('RecordTeardownFailure', 'TeardownFailed')
    .next(new sfn.Fail(scope, 'TeardownFailed', { error: 'TeardownFailed', cause: 'restored resources may be left behind; the sweeper removes them' })),
  { resultPath: '$.teardownError' });

  const recordFailure = metric('RecordDrillFailure', 'DrillSucceeded');
  recordFailure.addCatch(teardownBranch, { resultPath: '$.recordError' });
  drill.addCatch(recordFailure.next(teardownBranch), { resultPath: '$.error' });

  const outcome = new sfn.Choice(scope, 'DrillOutcome')
    .when(sfn.Condition.isPresent('$.error'), new sfn.Fail(scope, 'DrillFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' }))
    .otherwise(new sfn.Succeed(scope, 'DrillPassed'));

  return prepare.next(drill).next(teardownBranch).next(outcome);
}

/** What the sweeper needs from the construct. */
export interface SweeperOptions {
  readonly stateMachineArn: string;
  readonly managedByKey: string;
  readonly managedBy: string;
  readonly namespace: string;
  readonly purpose: string;
}

/** The sweeper: when no drill runs, tear down everything still tagged as the drill's. */
export function sweeperDefinition(scope: Construct, o: SweeperOptions): sfn.IChainable {
  const running = call(scope, 'CheckRunningDrills', 'sfn', 'listExecutions', 'states:ListExecutions', [o.stateMachineArn],
    { StateMachineArn: o.stateMachineArn, StatusFilter: 'RUNNING', MaxResults: 1 },
    { resultSelector: { count: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.Executions')) }, resultPath: '$.running' });
  const report = call(scope, 'RecordLeftovers', 'cloudwatch', 'putMetricData', 'cloudwatch:PutMetricData', ['*'], {
    Namespace: o.namespace,
    MetricData: [{
      MetricName: 'LeftoverVolumes',
      Value: sfn.JsonPath.numberAt('$.leftovers.volumes'),
      Unit: 'Count',
      Dimensions: [{ Name: 'Purpose', Value: o.purpose }],
    }],
  }, { resultPath: sfn.JsonPath.DISCARD });
  return running.next(new sfn.Choice(scope, 'DrillRunning?')
    .when(sfn.Condition.numberGreaterThan('$.running.count', 0), new sfn.Succeed(scope, 'LeaveRunningDrill'))
    .otherwise(teardown(scope, { tagKey: o.managedByKey, value: o.managedBy, maxVolumePages: SWEEPER_VOLUME_PAGES }).next(report)));
}
