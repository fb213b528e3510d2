/**
 * One scale case per kind of state machine the library synthesizes: each runs a synthesized
 * definition (an example's, from its template) in the scale harness at a given size, with
 * realistic records in pages and every connector result, state input/output and variable
 * measured against Step Functions' 256 KiB (limits.ts). The size is in artefacts (snapshots, or
 * what the machine deletes); the instances follow from it (10,000 artefacts: 1,000 instances).
 *
 * A kind without a case here fails the every-machine scale test, so a new state machine cannot
 * ship without being run at a platform team's size.
 */
import { DrillScaleRun, runDrillAtScale, runSweeperAtScale } from './drill';
import { runHousekeeping } from './housekeeping';
import { runJob } from './job';
import { PayloadMeter } from './limits';
import { runLocks } from './lock';
import { listExamples } from '../../../examples/catalogue';
import { taskStates } from '../call-replay';
import { Kind, kindOf, Machine, machinesOf } from '../example-machines';

/** What one scale run did, for the test and the benchmark alike. */
export interface ScaleRun {
  /** Artefacts in the account (snapshots, or instances and volumes for the sweeper). */
  readonly artefacts: number;
  readonly instances: number;
  readonly meter: PayloadMeter;
  /** The longest execution history, in events (one execution's; counted from the states run). */
  readonly events: number;
  /** The error the execution failed with (a data-limit error included). */
  readonly error?: string;
  readonly requests: Record<string, number>;
  /** Checks of the run's effect, each a problem description (empty when the run did its work). */
  readonly problems: string[];
  /** A one-line account of what the run did. */
  readonly summary: string;
}

export interface ScaleCase {
  /** What the case runs, in words. */
  readonly describe: (size: number) => string;
  readonly run: (m: Machine, documents: Record<string, any>, size: number) => Promise<ScaleRun>;
}

const expectEqual = (problems: string[], what: string, actual: unknown, expected: unknown) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    problems.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
};

function drillRun(r: DrillScaleRun, instances: number, problems: string[], summary: string): ScaleRun {
  return {
    artefacts: r.artefacts,
    instances,
    meter: r.meter,
    events: r.meter.events,
    requests: r.account.requests,
    error: r.error ? `${r.error.name}: ${r.error.cause}` : undefined,
    problems,
    summary,
  };
}

const housekeepingInstances = (n: number) => Math.max(1, Math.round(n / 80));

