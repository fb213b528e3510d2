/**
 * Calls replayed against roles: every call a local Step Functions run made is turned into the IAM
 * requests AWS authorizes for it (action, resource ARN, request and resource tags, service
 * context keys) and evaluated with a real policy evaluator (`@cloud-copilot/iam-simulate`)
 * against the synthesized role that makes it. A missing grant or an over-broad deny fails.
 *
 * What AWS authorizes per API follows the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
 * `ec2:CreateSnapshots` is authorized on the instance, its volumes and the new snapshots, tags
 * given on create also need `ec2:CreateTags` with `ec2:CreateAction`
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html),
 * `ssm:SendCommand` on the document and on each instance, with the instance's tags as
 * `ssm:resourceTag/...`.
 */
import { conditionRemovals, describeRemoval, statementCovers, statementOf, withoutCondition } from './deny-conditions';
import { evaluate } from './iam-evaluation';
import { physicalArn as arnOfType, renderIntrinsics, TEST_ACCOUNT, TEST_REGION } from './intrinsics';

export const REPLAY_ACCOUNT = TEST_ACCOUNT;
export const REPLAY_REGION = TEST_REGION;

/** One request AWS authorizes. */
export interface AuthorizedCall {
  /** The Task state (or handler) that made the call. */
  readonly state: string;
  readonly action: string;
  readonly resource: string;
  /** Tags in the request (`aws:RequestTag/*`, `aws:TagKeys`). */
  readonly requestTags?: Record<string, string>;
  /** Tags of the resource (`aws:ResourceTag/*`; `ssm:resourceTag/*` for SSM). */
  readonly resourceTags?: Record<string, string>;
  /** Service context keys, e.g. `ec2:CreateAction`. */
  readonly context?: Record<string, string | string[]>;
}

/** A Task state call recorded by a local run: the state's name and its effective parameters. */
export interface RecordedCall {
  readonly state: string;
  readonly input: any;
}

/** What the replay knows about the simulated account. */
export interface ReplayWorld {
  /** The tags of an EC2 resource by id (instance, volume, snapshot). @default none */
  readonly tagsOf?: (resourceId: string) => Record<string, string> | undefined;
  /** The volumes attached to an instance. @default one volume `vol-of-<instance>` */
  readonly volumesOf?: (instanceId: string) => string[];
  /** The account of the stack (a stack with an explicit environment). @default REPLAY_ACCOUNT */
  readonly account?: string;
  /** The region of the stack. @default REPLAY_REGION */
  readonly region?: string;
}

function specTags(specs: any[] | undefined, type: string): Record<string, string> | undefined {
  const spec = (specs ?? []).find((s) => s.ResourceType === type);
  return spec ? Object.fromEntries((spec.Tags ?? []).map((t: any) => [t.Key, t.Value])) : undefined;
}

/** The IAM action of a Task state, or undefined for a state that calls nothing (Pass, Choice...). */
export function taskAction(state: any): string | undefined {
  const resource: string = state?.Resource ?? '';
  const sdk = /^arn:aws[a-z-]*:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)(\.[a-zA-Z]+)?$/.exec(resource);
  if (sdk) {
    // the SDK's service name, where it differs from the IAM prefix
    const prefix = ({ sfn: 'states', cloudwatchlogs: 'logs', eventbridge: 'events' } as Record<string, string>)[sdk[1]] ?? sdk[1];
    return `${prefix}:${sdk[2][0].toUpperCase()}${sdk[2].slice(1)}`;
  }
  if (/^arn:aws[a-z-]*:states:::lambda:invoke/.test(resource) || /^arn:aws[a-z-]*:lambda:/.test(resource)) {
    return 'lambda:InvokeFunction';
  }
  if (/^arn:aws[a-z-]*:states:::sns:publish/.test(resource)) {
    return 'sns:Publish';
  }
  if (/^arn:aws[a-z-]*:states:::states:startExecution/.test(resource)) {
    return 'states:StartExecution';
  }
  return undefined;
}

/**
 * The requests AWS authorizes for one Task call. Actions this table does not model fall back to
 * the action on `*` and are listed by `unmodelled`, so coverage is visible.
 */
