import { CoverageIndex } from './coverage-index';
import { AppTemplates, TemplateResource } from './model';

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
