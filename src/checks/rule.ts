import { CoverageIndex } from './coverage-index';
import { AppTemplates, TemplateResource } from './model';

/** The prefix of every rule id of the pack (and of the ids that acknowledge them). */
export const RULE_ID_PREFIX = 'EbsBackup-';

/** The outcome of one rule for one resource, as cdk-nag's rules return it. */
export enum RuleCompliance {
  COMPLIANT = 'COMPLIANT',
  NON_COMPLIANT = 'NON_COMPLIANT',
  NOT_APPLICABLE = 'NOT_APPLICABLE',
}

/** A rule's verdict; non-compliant verdicts carry the message a user acts on. */
export interface Verdict {
  readonly compliance: RuleCompliance;
  /** What is wrong with this resource and what to do, for NON_COMPLIANT. */
  readonly message?: string;
  /** Where in the resource, e.g. `Properties/Tags`. */
  readonly locations?: string[];
}

export const COMPLIANT: Verdict = { compliance: RuleCompliance.COMPLIANT };
export const NOT_APPLICABLE: Verdict = { compliance: RuleCompliance.NOT_APPLICABLE };

export function nonCompliant(message: string, ...locations: string[]): Verdict {
  return { compliance: RuleCompliance.NON_COMPLIANT, message, locations: locations.length > 0 ? locations : ['Properties'] };
}

/** What every rule may read: the templates of one environment, and the coverage index built once. */
export interface RuleContext {
  readonly app: AppTemplates;
  readonly coverage: CoverageIndex;
}

/** One rule: a small pure function over one resource of the templates. */
export interface EbsBackupRule {
  /** The rule id, also the id to acknowledge it with, e.g. `EbsBackup-VolumeCovered`. */
  readonly id: string;
  /** One line: what the rule requires. */
  readonly summary: string;
  /** How to fix a violation, in general terms. */
  readonly fix: string;
  /** `error` fails synthesis; `warning` is reported only. */
  readonly severity: 'error' | 'warning';
  /** The verdict for one resource. */
  evaluate(resource: TemplateResource, context: RuleContext): Verdict;
}

/** What a rule tells the user, beside its verdicts. */
export interface RuleText {
  /** One line: what the rule requires. */
  readonly summary: string;
  /** How to fix a violation, in general terms. */
  readonly fix: string;
  /**
   * `error` fails synthesis; `warning` is reported only.
   * @default 'error'
   */
  readonly severity?: 'error' | 'warning';
}

/**
 * A rule of the pack, the way cdk-nag writes one: the id `EbsBackup-<name>`, the one resource type
 * it judges (every other resource is NOT_APPLICABLE without calling `check`), and `check`, a small
 * pure function over one resource of that type.
 */
export function defineRule(name: string, resourceType: string, text: RuleText,
  check: (resource: TemplateResource, context: RuleContext) => Verdict): EbsBackupRule {
  return {
    id: `${RULE_ID_PREFIX}${name}`,
    summary: text.summary,
    fix: text.fix,
    severity: text.severity ?? 'error',
    evaluate: (resource, context) => resource.type === resourceType ? check(resource, context) : NOT_APPLICABLE,
  };
}

/** COMPLIANT when nothing is wrong, otherwise the message naming every problem. */
export function verdictOf(problems: string[], message: (problems: string) => string, ...locations: string[]): Verdict {
  return problems.length === 0 ? COMPLIANT : nonCompliant(message(problems.join('; ')), ...locations);
}
