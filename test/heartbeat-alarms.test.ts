/**
 * Every mechanism the examples deploy has a heartbeat alarm (issue "silence always alarms"):
 * found from the template alone, its schedule read from the mechanism's own resource and its
 * longest gap computed by enumerating the firings (test/support/alarm-evaluation, independent of
 * the library's cron arithmetic). The alarm must watch the metric the mechanism publishes (its
 * namespace, name and dimensions, read from the mechanism's resources), treat missing data as
 * breaching, need every period of the window to be silent, and look back at least 1.5 times the
 * longest gap, or CloudWatch's 7-day maximum ("PutMetricAlarm": Period x EvaluationPeriods
 * <= 604,800 seconds).
 */
import { App } from 'aws-cdk-lib';
import { listExamples, loadExample } from '../examples/catalogue';
import { firings } from './support/alarm-evaluation';

const DAY = 86_400_000;
const FROM = Date.UTC(2025, 0, 1);

/** The longest gap between two firings of a schedule expression, over a year. */
function longestGapMs(expression: string): number {
  const times = firings(expression, FROM, FROM + 400 * DAY);
  let gap = 0;
  for (let i = 1; i < times.length; i++) {
    gap = Math.max(gap, times[i] - times[i - 1]);
  }
  return gap;
}

interface Mechanism {
  readonly what: string;
  /** Every schedule of the mechanism: any one of them firing is a sign of life. */
  readonly schedules: string[];
  readonly namespace: string;
  readonly metricName: string;
  /** The dimensions the mechanism publishes under, as rendered. */
  readonly dimensions: Array<{ Name: string; Value: unknown }>;
}

type Resources = Record<string, any>;

const pathOf = (r: any): string => r.Metadata?.['aws:cdk:path'] ?? '';
const parentPath = (p: string, levels: number) => p.split('/').slice(0, -levels).join('/');

/** A definition string with every reference as `<LogicalId>`. */
function flatten(value: any): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value['Fn::Join']) {
    return value['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : `<${p.Ref ?? p['Fn::GetAtt']?.[0] ?? '?'}>`)).join(value['Fn::Join'][0]);
  }
  return JSON.stringify(value);
}

/** What each mechanism of a template publishes, found from its resources. */
function mechanisms(resources: Resources): Mechanism[] {
  const out: Mechanism[] = [];
  const entries = Object.entries(resources);
  for (const [id, r] of entries) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::DLM::LifecyclePolicy' && p.PolicyDetails?.Schedules) {
      // DLM publishes to AWS/EBS by DLMPolicyId ("Monitor your policies using Amazon CloudWatch")
      out.push({
        what: `DLM policy ${id}`,
        schedules: p.PolicyDetails.Schedules.map((s: any) => s.CreateRule.CronExpression ?? `rate(${s.CreateRule.Interval} hours)`),
        namespace: 'AWS/EBS',
        metricName: p.PolicyDetails.PolicyType === 'IMAGE_MANAGEMENT' ? 'ImagesCreateCompleted' : 'SnapshotsCreateCompleted',
        dimensions: [{ Name: 'DLMPolicyId', Value: { Ref: id } }],
      });
    }
    if (r.Type === 'AWS::Backup::BackupPlan') {
      // AWS Backup publishes job counts by the vault's name ("AWS Backup metrics with Amazon CloudWatch")
      const rules = p.BackupPlan.BackupPlanRule;
      const vault = rules[0].TargetBackupVault;
      const vaultId = vault['Fn::GetAtt']?.[0] ?? vault.Ref;
      out.push({
        what: `backup plan ${id}`,
        schedules: rules.map((x: any) => x.ScheduleExpression),
        namespace: 'AWS/Backup',
        metricName: 'NumberOfBackupJobsCompleted',
        dimensions: [{ Name: 'BackupVaultName', Value: { 'Fn::GetAtt': [vaultId, 'BackupVaultName'] } }],
      });
    }
    if (r.Type === 'AWS::SSM::MaintenanceWindow') {
      // the window's housekeeping (the state machine whose definition names the window) publishes SnapshotsCreated
      const [, housekeeping] = entries.find(([, m]) => m.Type === 'AWS::StepFunctions::StateMachine'
        && flatten(m.Properties.DefinitionString).includes(`<${id}>`) && flatten(m.Properties.DefinitionString).includes('PublishMetrics'))!;
      const published = JSON.parse(flatten(housekeeping.Properties.DefinitionString)).States.PublishMetrics.Arguments;
      const datum = published.MetricData.find((d: any) => d.MetricName === 'SnapshotsCreated');
      out.push({ what: `maintenance window ${id}`, schedules: [p.Schedule], namespace: published.Namespace, metricName: 'SnapshotsCreated', dimensions: datum.Dimensions });
    }
    if (r.Type === 'AWS::Events::Rule' && p.ScheduleExpression && pathOf(r).endsWith('/Schedule/Resource')) {
      // a scheduled job or drill: what it publishes is in its metrics function's environment (job)
      // or in its definition's failure metric (drill)
      const owner = parentPath(pathOf(r), 2);
      const own = entries.filter(([, m]) => pathOf(m).startsWith(`${owner}/`));
      const fn = own.find(([, m]) => m.Type === 'AWS::Lambda::Function' && m.Properties.Environment?.Variables?.METRIC_NAMESPACE);
      if (fn) {
        const env = fn[1].Properties.Environment.Variables;
        out.push({ what: `job ${owner}`, schedules: [p.ScheduleExpression], namespace: env.METRIC_NAMESPACE, metricName: 'JobSucceeded', dimensions: [{ Name: 'Purpose', Value: env.PURPOSE }] });
        continue;
      }
      const target = resources[p.Targets[0].Arn.Ref];
      if (target?.Type !== 'AWS::StepFunctions::StateMachine') {
        continue; // a scheduled function (the pre-change expiry) deletes, it creates no backup
      }
      const states = JSON.parse(flatten(target.Properties.DefinitionString)).States;
      const failure = states.RecordDrillFailure?.Parameters;
      if (!failure) {
        out.push({ what: `unknown scheduled state machine ${owner}`, schedules: [p.ScheduleExpression], namespace: '?', metricName: '?', dimensions: [] });
        continue;
      }
      const datum = failure.MetricData[0];
      out.push({ what: `drill ${owner}`, schedules: [p.ScheduleExpression], namespace: failure.Namespace, metricName: datum.MetricName, dimensions: datum.Dimensions });
    }
  }
  return out;
}

