/**
 * The library's one error for bad input, value by value (module `core-validation`): every message
 * names the construct path, the prop as the user wrote it, the bad value and, where the
 * requirement does not say it, the fix; limits at their bounds; tokens skipped; every problem of a
 * construct reported at once. The AWS limits checked here are AWS's: tags as EC2 and AWS Backup
 * accept them (Amazon EC2 User Guide, "Tag restrictions": key 1-128 characters, value 0-256, at
 * most 50 tags, the `aws:` prefix reserved in any case), a 12-digit account id (AWS Account
 * Management Reference Guide, "View AWS account identifiers"), region codes such as `eu-west-1`
 * and `us-gov-west-1` (AWS General Reference, "Regional endpoints").
 */
import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Retention } from '../../src/core/retention';
import {
  A_TOKEN, attempt, check, checkAccountId, checkCount, checkDuration, checkInteger, checkLength, checkOneOf, checkPattern, checkRegion,
  checkResolved, checkRetentionKnown, checkTagKey, checkTags, collectProblems, describe as show, EbsBackupValidationError, factoryProblems, fail,
  FactoryProblem, isUnresolved, present, problemLine, recordFactoryProblems, reportFactoryProblems, retentionAge, throwFactoryProblems,
  warn, warningAcknowledgementId, wholeDays, wholeDurationProblem,
} from '../../src/core/validation';

let stack: Stack;
let db: Construct;
beforeEach(() => {
  stack = new Stack(new App(), 'Ledger');
  db = new Construct(stack, 'Db');
});

const thrown = (fn: () => unknown): Error | undefined => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return undefined;
};

describe('the message: path, prop, requirement, value, fix', () => {
  test('problemLine with and without a value and a fix', () => {
    expect(problemLine(db, 'retain', 'must be set')).toBe('Ledger/Db: retain must be set');
    expect(problemLine(db, 'retain', 'must be set', 0)).toBe('Ledger/Db: retain must be set, got 0');
    expect(problemLine(db, 'retain', 'must be set', undefined, 'pass Retention.count(n)')).toBe('Ledger/Db: retain must be set; pass Retention.count(n)');
    expect(problemLine(db, 'retain', 'must be set', 'x', 'pass it')).toBe("Ledger/Db: retain must be set, got 'x'; pass it");
  });

  test('EbsBackupValidationError: one problem is the message; several are counted and listed one a line', () => {
    const one = new EbsBackupValidationError(db, 'name', 'must be short', 'abc', 'shorten it');
    expect([one.name, one.message, one.problems]).toEqual(['EbsBackupValidationError', "Ledger/Db: name must be short, got 'abc'; shorten it",
      ["Ledger/Db: name must be short, got 'abc'; shorten it"]]);
    expect(one).toBeInstanceOf(Error);
    const single = EbsBackupValidationError.of(db, ['Ledger/Db: a is wrong']);
    expect([single.message, single.problems]).toEqual(['Ledger/Db: a is wrong', ['Ledger/Db: a is wrong']]);
    const many = EbsBackupValidationError.of(db, ['Ledger/Db: a is wrong', 'Ledger/Db: b is wrong']);
    expect(many.message).toBe('Ledger/Db: 2 problems\n  - Ledger/Db: a is wrong\n  - Ledger/Db: b is wrong');
    expect(many.problems).toEqual(['Ledger/Db: a is wrong', 'Ledger/Db: b is wrong']);
  });

  test('values are rendered readably, never [object Object]', () => {
    expect(show(A_TOKEN)).toBe('a token');
    expect(show(Duration.hours(36))).toBe('1 day 12 hours');
    expect(show('x')).toBe("'x'");
    expect(show(['a', 2])).toBe("['a', 2] (2 items)");
    expect(show([])).toBe('[] (0 items)');
    expect(show({ a: 1 })).toBe('{"a":1}');
    expect(show(null)).toBe('null');
    expect(show(undefined)).toBe('undefined');
    expect(show(7)).toBe('7');
    expect(show(true)).toBe('true');
    // a count read from an unset environment variable: NaN, not JSON's 'null'
    expect([show(NaN), show(Infinity)]).toEqual(['NaN', 'Infinity']);
  });

  test('a token is recognised in any form, and nothing else is', () => {
    expect(isUnresolved(undefined)).toBe(false);
    expect(isUnresolved(null)).toBe(false);
    expect(isUnresolved(Duration.days(3))).toBe(false);
    expect(isUnresolved(Duration.days(Token.asNumber(Fn.importValue('N'))))).toBe(true);
    expect(isUnresolved(Fn.importValue('S'))).toBe(true);
    expect(isUnresolved(Token.asNumber(Fn.importValue('N')))).toBe(true);
    expect(isUnresolved('literal')).toBe(false);
    expect(isUnresolved(3)).toBe(false);
  });
});

