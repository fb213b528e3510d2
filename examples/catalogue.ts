/**
 * The example apps: one file per scenario, each exporting `build(app)` and using only the public
 * API (imported from 'cdk-ebs-backup', mapped to src/ in this repository). `npx projen examples`
 * and the example tests synthesize them all.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';

export interface Example {
  /** Add the example's stacks to `app`. */
  build(app: App): void;
}

/** The names of every example (files examples/<name>.app.ts). */
export function listExamples(): string[] {
  return fs.readdirSync(__dirname).filter((f) => f.endsWith('.app.ts')).map((f) => f.replace(/\.app\.ts$/, '')).sort();
}

export function loadExample(name: string): Example {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(__dirname, `${name}.app`)) as Example;
}
