/**
 * ConsistentSnapshotJob at scale: the synthesized state machine (aws-local-stepfunctions, through
 * the orchestration tests' executor) against `instances` tagged instances with realistic
 * DescribeInstances records in pages, CreateSnapshots answers as EC2 gives them, and the
 * PayloadMeter on every connector result and state input/output.
 */
import { Duration } from 'aws-cdk-lib';
import { ScaleAccount } from './account';
import { observer, PayloadMeter } from './limits';
import { Capture, ConsistentSnapshotJob, Retention, SnapshotStep } from '../../../src';
import { awsError, execute, healthyStubs, lambdaStep, Stub } from '../../orchestration/local-execution';
import { stateMachineDefinition, userFunction } from '../../orchestration/support';
import { taskStates } from '../call-replay';
import { filterTags } from '../example-machines';
import { checkedTemplate, createCheckedApp, createTestStack } from '../index';

/** The Filters of the job's DescribeInstances (JSONPath Parameters). */
function findFilters(definition: any): any[] {
  return taskStates(definition).DescribeInstances.Parameters.Filters;
}

const cache: Record<string, any> = {};
/** The job with a Lambda before and after step and verification (synthesized once per capture kind). */
export function jobDefinition(kind: 'snapshots' | 'images' | 'stopped-images' | 'freeze' | 'freeze-unverified'): any {
  if (!cache[kind]) {
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new ConsistentSnapshotJob(stack, 'OrdersDb', {
      purpose: 'orders-db',
      instances: { tags: { App: 'orders' } },
      before: kind.startsWith('freeze') ? [SnapshotStep.freezeFileSystems(['/data'], { retries: 1 })] : [SnapshotStep.lambdaInvoke(userFunction(stack, 'EnterHotBackup'))],
      after: kind.startsWith('freeze') ? [SnapshotStep.thawFileSystems(['/data'], { retries: 1 })] : [SnapshotStep.lambdaInvoke(userFunction(stack, 'LeaveHotBackup'))],
      retain: Retention.count(7),
      waitForCompletion: kind !== 'freeze-unverified',
      completionTimeout: kind === 'freeze-unverified' ? undefined : Duration.hours(2),
      capture: kind === 'snapshots' || kind.startsWith('freeze') ? undefined : Capture.images({ stopInstance: kind === 'stopped-images' }),
    });
    cache[kind] = stateMachineDefinition(checkedTemplate(stack));
  }
  return cache[kind];
}

export interface JobScaleOptions {
  /** A synthesized job definition (an example's); its instances carry the tags its DescribeInstances filters by. @default jobDefinition(kind) */
  readonly definition?: any;
  /** Volumes per instance (one snapshot each per run), or of the i-th instance (from 0). @default 2 */
  readonly volumes?: number | ((i: number) => number);
  /** Stubs that replace the account's (a fault injected at scale), given the account's own. */
  readonly stubs?: (own: Record<string, Stub>) => Record<string, Stub>;
}

/** A command Run Command ran: the step that sent it and its instance ids. */
export interface SentCommand {
  readonly step: string;
  readonly instanceIds: string[];
}

/**
 * Stubs for the steps of `definition`: Lambda steps answer; Run Command steps as SSM does, each
 * SendCommand a command of its own (at most 50 instance ids, SSM API reference, SendCommand
 * InstanceIds), which ListCommands shows as not yet listed at the first look and Success after.
 */
function stepStubs(definition: any, account: ScaleAccount, commands: Map<string, SentCommand>): Record<string, Stub> {
  const s: Record<string, Stub> = {};
  const polled = new Map<string, number>();
  for (const name of Object.keys(taskStates(definition))) {
    if (/^(Before|After)\d+$/.test(name)) {
      s[name] = lambdaStep;
    }
    const command = /^((?:Before|After)\d+)\.SendCommand$/.exec(name);
    if (command) {
      s[name] = (input) => {
        if ((input.InstanceIds ?? []).length > 50) {
          throw awsError('Ssm.ValidationException', `InstanceIds: at most 50, got ${input.InstanceIds.length}`);
        }
        account.requests.SendCommand = (account.requests.SendCommand ?? 0) + 1;
        const id = `cmd-${command[1]}-${commands.size + 1}`;
        commands.set(id, { step: command[1], instanceIds: input.InstanceIds });
        return { Command: { CommandId: id, Status: 'Pending' } };
      };
      s[`${command[1]}.ListCommands`] = (input) => {
        account.requests.ListCommands = (account.requests.ListCommands ?? 0) + 1;
        const looks = (polled.get(input.CommandId) ?? 0) + 1;
        polled.set(input.CommandId, looks);
        return { Commands: looks === 1 ? [] : [{ CommandId: input.CommandId, Status: 'Success' }] };
      };
      s[`${command[1]}.CancelCommand`] = () => ({});
    }
  }
  return s;
}

