/**
 * `npx projen mutate [module...] [--force] [--concurrency N]`: StrykerJS, one run per module
 * (see test/mutation/modules.json), each incremental against its own committed file, then one
 * table of scores. Stryker's own options after the module names pass through.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const modules = Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'test/mutation/modules.json'), 'utf8'))).filter((k) => k !== '//');
const args = process.argv.slice(2);
const chosen = args.filter((a) => modules.includes(a));
const passThrough = args.filter((a) => !modules.includes(a));
const unknown = passThrough.filter((a) => !a.startsWith('-') && !/^\d+$/.test(a));
if (unknown.length > 0) {
  throw new Error(`unknown mutation module(s) ${unknown.join(', ')}; modules: ${modules.join(', ')}`);
}

interface Score {
  module: string; killed: number; survived: number; noCoverage: number; timeout: number; compileErrors: number; score: number; seconds: number;
}
const scores: Score[] = [];
for (const module of chosen.length > 0 ? chosen : modules) {
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run', ...passThrough], {
    cwd: root, stdio: 'inherit', env: { ...process.env, MUTATION_MODULE: module },
  });
  if (run.status !== 0) {
    throw new Error(`stryker failed for module ${module} (exit ${run.status})`);
  }
  const report = JSON.parse(fs.readFileSync(path.join(root, 'reports/mutation', `${module}.json`), 'utf8'));
  const count = (status: string) => Object.values<any>(report.files).flatMap((f) => f.mutants).filter((m) => m.status === status).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const detected = killed + timeout;
  scores.push({
    module,
    killed,
    timeout,
    survived,
    noCoverage,
    compileErrors: count('CompileError'),
    score: Math.round((1000 * detected) / Math.max(1, detected + survived + noCoverage)) / 10,
    seconds: Math.round((Date.now() - started) / 1000),
  });
}
console.log('\nmutation score per module (killed + timeout) / (killed + timeout + survived + no coverage):');
console.table(scores);
