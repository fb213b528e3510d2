/**
 * The test support module: every construct test and every example is synthesized through it.
 *
 * One synthesis runs four independent gates, and any finding fails it:
 * 1. aws-cdk-lib's own template validation (`@aws-cdk/core:validateAgainstDefaultRules`) and
 *    construct annotations (errors, e.g. from the tagging Aspect) in the validation report;
 * 2. cdk-nag's AwsSolutions pack and 3. cfn-guard (Control Tower proactive controls), both as
 *    `Validations` plugins, where only acknowledged findings (with a reason) pass;
 * 4. the CloudFormation registry schemas and the IAM action catalogue, checked here directly.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AppProps, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { checkTemplateIamActions } from './iam';
import { checkTemplateAgainstSchema, formatSchemaFinding } from './schema';
import { ScopedCfnGuardValidator } from './scoped-guard';

export { checkTemplateAgainstSchema, formatSchemaFinding } from './schema';
export { checkConditionKey, checkConditionOperator, checkIamAction, checkTemplateIamActions } from './iam';

/** The context every test app and example is synthesized with. */
export const STRICT_CONTEXT = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
  '@aws-cdk/core:annotationsInValidationReport': true,
  // warnings fail too (cdk-nag warnings, cfn-guard, CloudFormation Validate W-codes, annotations)
  '@aws-cdk/core:strictCfnValidateErrors': true,
  // resource metadata carries the construct path, so findings name the construct too
  'aws:cdk:enable-path-metadata': true,
};

/** The account and region of test stacks. */
export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

/**
 * The environment forms every example is synthesized in besides the one it is written in:
 * - `agnostic`: no stack has an account or region (every ARN built from pseudo parameters);
 * - `specific`: every account is replaced by another fixed one (none the tests use otherwise), and
 *   stacks without an environment get `ALTERNATE_ENV`, so an acknowledgement keyed to a literal
 *   account, or only to `<AWS::AccountId>`, shows up as a finding.
 * Regions stay as written: examples spell availability zones and DR regions for them.
 */
export type SynthesisForm = 'agnostic' | 'specific';

/** The environment of the `specific` form for stacks written without one. */
export const ALTERNATE_ENV = { account: '210987654321', region: 'us-east-1' };
const ALTERNATE_ACCOUNTS: Record<string, string> = {
  123456789012: '210987654321',
  111111111111: '311111111113',
  111122223333: '333322221111',
  222222222222: '422222222224',
  999999999999: '888888888888',
};

/**
 * Build an app's stacks (synchronously, inside `build`) in one environment form. Stacks created
 * inside `build` get their environment from the form; aws-cdk-lib resolves a stack's environment
 * once, in its constructor, so the choice holds for the whole synthesis.
 */
export function inEnvironmentForm<T>(form: SynthesisForm, build: () => T): T {
  const proto = Stack.prototype as unknown as { parseEnvironment?: (env?: { account?: string; region?: string }) => unknown };
  const original = proto.parseEnvironment;
  if (typeof original !== 'function') {
    throw new Error('aws-cdk-lib no longer has Stack.parseEnvironment: inEnvironmentForm cannot choose the environment');
  }
  proto.parseEnvironment = function parse(this: Stack, env: { account?: string; region?: string } = {}) {
    return original.call(this, form === 'agnostic' ? {} : {
      account: env.account ? ALTERNATE_ACCOUNTS[env.account] ?? env.account : ALTERNATE_ENV.account,
      region: env.region ?? ALTERNATE_ENV.region,
    });
  };
  try {
    return build();
  } finally {
    proto.parseEnvironment = original;
  }
}

export interface CheckedAppOptions extends AppProps {
  /**
   * Run cdk-nag and cfn-guard. Unit tests of pure helpers may turn them off; construct tests
   * and examples never do.
   *
   * @default true
   */
  readonly rules?: boolean;
}

/**
 * The assembly directories this test file created, removed after its last test: a full run
 * synthesizes about 600 apps, and each copies the Lambda bundles into its assembly.
 */
const outdirs: string[] = [];
if (typeof afterAll === 'function') {
  try {
    afterAll(() => {
      for (const dir of outdirs.splice(0)) {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  } catch {
    // loaded inside a test: that file's directories stay in the temporary folder
  }
}

/** A CDK app with the strict context and the rule plugins, writing to a fresh directory. */
export function createCheckedApp(options: CheckedAppOptions = {}): App {
  const outdir = options.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ebs-backup-'));
  if (!options.outdir) {
    outdirs.push(outdir);
  }
  const app = new App({
    ...options,
    outdir,
    context: { ...STRICT_CONTEXT, ...options.context },
  });
  if (options.rules ?? true) {
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app),
      new ScopedCfnGuardValidator(),
    );
  }
  return app;
}

/** A stack in the test environment. */
export function createTestStack(app: App, id = 'TestStack', props: StackProps = {}): Stack {
  return new Stack(app, id, { env: TEST_ENV, ...props });
}

/** Thrown when a synthesized app fails any gate; the message lists every finding. */
export class SynthCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SynthCheckError';
  }
}

/**
 * Synthesize `app` through every gate. Returns the assembly, or throws a `SynthCheckError`
 * whose message names the resource, the property and the rule of each finding.
 */
export function synthesizeChecked(app: App): CloudAssembly {
  let assembly: CloudAssembly | undefined;
  const problems: string[] = [];
  try {
    assembly = app.synth();
  } catch (e) {
    const report = path.join(app.outdir, 'validation-report.json');
    problems.push(`${(e as Error).message}${fs.existsSync(report) ? '\n' + summarizeReport(report) : ''}`);
  }
  // The independent checks read the templates on disk, so they run even when a plugin failed.
  for (const file of fs.readdirSync(app.outdir).filter((f) => f.endsWith('.template.json'))) {
    const stackName = file.replace(/\.template\.json$/, '');
    const template = JSON.parse(fs.readFileSync(path.join(app.outdir, file), 'utf8'));
    for (const f of checkTemplateAgainstSchema(template)) {
      problems.push(`${stackName}: schema: ${formatSchemaFinding(f)}`);
    }
    for (const f of checkTemplateIamActions(template)) {
      problems.push(`${stackName}: iam: ${f.logicalId} ${f.path}: ${f.message}`);
    }
  }
  for (const stack of assembly?.stacksRecursively ?? []) {
    // `messages`, not `manifest.metadata`: newer assemblies keep stack metadata in a separate file
    // (manifest.metadata is undefined there), and an error annotation must never pass unseen
    for (const message of stack.messages) {
      if (message.level === 'error') {
        problems.push(`${stack.stackName}: error annotation: ${String(message.entry.data)}`);
      }
    }
  }
  if (problems.length > 0 || !assembly) {
    throw new SynthCheckError(`synthesis checks failed:\n- ${problems.join('\n- ')}`);
  }
  return assembly;
}

/** The validation report, one line per violation and resource. */
function summarizeReport(file: string): string {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const lines: string[] = [];
  for (const plugin of report.pluginReports ?? []) {
    for (const v of plugin.violations ?? []) {
      for (const r of v.violatingResources ?? v.violatingConstructs ?? []) {
        lines.push(`[${plugin.pluginName}] ${v.ruleName}: ${r.constructPath ?? ''} ${v.description ?? ''}`.trim());
      }
    }
  }
  return lines.join('\n');
}

/** Synthesize the stack's app through every gate and return the stack's template. */
export function checkedTemplate(stack: Stack): any {
  const assembly = synthesizeChecked(stack.node.root as App);
  return assembly.getStackArtifact(stack.artifactId).template;
}
