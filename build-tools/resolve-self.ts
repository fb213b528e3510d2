/**
 * Lets the examples and benchmarks import 'cdk-ebs-backup' (the public entry point, exactly as a
 * user writes it) when run from this repository with ts-node: the name resolves to src/index.ts.
 * Jest does the same with `moduleNameMapper`, TypeScript with `paths`.
 */
import Module from 'module';
import * as path from 'path';

const SELF = path.join(__dirname, '..', 'src', 'index.ts');
const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const original = mod._resolveFilename;
mod._resolveFilename = function resolve(this: unknown, request: string, ...rest: unknown[]): string {
  return original.call(this, request === 'cdk-ebs-backup' ? SELF : request, ...rest);
};
