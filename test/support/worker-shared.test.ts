/**
 * The CloudFormation Validate engine shared by the test files of one process (worker-shared.ts)
 * still judges every synthesis, and answers from its reports by content only for the same bytes.
 * A new test file is what aws-cdk-lib sees when its own singleton plugin is gone.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnResource, CloudFormationValidatePlugin } from 'aws-cdk-lib';
import { createCheckedApp, createTestStack, synthesizeChecked } from './index';

const singleton = CloudFormationValidatePlugin as unknown as { _instance?: object; _singletonInstance(): { engine: unknown } };

/** A stack whose queue keeps messages `seconds` long: CloudFormation accepts 60 s to 14 days. */
function synthesize(seconds: number): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ebs-backup-shared-'));
  try {
    const app = createCheckedApp({ rules: false, outdir });
    new CfnResource(createTestStack(app), 'Queue', { type: 'AWS::SQS::Queue', properties: { MessageRetentionPeriod: seconds } });
    synthesizeChecked(app);
    return 'passed';
  } catch (e) {
    return (e as Error).message;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const OUT_OF_RANGE = /\[CloudFormation Validate\][^\n]*TestStack\/Queue/;

test('a new test file gets the engine of the first, and it still reports a value out of CloudFormation\'s range', () => {
  // the first file
  expect(synthesize(10)).toMatch(OUT_OF_RANGE);
  expect(synthesize(3600)).toBe('passed');
  const first = singleton._singletonInstance();

  // WHEN a new file's aws-cdk-lib asks for its singleton
  singleton._instance = undefined;
  // THEN the same templates are judged as before, in either order, by the same engine
  expect(synthesize(3600)).toBe('passed');
  expect(synthesize(10)).toMatch(OUT_OF_RANGE);
  expect(synthesize(59)).toMatch(OUT_OF_RANGE);
  expect(synthesize(60)).toBe('passed');
  const second = singleton._singletonInstance();
  expect(second).not.toBe(first);
  expect(second).toBeInstanceOf(CloudFormationValidatePlugin);
  expect(second.engine).toBe(first.engine);
});
