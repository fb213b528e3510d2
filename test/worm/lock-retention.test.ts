/**
 * A snapshot lock longer than the retention of the snapshots it locks stops their expiry ("Lock
 * Amazon EBS snapshots", EBS User Guide: a locked snapshot cannot be deleted; AWS Backup marks
 * the recovery point EXPIRED and keeps it). Checked across the app at synthesis.
 */
import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import {
  BackupTagging, BackupVaultPolicy, ConsistentSnapshotJob, FsfreezeMaintenanceWindow, MaintenanceTargets, PreChangeSnapshot, Retention,
  SnapshotLockMode, VaultLock, VssMaintenanceWindow, WormSnapshotGuard,
} from '../../src';
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

test('an AWS Backup rule of the locked purpose with a shorter retain is an error naming both', () => {
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
  expect(message).toContain("Ledger/Vault/Plan rule 'nightly' retain (20 days");
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

/**
 * The jobs, runbooks and windows expire their own snapshots by tag; each registers its retention,
 * and the lock compares with it the same way (a count as count x the smallest scheduled gap).
 */
describe('retentions of the creators that expire their own snapshots', () => {
  const lockErrors = (guard: WormSnapshotGuard) => guard.snapshotLock!.node.validate();
  const expectErrors = (errors: string[], expected: string) => {
    if (expected === '') {
      expect(errors).toEqual([]);
    } else {
      expect(errors.join('\n')).toContain(expected);
    }
  };
  const lockWarnings = (guard: WormSnapshotGuard) =>
    guard.snapshotLock!.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));

  function job(retain: Retention, schedule?: events.Schedule) {
    return new ConsistentSnapshotJob(stack, 'LedgerJob', {
      purpose: 'ledger-archive', instances: { tags: { LedgerTier: 'gold' } }, retain, schedule,
    });
  }

  test.each([
    // a count of 8 daily runs: the 9th run pushes the oldest out at 8 days
    [8, 'Ledger/Guard/SnapshotLock: mode duration of 8 days must be shorter than the retention of the snapshots it locks, got longer than Ledger/LedgerJob retain (count:8, about 8 days)'],
    [7, ''],
  ])('ConsistentSnapshotJob: count(8) daily under a %s-day lock', (days, expected) => {
    job(Retention.count(8), events.Schedule.cron({ hour: '3', minute: '15' }));
    expectErrors(lockErrors(guardWithLock(Duration.days(days as number))), expected as string);
  });

  test('ConsistentSnapshotJob: an age of 12 days under a 12-day lock is an error; a 3-hourly count(30) is 3.75 days', () => {
    job(Retention.age(Duration.days(12)), events.Schedule.rate(Duration.hours(3)));
    new ConsistentSnapshotJob(stack, 'Frequent', {
      purpose: 'ledger-archive', instances: { tags: { LedgerTier: 'silver' } }, retain: Retention.count(30), schedule: events.Schedule.rate(Duration.hours(3)),
    });
    const errors = lockErrors(guardWithLock(Duration.days(12))).join('\n');
    expect(errors).toContain('Ledger/LedgerJob retain (age:12d, about 12 days)');
    expect(errors).toContain('Ledger/Frequent retain (count:30, about 3.8 days)');
  });

  test('ConsistentSnapshotJob started on demand only: its count cannot be compared, a warning says why', () => {
    app = new App();
    stack = new Stack(app, 'Ledger', { env: { account: '444455556666', region: 'eu-central-1' } });
    job(Retention.count(8));
    const guard = guardWithLock(Duration.days(30));
    expect(lockErrors(guard)).toEqual([]);
    expect(lockWarnings(guard).some((w) => w.includes('Ledger/LedgerJob retain (count:8, a count of runs started on demand (no schedule)'))).toBe(true);
  });

  test.each([
    [11, 'Ledger/Runbook retain (age:11d, about 11 days)'],
    [10, ''],
  ])('PreChangeSnapshot: retain 11 days under a %s-day lock', (days, expected) => {
    new PreChangeSnapshot(stack, 'Runbook', { purpose: 'ledger-archive', retain: Retention.age(Duration.days(11)) });
    expectErrors(lockErrors(guardWithLock(Duration.days(days as number))), expected as string);
  });

  test('PreChangeSnapshot of another purpose than the lock limits itself to is not compared', () => {
    new PreChangeSnapshot(stack, 'Runbook', { purpose: 'ledger-change', retain: Retention.age(Duration.days(2)) });
    expect(lockErrors(guardWithLock(Duration.days(20), ['ledger-archive']))).toEqual([]);
  });

  const windowProps = {
    purpose: 'ledger-archive',
    duration: Duration.hours(1),
    targets: MaintenanceTargets.tagged({ LedgerTier: 'gold' }),
    maxConcurrency: '100%',
    maxErrors: '1',
  };

  test.each([
    // daily at 01:30 Berlin time: across daylight saving one gap is 23 hours, so count(24) keeps
    // a snapshot at least 24 x 23 h = 23 days; in UTC 24 days
    ['Europe/Berlin', 23, 'Ledger/Fsfreeze retain (count:24, about 23 days)'],
    ['Europe/Berlin', 22, ''],
    [undefined, 24, 'Ledger/Fsfreeze retain (count:24, about 24 days)'],
    [undefined, 23, ''],
  ])('FsfreezeMaintenanceWindow: count(24) daily in time zone %s under a %s-day lock', (timeZone, days, expected) => {
    new FsfreezeMaintenanceWindow(stack, 'Fsfreeze', {
      ...windowProps,
      schedule: events.Schedule.cron({ hour: '1', minute: '30' }),
      scheduleTimezone: timeZone as string | undefined,
      retain: Retention.count(24),
      mountPoints: ['/srv/ledger'],
    });
    expectErrors(lockErrors(guardWithLock(Duration.days(days as number))), expected as string);
  });

  test.each([
    [21, 'Ledger/Vss retain (age:21d, about 21 days)'],
    [20, ''],
  ])('VssMaintenanceWindow: the default-free age of 21 days under a %s-day lock', (days, expected) => {
    new VssMaintenanceWindow(stack, 'Vss', {
      ...windowProps,
      schedule: events.Schedule.cron({ hour: '22', minute: '0', weekDay: 'SUN' }),
      retain: Retention.age(Duration.days(21)),
    });
    expectErrors(lockErrors(guardWithLock(Duration.days(days as number))), expected as string);
  });

  test('a creator retention given as a token is skipped with a warning, never a crash', () => {
    app = new App();
    stack = new Stack(app, 'Ledger', { env: { account: '444455556666', region: 'eu-central-1' } });
    job(Retention.count(Token.asNumber(Fn.importValue('LedgerJobCount'))), events.Schedule.cron({ hour: '3', minute: '15' }));
    const guard = guardWithLock(Duration.days(30));
    expect(lockErrors(guard)).toEqual([]);
    expect(lockWarnings(guard).some((w) => w.includes('Ledger/LedgerJob retain') && w.includes('is not known at synthesis'))).toBe(true);
  });
});