export async function runJob(instances: number, kind: 'snapshots' | 'images' | 'stopped-images' | 'freeze' | 'freeze-unverified' = 'snapshots', o: JobScaleOptions = {}) {
  const definition = o.definition ?? jobDefinition(kind);
  const selected = o.definition ? filterTags(findFilters(definition)) : { 'App': 'orders', 'backup:purpose': 'orders-db' };
  const account = new ScaleAccount();
  for (let i = 0; i < instances; i++) {
    account.addInstance(i + 1, selected, typeof o.volumes === 'function' ? o.volumes(i) : o.volumes ?? 2);
  }
  // two unrelated instances that must not be snapshotted
  account.addInstance(900_001, { App: 'billing' });
  let n = 0;
  const meter = new PayloadMeter();
  /** Instances the job stopped and has not started again, with their state. */
  const stopped = new Map<string, string>();
  /** Every command Run Command ran, by command id. */
  const commands = new Map<string, SentCommand>();
  const own: Record<string, Stub> = {
    ...healthyStubs(),
    ...stepStubs(definition, account, commands),
    DescribeInstances: (input) => account.describeInstances(input),
    DescribeMoreInstances: (input) => account.describeInstances(input),
    CreateSnapshots: (input) => {
      account.requests.CreateSnapshots = (account.requests.CreateSnapshots ?? 0) + 1;
      const instance = account.instances.find((x) => x.InstanceId === input.InstanceSpecification.InstanceId);
      const tags = Object.fromEntries(input.TagSpecifications[0].Tags.map((t: any) => [t.Key, t.Value]));
      return {
        Snapshots: instance.BlockDeviceMappings.map((m: any) => {
          const s = account.addSnapshot(++n, { volume: parseInt(m.Ebs.VolumeId.slice(4), 16), startTime: new Date(), tags });
          s.State = 'pending';
          const { StorageTier: _, KmsKeyId: __, ...created } = s;
          return { ...created, Progress: '' };
        }),
      };
    },
    // stop and start as EC2 does: stopping, then stopped at the next look; the account keeps each instance's state
    StopInstance: (input) => {
      account.requests.StopInstances = (account.requests.StopInstances ?? 0) + 1;
      input.InstanceIds.forEach((id: string) => stopped.set(id, 'stopping'));
      return {};
    },
    DescribeInstanceState: (input) => {
      const id = input.InstanceIds[0];
      const state = stopped.get(id) ?? 'running';
      if (state === 'stopping') {
        stopped.set(id, 'stopped');
      }
      return { Reservations: [{ Instances: [{ InstanceId: id, State: { Name: state } }] }] };
    },
    StartInstance: (input) => {
      account.requests.StartInstances = (account.requests.StartInstances ?? 0) + 1;
      input.InstanceIds.forEach((id: string) => stopped.delete(id));
      return {};
    },
    StartAfterFailure: (input) => {
      input.InstanceIds.forEach((id: string) => stopped.delete(id));
      return {};
    },
    CreateImage: (input) => {
      account.requests.CreateImage = (account.requests.CreateImage ?? 0) + 1;
      return { ImageId: `ami-${input.InstanceId.slice(2)}` };
    },
    DescribeImages: (input) => {
      account.requests.DescribeImages = (account.requests.DescribeImages ?? 0) + 1;
      return { Images: input.ImageIds.map((id: string) => ({ ImageId: id, State: 'available', Name: `orders-db-${id}`, Architecture: 'x86_64', BlockDeviceMappings: [] })) };
    },
    // the verification finds the run's snapshots by its execution tag: pending at the first
    // look, completed from the next (the account keeps each snapshot's state)
    FindPendingSnapshots: (input) => {
      const page = account.describeSnapshots(input);
      for (const s of account.snapshots.values()) {
        s.State = s.State === 'pending' ? 'completed' : s.State;
      }
      return page;
    },
    FindFailedSnapshots: (input) => account.describeSnapshots(input),
    CountCompletedSnapshots: (input) => account.describeSnapshots(input),
    CountMoreCompletedSnapshots: (input) => account.describeSnapshots(input),
  };
  const run = await execute(definition, { ...own, ...o.stubs?.(own) }, { observe: observer(meter, definition) });
  return { run, meter, account, stopped, commands };
}
