/**
 * The event-pattern matcher against the examples of the EventBridge User Guide: "Comparison
 * operators for use in event patterns in Amazon EventBridge" (eb-create-pattern-operators) and
 * "Arrays in Amazon EventBridge event patterns" (eb-event-patterns-arrays).
 */
import { matchesPattern } from './event-pattern';

const ec2Event = {
  'source': 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  'time': '2017-10-02T18:43:48Z',
  'region': 'us-west-1',
  'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'],
  'detail': { 'instance-id': 'i-b188560f', 'state': 'pending', 'FileName': 'photo.png' },
};

test.each<[string, Record<string, unknown>, boolean]>([
  ['exact value in a nested object', { detail: { state: ['pending'] } }, true],
  ['exact value: one of several', { detail: { state: ['running', 'pending'] } }, true],
  ['exact value: none of them', { detail: { state: ['running'] } }, false],
  ['AND across fields', { 'source': ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] }, true],
  ['AND fails on one field', { source: ['aws.ec2'], region: ['us-east-1'] }, false],
  ['a field the event lacks', { detail: { 'c-count': ['5'] } }, false],
  ['begins with', { time: [{ prefix: '2017-10-02' }] }, true],
  ['begins with: other', { region: [{ prefix: 'eu-' }] }, false],
  ['ends with', { detail: { FileName: [{ suffix: '.png' }] } }, true],
  ['ends with: other', { detail: { FileName: [{ suffix: '.jpg' }] } }, false],
  ['anything-but a value', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
  ['anything-but a list that holds the value', { detail: { state: [{ 'anything-but': ['stopped', 'pending'] }] } }, false],
  ['anything-but begins with', { region: [{ 'anything-but': { prefix: 'us-' } }] }, false],
  ['anything-but ends with', { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } }, false],
  ['exists: false on an absent field', { detail: { 'c-count': [{ exists: false }] } }, true],
  ['exists: true on a present field', { detail: { state: [{ exists: true }] } }, true],
  ['exists: true on an absent field', { detail: { 'c-count': [{ exists: true }] } }, false],
  ['wildcard', { resources: [{ wildcard: 'arn:aws:ec2:*:instance/i-*' }] }, true],
  ['wildcard: other', { resources: [{ wildcard: 'arn:aws:s3:::*' }] }, false],
  ['an array in the event matches when any element does', { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] }, true],
  ['$or: one alternative matches', { $or: [{ source: ['aws.s3'] }, { detail: { state: ['pending'] } }] }, true],
  ['$or: none matches', { $or: [{ source: ['aws.s3'] }, { detail: { state: ['running'] } }] }, false],
  ['$or inside a nested object', { detail: { $or: [{ state: ['running'] }, { 'instance-id': ['i-b188560f'] }] } }, true],
])('%s', (_name, pattern, expected) => {
  expect(matchesPattern(pattern, ec2Event)).toBe(expected);
});
