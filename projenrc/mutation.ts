import * as fs from 'fs';
import * as path from 'path';
import { awscdk } from 'projen';

/**
 * Mutation testing as a standing measure (StrykerJS).
 *
 * Stryker 9 is the newest line whose engines accept Node 20, the machine's Node (Stryker 10
 * requires Node >= 22). `stryker.config.mjs` and `test/mutation/modules.json` say what is
 * mutated (the security- and data-critical modules) and which tests may kill each module's
 * mutants; `npx projen mutate [module...]` runs each module incrementally against its committed
 * `test/mutation/<module>.incremental.json` and prints the score per module.
 */
export function configureMutationTesting(project: awscdk.AwsCdkConstructLibrary): void {
  const version = '9.5.1';
  project.addDevDeps(
    `@stryker-mutator/core@${version}`,
    `@stryker-mutator/jest-runner@${version}`,
    `@stryker-mutator/typescript-checker@${version}`,
  );
  // Stryker's TypeScript checker needs every mutated file in its program itself (not reached
  // through an import): stryker.config.mjs writes one tsconfig per module run (the module's
  // mutated files and tests), test/mutation/tsconfig.<module>.json, not committed.
  project.gitignore.exclude('/test/mutation/tsconfig.*.json');
  // Stryker's sandboxes are copies of the project: jest in the project must not see them
  project.jest?.addIgnorePattern('/.stryker-tmp');
  project.tryFindObjectFile('package.json')?.addOverride('jest.modulePathIgnorePatterns', ['<rootDir>/.stryker-tmp']);
  project.gitignore.exclude('/reports/', '/.stryker-tmp/');
  project.npmignore?.exclude('/reports/', '/.stryker-tmp/', '/stryker.config.mjs', '/test/mutation/');
  project.addTask('mutate', {
    description: 'Mutation testing (StrykerJS) per module, incremental: only mutants in changed code run again',
    steps: [
      { spawn: 'bundle' },
      // the step, not the task, receives the arguments (a task's receiveArgs applies only to its
      // own `exec` option): `npx projen mutate core-retention --concurrency 2`
      { exec: 'ts-node --project build-tools/tsconfig.json build-tools/mutate.ts', receiveArgs: true },
    ],
  });
  lintFixturesInsideTests(project);
}

/**
 * Stryker (per-test coverage) credits a mutant only to the tests that ran it while they ran: code
 * run in a `beforeAll` hook belongs to no test, so a fixture built there is never tested against
 * its mutants (test/mutation/SCORES.md, "What Stryker credits to a test"). The test files a
 * module names one by one build their fixtures in `beforeEach` or in the test; lint holds it. A
 * `beforeAll` that only installs a jest spy (silencing a handler's log) builds nothing and stays.
 * The broad `test/core/**` globs belong to declarative modules whose mutants are static anyway.
 */
function lintFixturesInsideTests(project: awscdk.AwsCdkConstructLibrary): void {
  const modules = JSON.parse(fs.readFileSync(path.join(project.outdir, 'test/mutation/modules.json'), 'utf8'));
  const files = [...new Set(Object.entries<any>(modules).filter(([name]) => name !== '//')
    .flatMap(([, module]) => module.tests as string[]).filter((file) => !file.includes('*')))].sort();
  project.eslint?.addOverride({
    files,
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.name='beforeAll']:not(:has(MemberExpression[object.name='jest'][property.name='spyOn']))",
        message: 'a mutation module\'s test builds its fixture in beforeEach or in the test: Stryker credits code run in beforeAll to no test (test/mutation/SCORES.md)',
      }],
    },
  });
}
