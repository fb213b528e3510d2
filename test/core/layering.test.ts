import * as fs from 'fs';
import * as path from 'path';

/**
 * The folder plan (README, "Contributing: where each kind of change goes"): every family imports
 * only `src/core/`; `src/baseline/` composes the families. A family importing another couples
 * their releases and their tests, and is how the shared plumbing came to be written twice.
 */
const SRC = path.join(__dirname, '..', '..', 'src');
const FAMILIES = fs.readdirSync(SRC).filter((d) => fs.statSync(path.join(SRC, d)).isDirectory() && !['core', 'baseline'].includes(d));

function sources(dir: string): string[] {
  return fs.readdirSync(dir).flatMap((f) => {
    const full = path.join(dir, f);
    return fs.statSync(full).isDirectory() ? sources(full) : f.endsWith('.ts') ? [full] : [];
  });
}

test('the families are the ones the plan names (the check below saw something)', () => {
  expect(FAMILIES.sort()).toEqual(['backup', 'checks', 'dlm', 'orchestration', 'restore', 'runbooks', 'ssm', 'worm']);
});

test.each(FAMILIES)('%s imports only itself and src/core', (family) => {
  const crossings: string[] = [];
  for (const file of sources(path.join(SRC, family))) {
    for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec)).split(path.sep)[0];
      if (target !== family && target !== 'core') {
        crossings.push(`${path.relative(SRC, file)} imports ${spec}`);
      }
    }
  }
  expect(crossings).toEqual([]);
});

test('core imports no family', () => {
  const crossings = sources(path.join(SRC, 'core')).flatMap((file) => [...fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)]
    .map(([, spec]) => path.relative(SRC, path.resolve(path.dirname(file), spec)).split(path.sep)[0])
    .filter((target) => target !== 'core')
    .map((target) => `${path.relative(SRC, file)} imports ${target}`));
  expect(crossings).toEqual([]);
});

test('only src/core writes cdk-nag and cfn-guard acknowledgements (families call its acknowledge helpers)', () => {
  // GIVEN every source outside src/core, comments left out
  const writes: string[] = [];
  for (const file of sources(SRC).filter((f) => !path.relative(SRC, f).startsWith(`core${path.sep}`))) {
    const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    // WHEN a file suppresses a finding itself: cdk-nag's own API, the acknowledged-rules metadata,
    // or Validations.acknowledge with anything but one of this library's warnings
    const direct = [
      ...code.matchAll(/NagSuppressions|addMetadata\(\s*(Validations\.ACKNOWLEDGED_RULES_METADATA_KEY|GUARD_ACKNOWLEDGED_METADATA_KEY)/g),
    ].map((m) => m[0]);
    const viaValidations = [...code.matchAll(/Validations\.of\([^)]*\)\.acknowledge\(([\s\S]{0,200})/g)]
      .filter((m) => !/^\s*\{\s*id:\s*'Annotation::cdk-ebs-backup:/.test(m[1]))
      .map((m) => m[0].split('\n')[0]);
    writes.push(...[...direct, ...viaValidations].map((w) => `${path.relative(SRC, file)}: ${w}`));
  }
  // THEN there is none
  expect(writes).toEqual([]);
});

test('every Lambda function is constructed in src/core/job-function.ts (ARM64, own role, JSON logs set once)', () => {
  const constructors = sources(SRC)
    .filter((f) => path.relative(SRC, f) !== path.join('core', 'job-function.ts'))
    .flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/new\s+(lambda\.)?(Function|CfnFunction|SingletonFunction|NodejsFunction)\s*\(/g)]
      .map((m) => `${path.relative(SRC, f)}: ${m[0]}`));
  expect(constructors).toEqual([]);
});