describe('factory problems: recorded in the value, reported where the value is used', () => {
  test('wholeDurationProblem: a whole number of the unit within the bounds, tokens skipped', () => {
    const p = (value: any, unit: 'days' | 'hours' = 'days', why = '') => wholeDurationProblem('Lock.of', 'duration', value, unit, 1, 30, why);
    expect([p(Duration.days(1)), p(Duration.days(30)), p(Duration.hours(48)), p(Duration.hours(1), 'hours'), p(Duration.hours(30), 'hours')])
      .toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(p(Duration.days(Token.asNumber(Fn.importValue('N'))))).toBeUndefined();
    expect(p(Duration.days(31))?.toError().message).toBe(
      'Lock.of: duration must be a whole number of days between 1 and 30, got 31 days; pass Duration.days(n) with 1 <= n <= 30');
    expect(p(Duration.hours(0), 'days', ' (the service keeps whole days)')?.toError().message).toBe(
      'Lock.of: duration must be a whole number of days between 1 and 30 (the service keeps whole days), got 0 hours; pass Duration.days(n) with 1 <= n <= 30');
    expect(p(Duration.hours(36))?.toError().message).toMatch(/^Lock\.of: duration must be a whole number of days between 1 and 30, got 1 day 12 hours;/);
    expect(p(Duration.minutes(90), 'hours')?.toError().message).toBe(
      'Lock.of: duration must be a whole number of hours between 1 and 30, got 1 hour 30 minutes; pass Duration.hours(n) with 1 <= n <= 30');
    expect(p(Duration.hours(31), 'hours')).toBeInstanceOf(FactoryProblem);
    expect(p(14)?.toError().message).toBe('Lock.of: duration must be a Duration, got 14; pass Duration.days(n)');
    expect(p('P1D', 'hours')?.toError().message).toBe("Lock.of: duration must be a Duration, got 'P1D'; pass Duration.hours(n)");
    // without a reason, nothing follows the bounds
    expect(wholeDurationProblem('Lock.of', 'duration', Duration.days(31), 'days', 1, 30)?.requirement).toBe('duration must be a whole number of days between 1 and 30');
  });

  test('FactoryProblem.toError with and without a value and a fix', () => {
    expect(new FactoryProblem('Retention.count', 'count must be positive').toError().message).toBe('Retention.count: count must be positive');
    expect(new FactoryProblem('Retention.count', 'count must be positive', 0).toError().message).toBe('Retention.count: count must be positive, got 0');
    expect(new FactoryProblem('Retention.count', 'count must be positive', undefined, 'pass 1').toError().message).toBe('Retention.count: count must be positive; pass 1');
  });

  test('recorded, read back, thrown; values without problems and non-objects have none', () => {
    const a = new FactoryProblem('F', 'a is wrong', 1);
    const b = new FactoryProblem('F', 'b is wrong', 2);
    expect(present([undefined, a, undefined, b])).toEqual([a, b]);
    const value = recordFactoryProblems({ x: 1 }, [a, b]);
    expect(factoryProblems(value)).toEqual([a, b]);
    // not enumerable: the value renders as before
    expect(JSON.stringify(value)).toBe('{"x":1}');
    expect(factoryProblems(recordFactoryProblems({ x: 1 }, []))).toEqual([]);
    expect([factoryProblems(null), factoryProblems(undefined), factoryProblems('s'), factoryProblems(3)]).toEqual([[], [], [], []]);
    expect(thrown(() => throwFactoryProblems(value))?.message).toBe('F: a is wrong, got 1');
    expect(() => throwFactoryProblems({ x: 1 })).not.toThrow();
  });

  test('reportFactoryProblems: outside a construct\'s collection the first problem throws with the path and prop', () => {
    const value = recordFactoryProblems({}, [new FactoryProblem('Retention.count', 'count must be an integer between 1 and 1000', 0)]);
    expect(thrown(() => reportFactoryProblems(db, 'schedules[0].retain', value))?.message)
      .toBe('Ledger/Db: schedules[0].retain Retention.count(...): count must be an integer between 1 and 1000, got 0');
    expect(() => reportFactoryProblems(db, 'retain', {})).not.toThrow();
  });

  test('reportFactoryProblems: within a collection every problem once, where the value is first used', () => {
    const value = recordFactoryProblems({}, [new FactoryProblem('F', 'a is wrong', 1), new FactoryProblem('F', 'b is wrong', 2, 'fix b')]);
    const e = thrown(() => collectProblems(db, () => {
      reportFactoryProblems(db, 'first', value);
      reportFactoryProblems(db, 'second', value);
    })) as EbsBackupValidationError;
    expect(e.problems).toEqual(['Ledger/Db: first F(...): a is wrong, got 1', 'Ledger/Db: first F(...): b is wrong, got 2; fix b']);
    // a new collection reports it again
    expect((thrown(() => collectProblems(db, () => reportFactoryProblems(db, 'third', value))) as EbsBackupValidationError).problems)
      .toEqual(['Ledger/Db: third F(...): a is wrong, got 1', 'Ledger/Db: third F(...): b is wrong, got 2; fix b']);
  });
});

