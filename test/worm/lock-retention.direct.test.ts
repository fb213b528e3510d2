/**
 * The snapshot lock's comparison with the retentions of the snapshots it locks, exercised
 * directly (no synthesis through the gates): the DLM policies, AWS Backup plans and registered
 * creators are built as users and AWS write them, and `checkLockAgainstRetentions` is asked as
 * the lock's validation asks it.
 *
 * What AWS does: a locked snapshot cannot be deleted until the lock expires ("Lock Amazon EBS
 * snapshots", EBS User Guide), so DLM fails to delete a locked snapshot whose retention ended,
 * and AWS Backup marks such a recovery point EXPIRED and keeps billing it. DLM's retain rule is a
 * count or an age (`RetainRule`: Count, or Interval with IntervalUnit DAYS, WEEKS, MONTHS or
 * YEARS); its create rule an interval in HOURS or a cron expression in UTC (`CreateRule`, DLM API
 * reference); a count-N schedule deletes a snapshot once N newer ones exist, so at the earliest
 * N x the smallest gap between two creations. AWS Backup deletes a recovery point
 * `Lifecycle.DeleteAfterDays` after its creation and never without a lifecycle
 * (`AWS::Backup::BackupPlan` `LifecycleResourceType`); the plan's `RecoveryPointTags` are put on
 * the recovery point, which is how the lock (limited to purposes) finds its snapshots.
 */
