import * as fs from 'fs';
import * as path from 'path';
import { createCheckedApp, inEnvironmentForm, SynthesisForm, synthesizeChecked } from './support';
import { listExamples, loadExample } from '../examples/catalogue';

const examples = listExamples();

describe('examples', () => {
  test('there is an example app for every scenario the README links', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    for (const name of examples) {
      expect(readme).toContain(`examples/${name}.app.ts`);
    }
  });

  test('examples use only the public API', () => {
    for (const name of examples) {
      const source = fs.readFileSync(path.join(__dirname, '..', 'examples', `${name}.app.ts`), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const spec of imports) {
        expect([spec, name]).toEqual([expect.stringMatching(/^(cdk-ebs-backup|aws-cdk-lib(\/[a-z0-9-]+)?|constructs)$/), name]);
      }
    }
  });

  if (examples.length > 0) {
    test.each(examples)('%s synthesizes through every gate', (name) => {
      const app = createCheckedApp();
      loadExample(name).build(app);
      const assembly = synthesizeChecked(app);
      expect(assembly.stacksRecursively.length).toBeGreaterThan(0);
      for (const stack of assembly.stacksRecursively) {
        expect(Object.keys(stack.template.Resources ?? {}).length).toBeGreaterThan(0);
      }
      // Drift guard: logical ids and types of every resource. A changed construct id replaces a
      // deployed resource (a vault, a policy), so it must be a reviewed snapshot update.
      const inventory = Object.fromEntries(assembly.stacksRecursively.map((stack) => [
        stack.hierarchicalId,
        Object.fromEntries(Object.entries<any>(stack.template.Resources ?? {}).map(([id, r]) => [id, r.Type]).sort()),
      ]));
      expect(inventory).toMatchSnapshot();
    });

    // The library's acknowledgements must hold whatever environment the user gives a stack: the
    // same example without any account/region, and with accounts nobody else in the suite uses.
    const forms: SynthesisForm[] = ['agnostic', 'specific'];
    test.each(examples.flatMap((name) => forms.map((form) => [name, form] as const)))('%s synthesizes through every gate in the %s environment form', (name, form) => {
      const app = createCheckedApp();
      inEnvironmentForm(form, () => loadExample(name).build(app));
      const assembly = synthesizeChecked(app);
      for (const stack of assembly.stacksRecursively) {
        expect([stack.stackName, stack.environment.account]).toEqual([stack.stackName, form === 'agnostic' ? 'unknown-account' : expect.not.stringMatching(/^(123456789012|111122223333)$/)]);
      }
    });
  }
});
