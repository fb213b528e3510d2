import * as fs from 'fs';
import * as path from 'path';
import { Duration, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { onAssemblySynthesis } from '../core/plan-report';
import { Retention } from '../core/retention';
import { MS_PER_HOUR, parseSchedule, ScheduleProblem } from '../dlm/cron';

/** The file names of the coverage report, written to the cloud assembly directory (`cdk.out`). */
export const COVERAGE_REPORT_FILES = { json: 'coverage-report.json', markdown: 'coverage-report.md' };

/** One backup mechanism of a tier, as the report shows it. */
export interface MechanismFacts {
  /** `dlm-snapshots`, `vss-window`, `fsfreeze-window`, `aws-backup`, `restore-drill`, ... */
  readonly mechanism: string;
  /** What it selects: every tag that must match (ANDed). */
  readonly selection: Record<string, string>;
  /** The purpose tag of its artefacts. */
  readonly purpose?: string;
  /** The schedule expression. */
  readonly schedule: string;
  /** The longest gap between two runs, in hours. */
  readonly intervalHours?: number;
  /** The retention, as the retention tag says it. */
  readonly retention?: string;
  /** Copies away: `region eu-west-1 (age:14d)`. */
  readonly copies: string[];
  /** Write-once protection of the artefacts. */
  readonly lock?: string;
  /** True when it covers every instance of the tier (not only those with a platform tag). */
  readonly coversWholeTier: boolean;
  /**
   * For maintenance windows: the customer managed policy that instances keeping a role of their
   * own attach (with AmazonSSMManagedInstanceCore) to be snapshotted, e.g. `EbsBackupVss-gold-vss-<AWS::Region>`.
   */
  readonly instancePolicy?: string;
}

/** One tier, as the report shows it. */
export interface TierFacts {
  readonly name: string;
  readonly description?: string;
  readonly selection: Record<string, string>;
  readonly mechanisms: MechanismFacts[];
  /** The RPO every instance of the tier gets at worst (the most frequent whole-tier mechanism). */
  readonly worstCaseRpoHours?: number;
  /** The RPO of instances that also carry a platform tag (consistent snapshots). */
  readonly platformRpoHours?: number;
  readonly purposes: string[];
}

/** One baseline. */
export interface BaselineFacts {
  readonly path: string;
  readonly tierTagKey: string;
  readonly platformTagKey: string;
  readonly tiers: TierFacts[];
  readonly alwaysOn: string[];
}

/** The longest gap between two runs of a schedule, in hours; undefined for tokens and one-offs. */
export function intervalHours(schedule: events.Schedule): number | undefined {
  const expression = schedule.expressionString;
  if (Token.isUnresolved(expression)) {
    return undefined;
  }
  const parsed = parseSchedule(expression);
  if (parsed instanceof ScheduleProblem) {
    return undefined;
  }
  if (parsed.kind === 'rate') {
    return parsed.hours;
  }
  const gap = parsed.maxGapMs ?? parsed.minGapMs;
  return Number.isFinite(gap) ? Math.round((gap / MS_PER_HOUR) * 100) / 100 : undefined;
}

/** A retention as its tag value (`count:14`, `age:35d`). */
export function retentionText(retain: Retention | Duration): string {
  return retain instanceof Retention ? retain.toTagValue() : Retention.age(retain).toTagValue();
}

/** The worst-case RPO over the whole-tier mechanisms, and over all (platform-tagged instances). */
export function rpo(mechanisms: MechanismFacts[]): { worst?: number; platform?: number } {
  const creating = mechanisms.filter((m) => m.intervalHours !== undefined && m.mechanism !== 'restore-drill' && m.mechanism !== 'aws-backup-restore-testing');
  const whole = creating.filter((m) => m.coversWholeTier).map((m) => m.intervalHours!);
  const all = creating.map((m) => m.intervalHours!);
  return {
    worst: whole.length > 0 ? Math.min(...whole) : undefined,
    platform: all.length > 0 ? Math.min(...all) : undefined,
  };
}

function hours(h: number | undefined): string {
  if (h === undefined) {
    return 'unknown';
  }
  return h % 24 === 0 && h >= 24 ? `${h / 24} d` : `${h} h`;
}

function tags(t: Record<string, string>): string {
  return Object.entries(t).map(([k, v]) => `\`${k}=${v}\``).join(' AND ');
}

/** The report as Markdown: one table per baseline. */
export function renderMarkdown(baselines: BaselineFacts[]): string {
  const lines = ['# EBS backup coverage', ''];
  for (const b of baselines) {
    lines.push(`## ${b.path}`, '', `Tier tag \`${b.tierTagKey}\`, platform tag \`${b.platformTagKey}\` (\`windows\` or \`linux\`).`, '');
    lines.push('| Tier | Selects | Worst-case RPO | RPO with platform tag | Mechanisms | Purposes |', '|---|---|---|---|---|---|');
    for (const t of b.tiers) {
      const mechanisms = t.mechanisms.map((m) => {
        const extra = [m.retention && `keep ${m.retention}`, ...m.copies.map((c) => `copy ${c}`), m.lock && `lock ${m.lock}`,
          m.instancePolicy && `instance roles attach \`${m.instancePolicy}\``].filter(Boolean).join(', ');
        return `${m.mechanism} (${m.schedule}${extra ? `; ${extra}` : ''})`;
      }).join('<br>');
      lines.push(`| ${t.name} | ${tags(t.selection)} | ${hours(t.worstCaseRpoHours)} | ${hours(t.platformRpoHours)} | ${mechanisms} | ${t.purposes.join(', ')} |`);
    }
    lines.push('', `Always on: ${b.alwaysOn.join('; ')}.`, '');
  }
  return lines.join('\n');
}

const REGISTRY = Symbol.for('cdk-ebs-backup.baselineReports');

interface Registered {
  readonly facts: () => BaselineFacts;
}

const WRITER = Symbol.for('cdk-ebs-backup.coverageReportWriter');

/**
 * Register a baseline's facts with its app and write the app's report (every baseline in it)
 * when the app is synthesized: to the cloud assembly directory of the baseline's stage and of
 * the app, as `coverage-report.json` and `coverage-report.md`.
 */
export function registerCoverage(scope: Construct, facts: () => BaselineFacts): void {
  const root = scope.node.root as unknown as { [REGISTRY]?: Registered[] };
  (root[REGISTRY] ??= []).push({ facts });
  onAssemblySynthesis(scope, WRITER, (outdir) => {
    const all = (root[REGISTRY] ?? []).map((r) => r.facts());
    fs.writeFileSync(path.join(outdir, COVERAGE_REPORT_FILES.json), JSON.stringify({ baselines: all }, undefined, 2));
    fs.writeFileSync(path.join(outdir, COVERAGE_REPORT_FILES.markdown), renderMarkdown(all));
  });
}