export function authorizationsOf(state: any, call: RecordedCall, world: ReplayWorld = {}): AuthorizedCall[] {
  const action = taskAction(state);
  if (!action) {
    return [];
  }
  const input = call.input ?? {};
  const account = world.account ?? REPLAY_ACCOUNT;
  const region = world.region ?? REPLAY_REGION;
  const ec2Arn = (type: string, id: string) => ['snapshot', 'image'].includes(type)
    ? `arn:aws:ec2:${region}::${type}/${id}`
    : `arn:aws:ec2:${region}:${account}:${type}/${id}`;
  const tagsOf = (id: string) => world.tagsOf?.(id) ?? {};
  const on = (resource: string, extra: Partial<AuthorizedCall> = {}): AuthorizedCall => ({ state: call.state, action, resource, ...extra });
  const tagOnCreate = (createAction: string, types: string[]): AuthorizedCall[] => types.flatMap((type) => {
    const tags = specTags(input.TagSpecifications, type);
    return tags ? [
      { state: call.state, action: 'ec2:CreateTags', resource: ec2Arn(type, '*'), requestTags: tags, context: { 'ec2:CreateAction': createAction } },
    ] : [];
  });
  const instance = (id: string) => on(ec2Arn('instance', id), { resourceTags: tagsOf(id) });
  switch (action) {
    case 'ec2:CreateSnapshots': {
      const id = input.InstanceSpecification.InstanceId;
      const requestTags = specTags(input.TagSpecifications, 'snapshot');
      return [
        instance(id),
        ...(world.volumesOf?.(id) ?? [`vol-of-${id}`]).map((v) => on(ec2Arn('volume', v), { resourceTags: tagsOf(v) })),
        on(ec2Arn('snapshot', '*'), { requestTags, context: { 'ec2:CreateAction': 'CreateSnapshots' } }),
        ...tagOnCreate('CreateSnapshots', ['snapshot']),
      ];
    }
    case 'ec2:CreateImage': {
      return [
        instance(input.InstanceId),
        on(ec2Arn('image', '*'), { requestTags: specTags(input.TagSpecifications, 'image') }),
        on(ec2Arn('snapshot', '*'), { requestTags: specTags(input.TagSpecifications, 'snapshot') }),
        ...tagOnCreate('CreateImage', ['image', 'snapshot']),
      ];
    }
    case 'ec2:StartInstances':
    case 'ec2:StopInstances':
    case 'ec2:TerminateInstances':
      return (input.InstanceIds as string[]).map(instance);
    case 'ec2:RunInstances': {
      const out = [
        on(ec2Arn('instance', '*'), { requestTags: specTags(input.TagSpecifications, 'instance') }),
        on(ec2Arn('volume', '*'), { requestTags: specTags(input.TagSpecifications, 'volume') }),
        on(ec2Arn('network-interface', '*')),
        ...tagOnCreate('RunInstances', ['instance', 'volume']),
      ];
      if (input.ImageId) {
        out.push(on(`arn:aws:ec2:${region}::image/${input.ImageId}`));
      }
      if (input.LaunchTemplate?.LaunchTemplateId) {
        out.push(on(ec2Arn('launch-template', input.LaunchTemplate.LaunchTemplateId)));
      }
      if (input.SubnetId) {
        out.push(on(ec2Arn('subnet', input.SubnetId)));
      }
      for (const sg of input.SecurityGroupIds ?? []) {
        out.push(on(ec2Arn('security-group', sg)));
      }
      return out;
    }
    case 'ec2:CreateVolume':
      return [
        on(ec2Arn('volume', '*'), { requestTags: specTags(input.TagSpecifications, 'volume'), context: { 'ec2:CreateAction': 'CreateVolume' } }),
        ...(input.SnapshotId ? [on(ec2Arn('snapshot', input.SnapshotId), { resourceTags: tagsOf(input.SnapshotId) })] : []),
        ...tagOnCreate('CreateVolume', ['volume']),
      ];
    case 'ec2:AttachVolume':
      return [instance(input.InstanceId), on(ec2Arn('volume', input.VolumeId), { resourceTags: tagsOf(input.VolumeId) })];
    case 'ec2:DeleteVolume':
      return [on(ec2Arn('volume', input.VolumeId), { resourceTags: tagsOf(input.VolumeId) })];
    case 'ec2:DeleteSnapshot':
      return [on(ec2Arn('snapshot', input.SnapshotId), { resourceTags: tagsOf(input.SnapshotId) })];
    case 'ec2:LockSnapshot': {
      // ec2:SnapshotLockDuration is the requested LockDuration in days, absent for an ExpirationDate
      // ("Control access to Amazon EBS snapshot lock", EBS User Guide); ec2:SnapshotCoolOffPeriod in hours
      const context: Record<string, string> = {};
      if (input.LockDuration !== undefined) {
        context['ec2:SnapshotLockDuration'] = String(input.LockDuration);
      }
      if (input.CoolOffPeriod !== undefined) {
        context['ec2:SnapshotCoolOffPeriod'] = String(input.CoolOffPeriod);
      }
      return [on(ec2Arn('snapshot', input.SnapshotId), { resourceTags: tagsOf(input.SnapshotId), context })];
    }
    case 'ec2:ModifySnapshotTier':
      return [on(ec2Arn('snapshot', input.SnapshotId), { resourceTags: tagsOf(input.SnapshotId) })];
    case 'ec2:CreateTags': {
      // CreateTags on existing resources: authorized on each resource, with its own tags and the
      // request's (`aws:RequestTag/*`, `aws:TagKeys`); no ec2:CreateAction (that is tag-on-create)
      const requestTags = Object.fromEntries((input.Tags ?? []).map((t: any) => [t.Key, t.Value ?? '']));
      const typeOf = (id: string) => ({ snap: 'snapshot', ami: 'image', vol: 'volume', i: 'instance' } as Record<string, string>)[id.split('-')[0]];
      return (input.Resources as string[]).map((id) => {
        if (!typeOf(id)) {
          throw new Error(`CreateTags on ${id}: its resource type is not modelled`);
        }
        return on(ec2Arn(typeOf(id), id), { resourceTags: tagsOf(id), requestTags });
      });
    }
    case 'ssm:DescribeMaintenanceWindowExecutions':
      return [on(`arn:aws:ssm:${region}:${account}:maintenancewindow/${input.WindowId}`)];
    case 'ssm:GetAutomationExecution':
      return [on(`arn:aws:ssm:${region}:${account}:automation-execution/${input.AutomationExecutionId}`)];
    case 'states:DescribeExecution':
      return [on(input.ExecutionArn)];
    case 'ssm:SendCommand': {
      const name: string = input.DocumentName;
      const document = name.startsWith('arn:') ? name
        : name.startsWith('AWS-') ? `arn:aws:ssm:${region}::document/${name}`
          : `arn:aws:ssm:${region}:${account}:document/${name}`;
      return [on(document), ...(input.InstanceIds as string[]).map(instance)];
    }
    case 'lambda:InvokeFunction':
      return [on(state.Parameters?.FunctionName ?? input.FunctionName ?? state.Resource)];
    case 'sns:Publish':
      return [on(input.TopicArn ?? state.Parameters?.TopicArn)];
    case 'states:ListExecutions':
      return [on(input.StateMachineArn)];
    case 'cloudwatch:PutMetricData':
      return [on('*', { context: { 'cloudwatch:namespace': input.Namespace } })];
    default:
      return [on('*')];
  }
}

