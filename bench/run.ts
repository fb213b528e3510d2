/**
 * `npx projen bench`: run every bench/*.bench.ts and print its side-by-side ratios.
 *
 * Each benchmark module exports `run(): Promise<void>` and measures both sides in the same
 * process, interleaved, so that machine noise affects both alike. Results go to stdout and to
 * bench/results/<name>.json.
 */
import '../build-tools/resolve-self';
import * as fs from 'fs';
import * as path from 'path';

async function main() {
  const only = process.argv[2];
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.bench.ts') && (!only || f.startsWith(only))).sort();
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  for (const file of files) {
    console.log(`\n== ${file}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(__dirname, file)) as { run(): Promise<unknown> };
    const result = await mod.run();
    fs.writeFileSync(path.join(__dirname, 'results', file.replace(/\.bench\.ts$/, '.json')), JSON.stringify(result, null, 2));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