import { App, CfnTag, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { registerArtefactRetention, registerScheduledRetention } from '../../src/core/artefact-retentions';
import { Retention } from '../../src/core/retention';
import { BackupTagging } from '../../src/core/tagging';
import { checkLockAgainstRetentions } from '../../src/worm/lock-retention';
import { checkTemplateAgainstSchema, formatSchemaFinding } from '../support/schema';
import { warningsOn } from '../support/warnings';

const ROLE = 'arn:aws:iam::444455556666:role/dlm';

let app: App;
let stack: Stack;
let lock: Construct;
let purposeKey: string;
beforeEach(() => {
  // a plain app: the warnings are read from the lock's metadata (the strict test apps fail on them)
  app = new App();
  stack = new Stack(app, 'Ledger', { env: { account: '444455556666', region: 'eu-central-1' } });
  lock = new Construct(stack, 'SnapshotLock');
  purposeKey = BackupTagging.keys(stack).purpose;
});

/** The lock's errors for a lock of `days` (or a Duration), limited to `purposes`. */
function errorsFor(days: number | Duration, purposes: string[] = []): string[] {
  return checkLockAgainstRetentions(lock, 'mode duration', typeof days === 'number' ? Duration.days(days) : days, purposes);
}

const warnings = () => warningsOn(lock);

type Schedule = dlm.CfnLifecyclePolicy.ScheduleProperty;

/** A user's own L1 DLM policy, as the DLM API reference documents a snapshot policy. */
function dlmPolicy(id: string, schedules: Schedule[]): dlm.CfnLifecyclePolicy {
  return new dlm.CfnLifecyclePolicy(stack, id, {
    description: 'ledger snapshots',
    state: 'ENABLED',
    executionRoleArn: ROLE,
    policyDetails: {
      policyType: 'EBS_SNAPSHOT_MANAGEMENT',
      resourceTypes: ['VOLUME'],
      targetTags: [{ key: 'LedgerTier', value: 'gold' }],
      schedules,
    },
  });
}

function schedule(createRule: dlm.CfnLifecyclePolicy.CreateRuleProperty, retainRule: dlm.CfnLifecyclePolicy.RetainRuleProperty,
  tagsToAdd: CfnTag[] = [{ key: BackupTagging.keys(stack).purpose, value: 'ledger-archive' }]): Schedule {
  return { name: 'nightly', createRule, retainRule, tagsToAdd };
}

/** A DLM default policy and an event-based copy policy, as DLM documents them: no schedules. */
function policiesWithoutSchedules() {
  new dlm.CfnLifecyclePolicy(stack, 'DefaultVolumes', {
    description: 'default',
    state: 'ENABLED',
    executionRoleArn: ROLE,
    defaultPolicy: 'VOLUME',
    policyDetails: { policyType: 'EBS_SNAPSHOT_MANAGEMENT', policyLanguage: 'SIMPLIFIED', resourceType: 'VOLUME', createInterval: 1, retainInterval: 7 },
  });
  new dlm.CfnLifecyclePolicy(stack, 'CopyShared', {
    description: 'copy shared',
    state: 'ENABLED',
    executionRoleArn: ROLE,
    policyDetails: {
      policyType: 'EVENT_BASED_POLICY',
      eventSource: { type: 'MANAGED_CWE', parameters: { eventType: 'shareSnapshot', snapshotOwner: ['111122223333'] } },
      actions: [{ name: 'copy', crossRegionCopy: [{ target: 'eu-west-1', encryptionConfiguration: { encrypted: true } }] }],
    },
  });
}

const DAILY = { interval: 24, intervalUnit: 'HOURS' };

describe('DLM snapshot policies', () => {
  test('a count of 5 snapshots every 24 hours is 5 days: a 5-day lock is an error naming both, the value and the fix; 4 days is not', () => {
    dlmPolicy('Nightly', [schedule(DAILY, { count: 5 })]);
    expect(errorsFor(5)).toEqual([
      'Ledger/SnapshotLock: mode duration of 5 days must be shorter than the retention of the snapshots it locks, ' +
      'got longer than Ledger/Nightly schedules[0] retainRule (count 5 every 24 hours, about 5 days): a snapshot locked past its ' +
      'retention cannot be deleted when it expires (DLM fails, AWS Backup keeps an EXPIRED recovery point and bills it); ' +
      'shorten the lock, lengthen the retention, or limit the lock to other purposes',
    ]);
    expect(errorsFor(4)).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  test.each([
    [{ interval: 2, intervalUnit: 'WEEKS' }, 14, '2 weeks, about 14 days'],
    [{ interval: 10, intervalUnit: 'DAYS' }, 10, '10 days, about 10 days'],
    [{ interval: 1, intervalUnit: 'YEARS' }, 365, '1 years, about 365 days'],
    // calendar units at their shortest: a snapshot taken on 1 February is deleted 28 days later
    [{ interval: 1, intervalUnit: 'MONTHS' }, 28, '1 months, about 28 days'],
    [{ interval: 12, intervalUnit: 'MONTHS' }, 365, '12 months, about 365 days'],
    [{ interval: 2, intervalUnit: 'YEARS' }, 730, '2 years, about 730 days'],
  ])('an age retention %j keeps a snapshot %s days', (retainRule, days, text) => {
    dlmPolicy('Nightly', [schedule(DAILY, retainRule)]);
    expect(errorsFor(days).join('\n')).toContain(`Ledger/Nightly schedules[0] retainRule (${text})`);
    expect(errorsFor(days - 1)).toEqual([]);
  });

  test('a lock of 29 days outlives a 1 MONTHS retention of a snapshot taken in February (deleted after 28 days): refused', () => {
    dlmPolicy('Monthly', [schedule(DAILY, { interval: 1, intervalUnit: 'MONTHS' })]);
    expect(errorsFor(29)).toEqual([
      'Ledger/SnapshotLock: mode duration of 29 days must be shorter than the retention of the snapshots it locks, ' +
      'got longer than Ledger/Monthly schedules[0] retainRule (1 months, about 28 days): a snapshot locked past its ' +
      'retention cannot be deleted when it expires (DLM fails, AWS Backup keeps an EXPIRED recovery point and bills it); ' +
      'shorten the lock, lengthen the retention, or limit the lock to other purposes',
    ]);
    expect(errorsFor(27)).toEqual([]);
  });

  test('the second schedule of a policy is named by its index', () => {
    dlmPolicy('Nightly', [schedule(DAILY, { count: 30 }), schedule({ interval: 12, intervalUnit: 'HOURS' }, { count: 6 })]);
    expect(errorsFor(3)).toEqual([expect.stringContaining('Ledger/Nightly schedules[1] retainRule (count 6 every 12 hours, about 3 days)')]);
  });

  test('an age given as a token (a parameter) is not compared: a warning names it, never an error or a crash', () => {
    dlmPolicy('Nightly', [schedule(DAILY, { interval: Token.asNumber(Fn.importValue('LedgerRetainDays')), intervalUnit: 'DAYS' })]);
    expect(errorsFor(30)).toEqual([]);
    expect(warnings()).toEqual([expect.stringContaining(
      'Ledger/Nightly schedules[0] retainRule (a token) is not known at synthesis: the mode duration of 30 days cannot be compared with it')]);
  });

  /**
   * DLM reads a cron expression in UTC (`CreateRule.CronExpression`); the count leaves a
   * snapshot after count x the smallest gap between two firings.
   */
  test.each([
    ['cron(0 3 * * ? *)', 7, 7, 'count 7 on cron(0 3 * * ? *), about 7 days'],
    ['cron(0 0/6 * * ? *)', 28, 7, 'count 28 on cron(0 0/6 * * ? *), about 7 days'],
    // two snapshots an hour apart each night: the smallest gap is an hour, 48 snapshots last 2 days at the earliest
    ['cron(0 1,2 * * ? *)', 48, 2, 'count 48 on cron(0 1,2 * * ? *), about 2 days'],
  ])('a count on %s: count %s lasts %s days at the earliest', (cronExpression, count, days, text) => {
    dlmPolicy('Nightly', [schedule({ cronExpression }, { count })]);
    expect(errorsFor(days)).toEqual([expect.stringContaining(`got longer than Ledger/Nightly schedules[0] retainRule (${text}): `)]);
    expect(errorsFor(days - 1)).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  test('a count on a cron given as a token: a lock shorter than count hours passes silently, a longer one is a warning', () => {
    // DLM creates at most one snapshot an hour: 72 snapshots live at least 3 days
    dlmPolicy('Nightly', [schedule({ cronExpression: Fn.importValue('LedgerCron') }, { count: 72 })]);
    expect(errorsFor(2)).toEqual([]);
    expect(warnings()).toEqual([]);
    expect(errorsFor(3)).toEqual([]);
    expect(warnings()).toEqual([expect.stringContaining(
      'Ledger/Nightly schedules[0] retainRule (count 72 on a schedule not known at synthesis) is not known at synthesis')]);
  });

  test('policies without schedules (a default policy, an event-based copy policy) keep no purpose-tagged snapshots of their own', () => {
    // DLM default policies (PolicyLanguage SIMPLIFIED) keep by RetainInterval and add no tags; the lock
    // locks purpose-tagged snapshots only. An event-based policy copies shared snapshots (Actions).
    policiesWithoutSchedules();
    expect(errorsFor(30)).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  test('the purpose is the schedule\'s purpose tag among other tags: a lock limited to another purpose is not compared', () => {
    dlmPolicy('Nightly', [schedule(DAILY, { count: 2 }, [{ key: 'Team', value: 'ledger' }, { key: purposeKey, value: 'ledger-archive' }, { key: 'Cost', value: 'x' }])]);
    expect(errorsFor(20, ['ledger-dr'])).toEqual([]);
    expect(errorsFor(20, ['ledger-dr', 'ledger-archive'])).toEqual([expect.stringContaining('Ledger/Nightly schedules[0] retainRule (count 2 every 24 hours')]);
  });

  test('a purpose tag given as a token may be any purpose: compared even with a lock limited to purposes', () => {
    dlmPolicy('Nightly', [schedule(DAILY, { count: 2 }, [{ key: purposeKey, value: Fn.importValue('LedgerPurpose') }])]);
    expect(errorsFor(20, ['ledger-dr'])).toEqual([expect.stringContaining('Ledger/Nightly schedules[0] retainRule')]);
  });

  test('a DLM L2-style owner: a policy whose id is Resource is named by its parent', () => {
    const owner = new Construct(stack, 'Tier');
    new dlm.CfnLifecyclePolicy(owner, 'Resource', {
      description: 'tier',
      state: 'ENABLED',
      executionRoleArn: ROLE,
      policyDetails: { resourceTypes: ['VOLUME'], targetTags: [{ key: 'LedgerTier', value: 'gold' }], schedules: [schedule(DAILY, { count: 3 })] },
    });
    expect(errorsFor(3)).toEqual([expect.stringContaining('got longer than Ledger/Tier schedules[0] retainRule')]);
  });
});

describe('AWS Backup plans', () => {
  function l2Plan(rule: Partial<backup.BackupPlanRuleProps>) {
    const plan = new backup.BackupPlan(stack, 'Plan', { backupVault: backup.BackupVault.fromBackupVaultName(stack, 'Vault', 'ledger') });
    plan.addRule(new backup.BackupPlanRule({ ruleName: 'Nightly', scheduleExpression: events.Schedule.cron({ hour: '2', minute: '0' }), ...rule }));
    return plan;
  }

  test('a rule deleting after 20 days, tagged with the locked purpose: a 20-day lock is an error, 19 days is not', () => {
    l2Plan({ deleteAfter: Duration.days(20), recoveryPointTags: { [purposeKey]: 'ledger-dr', Team: 'ledger' } });
    expect(errorsFor(20, ['ledger-dr'])).toEqual([expect.stringContaining(
      "Ledger/SnapshotLock: mode duration of 20 days must be shorter than the retention of the snapshots it locks, got longer than Ledger/Plan rule 'Nightly' retain (20 days, about 20 days)")]);
    expect(errorsFor(19, ['ledger-dr'])).toEqual([]);
    // the recovery points carry another purpose than the lock locks
    expect(errorsFor(30, ['ledger-archive'])).toEqual([]);
  });

  test('a rule without lifecycle keeps its recovery points until deleted by hand: nothing to compare, no warning', () => {
    l2Plan({ recoveryPointTags: { [purposeKey]: 'ledger-dr' } });
    expect(errorsFor(3650)).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  test('a rule without recovery point tags may hold any purpose: compared with a lock limited to purposes', () => {
    l2Plan({ deleteAfter: Duration.days(7) });
    expect(errorsFor(10, ['ledger-dr'])).toEqual([expect.stringContaining("Ledger/Plan rule 'Nightly' retain (7 days")]);
  });

  test('a purpose recovery point tag given as a token may be any purpose: compared', () => {
    l2Plan({ deleteAfter: Duration.days(7), recoveryPointTags: { [purposeKey]: Fn.importValue('LedgerPurpose') } });
    expect(errorsFor(10, ['ledger-dr'])).toEqual([expect.stringContaining("Ledger/Plan rule 'Nightly' retain (7 days")]);
  });

  /**
   * CDK's escape hatch ("Escape hatches", AWS CDK Developer Guide): a property override changes
   * what CloudFormation receives, in CloudFormation casing, without changing the L1's props.
   */
  test('a retention changed by a property override is compared as CloudFormation receives it', () => {
    const plan = l2Plan({ deleteAfter: Duration.days(35), recoveryPointTags: { [purposeKey]: 'ledger-dr' } });
    expect(errorsFor(14, ['ledger-dr'])).toEqual([]);
    (plan.node.defaultChild as backup.CfnBackupPlan).addPropertyOverride('BackupPlan.BackupPlanRule.0.Lifecycle.DeleteAfterDays', 14);
    expect(errorsFor(14, ['ledger-dr'])).toEqual([expect.stringContaining("got longer than Ledger/Plan rule 'Nightly' retain (14 days, about 14 days)")]);
    expect(errorsFor(13, ['ledger-dr'])).toEqual([]);
    // the override of the recovery point tag moves the rule out of the lock's purposes
    (plan.node.defaultChild as backup.CfnBackupPlan).addPropertyOverride(`BackupPlan.BackupPlanRule.0.RecoveryPointTags.${purposeKey}`, 'ledger-archive');
    expect(errorsFor(14, ['ledger-dr'])).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  test('a user\'s own L1 plan: a rule without a name is named by its index, one without lifecycle is skipped', () => {
    new backup.CfnBackupPlan(stack, 'Legacy', {
      backupPlan: {
        backupPlanName: 'legacy',
        backupPlanRule: [
          { ruleName: 'Forever', targetBackupVault: 'ledger', scheduleExpression: 'cron(0 6 1 * ? *)' },
          { ruleName: Token.asString(Fn.importValue('LedgerRuleName')), targetBackupVault: 'ledger', lifecycle: { deleteAfterDays: 3 } },
        ],
      },
    });
    expect(errorsFor(5)).toEqual([expect.stringContaining("Ledger/Legacy rule '1' retain (3 days")]);
  });

  test('a DeleteAfterDays given as a token is a warning naming the rule, never an error', () => {
    new backup.CfnBackupPlan(stack, 'Tokened', {
      backupPlan: {
        backupPlanName: 'tokened',
        backupPlanRule: [{ ruleName: 'Nightly', targetBackupVault: 'ledger', lifecycle: { deleteAfterDays: Token.asNumber(Fn.importValue('LedgerDays')) } }],
      },
    });
    expect(errorsFor(30)).toEqual([]);
    expect(warnings()).toEqual([expect.stringContaining("Ledger/Tokened rule 'Nightly' retain (a token) is not known at synthesis")]);
  });

  test('rules given as a token are a warning, never a crash', () => {
    new backup.CfnBackupPlan(stack, 'Imported', { backupPlan: { backupPlanName: 'imported', backupPlanRule: Token.asAny(Fn.importValue('LedgerRules')) } });
    expect(errorsFor(30)).toEqual([]);
    expect(warnings()).toEqual([expect.stringContaining('Ledger/Imported backupPlanRule (a token) is not known at synthesis')]);
  });
});

describe('creators that expire their own snapshots (registered retentions)', () => {
  test('an age of 12 days: a 12-day lock is an error, 11 days is not; another purpose than the lock\'s is not compared', () => {
    const job = new Construct(stack, 'LedgerJob');
    registerArtefactRetention({ construct: job, property: 'retain', purpose: 'ledger-archive', retention: Retention.age(Duration.days(12)) });
    expect(errorsFor(12)).toEqual([expect.stringContaining('got longer than Ledger/LedgerJob retain (age:12d, about 12 days)')]);
    expect(errorsFor(11)).toEqual([]);
    expect(errorsFor(30, ['ledger-change'])).toEqual([]);
  });

  test('a count of 8 on a daily cron is 8 days', () => {
    registerScheduledRetention({
      construct: new Construct(stack, 'LedgerJob'), property: 'retain', purpose: 'ledger-archive', retention: Retention.count(8), schedule: 'cron(15 3 * * ? *)',
    });
    expect(errorsFor(8)).toEqual([expect.stringContaining('Ledger/LedgerJob retain (count:8, about 8 days)')]);
    expect(errorsFor(7)).toEqual([]);
  });

  test('a count of runs started on demand cannot be compared: the warning says why', () => {
    registerScheduledRetention({ construct: new Construct(stack, 'LedgerJob'), property: 'retain', purpose: 'ledger-archive', retention: Retention.count(8) });
    expect(errorsFor(30)).toEqual([]);
    expect(warnings()).toEqual([expect.stringContaining(
      'Ledger/LedgerJob retain (count:8, a count of runs started on demand (no schedule): no interval to turn the count into an age) is not known at synthesis')]);
  });
});

test('a lock duration given as a token cannot be compared: a warning, no error', () => {
  dlmPolicy('Nightly', [schedule(DAILY, { count: 2 })]);
  expect(errorsFor(Duration.days(Token.asNumber(Fn.importValue('LedgerLockDays'))))).toEqual([]);
  expect(warnings()).toEqual([expect.stringContaining(
    'mode duration is a token: its duration cannot be compared with the retentions of the snapshots it locks')]);
});

test('every DLM policy and Backup plan written above is a template CloudFormation\'s schemas accept', () => {
  dlmPolicy('Nightly', [schedule(DAILY, { count: 5 }), schedule({ cronExpression: 'cron(0 1,2 * * ? *)' }, { count: 48 }),
    schedule(DAILY, { interval: 2, intervalUnit: 'WEEKS' })]);
  policiesWithoutSchedules();
  const plan = new backup.CfnBackupPlan(stack, 'Legacy', {
    backupPlan: {
      backupPlanName: 'legacy',
      backupPlanRule: [{ ruleName: 'Weekly', targetBackupVault: 'ledger', scheduleExpression: 'cron(0 5 ? * SUN *)', lifecycle: { deleteAfterDays: 35 } }],
    },
  });
  plan.addPropertyOverride('BackupPlan.BackupPlanRule.0.Lifecycle.DeleteAfterDays', 14);
  plan.addPropertyOverride(`BackupPlan.BackupPlanRule.0.RecoveryPointTags.${purposeKey}`, 'ledger-dr');
  const template = app.synth().getStackByName(stack.stackName).template;
  expect(checkTemplateAgainstSchema(template).map(formatSchemaFinding)).toEqual([]);
  expect(Object.keys(template.Resources)).toHaveLength(4);
});
