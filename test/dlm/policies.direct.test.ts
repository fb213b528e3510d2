/**
 * What DlmSnapshotPolicy and DlmImagePolicy hand CloudFormation, read from the L1 as rendered (no synthesis, no
 * gates: test/dlm/snapshot-policy.test.ts synthesizes the same shapes through every gate) and held
 * to DLM's API reference:
 * - PolicyDetails (API_PolicyDetails): `PolicyType` EBS_SNAPSHOT_MANAGEMENT, `ResourceTypes`
 *   VOLUME or INSTANCE, `ResourceLocations` CLOUD, `Parameters` (ExcludeBootVolume,
 *   ExcludeDataVolumeTags) for instance targets only;
 * - Script (API_Script): `ExecutionHandlerService` AWS_SYSTEMS_MANAGER, `ExecutionTimeout` 10 to
 *   120 seconds (default 10), `MaximumRetryCount` 0 to 3 (default 0), `Stages` PRE and POST
 *   (default both), `ExecuteOperationOnScriptFailure` (default true, only with a PRE stage); for
 *   Windows VSS (`AWS_VSS_BACKUP`) DLM fixes the service, stages and timeout;
 * - CrossRegionCopyRule: `Target` (snapshot policies), `Encrypted` (required), `CmkArn`,
 *   `CopyTags`, `RetainRule`; FastRestoreRule: `AvailabilityZones` with a count or an age;
 *   ShareRule: `TargetAccounts`, `UnshareInterval` + `UnshareIntervalUnit`;
 * - ArchiveRule (API_ArchiveRule, RetentionArchiveTier): a count or an age, at least 90 days in
 *   the archive, on schedules at most monthly (28 days);
 * - default policies (API_PolicyDetails, "Default policies"): `PolicyLanguage` SIMPLIFIED,
 *   `ResourceType`, `CreateInterval` 1 to 7 days (default 1), `RetainInterval` 2 to 14 days
 *   (default 7), `CopyTags` (default true), `ExtendDeletion` (default false), `Exclusions`,
 *   `CrossRegionCopyTargets` (at most 3, `TargetRegion`);
 * - AMI policies: `PolicyType` IMAGE_MANAGEMENT of INSTANCE, `Parameters.NoReboot`, copies naming
 *   the region with `TargetRegion`, DeprecateRule by count (at most the retained) or by age (at
 *   most the retention).
 * - copies of shared snapshots (API_EventSource, API_EventParameters, API_Action,
 *   API_CrossRegionCopyAction): `PolicyType` EVENT_BASED_POLICY, `EventSource` MANAGED_CWE with
 *   `EventType` shareSnapshot, `SnapshotOwner` and `DescriptionRegex`; one action of at most three
 *   `CrossRegionCopy` entries, each `Target`, `EncryptionConfiguration` (`Encrypted` required) and
 *   `RetainRule`.
 */
import { App, Duration, Fn, Lazy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { planOf } from '../../src/core/plan-report';
import { FAST_SNAPSHOT_RESTORE } from '../../src/core/plan-report-pricing';
import { renderedProperties } from '../../src/core/rendered-properties';
import { Retention } from '../../src/core/retention';
import { BackupTagging } from '../../src/core/tagging';
import { DefaultPolicyTarget, DlmDefaultPolicy, DlmDefaultPolicyProps } from '../../src/dlm/default-policy';
import { DlmImagePolicy, DlmImagePolicyProps } from '../../src/dlm/image-policy';
import { ImageSchedule, SnapshotSchedule } from '../../src/dlm/schedule';
import { ScriptFailureAction, ScriptStage, SnapshotScript } from '../../src/dlm/script';
import { DlmSharedSnapshotCopyPolicy, DlmSharedSnapshotCopyPolicyProps } from '../../src/dlm/shared-copy-policy';
import { DlmSnapshotPolicy, DlmSnapshotPolicyProps } from '../../src/dlm/snapshot-policy';
import { SnapshotTarget } from '../../src/dlm/target';
import { AuthorizedCall, evaluateCalls } from '../support/call-replay';
import { renderIntrinsics, unsynthesizedTemplate } from '../support/intrinsics';

/** A stack in its own app, in the account and region the policies are evaluated in. */
const envStack = (name = 'Dlm') => new Stack(new App(), name, { env: { account: '123456789012', region: 'us-east-1' } });
let stack: Stack;
beforeEach(() => {
  stack = envStack();
});

const daily = events.Schedule.cron({ hour: '4', minute: '0' });
const days = (n: number) => Retention.age(Duration.days(n));
const monthly = events.Schedule.cron({ day: '1', hour: '5', minute: '0' });
const volumes = SnapshotTarget.volumes({ tags: { Backup: 'app' } });
const instances = SnapshotTarget.instances({ tags: { Backup: 'app' } });
const nightly = (o: Partial<SnapshotSchedule> = {}): SnapshotSchedule => ({ name: 'nightly', schedule: daily, retain: Retention.count(7), ...o });

function details(props: Partial<DlmSnapshotPolicyProps> & { schedules: SnapshotSchedule[] }): any {
  const policy = new DlmSnapshotPolicy(stack, 'Policy', { purpose: 'app', target: volumes, ...props });
  return renderedProperties(policy.resource).PolicyDetails;
}
const schedule0 = (props: Partial<DlmSnapshotPolicyProps> & { schedules: SnapshotSchedule[] }) => details(props).Schedules[0];
const warnings = () => stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data)));

describe('PolicyDetails', () => {
  test('a volume policy: EBS_SNAPSHOT_MANAGEMENT of VOLUME in the CLOUD, no Parameters', () => {
    const d = details({ schedules: [nightly()] });
    expect([d.PolicyType, d.PolicyLanguage, d.ResourceTypes, d.ResourceLocations, d.TargetTags, d.Parameters])
      .toEqual(['EBS_SNAPSHOT_MANAGEMENT', 'STANDARD', ['VOLUME'], ['CLOUD'], [{ Key: 'Backup', Value: 'app' }], undefined]);
  });

  test('an instance policy: INSTANCE, the boot volume kept unless excluded, tagged data volumes excluded', () => {
    expect(details({ target: instances, schedules: [nightly()] }).Parameters).toEqual({ ExcludeBootVolume: false });
    stack = envStack();
    const d = details({
      target: SnapshotTarget.instances({ tags: { Backup: 'app' }, excludeBootVolume: true, excludeDataVolumeTags: { Scratch: 'yes' } }),
      schedules: [nightly()],
    });
    expect([d.ResourceTypes, d.Parameters]).toEqual([['INSTANCE'], { ExcludeBootVolume: true, ExcludeDataVolumeTags: [{ Key: 'Scratch', Value: 'yes' }] }]);
  });

  test('a schedule: its name, create and retain rules, tags not copied unless asked, the library\'s tags added', () => {
    const s = schedule0({ schedules: [nightly()] });
    expect([s.Name, s.CreateRule, s.RetainRule, s.CopyTags]).toEqual(['nightly', { CronExpression: 'cron(0 4 * * ? *)' }, { Count: 7 }, false]);
    expect(s.TagsToAdd).toContainEqual({ Key: 'backup:purpose', Value: 'app' });
    expect(schedule0Fresh({ schedules: [nightly({ copyTags: true })] }).CopyTags).toBe(true);
  });
});

function schedule0Fresh(props: Partial<DlmSnapshotPolicyProps> & { schedules: SnapshotSchedule[] }) {
  stack = envStack();
  return schedule0(props);
}