export const SCALE_CASES: Record<Kind, ScaleCase> = {
  housekeeping: {
    // 40 daily snapshots: past every retention the examples keep (at most 35 days or 21 snapshots)
    describe: (n) => `${housekeepingInstances(n)} instances × 2 volumes × 40 daily snapshots`,
    run: async (m, _documents, n) => {
      const instances = housekeepingInstances(n);
      const r = await runHousekeeping({ instances, days: 40, definition: m.definition });
      const problems: string[] = [];
      // the judged hour holds one snapshot per volume
      expectEqual(problems, 'snapshots judged in the window\'s hour', r.output?.created, instances * 2);
      if (!(r.output?.deleted > 0)) {
        problems.push(`nothing expired from ${r.before} snapshots kept ${JSON.stringify(r.output)}`);
      }
      return {
        artefacts: r.before,
        instances,
        meter: r.meter,
        events: r.meter.events,
        requests: r.account.requests,
        error: r.error ? `${r.error.error}: ${r.error.cause}` : undefined,
        problems,
        summary: `deleted ${r.output?.deleted}, deferred ${r.output?.deferred} to the next runs`,
      };
    },
  },
  lock: {
    describe: (n) => `${n / 10} createSnapshots events of 10 snapshots, one execution each`,
    run: async (m, _documents, n) => {
      const r = await runLocks(n / 10, 10, m.definition);
      const problems: string[] = [];
      expectEqual(problems, 'snapshots locked', r.locks.size, n);
      return {
        artefacts: n,
        instances: n / 10,
        meter: r.meter,
        events: r.maxEvents,
        requests: r.account.requests,
        error: r.errors.length ? JSON.stringify(r.errors[0]) : undefined,
        problems,
        summary: `locked ${r.locks.size}`,
      };
    },
  },
  job: {
    describe: (n) => `${n / 10} instances × 10 volumes: ${n} snapshots a run`,
    run: async (m, _documents, n) => {
      const runCommand = Object.keys(taskStates(m.definition)).some((s) => s.endsWith('.SendCommand'));
      const images = Object.keys(taskStates(m.definition)).includes('CreateImage');
      const problems: string[] = [];
      let instances = n / 10;
      // a snapshot job refuses, before its first before step, a run whose entries (one per volume
      // and two per instance) would not fit in 256 KiB, or whose instances would not fit in 25,000
      // history events: past its bounds the case checks the refusal, then runs at the most
      // instances of 10 volumes within them
      const [units, most] = (m.definition.States.CheckJobSize?.Choices[0].Or ?? []).map((c: any) => c.NumericGreaterThan as number);
      const bound = units === undefined ? undefined : Math.min(units, 12 * most);
      let refused = '';
      if (!images && bound !== undefined && instances * 12 > bound) {
        const tooLarge = await runJob(instances, 'snapshots', { definition: m.definition, volumes: 10 });
        expectEqual(problems, `the error of ${instances} instances x 10 volumes`, tooLarge.run.error?.name, 'SnapshotJob.JobTooLarge');
        expectEqual(problems, 'steps run before the refusal', tooLarge.run.order.filter((s) => /^(Before|After)\d/.test(s)).join(','), '');
        expectEqual(problems, 'instances captured before the refusal', tooLarge.account.requests.CreateSnapshots ?? 0, 0);
        expectEqual(problems, 'payloads over 256 KiB before the refusal', tooLarge.meter.violations.join('; '), '');
        refused = `${instances} instances x 10 volumes refused (${tooLarge.run.error?.name}) before any step; `;
        instances = Math.floor(bound / 12);
      }
      const { run, meter, account } = await runJob(instances, images ? 'images' : 'snapshots', { definition: m.definition, volumes: 10 });
      expectEqual(problems, 'instances captured', images ? account.requests.CreateImage : account.requests.CreateSnapshots, instances);
      if (!images) {
        expectEqual(problems, 'snapshots', account.snapshots.size, instances * 10);
      }
      return {
        artefacts: images ? instances : account.snapshots.size,
        instances,
        meter,
        // the job's own history or a child execution's, whichever is longer (each has its own 25,000)
        events: Math.max(meter.events, meter.maxChildEvents),
        requests: account.requests,
        error: run.error ? `${run.error.name}: ${run.error.cause}` : undefined,
        problems,
        summary: refused + (runCommand ? `Run Command steps sent ${account.requests.SendCommand} times; ` : '') + (images ? `imaged ${account.requests.CreateImage}` : `snapshotted ${account.snapshots.size} of ${instances} instances`),
      };
    },
  },
  drill: {
    describe: (n) => `${n} snapshots of ${n / 10} instances; one set restored`,
    run: async (m, documents, n) => {
      const r = await runDrillAtScale(m, documents, n);
      const problems: string[] = [];
      expectEqual(problems, 'restore point found', r.selection !== undefined && r.order.includes('LaunchScratchInstance'), true);
      expectEqual(problems, 'restored volumes left', [...r.account.volumes.values()].filter((v) => !v.Tags.some((t: any) => t.Key === 'Role')).length, 0);
      expectEqual(problems, 'scratch instances left', r.account.instances.filter((i) => !i.Tags.some((t: any) => t.Key === 'Role') && i.State.Name !== 'terminated').length, 0);
      expectEqual(problems, 'production resources touched', r.touched, []);
      return drillRun(r, n / 10, problems, `restored ${r.account.requests.CreateVolume ?? 0} volumes, validated, torn down`);
    },
  },
  sweeper: {
    describe: (n) => `${n / 10} leftover instances with ${n / 5} restored volumes, beside as many production ones`,
    run: async (m, _documents, n) => {
      const leftovers = n / 10;
      const r = await runSweeperAtScale(m, leftovers);
      const problems: string[] = [];
      const mine = (tags: any[]) => !tags.some((t: any) => t.Key === 'Role');
      expectEqual(problems, 'leftover instances not terminated', r.account.instances.filter((i) => mine(i.Tags) && !['terminated', 'shutting-down'].includes(i.State.Name)).length, 0);
      expectEqual(problems, 'leftover volumes not deleted', [...r.account.volumes.values()].filter((v) => mine(v.Tags)).length, 0);
      expectEqual(problems, 'production resources touched', r.touched, []);
      // at most 1,000 volumes a run (the rest the next day), the metric each run's count
      const perRun = r.metrics.filter((d) => d.MetricName === 'LeftoverVolumes').map((d) => d.Value);
      expectEqual(problems, 'LeftoverVolumes per run', perRun, [...Array.from({ length: Math.ceil(2 * leftovers / 1000) }, (_, i) => Math.min(1000, 2 * leftovers - 1000 * i)), 0]);
      return drillRun(r, leftovers, problems, `terminated ${leftovers} instances, deleted ${2 * leftovers} volumes in ${r.runs} runs (the last finding nothing)`);
    },
  },
};

/** The definition with what distinguishes one deployment from another taken out. */
function shapeOf(m: Machine): string {
  let text = JSON.stringify(m.definition, (k, v) => (k === 'Comment' ? undefined : v));
  for (const s of new Set([...text.matchAll(/"(?:Values|purpose|managedBy)\\?":\s*\[?\\?"([^"\\{}$]+)\\?"/g)].map((x) => x[1]))) {
    text = text.split(s).join('<value>');
  }
  return text
    .replace(/arn:aws[^"\\]*/g, '<arn>')
    .replace(/ref-[A-Za-z0-9]+/g, '<ref>')
    .replace(/"Values":\s*\["[^"]*"\]/g, '"Values":["<value>"]');
}

/** Machines of one shape: one runs for all. */
export interface MachineGroup {
  readonly name: string;
  readonly machine: Machine;
  readonly documents: Record<string, any>;
  readonly members: string[];
}

/**
 * Every state machine of every example (synthesized with the library's gates, without cdk-nag
 * and cfn-guard), and one group per shape: the definition with its names, tag values and ARNs
 * taken out, so machines that differ only in those run once.
 */
export function exampleMachineGroups(): { machines: Array<{ m: Machine; documents: Record<string, any> }>; groups: MachineGroup[] } {
  const machines: Array<{ m: Machine; documents: Record<string, any> }> = [];
  const groups: MachineGroup[] = [];
  const shapes = new Map<string, MachineGroup>();
  for (const example of listExamples()) {
    const { machines: found, documents } = machinesOf(example, { rules: false });
    for (const m of found) {
      machines.push({ m, documents: documents[m.stack] });
      const key = `${kindOf(m.definition)}:${shapeOf(m)}`;
      const where = `${m.example}:${m.stack}/${m.id}`;
      const group = shapes.get(key);
      if (group) {
        group.members.push(where);
      } else {
        const g = { name: `${kindOf(m.definition)} ${where}`, machine: m, documents: documents[m.stack], members: [where] };
        shapes.set(key, g);
        groups.push(g);
      }
    }
  }
  return { machines, groups };
}
