import { App, CfnParameter, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { DlmSnapshotPolicy, Retention, SnapshotTarget } from '../../src';

/** A policy in stack 'Db' at path 'Db/Snapshots' whose only schedule keeps `retain`. */
function policyKeeping(retain: Retention): DlmSnapshotPolicy {
  const stack = new Stack(new App(), 'Db', { env: { account: '123456789012', region: 'us-east-1' } });
  return new DlmSnapshotPolicy(stack, 'Snapshots', {
    purpose: 'db',
    target: SnapshotTarget.volumes({ tags: { Backup: 'db' } }),
    schedules: [{ name: 'nightly', schedule: events.Schedule.cron({ hour: '3', minute: '0' }), retain }],
  });
}

describe('Retention', () => {
  test('count and age derive the retention tag value', () => {
    expect(Retention.count(14).toTagValue()).toEqual('count:14');
    expect(Retention.age(Duration.days(30)).toTagValue()).toEqual('age:30d');
    expect(Retention.age(Duration.days(30)).maxAge?.toDays()).toEqual(30);
  });

  // The factory cannot know where its value goes: the construct that uses it reports the problem
  // with its path and the prop the user wrote.
  test.each<[string, () => Retention, string]>([
    ['zero count', () => Retention.count(0), 'Db/Snapshots: schedules[0].retain Retention.count(...): count must be an integer between 1 and 1000, got 0'],
    ['too many', () => Retention.count(1001), 'got 1001'],
    ['fractional', () => Retention.count(1.5), 'got 1.5'],
    ['hours', () => Retention.age(Duration.hours(5)),
      'Db/Snapshots: schedules[0].retain Retention.age(...): age must be a whole number of days between 1 and 36500 (100 years), got 5 hours'],
    ['over 100 years', () => Retention.age(Duration.days(36501)), 'got 36501 days'],
  ])('a %s is reported by the construct that uses it, with its path and prop', (_n, make, message) => {
    expect(() => policyKeeping(make())).toThrow(message);
  });

  test('a bad retention nobody consumed still fails when rendered, naming the factory', () => {
    expect(() => Retention.count(0).toTagValue()).toThrow('Retention.count: count must be an integer between 1 and 1000, got 0');
  });

  // the bounds themselves (mutation testing found them untested): DLM allows 1-1000 snapshots
  test.each([[1, true], [1000, true], [1001, false], [0, false]])('count %d is accepted: %s', (count, ok) => {
    const make = () => policyKeeping(Retention.count(count));
    if (ok) {
      expect(make).not.toThrow();
      expect(Retention.count(count).toTagValue()).toEqual(`count:${count}`);
    } else {
      expect(make).toThrow(/schedules\[0\]\.retain Retention\.count\(\.\.\.\): count must be/);
    }
  });

  test.each([
    [Duration.days(1), 'age:1d'], [Duration.days(36500), 'age:36500d'], [Duration.hours(24), 'age:1d'],
  ])('age %s is accepted', (age, tag) => {
    expect(Retention.age(age).toTagValue()).toEqual(tag);
  });

  test.each([[Duration.days(0)], [Duration.days(36501)], [Duration.hours(36)], [Duration.hours(12)]])('age %s is rejected', (age) => {
    expect(() => policyKeeping(Retention.age(age))).toThrow(/schedules\[0\]\.retain Retention\.age\(\.\.\.\): age must be a whole number of days between 1 and 36500/);
  });

  // A token never degrades the tag: the number is joined into it at deploy time.
  test('a count known only at deploy time is joined into the tag value at deploy time', () => {
    const stack = new Stack();
    const n = new CfnParameter(stack, 'Count', { type: 'Number' }).valueAsNumber;
    expect(stack.resolve(Retention.count(n).toTagValue())).toEqual({ 'Fn::Join': ['', ['count:', { Ref: 'Count' }]] });
  });

  test('an age in days known only at deploy time is joined into the tag value at deploy time', () => {
    const stack = new Stack();
    const age = Duration.days(Token.asNumber(Fn.ref('Days')));
    expect(stack.resolve(Retention.age(age).toTagValue())).toEqual({ 'Fn::Join': ['', ['age:', { Ref: 'Days' }, 'd']] });
  });

  // the brief's rule for bad input: the error names the fix, not only the requirement
  test.each<[string, () => Retention, string]>([
    ['count', () => Retention.count(0),
      'Db/Snapshots: schedules[0].retain Retention.count(...): count must be an integer between 1 and 1000, got 0; keep between 1 and 1000 artefacts, or use Retention.age(Duration.days(n)) to keep them by age'],
    ['age', () => Retention.age(Duration.days(0)),
      'Db/Snapshots: schedules[0].retain Retention.age(...): age must be a whole number of days between 1 and 36500 (100 years), got 0 days; pass Duration.days(n) with 1 <= n <= 36500'],
  ])('a bad %s is an error naming the fix', (_n, make, message) => {
    expect(() => policyKeeping(make())).toThrow(message);
  });

  // jsii languages and plain JavaScript can pass a number where a Duration is expected; it must be
  // the construct's error naming the fix, not a TypeError from calling toDays on a number
  test.each([30, '30d', undefined])('an age of %p (not a Duration) is an error naming the prop and the fix', (age) => {
    expect(() => policyKeeping(Retention.age(age as unknown as Duration))).toThrow(
      /^Db\/Snapshots: schedules\[0\]\.retain Retention\.age\(\.\.\.\): age must be a Duration(, got .+)?; pass Duration\.days\(n\)$/);
  });

  test('an age token in another unit than days is an error naming the prop and the fix', () => {
    const age = Duration.hours(Token.asNumber(Fn.ref('Hours')));
    expect(() => policyKeeping(Retention.age(age))).toThrow(
      'Db/Snapshots: schedules[0].retain Retention.age(...): age must be given in days when it is a token (the services and the retention tag count whole days), got a token; pass Duration.days(token)');
  });
});
