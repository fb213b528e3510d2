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
 * The synthesized drill's payload, replayed against its role, is in drill-select-replay.test.ts (it
 * synthesizes, so it stays out of the mutation module's fast test list).
 */
import { DescribeSnapshotsCommand, EC2Client, Snapshot } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  AutomationExecutionNotFoundException, DescribeMaintenanceWindowExecutionsCommand, GetAutomationExecutionCommand, MaintenanceWindowExecution,
  SSMClient, SSMServiceException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { dailyRuns, snap, windowExecutionsModel } from './drill-select-ssm';
import { parseEvent, select, SelectEvent } from '../../lambda/restore/drill-select';

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const NOW = new Date('2026-11-21T03:00:00Z');
const WINDOW = 'mw-0c1d2e3f4a5b6c7d8';
const DOCUMENT = 'Ledger-PreChangeSnapshot-Document-AbC123';

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

  test('one GetAutomationExecution per execution, however many snapshots name it', async () => {
    ssm.on(GetAutomationExecutionCommand, { AutomationExecutionId: RUN }).resolves(run(DOCUMENT, '2026-11-21T01:00:00Z', '2026-11-21T01:03:00Z'));
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [1, 2, 3].map((n) => snap(`snap-runbook-${n}`, `vol-${n}`, `2026-11-21T01:00:3${n}Z`, runbookTags(RUN))),
    });
    expect(await chosen()).toEqual(['snap-runbook-1', 'snap-runbook-2', 'snap-runbook-3']);
    expect(ssm.commandCalls(GetAutomationExecutionCommand).map((c) => c.args[0].input)).toEqual([{ AutomationExecutionId: RUN }]);
  });

  test('a creator names one way its runs are recorded, never two', () => {
    expect(() => parseEvent({ ...event, creators: [{ managedBy: 'x', executionTagKey: 'k', windowId: WINDOW, automationDocument: DOCUMENT }] }))
      .toThrow('creators[0] names at most one of stateMachineArn, windowId and automationDocument');
    expect(() => parseEvent({ ...event, creators: [{ managedBy: 'x', executionTagKey: 'k', windowId: '' }] }))
      .toThrow('creators[0] names at most one of stateMachineArn, windowId and automationDocument, each a non-empty string');
  });
});
