/**
 * ConsistentSnapshotJob at 1,000 matching instances (2,000 snapshots per run) in the scale
 * harness: realistic DescribeInstances records (about 3 KiB each) in pages, every connector
 * result and state input/output within Step Functions' 256 KiB
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 */
import * as fs from 'fs';
import * as path from 'path';
import { MAX_CAPTURE_UNITS, MAX_JOB_INSTANCES, VERIFY_MAX_POLLS } from '../../src/orchestration/workflow';
import { awsError, childStates, EXECUTION_ID, expectFailureTail } from '../orchestration/local-execution';
import { jobDefinition, runJob, SentCommand } from '../support/scale/job';
import { HISTORY_EVENT_LIMIT, PAYLOAD_LIMIT_BYTES } from '../support/scale/limits';

jest.setTimeout(300_000);

describe('ConsistentSnapshotJob at scale', () => {
  test('1,000 instances: every instance snapshotted once, verified, no payload over 256 KiB', async () => {
    const { run, meter, account } = await runJob(1000);
    console.log('job, 1,000 instances:', JSON.stringify({ largest: meter.largest, requests: account.requests }));
    expect(run.error).toBeUndefined();
    expect(meter.violations).toEqual([]);
    expect(meter.maxBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    expect(account.requests.CreateSnapshots).toBe(1000);
    // 20 records per page: 50 pages for 1,001 matching tags... of which 1,000 match
    expect(account.requests.DescribeInstances).toBe(50);
    expect(account.snapshots.size).toBe(2000);
    // verified by the execution tag, no id in the state: pending at the first poll, none pending or
    // in error at the second, then the 2,000 completed ones counted in 20 pages of 100
    expect(run.order.filter((s) => s === 'FindPendingSnapshots')).toHaveLength(2);
    expect(run.order.filter((s) => s === 'FindFailedSnapshots')).toHaveLength(1);
    expect(run.order.filter((s) => /^Count(More)?CompletedSnapshots$/.test(s))).toHaveLength(20);
    expect(run.calls.find((c) => c.state === 'ReportSuccess')?.input.artefacts).toBe(2000);
  });

  test('1,000 instances, AMIs: every instance imaged once, no payload over 256 KiB', async () => {
    const { run, meter, account } = await runJob(1000, 'images');
    expect(run.error).toBeUndefined();
    expect(meter.violations).toEqual([]);
    expect(account.requests.CreateImage).toBe(1000);
  });

  test('a page boundary: 41 instances are three pages, each instance once', async () => {
    const { run, account } = await runJob(41);
    expect(run.error).toBeUndefined();
    expect(account.requests.DescribeInstances).toBe(3);
    const ids = run.calls.filter((c) => c.state === 'CreateSnapshots').map((c) => c.input.InstanceSpecification.InstanceId);
    expect(new Set(ids).size).toBe(41);
    expect(ids).toHaveLength(41);
  });

  describe('AMIs with a stop (stop, poll, image, start per instance)', () => {
    // a child execution of a distributed Map has its own context object: $$.Execution there is the
    // child's, not the job's (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
    // The local runner gives the children the job's, so this is checked on the definition.
    test('no state of a child execution reads $$.Execution (the tags and AMI names name the job\'s execution)', () => {
      const definition = jobDefinition('stopped-images');
      const children = childStates(definition);
      expect(Object.keys(children)).toEqual(expect.arrayContaining(['StopInstance', 'CreateImage', 'StartInstance']));
      const capture = definition.States.Capture;
      expect(capture.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      expect(JSON.stringify(capture.ItemProcessor)).not.toContain('$$.Execution');
      expect(capture.ItemSelector).toMatchObject({ job: { 'executionId.$': '$$.Execution.Id', 'executionName.$': '$$.Execution.Name' } });
    });

    test('1,000 instances: each stopped, imaged and started once; the job\'s history and each child\'s within 25,000 events', async () => {
      const { run, meter, account, stopped } = await runJob(1000, 'stopped-images');
      const children = Object.keys(meter.childEvents).length;
      console.log('job, 1,000 stopped instances, AMIs:', JSON.stringify({ events: meter.events, longestChild: meter.maxChildEvents, children, largest: meter.largest }));
      console.log('requests:', JSON.stringify(account.requests));
      expect(run.error).toBeUndefined();
      expect(meter.violations).toEqual([]);
      expect(Object.keys(meter.childEvents)).toHaveLength(1000);
      expect(meter.events).toBeLessThan(HISTORY_EVENT_LIMIT);
      // the job's history does not grow with the instances: a few hundred events for verification batches and paging
      expect(meter.events).toBeLessThan(2000);
      expect(meter.maxChildEvents).toBeLessThan(100);
      expect(account.requests).toMatchObject({ StopInstances: 1000, CreateImage: 1000, StartInstances: 1000 });
      expect([...stopped.keys()]).toEqual([]);
      const images = run.calls.filter((c) => c.state === 'CreateImage').map((c) => c.input);
      expect(new Set(images.map((i) => i.InstanceId)).size).toBe(1000);
      // tagged with the job's execution id, as the expiry and the drill read it
      for (const i of images) {
        expect(i.TagSpecifications[0].Tags).toContainEqual(expect.objectContaining({ Value: EXECUTION_ID }));
        expect(i.Name).toContain('run-2024-06-01');
      }
      // verified in batches of 100
      expect(run.calls.filter((c) => c.state === 'DescribeImages').map((c) => c.input.ImageIds.length)).toEqual(Array(10).fill(100));
    });

    test('1,000 instances, one fails to image: every other instance is imaged and started again, and the job fails with that instance\'s error', async () => {
      const { run, meter, account, stopped } = await runJob(1000, 'stopped-images', {
        stubs: (own) => ({
          CreateImage: (input, attempt) => {
            if (input.InstanceId === 'i-000000000000001f5') {
              throw awsError('Ec2.InvalidParameterValue', 'the root device cannot be imaged');
            }
            return own.CreateImage(input, attempt);
          },
        }),
      });
      expect(meter.violations).toEqual([]);
      expect(run.error?.name).toBe('Ec2.InvalidParameterValue');
      expect(run.error?.cause).toContain('1 of 1000 instances failed, the first i-000000000000001f5');
      expect(account.requests.CreateImage).toBe(999);
      expect([...stopped.keys()]).toEqual([]);
      expect(run.order.filter((s) => s === 'ReportFailure')).toHaveLength(1);
    });
  });

  // SendCommand takes at most 50 instance ids (SSM API reference, SendCommand InstanceIds): a
  // Run Command step sends its instances in batches, every batch polled on its own command id
  describe('Run Command steps (freeze before, thaw after)', () => {
    const batchesOf = (commands: Map<string, SentCommand>, step: string) =>
      [...commands.values()].filter((c) => c.step === step).map((c) => c.instanceIds);
    const instanceIds = (n: number) => Array.from({ length: n }, (_, i) => `i-${(i + 1).toString(16).padStart(17, '0')}`);

    test('1,000 instances: each step sends 20 commands of at most 50 ids, every instance once, each command polled', async () => {
      const { run, meter, account, commands } = await runJob(1000, 'freeze');
      console.log('job, 1,000 instances, freeze and thaw:', JSON.stringify({ events: meter.events, largest: meter.largest }));
      console.log('requests:', JSON.stringify(account.requests));
      expect(run.error).toBeUndefined();
      expect(meter.violations).toEqual([]);
      expect(meter.events).toBeLessThan(HISTORY_EVENT_LIMIT);
      for (const step of ['Before1', 'After1']) {
        const batches = batchesOf(commands, step);
        expect(batches).toHaveLength(20);
        expect(batches.every((b) => b.length <= 50)).toBe(true);
        expect(batches.flat().sort()).toEqual(instanceIds(1000));
      }
      // every command was looked at until it succeeded: once not yet listed, once Success
      const polls = run.calls.filter((c) => c.state.endsWith('.ListCommands')).map((c) => c.input.CommandId);
      expect(new Set(polls)).toEqual(new Set(commands.keys()));
      expect(polls).toHaveLength(2 * commands.size);
      expect(account.requests.CreateSnapshots).toBe(1000);
      // the freeze of every batch before the first snapshot, the thaw of every batch after the last
      const firstCapture = run.order.indexOf('CreateSnapshots');
      expect(run.order.lastIndexOf('Before1.ListCommands')).toBeLessThan(firstCapture);
      expect(run.order.indexOf('After1.SendCommand')).toBeGreaterThan(run.order.lastIndexOf('CreateSnapshots'));
    });

    // Step Functions fails a Map at its first failed iteration and stops the others
    // (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html); the local runner
    // lets them run on, so this is held on the definition: no batch can fail its iteration
    test('no batch fails its iteration: every Task in it catches States.ALL, and it holds no Fail state', () => {
      const definition = jobDefinition('freeze');
      for (const step of ['Before1', 'After1']) {
        const states = definition.States[step].Branches[0].States[`${step}.EachBatch`].ItemProcessor.States;
        const unguarded = Object.entries<any>(states)
          .filter(([, st]) => st.Type === 'Fail' || (st.Type === 'Task' && !(st.Catch ?? []).some((c: any) => c.ErrorEquals.includes('States.ALL'))))
          .map(([name]) => name);
        expect(unguarded).toEqual([]);
      }
    });

    test('51 instances: two commands, of 50 and 1', async () => {
      const { run, commands } = await runJob(51, 'freeze');
      expect(run.error).toBeUndefined();
      expect(batchesOf(commands, 'Before1').map((b) => b.length)).toEqual([50, 1]);
      expect(batchesOf(commands, 'After1').flat().sort()).toEqual(instanceIds(51));
    });

    test('1,000 instances, the freeze fails in one batch: every batch is thawed, nothing is captured, the job fails with the step\'s error', async () => {
      const failing = new Set<string>();
      const { run, commands } = await runJob(1000, 'freeze', {
        stubs: (own) => ({
          'Before1.SendCommand': (input, attempt) => {
            const answer: any = own['Before1.SendCommand'](input, attempt);
            if (input.InstanceIds.includes('i-000000000000001f5')) {
              failing.add(answer.Command.CommandId);
            }
            return answer;
          },
          'Before1.ListCommands': (input, attempt) => failing.has(input.CommandId)
            ? { Commands: [{ CommandId: input.CommandId, Status: 'Failed' }] } : own['Before1.ListCommands'](input, attempt),
        }),
      });
      expect(run.error?.name).toBe('SnapshotStep.CommandFailed');
      expect(run.order).not.toContain('CreateSnapshots');
      // two attempts of the step (retries: 1), each sending every batch
      expect(batchesOf(commands, 'Before1').flat().sort()).toEqual([...instanceIds(1000), ...instanceIds(1000)].sort());
      expect(batchesOf(commands, 'After1').flat().sort()).toEqual(instanceIds(1000));
    });

    test('1,000 instances, the thaw of one batch cannot be sent: every other batch is still thawed, and the job fails', async () => {
      const { run, commands } = await runJob(1000, 'freeze', {
        stubs: (own) => ({
          'After1.SendCommand': (input, attempt) => {
            if (input.InstanceIds.includes('i-00000000000000065')) {
              throw awsError('Ssm.InvalidInstanceId', 'i-00000000000000065 is not in a valid state for this command');
            }
            return own['After1.SendCommand'](input, attempt);
          },
        }),
      });
      expect(run.error?.name).toBe('SnapshotJob.AfterStepFailed');
      expect(run.error?.cause).toContain('Ssm.InvalidInstanceId');
      // the one batch of 50 that holds the instance is the only one not thawed (on both attempts of the step)
      const thawed = new Set(batchesOf(commands, 'After1').flat());
      const missed = instanceIds(1000).filter((i) => !thawed.has(i));
      expect(missed).toHaveLength(50);
      expect(missed).toContain('i-00000000000000065');
      expect(batchesOf(commands, 'After1')).toHaveLength(2 * 19);
    });
  });
});

/**
 * The size a snapshot run holds and the pre-flight check for what still cannot work. No snapshot
 * id is carried: each Map iteration returns one short entry per snapshot (its state) and the
 * verification finds the run's snapshots by its execution tag. The largest payload that grows
 * with the snapshots is the capture's Map result (its iterations' outputs, measured by the
 * harness before the ResultSelector); with the instance ids (twice in a Run Command step) it is
 * bounded by MAX_CAPTURE_UNITS and MAX_JOB_INSTANCES. Past them a payload over 256 KiB would fail
 * with States.DataLimitExceeded, which no Catch handles
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html), inside the
 * pause window: so a run too large fails before its first before step.
 */
describe('ConsistentSnapshotJob: a run at a platform team\'s size completes within 256 KiB; what still cannot work fails before it freezes anything', () => {
  /** `instances` instances whose volumes sum to `volumes`: the first ones one volume more than the rest. */
  const spread = (volumes: number, instances = 1000) => (i: number) => Math.floor(volumes / instances) + (i < volumes % instances ? 1 : 0);
  const thawed = (commands: Map<string, SentCommand>) => [...commands.values()].filter((c) => c.step === 'After1').flatMap((c) => c.instanceIds);

  test('the bounds are derived from AWS\'s limits: 256 KiB per payload (10 bytes a snapshot entry) and 25,000 history events (9 an instance)', () => {
    // a snapshot's entry in the Map result: its state, quoted, and a comma
    const bytes = (x: string) => JSON.stringify([x, '']).length - JSON.stringify(['']).length;
    expect(MAX_CAPTURE_UNITS).toBe(Math.floor((262_144 - 32_768) / bytes('pending')));
    // an instance's own entry, {"states":[]} and a comma, fits in the two units it counts as
    expect(JSON.stringify([{ states: [] }, '']).length - JSON.stringify(['']).length).toBeLessThanOrEqual(2 * bytes('pending'));
    // 25,000 events less the worst verification (240 polls of 15 events, a count of 230 pages of 10) and 2,000 headroom, 9 an instance
    expect(MAX_JOB_INSTANCES).toBe(Math.floor((25_000 - 240 * 15 - Math.ceil(MAX_CAPTURE_UNITS / 100) * 10 - 2_000) / 9));
    // the instance ids, twice in a Run Command step's state, bind later
    expect(MAX_JOB_INSTANCES * 2 * bytes('i-0123456789abcdef0')).toBeLessThan(262_144 - 32_768);
    // the API doc and README state both bounds
    for (const file of ['src/orchestration/consistent-snapshot-job-props.ts', 'README.md']) {
      const text = fs.readFileSync(path.join(__dirname, '../..', file), 'utf8');
      expect(text).toContain(MAX_CAPTURE_UNITS.toLocaleString('en-US'));
      expect(text).toContain(MAX_JOB_INSTANCES.toLocaleString('en-US'));
    }
  });

  test('1,000 instances x 10 volumes, freeze and thaw, verified: SUCCEEDED, 10,000 snapshots, every payload within 256 KiB', async () => {
    const { run, meter, commands, account } = await runJob(1000, 'freeze', { volumes: 10 });
    console.log('job, 1,000 instances x 10 volumes:', JSON.stringify({ largest: meter.largest, maxBytes: meter.maxBytes, events: meter.events, requests: account.requests }));
    expect(run.error).toBeUndefined();
    expect(meter.violations).toEqual([]);
    expect(meter.maxBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    expect(meter.events).toBeLessThan(HISTORY_EVENT_LIMIT);
    expect(account.snapshots.size).toBe(10_000);
    expect([...account.snapshots.values()].every((s) => s.State === 'completed')).toBe(true);
    expect(thawed(commands).sort()).toHaveLength(1000);
    // the 10,000 completed snapshots counted in 100 pages; the success metrics report them all
    expect(run.order.filter((s) => /^Count(More)?CompletedSnapshots$/.test(s))).toHaveLength(100);
    expect(run.calls.find((c) => c.state === 'ReportSuccess')?.input.artefacts).toBe(10_000);
    // the capture's Map result (its iterations' outputs) was measured: the largest payload that grows with the snapshots
    expect(meter.largest.result.where).toBe('Capture (its iterations\' outputs)');
  });

  test('1,000 instances x 10 volumes, unverified: SUCCEEDED within 256 KiB', async () => {
    const { run, meter, account } = await runJob(1000, 'freeze-unverified', { volumes: 10 });
    expect(run.error).toBeUndefined();
    expect(meter.violations).toEqual([]);
    expect(account.snapshots.size).toBe(10_000);
    expect(run.order).not.toContain('FindPendingSnapshots');
    expect(run.calls.find((c) => c.state === 'ReportSuccess')?.input.artefacts).toBe(10_000);
  });

  test(`1,000 instances with ${(MAX_CAPTURE_UNITS - 2000).toLocaleString('en-US')} volumes (exactly the bound): frozen, captured, verified, thawed, every payload within 256 KiB; one more is refused`, async () => {
    const { run, meter, account, commands } = await runJob(1000, 'freeze', { volumes: spread(MAX_CAPTURE_UNITS - 2000) });
    console.log('job at the bound:', JSON.stringify({ largest: meter.largest, maxBytes: meter.maxBytes, events: meter.events }));
    expect(run.error).toBeUndefined();
    expect(meter.violations).toEqual([]);
    expect(meter.maxBytes).toBeLessThanOrEqual(PAYLOAD_LIMIT_BYTES);
    expect(account.snapshots.size).toBe(MAX_CAPTURE_UNITS - 2000);
    expect(thawed(commands)).toHaveLength(1000);
    const over = await runJob(1000, 'freeze', { volumes: spread(MAX_CAPTURE_UNITS - 2000 + 1) });
    expect(over.run.error?.name).toBe('SnapshotJob.JobTooLarge');
    expect(over.run.error?.cause).toContain(`${MAX_CAPTURE_UNITS - 2000 + 1} volumes across 1000 instances count as ${MAX_CAPTURE_UNITS + 1}`);
    expect(over.run.error?.cause).toContain('split the selection by tag');
    // no freeze was sent, so none needs a thaw; nothing captured; reported as any failure
    expect(over.commands.size).toBe(0);
    expect(over.run.order.filter((s) => /^(Before|After)\d/.test(s))).toEqual([]);
    expect(over.run.order).not.toContain('CreateSnapshots');
    expectFailureTail(over.run);
    expect(over.meter.violations).toEqual([]);
  });

  test(`${MAX_JOB_INSTANCES.toLocaleString('en-US')} instances with ${(MAX_CAPTURE_UNITS - 2 * MAX_JOB_INSTANCES).toLocaleString('en-US')} volumes (both bounds at once), freeze and thaw: within 256 KiB and, with the verification\'s worst case, 25,000 events; one instance more is refused`, async () => {
    const volumes = MAX_CAPTURE_UNITS - 2 * MAX_JOB_INSTANCES;
    const { run, meter, account, commands } = await runJob(MAX_JOB_INSTANCES, 'freeze', { volumes: spread(volumes, MAX_JOB_INSTANCES) });
    console.log(`job, ${MAX_JOB_INSTANCES} instances, ${volumes} volumes:`, JSON.stringify({ largest: meter.largest, maxBytes: meter.maxBytes, events: meter.events }));
    expect(run.error).toBeUndefined();
    expect(meter.violations).toEqual([]);
    expect(account.snapshots.size).toBe(volumes);
    expect(thawed(commands)).toHaveLength(MAX_JOB_INSTANCES);
    // here the snapshots complete at the second poll; a slow run polls up to 240 times (15 events each)
    const polls = run.order.filter((s) => s === 'FindPendingSnapshots').length;
    expect(meter.events + (VERIFY_MAX_POLLS - polls) * 15).toBeLessThan(HISTORY_EVENT_LIMIT);
    const over = await runJob(MAX_JOB_INSTANCES + 1, 'freeze', { volumes: 1 });
    expect(over.run.error?.name).toBe('SnapshotJob.JobTooLarge');
    expect(over.commands.size).toBe(0);
  });
});
