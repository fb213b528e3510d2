/**
 * The job's heartbeat is the metric its runs publish: the synthesized state machine runs locally
 * (aws-local-stepfunctions) with the real metrics handler on a mocked CloudWatch client, configured
 * from the metrics function's environment in the template, and the datapoints it sends are
 * evaluated against the synthesized heartbeat alarm as CloudWatch evaluates alarms.
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, execute, healthyStubs, lambdaStep, Stub } from './local-execution';
import { stateMachineDefinition, userFunction } from './support';
import { publish, readConfig } from '../../lambda/orchestration/job-metrics';
import { ConsistentSnapshotJob, Retention, SnapshotStep } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { datapointsOf, inAlarm } from '../support/alarm-evaluation';

const cw = mockClient(CloudWatchClient);
let template: any;
let definition: any;
let alarm: any;
let env: Record<string, string>;

beforeAll(() => {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  const job = new ConsistentSnapshotJob(stack, 'OrdersDb', {
    purpose: 'orders-db',
    instances: { tags: { App: 'orders' } },
    schedule: events.Schedule.cron({ hour: '2', minute: '0' }),
    before: [SnapshotStep.lambdaInvoke(userFunction(stack, 'EnterHotBackup'))],
    after: [SnapshotStep.lambdaInvoke(userFunction(stack, 'LeaveHotBackup'))],
    retain: Retention.count(7),
  });
  template = checkedTemplate(stack);
  definition = stateMachineDefinition(template);
  alarm = template.Resources[stack.getLogicalId(job.heartbeatAlarm!.node.defaultChild as any)].Properties;
  env = template.Resources[stack.getLogicalId(job.metricsFunction.node.defaultChild as any)].Properties.Environment.Variables;
}, 300_000);

beforeEach(() => {
  cw.reset();
  cw.on(PutMetricDataCommand).resolves({});
});

/** The run's report states call the real handler, configured as the deployed function is. */
function reporting(stubs: Record<string, Stub>): Record<string, Stub> {
  const report: Stub = (input) => publish(cw as unknown as CloudWatchClient, readConfig(env), input);
  return { ...stubs, Before1: lambdaStep, After1: lambdaStep, ReportSuccess: report, ReportFailure: report };
}

const AT = Date.UTC(2026, 10, 30, 2, 10);

test('the heartbeat alarm treats a job that never runs as silence, over 1.5 days for a daily schedule', () => {
  expect(alarm).toMatchObject({ TreatMissingData: 'breaching', ComparisonOperator: 'LessThanThreshold', Threshold: 1 });
  expect(alarm.Period * alarm.EvaluationPeriods).toBe(1.5 * 86_400);
  expect(inAlarm(alarm, [], AT)).toBe(true);
});

test('a successful run publishes the datapoint its heartbeat alarm counts, and quiets it', async () => {
  const run = await execute(definition, reporting(healthyStubs()));
  expect(run.error).toBeUndefined();
  const points = datapointsOf(alarm, cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input), AT);
  expect(points).toEqual([{ at: AT, value: 1 }]);
  expect(inAlarm(alarm, points, AT + alarm.Period * 1000)).toBe(false);
});

test('a failed run is no heartbeat', async () => {
  const run = await execute(definition, reporting({ ...healthyStubs(), CreateSnapshots: () => { throw awsError('Ec2.InternalError'); } }));
  expect(run.error).toBeDefined();
  const points = datapointsOf(alarm, cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input), AT);
  expect(points).toEqual([{ at: AT, value: 0 }]);
  expect(inAlarm(alarm, points, AT + alarm.Period * 1000)).toBe(true);
});
