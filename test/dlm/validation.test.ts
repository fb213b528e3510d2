import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  DefaultPolicyTarget, DlmDefaultPolicy, DlmPolicyBase, DlmImagePolicy, DlmSharedSnapshotCopyPolicy, DlmSnapshotPolicy, DlmSnapshotPolicyProps,
  Retention, ScriptStage, SnapshotScript, SnapshotTarget, SnapshotSchedule,
} from '../../src';
import { createCheckedApp, createTestStack } from '../support';

const cron = (fields: events.CronOptions) => events.Schedule.cron(fields);
const daily = cron({ hour: '4', minute: '0' });
const monthly = cron({ day: '1', hour: '5', minute: '0' });
const volumes = SnapshotTarget.volumes({ tags: { Backup: 'app' } });
const instances = SnapshotTarget.instances({ tags: { Backup: 'app' } });
const base: SnapshotSchedule = { name: 'nightly', schedule: daily, retain: Retention.count(7) };

function snapshotPolicy(stack: Stack, schedule: Partial<SnapshotSchedule>, props: Partial<DlmSnapshotPolicyProps> = {}) {
  return new DlmSnapshotPolicy(stack, 'Policy', {
    purpose: 'app', target: volumes, schedules: [{ ...base, ...schedule }], ...props,
  });
}

type Row = [string, (stack: Stack) => unknown, string];

