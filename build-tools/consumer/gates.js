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
global.consumer = {
  app: () => new App(),
  stack: (app) => new Stack(app ?? new App(), 'Snippet'),
};

process.on('beforeExit', () => {
  if (global.consumerDone) {
    return;
  }
  global.consumerDone = true;
  let failures = 0;
  for (const app of apps) {
    acceptLibraryWarnings(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ScopedCfnGuardValidator());
    try {
      const assembly = app.synth({ force: true });
      for (const stack of assembly.stacksRecursively) {
        for (const m of Object.values(stack.manifest.metadata ?? {}).flat()) {
          if (m.type === 'aws:cdk:error') {
            failures++;
            console.error(`  ${stack.stackName}: error annotation: ${m.data}`);
          }
        }
        const outputs = Object.keys(stack.template.Outputs ?? {}).length;
        console.log(`  ${stack.stackName} (${stack.environment.account}/${stack.environment.region}): ${Object.keys(stack.template.Resources ?? {}).length} resources, ${outputs} outputs`);
      }
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
