/**
 * A snapshot lock longer than the retention of the snapshots it locks stops their expiry ("Lock
 * Amazon EBS snapshots", EBS User Guide: a locked snapshot cannot be deleted; AWS Backup marks
 * the recovery point EXPIRED and keeps it). Checked across the app at synthesis.
 */
import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import { BackupTagging, BackupVaultPolicy, Retention, SnapshotLockMode, VaultLock, WormSnapshotGuard } from '../../src';
import { createCheckedApp } from '../support';

let app: App;
let stack: Stack;
beforeEach(() => {
  app = createCheckedApp({ rules: false });
  stack = new Stack(app, 'Ledger', { env: { account: '444455556666', region: 'eu-central-1' } });
});

type RetainRule = dlm.CfnLifecyclePolicy.RetainRuleProperty;
type CreateRule = dlm.CfnLifecyclePolicy.CreateRuleProperty;

function dlmPolicy(id: string, purpose: string, retainRule: RetainRule, createRule: CreateRule) {
  return new dlm.CfnLifecyclePolicy(stack, id, {
    description: 'ledger snapshots',
    state: 'ENABLED',
    executionRoleArn: 'arn:aws:iam::444455556666:role/dlm',
    policyDetails: {
      resourceTypes: ['VOLUME'],
      targetTags: [{ key: 'LedgerTier', value: 'gold' }],
      schedules: [{ name: 'nightly', createRule, retainRule, tagsToAdd: [{ key: BackupTagging.keys(stack).purpose, value: purpose }] }],
    },
  });
}

function guardWithLock(days: Duration, purposes?: string[]) {
  return new WormSnapshotGuard(stack, 'Guard', {
    breakGlassPrincipalArns: ['arn:aws:iam::444455556666:role/ledger-break-glass'],
    snapshotLock: { mode: SnapshotLockMode.governance(days), purposes },
    blockPublicSharing: false,
  });
}

function synthError(): string {
  try {
    app.synth();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

test.each([
  // [case, lock days, DLM retain rule, create rule, expected fragment or '' for none]
  ['a count of 5 nightly snapshots (5 days) under a 9-day lock', 9, { count: 5 }, { interval: 24, intervalUnit: 'HOURS' },
    'Ledger/Guard/SnapshotLock: mode duration of 9 days must be shorter than the retention of the snapshots it locks, got longer than Ledger/Nightly schedules[0] retainRule (count 5 every 24 hours, about 5 days)'],
  ['an age of 2 weeks under a 14-day lock', 14, { interval: 2, intervalUnit: 'WEEKS' }, { interval: 24, intervalUnit: 'HOURS' },
    'got longer than Ledger/Nightly schedules[0] retainRule (2 weeks, about 14 days)'],
  ['an age of 2 weeks under a 13-day lock', 13, { interval: 2, intervalUnit: 'WEEKS' }, { interval: 24, intervalUnit: 'HOURS' }, ''],
])('DLM: %s', (_name, days, retainRule, createRule, expected) => {
  dlmPolicy('Nightly', 'ledger-archive', retainRule as any, createRule as any);
  guardWithLock(Duration.days(days as number));
  const message = synthError();
  if (expected === '') {
    expect(message).toBe('');
  } else {
    expect(message).toContain(expected);
  }
});

test('an AWS Backup rule of the locked purpose with a shorter deleteAfter is an error naming both', () => {
  new BackupVaultPolicy(stack, 'Vault', {
    purpose: 'ledger-dr',
    vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }),
    rules: [{ name: 'nightly', schedule: events.Schedule.cron({ hour: '2', minute: '30' }), retain: Retention.age(Duration.days(20)) }],
    allTags: { LedgerTier: 'gold' },
    breakGlassPrincipalArns: ['arn:aws:iam::444455556666:role/ledger-break-glass'],
    notifications: false,
  });
  guardWithLock(Duration.days(25), ['ledger-dr']);
  const message = synthError();
  expect(message).toContain('Ledger/Guard/SnapshotLock: mode duration of 25 days');
  expect(message).toContain("Ledger/Vault/Plan rule 'nightly' deleteAfter (20 days");
});

test('a lock limited to other purposes is not compared', () => {
  dlmPolicy('Nightly', 'ledger-archive', { count: 2 }, { interval: 24, intervalUnit: 'HOURS' });
  guardWithLock(Duration.days(30), ['ledger-dr']);
  expect(synthError()).toBe('');
});

test('a retention given as a token is skipped with a warning, never a crash', () => {
  // a plain app: the strict test apps turn every warning into a failure
  app = new App();
  stack = new Stack(app, 'Ledger', { env: { account: '444455556666', region: 'eu-central-1' } });
  dlmPolicy('Nightly', 'ledger-archive', { count: Token.asNumber(Fn.importValue('LedgerCount')) }, { interval: 24, intervalUnit: 'HOURS' });
  const guard = guardWithLock(Duration.days(30));
  expect(synthError()).toBe('');
  const warnings = guard.snapshotLock!.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
  expect(warnings.some((w) => w.includes('Ledger/Nightly schedules[0] retainRule (a token) is not known at synthesis'))).toBe(true);
});
