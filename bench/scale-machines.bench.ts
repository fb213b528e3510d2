/**
 * Every state machine the examples synthesize (one per shape, from its template) in the scale
 * harness at 1,000, 5,000 and 10,000 artefacts (test/support/scale/machines.ts): the largest
 * connector result, state input/output and variable against Step Functions' 256 KiB, the longest
 * execution history against 25,000 events, requests and local run time, and each per 1,000
 * artefacts so that growth can be read as linear (a constant per-1,000 column) or not.
 *
 * `npx projen bench scale-machines`
 */
import '../build-tools/resolve-self';
import { performance } from 'perf_hooks';
import { kindOf } from '../test/support/example-machines';
import { HISTORY_EVENT_LIMIT, PAYLOAD_LIMIT_BYTES } from '../test/support/scale/limits';
import { exampleMachineGroups, SCALE_CASES } from '../test/support/scale/machines';

const SIZES = [1000, 5000, 10_000];
const kib = (b: number) => (b / 1024).toFixed(1);

interface Row {
  machine: string;
  size: number;
  artefacts: number;
  instances: number;
  largestKiB: string;
  largestWhere: string;
  largestVariableKiB: string;
  events: number;
  requests: number;
  ms: number;
  ok: boolean;
}

export async function run(): Promise<object> {
  const { groups } = exampleMachineGroups();
  const rows: Row[] = [];
  const silent = console.log;
  for (const g of groups) {
    const c = SCALE_CASES[kindOf(g.machine.definition)!];
    for (const size of SIZES) {
      const t0 = performance.now();
      console.log = () => undefined;
      let r;
      try {
        r = await c.run(g.machine, g.documents, size);
      } finally {
        console.log = silent;
      }
      const ms = performance.now() - t0;
      const largest = Object.values(r.meter.largest).sort((a, b) => b.bytes - a.bytes)[0];
      rows.push({
        machine: g.name.replace(/[A-F0-9]{8}$/, ''),
        size,
        artefacts: r.artefacts,
        instances: r.instances,
        largestKiB: kib(r.meter.maxBytes),
        largestWhere: largest?.where ?? '-',
        largestVariableKiB: r.meter.largest.variable ? kib(r.meter.largest.variable.bytes) : '-',
        events: r.events,
        requests: Object.values(r.requests).reduce((a, b) => a + b, 0),
        ms,
        ok: !r.error && r.meter.violations.length === 0 && r.events < HISTORY_EVENT_LIMIT && r.problems.length === 0,
      });
      silent(`${g.name} at ${size}: ${r.summary}`);
    }
  }
  console.log(`limits: ${PAYLOAD_LIMIT_BYTES / 1024} KiB per payload and variable, ${HISTORY_EVENT_LIMIT} history events per execution`);
  console.log('| machine (one per shape) | size | artefacts | instances | largest payload (KiB) | where | largest variable (KiB) | history events | requests | requests / 1,000 | run time (ms) | ms / 1,000 | within limits |');
  console.log('|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const per = (x: number) => (r.artefacts ? (x / r.artefacts * 1000).toFixed(0) : '-');
    console.log(`| ${r.machine} | ${r.size} | ${r.artefacts} | ${r.instances} | ${r.largestKiB} | ${r.largestWhere} | ${r.largestVariableKiB} | ${r.events} | ${r.requests} | ${per(r.requests)} | ${Math.round(r.ms)} | ${per(r.ms)} | ${r.ok ? 'yes' : 'NO'} |`);
  }
  return { rows };
}