describe('every problem of a construct at once', () => {
  test('check records and goes on; duplicates once; a child\'s problems belong to the collecting parent', () => {
    const child = new Construct(db, 'Schedule');
    let reached = false;
    const e = thrown(() => collectProblems(db, () => {
      check(false, db, 'a', 'must be set');
      check(false, db, 'a', 'must be set');
      check(true, db, 'ok', 'never reported');
      check(false, child, 'b', 'must be short', 'xyz');
      reached = true;
    })) as EbsBackupValidationError;
    expect(reached).toBe(true);
    expect(e).toBeInstanceOf(EbsBackupValidationError);
    expect(e.message).toBe("Ledger/Db: 2 problems\n  - Ledger/Db: a must be set\n  - Ledger/Db/Schedule: b must be short, got 'xyz'");
  });

  test('no problem: the result; the collection ends with the call (check throws at once afterwards)', () => {
    expect(collectProblems(db, () => 42)).toBe(42);
    expect(thrown(() => check(false, db, 'a', 'must be set'))?.message).toBe('Ledger/Db: a must be set');
    expect(thrown(() => collectProblems(db, () => {
      throw new Error('boom');
    }))?.message).toBe('boom');
    expect(thrown(() => check(false, db, 'a', 'must be set'))?.message).toBe('Ledger/Db: a must be set');
  });

  test('fail stops with every problem so far; an unexpected error after a problem is its consequence', () => {
    const e = thrown(() => collectProblems(db, () => {
      check(false, db, 'a', 'must be set');
      fail(db, 'b', 'must be a list', 3, 'pass [3]');
    })) as EbsBackupValidationError;
    expect(e.problems).toEqual(['Ledger/Db: a must be set', 'Ledger/Db: b must be a list, got 3; pass [3]']);
    const consequence = thrown(() => collectProblems(db, () => {
      check(false, db, 'a', 'must be set');
      throw new TypeError('cannot read properties of undefined');
    })) as EbsBackupValidationError;
    expect(consequence.problems).toEqual(['Ledger/Db: a must be set']);
    expect(thrown(() => fail(db, 'b', 'must be a list', 3))).toBeInstanceOf(EbsBackupValidationError);
  });

  test('a nested collection of the same construct joins the outer one', () => {
    const e = thrown(() => collectProblems(db, () => {
      expect(collectProblems(db, () => {
        check(false, db, 'inner', 'must be set');
        return 'inner result';
      })).toBe('inner result');
      check(false, db, 'outer', 'must be set');
    })) as EbsBackupValidationError;
    expect(e.problems).toEqual(['Ledger/Db: inner must be set', 'Ledger/Db: outer must be set']);
  });

  test('attempt: one part\'s problems recorded, the next part still checked', () => {
    const parts: Array<string | undefined> = [];
    const e = thrown(() => collectProblems(db, () => {
      check(false, db, 'a', 'must be set');
      parts.push(attempt(db, () => fail(db, 'schedules[0]', 'must be valid')));
      parts.push(attempt(db, () => {
        throw new TypeError('a consequence');
      }));
      parts.push(attempt(db, () => 'fine'));
      parts.push(attempt(db, () => fail(db, 'schedules[1]', 'must be valid')));
    })) as EbsBackupValidationError;
    expect(parts).toEqual([undefined, undefined, 'fine', undefined]);
    expect(e.problems).toEqual(['Ledger/Db: a must be set', 'Ledger/Db: schedules[0] must be valid', 'Ledger/Db: schedules[1] must be valid']);
  });

  test('attempt: outside a collection it runs the part; an unexpected error with no problem before it is thrown', () => {
    expect(attempt(db, () => 'fine')).toBe('fine');
    expect(thrown(() => attempt(db, () => fail(db, 'a', 'must be set')))?.message).toBe('Ledger/Db: a must be set');
    expect(thrown(() => collectProblems(db, () => attempt(db, () => {
      throw new TypeError('a bug');
    })))?.message).toBe('a bug');
  });

  test('collected problems thrown inside the collection as the library\'s error are not repeated', () => {
    const e = thrown(() => collectProblems(db, () => {
      check(false, db, 'a', 'must be set');
      throw EbsBackupValidationError.of(db, ['Ledger/Db: a must be set', 'Ledger/Db: c must be set']);
    })) as EbsBackupValidationError;
    expect(e.problems).toEqual(['Ledger/Db: a must be set', 'Ledger/Db: c must be set']);
  });
});

