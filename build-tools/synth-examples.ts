/**
 * README command 1: synthesize every app in examples/ through the same gates as the tests
 * (template validation, cdk-nag, cfn-guard, registry schemas, IAM actions) and print, per stack,
 * what it creates and where the template is.
 */
import './resolve-self';
import * as fs from 'fs';
import * as path from 'path';
import { listExamples, loadExample } from '../examples/catalogue';
import { CoverageIndex } from '../src/checks/coverage-index';
import { AppTemplates } from '../src/checks/model';
import { createCheckedApp, synthesizeChecked } from '../test/support';

const root = path.join(__dirname, '..');
const outRoot = path.join(root, 'cdk.out', 'examples');
let failed = 0;

for (const name of listExamples()) {
  const outdir = path.join(outRoot, name);
  const app = createCheckedApp({ outdir });
  try {
    loadExample(name).build(app);
    const assembly = synthesizeChecked(app);
    console.log(`\nexample ${name}`);
    for (const stack of assembly.stacksRecursively) {
      const counts = new Map<string, number>();
      for (const r of Object.values<any>(stack.template.Resources ?? {})) {
        counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
      }
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      console.log(`  stack ${stack.stackName} (${stack.environment.account}/${stack.environment.region}): ${total} resources`);
      console.log(`    template: ${path.relative(root, path.join(outdir, stack.templateFile))}`);
      for (const [type, n] of [...counts.entries()].sort()) {
        console.log(`    ${String(n).padStart(4)}  ${type}`);
      }
    }
    // The coverage report that EbsBackupBaseline writes at synthesis (which tiers, which tags, what
    // each protects, the worst-case RPO); for apps without a baseline, the backup mechanisms as
    // EbsBackupChecks reads them from the templates, written to the same file.
    const report = path.join(outdir, 'coverage-report.md');
    if (!fs.existsSync(report)) {
      fs.writeFileSync(report, mechanismsReport(assembly.stacksRecursively));
    }
    console.log(`  plan report (what is protected, what cannot be undone, what costs money every month): ${path.relative(root, path.join(outdir, 'plan-report.md'))}`);
    if (fs.existsSync(report)) {
      console.log(`  coverage report (${path.relative(root, report)}):`);
      console.log(fs.readFileSync(report, 'utf8').trimEnd().split('\n').map((l) => `    ${l}`).join('\n'));
    }
  } catch (e) {
    failed++;
    console.error(`\nexample ${name} FAILED:\n${(e as Error).message}`);
  }
}
/** Every backup mechanism per environment, and what it selects, from the synthesized templates. */
function mechanismsReport(stacks: Array<{ hierarchicalId: string; template: any; environment: { account: string; region: string } }>): string {
  const byEnv = new Map<string, typeof stacks>();
  for (const s of stacks) {
    const env = `${s.environment.account}/${s.environment.region}`;
    byEnv.set(env, [...(byEnv.get(env) ?? []), s]);
  }
  const lines = ['# EBS backup coverage', ''];
  for (const [env, group] of byEnv) {
    const index = new CoverageIndex(new AppTemplates(group.map((s) => ({ stackPath: s.hierarchicalId, template: s.template }))));
    lines.push(`## ${env}`, '');
    lines.push(...(index.sources.length > 0 ? index.sources.map((m) => `- ${m.description}`) : ['- no backup mechanism in this environment']));
    lines.push('');
  }
  return lines.join('\n');
}

console.log(`\n${listExamples().length - failed} of ${listExamples().length} examples synthesized into ${path.relative(root, outRoot)}/`);
process.exit(failed > 0 ? 1 : 0);
