/**
 * A small typed model of SSM Automation documents (schema version 0.3), rendered to the JSON
 * that `AWS::SSM::Document` takes as `Content`.
 *
 * Typed steps catch at synthesis what SSM would otherwise reject at `CreateDocument` time, or
 * worse, at run time: a `{{ reference }}` to a parameter or step output that does not exist,
 * a duplicate step name, a document output naming a step that is not there. Internal to the
 * runbooks family: the public API is the constructs, not the document model.
 */

/** The parameter types an Automation document accepts. */
export type AutomationParameterType =
  | 'String' | 'StringList' | 'Boolean' | 'Integer' | 'MapList' | 'StringMap' | 'AWS::IAM::Role::Arn' | 'AWS::EC2::Instance::Id';

/** One input parameter of a document. */
export interface AutomationParameter {
  readonly type: AutomationParameterType;
  readonly description: string;
  /** Leave out for a required parameter. */
  readonly default?: string | number | boolean | string[];
  readonly allowedPattern?: string;
  readonly allowedValues?: string[];
}

/** The output types a step can declare. */
export type StepOutputType = 'String' | 'Integer' | 'Boolean' | 'StringList' | 'StringMap' | 'MapList';

/** One output of a step, selected from the API response with a JSONPath. */
export interface StepOutput {
  readonly name: string;
  readonly selector: string;
  readonly type: StepOutputType;
}

/** What every step may say about its flow and failure handling. */
export interface StepOptions {
  readonly name: string;
  readonly description?: string;
  /** `Abort` (the service default), `Continue`, or `step:<name>`. */
  readonly onFailure?: string;
  readonly timeoutSeconds?: number;
  readonly maxAttempts?: number;
  readonly isEnd?: boolean;
  readonly nextStep?: string;
}

/** A step of the document's `mainSteps`. */
export abstract class AutomationStep {
  public readonly name: string;
  protected constructor(public readonly action: string, private readonly options: StepOptions) {
    this.name = options.name;
  }

  /** The step's `inputs` object. */
  public abstract inputs(): Record<string, unknown>;

  /** The outputs this step declares (`stepName.OutputName` in later steps). */
  public outputs(): StepOutput[] {
    return [];
  }

  /** Outputs that the action itself provides without a declaration (e.g. `ImageId` of aws:createImage). */
  public implicitOutputs(): string[] {
    return [];
  }

  /** Step names this step may jump to. */
  public targets(): string[] {
    const t: string[] = [];
    if (this.options.nextStep) {
      t.push(this.options.nextStep);
    }
    if (this.options.onFailure?.startsWith('step:')) {
      t.push(this.options.onFailure.slice('step:'.length));
    }
    return t;
  }

  public render(): Record<string, unknown> {
    const outputs = this.outputs();
    return omitUndefined({
      name: this.name,
      action: this.action,
      description: this.options.description,
      onFailure: this.options.onFailure,
      timeoutSeconds: this.options.timeoutSeconds,
      maxAttempts: this.options.maxAttempts,
      isEnd: this.options.isEnd,
      nextStep: this.options.nextStep,
      inputs: this.inputs(),
      outputs: outputs.length > 0 ? outputs.map((o) => ({ Name: o.name, Selector: o.selector, Type: o.type })) : undefined,
    });
  }
}

/** `aws:executeAwsApi`: one AWS API call, with outputs selected from the response. */
export class ExecuteAwsApiStep extends AutomationStep {
  constructor(private readonly props: StepOptions & {
    /** The service namespace as the SDK names it, e.g. `ec2`, `ssm`. */
    readonly service: string;
    /** The API operation in PascalCase, e.g. `CreateSnapshots`. */
    readonly api: string;
    readonly parameters: Record<string, unknown>;
    readonly outputs?: StepOutput[];
  }) {
    super('aws:executeAwsApi', props);
  }

  public inputs(): Record<string, unknown> {
    return { Service: this.props.service, Api: this.props.api, ...this.props.parameters };
  }

  public outputs(): StepOutput[] {
    return this.props.outputs ?? [];
  }
}

/** `aws:waitForAwsResourceProperty`: poll an API until a property reaches one of the values. */
export class WaitForAwsResourcePropertyStep extends AutomationStep {
  constructor(private readonly props: StepOptions & {
    readonly service: string;
    readonly api: string;
    readonly parameters: Record<string, unknown>;
    readonly propertySelector: string;
    readonly desiredValues: string[];
  }) {
    super('aws:waitForAwsResourceProperty', props);
  }

  public inputs(): Record<string, unknown> {
    return {
      Service: this.props.service,
      Api: this.props.api,
      ...this.props.parameters,
      PropertySelector: this.props.propertySelector,
      DesiredValues: this.props.desiredValues,
    };
  }
}

