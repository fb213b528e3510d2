import * as fs from 'fs';
import {
  CfnElement, CfnResource, IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport,
  PolicyViolation, Stack, Token, Validations,
} from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { CoverageIndex } from './coverage-index';
import { AppTemplates, StackTemplate } from './model';
import { EbsBackupRule, RuleCompliance, RuleContext } from './rule';
import { ALL_RULES } from './rules';
import { acknowledgeFindings } from '../core/acknowledge';
import { CHECK_IDS } from '../core/check-ids';
import { renderedResources } from '../core/rendered-properties';

/**
 * Options of the `EbsBackupChecks` pack.
 */
export interface EbsBackupChecksProps {
  /**
   * Rule ids not to evaluate at all, e.g. `EbsBackup-RecycleBinRetention`.
   *
   * To accept one finding on one resource, acknowledge it there instead:
   * `Validations.of(volume).acknowledge({ id: 'EbsBackup-VolumeCovered', reason })`.
   *
   * @default - every rule is evaluated
   */
  readonly excludeRules?: string[];

  /**
   * Acknowledge cdk-nag's `EC2EBSInBackupPlan` (NIST 800-53 R4/R5, HIPAA packs) on every volume
   * this pack proves covered by some other means (a DLM policy, a tag-based AWS Backup selection,
   * an instance-level policy). That rule only accepts a backup selection that lists the volume's
   * own ARN, so it reports DLM-protected volumes as unprotected.
   *
   * @default true
   */
  readonly acknowledgeCdkNagBackupPlanRule?: boolean;
}

/** The cdk-nag packs that contain `EC2EBSInBackupPlan`. */
const NAG_PACKS_WITH_BACKUP_PLAN_RULE = ['HIPAA.Security', 'NIST.800.53.R4', 'NIST.800.53.R5'];

/**
 * A policy validation plugin that platform teams add to their own apps: every EBS volume, EC2
 * instance and launch template is covered by some backup mechanism (a DLM policy, an AWS Backup
 * selection, a snapshot maintenance window, or a job that declares its coverage with
 * `BackupCoverage.declare`), VSS-protected instances can take their snapshots, and retention,
 * vault lock and Recycle Bin settings agree with each other.
 *
 * Rules are matched by tag across every stack of the same environment (account and region), as
 * the services match them. Accept a finding on one resource with
 * `Validations.of(resource).acknowledge({ id: '<rule id>', reason })`.
 *
 * @example
 * Validations.of(app).addPlugins(new EbsBackupChecks(app));
 */
export class EbsBackupChecks implements IPolicyValidationPlugin {
  /** Every EBS volume is covered by a backup mechanism. */
  public static readonly VOLUME_COVERED = 'EbsBackup-VolumeCovered';
  /** Every EC2 instance is covered by a backup mechanism. */
  public static readonly INSTANCE_COVERED = 'EbsBackup-InstanceCovered';
  /** Instances launched from every launch template are covered. */
  public static readonly LAUNCH_TEMPLATE_COVERED = CHECK_IDS.launchTemplateCovered;
  /** VSS-protected instances carry the VSS snapshot permissions. */
  public static readonly VSS_INSTANCE_ROLE = 'EbsBackup-VssInstanceRole';
  /** Backup rules and copies retain within their vault's lock. */
  public static readonly BACKUP_RETENTION_WITHIN_VAULT_LOCK = 'EbsBackup-BackupRetentionWithinVaultLock';
  /** A Recycle Bin rule does not outlast a DLM schedule's own retention. */
  public static readonly RECYCLE_BIN_RETENTION = 'EbsBackup-RecycleBinRetention';

  public readonly name: string = 'EbsBackupChecks';
  public readonly version?: string = '1.0.0';
  public readonly ruleIds?: string[];

  private readonly rules: readonly EbsBackupRule[];

