/**
 * Preloaded (`node -r ./gates.js snippet.js`) in the consumer app, where every module resolves from
 * the consumer's own node_modules: the packed cdk-ebs-backup and the aws-cdk-lib under test.
 *
 * It puts every App the snippet creates through the gates the repository's tests use (aws-cdk-lib's
 * template validation with warnings as errors, cdk-nag AwsSolutions, cfn-guard with scoped
 * acknowledgements) in one of two forms, chosen by CONSUMER_FORM:
 * - `agnostic`: every stack without account and region (pseudo parameters in every ARN);
 * - `specific`: every stack with a concrete account and region, remapped to a fixed pair that the
 *   repository's tests do not use (an account or region hard-coded in a snippet would otherwise
 *   hide an acknowledgement keyed to it).
 */
'use strict';
const { App, Stack, Validations } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { ScopedCfnGuardValidator } = require('./scoped-guard');
const { DeploymentPrerequisites } = require('cdk-ebs-backup');

const form = process.env.CONSUMER_FORM;
if (form !== 'agnostic' && form !== 'specific') {
  throw new Error(`CONSUMER_FORM must be agnostic or specific, got ${form}`);
}
// Distinct accounts stay distinct (cross-account snippets). Regions stay as written: a snippet's
// availability zones and DR regions are spelled for them.
const ACCOUNTS = { '123456789012': '210987654321', '111122223333': '333322221111', '999999999999': '888888888888' };
const DEFAULT_ENV = { account: '210987654321', region: 'us-east-1' };

const parseEnvironment = Stack.prototype.parseEnvironment;
if (typeof parseEnvironment !== 'function') {
  throw new Error('aws-cdk-lib changed Stack.parseEnvironment: the consumer gates cannot choose the environment form');
}
const apps = new Set();
Stack.prototype.parseEnvironment = function patched(env = {}) {
  apps.add(this.node.root);
  if (form === 'agnostic') {
    return parseEnvironment.call(this, {});
  }
  return parseEnvironment.call(this, {
    account: env.account ? (ACCOUNTS[env.account] ?? env.account) : DEFAULT_ENV.account,
    region: env.region ?? DEFAULT_ENV.region,
  });
};

/** Stand-ins for the snippets' `declare const` values. */
const expectedErrors = new Map();
global.consumer = {
  app: () => new App(),
  stack: (app) => new Stack(app ?? new App(), 'Snippet'),
  /** The app must fail synthesis with a message matching `pattern` (a mistake a user makes). */
  expectSynthesisError: (app, pattern) => expectedErrors.set(app, pattern),
};

process.on('beforeExit', () => {
  if (global.consumerDone) {
    return;
  }
  global.consumerDone = true;
  let failures = 0;
  for (const [app, pattern] of expectedErrors) {
    apps.delete(app);
    try {
      app.synth({ force: true });
      failures++;
      console.error(`  synthesized, but must fail with ${pattern}`);
    } catch (e) {
      if (pattern.test(e.message)) {
        console.log(`  fails as it must: ${e.message.split('\n').find((l) => pattern.test(l)) ?? e.message}`);
      } else {
        failures++;
        console.error(`  failed with another message than ${pattern}: ${e.message}`);
      }
    }
  }
  for (const app of apps) {
    acceptLibraryWarnings(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ScopedCfnGuardValidator());
    try {
      const assembly = app.synth({ force: true });
      for (const stack of assembly.stacksRecursively) {
        // read through the artifact: newer aws-cdk-lib keep a stack's metadata in a file of its own
        for (const m of stack.messages) {
          if (m.level === 'error') {
            failures++;
            console.error(`  ${stack.stackName}: error annotation: ${m.entry.data}`);
          }
        }
        const outputs = Object.keys(stack.template.Outputs ?? {}).length;
        console.log(`  ${stack.stackName} (${stack.environment.account}/${stack.environment.region}): ${Object.keys(stack.template.Resources ?? {}).length} resources, ${outputs} outputs`);
      }
      failures += userGates(assembly);
    } catch (e) {
      failures++;
      console.error(`  synthesis failed: ${e.message}`);
    }
  }
  if (apps.size === 0) {
    console.log('  values only (no stack): it ran, its factories validated their arguments, nothing to synthesize');
  }
  process.exitCode = failures > 0 ? 1 : 0;
});

