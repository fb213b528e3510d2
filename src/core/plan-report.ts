import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Annotations, App, CfnResource, Stack, Stage, Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { standingPrice } from './plan-report-pricing';
import { quantity } from './quantity';

/** What one mechanism protects, and how. */
export interface PlanProtection {
  /** The mechanism: `DLM schedule 'nightly'`, `AWS Backup rule 'daily'`, `VSS maintenance window`. */
  readonly mechanism: string;
  /** What it selects or protects: `instances tagged Backup=database`. */
  readonly selects: string;
  /** When it runs: the schedule expression, or `on demand`. */
  readonly schedule?: string;
  /** How long its artefacts are kept, as the retention tag says it (`count:14`, `age:35d`). */
  readonly retention?: string;
  /** Copies away: `eu-west-1 (age:30d)`, `account 111122223333`. */
  readonly copies?: string[];
  /** Write-once protection: `Vault Lock compliance`, `snapshot lock governance 7 days`. */
  readonly locks?: string[];
}

/** A choice that cannot be undone once deployed (or only after a delay). */
export interface PlanIrreversible {
  /** What: `compliance-mode Vault Lock on vault ebs-backup-gold`. */
  readonly what: string;
  /** From when, and what can then never be done. */
  readonly consequence: string;
}

/** What a construct registers: its protections and its irreversible choices. */
export interface PlanFacts {
  readonly protects?: PlanProtection[];
  readonly irreversible?: PlanIrreversible[];
  /** Standing costs that are not a resource of their own (fast snapshot restore). */
  readonly extraCosts?: PlanCost[];
}

/** One standing monthly cost. */
export interface PlanCost {
  readonly construct: string;
  readonly item: string;
  readonly units: number;
  readonly monthlyUsd: number;
  readonly basis: string;
  readonly page: string;
}

/** One stack of the plan report. */
export interface PlanStack {
  readonly stack: string;
  readonly account: string;
  readonly region: string;
  readonly protections: Array<PlanProtection & { construct: string; kind: string }>;
  readonly irreversible: Array<PlanIrreversible & { construct: string; kind: string }>;
  readonly costs: PlanCost[];
  /** The sum of the standing costs in USD per month. */
  readonly monthlyUsd: number;
}

interface Registered {
  readonly scope: Construct;
  readonly kind: string;
  readonly facts: () => PlanFacts;
}

const REGISTRY = Symbol.for('cdk-ebs-backup.planReport');
const ANNOUNCED = Symbol.for('cdk-ebs-backup.planReportAnnounced');
const WRITER = Symbol.for('cdk-ebs-backup.planReportWriter');
const WRITERS = Symbol.for('cdk-ebs-backup.assemblyWriters');

/** The file names of the plan report, written to the cloud assembly directory (`cdk.out`). */
export const PLAN_REPORT_FILES = { json: 'plan-report.json', markdown: 'plan-report.md' };

/**
 * Register what a construct of this library creates with the app's plan report: what it protects,
 * what cannot be undone, and (read from its resources) what costs money every month. `facts` is
 * called at synthesis, so rules and targets added after construction count.
 */
export function registerPlan(scope: Construct, kind: string, facts: () => PlanFacts): void {
  const root = scope.node.root as unknown as { [REGISTRY]?: Registered[] };
  (root[REGISTRY] ??= []).push({ scope, kind, facts });
  announce(scope);
  onAssemblySynthesis(scope, WRITER, (outdir) => {
    const stacks = planOf(scope.node.root);
    fs.writeFileSync(path.join(outdir, PLAN_REPORT_FILES.json), JSON.stringify({ stacks }, undefined, 2));
    fs.writeFileSync(path.join(outdir, PLAN_REPORT_FILES.markdown), renderPlanMarkdown(stacks));
  });
}

