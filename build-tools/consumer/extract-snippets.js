/**
 * Writes every TypeScript snippet of README.md as a program of the consumer app (snippet-<n>.ts),
 * turning the snippets' `declare const` placeholders into real values: an App, a Stack, an
 * imported role or function in that stack. Usage: node extract-snippets.js README.md outdir
 */
'use strict';
const fs = require('fs');
const path = require('path');

const [readme, outdir] = process.argv.slice(2);
const blocks = [...fs.readFileSync(readme, 'utf8').matchAll(/^```ts[^\n]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
const PLACEHOLDERS = [
  [/^declare const app: App;$/m, 'const app = (globalThis as any).consumer.app() as App;'],
  [/^declare const stack: Stack;$/m, 'const stack = (globalThis as any).consumer.stack() as Stack;'],
  [/^declare const (\w+): iam\.IRole;$/gm, "const $1 = iam.Role.fromRoleName(stack, '$1', '$1');"],
  [/^declare const (\w+): lambda\.IFunction;$/gm, "const $1 = lambda.Function.fromFunctionName(stack, '$1', '$1');"],
];
const names = [];
blocks.forEach((code, i) => {
  let source = code;
  for (const [pattern, replacement] of PLACEHOLDERS) {
    source = source.replace(pattern, replacement);
  }
  const left = source.match(/^declare const .*$/m);
  if (left) {
    throw new Error(`README snippet ${i + 1}: no stand-in for "${left[0]}" (add one to ${path.basename(__filename)})`);
  }
  const name = `snippet-${String(i + 1).padStart(2, '0')}`;
  fs.writeFileSync(path.join(outdir, `${name}.ts`), source);
  names.push(name);
});
console.log(names.join(' '));
