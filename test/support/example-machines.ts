/**
 * The state machines the example apps synthesize: every example through every gate, each state
 * machine's definition rendered for its stack's account and region, and its kind (by the Task
 * states only that kind has). The call-replay coverage and the scale harness both drive every
 * machine of the examples from here, so a new kind of state machine fails both until they know it.
 */
import { taskStates } from './call-replay';
import { createCheckedApp, synthesizeChecked } from './index';
import { stateMachineDefinitions } from './intrinsics';
import { loadExample } from '../../examples/catalogue';

export interface Machine {
  readonly example: string;
  readonly stack: string;
  readonly id: string;
  readonly template: any;
  readonly definition: any;
  readonly env: { account?: string; region?: string };
}

export type Kind = 'job' | 'drill' | 'sweeper' | 'housekeeping' | 'lock';

/** The kind of a state machine, by the Task states only its kind has. */
export function kindOf(definition: any): Kind | undefined {
  const tasks = Object.keys(taskStates(definition));
  const has = (...names: string[]) => names.every((n) => tasks.includes(n));
  if (has('ListRunningExecutions', 'ReportFailure', 'NotifyFailure')) {
    return 'job';
  }
  if (has('SelectRestorePoint', 'TerminateInstances')) {
    return 'drill';
  }
  if (has('CheckRunningDrills', 'RecordLeftovers')) {
    return 'sweeper';
  }
  if (has('DescribeSnapshots', 'DeleteSnapshot', 'PublishMetrics')) {
    return 'housekeeping';
  }
  if (has('FindTaggedSnapshots', 'FindExistingLocks', 'Lock')) {
    return 'lock';
  }
  return undefined;
}

/** Tags a run's `tag:` filters select by: the resources the world answers carry them. */
export function filterTags(filters: any[] | undefined): Record<string, string> {
  return Object.fromEntries((filters ?? []).filter((f) => String(f.Name).startsWith('tag:')).map((f) => [f.Name.slice(4), f.Values[0]]));
}

/** Every `tag:<key>` filter with a literal value in a definition (JSONPath Parameters or JSONata Arguments). */
export function literalTagFilters(definition: any): Record<string, string> {
  const text = JSON.stringify(definition).replace(/\\"/g, '"');
  return Object.fromEntries([...text.matchAll(/"Name":\s*"tag:([^"]+)",\s*"Values":\s*\["([^"{}$]*)"\]/g)].map((x) => [x[1], x[2]]));
}

export interface ExampleMachines {
  readonly machines: Machine[];
  /** The Run Command documents of each stack, by the name a definition sends (`ref-<logical id>`). */
  readonly documents: Record<string, Record<string, any>>;
}

/** The state machines of one example, synthesized through every gate (`rules: false` skips cdk-nag and cfn-guard). */
export function machinesOf(example: string, options: { rules?: boolean } = {}): ExampleMachines {
  const app = createCheckedApp({ rules: options.rules });
  loadExample(example).build(app);
  const assembly = synthesizeChecked(app);
  const machines: Machine[] = [];
  const documents: Record<string, Record<string, any>> = {};
  for (const stack of assembly.stacksRecursively) {
    const concrete = (v: string) => (/^unknown-/.test(v) ? undefined : v);
    const env = { account: concrete(stack.environment.account), region: concrete(stack.environment.region) };
    const template = stack.template;
    documents[stack.stackName] = Object.fromEntries(Object.entries<any>(template.Resources ?? {})
      .filter(([, r]) => r.Type === 'AWS::SSM::Document').map(([id, r]) => [`ref-${id}`, r.Properties.Content]));
    for (const [id, definition] of Object.entries(stateMachineDefinitions(template, env))) {
      machines.push({ example, stack: stack.stackName, id, template, definition, env });
    }
  }
  return { machines, documents };
}