/** One info line per stack naming the report's file, which `cdk synth` prints. */
function announce(scope: Construct): void {
  const stack = Stack.of(scope) as Stack & { [ANNOUNCED]?: boolean };
  if (stack[ANNOUNCED]) {
    return;
  }
  stack[ANNOUNCED] = true;
  const root = scope.node.root;
  const outdir = App.isApp(root) ? root.outdir : Stage.of(scope)?.outdir;
  const relative = outdir ? path.relative(process.cwd(), path.join(outdir, PLAN_REPORT_FILES.markdown)) : PLAN_REPORT_FILES.markdown;
  Annotations.of(stack).addInfo(`cdk-ebs-backup: what this stack protects, what cannot be undone and what costs money every month: ${relative}`);
}

/**
 * Run `write` with the cloud assembly directory at every synthesis of the app: once per stage
 * (nested stages have their own directory) and for the app's own directory, through aws-cdk-lib's
 * hook for constructs that add files to the cloud assembly. `key` makes it once per app and key.
 */
export function onAssemblySynthesis(scope: Construct, key: symbol, write: (outdir: string) => void): void {
  const stage = (Stage.of(scope) ?? scope.node.root) as unknown as Record<symbol, boolean>;
  if (stage[key]) {
    return;
  }
  stage[key] = true;
  const appOutdir = () => {
    const app = scope.node.root;
    return App.isApp(app) ? app.outdir : undefined;
  };
  const both = (outdir: string) => {
    fs.mkdirSync(outdir, { recursive: true });
    write(outdir);
    const top = appOutdir();
    if (top && path.resolve(top) !== path.resolve(outdir)) {
      fs.mkdirSync(top, { recursive: true });
      write(top);
    }
  };
  // aws-cdk-lib keeps one custom synthesis per construct (a second attach throws "Cannot redefine
  // property"): a construct that carries several writers (a baseline's coverage and plan reports)
  // gets one attach that runs them all
  const holder = scope as unknown as { [WRITERS]?: Array<(outdir: string) => void> };
  if (holder[WRITERS]) {
    holder[WRITERS].push(both);
    return;
  }
  const writers = holder[WRITERS] = [both];
  const runAll = (outdir: string) => writers.forEach((w) => w(outdir));
  const attach = (cdk as unknown as { attachCustomSynthesis?: (c: Construct, s: { onSynthesize(session: { outdir: string }): void }) => void })
    .attachCustomSynthesis;
  if (attach) {
    attach(scope, { onSynthesize: (session) => runAll(session.outdir) });
  } else {
    // a future aws-cdk-lib without the hook: validations run once per synthesis
    scope.node.addValidation({
      validate: () => {
        const outdir = Stage.of(scope)?.outdir ?? appOutdir();
        if (outdir) {
          runAll(outdir);
        }
        return [];
      },
    });
  }
}

/** The plan of every stack of the app whose constructs registered with it. */
export function planOf(scope: IConstruct): PlanStack[] {
  const root = scope.node.root as unknown as { [REGISTRY]?: Registered[] };
  const registered = root[REGISTRY] ?? [];
  const byStack = new Map<Stack, Registered[]>();
  for (const r of registered) {
    const stack = Stack.of(r.scope);
    byStack.set(stack, [...byStack.get(stack) ?? [], r]);
  }
  return [...byStack.entries()].map(([stack, entries]) => {
    const protections: PlanStack['protections'] = [];
    const irreversible: PlanStack['irreversible'] = [];
    const costs: PlanCost[] = [];
    const priced = new Set<CfnResource>();
    // the most specific registered construct owns a resource (a baseline's DLM policy, not the baseline)
    const owners = [...entries].sort((a, b) => b.scope.node.path.length - a.scope.node.path.length);
    const text = readable(stack);
    for (const entry of entries) {
      const facts = text(entry.facts());
      const construct = entry.scope.node.path;
      protections.push(...(facts.protects ?? []).map((p) => ({ construct, kind: entry.kind, ...p })));
      irreversible.push(...(facts.irreversible ?? []).map((i) => ({ construct, kind: entry.kind, ...i })));
      costs.push(...(facts.extraCosts ?? []).map((c) => ({ ...c, construct: c.construct || construct })));
    }
    for (const owner of owners) {
      const counted = new Map<string, PlanCost>();
      for (const c of owner.scope.node.findAll()) {
        if (!(c instanceof CfnResource) || priced.has(c) || Stack.of(c) !== stack) {
          continue;
        }
        priced.add(c);
        const p = standingPrice(c);
        if (!p) {
          continue;
        }
        const before = counted.get(p.price.item);
        counted.set(p.price.item, {
          construct: owner.scope.node.path,
          item: p.price.item,
          units: (before?.units ?? 0) + p.units,
          monthlyUsd: round((before?.monthlyUsd ?? 0) + p.units * p.price.monthlyUsd),
          basis: p.price.basis,
          page: p.price.page,
        });
      }
      costs.push(...counted.values());
    }
    costs.sort((a, b) => a.construct.localeCompare(b.construct) || a.item.localeCompare(b.item));
    return {
      stack: stack.node.path,
      account: Token.isUnresolved(stack.account) ? 'unknown-account' : stack.account,
      region: Token.isUnresolved(stack.region) ? 'unknown-region' : stack.region,
      protections,
      irreversible,
      costs,
      monthlyUsd: round(costs.reduce((sum, c) => sum + c.monthlyUsd, 0)),
    };
  });
}