describe('Script (pre and post scripts, instance targets only)', () => {
  test('Windows VSS: the handler, retries and failure action only; DLM fixes the rest', () => {
    expect(schedule0({ target: instances, schedules: [nightly({ script: SnapshotScript.windowsVss() })] }).CreateRule.Scripts)
      .toEqual([{ ExecutionHandler: 'AWS_VSS_BACKUP', MaximumRetryCount: 0, ExecuteOperationOnScriptFailure: true }]);
    const skip = SnapshotScript.windowsVss({ maxRetries: 3, onPreScriptFailure: ScriptFailureAction.SKIP_INSTANCE });
    expect(schedule0Fresh({ target: instances, schedules: [nightly({ script: skip })] }).CreateRule.Scripts).toEqual([{ ExecutionHandler: 'AWS_VSS_BACKUP', MaximumRetryCount: 3, ExecuteOperationOnScriptFailure: false }]);
    const crash = SnapshotScript.windowsVss({ onPreScriptFailure: ScriptFailureAction.CRASH_CONSISTENT_SNAPSHOT });
    const [rendered] = schedule0Fresh({ target: instances, schedules: [nightly({ script: crash })] }).CreateRule.Scripts;
    expect(rendered.ExecuteOperationOnScriptFailure).toBe(true);
  });

  test('an SSM document: DLM\'s defaults written out (10 seconds, no retry, PRE and POST, snapshot on failure)', () => {
    const createRule = schedule0({ target: instances, schedules: [nightly({ script: SnapshotScript.ssmDocument('fsfreeze-for-dlm') })] }).CreateRule;
    expect(createRule).toEqual({
      CronExpression: 'cron(0 4 * * ? *)',
      Scripts: [{
        ExecutionHandler: 'fsfreeze-for-dlm',
        ExecutionHandlerService: 'AWS_SYSTEMS_MANAGER',
        ExecutionTimeout: 10,
        MaximumRetryCount: 0,
        Stages: ['PRE', 'POST'],
        ExecuteOperationOnScriptFailure: true,
      }],
    });
  });

  test('an SSM document with its own timeout, retries, stages and failure action', () => {
    const script = SnapshotScript.ssmDocument('arn:aws:ssm:us-east-1:111122223333:document/freeze', {
      timeout: Duration.seconds(120), maxRetries: 2, stages: [ScriptStage.PRE], onPreScriptFailure: ScriptFailureAction.SKIP_INSTANCE,
    });
    expect(schedule0({ target: instances, schedules: [nightly({ script })] }).CreateRule.Scripts).toEqual([{
      ExecutionHandler: 'arn:aws:ssm:us-east-1:111122223333:document/freeze',
      ExecutionHandlerService: 'AWS_SYSTEMS_MANAGER',
      ExecutionTimeout: 120,
      MaximumRetryCount: 2,
      Stages: ['PRE'],
      ExecuteOperationOnScriptFailure: false,
    }]);
  });

  test('a post-only script has no failure action (it applies to the pre script)', () => {
    const script = SnapshotScript.ssmDocument('thaw-doc', { stages: [ScriptStage.POST], timeout: Duration.seconds(10) });
    expect(schedule0({ target: instances, schedules: [nightly({ script })] }).CreateRule.Scripts).toEqual([{
      ExecutionHandler: 'thaw-doc', ExecutionHandlerService: 'AWS_SYSTEMS_MANAGER', ExecutionTimeout: 10, MaximumRetryCount: 0, Stages: ['POST'],
    }]);
  });

  test('SAP HANA: AWS\'s document', () => {
    expect(schedule0({ target: instances, schedules: [nightly({ script: SnapshotScript.sapHana() })] }).CreateRule.Scripts[0].ExecutionHandler)
      .toBe('AWSSystemsManagerSAP-CreateDLMSnapshotForSAPHANA');
  });

  test.each<[string, SnapshotScript, string]>([
    ['a repeated stage', SnapshotScript.ssmDocument('freeze', { stages: [ScriptStage.PRE, ScriptStage.PRE] }),
      'Dlm/Policy: schedules[0].script stages must be PRE, POST or both, each once, got [\'PRE\', \'PRE\'] (2 items)'],
    ['a stage DLM does not have', SnapshotScript.ssmDocument('freeze', { stages: ['DURING' as ScriptStage] }),
      'Dlm/Policy: schedules[0].script stages must be PRE, POST or both, each once'],
    ['a timeout of 10.5 seconds', SnapshotScript.ssmDocument('freeze', { timeout: Duration.millis(10_500) }),
      'Dlm/Policy: schedules[0].script timeout must be a whole number of seconds between 10 and 120'],
    ['a timeout of 121 seconds', SnapshotScript.ssmDocument('freeze', { timeout: Duration.seconds(121) }),
      'Dlm/Policy: schedules[0].script timeout must be a whole number of seconds between 10 and 120, got 2 minutes 1 second'],
    ['a document name of 2 characters', SnapshotScript.ssmDocument('ab'), 'Dlm/Policy: schedules[0].script document must be an SSM document name'],
    ['a document ARN of another service', SnapshotScript.ssmDocument('arn:aws:ec2:us-east-1:111122223333:document/freeze'),
      'Dlm/Policy: schedules[0].script document must be an SSM document name'],
  ])('%s is refused', (_name, script, message) => {
    expect(() => new DlmSnapshotPolicy(stack, 'Policy', { purpose: 'app', target: instances, schedules: [nightly({ script })] })).toThrow(message);
  });

  test('the timeout bounds 10 and 120 seconds are taken; a token timeout is passed as is', () => {
    for (const seconds of [10, 120]) {
      expect(schedule0Fresh({ target: instances, schedules: [nightly({ script: SnapshotScript.ssmDocument('freeze', { timeout: Duration.seconds(seconds) }) })] })
        .CreateRule.Scripts[0].ExecutionTimeout).toBe(seconds);
    }
    const token = Duration.seconds(Lazy.number({ produce: () => 30 }));
    expect(schedule0Fresh({ target: instances, schedules: [nightly({ script: SnapshotScript.ssmDocument('freeze', { timeout: token }) })] })
      .CreateRule.Scripts[0].ExecutionTimeout).toBe(30);
  });
});

