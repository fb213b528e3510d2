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
});