/**
 * What a new user meets at `cdk synth` (issue 20), checked on every synthesized app:
 * - no lookup: `cdk synth` without credentials fails on any context lookup the app requests, and
 *   the cloud assembly lists them as `missing` (this process runs without credentials and without
 *   a cdk.context.json, see consumer-test.sh);
 * - every AWS Backup copy to a vault of the same account in another region has that vault in the
 *   app (a copy job to a vault that does not exist fails every night);
 * - the plan report is in the assembly directory, and named in the stacks' info messages.
 * Returns the number of failures.
 */
function userGates(assembly) {
  // an ARN of the template with the stack's own partition, account and region filled in
  const render = (v, env) => typeof v === 'string' ? v
    : v.Ref === 'AWS::Partition' ? 'aws' : v.Ref === 'AWS::AccountId' ? env.account : v.Ref === 'AWS::Region' ? env.region
      : v['Fn::Join'] ? v['Fn::Join'][1].map((x) => render(x, env)).join(v['Fn::Join'][0]) : JSON.stringify(v);
  let failures = 0;
  const fail = (message) => { failures++; console.error(`  ${message}`); };
  const missing = assembly.manifest.missing ?? [];
  if (missing.length > 0) {
    fail(`the app requests lookups (cdk synth needs AWS credentials): ${missing.map((m) => m.key).join(', ')}`);
  }
  const stacks = assembly.stacksRecursively;
  const vaults = stacks.flatMap((s) => Object.values(s.template.Resources ?? {})
    .filter((r) => r.Type === 'AWS::Backup::BackupVault' && typeof r.Properties?.BackupVaultName === 'string')
    .map((r) => `${s.environment.account}/${s.environment.region}/${r.Properties.BackupVaultName}`));
  // the app's own stacks: a StackSet's member template (a nested stage) gets its DR vaults from
  // the StackSet's own DR-vault stack set, and the gates' environment forms do not apply to it
  for (const s of assembly.stacks) {
    for (const plan of Object.values(s.template.Resources ?? {}).filter((r) => r.Type === 'AWS::Backup::BackupPlan')) {
      for (const rule of plan.Properties.BackupPlan.BackupPlanRule ?? []) {
        for (const copy of rule.CopyActions ?? []) {
          const arn = render(copy.DestinationBackupVaultArn, s.environment);
          const m = /^arn:aws:backup:([a-z0-9-]+):([^:]+):backup-vault:([A-Za-z0-9_-]+)$/.exec(arn);
          const account = m && m[2];
          if (m && account === s.environment.account && m[1] !== s.environment.region) {
            // the agnostic form makes every stack region-agnostic, the DR vault's too
            const wanted = [`${account}/${m[1]}/${m[3]}`, `${account}/unknown-region/${m[3]}`];
            if (!vaults.some((v) => wanted.includes(v))) {
              fail(`${s.stackName}: copies to the vault ${m[3]} in ${m[1]}, which the app does not create`);
            } else {
              console.log(`  DR vault ${m[3]} in ${m[1]}: in the app`);
            }
          }
        }
      }
    }
  }
  if (stacks.length > 0) {
    const report = require('path').join(assembly.directory, 'plan-report.md');
    if (!require('fs').existsSync(report)) {
      fail(`no plan report at ${report}`);
    }
    const named = stacks.filter((s) => s.messages.some((m) => m.level === 'info' && String(m.entry.data).includes('plan-report.md')));
    if (named.length === 0) {
      fail('no stack names the plan report in an info message');
    } else {
      console.log(`  plan report written, named by ${named.length} of ${stacks.length} stacks`);
    }
  }
  return failures;
}

/**
 * The snippets make choices this library warns about on purpose (a compliance-mode lock): accept
 * those warnings where they are raised, as a user does once the choice is deliberate, and print
 * them. cdk-nag and cfn-guard findings are never accepted here.
 */
function acceptLibraryWarnings(app) {
  // Raised at synthesis (one per stack), after this runs: the user sets the organization up as
  // README "Before you deploy" says, then acknowledges it for the app, as README shows.
  Validations.of(app).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the README snippet assumes the prerequisites are set up' });
  for (const c of app.node.findAll()) {
    for (const m of c.node.metadata) {
      const id = m.type === 'aws:cdk:warning' && String(m.data).match(/\[ack: (cdk-ebs-backup:[^\]]+)\]/)?.[1];
      if (id) {
        Validations.of(c).acknowledge({ id: `Annotation::${id}`, reason: 'the README snippet makes this choice on purpose' });
        console.log(`  accepted warning ${id} on ${c.node.path}`);
      }
    }
  }
}
