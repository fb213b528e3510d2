import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import {
  checkAccountId, checkCount, checkDuration, checkInteger, checkOneOf, checkPattern, checkRegion, checkTags, describe as show,
} from '../../src/core/validation';

let stack: Stack;
beforeEach(() => {
  stack = new Stack(new App(), 'Db');
});

describe('one error style', () => {
  test.each<[string, () => void, string]>([
    ['integer range', () => checkInteger(stack, 'schedules[0].retain.count', 0, 1, 1000), 'Db: schedules[0].retain.count must be an integer between 1 and 1000, got 0'],
    ['duration range', () => checkDuration(stack, 'changeableFor', Duration.days(1), Duration.days(3), Duration.days(36500)), 'Db: changeableFor must be between 3 days and 36500 days, got 1 day'],
    ['pattern', () => checkPattern(stack, 'name', 'a b', /^\w+$/, 'letters only'), "Db: name must be letters only, got 'a b'"],
    ['one of', () => checkOneOf(stack, 'mode', 'x', ['a', 'b']), "Db: mode must be one of 'a', 'b', got 'x'"],
    ['count', () => checkCount(stack, 'schedules', [1, 2, 3, 4, 5], 1, 4), 'Db: schedules must have between 1 and 4 items, got [1, 2, 3, 4, 5] (5 items)'],
    ['account', () => checkAccountId(stack, 'shareWith[0]', '1234'), "Db: shareWith[0] must be a 12-digit AWS account id, got '1234'"],
    ['region', () => checkRegion(stack, 'region', 'Ireland'), "Db: region must be an AWS region name such as eu-west-1, got 'Ireland'"],
    ['reserved tag key', () => checkTags(stack, 'tags', { 'aws:x': 'y' }), "Db: tags key must not start with 'aws:' (reserved by AWS), got 'aws:x'"],
  ])('%s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('tokens are skipped, never crashed on', () => {
    const n = Token.asNumber(Fn.importValue('N'));
    const s = Fn.importValue('S');
    expect(() => checkInteger(stack, 'count', n, 1, 10)).not.toThrow();
    expect(() => checkDuration(stack, 'd', Duration.days(n), Duration.days(3), Duration.days(9))).not.toThrow();
    expect(() => checkPattern(stack, 'p', s, /^x$/, 'x')).not.toThrow();
    expect(() => checkRegion(stack, 'r', s)).not.toThrow();
    expect(() => checkCount(stack, 'l', Fn.split(',', s), 2, 3)).not.toThrow();
    expect(() => checkTags(stack, 't', { [s]: 'v' })).not.toThrow();
  });

  test('values are rendered readably', () => {
    expect(show(Duration.hours(36))).toEqual('1 day 12 hours');
    expect(show({ a: 1 })).toEqual('{"a":1}');
  });
});