describe('copies, fast restore, sharing and the archive tier', () => {
  test('a cross-region copy: Target, encrypted unless told otherwise, its key, tags copied, kept by age', () => {
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:123456789012:key/abc');
    const s = schedule0({
      schedules: [nightly({
        crossRegionCopies: [
          { region: 'eu-west-1', retain: days(30), encryptionKey: key },
          { region: 'eu-west-2', retain: days(7), encrypted: false },
          { region: 'eu-west-3', retain: days(14) },
        ],
      })],
    });
    expect(s.CrossRegionCopyRules).toEqual([
      { Target: 'eu-west-1', Encrypted: true, CmkArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc', CopyTags: true, RetainRule: { Interval: 30, IntervalUnit: 'DAYS' } },
      { Target: 'eu-west-2', Encrypted: false, CopyTags: true, RetainRule: { Interval: 7, IntervalUnit: 'DAYS' } },
      { Target: 'eu-west-3', Encrypted: true, CopyTags: true, RetainRule: { Interval: 14, IntervalUnit: 'DAYS' } },
    ]);
    expect(schedule0Fresh({ schedules: [nightly()] }).CrossRegionCopyRules).toBeUndefined();
  });

  test('fast restore: the zones with the schedule\'s kind of retention; more than 5 snapshots warns about the quota', () => {
    expect(schedule0({ schedules: [nightly({ fastRestore: { availabilityZones: ['us-east-1a', 'us-east-1b'], retain: Retention.count(5) } })] }).FastRestoreRule)
      .toEqual({ AvailabilityZones: ['us-east-1a', 'us-east-1b'], Count: 5 });
    expect(warnings().filter((w) => w.includes('fast restore'))).toEqual([]);
    expect(schedule0Fresh({ schedules: [nightly({ fastRestore: { availabilityZones: ['us-east-1a'], retain: Retention.count(6) } })] }).FastRestoreRule)
      .toEqual({ AvailabilityZones: ['us-east-1a'], Count: 6 });
    expect(warnings().filter((w) => w.includes('fast restore'))).toEqual([
      'Dlm/Policy: schedules[0].fastRestore.retain keeps fast restore on 6 snapshots; the default quota is 5 per region and every snapshot-AZ pair is billed hourly '
      + '[ack: cdk-ebs-backup:dlm:fast-restore-quota]',
    ]);
  });

  test('fast restore: a zone twice, or a retention with a factory problem, is refused by name', () => {
    expect(() => schedule0({ schedules: [nightly({ fastRestore: { availabilityZones: ['us-east-1a', 'us-east-1a'], retain: Retention.count(1) } })] }))
      .toThrow("Dlm/Policy: schedules[0].fastRestore.availabilityZones must not repeat a zone, got ['us-east-1a', 'us-east-1a'] (2 items)");
    expect(() => schedule0Fresh({ schedules: [nightly({ fastRestore: { availabilityZones: ['us-east-1a'], retain: Retention.count(0) } })] }))
      .toThrow('Dlm/Policy: schedules[0].fastRestore.retain Retention.count(...): count must be an integer between 1 and 1000, got 0');
  });

  test('sharing: the accounts, unshared after whole days (or never)', () => {
    expect(schedule0({ schedules: [nightly({ share: { accounts: ['222222222222', '333333333333'], unshareAfter: Duration.days(14) } })] }).ShareRules)
      .toEqual([{ TargetAccounts: ['222222222222', '333333333333'], UnshareInterval: 14, UnshareIntervalUnit: 'DAYS' }]);
    expect(schedule0Fresh({ schedules: [nightly({ share: { accounts: ['222222222222'] } })] }).ShareRules).toEqual([{ TargetAccounts: ['222222222222'] }]);
    expect(() => schedule0Fresh({ schedules: [nightly({ share: { accounts: [] } })] }))
      .toThrow('Dlm/Policy: schedules[0].share.accounts must have between 1 and 50 items');
  });

  test('the archive tier by age: its days; by count: enough snapshots that each stays archive.retain at the schedule\'s shortest gap', () => {
    expect(schedule0({ schedules: [nightly({ schedule: monthly, retain: days(90), archive: { retain: days(365) } })] }).ArchiveRule)
      .toEqual({ RetainRule: { RetentionArchiveTier: { Interval: 365, IntervalUnit: 'DAYS' } } });
    // monthly: the shortest gap is February's 28 days; 365 days need ceil(365 / 28) = 14 snapshots
    expect(schedule0Fresh({ schedules: [nightly({ schedule: monthly, retain: Retention.count(12), archive: { retain: days(365) } })] }).ArchiveRule)
      .toEqual({ RetainRule: { RetentionArchiveTier: { Count: 14 } } });
    // 112 days are exactly 4 shortest gaps: 4 snapshots
    expect(schedule0Fresh({ schedules: [nightly({ schedule: monthly, retain: Retention.count(12), archive: { retain: days(112) } })] }).ArchiveRule)
      .toEqual({ RetainRule: { RetentionArchiveTier: { Count: 4 } } });
  });

  test('the archive tier of a token schedule: a count from 28-day months, or the age as given', () => {
    const token = events.Schedule.expression(Lazy.string({ produce: () => 'cron(0 5 1 * ? *)' }));
    expect(schedule0({ schedules: [nightly({ schedule: token, retain: Retention.count(12), archive: { retain: days(365) } })] }).ArchiveRule)
      .toEqual({ RetainRule: { RetentionArchiveTier: { Count: 14 } } });
    expect(schedule0Fresh({ schedules: [nightly({ schedule: token, retain: days(90), archive: { retain: days(365) } })] }).ArchiveRule)
      .toEqual({ RetainRule: { RetentionArchiveTier: { Interval: 365, IntervalUnit: 'DAYS' } } });
  });
});

describe('DlmSnapshotPolicy: bad input names the path, the prop and the value; the plan; an environment-agnostic stack', () => {
  test.each<[string, Partial<DlmSnapshotPolicyProps> & { schedules: SnapshotSchedule[] }, string]>([
    ['a bad purpose', { purpose: 'a;b', schedules: [nightly()] }, 'Dlm/Policy: purpose must be'],
    ['no target factory', { target: { tags: { Backup: 'app' } } as any, schedules: [nightly()] },
      'Dlm/Policy: target must be SnapshotTarget.instances(...) or SnapshotTarget.volumes(...), got {'],
    ['a bad excluded data volume tag', { target: SnapshotTarget.instances({ tags: { Backup: 'app' }, excludeDataVolumeTags: { 'aws:x': 'y' } }), schedules: [nightly()] },
      'Dlm/Policy: target.excludeDataVolumeTags'],
    ['a zone that is a region', { schedules: [nightly({ fastRestore: { availabilityZones: ['us-east-1'], retain: Retention.count(1) } })] },
      "Dlm/Policy: schedules[0].fastRestore.availabilityZones[0] must be an availability zone name such as us-east-1a, got 'us-east-1'"],
    ['a zone with a prefix', { schedules: [nightly({ fastRestore: { availabilityZones: ['xus-east-1a'], retain: Retention.count(1) } })] },
      'Dlm/Policy: schedules[0].fastRestore.availabilityZones[0] must be an availability zone name'],
    ['a zone with a suffix', { schedules: [nightly({ fastRestore: { availabilityZones: ['us-east-1a1'], retain: Retention.count(1) } })] },
      'Dlm/Policy: schedules[0].fastRestore.availabilityZones[0] must be an availability zone name'],
    ['archiving instances', { target: instances, schedules: [nightly({ schedule: monthly, retain: days(90), archive: { retain: days(365) } })] },
      'Dlm/Policy: schedules[0].archive must be omitted for instance targets (DLM archives snapshots of volume policies only: use SnapshotTarget.volumes()), got \'INSTANCE target\''],
    ['a count in the archive', { schedules: [nightly({ schedule: monthly, retain: days(90), archive: { retain: Retention.count(3) } })] },
      'Dlm/Policy: schedules[0].archive.retain must be Retention.age(Duration.days(n)), not a count: it is the least time each snapshot stays archived; '
      + 'a count-based schedule gets its archive count derived from it'],
    ['more than 1,000 snapshots in the archive', { schedules: [nightly({ schedule: monthly, retain: Retention.count(12), archive: { retain: days(36500) } })] },
      'Dlm/Policy: schedules[0].archive.retain must be an integer between 1 and 1000 snapshots in the archive, got 1304'],
    ['sharing with its own account', { schedules: [nightly({ share: { accounts: ['222222222222', '123456789012'] } })] },
      "Dlm/Policy: schedules[0].share.accounts[1] must be another account than the policy's own, got '123456789012'"],
    ['a script that is no SnapshotScript', { target: instances, schedules: [nightly({ script: { handler: 'x' } as any })] },
      'Dlm/Policy: schedules[0].script must be SnapshotScript.windowsVss(), .sapHana() or .ssmDocument(...), got {'],
    ['an unknown stage', { target: instances, schedules: [nightly({ script: SnapshotScript.ssmDocument('freeze', { stages: ['PRE', 'DURING' as any] }) })] },
      "Dlm/Policy: schedules[0].script stages must be PRE, POST or both, each once, got ['PRE', 'DURING']"],
  ])('refuses %s', (_name, props, message) => {
    expect(() => schedule0Fresh(props)).toThrow(message);
  });

  test('every artefact is declared with the library\'s tags, for the tagging check: each schedule\'s snapshots and their copies; AMIs likewise', () => {
    const policy = new DlmSnapshotPolicy(stack, 'Policy', {
      purpose: 'app', target: volumes, schedules: [nightly({ crossRegionCopies: [{ region: 'eu-west-1', retain: days(30) }] })],
    });
    const declared = (c: Construct) => BackupTagging.artefactSources(c).flatMap((src) => src.artefactTagSets())
      .map((set) => [set.artefact, set.tags['backup:purpose'], set.tags['backup:retention'], set.tags['backup:managed-by']]);
    expect(declared(policy)).toEqual([
      ["snapshots of schedule 'nightly'", 'app', 'count:7', expect.any(String)],
      ["copies of schedule 'nightly' in eu-west-1", 'app', 'count:7', expect.any(String)],
    ]);
    const amis = new DlmImagePolicy(stack, 'Ami', {
      purpose: 'golden', targetTags: { Ami: 'yes' }, schedules: [{ name: 'weekly', schedule: daily, retain: days(30), crossRegionCopies: [{ region: 'eu-west-1', retain: days(7) }] }],
    });
    expect(declared(amis)).toEqual([
      ["AMIs of schedule 'weekly'", 'golden', 'age:30d', expect.any(String)],
      ["AMI copies of schedule 'weekly' in eu-west-1", 'golden', 'age:30d', expect.any(String)],
    ]);
  });

  test('an AWS-owned document may be named by its ARN, which has no account', () => {
    const script = SnapshotScript.ssmDocument('arn:aws:ssm:us-east-1::document/AWSEC2-CreateVssSnapshot');
    expect(schedule0Fresh({ target: instances, schedules: [nightly({ script })] }).CreateRule.Scripts[0].ExecutionHandler).toBe('arn:aws:ssm:us-east-1::document/AWSEC2-CreateVssSnapshot');
  });

  test('the description says EBS snapshots; the plan lists what is selected, the copies, the sharing, the archive and the fast-restore cost', () => {
    const policy = new DlmSnapshotPolicy(stack, 'Policy', {
      purpose: 'app',
      target: volumes,
      schedules: [
        nightly({ crossRegionCopies: [{ region: 'eu-west-1', retain: days(30) }], fastRestore: { availabilityZones: ['us-east-1a', 'us-east-1b'], retain: Retention.count(3) } }),
        nightly({ name: 'monthly', schedule: monthly, retain: days(365), archive: { retain: days(365) }, share: { accounts: ['222222222222'] } }),
      ],
    });
    expect(renderedProperties(policy.resource).Description).toContain('EBS snapshots');
    const [plan] = planOf(policy);
    expect(plan.protections.map((p) => [p.kind, p.mechanism, p.selects, p.retention, p.copies])).toEqual([
      ['DlmSnapshotPolicy', "DLM schedule 'nightly'", 'volumes tagged Backup=app', 'count:7', ['eu-west-1 (age:30d)']],
      ['DlmSnapshotPolicy', "DLM schedule 'monthly'", 'volumes tagged Backup=app', 'age:365d', ['shared with 222222222222', 'archive tier 365 days']],
    ]);
    const fsr = plan.costs.filter((c) => c.item.includes('fast snapshot restore') || c.item.includes("schedule 'nightly'"));
    expect(fsr).toEqual([expect.objectContaining({
      construct: 'Dlm/Policy',
      item: `${FAST_SNAPSHOT_RESTORE.item} × 6 (schedule 'nightly')`,
      units: 6,
      monthlyUsd: Math.round(6 * FAST_SNAPSHOT_RESTORE.monthlyUsd * 100) / 100,
    })]);
    const instancePolicy = new DlmSnapshotPolicy(envStack('Other'), 'Policy', {
      purpose: 'app', target: instances, schedules: [nightly()],
    });
    expect(planOf(instancePolicy)[0].protections[0].selects).toBe('instances tagged Backup=app');
  });

  test('a zone of a region with a three-part name (GovCloud) is taken', () => {
    stack = new Stack(new App(), 'Gov', { env: { account: '123456789012', region: 'us-gov-west-1' } });
    expect(schedule0({ schedules: [nightly({ fastRestore: { availabilityZones: ['us-gov-west-1a'], retain: Retention.count(1) } })] }).FastRestoreRule.AvailabilityZones)
      .toEqual(['us-gov-west-1a']);
  });

  test('in an environment-agnostic stack the zones and the accounts are taken as given (the region and account are known at deployment only)', () => {
    stack = new Stack(new App(), 'Agnostic');
    const s = schedule0({ schedules: [nightly({ fastRestore: { availabilityZones: ['eu-west-1a'], retain: Retention.count(1) }, share: { accounts: ['222222222222'] } })] });
    expect([s.FastRestoreRule.AvailabilityZones, s.ShareRules[0].TargetAccounts]).toEqual([['eu-west-1a'], ['222222222222']]);
  });
});

describe('DlmImagePolicy (IMAGE_MANAGEMENT: API_PolicyDetails, CrossRegionCopyRule TargetRegion, DeprecateRule)', () => {
  const ami = (o: Partial<ImageSchedule> = {}): ImageSchedule => ({ name: 'nightly', schedule: daily, retain: Retention.count(7), ...o });
  function imageDetails(props: Partial<DlmImagePolicyProps> & { schedules: ImageSchedule[] }): any {
    stack = envStack();
    const policy = new DlmImagePolicy(stack, 'Ami', { purpose: 'golden', targetTags: { Ami: 'yes' }, ...props });
    return renderedProperties(policy.resource).PolicyDetails;
  }

  test('AMIs of INSTANCE targets, without reboot unless asked', () => {
    const d = imageDetails({ schedules: [ami()] });
    expect([d.PolicyType, d.PolicyLanguage, d.ResourceTypes, d.ResourceLocations, d.TargetTags, d.Parameters])
      .toEqual(['IMAGE_MANAGEMENT', 'STANDARD', ['INSTANCE'], ['CLOUD'], [{ Key: 'Ami', Value: 'yes' }], { NoReboot: true }]);
    expect(imageDetails({ reboot: true, schedules: [ami()] }).Parameters).toEqual({ NoReboot: false });
    const s = imageDetails({ schedules: [ami({ copyTags: true })] }).Schedules[0];
    expect([s.Name, s.RetainRule, s.CopyTags, s.DeprecateRule]).toEqual(['nightly', { Count: 7 }, true, undefined]);
    expect(imageDetails({ schedules: [ami()] }).Schedules[0].CopyTags).toBe(false);
  });

  test('copies name the region with TargetRegion, encrypted unless told otherwise, with their own deprecation', () => {
    const key = (id: string) => kms.Key.fromKeyArn(stack, id, 'arn:aws:kms:eu-west-1:123456789012:key/abc');
    const d = imageDetails({
      schedules: [ami({
        retain: days(30),
        crossRegionCopies: [
          { region: 'eu-west-1', retain: days(30), deprecateAfter: Duration.days(30) },
          { region: 'eu-west-2', retain: days(7), encrypted: false },
        ],
      })],
    });
    expect(d.Schedules[0].CrossRegionCopyRules).toEqual([
      { TargetRegion: 'eu-west-1', Encrypted: true, CopyTags: true, RetainRule: { Interval: 30, IntervalUnit: 'DAYS' }, DeprecateRule: { Interval: 30, IntervalUnit: 'DAYS' } },
      { TargetRegion: 'eu-west-2', Encrypted: false, CopyTags: true, RetainRule: { Interval: 7, IntervalUnit: 'DAYS' } },
    ]);
    const withKey = imageDetails({ schedules: [ami({ crossRegionCopies: [{ region: 'eu-west-1', retain: days(7), encryptionKey: key('K') }] })] });
    expect(withKey.Schedules[0].CrossRegionCopyRules[0].CmkArn).toBe('arn:aws:kms:eu-west-1:123456789012:key/abc');
    expect(() => imageDetails({ schedules: [ami({ crossRegionCopies: [{ region: 'eu-west-1', retain: days(7), deprecateAfter: Duration.days(8) }] })] }))
      .toThrow("Dlm/Ami: schedules[0].crossRegionCopies[0].deprecateAfter must be at most the copy's retention of 7 days, got 8 days");
  });

  test('bad input names the prop; variable tags are taken (AMIs are of instances); the description and the plan', () => {
    expect(() => imageDetails({ purpose: 'a;b', schedules: [ami()] })).toThrow('Dlm/Ami: purpose must be');
    expect(() => imageDetails({ targetTags: {}, schedules: [ami()] })).toThrow('Dlm/Ami: targetTags must');
    expect(imageDetails({ schedules: [ami({ variableTags: { instance: '$(instance-id)' } })] }).Schedules[0].VariableTags)
      .toEqual([{ Key: 'instance', Value: '$(instance-id)' }]);
    stack = envStack();
    const policy = new DlmImagePolicy(stack, 'Ami', {
      purpose: 'golden', targetTags: { Ami: 'yes' }, schedules: [ami({ retain: days(30), crossRegionCopies: [{ region: 'eu-west-1', retain: days(7) }] })],
    });
    expect(renderedProperties(policy.resource).Description).toContain('EBS-backed AMIs');
    expect(planOf(policy)[0].protections.map((p) => [p.kind, p.mechanism, p.selects, p.retention, p.copies])).toEqual([
      ['DlmImagePolicy', "DLM AMI schedule 'nightly'", 'instances tagged Ami=yes', 'age:30d', ['eu-west-1 (age:7d)']],
    ]);
  });

  test('deprecation follows the retention: the n oldest of a count, or an age up to the retention', () => {
    expect(imageDetails({ schedules: [ami({ deprecate: Retention.count(7) })] }).Schedules[0].DeprecateRule).toEqual({ Count: 7 });
    expect(imageDetails({ schedules: [ami({ retain: days(30), deprecate: days(30) })] }).Schedules[0].DeprecateRule)
      .toEqual({ Interval: 30, IntervalUnit: 'DAYS' });
    expect(() => imageDetails({ schedules: [ami({ retain: days(30), deprecate: Retention.count(3) })] }))
      .toThrow('Dlm/Ami: schedules[0].deprecate must be Retention.age(...) for an age-based schedule (DLM deprecates each AMI after a period)');
    expect(() => imageDetails({ schedules: [ami({ deprecate: Retention.count(0) })] }))
      .toThrow('Dlm/Ami: schedules[0].deprecate Retention.count(...): count must be an integer between 1 and 1000, got 0');
  });
});

describe('DlmDefaultPolicy (the account\'s safety net: SIMPLIFIED PolicyDetails)', () => {
  function defaultDetails(props: Partial<DlmDefaultPolicyProps> & { target: DefaultPolicyTarget }): any {
    stack = envStack();
    const policy = new DlmDefaultPolicy(stack, 'Default', { purpose: 'net', ...props });
    return renderedProperties(policy.resource);
  }

  test('volumes: daily, kept 7 days, the source\'s tags copied, no extended deletion, nothing excluded', () => {
    const p = defaultDetails({ target: DefaultPolicyTarget.volumes() });
    expect([p.DefaultPolicy, p.PolicyDetails]).toEqual(['VOLUME', {
      PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
      PolicyLanguage: 'SIMPLIFIED',
      ResourceType: 'VOLUME',
      CreateInterval: 1,
      RetainInterval: 7,
      CopyTags: true,
      ExtendDeletion: false,
    }]);
  });

  test('instances: AMIs, its own intervals, copies to other regions, instances excluded by tag', () => {
    const p = defaultDetails({
      target: DefaultPolicyTarget.instances({ excludeTags: { Scratch: 'yes' } }),
      createEvery: Duration.days(7),
      retain: days(14),
      copyTags: false,
      extendDeletion: true,
      copyRegions: ['eu-west-1', 'eu-west-2'],
    });
    expect([p.DefaultPolicy, p.PolicyDetails]).toEqual(['INSTANCE', {
      PolicyType: 'IMAGE_MANAGEMENT',
      PolicyLanguage: 'SIMPLIFIED',
      ResourceType: 'INSTANCE',
      CreateInterval: 7,
      RetainInterval: 14,
      CopyTags: false,
      ExtendDeletion: true,
      Exclusions: { ExcludeTags: [{ Key: 'Scratch', Value: 'yes' }] },
      CrossRegionCopyTargets: [{ TargetRegion: 'eu-west-1' }, { TargetRegion: 'eu-west-2' }],
    }]);
  });

  test('volumes: boot volumes excluded', () => {
    expect(defaultDetails({ target: DefaultPolicyTarget.volumes({ excludeBootVolumes: true }) }).PolicyDetails.Exclusions)
      .toEqual({ ExcludeBootVolumes: true });
  });

  test('the retention must outlast the creation interval: 2 days after 1 is taken, 7 after 7 is not', () => {
    expect(defaultDetails({ target: DefaultPolicyTarget.volumes(), retain: days(2) }).PolicyDetails.RetainInterval).toBe(2);
    expect(() => defaultDetails({ target: DefaultPolicyTarget.volumes(), createEvery: Duration.days(7), retain: days(7) }))
      .toThrow('Dlm/Default: retain must be longer than createEvery (7 days), so that a backup always exists, got 7 days');
  });
});

describe('DlmDefaultPolicy: exclusions, copies, bad input, description and plan', () => {
  const make = (props: Partial<DlmDefaultPolicyProps> & { target: DefaultPolicyTarget }) => {
    const policyStack = envStack();
    return new DlmDefaultPolicy(policyStack, 'Default', { purpose: 'net', ...props });
  };

  test('volume types are excluded as DLM\'s list of strings (an Fn::Split, see the source), with the boot volumes left as given', () => {
    const policy = make({ target: DefaultPolicyTarget.volumes({ excludeVolumeTypes: [ec2.EbsDeviceVolumeType.ST1, ec2.EbsDeviceVolumeType.SC1] }) });
    const exclusions = renderedProperties(policy.resource).PolicyDetails.Exclusions;
    expect(exclusions).toEqual({ ExcludeVolumeTypes: { 'Fn::Split': [',', 'st1,sc1'] } });
    expect(renderIntrinsics(exclusions)).toEqual({ ExcludeVolumeTypes: ['st1', 'sc1'] });
    expect(renderedProperties(make({ target: DefaultPolicyTarget.volumes() }).resource).PolicyDetails.Exclusions).toBeUndefined();
  });

  test.each<[string, Partial<DlmDefaultPolicyProps> & { target: DefaultPolicyTarget }, string]>([
    ['a bad purpose', { purpose: 'a#b', target: DefaultPolicyTarget.volumes() }, 'Dlm/Default: purpose must be a tag value'],
    ['no target factory', { target: { resourceType: 'VOLUME' } as any },
      'Dlm/Default: target must be DefaultPolicyTarget.volumes(...) or DefaultPolicyTarget.instances(...), got {'],
    ['exclusion tags on volumes', { target: DefaultPolicyTarget.volumes({ excludeTags: { Scratch: 'yes' } } as any) },
      'Dlm/Default: target.excludeTags must be omitted for a volume default policy: DLM applies exclusion tags to instance default policies only ' +
      '(in a custom instance policy, excludeDataVolumeTags excludes single data volumes), got {"Scratch":"yes"}'],
    ['an unknown volume type', { target: DefaultPolicyTarget.volumes({ excludeVolumeTypes: ['gp9' as any] }) }, 'Dlm/Default: target.excludeVolumeTypes[0] must be one of'],
    ['boot volumes on instances', { target: DefaultPolicyTarget.instances({ excludeBootVolumes: true } as any) },
      'Dlm/Default: target.excludeBootVolumes must be omitted for an instance default policy (DLM applies them to volume default policies only), got true'],
    ['volume types on instances', { target: DefaultPolicyTarget.instances({ excludeVolumeTypes: [ec2.EbsDeviceVolumeType.ST1] } as any) },
      "Dlm/Default: target.excludeVolumeTypes must be omitted for an instance default policy (DLM applies them to volume default policies only), got ['st1']"],
    ['a bad exclusion tag', { target: DefaultPolicyTarget.instances({ excludeTags: { 'aws:x': 'y' } }) }, 'Dlm/Default: target.excludeTags'],
    ['a copy to its own region', { target: DefaultPolicyTarget.volumes(), copyRegions: ['eu-west-1', 'us-east-1'] },
      "Dlm/Default: copyRegions[1] must differ from the policy's own region us-east-1, got 'us-east-1'"],
    ['a region that is none', { target: DefaultPolicyTarget.volumes(), copyRegions: ['mars-1'] }, 'Dlm/Default: copyRegions[0] must be'],
  ])('refuses %s, naming the path, the prop and the value', (_name, props, message) => {
    expect(() => make(props)).toThrow(message);
  });

  test('the retention is checked against the creation interval as given: 3 days after 2 is taken', () => {
    const taken = make({ target: DefaultPolicyTarget.volumes(), createEvery: Duration.days(2), retain: days(3) });
    expect(renderedProperties(taken.resource).PolicyDetails.RetainInterval).toBe(3);
    expect(() => make({ target: DefaultPolicyTarget.volumes(), createEvery: Duration.days(3), retain: days(2) }))
      .toThrow('Dlm/Default: retain must be longer than createEvery (3 days), so that a backup always exists, got 2 days');
  });

  test('the description says which default policy it is; the plan says what it catches, how often, for how long, and where it copies', () => {
    expect(renderedProperties(make({ target: DefaultPolicyTarget.volumes() }).resource).Description).toContain('default snapshot policy');
    const amis = make({ target: DefaultPolicyTarget.instances(), createEvery: Duration.days(2), retain: days(10), copyRegions: ['eu-west-1'] });
    expect(renderedProperties(amis.resource).Description).toContain('default AMI policy');
    expect(planOf(amis)[0].protections).toEqual([expect.objectContaining({
      kind: 'DlmDefaultPolicy',
      mechanism: 'DLM default policy (safety net)',
      selects: 'every instance no other policy backed up recently',
      schedule: 'every 2 days',
      retention: 'age:10d',
      copies: ['eu-west-1'],
    })]);
    expect(planOf(make({ target: DefaultPolicyTarget.volumes() }))[0].protections).toEqual([expect.objectContaining({
      selects: 'every volume no other policy backed up recently', schedule: 'every 1 day', retention: 'age:7d', copies: [],
    })]);
  });
});

describe('copies of shared snapshots', () => {
  const archive = () => new Stack(new App(), 'Archive', { env: { account: '222222222222', region: 'us-east-1' } });
  const shared = (props: Partial<DlmSharedSnapshotCopyPolicyProps> = {}, in_ = archive()) => {
    const policy = new DlmSharedSnapshotCopyPolicy(in_, 'Copy', {
      purpose: 'archive', sourceAccounts: ['111111111111'], copies: [{ region: 'us-west-2', retain: days(90) }], ...props,
    });
    return { policy, props: renderedProperties(policy.resource), stack: in_ };
  };
  // DLM writes "Created for policy: <policy id> schedule: <schedule name>" into the description of
  // every snapshot a policy creates ("Automate cross-account snapshot copies", DLM User Guide,
  // whose example DescriptionRegex is ^.*Created for policy: policy-1234567890abcdef0.*$)
  const descriptionOf = (policyId: string) => `Created for policy: ${policyId} schedule: nightly`;

  test('an event-based policy: a copy of each snapshot the source accounts share, on arrival, encrypted by default', () => {
    const { props } = shared({ sourceAccounts: ['111111111111', '333333333333'] });
    expect(props.PolicyDetails).toEqual({
      PolicyType: 'EVENT_BASED_POLICY',
      EventSource: { Type: 'MANAGED_CWE', Parameters: { EventType: 'shareSnapshot', SnapshotOwner: ['111111111111', '333333333333'] } },
      Actions: [{
        Name: 'copy-shared-snapshots',
        CrossRegionCopy: [{ Target: 'us-west-2', EncryptionConfiguration: { Encrypted: true }, RetainRule: { Interval: 90, IntervalUnit: 'DAYS' } }],
      }],
    });
    expect(props.State).toBe('ENABLED');
    expect(props.Description).toMatch(/^[0-9A-Za-z _-]+$/);
  });

  test('up to three copies, each with its key, retention and encryption', () => {
    const s = archive();
    const key = kms.Key.fromKeyArn(s, 'Key', 'arn:aws:kms:us-east-1:222222222222:key/99999999-2222-3333-4444-555555555555');
    const { props } = shared({
      copies: [
        { region: 'us-east-1', retain: days(365), encryptionKey: key },
        { region: 'us-west-2', retain: days(30), encrypted: false },
        { region: 'eu-west-1', retain: Retention.age(Duration.days(14)) },
      ],
    }, s);
    expect(props.PolicyDetails.Actions[0].CrossRegionCopy).toEqual([
      { Target: 'us-east-1', EncryptionConfiguration: { Encrypted: true, CmkArn: key.keyArn }, RetainRule: { Interval: 365, IntervalUnit: 'DAYS' } },
      { Target: 'us-west-2', EncryptionConfiguration: { Encrypted: false }, RetainRule: { Interval: 30, IntervalUnit: 'DAYS' } },
      { Target: 'eu-west-1', EncryptionConfiguration: { Encrypted: true }, RetainRule: { Interval: 14, IntervalUnit: 'DAYS' } },
    ]);
  });

  test('source policy ids make a DescriptionRegex that takes their snapshots and no other policy\'s', () => {
    const regex = shared({ sourcePolicyIds: ['policy-0123456789abcdef0', 'policy-0fedcba9876543210'] }).props.PolicyDetails.EventSource.Parameters.DescriptionRegex;
    const matches = (description: string) => new RegExp(regex).test(description);
    expect([
      matches(descriptionOf('policy-0123456789abcdef0')),
      matches(descriptionOf('policy-0fedcba9876543210')),
      matches(descriptionOf('policy-0aaaaaaaaaaaaaaaa')),
      matches('Copied for DestinationAmi ami-0123 from SourceAmi ami-0456'),
      matches(''),
    ]).toEqual([true, true, false, false, false]);
  });

  test('a DescriptionRegex of its own is passed as given; without either filter every shared snapshot is copied', () => {
    expect(shared({ descriptionRegex: '^nightly-.*$' }).props.PolicyDetails.EventSource.Parameters.DescriptionRegex).toBe('^nightly-.*$');
    expect(shared().props.PolicyDetails.EventSource.Parameters.DescriptionRegex).toBeUndefined();
  });

  test.each<[string, Partial<DlmSharedSnapshotCopyPolicyProps>, string]>([
    ['no source account', { sourceAccounts: [] }, 'Archive/Copy: sourceAccounts must have between 1 and 50 items'],
    ['a source account that is not an account id', { sourceAccounts: ['11111111111'] }, "sourceAccounts[0] must be a 12-digit AWS account id, got '11111111111'"],
    ['its own account second', { sourceAccounts: ['111111111111', '222222222222'] }, "sourceAccounts[1] must be another account than the archive account's own, got '222222222222'"],
    ['four copies', { copies: ['us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2'].map((region) => ({ region, retain: days(30) })) }, 'copies must have between 1 and 3 items'],
    ['a region twice', { copies: [{ region: 'us-west-2', retain: days(30) }, { region: 'us-west-2', retain: days(60) }] }, "copies[1].region must not repeat another copy's region, got 'us-west-2'"],
    ['a misspelt region', { copies: [{ region: 'us-west', retain: days(30) }] }, "copies[0].region must be an AWS region name such as eu-west-1, got 'us-west'"],
    ['a copy kept by count', { copies: [{ region: 'us-west-2', retain: Retention.count(3) }] }, 'copies[0].retain'],
    ['no encryption with a key', {
      copies: [{ region: 'us-west-2', retain: days(30), encrypted: false, encryptionKey: kms.Key.fromKeyArn(new Stack(), 'K', 'arn:aws:kms:us-west-2:222222222222:key/1') }],
    }, 'copies[0].encrypted must not be false when an encryptionKey is given'],
    ['both filters', { sourcePolicyIds: ['policy-0123456789abcdef0'], descriptionRegex: '.*' }, 'descriptionRegex must be omitted when sourcePolicyIds is given'],
    ['an empty list of policy ids', { sourcePolicyIds: [] }, 'sourcePolicyIds must have between 1 and 50 items'],
    ['a policy id of another shape', { sourcePolicyIds: ['policy-0123', 'pol-1'] }, "sourcePolicyIds[1] must be a DLM policy id such as policy-0123456789abcdef0, got 'pol-1'"],
    ['a policy id with a prefix', { sourcePolicyIds: ['my-policy-0123'] }, "sourcePolicyIds[0] must be a DLM policy id such as policy-0123456789abcdef0, got 'my-policy-0123'"],
    ['a policy id with a suffix', { sourcePolicyIds: ['policy-0123-old'] }, "sourcePolicyIds[0] must be a DLM policy id such as policy-0123456789abcdef0, got 'policy-0123-old'"],
    ['an empty regex', { descriptionRegex: '' }, 'descriptionRegex must be between 1 and 1000 characters long'],
    ['a bad purpose', { purpose: 'a#b' }, 'purpose must be a tag value'],
  ])('refuses %s, naming the prop', (_name, props, message) => {
    expect(() => shared(props)).toThrow(message);
  });

  test('the description says what the policy copies', () => {
    expect(shared().props.Description).toContain('copies of shared snapshots');
  });

  test('the plan names the sources and the copies', () => {
    const { policy } = shared({ sourceAccounts: ['111111111111', '333333333333'], copies: [{ region: 'us-west-2', retain: days(90) }, { region: 'eu-west-1', retain: days(30) }] });
    expect(planOf(policy)[0].protections).toEqual([expect.objectContaining({
      construct: 'Archive/Copy',
      kind: 'DlmSharedSnapshotCopyPolicy',
      mechanism: 'DLM copy of shared snapshots',
      selects: 'snapshots shared by 111111111111, 333333333333',
      schedule: 'on arrival',
      copies: ['us-west-2 (age:90d)', 'eu-west-1 (age:30d)'],
    })]);
  });
});

/**
 * What each feature asks of the execution role, evaluated as DLM's calls against the role's
 * identity policies (test/support/call-replay: the IAM policy evaluator, the template resolved
 * without synthesis). The calls are the ones DLM's service role policies name for each feature
 * (AWSDataLifecycleManagerServiceRole, ...ForAMIManagement; "Automate cross-account snapshot
 * copies": EventBridge rules named AwsDataLifecycleRule.managed-cwe.*).
 */
describe('the execution role allows each call a feature makes DLM do, and no more', () => {
  const SNAPSHOT = (region: string) => `arn:aws:ec2:${region}::snapshot/snap-0123456789abcdef0`;
  const IMAGE = (region: string) => `arn:aws:ec2:${region}::image/ami-0123456789abcdef0`;
  const INSTANCE = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0';
  const VOLUME = 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0';
  const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/abc';
  const SOURCE_KEY = 'arn:aws:kms:us-east-1:111111111111:key/source';

  async function outcomes(of: Stack, calls: AuthorizedCall[]): Promise<Record<string, string>> {
    const template = unsynthesizedTemplate(of);
    const [roleId] = Object.entries<any>(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id);
    const results = await evaluateCalls(template, roleId, calls);
    return Object.fromEntries(results.map((r) => [r.state, r.result]));
  }
  const call = (state: string, action: string, resource: string, extra: Partial<AuthorizedCall> = {}): AuthorizedCall =>
    ({ state, action, resource, ...extra });

  test('snapshots of volumes, copied with a key, on fast restore, shared, archived', async () => {
    const key = kms.Key.fromKeyArn(stack, 'Key', KEY);
    details({
      schedules: [
        nightly({ crossRegionCopies: [{ region: 'eu-west-1', retain: days(30), encryptionKey: key }], fastRestore: { availabilityZones: ['us-east-1a'], retain: Retention.count(1) } }),
        nightly({ name: 'monthly', schedule: monthly, retain: days(365), archive: { retain: days(365) }, share: { accounts: ['222222222222'] } }),
      ],
    });
    const shareWith = (account: string) => ({ context: { 'ec2:Add/userId': [account] } });
    expect(await outcomes(stack, [
      call('create', 'ec2:CreateSnapshot', VOLUME),
      call('create-snapshot', 'ec2:CreateSnapshot', SNAPSHOT('us-east-1')),
      call('expire', 'ec2:DeleteSnapshot', SNAPSHOT('us-east-1')),
      call('copy', 'ec2:CopySnapshot', SNAPSHOT('eu-west-1')),
      call('expire-copy', 'ec2:DeleteSnapshot', SNAPSHOT('eu-west-1')),
      call('expire-elsewhere', 'ec2:DeleteSnapshot', SNAPSHOT('eu-west-2')),
      call('encrypt-copy', 'kms:GenerateDataKeyWithoutPlaintext', KEY),
      call('grant-ebs', 'kms:CreateGrant', KEY, { context: { 'kms:GrantIsForAWSResource': 'true' } }),
      call('grant-anyone', 'kms:CreateGrant', KEY, { context: { 'kms:GrantIsForAWSResource': 'false' } }),
      call('fast-restore', 'ec2:EnableFastSnapshotRestores', SNAPSHOT('us-east-1')),
      call('fast-restore-off', 'ec2:DisableFastSnapshotRestores', SNAPSHOT('us-east-1')),
      call('share', 'ec2:ModifySnapshotAttribute', SNAPSHOT('us-east-1'), shareWith('222222222222')),
      call('share-other', 'ec2:ModifySnapshotAttribute', SNAPSHOT('us-east-1'), shareWith('444444444444')),
      call('archive', 'ec2:ModifySnapshotTier', SNAPSHOT('us-east-1')),
      call('script', 'ssm:SendCommand', INSTANCE, { resourceTags: { Backup: 'app' } }),
    ])).toEqual({
      'create': 'Allowed',
      'create-snapshot': 'Allowed',
      'expire': 'Allowed',
      'copy': 'Allowed',
      'expire-copy': 'Allowed',
      'expire-elsewhere': 'ImplicitlyDenied',
      'encrypt-copy': 'Allowed',
      'grant-ebs': 'Allowed',
      'grant-anyone': 'ImplicitlyDenied',
      'fast-restore': 'Allowed',
      'fast-restore-off': 'Allowed',
      'share': 'Allowed',
      'share-other': 'ImplicitlyDenied',
      'archive': 'Allowed',
      'script': 'ImplicitlyDenied',
    });
  });

  test('a plain volume policy: no copy, fast restore, sharing, archive or key', async () => {
    details({ schedules: [nightly()] });
    expect(await outcomes(stack, [
      call('create', 'ec2:CreateSnapshot', VOLUME),
      call('copy', 'ec2:CopySnapshot', SNAPSHOT('eu-west-1')),
      call('fast-restore', 'ec2:EnableFastSnapshotRestores', SNAPSHOT('us-east-1')),
      call('share', 'ec2:ModifySnapshotAttribute', SNAPSHOT('us-east-1'), { context: { 'ec2:Add/userId': ['222222222222'] } }),
      call('archive', 'ec2:ModifySnapshotTier', SNAPSHOT('us-east-1')),
    ])).toEqual({ 'create': 'Allowed', 'copy': 'ImplicitlyDenied', 'fast-restore': 'ImplicitlyDenied', 'share': 'ImplicitlyDenied', 'archive': 'ImplicitlyDenied' });
  });

  test('scripts: the document (AWS\'s own for VSS and SAP HANA, the account\'s for any other) on the tagged instances only', async () => {
    details({
      target: instances,
      schedules: [nightly({ script: SnapshotScript.windowsVss() }), nightly({ name: 'hana', script: SnapshotScript.sapHana() }), nightly({ name: 'own', script: SnapshotScript.ssmDocument('fsfreeze-for-dlm') })],
    });
    expect(await outcomes(stack, [
      call('vss', 'ssm:SendCommand', 'arn:aws:ssm:us-east-1::document/AWSEC2-CreateVssSnapshot'),
      call('hana', 'ssm:SendCommand', `arn:aws:ssm:us-east-1::document/${SnapshotScript.SAP_HANA_DOCUMENT}`),
      call('own', 'ssm:SendCommand', 'arn:aws:ssm:us-east-1:123456789012:document/fsfreeze-for-dlm'),
      call('own-elsewhere', 'ssm:SendCommand', 'arn:aws:ssm:us-east-1:111122223333:document/fsfreeze-for-dlm'),
      call('tagged', 'ssm:SendCommand', INSTANCE, { resourceTags: { Backup: 'app' } }),
      call('untagged', 'ssm:SendCommand', INSTANCE, { resourceTags: { Backup: 'other' } }),
      call('status', 'ssm:GetCommandInvocation', '*'),
    ])).toEqual({
      'vss': 'Allowed', 'hana': 'Allowed', 'own': 'Allowed', 'own-elsewhere': 'ImplicitlyDenied', 'tagged': 'Allowed', 'untagged': 'ImplicitlyDenied', 'status': 'Allowed',
    });
  });

  test('AMIs: created, copied with a key and expired in the copy\'s region', async () => {
    const policyStack = envStack();
    new DlmImagePolicy(policyStack, 'Ami', {
      purpose: 'golden',
      targetTags: { Ami: 'yes' },
      schedules: [{ name: 'nightly', schedule: daily, retain: days(30), crossRegionCopies: [{ region: 'eu-west-1', retain: days(7), encryptionKey: kms.Key.fromKeyArn(policyStack, 'Key', KEY) }] }],
    });
    expect(await outcomes(policyStack, [
      call('create', 'ec2:CreateImage', INSTANCE),
      call('copy', 'ec2:CopyImage', IMAGE('eu-west-1')),
      call('deregister-copy', 'ec2:DeregisterImage', IMAGE('eu-west-1')),
      call('deregister-elsewhere', 'ec2:DeregisterImage', IMAGE('eu-west-2')),
      call('expire-copy-snapshot', 'ec2:DeleteSnapshot', SNAPSHOT('eu-west-1')),
      call('grant-ebs', 'kms:CreateGrant', KEY, { context: { 'kms:GrantIsForAWSResource': 'true' } }),
      call('snapshot-policy', 'ec2:CreateSnapshot', VOLUME),
    ])).toEqual({
      'create': 'Allowed',
      'copy': 'Allowed',
      'deregister-copy': 'Allowed',
      'deregister-elsewhere': 'ImplicitlyDenied',
      'expire-copy-snapshot': 'Allowed',
      'grant-ebs': 'Allowed',
      'snapshot-policy': 'ImplicitlyDenied',
    });
  });

  test('default policies: snapshots or AMIs, copied and expired in the copy regions only', async () => {
    const of = (target: DefaultPolicyTarget) => {
      const policyStack = envStack();
      new DlmDefaultPolicy(policyStack, 'Default', { purpose: 'net', target, copyRegions: ['eu-west-1'] });
      return policyStack;
    };
    const calls = [
      call('snapshot', 'ec2:CreateSnapshot', VOLUME),
      call('copy-snapshot', 'ec2:CopySnapshot', SNAPSHOT('eu-west-1')),
      call('expire-snapshot-copy', 'ec2:DeleteSnapshot', SNAPSHOT('eu-west-1')),
      call('copy-snapshot-elsewhere', 'ec2:CopySnapshot', SNAPSHOT('eu-west-2')),
      call('image', 'ec2:CreateImage', INSTANCE),
      call('copy-image', 'ec2:CopyImage', IMAGE('eu-west-1')),
      call('expire-image-copy', 'ec2:DeregisterImage', IMAGE('eu-west-1')),
    ];
    expect(await outcomes(of(DefaultPolicyTarget.volumes()), calls)).toEqual({
      'snapshot': 'Allowed',
      'copy-snapshot': 'Allowed',
      'expire-snapshot-copy': 'Allowed',
      'copy-snapshot-elsewhere': 'ImplicitlyDenied',
      'image': 'ImplicitlyDenied',
      'copy-image': 'ImplicitlyDenied',
      'expire-image-copy': 'ImplicitlyDenied',
    });
    expect(await outcomes(of(DefaultPolicyTarget.instances()), calls)).toEqual({
      // CopyImage copies the AMI's snapshots under its own authorization; expiring the copy deletes them
      'snapshot': 'ImplicitlyDenied',
      'copy-snapshot': 'ImplicitlyDenied',
      'expire-snapshot-copy': 'Allowed',
      'copy-snapshot-elsewhere': 'ImplicitlyDenied',
      'image': 'Allowed',
      'copy-image': 'Allowed',
      'expire-image-copy': 'Allowed',
    });
  });

  test('a copy region known only at deployment: the copy and its expiry are allowed in any region', async () => {
    const region = () => Fn.importValue('CopyRegion');
    const snapshotCalls = [call('copy', 'ec2:CopySnapshot', SNAPSHOT('ap-south-1')), call('expire', 'ec2:DeleteSnapshot', SNAPSHOT('ap-south-1'))];
    const imageCalls = [call('copy', 'ec2:CopyImage', IMAGE('ap-south-1')), call('expire', 'ec2:DeregisterImage', IMAGE('ap-south-1'))];
    const both = { copy: 'Allowed', expire: 'Allowed' };
    details({ schedules: [nightly({ crossRegionCopies: [{ region: region(), retain: days(30) }] })] });
    expect(await outcomes(stack, snapshotCalls)).toEqual(both);
    const amiStack = envStack();
    new DlmImagePolicy(amiStack, 'Ami', { purpose: 'golden', targetTags: { Ami: 'yes' }, schedules: [{ name: 'n', schedule: daily, retain: days(30), crossRegionCopies: [{ region: region(), retain: days(7) }] }] });
    expect(await outcomes(amiStack, imageCalls)).toEqual(both);
    for (const [target, calls] of [[DefaultPolicyTarget.volumes(), snapshotCalls], [DefaultPolicyTarget.instances(), imageCalls]] as const) {
      const defaultStack = envStack();
      new DlmDefaultPolicy(defaultStack, 'Default', { purpose: 'net', target, copyRegions: [region()] });
      expect(await outcomes(defaultStack, calls)).toEqual(both);
    }
    const copyStack = envStack('Archive');
    new DlmSharedSnapshotCopyPolicy(copyStack, 'Copy', { purpose: 'archive', sourceAccounts: ['111111111111'], copies: [{ region: region(), retain: days(90) }] });
    expect(await outcomes(copyStack, snapshotCalls)).toEqual(both);
  });

  test('copies of shared snapshots: DLM\'s own EventBridge rule, the copy to each region, the source key', async () => {
    const archiveStack = envStack('Archive');
    new DlmSharedSnapshotCopyPolicy(archiveStack, 'Copy', {
      purpose: 'archive',
      sourceAccounts: ['111111111111'],
      copies: [{ region: 'us-west-2', retain: days(90), encryptionKey: kms.Key.fromKeyArn(archiveStack, 'Key', KEY) }, { region: 'eu-west-1', retain: days(90) }],
      sourceKeys: [kms.Key.fromKeyArn(archiveStack, 'SourceKey', SOURCE_KEY)],
    });
    expect(await outcomes(archiveStack, [
      call('rule', 'events:PutRule', 'arn:aws:events:us-east-1:123456789012:rule/AwsDataLifecycleRule.managed-cwe.abc'),
      call('other-rule', 'events:PutRule', 'arn:aws:events:us-east-1:123456789012:rule/other'),
      call('copy-west', 'ec2:CopySnapshot', SNAPSHOT('us-west-2')),
      call('copy-eu', 'ec2:CopySnapshot', SNAPSHOT('eu-west-1')),
      call('expire-eu', 'ec2:DeleteSnapshot', SNAPSHOT('eu-west-1')),
      call('grant-ebs', 'kms:CreateGrant', KEY, { context: { 'kms:GrantIsForAWSResource': 'true' } }),
      call('decrypt-source', 'kms:Decrypt', SOURCE_KEY),
      call('decrypt-other', 'kms:Decrypt', 'arn:aws:kms:us-east-1:111111111111:key/other'),
    ])).toEqual({
      'rule': 'Allowed',
      'other-rule': 'ImplicitlyDenied',
      'copy-west': 'Allowed',
      'copy-eu': 'Allowed',
      'expire-eu': 'Allowed',
      'grant-ebs': 'Allowed',
      'decrypt-source': 'Allowed',
      'decrypt-other': 'ImplicitlyDenied',
    });
  });
});
