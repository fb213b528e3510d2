/**
 * What the archive handler's AWS SDK client costs at cold start (the snapshot lock has no
 * handler: it runs as Step Functions SDK integrations, so it has no cold start to measure).
 *
 * The archive job calls DescribeSnapshots, DescribeVolumes and ModifySnapshotTier. The handler bundle leaves
 * `@aws-sdk/*` to the Lambda runtime (so `@aws-sdk/client-ec2`, ~1.5 MB bundled, is not in the
 * asset), but the client still loads at every cold start. This measures a fresh Node.js process
 * loading the handler bundle (client-ec2 included) against one loading a same-size handler with
 * a small client (client-rbin), and against an empty process.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { compare } from './measure';

const root = path.join(__dirname, '..');

function coldLoad(code: string): () => void {
  return () => {
    const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(r.stderr);
    }
  };
}

export async function run(): Promise<object> {
  const bundle = path.join(root, 'assets', 'lambda', 'worm', 'archive', 'index.js');
  if (!fs.existsSync(bundle)) {
    throw new Error('bundle the handlers first: npx ts-node --project build-tools/tsconfig.json build-tools/bundle-lambdas.ts');
  }
  const handler = coldLoad(`require(${JSON.stringify(bundle)}); new (require('@aws-sdk/client-ec2').EC2Client)({ region: 'us-east-1' })`);
  const small = coldLoad("new (require('@aws-sdk/client-rbin').RbinClient)({ region: 'us-east-1' })");
  const empty = coldLoad('0');

  const vsSmall = compare({ name: 'archive handler + client-ec2', fn: handler }, { name: 'client-rbin only', fn: small });
  const vsEmpty = compare({ name: 'archive handler + client-ec2', fn: handler }, { name: 'empty process', fn: empty });
  const bundleBytes = fs.statSync(bundle).size;
  console.log(`handler bundle: ${bundleBytes} bytes (SDK left to the runtime)`);
  console.log(`cold load, archive handler + client-ec2 vs client-rbin: ${vsSmall.ratio.toFixed(2)}x`, vsSmall.medianMs);
  console.log(`cold load, archive handler + client-ec2 vs empty process: ${vsEmpty.ratio.toFixed(2)}x`, vsEmpty.medianMs);
  const overheadMs = vsEmpty.medianMs['archive handler + client-ec2'] - vsEmpty.medianMs['empty process'];
  console.log(`client-ec2 cold-start overhead: ~${overheadMs.toFixed(0)} ms per cold start (the job runs once a day)`);
  return { bundleBytes, vsSmall, vsEmpty, overheadMs };
}
