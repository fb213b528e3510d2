/**
 * Run a RestoreDrill's synthesized state machine locally (aws-local-stepfunctions) against a small
 * simulated EC2/SSM/CloudWatch world, so that tests prove what each path does to real-looking
 * resources: what it creates, what it tags, what it tears down and which metrics it publishes.
 */
import { App, Stack } from 'aws-cdk-lib';
import '../support/node20-polyfills';
import { stateMachineDefinitions } from '../support/intrinsics';

/** The part of aws-local-stepfunctions used here (its types describe its ES module; Jest loads its CommonJS build). */
interface LocalMachine {
  run(input: unknown, options?: unknown): { result: Promise<unknown> };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require('aws-local-stepfunctions') as { StateMachine: new (definition: unknown, options?: unknown) => LocalMachine };

/** The Run Command documents of a synthesized stack, by the name `definitionOf` resolves their Ref to. */
export function documentsOf(stack: Stack): Record<string, any> {
  const template = (stack.node.root as App).synth().getStackByName(stack.stackName).template;
  return Object.fromEntries(Object.entries<any>(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::SSM::Document')
    .map(([id, r]) => [`ref-${id}`, r.Properties.Content]));
}

/** Resolve the intrinsics of a synthesized definition into a plain ASL document. */
export function definitionOf(stack: Stack, logicalId: string): any {
  const template = (stack.node.root as App).synth().getStackByName(stack.stackName).template;
  return stateMachineDefinitions(template)[logicalId];
}

export interface Tagged {
  readonly id: string;
  readonly tags: Record<string, string>;
  state: string;
  attachedTo?: string;
}

/** The simulated account: instances, volumes, commands, metric data and every call made. */
export class World {
  public readonly instances: Tagged[] = [];
  public readonly volumes: Tagged[] = [];
  public readonly metricData: any[] = [];
  public readonly calls: Array<{ state: string; input: any }> = [];
  public runningExecutions: string[] = [];
  /** The platform of the scratch instance (an AMI drill launches the AMI itself). */
  public platform: 'Linux' | 'Windows' = 'Linux';
  /** Run Command documents by the name the definition sends (`ref-<logical id>`), from the template. */
  public documents: Record<string, any> = {};
  /** The document each command ran. */
  public readonly commands = new Map<string, string>();
  private seq = 0;

  public next(prefix: string): string {
    return `${prefix}-${String(++this.seq).padStart(4, '0')}`;
  }

  /** Resources not yet torn down. */
  public leftovers(): string[] {
    return [
      ...this.instances.filter((i) => i.state !== 'terminated').map((i) => i.id),
      ...this.volumes.map((v) => v.id),
    ];
  }
}

function tagsFromSpecs(specs: any[], type: string): Record<string, string> {
  const spec = (specs ?? []).find((s) => s.ResourceType === type);
  return Object.fromEntries((spec?.Tags ?? []).map((t: any) => [t.Key, t.Value]));
}

function matchesFilters(tags: Record<string, string>, state: string, filters: any[]): boolean {
  return (filters ?? []).every((f) => {
    if (f.Name.startsWith('tag:')) {
      return f.Values.includes(tags[f.Name.slice(4)]);
    }
    if (f.Name === 'instance-state-name') {
      return f.Values.includes(state);
    }
    return true;
  });
}

export class ServiceError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export type Handler = (input: any) => Promise<any>;

/** Handlers that behave like the services, over `world`; scenario handlers override them by state name. */
export function serviceHandlers(world: World, custom: Record<string, Handler> = {}): Record<string, Handler> {
  const record = (state: string, fn: Handler): Handler => async (input) => {
    world.calls.push({ state, input });
    return (custom[state] ?? fn)(input);
  };
  const handlers: Record<string, Handler> = {
    LaunchScratchInstance: async (input) => {
      const id = world.next('i');
      world.instances.push({ id, tags: tagsFromSpecs(input.TagSpecifications, 'instance'), state: 'running' });
      return { Instances: [{ InstanceId: id, Placement: { AvailabilityZone: 'us-east-1a' } }] };
    },
    DescribeScratchInstance: async (input) => ({
      Reservations: [{
        Instances: input.InstanceIds.map((id: string) => ({ InstanceId: id, State: { Name: world.instances.find((i) => i.id === id)!.state } })),
      }],
    }),
    CreateRestoredVolume: async (input) => {
      const id = world.next('vol');
      world.volumes.push({ id, tags: tagsFromSpecs(input.TagSpecifications, 'volume'), state: 'available' });
      return { VolumeId: id, SnapshotId: input.SnapshotId };
    },
    DescribeRestoredVolume: async (input) => ({
      Volumes: input.VolumeIds.map((id: string) => ({ VolumeId: id, State: world.volumes.find((v) => v.id === id)!.state })),
    }),
    AttachRestoredVolume: async (input) => {
      const volume = world.volumes.find((v) => v.id === input.VolumeId)!;
      volume.state = 'in-use';
      volume.attachedTo = input.InstanceId;
      return { State: 'attaching' };
    },
    DescribeAgent: async () => ({ InstanceInformationList: [{ PingStatus: 'Online' }] }),
    RunValidation: async (input) => {
      const id = world.next('cmd');
      world.commands.set(id, input.DocumentName);
      return { Command: { CommandId: id } };
    },
    // Run Command skips a step whose platformType precondition does not hold, and the command still
    // ends Success ("Step execution skipped due to unsatisfied preconditions", Systems Manager
    // document syntax, `precondition`); a step that runs prints its first echo line
    GetValidationResult: async (input) => {
      const steps: any[] = world.documents[world.commands.get(input.CommandId) ?? '']?.mainSteps ?? [];
      const output = steps.map((step) => {
        const platform = step.precondition?.StringEquals?.[1];
        if (platform && platform !== world.platform) {
          return `Step execution skipped due to unsatisfied preconditions: '"platformType" StringEquals "${platform}"'. Step name: ${step.name}`;
        }
        const first = (step.inputs.runCommand as string[]).find((l) => /^(echo|Write-Output) /.test(l)) ?? '';
        return `${first.replace(/^(echo|Write-Output) ["']?/, '').replace(/["']$/, '')}\nok`;
      }).join('\n');
      return { Status: 'Success', StandardOutputContent: steps.length ? output : 'cdk-ebs-backup-validation: linux\nok', StandardErrorContent: '' };
    },
    RecordDrillFailure: async (input) => { world.metricData.push(input); return {}; },
    RecordTeardownFailure: async (input) => { world.metricData.push(input); return {}; },
    RecordLeftovers: async (input) => { world.metricData.push(input); return {}; },
    FindRestoredInstances: async (input) => ({
      Reservations: world.instances.filter((i) => matchesFilters(i.tags, i.state, input.Filters)).map((i) => ({ Instances: [{ InstanceId: i.id }] })),
    }),
    TerminateInstances: async (input) => {
      for (const id of input.InstanceIds) {
        world.instances.find((i) => i.id === id)!.state = 'terminated';
        world.volumes.filter((v) => v.attachedTo === id).forEach((v) => { v.state = 'available'; v.attachedTo = undefined; });
      }
      return {};
    },
    CheckInstancesGone: async (input) => ({
      Reservations: world.instances.filter((i) => matchesFilters(i.tags, i.state, input.Filters)).map((i) => ({ Instances: [{ InstanceId: i.id }] })),
    }),
    FindRestoredVolumes: async (input) => ({
      Volumes: world.volumes.filter((v) => matchesFilters(v.tags, v.state, input.Filters)).map((v) => ({ VolumeId: v.id })),
    }),
    DeleteVolume: async (input) => {
      const i = world.volumes.findIndex((v) => v.id === input.VolumeId);
      if (world.volumes[i]?.attachedTo) {
        throw new ServiceError('Ec2.VolumeInUseException', `${input.VolumeId} is attached`);
      }
      world.volumes.splice(i, 1);
      return {};
    },
    CheckRunningDrills: async () => ({ Executions: world.runningExecutions.map((name) => ({ name })) }),
  };
  const all = { ...handlers, ...Object.fromEntries(Object.keys(custom).filter((k) => !(k in handlers)).map((k) => [k, custom[k]])) };
  return Object.fromEntries(Object.entries(all).map(([state, fn]) => [state, record(state, fn)]));
}

/** Every Wait and retry interval set to zero. */
export function noWaiting(definition: any): { waitTimeOverrides: Record<string, number>; retryIntervalOverrides: Record<string, number> } {
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const visit = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Wait') {
        waits[name] = 0;
      }
      if (state.Retry) {
        retries[name] = 0;
      }
      for (const branch of state.Branches ?? []) {
        visit(branch.States);
      }
      if (state.ItemProcessor ?? state.Iterator) {
        visit((state.ItemProcessor ?? state.Iterator).States);
      }
    }
  };
  visit(definition.States);
  return { waitTimeOverrides: waits, retryIntervalOverrides: retries };
}

/** Run a definition locally; resolves with the output, or with the error name and cause of a failed execution. */
export async function execute(definition: any, handlers: Record<string, Handler>, executionName = 'drill-0001'):
Promise<{ status: 'SUCCEEDED' | 'FAILED'; output?: any; error?: string; cause?: string }> {
  const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  const run = machine.run({}, {
    overrides: { taskResourceLocalHandlers: handlers, ...noWaiting(definition) },
    context: { Execution: { Name: executionName, StartTime: '2026-11-21T03:00:00.000Z', Id: `arn:aws:states:us-east-1:123456789012:execution:drill:${executionName}` } },
  });
  try {
    return { status: 'SUCCEEDED', output: await run.result };
  } catch (e: any) {
    const inner = e?.getCause?.() ?? e?.cause ?? e;
    return { status: 'FAILED', error: inner?.name, cause: inner?.message };
  }
}
