/**
 * cfn-guard (Control Tower proactive controls) with acknowledgements scoped to constructs.
 *
 * The Control Tower rules have no per-resource suppression, and aws-cdk-lib's own acknowledgements
 * are app-wide. This wrapper drops a violation only when the violating resource's construct, or
 * one of its ancestors, acknowledged that rule with a reason (`acknowledge(scope, guard(...))`).
 *
 * It also hands cfn-guard only the rule files that can apply. Every Control Tower rule file selects
 * its resources by type (`Resources.*[ Type == "AWS::S3::Bucket" ]`), so a file whose types are
 * all absent from the templates can only skip; leaving it out gives the same report. Parsing all
 * the rules took most of cfn-guard's time (1.4 s of CPU for a 33 KB template against 0.2 s with the
 * 28 files that apply), and every test synthesis runs it. `scoped-guard.test.ts` holds the
 * assumption to the real cfn-guard: no rule fires on a type its file does not name, and the
 * filtered report equals the full one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CfnGuardValidator, CfnGuardValidatorProps } from '@cdklabs/cdk-validator-cfnguard';
import { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { GUARD_ACKNOWLEDGED_METADATA_KEY } from '../../src/core/acknowledge';

export class ScopedCfnGuardValidator implements IPolicyValidationPlugin {
  public readonly name: string;
  public readonly version?: string;
  public readonly ruleIds?: string[];
  private readonly inner: CfnGuardValidator;
  private readonly props: CfnGuardValidatorProps;

  constructor(props: CfnGuardValidatorProps = {}) {
    this.props = props;
    this.inner = new CfnGuardValidator(props);
    this.name = this.inner.name;
    this.version = this.inner.version;
    this.ruleIds = this.inner.ruleIds;
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    // one read and parse of each template serves the choice of rule files and the construct paths
    const templates = new ParsedTemplates(context.templatePaths);
    const report = this.validateApplicableRules(context, templates);
    const root = (context as unknown as { appConstruct?: IConstruct }).appConstruct;
    if (!root) {
      return report;
    }
    const violations = report.violations
      .map((v) => ({
        ...v,
        violatingResources: v.violatingResources.filter((r) => {
          const constructPath = templates.constructPath(r.templatePath, r.resourceLogicalId);
          return !(constructPath && acknowledgedOnPath(root, constructPath, v.ruleName));
        }),
      }))
      .filter((v) => v.violatingResources.length > 0);
    return { ...report, violations, success: violations.length === 0 };
  }

  /** cfn-guard's report with only the rule files that name a resource type of the templates. */
  private validateApplicableRules(context: IPolicyValidationContext, templates: ParsedTemplates): ReturnType<CfnGuardValidator['validate']> {
    const rules = applicableRuleFiles(rulePathsOf(this.inner), templates, this.props.disabledRules ?? []);
    if (!rules) {
      return this.inner.validate(context);
    }
    if (rules.length === 0) {
      return { success: true, violations: [] };
    }
    return new CfnGuardValidator({ ...this.props, controlTowerRulesEnabled: false, rules }).validate(context);
  }
}

/** A rule file of cfn-guard: the resource types it names and the rules it declares. */
export interface GuardRuleFile {
  readonly file: string;
  readonly types: string[];
  readonly rules: string[];
}

/** The rule paths (files or folders) the validator hands cfn-guard, or undefined if unknown. */
export function rulePathsOf(validator: CfnGuardValidator): string[] | undefined {
  const paths = (validator as unknown as { rulesPaths?: unknown }).rulesPaths;
  return Array.isArray(paths) && paths.every((p) => typeof p === 'string') ? paths : undefined;
}

const ruleFileCache = new Map<string, GuardRuleFile[]>();

/** Every `.guard` file under the rule paths, with the types it names and the rules it declares. */
export function guardRuleFiles(rulePaths: string[]): GuardRuleFile[] {
  const key = rulePaths.join('\n');
  const cached = ruleFileCache.get(key);
  if (cached) {
    return cached;
  }
  const files: GuardRuleFile[] = [];
  const visit = (p: string): void => {
    if (fs.statSync(p).isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) {
        visit(path.join(p, entry));
      }
      return;
    }
    const text = fs.readFileSync(p, 'utf8');
    files.push({
      file: p,
      types: [...new Set([...text.matchAll(/["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']/g)].map((m) => m[1]))],
      rules: [...text.matchAll(/^\s*rule\s+([A-Za-z0-9_]+)/gm)].map((m) => m[1]),
    });
  };
  rulePaths.forEach(visit);
  ruleFileCache.set(key, files);
  return files;
}

/**
 * The rule files that can apply to the templates: those naming a resource type the templates
 * have, and those naming none (kept, as their reach is unknown). Undefined when the rule paths
 * are unknown, so the caller runs every rule.
 */
export function applicableRuleFiles(
  rulePaths: string[] | undefined, templates: string[] | ParsedTemplates, disabledRules: string[],
): string[] | undefined {
  if (!rulePaths) {
    return undefined;
  }
  const parsed = templates instanceof ParsedTemplates ? templates : new ParsedTemplates(templates);
  const present = new Set<string>();
  for (const template of parsed.paths) {
    for (const resource of Object.values<any>(parsed.template(template).Resources ?? {})) {
      present.add(resource?.Type);
    }
  }
  return guardRuleFiles(rulePaths)
    .filter((r) => !disabledRules.includes(path.basename(r.file, '.guard')))
    .filter((r) => r.types.length === 0 || r.types.some((t) => present.has(t)))
    .map((r) => r.file);
}

/** The templates of one validation, each read and parsed once, when first needed. */
export class ParsedTemplates {
  private readonly parsed = new Map<string, any>();

  constructor(public readonly paths: string[]) {}

  /** The parsed template at one of `paths`. */
  public template(file: string): any {
    if (!this.parsed.has(file)) {
      this.parsed.set(file, JSON.parse(fs.readFileSync(file, 'utf8')));
    }
    return this.parsed.get(file);
  }

  /**
   * The construct path recorded in the metadata of a resource of a report, whose template path
   * cfn-guard may give in full, relative or by its base name.
   */
  public constructPath(file: string, logicalId: string): string | undefined {
    const match = this.paths.find((t) => t === file || t.endsWith(path.sep + file) || path.basename(t) === path.basename(file));
    return match === undefined ? undefined : this.template(match)?.Resources?.[logicalId]?.Metadata?.['aws:cdk:path'];
  }
}

function acknowledgedOnPath(root: IConstruct, constructPath: string, rule: string): boolean {
  const ids = constructPath.split('/');
  let current: IConstruct | undefined = root;
  const chain: IConstruct[] = [];
  for (const id of ids) {
    current = current?.node.tryFindChild(id);
    if (!current) {
      break;
    }
    chain.push(current);
  }
  return chain.some((c) => c.node.metadata.some((m) =>
    m.type === GUARD_ACKNOWLEDGED_METADATA_KEY && m.data && Object.prototype.hasOwnProperty.call(m.data, rule)));
}