/** The IAM actions `authorizationsOf` models resource by resource; others are checked on `*` only. */
export const MODELLED_ACTIONS = new Set([
  'ec2:CreateSnapshots', 'ec2:CreateImage', 'ec2:StartInstances', 'ec2:StopInstances', 'ec2:TerminateInstances',
  'ec2:RunInstances', 'ec2:CreateVolume', 'ec2:AttachVolume', 'ec2:DeleteVolume', 'ec2:CreateTags', 'ssm:SendCommand',
  'lambda:InvokeFunction', 'sns:Publish', 'states:ListExecutions', 'cloudwatch:PutMetricData',
  'ec2:DeleteSnapshot', 'ec2:LockSnapshot', 'ec2:ModifySnapshotTier', 'ssm:DescribeMaintenanceWindowExecutions', 'ssm:GetAutomationExecution', 'states:DescribeExecution',
  // no resource-level permissions: `*` is what AWS authorizes
  'ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeImages', 'ec2:DescribeVolumes', 'ec2:DescribeLockedSnapshots',
  'ssm:ListCommands', 'ssm:ListCommandInvocations', 'ssm:GetCommandInvocation', 'ssm:DescribeInstanceInformation', 'ssm:CancelCommand',
]);

/** The ARN a resource of the template gets, by type (test/support/intrinsics, as the local runs render it). */
export function physicalArn(template: any, logicalId: string, env: Environment = {}): string {
  return arnOfType(template.Resources?.[logicalId]?.Type, logicalId, env);
}

/** Resolve the intrinsics of a template value (policy documents) as the local runs render them. */
export function resolveTemplateValue(template: any, value: any, env: Environment = {}): any {
  return renderIntrinsics(value, { template, ...env });
}

/** The account and region a template deploys to. */
export interface Environment {
  readonly account?: string;
  readonly region?: string;
}

