/**
 * aws-local-stepfunctions 3 calls Promise.withResolvers (Node.js 22+); give Node.js 20 the same.
 * Imported for its side effect by the test helpers that execute state machines locally. Applied
 * only where it is missing: CI runs on Node 24, where this does nothing; it stays for developers
 * (and the newest-aws-cdk-lib legs) on Node 20, which `engines` still admits.
 */
interface Resolvers { promise: Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }
const promise = Promise as unknown as { withResolvers?: () => Resolvers };
promise.withResolvers ??= () => {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const p = new Promise<unknown>((res, rej) => { resolve = res; reject = rej; });
  return { promise: p, resolve, reject };
};
