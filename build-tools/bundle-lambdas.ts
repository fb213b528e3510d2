/**
 * Bundle every handler in lambda/<family>/<handler>/index.ts into
 * assets/lambda/<family>/<handler>/index.js (lambda/shared/ holds no handler).
 *
 * The published package carries the bundles, so consumers in every jsii language deploy them as
 * plain assets: no node_modules lookups and no bundler at deploy time. The AWS SDK v3 is left to
 * the Lambda runtime (Node.js 20+), as aws-cdk's own handlers do.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildSync } from 'esbuild';

const root = path.join(__dirname, '..');
const lambdaDir = path.join(root, 'lambda');
const outRoot = path.join(root, 'assets', 'lambda');

function subdirs(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
}

const handlers = subdirs(lambdaDir)
  .flatMap((family) => subdirs(path.join(lambdaDir, family)).map((handler) => `${family}/${handler}`))
  .filter((name) => fs.existsSync(path.join(lambdaDir, name, 'index.ts')))
  .sort();

// Remove bundles whose source is gone (not the whole folder: a concurrent test may be reading it).
for (const family of subdirs(outRoot)) {
  const live = subdirs(path.join(outRoot, family)).filter((h) => handlers.includes(`${family}/${h}`));
  if (live.length === 0) {
    fs.rmSync(path.join(outRoot, family), { recursive: true, force: true });
    continue;
  }
  for (const stale of subdirs(path.join(outRoot, family)).filter((h) => !live.includes(h))) {
    fs.rmSync(path.join(outRoot, family, stale), { recursive: true, force: true });
  }
}
for (const name of handlers) {
  const outfile = path.join(outRoot, name, 'index.js');
  buildSync({
    entryPoints: [path.join(lambdaDir, name, 'index.ts')],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    logLevel: 'warning',
  });
  console.log(`bundled lambda/${name} -> assets/lambda/${name}/index.js (${fs.statSync(outfile).size} bytes)`);
}
if (handlers.length === 0) {
  fs.mkdirSync(outRoot, { recursive: true });
  console.log('no handlers in lambda/');
}