/** Every identity policy document of the role `roleLogicalId`: inline, attached policies, managed policies in the template. */
export function rolePolicyDocuments(template: any, roleLogicalId: string, env: Environment = {}): any[] {
  const role = template.Resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') {
    throw new Error(`${roleLogicalId} is not a role of the template`);
  }
  const refersToRole = (roles: any[] | undefined) => (roles ?? []).some((r) => r?.Ref === roleLogicalId);
  const docs: any[] = (role.Properties.Policies ?? []).map((p: any) => p.PolicyDocument);
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && refersToRole(r.Properties.Roles)) {
      docs.push(r.Properties.PolicyDocument);
    } else if (r.Type === 'AWS::IAM::ManagedPolicy' && (role.Properties.ManagedPolicyArns ?? []).some((a: any) => a?.Ref === id)) {
      docs.push(r.Properties.PolicyDocument);
    }
  }
  return docs.map((d) => resolveTemplateValue(template, d, env));
}

/** The role logical id of a state machine resource. */
export function stateMachineRoleId(template: any, stateMachineLogicalId: string): string {
  const roleArn = template.Resources[stateMachineLogicalId].Properties.RoleArn;
  const id = roleArn?.['Fn::GetAtt']?.[0];
  if (!id) {
    throw new Error(`${stateMachineLogicalId} has no role of this template: ${JSON.stringify(roleArn)}`);
  }
  return id;
}

/** The evaluation of one authorized call. */
export interface ReplayResult extends AuthorizedCall {
  /** `Allowed`, `ExplicitlyDenied` or `ImplicitlyDenied`. */
  readonly result: string;
}

/** The IAM request a replayed call makes as `principal` (in the role's own region). */
function requestOf(principal: string, call: AuthorizedCall, env: Environment) {
  return {
    principal,
    action: call.action,
    resource: call.resource,
    region: env.region ?? REPLAY_REGION,
    tags: call.resourceTags,
    requestTags: call.requestTags,
    context: call.context,
  };
}

/** Evaluate every call with the role's identity policies (in the role's own account, no SCP beyond FullAWSAccess). */
export async function evaluateCalls(template: any, roleLogicalId: string, calls: AuthorizedCall[], env: Environment = {}): Promise<ReplayResult[]> {
  const identity = rolePolicyDocuments(template, roleLogicalId, env);
  const principal = `arn:aws:iam::${env.account ?? REPLAY_ACCOUNT}:role/${roleLogicalId}`;
  const results: ReplayResult[] = [];
  for (const call of calls) {
    const result = await evaluate(requestOf(principal, call, env), { identity });
    results.push({ ...call, result });
  }
  return results;
}

/**
 * The deny conditions of the role that no replayed call needs: for each condition key of each deny
 * statement of the role's identity policies, the role's own calls are evaluated with that one key
 * dropped; a key whose loss denies none of them protects nothing the runs do (issue 19: the restore
 * drill's `RunCommandsOnlyOnTheScratchInstance` without its condition denied SendCommand everywhere
 * and no test saw it). A deny of actions the role is not granted at all (the drill's sweeper shares
 * the drill's guard rails; a job without commands keeps the SendCommand deny) decides nothing:
 * dropping its conditions changes no outcome, so it is not judged here. Returns one line per key.
 */
export async function uncaughtConditionRemovals(
  template: any, roleLogicalId: string, calls: AuthorizedCall[], env: Environment = {},
): Promise<string[]> {
  const identity = rolePolicyDocuments(template, roleLogicalId, env);
  const principal = `arn:aws:iam::${env.account ?? REPLAY_ACCOUNT}:role/${roleLogicalId}`;
  const uncaught: string[] = [];
  const allows = identity.flatMap((doc) => [doc.Statement].flat()).filter((st: any) => st.Effect === 'Allow');
  const granted = (deny: any) => [deny.Action ?? []].flat().some((a: string) => allows.some((st: any) => statementCovers(st, a)));
  for (const removal of identity.flatMap((doc, i) => conditionRemovals(`${roleLogicalId} policy ${i + 1}`, doc))) {
    if (!granted(statementOf(removal))) {
      continue;
    }
    const dropped = withoutCondition(removal);
    const mutated = identity.map((d) => (d === removal.doc ? dropped : d));
    let caught = false;
    for (const call of calls.filter((c) => statementCovers(statementOf(removal), c.action))) {
      const result = await evaluate(requestOf(principal, call, env), { identity: mutated });
      if (result !== 'Allowed') {
        caught = true;
        break;
      }
    }
    if (!caught) {
      uncaught.push(`${describeRemoval(removal)} denies none of the role's replayed calls`);
    }
  }
  return uncaught;
}

