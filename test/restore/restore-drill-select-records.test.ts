/**
 * Issue 16: "the drill restores only artefacts its source created (execution id recorded at
 * creation)", for every creator the library registers. A job's record is checked against Step
 * Functions (restore-drill-select.test.ts); here a maintenance window's against SSM's own record of
 * the window's executions, and a runbook's against SSM Automation's record of its execution.
 *
 * The SSM stub answers as SSM does: `DescribeMaintenanceWindowExecutions` honours `WindowId`, the
 * `ExecutionStartSince` filter (an ISO 8601 time), `MaxResults` and its own `NextToken`; a missing
 * Automation execution is `AutomationExecutionNotFoundException`
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeMaintenanceWindowExecutions.html,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetAutomationExecution.html).
 * Then the real handler runs with the payload a synthesized drill sends, and every call it made is
 * evaluated against the select function's synthesized role (test/support/call-replay).
 */
import { DescribeSnapshotsCommand, EC2Client, Snapshot } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  AutomationExecutionNotFoundException, DescribeMaintenanceWindowExecutionsCommand, GetAutomationExecutionCommand, MaintenanceWindowExecution,
  SSMClient, SSMServiceException,
} from '@aws-sdk/client-ssm';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { mockClient } from 'aws-sdk-client-mock';
import { definitionOf } from './drill-harness';
import { parseEvent, select, SelectEvent } from '../../lambda/restore/drill-select';
import {
  ConsistentSnapshotJob, FsfreezeMaintenanceWindow, MaintenanceTargets, PreChangeSnapshot, RestoreDrill, Retention,
} from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { replayHandlerCalls } from '../support/call-replay';
import { renderIntrinsics } from '../support/intrinsics';

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const NOW = new Date('2026-11-21T03:00:00Z');
const WINDOW = 'mw-0c1d2e3f4a5b6c7d8';
const DOCUMENT = 'Ledger-PreChangeSnapshot-Document-AbC123';

const snap = (id: string, volume: string, start: string, tags: Record<string, string>): Snapshot => ({
  SnapshotId: id,
  VolumeId: volume,
  StartTime: new Date(start),
  State: 'completed',
  VolumeSize: 8,
  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
});

/** SSM's record of a window's executions, newest first, paged as SSM pages it. */
function windowExecutionsModel(byWindow: Record<string, MaintenanceWindowExecution[]>) {
  return (input: any) => {
    const since = input.Filters?.find((f: any) => f.Key === 'ExecutionStartSince')?.Values?.[0];
    if (since !== undefined && Number.isNaN(Date.parse(since))) {
      throw new SSMServiceException({ name: 'ValidationException', message: `bad ExecutionStartSince ${since}`, $fault: 'client', $metadata: { httpStatusCode: 400 } });
    }
    const all = (byWindow[input.WindowId] ?? [])
      .filter((e) => since === undefined || e.StartTime!.getTime() >= Date.parse(since))
      .sort((a, b) => b.StartTime!.getTime() - a.StartTime!.getTime());
    const size = Math.min(input.MaxResults ?? 50, 100);
    const from = input.NextToken === undefined ? 0 : Number(input.NextToken.replace('page-', ''));
    const next = from + size < all.length ? `page-${from + size}` : undefined;
    return { WindowExecutions: all.slice(from, from + size), NextToken: next };
  };
}

/** A daily window execution at 02:00 UTC of each given day, 20 minutes long. */
const dailyRuns = (windowId: string, days: number[]): MaintenanceWindowExecution[] => days.map((day) => ({
  WindowId: windowId,
  WindowExecutionId: `exec-${windowId}-${day}`,
  Status: 'SUCCESS',
  StartTime: new Date(Date.UTC(2026, 10, day, 2, 0)),
  EndTime: new Date(Date.UTC(2026, 10, day, 2, 20)),
}));

const event: SelectEvent = {
  mode: 'SNAPSHOTS',
  purposeTagKey: 'backup:purpose',
  purpose: 'database-dr',
  setWindowSeconds: 300,
  mountPoint: '/data',
  managedByTagKey: 'backup:managed-by',
  sourceInstanceTagKeys: ['backup:source-instance'],
  creators: [
    { managedBy: 'Ledger/Fsfreeze', executionTagKey: 'backup:window-id', windowId: WINDOW },
    { managedBy: 'Ledger/PreChange', executionTagKey: 'backup:automation-execution', automationDocument: DOCUMENT },
  ],
};
const windowTags = (windowId = WINDOW) => ({
  'backup:purpose': 'database-dr', 'backup:managed-by': 'Ledger/Fsfreeze', 'backup:window-id': windowId, 'backup:source-instance': 'i-0a1b2c3d4e5f60718',
});
const runbookTags = (execution: string) => ({
  'backup:purpose': 'database-dr', 'backup:managed-by': 'Ledger/PreChange', 'backup:automation-execution': execution, 'backup:source-instance': 'i-0b1b2c3d4e5f60718',
});

