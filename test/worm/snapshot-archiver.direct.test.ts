/**
 * SnapshotArchiver (src/worm/snapshot-archiver.ts) built on a bare stack and read without
 * synthesis (a synthesis runs the CloudFormation Validate engine: tens of seconds a mutant). The
 * real archive handler runs with the environment the construct gives its function, on a mocked
 * EC2 client, and every call it makes (DescribeSnapshots, DescribeVolumes, ModifySnapshotTier,
 * CreateTags) is replayed against the function's role with the IAM policy evaluator
 * (test/support/call-replay): the construct, its handler and its role must agree. This file is
 * what the mutation module `worm-snapshot-archiver` runs; snapshot-archiver.test.ts synthesizes
 * through the gates and snapshot-archiver.handler.test.ts holds the handler's own cases.
 */
import {
  CreateTagsCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client, ModifySnapshotTierCommand, Snapshot,
} from '@aws-sdk/client-ec2';
import { App, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { archiveOrphans, DEFAULT_BUDGET_MS, settingsFromEnv } from '../../lambda/worm/archive';
import { wildcardFindings } from '../../src/core/acknowledge';
import { handlerAsset } from '../../src/core/job-function';
import { isMachinery } from '../../src/core/machinery';
import { BackupTagging } from '../../src/core/tagging';
import { SnapshotArchiver, SnapshotArchiverProps } from '../../src/worm/snapshot-archiver';
import { replayHandlerCalls } from '../support/call-replay';
import { renderIntrinsics, TEST_ACCOUNT, TEST_REGION, unsynthesizedTemplate } from '../support/intrinsics';

const ENV = { account: TEST_ACCOUNT, region: TEST_REGION };
const NOW = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const ec2 = mockClient(EC2Client);

interface Built {
  readonly stack: Stack;
  readonly archiver: SnapshotArchiver;
  readonly template: any;
  readonly functionId: string;
  readonly environment: Record<string, string>;
  readonly props: (construct: { node: { defaultChild?: unknown } }) => any;
}

function build(props?: SnapshotArchiverProps, configure?: (app: App) => void, context?: Record<string, string>): Built {
  const app = new App({ context });
  configure?.(app);
  const stack = new Stack(app, 'Records', { env: ENV });
  const archiver = new SnapshotArchiver(stack, 'Archiver', props);
  const template = unsynthesizedTemplate(stack);
  const id = (c: { node: { defaultChild?: unknown } }) => stack.resolve((c.node.defaultChild as any).logicalId);
  const functionId = id(archiver.function);
  return {
    stack,
    archiver,
    template,
    functionId,
    environment: renderIntrinsics(template.Resources[functionId].Properties.Environment.Variables, { template }),
    props: (c) => template.Resources[id(c)].Properties,
  };
}

/** One account: snapshots (with tags) and the volumes that still exist. */
interface World {
  readonly snapshots: Array<{ id: string; volume: string; ageDays: number; tags: Record<string, string> }>;
  readonly volumes: string[];
}

/** Run the real handler with the function's environment against `world`; the calls it made, replayed against the role. */
async function runAndReplay(b: Built, world: World) {
  ec2.reset();
  const records: Snapshot[] = world.snapshots.map((s) => ({
    SnapshotId: s.id,
    VolumeId: s.volume,
    StartTime: new Date(NOW.getTime() - s.ageDays * DAY),
    State: 'completed',
    Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
  }));
  // EC2 answers the handler's filters: the tag it selects by (tag-key, or tag:<key> with values)
  ec2.on(DescribeSnapshotsCommand).callsFake(async (input: any) => ({
    Snapshots: records.filter((r) => (input.Filters ?? []).every((f: any) => {
      const tags = Object.fromEntries((r.Tags ?? []).map((t) => [t.Key, t.Value]));
      if (f.Name === 'tag-key') {
        return f.Values.some((k: string) => k in tags);
      }
      if (f.Name.startsWith('tag:')) {
        return f.Values.includes(tags[f.Name.slice(4)]);
      }
      return true;
    })),
  }));
  ec2.on(DescribeVolumesCommand).callsFake(async (input: any) => ({
    Volumes: world.volumes.filter((v) => input.Filters[0].Values.includes(v)).map((VolumeId) => ({ VolumeId })),
  }));
  ec2.on(ModifySnapshotTierCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const settings = settingsFromEnv(b.environment);
  const result = await archiveOrphans({ ec2: new EC2Client({}), settings, now: () => NOW, sleep: async () => undefined });
  jest.restoreAllMocks();
  const calls = ec2.calls().map((c) => ({ service: 'ec2', command: c.args[0].constructor.name, input: (c.args[0] as any).input }));
  const tags = new Map(world.snapshots.map((s) => [s.id, s.tags]));
  const replay = await replayHandlerCalls(b.template, b.functionId, calls, { tagsOf: (id) => tags.get(id) });
  return { result, calls, replay };
}

describe('the defaults', () => {
  let b: Built;
  // built for each test, not once in beforeAll: Stryker credits code run in a beforeAll hook to no
  // test, so with ignoreStatic it never runs these tests against a mutant of the construct
  beforeEach(() => {
    b = build();
  });

  test('archives purpose-tagged snapshots of deleted volumes 90 days old and tags them backup:archived-at, every call allowed by its role', async () => {
    const { result, calls, replay } = await runAndReplay(b, {
      snapshots: [
        { id: 'snap-gone', volume: 'vol-gone', ageDays: 90, tags: { 'backup:purpose': 'ledger' } },
        { id: 'snap-young', volume: 'vol-gone', ageDays: 89, tags: { 'backup:purpose': 'ledger' } },
        { id: 'snap-live', volume: 'vol-live', ageDays: 400, tags: { 'backup:purpose': 'ledger' } },
        { id: 'snap-other', volume: 'vol-gone', ageDays: 400, tags: { Name: 'not ours' } },
      ],
      volumes: ['vol-live'],
    });
    expect(result.archived).toEqual(['snap-gone']);
    expect(calls.filter((c) => c.command === 'CreateTagsCommand').map((c) => c.input))
      .toEqual([{ Resources: ['snap-gone'], Tags: [{ Key: 'backup:archived-at', Value: '2026-06-01' }] }]);
    expect(replay.results.map((r) => r.action).sort()).toEqual(['ec2:CreateTags', 'ec2:DescribeSnapshots', 'ec2:DescribeVolumes', 'ec2:ModifySnapshotTier']);
    expect(replay.denied).toEqual([]);
    expect(replay.unmodelled).toEqual([]);
  });

  test('the role archives and tags only purpose-tagged snapshots, and writes no tag but the archived-at one', async () => {
    const replay = async (command: string, input: any, tags: Record<string, string>) =>
      (await replayHandlerCalls(b.template, b.functionId, [{ service: 'ec2', command, input }], { tagsOf: () => tags })).results.map((r) => r.result);
    const tier = { SnapshotId: 'snap-1', StorageTier: 'archive' };
    const tag = (Key: string) => ({ Resources: ['snap-1'], Tags: [{ Key, Value: '2026-06-01' }] });
    expect(await replay('ModifySnapshotTierCommand', tier, { 'backup:purpose': 'any' })).toEqual(['Allowed']);
    expect(await replay('ModifySnapshotTierCommand', tier, { Name: 'not ours' })).toEqual(['ImplicitlyDenied']);
    expect(await replay('CreateTagsCommand', tag('backup:archived-at'), {})).toEqual(['ImplicitlyDenied']);
    expect(await replay('CreateTagsCommand', tag('backup:purpose'), { 'backup:purpose': 'any' })).toEqual(['ImplicitlyDenied']);
    expect(await replay('CreateTagsCommand', tag('backup:retention'), { 'backup:purpose': 'any' })).toEqual(['ImplicitlyDenied']);
    // on a volume, not a snapshot
    expect((await replayHandlerCalls(b.template, b.functionId, [{ service: 'ec2', command: 'CreateTagsCommand', input: { Resources: ['vol-1'], Tags: [{ Key: 'backup:archived-at', Value: 'x' }] } }],
      { tagsOf: () => ({ 'backup:purpose': 'any' }) })).results.map((r) => r.result)).toEqual(['ImplicitlyDenied']);
  });

  // cdk-nag matches an acknowledgement on the resource and its ancestors: every wildcard finding of
  // the role's policy must be acknowledged with a reason, or the user's synthesis fails
  test('acknowledges every wildcard finding of its role, with reasons', () => {
    const policy = b.archiver.role.node.findChild('DefaultPolicy') as iam.Policy;
    const findings = wildcardFindings(policy, policy.document).filter((f) => !f.includes('log-group'));
    expect(findings.sort()).toEqual(['AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]']);
    const nag = Object.assign({}, ...policy.node.scopes.flatMap((x) => x.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data as Record<string, string>));
    for (const finding of findings) {
      expect(nag[`Annotation::${finding}`]).toMatch(/\w+ \w+/);
    }
  });

  test('runs daily, for real, with any purpose; a failed run is retried, then kept in the dead-letter queue', () => {
    expect(b.environment).toEqual({ PURPOSE_TAG_KEY: 'backup:purpose', MINIMUM_AGE_DAYS: '90', ARCHIVED_TAG_KEY: 'backup:archived-at', DRY_RUN: 'false' });
    const rule = b.props(b.archiver.rule);
    expect(rule.ScheduleExpression).toBe('rate(1 day)');
    // what an operator reads in the consoles
    expect([rule.Description, b.props(b.archiver.function).Description])
      .toEqual(['Archives EBS snapshots of deleted volumes', 'Archives purpose-tagged EBS snapshots of deleted volumes']);
    expect(rule.State ?? 'ENABLED').toBe('ENABLED');
    const queueId = b.stack.resolve((b.archiver.deadLetterQueue.node.defaultChild as any).logicalId);
    expect(rule.Targets).toEqual([expect.objectContaining({
      Arn: { 'Fn::GetAtt': [b.functionId, 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      RetryPolicy: { MaximumRetryAttempts: 4 },
    })]);
    // the alarm watches the queue
    const alarm = b.props(b.archiver.alarm);
    expect(alarm.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]);
    expect(alarm.AlarmDescription).toBe('The snapshot archive job failed (see its dead-letter queue and logs)');
    expect(alarm.AlarmActions ?? []).toEqual([]);
  });

  test('gives the handler Lambda\'s longest timeout, more than its own 12-minute budget; no reservation, logs a year', () => {
    const fn = b.props(b.archiver.function);
    expect(fn.Timeout).toBe(900);
    expect(DEFAULT_BUDGET_MS).toBeLessThan(fn.Timeout * 1000);
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    const [logGroup] = Object.values<any>(b.template.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBe(365);
    expect(logGroup.Properties.KmsKeyId).toBeUndefined();
    expect(b.archiver.role).toBe(b.archiver.node.findChild('Role'));
    expect(isMachinery(b.archiver)).toBe(true);
  });
  test('its code is the bundle of the archive handler this file runs (assets/lambda/worm/archive)', () => {
    const other = new Stack(new App(), 'Other', { env: ENV });
    const bundle = other.resolve(handlerAsset('worm/archive').bind(other).s3Location!.objectKey);
    expect(b.props(b.archiver.function).Code.S3Key).toBe(bundle);
    expect(b.props(b.archiver.function).Handler).toBe('index.handler');
  });
});

// BackupTagging.key: every further key of the library is the app's prefix plus its name
describe('the archived-at tag follows the app\'s tag prefix', () => {
  test.each<[string, (app: App) => void, Record<string, string> | undefined, string, string]>([
    ['a configured prefix', (app) => BackupTagging.configure(app, { prefix: 'acme:' }), undefined, 'acme:purpose', 'acme:archived-at'],
    ['a configured prefix and purpose key', (app) => BackupTagging.configure(app, { prefix: 'acme:', purposeKey: 'why' }), undefined, 'acme:why', 'acme:archived-at'],
    ['a purpose key ending in "purpose"', (app) => BackupTagging.configure(app, { prefix: 'acme:', purposeKey: 'data-purpose' }), undefined, 'acme:data-purpose', 'acme:archived-at'],
    ['the prefix context key', () => undefined, { [BackupTagging.PREFIX_CONTEXT]: 'ops/' }, 'ops/purpose', 'ops/archived-at'],
  ])('%s', async (_name, configure, context, purposeKey, archivedKey) => {
    const b = build({}, configure, context);
    expect(b.environment).toMatchObject({ PURPOSE_TAG_KEY: purposeKey, ARCHIVED_TAG_KEY: archivedKey });
    const { result, calls, replay } = await runAndReplay(b, {
      snapshots: [{ id: 'snap-gone', volume: 'vol-gone', ageDays: 100, tags: { [purposeKey]: 'ledger' } }],
      volumes: [],
    });
    expect(result.archived).toEqual(['snap-gone']);
    expect(calls.find((c) => c.command === 'CreateTagsCommand')!.input.Tags).toEqual([{ Key: archivedKey, Value: '2026-06-01' }]);
    expect(replay.denied).toEqual([]);
  });
});

describe('options', () => {
  test('a dry run, named purposes, an age and a schedule of its own, a tag key of its own', async () => {
    const b = build({
      dryRun: true,
      purposes: ['ledger', 'ledger-dr'],
      minimumAge: Duration.days(365),
      schedule: events.Schedule.cron({ hour: '3', minute: '0' }),
      archivedTagKey: 'records:archived',
    });
    expect(b.environment).toEqual({
      PURPOSE_TAG_KEY: 'backup:purpose', MINIMUM_AGE_DAYS: '365', ARCHIVED_TAG_KEY: 'records:archived', DRY_RUN: 'true', PURPOSES: '["ledger","ledger-dr"]',
    });
    expect(b.props(b.archiver.rule).ScheduleExpression).toBe('cron(0 3 * * ? *)');
    const { result, calls } = await runAndReplay(b, {
      snapshots: [
        { id: 'snap-a', volume: 'vol-a', ageDays: 365, tags: { 'backup:purpose': 'ledger' } },
        { id: 'snap-b', volume: 'vol-b', ageDays: 400, tags: { 'backup:purpose': 'scratch' } },
        { id: 'snap-c', volume: 'vol-c', ageDays: 364, tags: { 'backup:purpose': 'ledger-dr' } },
      ],
      volumes: [],
    });
    expect(result.wouldArchive).toEqual(['snap-a']);
    expect(calls.map((c) => c.command)).not.toContain('ModifySnapshotTierCommand');
    // the role may write the key it was given, and only it
    const tag = async (Key: string) => (await replayHandlerCalls(b.template, b.functionId,
      [{ service: 'ec2', command: 'CreateTagsCommand', input: { Resources: ['snap-a'], Tags: [{ Key, Value: 'x' }] } }],
      { tagsOf: () => ({ 'backup:purpose': 'ledger' }) })).results[0].result;
    expect([await tag('records:archived'), await tag('backup:archived-at')]).toEqual(['Allowed', 'ImplicitlyDenied']);
  });

  test('no named purposes (an empty list) is any purpose', () => {
    expect(build({ purposes: [] }).environment.PURPOSES).toBeUndefined();
  });

  test('routes the alarm, reserves concurrency, keeps the logs as asked with the given key', () => {
    const app = new App();
    const stack = new Stack(app, 'Records', { env: ENV });
    const topic = new sns.Topic(stack, 'Pager');
    const key = new kms.Key(stack, 'Key');
    const archiver = new SnapshotArchiver(stack, 'Archiver', {
      alarmAction: new cloudwatchActions.SnsAction(topic),
      reservedConcurrentExecutions: 2,
      logRetention: logs.RetentionDays.TEN_YEARS,
      logEncryptionKey: key,
    });
    const t = unsynthesizedTemplate(stack);
    const props = (c: any) => t.Resources[stack.resolve(c.node.defaultChild.logicalId)].Properties;
    expect(props(archiver.alarm).AlarmActions).toEqual([{ Ref: stack.resolve((topic.node.defaultChild as sns.CfnTopic).logicalId) }]);
    expect(props(archiver.function).ReservedConcurrentExecutions).toBe(2);
    const [logGroup] = Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroup.Properties).toMatchObject({ RetentionInDays: 3653, KmsKeyId: { 'Fn::GetAtt': [stack.resolve((key.node.defaultChild as kms.CfnKey).logicalId), 'Arn'] } });
  });

  test('accepts the bounds of the age (1 and 36500 days), and skips checking an unresolved one', () => {
    expect(build({ minimumAge: Duration.days(1) }).environment.MINIMUM_AGE_DAYS).toBe('1');
    expect(build({ minimumAge: Duration.days(36500) }).environment.MINIMUM_AGE_DAYS).toBe('36500');
    const stack = new Stack(new App(), 'Records', { env: ENV });
    const archiver = new SnapshotArchiver(stack, 'Archiver', { minimumAge: Duration.days(Token.asNumber(Fn.importValue('Age'))) });
    expect(stack.resolve((archiver.function.node.defaultChild as any).environment).variables.MINIMUM_AGE_DAYS).toEqual({ 'Fn::ImportValue': 'Age' });
  });

  test.each<[string, SnapshotArchiverProps, string]>([
    ['an age of 0 days', { minimumAge: Duration.days(0) }, 'Records/Archiver: minimumAge must be between 1 day and 36500 days, got 0 days'],
    ['an age over 100 years', { minimumAge: Duration.days(36501) }, 'minimumAge must be between 1 day and 36500 days, got 36501 days'],
    ['an age in hours', { minimumAge: Duration.hours(30) }, 'minimumAge must be a whole number of days'],
    ['a reserved tag key', { archivedTagKey: 'aws:archived' }, "archivedTagKey key must not start with 'aws:'"],
    ['an empty tag key', { archivedTagKey: '' }, 'archivedTagKey'],
    ['a bad second purpose', { purposes: ['ok', 'a#b'] }, 'Records/Archiver: purposes[1] must be a tag value'],
  ])('rejects %s', (_name, props, fragment) => {
    const stack = new Stack(new App(), 'Records', { env: ENV });
    expect(() => new SnapshotArchiver(stack, 'Archiver', props)).toThrow(fragment);
  });
});
