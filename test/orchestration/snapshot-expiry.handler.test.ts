import {
  DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Image, Snapshot,
} from '@aws-sdk/client-ec2';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { ExpiryConfig, RecordedExecution, expire, handler, readConfig, runsOf, selectExpired } from '../../lambda/orchestration/snapshot-expiry';
import { ec2ClientError } from '../support/aws-errors';

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const NOW = new Date('2024-06-30T02:00:00Z');
const CURRENT = 'arn:aws:states:us-east-1:123456789012:execution:Job:run-30';

const ENV = {
  RESOURCE_TYPE: 'snapshot',
  PURPOSE_TAG_KEY: 'backup:purpose',
  PURPOSE: 'orders-db',
  MANAGED_BY_TAG_KEY: 'backup:managed-by',
  MANAGED_BY: 'Prod/OrdersDb',
  EXECUTION_TAG_KEY: 'backup:execution',
  RETAIN_COUNT: '2',
};

function config(overrides: Partial<ExpiryConfig> = {}): ExpiryConfig {
  return { ...readConfig(ENV), ...overrides };
}

/** A snapshot of run `day` (June), two per run (one per volume). */
function snapshot(day: number, volume: string, extra: object = {}): Snapshot {
  return {
    SnapshotId: `snap-${day}-${volume}`,
    StartTime: new Date(`2024-06-${String(day).padStart(2, '0')}T02:00:00Z`),
    State: 'completed',
    Tags: [{ Key: 'backup:execution', Value: `arn:aws:states:us-east-1:123456789012:execution:Job:run-${day}` }],
    ...extra,
  } as Snapshot;
}

const RUNS = [27, 28, 29, 30].flatMap((d) => [snapshot(d, 'root'), snapshot(d, 'data')]);

