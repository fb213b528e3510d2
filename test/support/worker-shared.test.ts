/**
 * The CloudFormation Validate engine shared by the test files of one process
 * (worker-shared.ts) still judges every synthesis: each `jest.isolateModules` below loads its
 * own aws-cdk-lib and test support, as a new test file does.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

type Support = typeof import('./index');
type Cdk = typeof import('aws-cdk-lib');

/** aws-cdk-lib and the test support as a new test file sees them. */
function freshFile(): { cdk: Cdk; support: Support } {
  let loaded: { cdk: Cdk; support: Support } | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = { cdk: require('aws-cdk-lib'), support: require('./index') };
  });
  return loaded!;
}

/** A stack whose queue keeps messages for 10 s: CloudFormation accepts 60 s to 14 days. */
function synthesize({ cdk, support }: { cdk: Cdk; support: Support }, retentionSeconds: number): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ebs-backup-shared-'));
  try {
    const app = support.createCheckedApp({ rules: false, outdir });
    const stack = support.createTestStack(app);
    new cdk.CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { MessageRetentionPeriod: retentionSeconds } });
    support.synthesizeChecked(app);
    return 'passed';
  } catch (e) {
    return (e as Error).message;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

// loaded while the file is collected, as the test support registers a hook
const first = freshFile();
const second = freshFile();

test('every file gets the same engine, and it still reports a value out of CloudFormation\'s range', () => {
  expect(second.cdk.CloudFormationValidatePlugin).not.toBe(first.cdk.CloudFormationValidatePlugin);
  for (const file of [first, second]) {
    expect(synthesize(file, 10)).toMatch(/\[CloudFormation Validate\][^\n]*TestStack\/Queue/);
    expect(synthesize(file, 3600)).toBe('passed');
  }
  const engineOf = (file: { cdk: Cdk }) => ((file.cdk.CloudFormationValidatePlugin as any)._singletonInstance()).engine;
  expect(engineOf(second)).toBe(engineOf(first));
  expect(engineOf(first)).toBeDefined();
});