const clients = () => [ec2 as unknown as EC2Client, sfn as unknown as SFNClient, ssm as unknown as SSMClient] as const;
const chosen = async (e: SelectEvent = event) => {
  const [c, s, m] = clients();
  return (await select(c, e, NOW, s, m)).snapshots.map((x) => x.snapshotId).sort();
};

beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
beforeEach(() => {
  ec2.reset();
  sfn.reset();
  ssm.reset();
  ssm.on(DescribeMaintenanceWindowExecutionsCommand).callsFake(windowExecutionsModel({ [WINDOW]: dailyRuns(WINDOW, [18, 19, 20, 21]) }));
  ssm.on(GetAutomationExecutionCommand).rejects(new AutomationExecutionNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));
});

describe('a maintenance window\'s snapshots: the window id at creation, and a run SSM records', () => {
  const real = [snap('snap-real-1', 'vol-1', '2026-11-21T02:01:00Z', windowTags()), snap('snap-real-2', 'vol-2', '2026-11-21T02:01:03Z', windowTags())];

  test.each<[string, Snapshot]>([
    ['the window\'s tags, started when no execution of the window ran', snap('snap-planted', 'vol-1', '2026-11-21T02:40:00Z', windowTags())],
    ['another window\'s id, started during this window\'s run', snap('snap-planted', 'vol-1', '2026-11-21T02:05:00Z', windowTags('mw-0ffffffffffffffff'))],
  ])('a fresher look-alike with %s is never restored; the real set is', async (_name, planted) => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [planted, ...real] });
    expect(await chosen()).toEqual(['snap-real-1', 'snap-real-2']);
  });

  test('a snapshot of a run still in progress (no EndTime yet) is restored', async () => {
    ssm.on(DescribeMaintenanceWindowExecutionsCommand).callsFake(windowExecutionsModel({
      [WINDOW]: [...dailyRuns(WINDOW, [20]), { WindowId: WINDOW, WindowExecutionId: 'exec-now', Status: 'IN_PROGRESS', StartTime: new Date('2026-11-21T02:00:00Z') }],
    }));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: real });
    expect(await chosen()).toEqual(['snap-real-1', 'snap-real-2']);
  });

  test('an hourly window\'s 35 days of runs are read page by page, from a day before the oldest candidate', async () => {
    // 840 hourly executions: the real snapshots' run is the oldest, on the ninth page of 100
    const hourly: MaintenanceWindowExecution[] = Array.from({ length: 840 }, (_, h) => ({
      WindowId: WINDOW,
      WindowExecutionId: `exec-${h}`,
      Status: 'SUCCESS',
      StartTime: new Date(Date.UTC(2026, 9, 17, 0, 0) + h * 3600_000),
      EndTime: new Date(Date.UTC(2026, 9, 17, 0, 10) + h * 3600_000),
    }));
    ssm.on(DescribeMaintenanceWindowExecutionsCommand).callsFake(windowExecutionsModel({ [WINDOW]: hourly }));
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snap('snap-old-1', 'vol-1', '2026-10-17T00:02:00Z', windowTags()), snap('snap-planted', 'vol-1', '2026-10-17T00:40:00Z', windowTags())],
    });
    expect(await chosen()).toEqual(['snap-old-1']);
    const requests = ssm.commandCalls(DescribeMaintenanceWindowExecutionsCommand).map((c) => c.args[0].input);
    expect(requests.length).toBe(9);
    expect(requests[0]).toEqual({
      WindowId: WINDOW,
      MaxResults: 100,
      NextToken: undefined,
      // a day (a window's longest run) and a minute of skew before the oldest candidate
      Filters: [{ Key: 'ExecutionStartSince', Values: ['2026-10-16T00:01:00.000Z'] }],
    });
  });

  test('the window\'s history is read once per drill, not once per snapshot', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [18, 19, 20, 21].flatMap((d) => [1, 2].map((v) => snap(`snap-${d}-${v}`, `vol-${v}`, `2026-11-${d}T02:01:0${v}Z`, windowTags()))),
    });
    expect(await chosen()).toEqual(['snap-21-1', 'snap-21-2']);
    expect(ssm.commandCalls(DescribeMaintenanceWindowExecutionsCommand).length).toBe(1);
  });

  test('a throttled SSM is retried; access denied fails the selection (never "no restore point")', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: real });
    const model = windowExecutionsModel({ [WINDOW]: dailyRuns(WINDOW, [21]) });
    ssm.on(DescribeMaintenanceWindowExecutionsCommand)
      .rejectsOnce(new SSMServiceException({ name: 'ThrottlingException', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }))
      .callsFake(model);
    expect(await chosen()).toEqual(['snap-real-1', 'snap-real-2']);

    ssm.on(DescribeMaintenanceWindowExecutionsCommand)
      .rejects(new SSMServiceException({ name: 'AccessDeniedException', message: 'not authorized', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    await expect(chosen()).rejects.toThrow('not authorized');
  });
});