describe('the checks at their bounds', () => {
  const message = (fn: () => void) => thrown(fn)?.message;
  const N = () => Token.asNumber(Fn.importValue('N'));

  test('checkInteger', () => {
    for (const ok of [1, 1000, undefined, N()]) {
      expect(message(() => checkInteger(db, 'count', ok, 1, 1000))).toBeUndefined();
    }
    expect(message(() => checkInteger(db, 'count', 0, 1, 1000))).toBe('Ledger/Db: count must be an integer between 1 and 1000, got 0');
    expect(message(() => checkInteger(db, 'count', 1001, 1, 1000))).toBe('Ledger/Db: count must be an integer between 1 and 1000, got 1001');
    expect(message(() => checkInteger(db, 'count', 2.5, 1, 1000, 'hours'))).toBe('Ledger/Db: count must be an integer between 1 and 1000 hours, got 2.5');
  });

  test('checkDuration', () => {
    const check3to9 = (d: Duration | undefined) => message(() => checkDuration(db, 'changeableFor', d, Duration.days(3), Duration.days(9)));
    expect([check3to9(Duration.days(3)), check3to9(Duration.days(9)), check3to9(undefined), check3to9(Duration.days(N()))])
      .toEqual([undefined, undefined, undefined, undefined]);
    expect(check3to9(Duration.hours(71))).toBe('Ledger/Db: changeableFor must be between 3 days and 9 days, got 2 days 23 hours');
    expect(check3to9(Duration.hours(217))).toBe('Ledger/Db: changeableFor must be between 3 days and 9 days, got 9 days 1 hour');
  });

  test('wholeDays', () => {
    expect(wholeDays(db, 'deleteAfter', Duration.hours(48))).toBe(2);
    expect(Token.isUnresolved(wholeDays(db, 'deleteAfter', Duration.days(N())))).toBe(true);
    expect(message(() => wholeDays(db, 'deleteAfter', Duration.hours(36)))).toBe('Ledger/Db: deleteAfter must be a whole number of days, got 1 day 12 hours');
  });

  test('checkPattern, checkAccountId, checkRegion', () => {
    expect(message(() => checkPattern(db, 'name', 'a b', /^\w+$/, 'letters only'))).toBe("Ledger/Db: name must be letters only, got 'a b'");
    expect(message(() => checkPattern(db, 'name', undefined, /^\w+$/, 'letters only'))).toBeUndefined();
    expect(message(() => checkPattern(db, 'name', Fn.importValue('S'), /^\w+$/, 'letters only'))).toBeUndefined();
    expect(message(() => checkAccountId(db, 'shareWith[0]', '123456789012'))).toBeUndefined();
    for (const bad of ['12345678901', '1234567890123', '12345678901a', ' 123456789012']) {
      expect(message(() => checkAccountId(db, 'shareWith[0]', bad))).toBe(`Ledger/Db: shareWith[0] must be a 12-digit AWS account id, got '${bad}'`);
    }
    // eusc-de-east-1: the AWS European Sovereign Cloud (partition aws-eusc), in aws-cdk-lib's region-info
    for (const region of ['eu-west-1', 'us-gov-west-1', 'ap-southeast-2', 'il-central-1', 'us-isob-east-1', 'eusc-de-east-1']) {
      expect([region, message(() => checkRegion(db, 'region', region))]).toEqual([region, undefined]);
    }
    for (const bad of ['Ireland', 'eu-west', 'euwest-1', 'eu-west-1a', 'EU-WEST-1', 'x-west-1', 'eu-west-12', ' eu-west-1', 'europe-west-1']) {
      expect(message(() => checkRegion(db, 'region', bad))).toBe(`Ledger/Db: region must be an AWS region name such as eu-west-1, got '${bad}'`);
    }
  });

  test('checkOneOf', () => {
    expect(message(() => checkOneOf(db, 'mode', 'b', ['a', 'b']))).toBeUndefined();
    expect(message(() => checkOneOf(db, 'mode', undefined, ['a', 'b']))).toBeUndefined();
    expect(message(() => checkOneOf(db, 'mode', Fn.importValue('S'), ['a', 'b']))).toBeUndefined();
    expect(message(() => checkOneOf(db, 'mode', 'x', ['a', 'b']))).toBe("Ledger/Db: mode must be one of 'a', 'b', got 'x'");
  });

  test('checkCount: exactly, at most, between', () => {
    expect(message(() => checkCount(db, 'l', [1, 2], 2, 2))).toBeUndefined();
    expect(message(() => checkCount(db, 'l', [1], 2, 2))).toBe('Ledger/Db: l must have exactly 2 items, got [1] (1 items)');
    expect(message(() => checkCount(db, 'l', [], 0, 1))).toBeUndefined();
    expect(message(() => checkCount(db, 'l', [1, 2], 0, 1))).toBe('Ledger/Db: l must have at most 1 items, got [1, 2] (2 items)');
    expect(message(() => checkCount(db, 'l', [1], 1, 4))).toBeUndefined();
    expect(message(() => checkCount(db, 'l', [1, 2, 3, 4], 1, 4))).toBeUndefined();
    expect(message(() => checkCount(db, 'l', [], 1, 4))).toBe('Ledger/Db: l must have between 1 and 4 items, got [] (0 items)');
    expect(message(() => checkCount(db, 'l', undefined, 1, 4))).toBeUndefined();
    expect(message(() => checkCount(db, 'l', Fn.split(',', Fn.importValue('S')), 2, 3))).toBeUndefined();
  });

  test('checkLength', () => {
    expect(message(() => checkLength(db, 'name', 'ab', 2, 3))).toBeUndefined();
    expect(message(() => checkLength(db, 'name', 'abc', 2, 3))).toBeUndefined();
    expect(message(() => checkLength(db, 'name', 'a', 2, 3))).toBe("Ledger/Db: name must be between 2 and 3 characters long, got 'a'");
    expect(message(() => checkLength(db, 'name', 'abcd', 2, 3))).toBe("Ledger/Db: name must be between 2 and 3 characters long, got 'abcd'");
    expect(message(() => checkLength(db, 'name', undefined, 2, 3))).toBeUndefined();
    expect(message(() => checkLength(db, 'name', Fn.importValue('S'), 2, 300))).toBeUndefined();
  });

  test('checkTags: EC2\'s tag restrictions', () => {
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(message(() => checkTags(db, 'tags', tags(50)))).toBeUndefined();
    expect(message(() => checkTags(db, 'tags', tags(51)))).toBe('Ledger/Db: tags must have at most 50 tags, got 51');
    expect(message(() => checkTags(db, 'tags', tags(3), 2))).toBe('Ledger/Db: tags must have at most 2 tags, got 3');
    expect(message(() => checkTags(db, 'tags', { ['k'.repeat(128)]: 'v'.repeat(256), empty: '' }))).toBeUndefined();
    expect(message(() => checkTags(db, 'tags', { ['k'.repeat(129)]: 'v' }))).toBe(`Ledger/Db: tags key must be between 1 and 128 characters long, got '${'k'.repeat(129)}'`);
    expect(message(() => checkTags(db, 'tags', { '': 'v' }))).toBe("Ledger/Db: tags key must be between 1 and 128 characters long, got ''");
    expect(message(() => checkTags(db, 'tags', { team: 'v'.repeat(257) }))).toBe(`Ledger/Db: tags['team'] must be between 0 and 256 characters long, got '${'v'.repeat(257)}'`);
    expect(message(() => checkTags(db, 'tags', { 'AWS:cloudformation': 'v' })))
      .toBe("Ledger/Db: tags key must not start with 'aws:' (reserved by AWS), got 'AWS:cloudformation'");
    expect(message(() => checkTags(db, 'tags', { 'aws-team': 'v', 'team:aws:x': 'v' }))).toBeUndefined();
    expect(message(() => checkTags(db, 'tags', undefined))).toBeUndefined();
    expect(message(() => checkTags(db, 'tags', Token.asAny(Fn.importValue('T')) as any))).toBeUndefined();
    // a token key is skipped; the literal keys beside it are still checked
    expect(message(() => checkTags(db, 'tags', { [Fn.importValue('K')]: 'v', 'aws:x': 'v' })))
      .toBe("Ledger/Db: tags key must not start with 'aws:' (reserved by AWS), got 'aws:x'");
  });

  test('checkResolved and checkRetentionKnown: a token where the value is compared at synthesis', () => {
    expect(message(() => checkResolved(db, 'retain', Fn.importValue('S'), 'it is compared', 'pass a literal')))
      .toBe('Ledger/Db: retain must be known at synthesis (it is compared), got a token; pass a literal');
    expect(message(() => checkResolved(db, 'retain', 'x', 'it is compared', 'pass a literal'))).toBeUndefined();
    expect(message(() => checkRetentionKnown(db, 'retain', Retention.count(14)))).toBeUndefined();
    expect(message(() => checkRetentionKnown(db, 'retain', Retention.age(Duration.days(14))))).toBeUndefined();
    expect(message(() => checkRetentionKnown(db, 'retain', Retention.count(N())))).toBe('Ledger/Db: retain must be known at synthesis '
      + '(the expiry expression compares every snapshot with it), got a token; pass a number (Retention.count(14)) or a duration '
      + '(Retention.age(Duration.days(14))) known at synthesis, not a parameter');
    expect(message(() => checkRetentionKnown(db, 'retain', Retention.age(Duration.days(N()))))).toMatch(/^Ledger\/Db: retain must be known at synthesis/);
    expect(message(() => checkRetentionKnown(db, 'retain', Retention.count(0)))).toMatch(/^Ledger\/Db: retain Retention\.count\(\.\.\.\): /);
  });

  test('retentionAge: an age kept by age; a count refused naming why', () => {
    expect(retentionAge(db, 'retain', Retention.age(Duration.days(35)), 'AWS Backup keeps by age').toDays()).toBe(35);
    expect(message(() => retentionAge(db, 'retain', Retention.count(7), 'AWS Backup keeps recovery points by age only')))
      .toBe("Ledger/Db: retain must be Retention.age(Duration.days(n)), not a count: AWS Backup keeps recovery points by age only, got 'count:7'");
    expect(message(() => retentionAge(db, 'retain', { maxAge: Duration.days(3) } as any, 'why')))
      .toMatch(/^Ledger\/Db: retain must be Retention\.age\(Duration\.days\(n\)\), got \{"maxAge":/);
  });
});

describe('checkTagKey: one rule for every tag key', () => {
  test('1 to 128 characters, never aws: in any case; the portable characters only when asked; a token skipped', () => {
    expect(() => checkTagKey(db, 'tagKey', 'AWS:tier')).toThrow("Ledger/Db: tagKey must not start with 'aws:' (reserved by AWS), got 'AWS:tier'");
    expect(() => checkTagKey(db, 'tagKey', 'x'.repeat(129))).toThrow('Ledger/Db: tagKey must be between 1 and 128 characters long');
    // EC2 takes any character in a key; a key that must tag other services too keeps to the common set
    expect(() => checkTagKey(db, 'tagKey', 'team#1')).not.toThrow();
    expect(() => checkTagKey(db, 'tagKey', 'team#1', true)).toThrow(
      "Ledger/Db: tagKey must be a tag key of letters, digits, spaces and _ . : / = + - @, got 'team#1'");
    expect(() => checkTagKey(db, 'tagKey', 'ledger:tier é', true)).not.toThrow();
    expect(() => checkTagKey(db, 'tagKey', Token.asString(Fn.importValue('Key')), true)).not.toThrow();
  });
});

describe('warnings: one id scheme', () => {
  test('warn adds the warning under cdk-ebs-backup:<family>:<name>; acknowledged as Annotation::<id>', () => {
    warn(db, 'dlm:fast-restore-quota', 'fast snapshot restore is limited per region');
    const entries = db.node.metadata.map((m) => [m.type, m.data]);
    expect(entries).toEqual([['aws:cdk:warning', 'fast snapshot restore is limited per region [ack: cdk-ebs-backup:dlm:fast-restore-quota]']]);
    expect(warningAcknowledgementId('dlm:fast-restore-quota')).toBe('Annotation::cdk-ebs-backup:dlm:fast-restore-quota');
    for (const family of ['core', 'dlm', 'backup', 'ssm', 'worm', 'orchestration', 'restore', 'checks', 'runbooks', 'baseline']) {
      expect(() => warn(db, `${family}:x1-y2`, 'm')).not.toThrow();
    }
    for (const bad of ['dlm:Fast', 'dlm:fast-', 'dlm:-fast', 'dlm:fast--restore', 'other:fast', 'xdlm:fast', 'dlm:fast:x', 'dlm:fast restore', 'dlm:']) {
      expect([bad, message(bad)]).toEqual([bad, `warning id '${bad}' must be <family>:<name> with family one of `
        + 'core, dlm, backup, ssm, worm, orchestration, restore, checks, runbooks, baseline and a kebab-case name']);
    }
    function message(id: string) {
      return thrown(() => warn(db, id, 'm'))?.message;
    }
  });
});