/** What a replay of one run covered. */
export interface ReplayReport {
  readonly results: ReplayResult[];
  /** Calls not allowed, as `state: action on resource -> result`. */
  readonly denied: string[];
  /** Task states of the definition that the run called. */
  readonly replayedStates: string[];
  /** Task states of the definition that the run never called. */
  readonly notReached: string[];
  /** Actions called but not modelled resource by resource (checked on `*`). */
  readonly unmodelled: string[];
}

/** Every Task state of a definition (at any depth), by name. */
export function taskStates(definition: any): Record<string, any> {
  const out: Record<string, any> = {};
  const visit = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries<any>(states ?? {})) {
      if (state.Type === 'Task') {
        out[name] = state;
      }
      for (const branch of state.Branches ?? []) {
        visit(branch.States);
      }
      visit(state.ItemProcessor?.States ?? state.Iterator?.States);
    }
  };
  visit(definition.States);
  return out;
}

/**
 * Replay the Task calls of a local run of `definition` against the role the state machine
 * `stateMachineLogicalId` of `template` runs as.
 */
export async function replayRun(
  template: any, stateMachineLogicalId: string, definition: any, calls: RecordedCall[], world: ReplayWorld = {},
): Promise<ReplayReport> {
  const tasks = taskStates(definition);
  const authorized = calls.flatMap((c) => {
    const state = tasks[c.state];
    if (!state) {
      throw new Error(`recorded call of '${c.state}', which is not a Task state of the definition`);
    }
    return authorizationsOf(state, c, world);
  });
  const results = await evaluateCalls(template, stateMachineRoleId(template, stateMachineLogicalId), authorized, world);
  const called = new Set(calls.map((c) => c.state));
  return {
    results,
    denied: results.filter((r) => r.result !== 'Allowed').map((r) => `${r.state}: ${r.action} on ${r.resource} -> ${r.result}`),
    replayedStates: Object.keys(tasks).filter((s) => called.has(s)).sort(),
    notReached: Object.keys(tasks).filter((s) => !called.has(s)).sort(),
    unmodelled: [...new Set(results.map((r) => r.action).filter((a) => !MODELLED_ACTIONS.has(a)))].sort(),
  };
}

/** The role logical id of a Lambda function resource. */
export function functionRoleId(template: any, functionLogicalId: string): string {
  const id = template.Resources[functionLogicalId]?.Properties?.Role?.['Fn::GetAtt']?.[0];
  if (!id) {
    throw new Error(`${functionLogicalId} has no role of this template`);
  }
  return id;
}

/**
 * A call an SDK v3 client made in a handler test (aws-sdk-client-mock's `calls()`), as the Task
 * call of the same API would be: `ec2` `DeleteSnapshotCommand` is authorized as the
 * `aws-sdk:ec2:deleteSnapshot` integration is. SDK v3 inputs of JSON services (Step Functions)
 * are camelCase: their top-level keys are given the API reference's casing.
 */
export function handlerCall(service: string, command: string, input: any): { state: any; call: RecordedCall } {
  const api = command.replace(/Command$/, '');
  const pascal = Object.fromEntries(Object.entries(input ?? {}).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), v]));
  return {
    state: { Type: 'Task', Resource: `arn:aws:states:::aws-sdk:${service}:${api[0].toLowerCase()}${api.slice(1)}` },
    call: { state: `${service}:${api}`, input: pascal },
  };
}

/** Replay the SDK calls of a handler against the role of the function `functionLogicalId`. */
export async function replayHandlerCalls(
  template: any, functionLogicalId: string, calls: Array<{ service: string; command: string; input: any }>, world: ReplayWorld = {},
): Promise<{ results: ReplayResult[]; denied: string[]; unmodelled: string[] }> {
  const authorized = calls.flatMap((c) => {
    const { state, call } = handlerCall(c.service, c.command, c.input);
    return authorizationsOf(state, call, world);
  });
  const results = await evaluateCalls(template, functionRoleId(template, functionLogicalId), authorized, world);
  return {
    results,
    denied: results.filter((r) => r.result !== 'Allowed').map((r) => `${r.state}: ${r.action} on ${r.resource} -> ${r.result}`),
    unmodelled: [...new Set(results.map((r) => r.action).filter((a) => !MODELLED_ACTIONS.has(a)))].sort(),
  };
}