/** `aws:executeAutomation`: run another Automation document as a child and wait for it. */
export class ExecuteAutomationStep extends AutomationStep {
  constructor(private readonly props: StepOptions & {
    readonly documentName: string;
    readonly runtimeParameters: Record<string, unknown>;
  }) {
    super('aws:executeAutomation', props);
  }

  public inputs(): Record<string, unknown> {
    return { DocumentName: this.props.documentName, RuntimeParameters: this.props.runtimeParameters };
  }

  public implicitOutputs(): string[] {
    return ['ExecutionId', 'Status', 'Output'];
  }
}

/** The whole document. */
export interface AutomationDocumentProps {
  /** Markdown shown in the console. */
  readonly description: string;
  /** The role every step runs as; fixed here so that callers cannot substitute their own. */
  readonly assumeRole: string;
  readonly parameters: Record<string, AutomationParameter>;
  readonly steps: AutomationStep[];
  /** `stepName.OutputName` entries returned by the execution. */
  readonly outputs: string[];
}

/** The Automation system variables a document may reference. */
const SYSTEM_VARIABLES = /^(automation:(EXECUTION_ID|DOCUMENT_NAME)|global:(ACCOUNT_ID|REGION|DATE|DATE_TIME|AWS_PARTITION|URL_SUFFIX))$/;
const STEP_NAME = /^[A-Za-z0-9_]{1,100}$/;
const PARAMETER_NAME = /^[A-Za-z0-9_.-]{1,50}$/;

/** An Automation document, rendered with `render()` and checked with `problems()`. */
export class AutomationDocumentModel {
  constructor(public readonly props: AutomationDocumentProps) {}

  /** The document as `AWS::SSM::Document` `Content` (schema version 0.3). */
  public render(): Record<string, unknown> {
    const parameters: Record<string, unknown> = {};
    for (const [name, p] of Object.entries(this.props.parameters)) {
      parameters[name] = omitUndefined({
        type: p.type,
        description: p.description,
        default: p.default,
        allowedPattern: p.allowedPattern,
        allowedValues: p.allowedValues,
      });
    }
    return {
      schemaVersion: '0.3',
      description: this.props.description,
      assumeRole: this.props.assumeRole,
      parameters,
      mainSteps: this.props.steps.map((s) => s.render()),
      outputs: this.props.outputs,
    };
  }

  /**
   * Everything SSM would reject or that would fail at run time, one sentence each: bad names,
   * duplicate steps, jumps to unknown steps, and `{{ }}` references to a parameter or step
   * output that does not exist (or to a step that has not run yet).
   */
  public problems(): string[] {
    const problems: string[] = [];
    const params = Object.keys(this.props.parameters);
    for (const name of params) {
      if (!PARAMETER_NAME.test(name)) {
        problems.push(`parameter '${name}' must match ${PARAMETER_NAME.source}`);
      }
    }
    const seen = new Map<string, AutomationStep>();
    const available = new Set<string>();
    for (const step of this.props.steps) {
      if (!STEP_NAME.test(step.name)) {
        problems.push(`step '${step.name}' must match ${STEP_NAME.source}`);
      }
      if (seen.has(step.name)) {
        problems.push(`step '${step.name}' is declared twice`);
      }
      for (const ref of references(step.inputs())) {
        if (!(params.includes(ref) || available.has(ref) || SYSTEM_VARIABLES.test(ref))) {
          problems.push(`step '${step.name}' references '{{ ${ref} }}', which is neither a parameter, a system variable nor an output of an earlier step`);
        }
      }
      seen.set(step.name, step);
      for (const o of step.outputs()) {
        available.add(`${step.name}.${o.name}`);
      }
      for (const o of step.implicitOutputs()) {
        available.add(`${step.name}.${o}`);
      }
    }
    for (const step of this.props.steps) {
      for (const target of step.targets()) {
        if (!seen.has(target)) {
          problems.push(`step '${step.name}' jumps to unknown step '${target}'`);
        }
      }
    }
    for (const out of this.props.outputs) {
      if (!available.has(out)) {
        problems.push(`document output '${out}' is not an output of any step`);
      }
    }
    if (this.props.steps.length === 0) {
      problems.push('the document has no steps');
    }
    return problems;
  }
}

/** Every `{{ name }}` in a value (strings nested anywhere in objects and lists). */
export function references(value: unknown): string[] {
  if (typeof value === 'string') {
    return [...value.matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)].map((m) => m[1]);
  }
  if (Array.isArray(value)) {
    return value.flatMap(references);
  }
  if (value !== null && typeof value === 'object') {
    return Object.values(value).flatMap(references);
  }
  return [];
}

function omitUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
