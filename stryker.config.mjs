// @ts-check
// StrykerJS configuration: one module per run (MUTATION_MODULE, set by `npx projen mutate`).
// Each module mutates its own files, runs only its own tests and keeps its own incremental file
// in test/mutation/, so a re-run costs only what changed in that module.
import { readFileSync, writeFileSync } from 'node:fs';

const modules = JSON.parse(readFileSync(new URL('./test/mutation/modules.json', import.meta.url), 'utf8'));
const name = process.env.MUTATION_MODULE ?? 'core';
const mod = modules[name];
if (!mod || name === '//') {
  throw new Error(`MUTATION_MODULE must be one of ${Object.keys(modules).filter((k) => k !== '//').join(', ')}, got '${name}'`);
}
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// The TypeScript checker's program is this module's mutated files and its tests (and what they
// import): the files ts-jest compiles for these tests. A mutant that breaks only a file no test of
// the module loads cannot change a test result either. With the whole project (every src/, lambda/
// and test/ file) each mutant cost about 10 s of checking, the tests under 1 s.
const tsconfigFile = `test/mutation/tsconfig.${name}.json`;
writeFileSync(new URL(`./${tsconfigFile}`, import.meta.url), `${JSON.stringify({
  '//': 'Written by stryker.config.mjs for each run (not committed).',
  extends: '../tsconfig.json',
  include: [...mod.mutate, ...mod.tests].filter((f) => !f.startsWith('!')).map((f) => `../../${f}`),
  exclude: ['../../node_modules', ...mod.mutate.filter((f) => f.startsWith('!')).map((f) => `../../${f.slice(1)}`)],
}, undefined, 2)}\n`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    // projen's jest configuration, restricted to this module's tests
    config: {
      ...pkg.jest,
      testMatch: mod.tests.map((t) => `<rootDir>/${t}`),
      collectCoverage: false,
      // Stryker's per-test coverage comes from its test environment in Stryker's own test-runner
      // process. Jest 29 runs tests in a child worker whenever workerIdleMemoryLimit is set, even
      // with runInBand (shouldRunInBand in @jest/core: "when specifying a memory limit, workers
      // should be used"), so the coverage never reached Stryker: "Missing coverage results for
      // ...". null (not undefined, which the JSON hand-over to jest drops, leaving package.json's
      // 1GB) turns the limit off; Stryker restarts its test runner itself.
      workerIdleMemoryLimit: null,
      reporters: ['default'],
      // the project ignores '/.stryker-tmp' so that jest never runs the sandboxes; inside a sandbox
      // that pattern matches every path (no test found), so the sandbox ignores only node_modules
      testPathIgnorePatterns: ['/node_modules/'],
      modulePathIgnorePatterns: [],
    },
    enableFindRelatedTests: true,
  },
  checkers: process.env.MUTATION_TYPECHECK === '0' ? [] : ['typescript'],
  tsconfigFile,
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: mod.mutate,
  coverageAnalysis: 'perTest',
  // Static mutants (code run when a module loads: tables, catalogues) need a fresh load and every
  // test of the module. Ignored by default; a module whose load-time tables are logic (the calendar
  // of core-interval-units) sets "ignoreStatic": false in modules.json and has them measured.
  ignoreStatic: mod.ignoreStatic ?? true,
  incremental: true,
  incrementalFile: `test/mutation/${name}.incremental.json`,
  // the machine is shared: one worker unless the caller passes --concurrency
  concurrency: 1,
  timeoutMS: 60_000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  thresholds: { high: 85, low: 75, break: null },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['/.stryker-tmp*', '/cdk.out', '/test-reports', '/coverage', '/reports', '/dist', '/lib', '/.jsii', '/bench/results', '*.img'],
};