const sameDimensions = (a: Array<{ Name: string; Value: unknown }>, b: Array<{ Name: string; Value: unknown }>) =>
  JSON.stringify([...a].map((d) => [d.Name, d.Value]).sort()) === JSON.stringify([...b].map((d) => [d.Name, d.Value]).sort());

/** Every problem with the heartbeats of a template's mechanisms. */
function heartbeatProblems(resources: Resources): { found: string[]; problems: string[] } {
  const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties);
  const found: string[] = [];
  const problems: string[] = [];
  for (const m of mechanisms(resources)) {
    found.push(m.what);
    const heartbeats = alarms.filter((a) => a.Namespace === m.namespace && a.MetricName === m.metricName
      && sameDimensions(a.Dimensions ?? [], m.dimensions)
      && a.ComparisonOperator === 'LessThanThreshold');
    if (heartbeats.length !== 1) {
      problems.push(`${m.what}: ${heartbeats.length} heartbeat alarms on ${m.namespace} ${m.metricName} ${JSON.stringify(m.dimensions)}`);
      continue;
    }
    const a = heartbeats[0];
    const gap = Math.min(...m.schedules.map(longestGapMs));
    const wanted = Math.min(1.5 * gap / 1000, 7 * 86_400);
    const window = a.Period * a.EvaluationPeriods;
    if (a.TreatMissingData !== 'breaching') {
      problems.push(`${m.what}: TreatMissingData ${a.TreatMissingData}`);
    }
    if (a.Threshold !== 1 || (a.DatapointsToAlarm ?? a.EvaluationPeriods) !== a.EvaluationPeriods) {
      problems.push(`${m.what}: alarms before the whole window is silent (threshold ${a.Threshold}, ${a.DatapointsToAlarm} of ${a.EvaluationPeriods})`);
    }
    if (window < wanted || window > 7 * 86_400 || a.Period > 86_400 || a.Period % 60 !== 0) {
      problems.push(`${m.what}: window ${window} s (${a.EvaluationPeriods} x ${a.Period}) for a longest gap of ${gap / 1000} s (wanted ${wanted} s)`);
    }
  }
  return { found, problems };
}

const builds = new Map<string, Resources[]>();
function synthesize(name: string): Resources[] {
  if (!builds.has(name)) {
    const app = new App({ context: { 'aws:cdk:enable-path-metadata': true } });
    loadExample(name).build(app);
    const templates = app.synth().stacksRecursively.map((s) => s.template.Resources ?? {});
    // a StackSet's member template (the organization rollout) deploys mechanisms too
    const members = templates.flatMap((t) => Object.values<any>(t).filter((r) => r.Type === 'AWS::CloudFormation::StackSet'
      && typeof r.Properties.TemplateBody === 'string').map((r) => JSON.parse(r.Properties.TemplateBody).Resources ?? {}));
    builds.set(name, [...templates, ...members]);
  }
  return builds.get(name)!;
}

describe('heartbeat alarms of the examples', () => {
  test.each(listExamples())('%s: every mechanism has a heartbeat on what it publishes, missing data breaching, over 1.5 x its longest gap', (name) => {
    const results = synthesize(name).map(heartbeatProblems);
    expect(results.flatMap((r) => r.problems)).toEqual([]);
  });

  test('the examples deploy every kind of mechanism (so the test above checked each kind)', () => {
    const found = listExamples().flatMap((name) => synthesize(name).flatMap((r) => heartbeatProblems(r).found));
    for (const kind of ['DLM policy', 'backup plan', 'maintenance window', 'job', 'drill']) {
      expect(found.filter((f) => f.startsWith(kind)).length).toBeGreaterThan(0);
    }
  });

  // planted bugs: the check above fails on each
  test.each<[string, (a: any) => void, RegExp]>([
    ['missing data not breaching', (a) => { a.TreatMissingData = 'notBreaching'; }, /TreatMissingData notBreaching/],
    ['the wrong dimension', (a) => { a.Dimensions = [{ Name: 'DlmPolicyId', Value: a.Dimensions[0].Value }]; }, /0 heartbeat alarms/],
    ['a window shorter than 1.5 x the gap', (a) => { a.EvaluationPeriods = 1; a.DatapointsToAlarm = 1; }, /window/],
    ['any silent period alarms', (a) => { a.DatapointsToAlarm = 1; }, /alarms before the whole window is silent/],
  ])('a planted bug fails the check: %s', (_name, plant, message) => {
    const isHeartbeat = (r: any) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/EBS' && r.Properties.ComparisonOperator === 'LessThanThreshold';
    const resources = JSON.parse(JSON.stringify(synthesize('dlm-guidance').find((t) => Object.values<any>(t).some(isHeartbeat))));
    expect(heartbeatProblems(resources).problems).toEqual([]);
    const heartbeat = Object.values<any>(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/EBS'
      && r.Properties.ComparisonOperator === 'LessThanThreshold');
    plant(heartbeat.Properties);
    expect(heartbeatProblems(resources).problems.join('\n')).toMatch(message);
  });
});