/**
 * Every string of the facts as a reader reads it: a token becomes what the template says,
 * `<AWS::Partition>` for a pseudo parameter, `<Vault.BackupVaultName>` for an attribute.
 */
function readable(stack: Stack): <T>(value: T) => T {
  const render = (v: any): string => {
    if (typeof v === 'string') {
      return v;
    }
    if (Array.isArray(v)) {
      return v.map(render).join(',');
    }
    if (v && typeof v === 'object') {
      if ('Ref' in v) {
        return `<${v.Ref}>`;
      }
      if ('Fn::GetAtt' in v) {
        return `<${[].concat(v['Fn::GetAtt']).join('.')}>`;
      }
      if ('Fn::Join' in v) {
        const [sep, parts] = v['Fn::Join'];
        return (parts as any[]).map(render).join(sep);
      }
      if ('Fn::Select' in v) {
        return `<${render(v['Fn::Select'][1])}[${v['Fn::Select'][0]}]>`;
      }
    }
    return JSON.stringify(v);
  };
  const walk = (v: any): any => {
    if (typeof v === 'string') {
      return Token.isUnresolved(v) ? render(stack.resolve(v)) : v;
    }
    if (Array.isArray(v)) {
      return v.map(walk);
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk;
}

function round(dollars: number): number {
  return Math.round(dollars * 100) / 100;
}

function usd(n: number): string {
  return `$${n.toFixed(2)}`;
}

function cell(s: string | undefined): string {
  return (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A `### title` section: a table of `rows` (one column per heading), or `empty` when there are none. */
function section<T>(title: string, rows: readonly T[], empty: string, columns: Array<[string, (row: T) => string]>, footer: string[] = []): string[] {
  if (rows.length === 0) {
    return [`### ${title}`, '', empty, ''];
  }
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `### ${title}`, '',
    row(columns.map(([heading]) => heading)), `|${'---|'.repeat(columns.length)}`,
    ...rows.map((r) => row(columns.map(([, render]) => render(r)))),
    '', ...footer,
  ];
}

/** The plan report as Markdown: per stack, protections, irreversible choices and standing costs. */
export function renderPlanMarkdown(stacks: PlanStack[]): string {
  const lines = [
    '# EBS backup plan',
    '',
    'Per stack: what is protected by what, what cannot be undone once deployed, and the resources that cost money every month',
    'whether or not a backup runs (US East (N. Virginia) list prices; snapshot and recovery point storage, data processed and runs come on top).',
    '',
  ];
  for (const s of stacks) {
    lines.push(`## ${s.stack} (${s.account}/${s.region})`, '');
    lines.push(
      ...section('Protected', s.protections, 'Nothing in this stack takes backups.', [
        ['Construct', (p) => cell(p.construct)], ['Mechanism', (p) => cell(p.mechanism)], ['Selects', (p) => cell(p.selects)],
        ['Schedule', (p) => cell(p.schedule)], ['Retention', (p) => cell(p.retention)],
        ['Copies', (p) => cell((p.copies ?? []).join(', '))], ['Locks', (p) => cell((p.locks ?? []).join(', '))],
      ]),
      ...section('Cannot be undone', s.irreversible, 'Nothing: every choice in this stack can be changed or removed by a later deployment.', [
        ['Construct', (i) => cell(i.construct)], ['What', (i) => cell(i.what)], ['Consequence', (i) => cell(i.consequence)],
      ]),
      ...section('Standing monthly cost', s.costs, 'None: only usage (storage, runs) is billed.', [
        ['Construct', (c) => cell(c.construct)], ['Resource', (c) => cell(c.item)], ['Units', (c) => String(c.units)],
        ['Per month', (c) => usd(c.monthlyUsd)], ['Basis', (c) => cell(c.basis)], ['Pricing page', (c) => cell(c.page)],
      ], [`Total: ${usd(s.monthlyUsd)} per month before usage.`, '']),
    );
  }
  return lines.join('\n');
}

/**
 * The plan report: for every stack of an app that uses this library, what is protected by what
 * (schedules, retention, copies, locks), what cannot be undone once deployed (compliance-mode
 * locks, locked Recycle Bin rules), and the resources that cost money every month. Every
 * synthesis writes it to the cloud assembly directory (`cdk.out/plan-report.md` and
 * `cdk.out/plan-report.json`) and names the file in one info message per stack.
 */
export class PlanReport {
  /** The Markdown report's file name in the cloud assembly directory. */
  public static readonly MARKDOWN_FILE = PLAN_REPORT_FILES.markdown;
  /** The JSON report's file name in the cloud assembly directory. */
  public static readonly JSON_FILE = PLAN_REPORT_FILES.json;

  /** The report of the app that `scope` belongs to, as Markdown. */
  public static markdown(scope: IConstruct): string {
    return renderPlanMarkdown(planOf(scope));
  }

  /** The report of the app that `scope` belongs to, as JSON. */
  public static json(scope: IConstruct): string {
    return JSON.stringify({ stacks: planOf(scope) }, undefined, 2);
  }

  private constructor() {}
}

/** A schedule as the report shows it; a token stays a deploy-time value. */
export function planSchedule(schedule: { expressionString: string } | undefined): string {
  if (schedule === undefined) {
    return 'on demand';
  }
  return Token.isUnresolved(schedule.expressionString) ? '(deploy-time value)' : schedule.expressionString;
}

/** A retention as its tag value (`count:14`, `age:35d`); a token stays a deploy-time value. */
export function planRetention(
  retain: { maxCount?: number; maxAge?: cdk.Duration; toTagValue(): string } | cdk.Duration | undefined,
): string | undefined {
  if (retain === undefined) {
    return undefined;
  }
  if (retain instanceof cdk.Duration) {
    return retain.isUnresolved() ? '(deploy-time value)' : `age:${retain.toDays({ integral: false })}d`;
  }
  if ((retain.maxCount !== undefined && Token.isUnresolved(retain.maxCount)) || retain.maxAge?.isUnresolved()) {
    return '(deploy-time value)';
  }
  return retain.toTagValue();
}

/** Tags as `Key=value AND Key=value`. */
export function planTags(tags: Record<string, string> | undefined): string {
  const entries = Object.entries(tags ?? {});
  return entries.length === 0 ? 'every resource' : entries.map(([k, v]) => `${k}=${v}`).join(' AND ');
}

/** A duration in days for the report. */
export function planDays(d: cdk.Duration | undefined): string {
  if (d === undefined) {
    return '';
  }
  return d.isUnresolved() ? '(deploy-time value)' : quantity(d.toDays({ integral: false }), 'day');
}