  constructor(scope: IConstruct, props: EbsBackupChecksProps = {}) {
    const excluded = new Set(props.excludeRules ?? []);
    for (const id of excluded) {
      if (!ALL_RULES.some((r) => r.id === id)) {
        throw new Error(`EbsBackupChecks: excludeRules must name rules of the pack (${ALL_RULES.map((r) => r.id).join(', ')}), got '${id}'`);
      }
    }
    this.rules = ALL_RULES.filter((r) => !excluded.has(r.id));
    this.ruleIds = this.rules.map((r) => r.id);
    if (props.acknowledgeCdkNagBackupPlanRule ?? true) {
      // Construct validations run after every Aspect (tags included) and before the validation
      // plugins, so cdk-nag sees the acknowledgements whatever order the plugins were added in.
      scope.node.root.node.addValidation({ validate: () => acknowledgeCoveredVolumes(scope.node.root) });
    }
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const stacks: StackTemplate[] = context.stackTemplates.map((s) => ({
      stackPath: s.stackConstructPath,
      templatePath: s.templatePath,
      template: JSON.parse(fs.readFileSync(s.templatePath, 'utf8')),
    }));
    const app = new AppTemplates(stacks);
    const ruleContext: RuleContext = { app, coverage: new CoverageIndex(app) };
    const acknowledged = acknowledgementIndex(context.appConstruct);
    const violations: PolicyViolation[] = [];
    for (const rule of this.rules) {
      for (const resource of app.resources()) {
        const verdict = rule.evaluate(resource, ruleContext);
        if (verdict.compliance !== RuleCompliance.NON_COMPLIANT
          || acknowledged(resource.path, resource.stack.stackPath, resource.logicalId, rule.id)) {
          continue;
        }
        violations.push({
          ruleName: rule.id,
          description: verdict.message ?? rule.summary,
          fix: rule.fix,
          severity: rule.severity,
          violatingResources: [{
            resourceLogicalId: resource.logicalId,
            templatePath: resource.stack.templatePath,
            locations: verdict.locations ?? ['Properties'],
          }],
        });
      }
    }
    return {
      success: violations.every((v) => v.severity !== 'error'),
      violations,
      pluginVersion: this.version,
    };
  }
}

/**
 * A lookup of per-resource acknowledgements (`Validations.of(x).acknowledge({ id })` on the
 * resource or any ancestor), by construct path or by stack and logical id.
 */
function acknowledgementIndex(root: IConstruct | undefined): (path: string, stackPath: string, logicalId: string, ruleId: string) => boolean {
  if (!root) {
    return () => false;
  }
  const byPath = new Map<string, IConstruct>();
  const byLogicalId = new Map<string, IConstruct>();
  for (const c of root.node.findAll()) {
    byPath.set(c.node.path, c);
    if (CfnElement.isCfnElement(c)) {
      const stack = Stack.of(c);
      byLogicalId.set(`${stack.node.path}\u0000${stack.resolve(c.logicalId)}`, c);
    }
  }
  return (path, stackPath, logicalId, ruleId) => {
    let current: IConstruct | undefined = byPath.get(path) ?? byLogicalId.get(`${stackPath}\u0000${logicalId}`);
    const wanted = new Set([ruleId.toLowerCase(), `ebsbackupchecks::${ruleId.toLowerCase()}`]);
    while (current) {
      for (const entry of current.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && entry.data) {
          if (Object.keys(entry.data).some((id) => wanted.has(id.replace(/^annotation::/i, '').toLowerCase()))) {
            return true;
          }
        }
      }
      current = current.node.scope;
    }
    return false;
  };
}

/**
 * Acknowledge cdk-nag's `EC2EBSInBackupPlan` on every volume that this pack proves covered,
 * naming what covers it. Runs as a construct validation of the app root; returns no errors.
 */
function acknowledgeCoveredVolumes(root: IConstruct): string[] {
  const done = root as unknown as { [ACKED]?: boolean };
  if (done[ACKED]) {
    return [];
  }
  done[ACKED] = true;
  const byEnvironment = new Map<string, { stacks: StackTemplate[]; constructs: Map<string, CfnResource> }>();
  for (const stack of root.node.findAll().filter(Stack.isStack)) {
    const env = `${Token.isUnresolved(stack.account) ? '' : stack.account}/${Token.isUnresolved(stack.region) ? '' : stack.region}`;
    const group = byEnvironment.get(env) ?? { stacks: [] as StackTemplate[], constructs: new Map<string, CfnResource>() };
    byEnvironment.set(env, group);
    const resources: Record<string, unknown> = {};
    for (const c of stack.node.findAll()) {
      if (!CfnResource.isCfnResource(c) || Stack.of(c) !== stack) {
        continue;
      }
      const rendered = renderedResources(c);
      for (const [logicalId, body] of Object.entries(rendered)) {
        resources[logicalId] = body;
        group.constructs.set(`${stack.node.path}\u0000${logicalId}`, c);
      }
    }
    group.stacks.push({ stackPath: stack.node.path, template: { Resources: resources } });
  }
  for (const { stacks, constructs } of byEnvironment.values()) {
    const app = new AppTemplates(stacks);
    const coverage = new CoverageIndex(app);
    for (const volume of app.resources('AWS::EC2::Volume')) {
      const sources = coverage.volumeCoverage(volume);
      const construct = constructs.get(`${volume.stack.stackPath}\u0000${volume.logicalId}`);
      if (sources.length > 0 && construct) {
        const reason = `covered by ${sources.map((s) => s.description).join(', ')} (proven by EbsBackupChecks)`;
        acknowledgeFindings(construct, reason, ...NAG_PACKS_WITH_BACKUP_PLAN_RULE.map((pack) => `${pack}-EC2EBSInBackupPlan`));
      }
    }
  }
  return [];
}

const ACKED = Symbol.for('cdk-ebs-backup.checks.acknowledgedCoveredVolumes');