const rows: Row[] = [
  // schedules
  ['no schedule', (s) => snapshotPolicy(s, {}, { schedules: [] }), 'schedules must have between 1 and 4 items, got [] (0 items)'],
  ['five schedules', (s) => snapshotPolicy(s, {}, { schedules: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ ...base, name })) }),
    'schedules must have between 1 and 4 items'],
  ['a duplicate schedule name', (s) => snapshotPolicy(s, {}, { schedules: [base, base] }), "schedules[1].name must be unique in the policy, got 'nightly'"],
  ['a schedule name with a dot', (s) => snapshotPolicy(s, { name: 'v1.2' }), 'schedules[0].name must be made of the characters 0-9 A-Z a-z _ - and space'],
  ['a schedule name over 120 characters', (s) => snapshotPolicy(s, { name: 'x'.repeat(121) }), 'schedules[0].name must be between 1 and 120 characters long'],
  ['a 5-hour rate', (s) => snapshotPolicy(s, { schedule: events.Schedule.rate(Duration.hours(5)) }),
    "schedules[0].schedule must be a rate of 1, 2, 3, 4, 6, 8, 12, 24 hours (DLM's intervals) or a cron expression, got 'rate(5 hours)'"],
  ['a 30-minute rate', (s) => snapshotPolicy(s, { schedule: events.Schedule.rate(Duration.minutes(30)) }), "got 'rate(30 minutes)'"],
  ['a 2-day rate', (s) => snapshotPolicy(s, { schedule: events.Schedule.rate(Duration.days(2)) }), "got 'rate(2 days)'"],
  ['a cron every 15 minutes', (s) => snapshotPolicy(s, { schedule: cron({ minute: '0/15' }) }),
    "schedules[0].schedule must fire at most once an hour (DLM allows intervals between 1 hour and 1 year), got 'cron(0/15 * * * ? *) (every 15 minutes)'"],
  ['a cron only on 29 February', (s) => snapshotPolicy(s, { schedule: cron({ month: '2', day: '29', hour: '0', minute: '0' }) }),
    'must fire at least once a year'],
  ['a cron with both day fields', (s) => snapshotPolicy(s, { schedule: events.Schedule.expression('cron(0 4 1 * MON *)') }),
    "must have '?' in exactly one of the day-of-month and day-of-week fields"],
  ['a cron with 5 fields', (s) => snapshotPolicy(s, { schedule: events.Schedule.expression('cron(0 4 * * ?)') }), 'must be a cron expression with 6 fields'],
  ['a start time on a cron schedule', (s) => snapshotPolicy(s, { startTime: '03:00' }), 'schedules[0].startTime must be omitted for a cron schedule'],
  ['a start time of 25:00', (s) => snapshotPolicy(s, { schedule: events.Schedule.rate(Duration.hours(24)), startTime: '25:00' }),
    "schedules[0].startTime must be a UTC time hh:mm such as 03:00, got '25:00'"],
  ['a retention that is not a Retention', (s) => snapshotPolicy(s, { retain: { maxCount: 3 } as any }),
    'schedules[0].retain must be Retention.count(...) or Retention.age(...)'],
  // target and tags
  ['no target tags', (s) => snapshotPolicy(s, {}, { target: SnapshotTarget.volumes({ tags: {} }) }), 'target.tags must have between 1 and 50 items'],
  ['51 target tags', (s) => snapshotPolicy(s, {}, { target: SnapshotTarget.volumes({ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }) }),
    'target.tags must have between 1 and 50 items'],
  ['a target tag key over 128 characters', (s) => snapshotPolicy(s, {}, { target: SnapshotTarget.volumes({ tags: { ['k'.repeat(129)]: 'v' } }) }),
    'target.tags key must be between 1 and 128 characters long'],
  ['a tag value over 256 characters', (s) => snapshotPolicy(s, { tags: { Team: 'v'.repeat(257) } }),
    "schedules[0].tags['Team'] must be between 0 and 256 characters long"],
  ['a tag key starting with aws:', (s) => snapshotPolicy(s, { tags: { 'aws:owner': 'me' } }), "schedules[0].tags key must not start with 'aws:' (reserved by AWS)"],
  ['43 tags to add', (s) => snapshotPolicy(s, { tags: Object.fromEntries(Array.from({ length: 43 }, (_, i) => [`k${i}`, 'v'])) }),
    "schedules[0].tags must have at most 42 tags (DLM adds at most 45, 3 of them the library's), got 43"],
  ['a tag overriding the library purpose tag', (s) => snapshotPolicy(s, { tags: { 'backup:purpose': 'other' } }),
    "schedules[0].tags must not set the library's tag 'backup:purpose'"],
  ['variable tags on a volume target', (s) => snapshotPolicy(s, { variableTags: { id: '$(instance-id)' } }),
    'schedules[0].variableTags must be omitted for volume targets'],
  ['an unknown variable tag value', (s) => snapshotPolicy(s, { variableTags: { id: '$(volume-id)' } }, { target: instances }),
    "schedules[0].variableTags['id'] must be one of '$(instance-id)', '$(timestamp)', got '$(volume-id)'"],
  ['a purpose with a semicolon', (s) => snapshotPolicy(s, {}, { purpose: 'a;b' }), 'purpose must be a tag value of letters'],
  ['a description with a dot', (s) => snapshotPolicy(s, {}, { description: 'nightly v1.0' }),
    "description must be made of the characters 0-9 A-Z a-z _ - and space, got 'nightly v1.0'"],
  // copies
  ['four copy regions', (s) => snapshotPolicy(s, {
    crossRegionCopies: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'].map((region) => ({ region, retain: Retention.age(Duration.days(7)) })),
  }), 'schedules[0].crossRegionCopies must have at most 3 items'],
  ['a misspelt region', (s) => snapshotPolicy(s, { crossRegionCopies: [{ region: 'eu-west', retain: Retention.age(Duration.days(7)) }] }),
    "schedules[0].crossRegionCopies[0].region must be an AWS region name such as eu-west-1, got 'eu-west'"],
  ['a copy to the policy region', (s) => snapshotPolicy(s, { crossRegionCopies: [{ region: 'us-east-1', retain: Retention.age(Duration.days(7)) }] }),
    "must differ from the policy's own region us-east-1"],
  ['a count-based copy retention', (s) => snapshotPolicy(s, { crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.count(7) }] }),
    "schedules[0].crossRegionCopies[0].retain must be Retention.age(...) (DLM keeps cross-region copies by age only), got 'Retention.count(7)'; keep copies by age"],
  ['a copy key in another region', (s) => snapshotPolicy(s, {
    crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(7)), encryptionKey: kms.Key.fromKeyArn(s, 'K', 'arn:aws:kms:us-west-2:123456789012:key/abc') }],
  }), "schedules[0].crossRegionCopies[0].encryptionKey must be a key in the copy's region eu-west-1 (KMS keys are regional), got 'us-west-2'"],
  // share
  ['an 11-digit account', (s) => snapshotPolicy(s, { share: { accounts: ['12345678901'] } }),
    "schedules[0].share.accounts[0] must be a 12-digit AWS account id, got '12345678901'"],
  ['sharing with the own account', (s) => snapshotPolicy(s, { share: { accounts: ['123456789012'] } }), "must be another account than the policy's own"],
  ['unsharing after 12 hours', (s) => snapshotPolicy(s, { share: { accounts: ['222222222222'], unshareAfter: Duration.hours(12) } }),
    'schedules[0].share.unshareAfter must be a whole number of days, got 12 hours'],
  // fast restore
  ['fast restore in 11 zones', (s) => snapshotPolicy(s, { fastRestore: { availabilityZones: 'abcdefghijk'.split('').map((z) => `us-east-1${z}`), retain: Retention.count(1) } }),
    'schedules[0].fastRestore.availabilityZones must have between 1 and 10 items'],
  ['fast restore in another region', (s) => snapshotPolicy(s, { fastRestore: { availabilityZones: ['eu-west-1a'], retain: Retention.count(1) } }),
    "schedules[0].fastRestore.availabilityZones[0] must be in the policy's region us-east-1, got 'eu-west-1a'"],
  ['fast restore in a region, not a zone', (s) => snapshotPolicy(s, { fastRestore: { availabilityZones: ['us-east-1'], retain: Retention.count(1) } }),
    'must be an availability zone name such as us-east-1a'],
  // archive
  ['archiving an instance policy', (s) => snapshotPolicy(s, { schedule: monthly, archive: { retain: Retention.age(Duration.days(365)) } }, { target: instances }),
    'schedules[0].archive must be omitted for instance targets'],
  ['archiving a daily schedule', (s) => snapshotPolicy(s, { archive: { retain: Retention.age(Duration.days(365)) } }),
    "schedules[0].schedule must create snapshots at most every 28 days to archive them (DLM ArchiveRule), got 'cron(0 4 * * ? *) (every 1 day)'"],
  ['archiving a weekly schedule', (s) => snapshotPolicy(s, { schedule: cron({ weekDay: 'MON', hour: '1', minute: '0' }), archive: { retain: Retention.age(Duration.days(365)) } }),
    'every 7 days'],
  ['archiving a rate schedule', (s) => snapshotPolicy(s, { schedule: events.Schedule.rate(Duration.hours(24)), archive: { retain: Retention.age(Duration.days(365)) } }),
    'must create snapshots at most every 28 days'],
  ['60 days in the archive', (s) => snapshotPolicy(s, { schedule: monthly, archive: { retain: Retention.age(Duration.days(60)) } }),
    'schedules[0].archive.retain must be a whole number of days between 90 and 36500, got 60 days'],
  // scripts
  ['a script on a volume target', (s) => snapshotPolicy(s, { script: SnapshotScript.windowsVss() }), 'schedules[0].script must be omitted for volume targets'],
  ['a 5-second script timeout', (s) => snapshotPolicy(s, { script: SnapshotScript.ssmDocument('freeze', { timeout: Duration.seconds(5) }) }, { target: instances }),
    'schedules[0].script timeout must be a whole number of seconds between 10 and 120, got 5 seconds'],
  ['a 3-minute script timeout', (s) => snapshotPolicy(s, { script: SnapshotScript.ssmDocument('freeze', { timeout: Duration.minutes(3) }) }, { target: instances }),
    'got 3 minutes'],
  ['4 script retries', (s) => snapshotPolicy(s, { script: SnapshotScript.windowsVss({ maxRetries: 4 }) }, { target: instances }),
    'schedules[0].script maxRetries must be an integer between 0 and 3, got 4'],
  ['a failure action without a pre stage', (s) => snapshotPolicy(s, {
    script: SnapshotScript.ssmDocument('thaw', { stages: [ScriptStage.POST], onPreScriptFailure: 'SKIP_INSTANCE' as any }),
  }, { target: instances }), 'schedules[0].script onPreScriptFailure must be omitted without a PRE stage'],
  ['no script stage', (s) => snapshotPolicy(s, { script: SnapshotScript.ssmDocument('freeze', { stages: [] }) }, { target: instances }),
    'schedules[0].script stages must have between 1 and 2 items'],
  ['a bad document name', (s) => snapshotPolicy(s, { script: SnapshotScript.ssmDocument('my doc!') }, { target: instances }),
    "schedules[0].script document must be an SSM document name (3-128 of a-z A-Z 0-9 _ - .) or document ARN, got 'my doc!'"],
  // AMI policies
  ['AMI deprecation of more AMIs than retained', (s) => new DlmImagePolicy(s, 'Ami', {
    purpose: 'golden', targetTags: { Ami: 'yes' }, schedules: [{ ...base, deprecate: Retention.count(8) }],
  }), 'schedules[0].deprecate must deprecate at most the 7 AMIs the schedule retains, got 8'],
  ['AMI deprecation by age on a count schedule', (s) => new DlmImagePolicy(s, 'Ami', {
    purpose: 'golden', targetTags: { Ami: 'yes' }, schedules: [{ ...base, deprecate: Retention.age(Duration.days(3)) }],
  }), 'schedules[0].deprecate must be Retention.count(...) for a count-based schedule'],
  ['AMI deprecation after the retention', (s) => new DlmImagePolicy(s, 'Ami', {
    purpose: 'golden', targetTags: { Ami: 'yes' }, schedules: [{ ...base, retain: Retention.age(Duration.days(30)), deprecate: Retention.age(Duration.days(31)) }],
  }), "schedules[0].deprecate must be at most the schedule's retention of 30 days, got 31 days"],
  ['AMI copy deprecation beyond 10 years', (s) => new DlmImagePolicy(s, 'Ami', {
    purpose: 'golden',
    targetTags: { Ami: 'yes' },
    schedules: [{ ...base, crossRegionCopies: [{ region: 'eu-west-1', retain: Retention.age(Duration.days(5000)), deprecateAfter: Duration.days(3651) }] }],
  }), 'schedules[0].crossRegionCopies[0].deprecateAfter must be a whole number of days between 1 and 3650, got 3651 days'],
  // default policies
  ['a default policy created every 8 days', (s) => new DlmDefaultPolicy(s, 'Default', {
    purpose: 'safety-net', target: DefaultPolicyTarget.volumes(), createEvery: Duration.days(8),
  }), 'createEvery must be a whole number of days between 1 and 7, got 8 days'],
  ['a default policy kept 15 days', (s) => new DlmDefaultPolicy(s, 'Default', {
    purpose: 'safety-net', target: DefaultPolicyTarget.volumes(), retain: Retention.age(Duration.days(15)),
  }), 'TestStack/Default: retain must be a whole number of days between 2 and 14'],
  ['a default policy kept by count', (s) => new DlmDefaultPolicy(s, 'Default', {
    purpose: 'safety-net', target: DefaultPolicyTarget.volumes(), retain: Retention.count(7),
  }), "TestStack/Default: retain must be Retention.age(Duration.days(n)), not a count: a DLM default policy keeps backups by age only (RetainInterval), got 'count:7'"],
  ['an archive kept by count', (s) => snapshotPolicy(s, { schedule: monthly, archive: { retain: Retention.count(12) } }),
    'schedules[0].archive.retain must be Retention.age(Duration.days(n)), not a count'],
  ['a default policy kept no longer than its interval', (s) => new DlmDefaultPolicy(s, 'Default', {
    purpose: 'safety-net', target: DefaultPolicyTarget.volumes(), createEvery: Duration.days(3), retain: Retention.age(Duration.days(3)),
  }), 'retain must be longer than createEvery (3 days), so that a backup always exists, got 3 days'],
  ['exclusion tags on a volume default policy', (s) => new DlmDefaultPolicy(s, 'Default', {
    purpose: 'safety-net', target: DefaultPolicyTarget.volumes({ excludeTags: { Scratch: 'true' } } as any),
  }), 'target.excludeTags must be omitted for a volume default policy'],
  ['boot volume exclusion on an instance default policy', (s) => new DlmDefaultPolicy(s, 'Default', {
    purpose: 'safety-net', target: DefaultPolicyTarget.instances({ excludeBootVolumes: true } as any),
  }), 'target.excludeBootVolumes must be omitted for an instance default policy'],
  ['seven excluded volume types', (s) => new DlmDefaultPolicy(s, 'Default', {
    purpose: 'safety-net', target: DefaultPolicyTarget.volumes({ excludeVolumeTypes: Object.values(ec2.EbsDeviceVolumeType) }),
  }), 'target.excludeVolumeTypes must have at most 6 items'],
  ['four default copy regions', (s) => new DlmDefaultPolicy(s, 'Default', {
    purpose: 'safety-net', target: DefaultPolicyTarget.volumes(), copyRegions: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1'],
  }), 'copyRegions must have at most 3 items'],
  ['a second volume default policy', (s) => {
    new DlmDefaultPolicy(s, 'First', { purpose: 'safety-net', target: DefaultPolicyTarget.volumes() });
    new DlmDefaultPolicy(s, 'Second', { purpose: 'safety-net', target: DefaultPolicyTarget.volumes() });
  }, "TestStack/Second: target must not repeat the VOLUME default policy TestStack/First (DLM allows one per resource type and region), got 'VOLUME'"],
  // the archive account's event-based policy
  ['a copy policy without copies', (s) => new DlmSharedSnapshotCopyPolicy(s, 'Copy', { purpose: 'archive', sourceAccounts: ['111111111111'], copies: [] }),
    'copies must have between 1 and 3 items'],
  ['a copy policy for its own account', (s) => new DlmSharedSnapshotCopyPolicy(s, 'Copy', {
    purpose: 'archive', sourceAccounts: ['123456789012'], copies: [{ region: 'us-east-1', retain: Retention.age(Duration.days(90)) }],
  }), "sourceAccounts[0] must be another account than the archive account's own"],
  ['a copy policy with both filters', (s) => new DlmSharedSnapshotCopyPolicy(s, 'Copy', {
    purpose: 'archive',
    sourceAccounts: ['111111111111'],
    copies: [{ region: 'us-east-1', retain: Retention.age(Duration.days(90)) }],
    sourcePolicyIds: ['policy-0123456789abcdef0'],
    descriptionRegex: '.*',
  }), 'descriptionRegex must be omitted when sourcePolicyIds is given'],
  ['a malformed source policy id', (s) => new DlmSharedSnapshotCopyPolicy(s, 'Copy', {
    purpose: 'archive',
    sourceAccounts: ['111111111111'],
    copies: [{ region: 'us-east-1', retain: Retention.age(Duration.days(90)) }],
    sourcePolicyIds: ['0123456789abcdef0'],
  }), "sourcePolicyIds[0] must be a DLM policy id such as policy-0123456789abcdef0, got '0123456789abcdef0'"],
  // imports
  ['an imported policy ARN of another service', (s) => DlmPolicyBase.fromPolicyArn(s, 'Imported', 'arn:aws:ec2:us-east-1:123456789012:policy/policy-1'),
    "Imported policyArn must be a DLM policy ARN such as arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0, got 'arn:aws:ec2"],
];

describe('every bad input is rejected at synthesis with the property and the allowed range', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp({ rules: false });
    stack = createTestStack(app);
  });

  test('the table covers at least 25 cases', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
  });

  test.each(rows)('%s', (_name, build, fragment) => {
    let error: Error | undefined;
    try {
      build(stack);
    } catch (e) {
      error = e as Error;
    }
    // THEN the library's error (never a TypeError), naming the construct and the property
    expect(error?.name).toEqual('EbsBackupValidationError');
    expect(error?.message).toContain(fragment);
    expect(error?.message).toMatch(/^TestStack[/:]/);
  });
});

test('existing policies are imported by id or ARN', () => {
  const stack = createTestStack(createCheckedApp({ rules: false }));
  const byArn = DlmPolicyBase.fromPolicyArn(stack, 'ByArn', 'arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0');
  expect(byArn.policyId).toEqual('policy-0123456789abcdef0');
  const byId = DlmPolicyBase.fromPolicyId(stack, 'ById', 'policy-0123456789abcdef0');
  expect(stack.resolve(byId.policyArn)).toEqual({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0']],
  });
});
