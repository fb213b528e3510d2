import { Duration, Fn, Token } from 'aws-cdk-lib';
import { Retention } from '../../src';

describe('Retention', () => {
  test('count and age derive the retention tag value', () => {
    expect(Retention.count(14).toTagValue()).toEqual('count:14');
    expect(Retention.age(Duration.days(30)).toTagValue()).toEqual('age:30d');
    expect(Retention.age(Duration.days(30)).maxAge?.toDays()).toEqual(30);
  });

  test.each<[string, () => Retention, string]>([
    ['zero count', () => Retention.count(0), 'Retention.count: count must be an integer between 1 and 1000, got 0'],
    ['too many', () => Retention.count(1001), 'got 1001'],
    ['fractional', () => Retention.count(1.5), 'got 1.5'],
    ['hours', () => Retention.age(Duration.hours(5)), 'must be a whole number of days between 1 and 36500 (100 years), got 5 hours'],
    ['over 100 years', () => Retention.age(Duration.days(36501)), 'got 36501 days'],
  ])('rejects %s in the factory', (_n, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('tokens pass the factory and give a generic tag value', () => {
    const n = Token.asNumber(Fn.importValue('Count'));
    expect(Retention.count(n).toTagValue()).toEqual('count');
  });

  // the bounds themselves (mutation testing found them untested): DLM allows 1-1000 snapshots
  test.each([[1, true], [1000, true], [1001, false], [0, false]])('count %d is accepted: %s', (count, ok) => {
    const make = () => Retention.count(count);
    if (ok) {
      expect(make().toTagValue()).toEqual(`count:${count}`);
    } else {
      expect(make).toThrow(/count/);
    }
  });

  test.each([
    [Duration.days(1), 'age:1d'], [Duration.days(36500), 'age:36500d'], [Duration.hours(24), 'age:1d'],
  ])('age %s is accepted', (age, tag) => {
    expect(Retention.age(age).toTagValue()).toEqual(tag);
  });

  test.each([[Duration.days(0)], [Duration.days(36501)], [Duration.hours(36)], [Duration.hours(12)]])('age %s is rejected', (age) => {
    expect(() => Retention.age(age)).toThrow(/Retention.age: age must be a whole number of days between 1 and 36500/);
  });

  test('an age known only at deploy time is not validated and tags as plain age', () => {
    const age = Duration.days(Token.asNumber(Fn.ref('Days')));
    expect(Retention.age(age).toTagValue()).toEqual('age');
  });
});