describe('a runbook\'s artefacts: an Automation execution of the runbook\'s own document', () => {
  const RUN = '8a3b1c2d-1111-4a5b-9c8d-0e1f2a3b4c5d';
  const run = (document: string, start: string, end?: string) => ({
    AutomationExecution: {
      AutomationExecutionId: RUN, DocumentName: document, ExecutionStartTime: new Date(start), ExecutionEndTime: end ? new Date(end) : undefined,
    },
  });
  const real = snap('snap-runbook', 'vol-7', '2026-11-21T01:00:30Z', runbookTags(RUN));

  test('restored when SSM records the execution of the runbook\'s document in progress at the snapshot\'s start', async () => {
    ssm.on(GetAutomationExecutionCommand, { AutomationExecutionId: RUN }).resolves(run(DOCUMENT, '2026-11-21T01:00:00Z', '2026-11-21T01:03:00Z'));
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [real] });
    expect(await chosen()).toEqual(['snap-runbook']);
  });

  test.each<[string, () => void, Snapshot]>([
    ['an execution id SSM does not know', () => undefined, snap('snap-planted', 'vol-7', '2026-11-21T02:50:00Z', runbookTags('00000000-0000-4000-8000-000000000000'))],
    ['a real execution of another document', () => ssm.on(GetAutomationExecutionCommand, { AutomationExecutionId: RUN })
      .resolves(run('AWS-CreateSnapshot', '2026-11-21T02:49:00Z', '2026-11-21T02:52:00Z')), snap('snap-planted', 'vol-7', '2026-11-21T02:50:00Z', runbookTags(RUN))],
    ['the runbook\'s real execution id, on a snapshot taken after it ended', () => ssm.on(GetAutomationExecutionCommand, { AutomationExecutionId: RUN })
      .resolves(run(DOCUMENT, '2026-11-21T01:00:00Z', '2026-11-21T01:03:00Z')), snap('snap-planted', 'vol-7', '2026-11-21T02:50:00Z', runbookTags(RUN))],
  ])('a look-alike with %s is never restored', async (_name, arrange, planted) => {
    arrange();
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [planted] });
    const [c, s, m] = clients();
    const selection = await select(c, event, NOW, s, m);
    expect([selection.found, selection.snapshots]).toEqual([false, []]);
  });

  test('a creator names one way its runs are recorded, never two', () => {
    expect(() => parseEvent({ ...event, creators: [{ managedBy: 'x', executionTagKey: 'k', windowId: WINDOW, automationDocument: DOCUMENT }] }))
      .toThrow('a creator names at most one of stateMachineArn, windowId and automationDocument');
    expect(() => parseEvent({ ...event, creators: [{ managedBy: 'x', executionTagKey: 'k', windowId: '' }] }))
      .toThrow('a creator names at most one of stateMachineArn, windowId and automationDocument, each a non-empty string');
  });
});

