/**
 * The package always carries its assets: lists the npm tarball (dist/js) against every file asset
 * a construct of this library references, and fails the build when one is missing.
 *
 * "Referenced" is read from synthesis, not from the source: every example app is synthesized with
 * asset staging off, so each asset's `aws:asset:path` metadata is the original path in this
 * repository; every file under such a path (and every file under assets/, e.g. the fsfreeze script
 * a construct reads at synth) must be in the tarball.
 *
 * It then proves itself: a copy of the tarball without one referenced asset must fail the check.
 * Both results are tests of the CI tally (test-reports/legs/package-assets.txt).
 */
import './resolve-self';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { listExamples, loadExample } from '../examples/catalogue';

const root = path.join(__dirname, '..');
const tally = path.join(root, 'test-reports', 'legs', 'package-assets.txt');
fs.mkdirSync(path.dirname(tally), { recursive: true });
fs.writeFileSync(tally, '0 1\n'); // a crash before the end counts as a failure

/** Files (relative to the package root) the constructs reference. */
function referencedFiles(): Set<string> {
  const files = new Set<string>();
  const add = (abs: string) => {
    const stat = fs.statSync(abs);
    if (stat.isDirectory()) {
      fs.readdirSync(abs).forEach((f) => add(path.join(abs, f)));
    } else {
      files.add(path.relative(root, abs).split(path.sep).join('/'));
    }
  };
  for (const name of listExamples()) {
    const app = new App({
      outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ebs-backup-assets-')),
      context: { 'aws:cdk:disable-asset-staging': true, 'aws:cdk:enable-asset-metadata': true },
    });
    loadExample(name).build(app);
    for (const stack of app.synth().stacksRecursively) {
      for (const r of Object.values<any>(stack.template.Resources ?? {})) {
        const assetPath = r.Metadata?.['aws:asset:path'];
        if (typeof assetPath === 'string' && path.isAbsolute(assetPath) && assetPath.startsWith(root + path.sep) && !assetPath.includes(`${path.sep}node_modules${path.sep}`)) {
          add(assetPath);
        }
      }
    }
  }
  add(path.join(root, 'assets'));
  return files;
}

function tarballFiles(tarball: string): Set<string> {
  const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' });
  return new Set(listing.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, '')));
}

function missing(referenced: Set<string>, tarball: string): string[] {
  const packed = tarballFiles(tarball);
  return [...referenced].filter((f) => !packed.has(f)).sort();
}

const tarball = fs.readdirSync(path.join(root, 'dist', 'js')).filter((f) => /^cdk-ebs-backup@.*\.tgz$/.test(f))
  .map((f) => path.join(root, 'dist', 'js', f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
if (!tarball) {
  throw new Error('no tarball in dist/js: run jsii-pacmak --target js first');
}
const referenced = referencedFiles();
const lambdaAssets = [...referenced].filter((f) => f.startsWith('assets/lambda/'));
if (lambdaAssets.length === 0) {
  throw new Error('the example apps reference no Lambda asset: the check would prove nothing');
}
let passed = 0;
let failed = 0;

const gone = missing(referenced, tarball);
if (gone.length === 0) {
  passed++;
  console.log(`package assets: ${path.basename(tarball)} carries all ${referenced.size} referenced files (${lambdaAssets.length} Lambda bundles)`);
} else {
  failed++;
  console.error(`package assets: ${path.basename(tarball)} lacks ${gone.length} referenced file(s):\n  ${gone.join('\n  ')}\n` +
    'packaging must run after bundling (npx projen bundle)');
}

// Self-test: repack without one referenced Lambda bundle; the check must name it.
const victim = lambdaAssets.sort()[0];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ebs-backup-pack-'));
try {
  execFileSync('tar', ['xzf', tarball, '-C', work]);
  fs.rmSync(path.join(work, 'package', victim));
  const broken = path.join(work, 'broken.tgz');
  execFileSync('tar', ['czf', broken, '-C', work, 'package']);
  const detected = missing(referenced, broken);
  if (detected.length === 1 && detected[0] === victim) {
    passed++;
    console.log(`package assets: a tarball without ${victim} fails the check`);
  } else {
    failed++;
    console.error(`package assets: removing ${victim} was not detected (missing: ${detected.join(', ') || 'none'})`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

fs.writeFileSync(tally, `${passed} ${failed}\n`);
process.exit(failed > 0 ? 1 : 0);
