import { Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Capture, CaptureKind, SnapshotStep, SnapshotStepKind } from '../../src';

const fn = lambda.Function.fromFunctionArn(new Stack(), 'Fn', 'arn:aws:lambda:us-east-1:123456789012:function:f');

describe('SnapshotStep', () => {
  test('each factory has its kind and defaults', () => {
    expect([SnapshotStep.lambdaInvoke(fn), SnapshotStep.runCommand(['sync']), SnapshotStep.runDocument('MyDoc'), SnapshotStep.runPowerShell(['x'])]
      .map((s) => [s.kind, s.timeout.toSeconds(), s.retries])).toEqual([
      [SnapshotStepKind.LAMBDA, 300, 2],
      [SnapshotStepKind.RUN_COMMAND, 600, 2],
      [SnapshotStepKind.RUN_COMMAND, 600, 2],
      [SnapshotStepKind.RUN_COMMAND, 600, 2],
    ]);
  });

  test('accepts document ARNs and tokens', () => {
    expect(SnapshotStep.runDocument('arn:aws:ssm:us-east-1:123456789012:document/Freeze').kind).toEqual(SnapshotStepKind.RUN_COMMAND);
    expect(() => SnapshotStep.runDocument(Fn.importValue('Doc'))).not.toThrow();
    expect(() => SnapshotStep.lambdaInvoke(fn, { retries: Token.asNumber(Fn.importValue('Retries')) })).not.toThrow();
  });

  test.each<[string, () => unknown, string]>([
    ['no command lines', () => SnapshotStep.runCommand([]), 'SnapshotStep.runCommand: commands must have at least one non-empty line'],
    ['blank command lines', () => SnapshotStep.runPowerShell(['  ']), 'SnapshotStep.runPowerShell: commands must have at least one non-empty line'],
    ['a Run Command timeout below 30 s', () => SnapshotStep.runCommand(['sync'], { timeout: Duration.seconds(10) }),
      'SnapshotStep.runCommand: timeout must be between 30 seconds and 2 days, got 10 seconds'],
    ['a Lambda timeout beyond 15 minutes', () => SnapshotStep.lambdaInvoke(fn, { timeout: Duration.minutes(20) }),
      'SnapshotStep.lambdaInvoke: timeout must be between 1 second and 15 minutes, got 20 minutes'],
    ['a fractional timeout', () => SnapshotStep.lambdaInvoke(fn, { timeout: Duration.millis(1500) }), 'timeout must be a whole number of seconds'],
    ['11 retries', () => SnapshotStep.lambdaInvoke(fn, { retries: 11 }), 'SnapshotStep.lambdaInvoke: retries must be an integer between 0 and 10, got 11'],
    ['a fractional retry count', () => SnapshotStep.lambdaInvoke(fn, { retries: 1.5 }), 'retries must be an integer between 0 and 10, got 1.5'],
    ['a shrinking backoff', () => SnapshotStep.lambdaInvoke(fn, { retryBackoffRate: 0.5 }), 'retryBackoffRate must be between 1 and 10, got 0.5'],
    ['a retry interval of 0', () => SnapshotStep.lambdaInvoke(fn, { retryInterval: Duration.seconds(0) }), 'retryInterval must be between 1 second and 1 hour'],
    ['a bad document name', () => SnapshotStep.runDocument('my doc'), 'SnapshotStep.runDocument: documentName must be a document name of 3-128 characters'],
    ['a sub-second poll', () => SnapshotStep.runCommand(['sync'], { pollInterval: Duration.millis(500) }), 'pollInterval must be between 1 second and 5 minutes'],
    ['a state machine timeout beyond a year', () => SnapshotStep.stateMachine({} as never, { timeout: Duration.days(400) }),
      'SnapshotStep.stateMachine: timeout must be between 1 second and 365 days'],
    ['an AMI stop timeout of 5 s', () => Capture.images({ stopTimeout: Duration.seconds(5) }), 'Capture.images: stopTimeout must be between 30 seconds and 2 hours, got 5 seconds'],
  ])('rejects %s', (_name, make, fragment) => {
    expect(make).toThrow(fragment);
  });
});

describe('Capture', () => {
  test('snapshots by default, images on request', () => {
    expect([Capture.snapshots().kind, Capture.images().kind]).toEqual([CaptureKind.SNAPSHOTS, CaptureKind.IMAGES]);
  });
});