/** The job's state machine's history: runs 27-29 succeeded, 30 (the current one) is running. */
const executionOf = (day: number, status = 'SUCCEEDED'): RecordedExecution => ({
  arn: `arn:aws:states:us-east-1:123456789012:execution:Job:run-${day}`,
  start: new Date(`2024-06-${String(day).padStart(2, '0')}T01:59:00Z`),
  status,
});
const HISTORY = [executionOf(30, 'RUNNING'), executionOf(29), executionOf(28), executionOf(27)];
const listed = (executions: RecordedExecution[]) => ({
  executions: executions.map((e) => ({ executionArn: e.arn, stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Job', name: e.arn.split(':').pop(), status: e.status as never, startDate: e.start })),
});

let logs: any[];

beforeEach(() => {
  ec2.reset();
  sfn.reset();
  sfn.on(ListExecutionsCommand).resolves(listed(HISTORY));
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => { logs.push(JSON.parse(line)); });
  jest.spyOn(console, 'error').mockImplementation((line: string) => { logs.push(JSON.parse(line)); });
});

afterEach(() => jest.restoreAllMocks());

describe('readConfig', () => {
  test('reads the environment the construct sets', () => {
    expect(readConfig({ ...ENV, DRY_RUN: 'true' })).toEqual({
      resourceType: 'snapshot',
      purposeKey: 'backup:purpose',
      purpose: 'orders-db',
      managedByKey: 'backup:managed-by',
      managedBy: 'Prod/OrdersDb',
      executionKey: 'backup:execution',
      retainCount: 2,
      retainDays: undefined,
      dryRun: true,
      maxDeletions: 500,
    });
  });

  test.each<[string, Record<string, string | undefined>, string]>([
    ['a missing purpose', { PURPOSE: undefined }, 'environment variable PURPOSE is required'],
    ['an unknown resource type', { RESOURCE_TYPE: 'volume' }, "RESOURCE_TYPE must be 'snapshot' or 'image', got 'volume'"],
    ['no retention', { RETAIN_COUNT: undefined }, 'exactly one of RETAIN_COUNT and RETAIN_DAYS must be set'],
    ['both retentions', { RETAIN_DAYS: '7' }, 'exactly one of RETAIN_COUNT and RETAIN_DAYS must be set'],
    ['a bad count', { RETAIN_COUNT: '0' }, "RETAIN_COUNT must be a positive integer, got '0'"],
    ['a bad bound', { MAX_DELETIONS: 'many' }, "MAX_DELETIONS must be a positive integer, got 'many'"],
  ])('rejects %s', (_name, env, message) => {
    expect(() => readConfig({ ...ENV, ...env })).toThrow(expect.objectContaining({ name: 'ExpiryConfigError', message }));
  });

  // the boundaries (mutation testing, stop 16): 'image' is a type, 1 a count, an empty variable unset
  test('reads an image job keeping one run, an empty RETAIN_DAYS being unset', () => {
    expect(readConfig({ ...ENV, RESOURCE_TYPE: 'image', RETAIN_COUNT: '1', RETAIN_DAYS: '' })).toMatchObject({ resourceType: 'image', retainCount: 1, retainDays: undefined });
  });
});

describe('selectExpired', () => {
  const artefacts = (list: any[]) => list.map((s) => ({
    id: s.SnapshotId, created: s.StartTime, execution: s.Tags?.[0]?.Value, pending: s.State === 'pending',
  }));

  test('count retention keeps whole runs, the current one always', () => {
    const { expired } = selectExpired(artefacts(RUNS), config(), CURRENT, NOW, runsOf(HISTORY));
    expect(expired.map((a) => a.id)).toEqual(['snap-27-root', 'snap-27-data', 'snap-28-root', 'snap-28-data']);
  });

  test('the current run counts even if its snapshots are not listed yet', () => {
    const { expired } = selectExpired(artefacts(RUNS.filter((s) => !s.SnapshotId!.startsWith('snap-30'))), config(), CURRENT, NOW, runsOf(HISTORY));
    expect(expired.map((a) => a.id)).toEqual(['snap-27-root', 'snap-27-data', 'snap-28-root', 'snap-28-data']);
  });

  test('age retention looks at each snapshot', () => {
    const { expired } = selectExpired(artefacts(RUNS), config({ retainCount: undefined, retainDays: 2 }), CURRENT, NOW, runsOf(HISTORY));
    expect(expired.map((a) => a.id)).toEqual(['snap-27-root', 'snap-27-data']);
  });

  test('never considers pending snapshots or snapshots without an execution tag', () => {
    const list = artefacts([snapshot(1, 'root', { State: 'pending' }), snapshot(2, 'root', { Tags: [] }), ...RUNS]);
    const { expired, skipped } = selectExpired(list, config(), CURRENT, NOW, runsOf(HISTORY));
    expect(skipped.map((a) => a.id)).toEqual(['snap-1-root', 'snap-2-root']);
    expect(expired.map((a) => a.id)).not.toContain('snap-1-root');
  });
});

describe('expire', () => {
  test('lists the job\'s snapshots by tag across pages and deletes the expired ones', async () => {
    ec2.on(DescribeSnapshotsCommand).resolvesOnce({ Snapshots: RUNS.slice(0, 4), NextToken: 't2' }).resolvesOnce({ Snapshots: RUNS.slice(4) });
    ec2.on(DeleteSnapshotCommand).resolves({});

    const result = await expire(ec2 as unknown as EC2Client, config(), { executionId: CURRENT }, NOW);

    expect(ec2.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input)).toEqual([
      { OwnerIds: ['self'], Filters: [{ Name: 'tag:backup:purpose', Values: ['orders-db'] }, { Name: 'tag:backup:managed-by', Values: ['Prod/OrdersDb'] }], NextToken: undefined, MaxResults: 1000 },
      { OwnerIds: ['self'], Filters: expect.any(Array), NextToken: 't2', MaxResults: 1000 },
    ]);
    expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).toEqual(['snap-27-root', 'snap-27-data', 'snap-28-root', 'snap-28-data']);
    expect(result).toEqual({ resourceType: 'snapshot', dryRun: false, found: 8, kept: 4, expired: ['snap-27-root', 'snap-27-data', 'snap-28-root', 'snap-28-data'], skipped: [], skippedCount: 0 });
    expect(logs.filter((l) => l.outcome === 'expired')).toHaveLength(4);
    expect(logs.every((l) => l.level && l.message)).toBe(true);
  });

  test('a dry run deletes nothing and reports what it would delete', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: RUNS });
    const result = await expire(ec2 as unknown as EC2Client, config({ dryRun: true }), { executionId: CURRENT }, NOW);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(result.expired).toEqual(['snap-27-root', 'snap-27-data', 'snap-28-root', 'snap-28-data']);
    expect(logs.filter((l) => l.outcome === 'dry-run')).toHaveLength(4);
  });

  test('is idempotent: a snapshot already gone counts as expired', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: RUNS });
    // as EC2 answers a DeleteSnapshot of a deleted snapshot: HTTP 400, InvalidSnapshot.NotFound
    ec2.on(DeleteSnapshotCommand).callsFake((input) => {
      throw ec2ClientError('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotId}' does not exist.`);
    });
    const result = await expire(ec2 as unknown as EC2Client, config(), { executionId: CURRENT }, NOW);
    expect(result).toMatchObject({ expired: ['snap-27-root', 'snap-27-data', 'snap-28-root', 'snap-28-data'], skipped: [] });
  });

  test('keeps a snapshot in use by an AMI and says so', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: RUNS });
    ec2.on(DeleteSnapshotCommand).resolves({});
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-27-root' }).rejects(ec2ClientError('InvalidSnapshot.InUse', 'The snapshot snap-27-root is currently in use by ami-0123456789abcdef0'));
    const result = await expire(ec2 as unknown as EC2Client, config(), { executionId: CURRENT }, NOW);
    expect(result.expired).toEqual(['snap-27-data', 'snap-28-root', 'snap-28-data']);
    expect(result.skipped).toEqual(['snap-27-root']);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'WARN', id: 'snap-27-root', outcome: 'skipped' }));
  });

  test('reports pending and untagged snapshots as skipped, never deleting them', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(1, 'root', { State: 'pending' }), snapshot(2, 'root', { Tags: undefined }), ...RUNS] });
    ec2.on(DeleteSnapshotCommand).resolves({});
    const result = await expire(ec2 as unknown as EC2Client, config(), { executionId: CURRENT }, NOW);
    expect(result.skipped).toEqual(['snap-1-root', 'snap-2-root']);
    expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).not.toContain('snap-1-root');
    expect(logs.filter((l) => l.outcome === 'skipped').map((l) => l.message)).toEqual(['pending, not considered', 'no execution tag, not considered']);
  });

  test('retries throttling with backoff', async () => {
    ec2.on(DescribeSnapshotsCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded' }))
      .resolves({ Snapshots: RUNS });
    ec2.on(DeleteSnapshotCommand).resolves({});
    const result = await expire(ec2 as unknown as EC2Client, config(), { executionId: CURRENT }, NOW);
    expect(ec2.commandCalls(DescribeSnapshotsCommand)).toHaveLength(2);
    expect(result.expired).toHaveLength(4);
  });

  test('an access error on one snapshot fails the run after trying the others, naming only ids and error codes', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: RUNS });
    ec2.on(DeleteSnapshotCommand).resolves({});
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-28-root' }).rejects(Object.assign(new Error('denied by an SCP for role arn:...'), { name: 'UnauthorizedOperation' }));
    await expect(expire(ec2 as unknown as EC2Client, config(), { executionId: CURRENT }, NOW))
      .rejects.toThrow('could not expire 1 snapshot(s): snap-28-root: UnauthorizedOperation');
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(4);
    expect(JSON.stringify(logs)).not.toContain('denied by an SCP');
  });

  test('deletes at most maxDeletions per run, oldest first', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: RUNS });
    ec2.on(DeleteSnapshotCommand).resolves({});
    const result = await expire(ec2 as unknown as EC2Client, config({ maxDeletions: 1 }), { executionId: CURRENT }, NOW);
    expect(result.expired).toEqual(['snap-27-root']);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'WARN', maxDeletions: 1, expired: 4 }));
  });

  test('deregisters expired AMIs with their snapshots', async () => {
    const image = (day: number): Image => ({
      ImageId: `ami-${day}`,
      CreationDate: `2024-06-${day}T02:00:00.000Z`,
      State: 'available',
      Tags: [{ Key: 'backup:execution', Value: executionOf(day).arn }],
    });
    sfn.on(ListExecutionsCommand).resolves(listed([executionOf(29, 'RUNNING'), executionOf(28), executionOf(27)]));
    ec2.on(DescribeImagesCommand).resolves({ Images: [image(27), image(28), image(29)] });
    ec2.on(DeregisterImageCommand).resolves({});
    const result = await expire(ec2 as unknown as EC2Client, config({ resourceType: 'image' }), { executionId: executionOf(29).arn }, NOW);
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input).toMatchObject({ Owners: ['self'] });
    expect(ec2.commandCalls(DeregisterImageCommand).map((c) => c.args[0].input)).toEqual([{ ImageId: 'ami-27', DeleteAssociatedSnapshots: true }]);
    expect(result.expired).toEqual(['ami-27']);
  });

  test.each(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable'])('an AMI answered %s is already gone: expired, logged as such', async (name) => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [{ ImageId: 'ami-1', CreationDate: '2024-06-01T00:00:00Z', State: 'available', Tags: [{ Key: 'backup:execution', Value: 'old' }] }],
    });
    ec2.on(DeregisterImageCommand).rejects(Object.assign(new Error('x'), { name }));
    const result = await expire(ec2 as unknown as EC2Client, config({ resourceType: 'image', retainCount: 1 }), { executionId: CURRENT }, NOW);
    expect(result.expired).toEqual(['ami-1']);
    expect(logs).toContainEqual({ level: 'INFO', message: 'already gone', id: 'ami-1', outcome: 'expired' });
  });

  test('an AMI already deregistered counts as expired', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-1', CreationDate: '2024-06-01T00:00:00Z', State: 'available', Tags: [{ Key: 'backup:execution', Value: 'old' }] },
      ],
    });
    ec2.on(DeregisterImageCommand).rejects(Object.assign(new Error('x'), { name: 'InvalidAMIID.Unavailable' }));
    // an execution older than the history (Step Functions keeps closed executions 90 days) still counts
    const result = await expire(ec2 as unknown as EC2Client, config({ resourceType: 'image', retainCount: 1 }), { executionId: CURRENT }, NOW);
    expect(result.expired).toEqual(['ami-1']);
  });

  // Issue 16 #3: snapshots of the real volumes, tagged after the fact with the job's purpose,
  // managed-by and execution tags, must not push real runs out of count retention.
  test('a planted look-alike set deletes nothing real: forged executions are never counted, runs rank by their recorded start', async () => {
    // history: runs 20-30 (the current one, 30, running); the real artefacts of runs 20-23 are long expired
    sfn.on(ListExecutionsCommand).resolves(listed([executionOf(30, 'RUNNING'), ...[29, 28, 27, 26, 25, 24, 23, 22, 21, 20].map((d) => executionOf(d))]));
    const real = [24, 25, 26, 27, 28, 29, 30].flatMap((d) => [snapshot(d, 'root'), snapshot(d, 'data')]);
    const planted = (id: string, execution: string, minute: number): Snapshot => ({
      SnapshotId: id, StartTime: new Date(Date.UTC(2024, 5, 30, 1, minute)), State: 'completed', Tags: [{ Key: 'backup:execution', Value: execution }],
    });
    const forged = [1, 2, 3, 4, 5, 6].map((k) => planted(`snap-forged-${k}`, `arn:aws:states:us-east-1:123456789012:execution:Job:forged-${k}`, k));
    // look-alikes claiming old recorded executions, created now: ranked by those executions' start, not by their date
    const reused = [20, 21, 22, 23].map((d) => planted(`snap-reused-${d}`, executionOf(d).arn, 10 + d - 20));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [...real, ...forged, ...reused] });
    ec2.on(DeleteSnapshotCommand).resolves({});

    const result = await expire(ec2 as unknown as EC2Client, config({ retainCount: 7 }), { executionId: CURRENT }, NOW);

    const deleted = ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId);
    expect(deleted.filter((id) => real.some((r) => r.SnapshotId === id))).toEqual([]);
    expect(deleted.sort()).toEqual(reused.map((r) => r.SnapshotId).sort()); // junk under the job's tags, in runs beyond retention
    expect(result.skipped).toEqual(forged.map((f) => f.SnapshotId));
    expect(logs.filter((l) => /look-alike/.test(l.message)).map((l) => l.id)).toEqual(forged.map((f) => f.SnapshotId));
  });

  test.each([
    ['an execution the history does not know', 'arn:aws:states:us-east-1:123456789012:execution:Job:forged', 'not a running execution'],
    ['a finished execution', 'arn:aws:states:us-east-1:123456789012:execution:Job:run-28', 'not a running execution'],
    ['not an execution ARN', 'run-30', 'not a Step Functions execution ARN'],
  ])('a forged executionId (%s) is ignored: the run fails and deletes nothing', async (_what, executionId, message) => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: RUNS });
    ec2.on(DeleteSnapshotCommand).resolves({});
    await expect(expire(ec2 as unknown as EC2Client, config({ retainCount: 1 }), { executionId }, NOW)).rejects.toThrow(message);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  });

  test('an executionId of another state machine fails on the history the role may not read, deleting nothing', async () => {
    sfn.on(ListExecutionsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: RUNS });
    const executionId = 'arn:aws:states:us-east-1:123456789012:execution:AttackerMachine:run';
    await expect(expire(ec2 as unknown as EC2Client, config({ retainCount: 1 }), { executionId }, NOW)).rejects.toThrow('not authorized');
    expect(sfn.commandCalls(ListExecutionsCommand)[0].args[0].input.stateMachineArn).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:AttackerMachine');
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  });

  test('rejects an event without the current execution id', async () => {
    await expect(expire(ec2 as unknown as EC2Client, config(), {} as never, NOW)).rejects.toThrow('event.executionId must be the current execution id');
    expect(ec2.calls()).toHaveLength(0);
  });

  // mutation testing (stop 16) found these unchecked
  test.each([null, undefined, { executionId: '' }])('an event %p fails as ExpiryConfigError (the errorType a Catch matches), before any call', async (bad) => {
    await expect(expire(ec2 as unknown as EC2Client, config(), bad as never, NOW)).rejects.toThrow(
      expect.objectContaining({ name: 'ExpiryConfigError', message: 'event.executionId must be the current execution id' }));
    expect(ec2.calls()).toHaveLength(0);
  });

  test('deletes the oldest first however EC2 orders its listing (DescribeSnapshots guarantees no order)', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [...RUNS].reverse() });
    ec2.on(DeleteSnapshotCommand).resolves({});
    const result = await expire(ec2 as unknown as EC2Client, config({ maxDeletions: 3 }), { executionId: CURRENT }, NOW);
    expect(result.expired).toEqual(['snap-27-data', 'snap-27-root', 'snap-28-data']);
  });

  // ListExecutions pages its answer (newest first); a history read one page only would start later
  // and count a planted look-alike from before that start as a real run, then delete it
  test('reads the whole execution history, page by page, so a look-alike inside it is never counted nor deleted', async () => {
    sfn.on(ListExecutionsCommand).callsFake((input) => (input.nextToken === 'h2'
      ? listed([executionOf(28), executionOf(27)])
      : { ...listed([executionOf(30, 'RUNNING'), executionOf(29)]), nextToken: 'h2' }));
    const forged = snapshot(28, 'forged', {
      StartTime: new Date('2024-06-28T12:00:00Z'),
      Tags: [{ Key: 'backup:execution', Value: 'arn:aws:states:us-east-1:123456789012:execution:Job:forged' }],
    });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [...RUNS, forged] });
    ec2.on(DeleteSnapshotCommand).resolves({});
    const result = await expire(ec2 as unknown as EC2Client, config(), { executionId: CURRENT }, NOW);
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 'h2']);
    expect(result.expired).toEqual(['snap-27-root', 'snap-27-data', 'snap-28-root', 'snap-28-data']);
    expect(result.skipped).toEqual(['snap-28-forged']);
  });
});

test('the handler reads its configuration from the environment', async () => {
  const saved = process.env;
  process.env = { ...saved, ...ENV };
  try {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    await expect(handler({ executionId: CURRENT })).resolves.toMatchObject({ found: 0, expired: [] });
    process.env = { ...saved };
    await expect(handler({ executionId: CURRENT })).rejects.toThrow('environment variable');
  } finally {
    process.env = saved;
  }
});
