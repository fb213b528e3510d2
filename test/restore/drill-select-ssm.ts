/**
 * SSM and EC2 answers for the drill's select handler tests, modelled on the API references:
 * DescribeMaintenanceWindowExecutions honours `WindowId`, the `ExecutionStartSince` filter (an
 * ISO 8601 time, else ValidationException), `MaxResults` (at most 100) and its own `NextToken`
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeMaintenanceWindowExecutions.html).
 */
import { Snapshot } from '@aws-sdk/client-ec2';
import { MaintenanceWindowExecution, SSMServiceException } from '@aws-sdk/client-ssm';

export const snap = (id: string, volume: string, start: string, tags: Record<string, string>): Snapshot => ({
  SnapshotId: id,
  VolumeId: volume,
  StartTime: new Date(start),
  State: 'completed',
  VolumeSize: 8,
  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
});

/** SSM's record of a window's executions, newest first, paged as SSM pages it. */
export function windowExecutionsModel(byWindow: Record<string, MaintenanceWindowExecution[]>) {
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
export const dailyRuns = (windowId: string, days: number[]): MaintenanceWindowExecution[] => days.map((day) => ({
  WindowId: windowId,
  WindowExecutionId: `exec-${windowId}-${day}`,
  Status: 'SUCCESS',
  StartTime: new Date(Date.UTC(2026, 10, day, 2, 0)),
  EndTime: new Date(Date.UTC(2026, 10, day, 2, 20)),
}));
