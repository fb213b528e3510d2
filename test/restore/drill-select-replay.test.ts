/**
 * Issue 16 and 19: the payload a synthesized drill sends its select function names each creator's
 * own record (window, runbook, job); the real handler reads each with its own service, and every
 * call it made is evaluated against the select function's synthesized role (test/support/call-replay).
 * Split from restore-drill-select-records.test.ts: it synthesizes through the gates (seconds), the
 * handler-only tests there run in the mutation module's fast list.
 */
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DescribeMaintenanceWindowExecutionsCommand, GetAutomationExecutionCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { mockClient } from 'aws-sdk-client-mock';
import { definitionOf } from './drill-harness';
import { dailyRuns, snap, windowExecutionsModel } from './drill-select-ssm';
import { select, SelectEvent } from '../../lambda/restore/drill-select';
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
const clients = () => [ec2 as unknown as EC2Client, sfn as unknown as SFNClient, ssm as unknown as SSMClient] as const;

beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

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
