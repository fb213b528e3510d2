/**
 * Orchestration handlers: what a bundle costs at cold start.
 *
 * Each handler bundle (assets/lambda/<name>/index.js, AWS SDK left to the runtime) is compared,
 * side by side, with a bundle that imports the whole `@aws-sdk/client-ec2`: its size, and the
 * time to load it in a fresh Node.js process (a cold start's module-load phase). Also: how many of
 * the job's Task states need no handler at all (SDK integrations), and the npm tarball size.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { compare, median } from './measure';

const root = path.join(__dirname, '..');
const HANDLERS = ['orchestration/snapshot-expiry', 'orchestration/job-metrics'];

/** Build the baseline: the whole EC2 client in one minified bundle. */
function buildWholeEc2Bundle(dir: string): string {
  const entry = path.join(dir, 'whole-ec2.js');
  fs.writeFileSync(entry, "const ec2 = require('@aws-sdk/client-ec2'); module.exports = { client: new ec2.EC2Client({ region: 'us-east-1' }) };\n");
  const outfile = path.join(dir, 'whole-ec2.bundle.js');
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
    nodePaths: [path.join(root, 'node_modules')],
  });
  return outfile;
}

/** Load `file` in a fresh process; returns the require() time the child measured, in ms. */
function coldLoad(file: string): number {
  const out = execFileSync(process.execPath, ['-e',
    `const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`], { cwd: root, env: { ...process.env, AWS_REGION: 'us-east-1' } });
  return Number(out.toString().trim());
}

function kib(bytes: number): number {
  return Math.round(bytes / 102.4) / 10;
}

/** The job's Task states by kind, from the synthesized example template. */
function taskStates(): { sdkIntegrations: number } | undefined {
  const dir = path.join(root, 'cdk.out', 'examples', 'consistent-snapshot-job');
  const file = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.endsWith('.template.json')) : undefined;
  if (!file) {
    return undefined;
  }
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  return {
    sdkIntegrations: (text.match(/:states:::aws-sdk:/g) ?? []).length,
  };
}

function tarball(): { bytes?: number; files?: number; note?: string } {
  if (!fs.existsSync(path.join(root, 'lib', 'index.js'))) {
    return { note: 'no lib/: compile first (npx projen compile) to measure the tarball' };
  }
  try {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    const [pack] = JSON.parse(out.toString());
    return { bytes: pack.size, files: pack.entryCount };
  } catch (e) {
    return { note: `npm pack failed: ${(e as Error).message.split('\n')[0]}` };
  }
}

export async function run(): Promise<object> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-orchestration-'));
  const baseline = buildWholeEc2Bundle(dir);
  const baselineBytes = fs.statSync(baseline).size;
  const results: Record<string, object> = {};
  for (const name of HANDLERS) {
    const bundle = path.join(root, 'assets', 'lambda', name, 'index.js');
    if (!fs.existsSync(bundle)) {
      throw new Error(`${bundle} is missing: run the bundler first (npx projen bundle)`);
    }
    const bytes = fs.statSync(bundle).size;
    const loads: Record<string, number[]> = { handler: [], wholeEc2: [] };
    const timing = compare(
      { name: 'handler', fn: () => loads.handler.push(coldLoad(bundle)) },
      { name: 'wholeEc2', fn: () => loads.wholeEc2.push(coldLoad(baseline)) },
      9,
    );
    const loadMs = { handler: median(loads.handler), wholeEc2: median(loads.wholeEc2) };
    results[name] = {
      bundleBytes: bytes,
      wholeEc2BundleBytes: baselineBytes,
      sizeRatio: bytes / baselineBytes,
      moduleLoadMs: loadMs,
      moduleLoadRatio: loadMs.handler / loadMs.wholeEc2,
      coldProcessMs: timing.medianMs,
      coldProcessRatio: timing.ratio,
    };
    console.log(`${name}: bundle ${kib(bytes)} KiB vs whole client-ec2 ${kib(baselineBytes)} KiB ` +
      `(x${(bytes / baselineBytes).toFixed(3)}); module load ${loadMs.handler.toFixed(1)} ms vs ${loadMs.wholeEc2.toFixed(1)} ms ` +
      `(x${(loadMs.handler / loadMs.wholeEc2).toFixed(2)}; SDK from the runtime's node_modules); ` +
      `process + load ${timing.medianMs.handler.toFixed(0)} ms vs ${timing.medianMs.wholeEc2.toFixed(0)} ms (x${timing.ratio.toFixed(2)})`);
  }
  const tasks = taskStates();
  if (tasks) {
    console.log(`example job: ${tasks.sdkIntegrations} Task states are SDK integrations (no handler, no bundle, no cold start)`);
  }
  const pack = tarball();
  console.log(pack.bytes !== undefined ? `npm tarball: ${kib(pack.bytes)} KiB, ${pack.files} files` : `npm tarball: ${pack.note}`);
  fs.rmSync(dir, { recursive: true, force: true });
  return { handlers: results, taskStates: tasks, tarball: pack };
}
