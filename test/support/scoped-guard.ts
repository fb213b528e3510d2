/**
 * cfn-guard (Control Tower proactive controls) with acknowledgements scoped to constructs.
 *
 * The Control Tower rules have no per-resource suppression, and aws-cdk-lib's own acknowledgements
 * are app-wide. This wrapper drops a violation only when the violating resource's construct, or
 * one of its ancestors, acknowledged that rule with a reason (`acknowledge(scope, guard(...))`).
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

  constructor(props: CfnGuardValidatorProps = {}) {
    this.inner = new CfnGuardValidator(props);
    this.name = this.inner.name;
    this.version = this.inner.version;
    this.ruleIds = this.inner.ruleIds;
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = this.inner.validate(context);
    const root = (context as unknown as { appConstruct?: IConstruct }).appConstruct;
    if (!root) {
      return report;
    }
    const pathOf = constructPathResolver(context.templatePaths);
    const violations = report.violations
      .map((v) => ({
        ...v,
        violatingResources: v.violatingResources.filter((r) => {
          const constructPath = pathOf(r.templatePath, r.resourceLogicalId);
          return !(constructPath && acknowledgedOnPath(root, constructPath, v.ruleName));
        }),
      }))
      .filter((v) => v.violatingResources.length > 0);
    return { ...report, violations, success: violations.length === 0 };
  }
}

/** Maps (template, logical id) to the construct path recorded in the resource metadata. */
function constructPathResolver(templatePaths: string[]): (template: string, logicalId: string) => string | undefined {
  const byFile = new Map<string, any>();
  const load = (file: string) => {
    const match = templatePaths.find((t) => t === file || t.endsWith(path.sep + file) || path.basename(t) === path.basename(file));
    if (!match) {
      return undefined;
    }
    if (!byFile.has(match)) {
      byFile.set(match, JSON.parse(fs.readFileSync(match, 'utf8')));
    }
    return byFile.get(match);
  };
  return (template, logicalId) => load(template)?.Resources?.[logicalId]?.Metadata?.['aws:cdk:path'];
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