describe('a synthesized drill: the records it asks for, and the calls its role allows', () => {
  test('window, runbook and job creators of one purpose: each artefact checked with its own service, every call allowed by the role', async () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    const window = new FsfreezeMaintenanceWindow(stack, 'Fsfreeze', {
      purpose: 'orders-db', schedule: events.Schedule.cron({ hour: '2', minute: '0' }), targets: MaintenanceTargets.tagged({ App: 'orders' }), mountPoints: ['/data'],
    });
    const runbook = new PreChangeSnapshot(stack, 'PreChange', { purpose: 'orders-db', retain: Retention.age(Duration.days(14)) });
    const job = new ConsistentSnapshotJob(stack, 'Job', { purpose: 'orders-db', instances: { tags: { App: 'orders' } }, retain: Retention.count(7) });
    const drill = new RestoreDrill(stack, 'Drill', { purpose: 'orders-db', schedule: events.Schedule.rate(Duration.days(7)), validation: ['true'] });
    const template = checkedTemplate(stack);
    const definition = definitionOf(stack, stack.getLogicalId(drill.stateMachine.node.defaultChild as any));
    const statesOf = (d: any): Record<string, any> => Object.assign({}, ...Object.entries<any>(d.States).map(([name, st]) => ({
      [name]: st, ...Object.assign({}, ...[...st.Branches ?? [], ...st.ItemProcessor ? [st.ItemProcessor] : []].map(statesOf)),
    })));
    const payload: SelectEvent = renderIntrinsics(statesOf(definition).SelectRestorePoint.Parameters, { template });
    const windowId = renderIntrinsics(stack.resolve(window.windowId), { template });
    const documentName = renderIntrinsics(stack.resolve(runbook.documentName), { template });
    const machineArn = renderIntrinsics(stack.resolve(job.stateMachine.stateMachineArn), { template });

    // the drill asks for each creator's own record
    const byManagedBy = Object.fromEntries((payload.creators ?? []).map((c) => [c.managedBy, c]));
    expect(byManagedBy['TestStack/Fsfreeze']).toEqual({ managedBy: 'TestStack/Fsfreeze', executionTagKey: 'backup:window-id', windowId });
    expect(byManagedBy['TestStack/PreChange']).toEqual(expect.objectContaining({ automationDocument: documentName }));
    expect(byManagedBy['TestStack/Job']).toEqual(expect.objectContaining({ stateMachineArn: machineArn }));

    // WHEN the real handler selects among one artefact of each creator, each with its record
    const creator = (name: string) => byManagedBy[name]!;
    const tags = (name: string, execution: string, instance: string) => ({
      [payload.purposeTagKey]: 'orders-db', [payload.managedByTagKey!]: name, [creator(name).executionTagKey]: execution, 'backup:source-instance': instance,
    });
    const automationId = '8a3b1c2d-1111-4a5b-9c8d-0e1f2a3b4c5d';
    const jobRun = `${machineArn.replace(':stateMachine:', ':execution:')}:run-1`;
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        snap('snap-window', 'vol-1', '2026-11-21T02:01:00Z', tags('TestStack/Fsfreeze', windowId, 'i-0000000000000000a')),
        snap('snap-runbook', 'vol-2', '2026-11-20T10:00:30Z', tags('TestStack/PreChange', automationId, 'i-0000000000000000b')),
        snap('snap-job', 'vol-3', '2026-11-19T04:00:30Z', tags('TestStack/Job', jobRun, 'i-0000000000000000c')),
      ],
    });
    ssm.on(DescribeMaintenanceWindowExecutionsCommand).callsFake(windowExecutionsModel({ [windowId]: dailyRuns(windowId, [21]) }));
    ssm.on(GetAutomationExecutionCommand, { AutomationExecutionId: automationId }).resolves({
      AutomationExecution: { DocumentName: documentName, ExecutionStartTime: new Date('2026-11-20T10:00:00Z'), ExecutionEndTime: new Date('2026-11-20T10:04:00Z') },
    });
    sfn.on(DescribeExecutionCommand, { executionArn: jobRun }).resolves({ executionArn: jobRun, startDate: new Date('2026-11-19T04:00:00Z'), stopDate: new Date('2026-11-19T04:05:00Z') });
    const [c, s, m] = clients();
    const selection = await select(c, payload, NOW, s, m);

    // THEN the newest, the window's, is restored, and all three records were read
    expect(selection.snapshots.map((x) => x.snapshotId)).toEqual(['snap-window']);
    const calls = [
      ...ec2.calls().map((x) => ({ service: 'ec2', command: x.args[0].constructor.name, input: x.args[0].input })),
      ...sfn.calls().map((x) => ({ service: 'sfn', command: x.args[0].constructor.name, input: x.args[0].input })),
      ...ssm.calls().map((x) => ({ service: 'ssm', command: x.args[0].constructor.name, input: x.args[0].input })),
    ];
    const functionId = stack.getLogicalId(drill.node.findChild('SelectFunction').node.defaultChild as any);
    const replay = await replayHandlerCalls(template, functionId, calls);
    expect(replay.results.map((r) => `${r.action} ${r.resource}`).sort()).toEqual([
      'ec2:DescribeSnapshots *',
      `ssm:DescribeMaintenanceWindowExecutions arn:aws:ssm:us-east-1:123456789012:maintenancewindow/${windowId}`,
      `ssm:GetAutomationExecution arn:aws:ssm:us-east-1:123456789012:automation-execution/${automationId}`,
      `states:DescribeExecution ${jobRun}`,
    ]);
    expect(replay.denied).toEqual([]);
    expect(replay.unmodelled).toEqual([]);

    // and the role reads no other window's executions
    const other = await replayHandlerCalls(template, functionId, [
      { service: 'ssm', command: 'DescribeMaintenanceWindowExecutionsCommand', input: { WindowId: 'mw-0ffffffffffffffff' } },
    ]);
    expect(other.denied).toEqual([expect.stringContaining('maintenancewindow/mw-0ffffffffffffffff -> ImplicitlyDenied')]);
  });
});
