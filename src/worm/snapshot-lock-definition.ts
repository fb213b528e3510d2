/** What the snapshot lock state machine is told at synthesis. */
export interface SnapshotLockDefinitionOptions {
  readonly purposeTagKey: string;
  /** Empty: any snapshot carrying the purpose tag. */
  readonly purposes: string[];
  readonly mode: string;
  readonly durationDays: number;
  readonly coolOffHours?: number;
  /** Where each run that locked (or found locked) at least one snapshot records its heartbeat. @default - none recorded */
  readonly heartbeat?: { readonly namespace: string; readonly metricName: string; readonly dimensions: { Name: string; Value: string }[] };
}

const DAY_MS = 86_400_000;

/**
 * The JSONata definition of the snapshot lock (Amazon States Language, AWS SDK integrations only).
 *
 * SnapshotIds: the ids an "EBS Snapshot Notification" names (createSnapshot and copySnapshot carry
 * one `snapshot_id`, createSnapshots a list), as ARNs. FindTaggedSnapshots keeps the ones with
 * the purpose tag. FindExistingLocks reads their locks (DescribeLockedSnapshots); AlreadyLocked
 * leaves alone a snapshot locked at least as strictly until (within a day of) the wanted expiry,
 * so a redelivered event does nothing. Lock asks for the configured mode, except that a
 * compliance lock stays compliance (EC2 lets it only be extended), and gives the cool-off
 * period only to a new lock. Neither Describe call is ever made without ids: it would list the
 * whole account.
 */
export function snapshotLockDefinition(o: SnapshotLockDefinitionOptions): object {
  const retry = [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 6, JitterStrategy: 'FULL' }];
  const filter = o.purposes.length > 0
    ? { Name: `tag:${o.purposeTagKey}`, Values: o.purposes }
    : { Name: 'tag-key', Values: [o.purposeTagKey] };
  const strictness = "{'governance': 1, 'compliance-cooloff': 2, 'compliance': 2}";
  const wanted = o.mode === 'compliance' ? 2 : 1;
  const existing = '$l := $locks[SnapshotId = $states.input]';
  // now = the execution's start, as ISO 8601 (the same clock for every snapshot of the run)
  const alreadyLocked = `{% ( ${existing}; $exists($l.LockState) and $l.LockState != 'expired' and $exists($l.LockExpiresOn) ` +
    `and $toMillis($l.LockExpiresOn) >= $toMillis($states.context.Execution.StartTime) + ${o.durationDays * DAY_MS - DAY_MS} ` +
    `and $lookup(${strictness}, $l.LockState) >= ${wanted} ) %}`;
  const coolOff = o.coolOffHours !== undefined && o.mode === 'compliance'
    ? `, ($mode = 'compliance' and $fresh) ? {'CoolOffPeriod': ${o.coolOffHours}} : {}`
    : '';
  const lockArguments = `{% ( ${existing}; ` +
    "$compliant := $l.LockState in ['compliance', 'compliance-cooloff']; " +
    "$fresh := $not($exists($l.LockState)) or $l.LockState = 'expired'; " +
    `$mode := $compliant ? 'compliance' : '${o.mode}'; ` +
    `$merge([{'SnapshotId': $states.input, 'LockMode': $mode, 'LockDuration': ${o.durationDays}}${coolOff}]) ) %}`;
  return {
    Comment: 'Lock new EBS snapshots that carry the purpose tag (cdk-ebs-backup)',
    QueryLanguage: 'JSONata',
    StartAt: 'SnapshotIds',
    States: {
      SnapshotIds: {
        Type: 'Pass',
        Assign: {
          ids: "{% $distinct($append([], $map($append([$states.input.detail.snapshot_id], $states.input.detail.snapshots.snapshot_id), function($a) { $split($a, '/')[-1] }))) %}",
        },
        Next: 'AnySnapshot',
      },
      AnySnapshot: {
        Type: 'Choice',
        Choices: [{ Condition: '{% $count($ids) > 0 %}', Next: 'FindTaggedSnapshots' }],
        Default: 'NothingToLock',
      },
      NothingToLock: { Type: 'Succeed' },
      FindTaggedSnapshots: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:ec2:describeSnapshots',
        Arguments: { SnapshotIds: '{% $ids %}', Filters: [filter] },
        Output: '{% $append([], $states.result.Snapshots.SnapshotId) %}',
        Retry: retry,
        Next: 'AnyTagged',
      },
      AnyTagged: {
        Type: 'Choice',
        Choices: [{ Condition: '{% $count($states.input) > 0 %}', Next: 'FindExistingLocks' }],
        Default: 'NothingToLock',
      },
      FindExistingLocks: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:ec2:describeLockedSnapshots',
        Arguments: { SnapshotIds: '{% $states.input %}' },
        Assign: { locks: '{% $append([], $states.result.Snapshots) %}' },
        Output: '{% $states.input %}',
        Retry: retry,
        Next: 'LockEach',
      },
      LockEach: {
        Type: 'Map',
        Items: '{% $states.input %}',
        MaxConcurrency: 5,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'AlreadyLocked',
          States: {
            AlreadyLocked: {
              Type: 'Choice',
              Choices: [{ Condition: alreadyLocked, Next: 'LeaveAsIs' }],
              Default: 'Lock',
            },
            LeaveAsIs: { Type: 'Pass', Output: "{% {'snapshotId': $states.input, 'outcome': 'already-locked'} %}", End: true },
            Lock: {
              Type: 'Task',
              Resource: 'arn:aws:states:::aws-sdk:ec2:lockSnapshot',
              Arguments: lockArguments,
              Output: "{% {'snapshotId': $states.result.SnapshotId, 'outcome': 'locked', 'lockState': $states.result.LockState} %}",
              Retry: retry,
              End: true,
            },
          },
        },
        ...o.heartbeat ? { Next: 'RecordHeartbeat' } : { End: true },
      },
      ...o.heartbeat ? heartbeatStates(o.heartbeat, retry) : {},
    },
  };
}

/**
 * The heartbeat: how many purpose-tagged snapshots this run left locked. A run that found
 * none records nothing, so a rule, role or machine that stopped locking falls silent and
 * the heartbeat alarm (missing data breaching) fires; a failed publication is only that.
 */
function heartbeatStates(h: NonNullable<SnapshotLockDefinitionOptions['heartbeat']>, retry: object[]): object {
  return {
    RecordHeartbeat: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData',
      Arguments: {
        Namespace: h.namespace,
        MetricData: [{ MetricName: h.metricName, Value: '{% $count($states.input) %}', Unit: 'Count', Dimensions: h.dimensions }],
      },
      Output: '{% $states.input %}',
      Retry: retry,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'HeartbeatNotRecorded' }],
      End: true,
    },
    HeartbeatNotRecorded: { Type: 'Succeed' },
  };
}
