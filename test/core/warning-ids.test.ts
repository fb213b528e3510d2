import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { WARNING_FAMILIES, warn } from '../../src/core/validation';

// Every warning of the library is raised through core's warn(): this test reads every source file
// for the ids it passes, and for any other way of adding a warning, and holds each id against the
// scheme and the README's table.

const SRC = join(__dirname, '..', '..', 'src');
const SCHEME = new RegExp(`^cdk-ebs-backup:(${WARNING_FAMILIES.join('|')}):[a-z0-9]+(-[a-z0-9]+)*$`);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The warning ids used in src: literal ids, constants of the same file, and full acknowledgement ids. */
function warningIds(): Map<string, string> {
  const ids = new Map<string, string>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const constants = new Map([...text.matchAll(/const (\w+) = '([^']+)';/g)].map((m) => [m[1], m[2]]));
    for (const m of text.matchAll(/\bwarn\(\s*\w+,\s*(?:'([^']+)'|(\w+))/g)) {
      const id = m[1] ?? constants.get(m[2]);
      if (id !== undefined) {
        ids.set(`cdk-ebs-backup:${id}`, file);
      }
    }
    for (const m of text.matchAll(/'Annotation::(cdk-ebs-backup:[^']+)'/g)) {
      ids.set(m[1], file);
    }
  }
  return ids;
}

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const tableRows = readme.split('\n').filter((l) => l.startsWith('| `cdk-ebs-backup:'));

describe('warning ids', () => {
  const ids = warningIds();

  test('the scan finds the warnings of every family that has one', () => {
    const families = new Set([...ids.keys()].map((id) => id.split(':')[1]));
    expect([...families].sort()).toEqual(expect.arrayContaining(['backup', 'core', 'dlm', 'orchestration', 'ssm', 'worm']));
    expect(ids.size).toBeGreaterThanOrEqual(14);
  });

  test.each([...warningIds().entries()])('%s follows the scheme and is in the README table with its acknowledgement id', (id, file) => {
    expect({ id, file, follows: SCHEME.test(id) }).toEqual({ id, file, follows: true });
    const row = tableRows.find((r) => r.startsWith(`| \`${id}\` |`));
    expect({ id, row }).toEqual({ id, row: expect.stringContaining(`\`Annotation::${id}\``) });
  });

  test('every row of the README table is a warning the library raises', () => {
    const documented = tableRows.map((r) => /^\| `([^`]+)`/.exec(r)![1]);
    expect(documented.filter((id) => !ids.has(id))).toEqual([]);
  });

  test('no file adds a warning around warn()', () => {
    const bypasses = sources(SRC)
      .filter((file) => !file.endsWith(join('core', 'validation.ts')))
      .filter((file) => /addWarning(V2)?\(/.test(readFileSync(file, 'utf8')));
    expect(bypasses).toEqual([]);
  });

  test('warn() refuses an id outside the scheme', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => warn(stack, 'frequentConsistentSnapshots', 'x')).toThrow("warning id 'frequentConsistentSnapshots' must be <family>:<name>");
    expect(() => warn(stack, 'dlm-fsr-quota', 'x')).toThrow('must be <family>:<name>');
    expect(() => warn(stack, 'dlm:fast-restore-quota', 'x')).not.toThrow();
  });
});
