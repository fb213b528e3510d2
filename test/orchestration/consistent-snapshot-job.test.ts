import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Capture, RetentionRoles, ConsistentSnapshotJob, SnapshotStep, Retention } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { aslErrors } from './local-execution';
import { stateMachineDefinition, userFunction } from './support';
import { renderIntrinsics } from '../support/intrinsics';
import { evaluate } from '../worm/iam-simulation';

/** The top-level transitions of a definition: state -> every state it can go to. */
function transitions(definition: any): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const [name, s] of Object.entries<any>(definition.States)) {
    edges.set(name, [
      s.Next, s.Default, ...(s.Choices ?? []).map((c: any) => c.Next), ...(s.Catch ?? []).map((c: any) => c.Next),
    ].filter((n) => n !== undefined));
  }
  return edges;
}

/** Whether a terminal state (Succeed, Fail, End) is reachable from `from` without passing `without`. */
function canEndWithout(definition: any, from: string, without: string): boolean {
  const edges = transitions(definition);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (name === without || seen.has(name)) {
      continue;
    }
    seen.add(name);
    const s = definition.States[name];
    if (s.Type === 'Succeed' || s.Type === 'Fail' || s.End) {
      return true;
    }
    stack.push(...edges.get(name)!);
  }
  return false;
}

describe('ConsistentSnapshotJob', () => {
  let app: App;
  let stack: Stack;

  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  describe('the public contract, as written in the issue', () => {
    let template: any;
    let definition: any;
    let contractJob: ConsistentSnapshotJob;

    beforeEach(() => {
      const enterHotBackup: lambda.IFunction = userFunction(stack, 'EnterHotBackup');
      const leaveHotBackup: lambda.IFunction = userFunction(stack, 'LeaveHotBackup');

      // ---- the contract, verbatim -------------------------------------------------------------
      const job = new ConsistentSnapshotJob(stack, 'OrdersDb', {
        purpose: 'orders-db',
        instances: { tags: { App: 'orders' } },
        schedule: events.Schedule.cron({ hour: '2', minute: '0' }),
        before: [SnapshotStep.lambdaInvoke(enterHotBackup), SnapshotStep.runCommand(['sync'])],
        after: [SnapshotStep.lambdaInvoke(leaveHotBackup)],
        retain: Retention.count(7),
      });
      // -------------------------------------------------------------------------------------------

      contractJob = job;
      template = checkedTemplate(stack);
      definition = stateMachineDefinition(template);
    });

    test('synthesizes through every gate into valid ASL', () => {
      expect(aslErrors(definition)).toEqual('');
      expect(contractJob.stateMachine).toBeInstanceOf(sfn.StateMachine);
    });

    test('runs the before steps in order, each caught into the after steps', () => {
      const { Before1, Before2 } = definition.States;
      expect(Before1).toMatchObject({
        Type: 'Task',
        Next: 'Before2',
        TimeoutSeconds: 300,
        Parameters: { 'phase': 'before', 'step': 'Before1', 'purpose': 'orders-db', 'executionId.$': '$$.Execution.Id', 'instanceIds.$': '$.instances.ids' },
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'After1' }],
        Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2, IntervalSeconds: 5, BackoffRate: 2, JitterStrategy: 'FULL' }],
      });
      expect(Before2).toMatchObject({
        Type: 'Parallel',
        Next: 'PauseStarted',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'After1' }],
      });
      // the instances in batches of 50 (SendCommand's limit), each batch's ids at $.instanceIds
      expect(Before2.Branches[0].States['Before2.Batches'].Parameters).toEqual({ 'batches.$': 'States.ArrayPartition($.instances.ids, 50)' });
      expect(Before2.Branches[0].States['Before2.EachBatch'].ItemProcessor.States['Before2.SendCommand']).toMatchObject({
        Resource: 'arn:aws:states:::aws-sdk:ssm:sendCommand',
        Parameters: {
          'DocumentName': 'AWS-RunShellScript',
          'InstanceIds.$': '$.instanceIds',
          'Parameters': { commands: ['sync'], executionTimeout: ['600'] },
          'TimeoutSeconds': 600,
          'MaxErrors': '0',
        },
      });
    });

    test('takes one multi-volume CreateSnapshots per instance, in parallel, tagged at creation', () => {
      expect(definition.States.PauseStarted).toMatchObject({ Type: 'Pass', Next: 'Capture', Parameters: { 'startedAt.$': '$$.State.EnteredTime' } });
      const capture = definition.States.Capture;
      expect(capture).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.instances.ids',
        MaxConcurrency: 40,
        Next: 'PauseEnded',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'PauseEnded' }],
      });
      expect(capture.ItemProcessor.States.CreateSnapshots).toMatchObject({
        Resource: 'arn:aws:states:::aws-sdk:ec2:createSnapshots',
        End: true,
        Parameters: {
          InstanceSpecification: { 'InstanceId.$': '$.instanceId', 'ExcludeBootVolume': false },
          TagSpecifications: [{
            ResourceType: 'snapshot',
            Tags: [
              { Key: 'backup:purpose', Value: 'orders-db' },
              { Key: 'backup:retention', Value: 'count:7' },
              { Key: 'backup:managed-by', Value: 'TestStack/OrdersDb' },
              { 'Key': 'backup:execution', 'Value.$': '$$.Execution.Id' },
              // the instance, so that a RestoreDrill restores one machine's set (test/restore)
              { 'Key': 'backup:source-instance', 'Value.$': '$.instanceId' },
            ],
          }],
        },
        Retry: [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 3 }],
      });
      expect(definition.States.PauseEnded).toMatchObject({ Next: 'After1', Parameters: { 'endedAt.$': '$$.State.EnteredTime' } });
    });

    test('every path from the first before step to the end runs every after step', () => {
      for (const after of ['After1']) {
        expect([after, canEndWithout(definition, 'Before1', after)]).toEqual([after, false]);
      }
      // and every state that can fail between them is caught with States.ALL
      for (const name of ['Before1', 'Before2', 'Capture', 'After1']) {
        expect(definition.States[name].Catch?.[0]?.ErrorEquals).toEqual(['States.ALL']);
      }
      // an after step's failure is recorded and the run goes on
      expect(definition.States.After1).toMatchObject({
        Next: 'Outcome', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.afterErrors.After1', Next: 'Outcome' }],
      });
      expect(definition.States.Outcome.Choices).toEqual([
        { Variable: '$.error', IsPresent: true, Next: 'ReportFailure' },
        { Or: [{ Variable: '$.afterErrors.After1', IsPresent: true }], Next: 'AfterStepFailed' },
      ]);
      // no state-machine-level timeout: it would end a run without its after steps
      expect(definition.TimeoutSeconds).toBeUndefined();
    });

    test('checks for a concurrent run and the instances before touching anything', () => {
      expect(definition.StartAt).toEqual('Start');
      expect(definition.States.ListRunningExecutions).toMatchObject({
        Resource: 'arn:aws:states:::aws-sdk:sfn:listExecutions',
        Parameters: { 'StateMachineArn.$': '$$.StateMachine.Id', 'StatusFilter': 'RUNNING' },
        Next: 'OneRunAtATime',
      });
      // bounded pages: 20 instance records (about 3 KiB each) per call, then the next token
      expect(definition.States.DescribeInstances.Parameters).toEqual({
        Filters: [{ Name: 'tag:App', Values: ['orders'] }, { Name: 'instance-state-name', Values: ['running'] }],
        MaxResults: 20,
      });
      expect(definition.States.DescribeMoreInstances.Parameters['NextToken.$']).toEqual('$.instances.page.NextToken');
      // no instance count is refused: Run Command steps send in batches of 50 (test/scale/job-scale.test.ts)
      expect(definition.States.CheckInstances).toBeUndefined();
    });

    test('expires its own old snapshots after a successful run, then reports', () => {
      expect(definition.States.ExpireOldArtefacts).toMatchObject({ Next: 'ReportSuccess', Catch: [{ Next: 'ReportFailure' }] });
      const t = Template.fromJSON(template);
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Expires old snapshots of TestStack/OrdersDb',
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        // opt-in only: accounts with a concurrency quota of 10 reject any reservation
        ReservedConcurrentExecutions: Match.absent(),
        Environment: {
          Variables: {
            RESOURCE_TYPE: 'snapshot',
            PURPOSE_TAG_KEY: 'backup:purpose',
            PURPOSE: 'orders-db',
            MANAGED_BY_TAG_KEY: 'backup:managed-by',
            MANAGED_BY: 'TestStack/OrdersDb',
            EXECUTION_TAG_KEY: 'backup:execution',
            RETAIN_COUNT: '7',
            DRY_RUN: 'false',
          },
        },
      });
      // it may delete only snapshots carrying the job's purpose and managed-by tags
      t.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Sid: 'DeleteOwnArtefactsOnly',
            Action: 'ec2:DeleteSnapshot',
            Condition: { StringEquals: { 'aws:ResourceTag/backup:purpose': 'orders-db', 'aws:ResourceTag/backup:managed-by': 'TestStack/OrdersDb' } },
          })]),
        },
      });
      expect(RetentionRoles.roles(stack)).toContain(contractJob.expiryFunction.role);
    });

    // Issue 16: expiry counts only runs the machine's own history records, so its role reads the
    // history of this one machine; an executionId naming another machine is denied (see the handler tests).
    test('the expiry role may list the executions of its own state machine only', async () => {
      const t = Template.fromJSON(template);
      const machineId = stack.getLogicalId(contractJob.stateMachine.node.defaultChild as sfn.CfnStateMachine);
      const expiryRoleId = stack.getLogicalId(contractJob.expiryFunction.role!.node.defaultChild as iam.CfnRole);
      const [policy] = Object.values<any>(t.findResources('AWS::IAM::Policy', {
        Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'ListOwnExecutionsOnly', Action: 'states:ListExecutions' })]) } },
      }));
      expect(policy.Properties.Roles).toEqual([{ Ref: expiryRoleId }]);
      const own = 'arn:aws:states:us-east-1:123456789012:stateMachine:OrdersDbJob';
      const document = JSON.parse(JSON.stringify(policy.Properties.PolicyDocument).replace(JSON.stringify({ Ref: machineId }), JSON.stringify(own)));
      const list = (resource: string) => evaluate({ principal: 'arn:aws:iam::123456789012:role/Expiry', action: 'states:ListExecutions', resource }, { identity: [document] });
      expect(await list(own)).toBe('Allowed');
      expect(await list('arn:aws:states:us-east-1:123456789012:stateMachine:AttackerMachine')).toBe('ImplicitlyDenied');
    });

    test('scopes the state machine role to tagged artefacts and the selected instances', () => {
      Template.fromJSON(template).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('OrdersDbStateMachineRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Allow', Action: 'ec2:CreateTags', Condition: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshots' } } }),
            Match.objectLike({
              Effect: 'Deny',
              Action: ['ec2:CreateSnapshots', 'ec2:CreateImage'],
              Condition: { Null: { 'aws:RequestTag/backup:purpose': 'true' } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Action: ['ec2:CreateSnapshots', 'ec2:CreateImage', 'ec2:StopInstances', 'ec2:StartInstances'],
              Condition: { StringNotEquals: { 'aws:ResourceTag/App': 'orders' } },
            }),
            Match.objectLike({ Effect: 'Deny', Action: 'ssm:SendCommand', Condition: { StringNotEquals: { 'ssm:resourceTag/App': 'orders' } } }),
          ]),
        },
      });
    });

    test('logs every execution, traces it, and runs on the schedule', () => {
      const t = Template.fromJSON(template);
      t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      });
      t.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 2 * * ? *)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Input: '{"trigger":"schedule"}', RetryPolicy: { MaximumRetryAttempts: 3 } })],
      });
    });

    test('alarms on failed, timed-out, aborted and unstarted runs into a KMS-encrypted, TLS-only topic', () => {
      const t = Template.fromJSON(template);
      t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      t.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
      t.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          })]),
        },
      });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0) + FILL(notStarted, 0)' }),
          Match.objectLike({ Id: 'notStarted', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'FailedInvocations', Namespace: 'AWS/Events' }) }) }),
        ]),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('OrdersDbAlarmTopic') }],
      });
      expect(definition.States.NotifyFailure).toMatchObject({ Resource: 'arn:aws:states:::sns:publish', Next: 'Failed' });
      expect(definition.States.Failed).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    });

    test('publishes the pause window and the outcome as metrics', () => {
      expect(stack.resolve(contractJob.metricPauseWindow().toMetricConfig().metricStat)).toMatchObject({
        namespace: 'CdkEbsBackup/ConsistentSnapshotJob', metricName: 'PauseWindow', dimensions: [{ name: 'Purpose', value: 'orders-db' }], statistic: 'Maximum',
      });
      expect(contractJob.metricJobFailed().metricName).toEqual('JobFailed');
      expect(contractJob.metricJobSucceeded().metricName).toEqual('JobSucceeded');
      Template.fromJSON(template).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': 'CdkEbsBackup/ConsistentSnapshotJob' } } })]),
        },
      });
      expect(definition.States.ReportSuccess.Parameters).toEqual({
        'outcome': 'SUCCEEDED', 'executionId.$': '$$.Execution.Id', 'pause.$': '$.pause', 'artefacts.$': '$.artefacts.count',
      });
    });
  });

  test('with several after steps, they run last first and each is guaranteed', () => {
    // GIVEN three before/after pairs
    const fn = userFunction(stack, 'Step');
    new ConsistentSnapshotJob(stack, 'Job', {
      purpose: 'app',
      instances: { instanceIds: ['i-0123456789abcdef0', 'i-0123456789abcdef1'] },
      before: [SnapshotStep.lambdaInvoke(fn), SnapshotStep.runCommand(['sync']), SnapshotStep.stateMachine(nestedMachine(stack))],
      after: [SnapshotStep.lambdaInvoke(fn), SnapshotStep.runPowerShell(['Write-Host thaw']), SnapshotStep.runDocument('AWS-RunPatchBaseline', { parameters: { Operation: ['Scan'] } })],
      retain: Retention.age(Duration.days(14)),
    });
    const definition = stateMachineDefinition(checkedTemplate(stack), 'Job');

    // THEN the after chain is After3 -> After2 -> After1 -> Outcome, every before step is caught into After3
    expect(definition.States.PauseEnded.Next).toEqual('After3');
    expect([definition.States.After3.Next, definition.States.After2.Next, definition.States.After1.Next]).toEqual(['After2', 'After1', 'Outcome']);
    expect(['Before1', 'Before2', 'Before3'].map((b) => definition.States[b].Catch[0].Next)).toEqual(['After3', 'After3', 'After3']);
    for (const after of ['After1', 'After2', 'After3']) {
      expect([after, canEndWithout(definition, 'Before1', after)]).toEqual([after, false]);
    }
    // a nested state machine runs to completion, associated with the job's execution
    expect(definition.States.Before3).toMatchObject({
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      TimeoutSeconds: 3600,
      Parameters: { Input: { 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id', 'phase': 'before' } },
    });
    expect(definition.States.After1.Branches).toBeUndefined();
    const sendOf = (step: string) => definition.States[step].Branches[0].States[`${step}.EachBatch`].ItemProcessor.States[`${step}.SendCommand`];
    expect(sendOf('After2').Parameters.DocumentName).toEqual('AWS-RunPowerShellScript');
    expect(sendOf('After3').Parameters.Parameters).toEqual({ Operation: ['Scan'] });
    // selection by id: all of them must be running
    expect(definition.States.CheckInstances.Choices[0]).toEqual({ Not: { Variable: '$.instances.count', NumericEquals: 2 }, Next: 'InstancesMissing' });
  });

  test('without steps it is a crash-consistent multi-instance snapshot, and age retention reaches the expiry function', () => {
    new ConsistentSnapshotJob(stack, 'Job', {
      purpose: 'fleet', instances: { tags: { Team: 'web' } }, retain: Retention.age(Duration.days(30)), dryRun: true,
    });
    const template = checkedTemplate(stack);
    const definition = stateMachineDefinition(template);
    // nothing to check about the instances: no Choice without rules (invalid ASL), straight to the pause
    expect(definition.States.CheckInstances).toBeUndefined();
    // past the size check (a Choice with its rule), straight to the pause
    expect(definition.States.CountInstances.Next).toEqual('CheckJobSize');
    expect(definition.States.CheckJobSize.Default).toEqual('PauseStarted');
    expect(definition.States.PauseEnded.Next).toEqual('Outcome');
    Template.fromJSON(template).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RETAIN_DAYS: '30', DRY_RUN: 'true' }) },
    });
    // no schedule, no schedule rule (its change-detection rules match CloudTrail events only)
    expect(Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression)).toEqual([]);
  });

  test('waits for and verifies the snapshots when asked, outside the pause window', () => {
    new ConsistentSnapshotJob(stack, 'Job', {
      purpose: 'fleet',
      instances: { tags: { Team: 'web' } },
      retain: Retention.count(3),
      waitForCompletion: true,
      completionTimeout: Duration.hours(2),
      maxPauseWindow: Duration.minutes(2),
    });
    const template = checkedTemplate(stack);
    const definition = stateMachineDefinition(template);
    // no snapshot id in the state: the capture counts, and the verification finds the run's
    // snapshots by its execution tag (behaviour: test/orchestration/state-machine-execution.test.ts)
    expect(definition.States.Capture.ResultSelector).toEqual({ 'count.$': 'States.ArrayLength($[*].states[*])' });
    expect(definition.States).not.toHaveProperty('CountArtefacts');
    expect(definition.States.Outcome.Default).toEqual('Verify.StartPolling');
    expect(definition.States['Verify.Wait']).toEqual({ Type: 'Wait', Seconds: 30, Next: 'FindPendingSnapshots' });
    expect(definition.States['Verify.PollLimit'].Choices[0]).toMatchObject({ NumericGreaterThanEquals: 240, Next: 'VerificationTimedOut' });
    expect(definition.States['Verify.Status'].Default).toEqual('Verify.PollLimit');
    Template.fromJSON(template).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'PauseWindow', Namespace: 'CdkEbsBackup/ConsistentSnapshotJob', Threshold: 120, Statistic: 'Maximum',
    });
  });

  test('the AMI variant without stopping takes no-reboot images and expires AMIs', () => {
    new ConsistentSnapshotJob(stack, 'Job', {
      purpose: 'root volumes',
      instances: { tags: { Team: 'web' } },
      retain: Retention.count(3),
      capture: Capture.images({ stopInstance: false }),
      alarmTopic: new sns.Topic(stack, 'Existing', { enforceSSL: true, masterKey: undefined }),
    });
    const template = checkedTemplate(stack);
    const definition = stateMachineDefinition(template);
    const create = definition.States.Capture.ItemProcessor.States.CreateImage;
    expect(create.Parameters).toMatchObject({ 'NoReboot': true, 'Name.$': "States.Format('root volumes-{}-{}', $.instanceId, $$.Execution.Name)" });
    expect(Object.keys(definition.States.Capture.ItemProcessor.States)).toEqual(['CreateImage']);
    Template.fromJSON(template).hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ RESOURCE_TYPE: 'image' }) } });
    Template.fromJSON(template).resourceCountIs('AWS::KMS::Key', 0);
  });

  test('skips validation of values known only at deploy time', () => {
    const fn = userFunction(stack, 'Step');
    expect(() => new ConsistentSnapshotJob(stack, 'Job', {
      purpose: 'app',
      instances: { instanceIds: [Fn.importValue('PrimaryId'), Fn.importValue('ReplicaId')] },
      before: [SnapshotStep.lambdaInvoke(fn, { timeout: Duration.seconds(Token.asNumber(Fn.importValue('StepTimeout'))) })],
      retain: Retention.count(Token.asNumber(Fn.importValue('Keep'))),
      maxConcurrency: Token.asNumber(Fn.importValue('Concurrency')),
    })).not.toThrow();
    expect(() => new ConsistentSnapshotJob(stack, 'ByTag', {
      purpose: 'app', instances: { tags: { App: Fn.importValue('AppName') } }, retain: Retention.count(1),
    })).not.toThrow();
    const template = checkedTemplate(stack);
    const definition = JSON.stringify(Template.fromJSON(template).findResources('AWS::StepFunctions::StateMachine', {
      Metadata: { 'aws:cdk:path': 'TestStack/Job/StateMachine/Resource' },
    }));
    expect(definition).toContain('PrimaryId');
    expect(definition).toContain('StepTimeout');
  });

  describe('rejects bad input with the property named', () => {
    const ok = { purpose: 'app', instances: { tags: { App: 'x' } }, retain: Retention.count(1) };
    test.each<[string, () => object, string]>([
      ['no instance selection', () => ({ ...ok, instances: {} }), 'Job: instances must give exactly one of tags and instanceIds'],
      ['both selections', () => ({ ...ok, instances: { tags: { A: 'b' }, instanceIds: ['i-0123456789abcdef0'] } }), 'instances must give exactly one of tags and instanceIds'],
      ['no tags', () => ({ ...ok, instances: { tags: {} } }), 'instances.tags must have at least one tag'],
      ['a reserved tag key', () => ({ ...ok, instances: { tags: { 'aws:app': 'x' } } }), "instances.tags key must not start with 'aws:'"],
      ['a bad instance id', () => ({ ...ok, instances: { instanceIds: ['i-123'] } }), "instances.instanceIds[0] must be an instance id such as i-0123456789abcdef0, got 'i-123'"],
      ['no instance ids', () => ({ ...ok, instances: { instanceIds: [] } }), 'instances.instanceIds must have between 1 and 1000 items'],
      ['21 before steps', () => ({ ...ok, before: Array.from({ length: 21 }, () => SnapshotStep.runCommand(['sync'])) }), 'before must have at most 20 items'],
      ['a concurrency of 0', () => ({ ...ok, maxConcurrency: 0 }), 'maxConcurrency must be an integer between 1 and 40, got 0'],
      ['a completion timeout without waiting', () => ({ ...ok, completionTimeout: Duration.hours(1) }), 'completionTimeout has no effect without waitForCompletion: true'],
      ['a completion timeout of 30 s', () => ({ ...ok, waitForCompletion: true, completionTimeout: Duration.seconds(30) }), 'completionTimeout must be between 1 minute and 7 days'],
      ['a zero pause window', () => ({ ...ok, maxPauseWindow: Duration.seconds(0) }), 'maxPauseWindow must be between 1 second and 1 day'],
      ['a bad purpose', () => ({ ...ok, purpose: 'db#1' }), "purpose must be a tag value of letters, digits, spaces and _ . : / = + - @, got 'db#1'"],
      ['no retention', () => ({ ...ok, retain: undefined }), 'retain is required: no DLM policy expires these snapshots'],
    ])('%s', (_name, props, fragment) => {
      expect(() => new ConsistentSnapshotJob(stack, 'Job', props() as never)).toThrow(fragment);
    });
  });

  test('warns about schedules that quiesce the application every few minutes', () => {
    const job = new ConsistentSnapshotJob(stack, 'Job', {
      purpose: 'app', instances: { tags: { App: 'x' } }, retain: Retention.count(1), schedule: events.Schedule.rate(Duration.minutes(15)),
    });
    expect(job.node.metadata.map((m) => String(m.data))).toContainEqual(expect.stringContaining('schedule runs every 15 minutes'));
  });
});

function nestedMachine(stack: Stack): sfn.IStateMachine {
  return sfn.StateMachine.fromStateMachineArn(stack, 'Nested', 'arn:aws:states:us-east-1:123456789012:stateMachine:FlushCaches');
}

describe('coverage', () => {
  test('declares the instances it protects for EbsBackupChecks', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    const fn = userFunction(stack, 'Fn');
    new ConsistentSnapshotJob(stack, 'Job', {
      purpose: 'orders-db',
      instances: { tags: { App: 'orders' } },
      before: [SnapshotStep.lambdaInvoke(fn)],
      after: [SnapshotStep.lambdaInvoke(fn)],
      retain: Retention.count(7),
    });
    const resources = Template.fromJSON(checkedTemplate(stack)).findResources('AWS::StepFunctions::StateMachine');
    const metadata = Object.values<any>(resources)[0].Metadata;
    expect(metadata['cdk-ebs-backup:coverage']).toEqual([{ resourceTypes: ['INSTANCE'], tags: { App: 'orders' } }]);
  });
});

// A distributed Map's child executions are started, described and stopped with the machine's own
// role, on `stateMachine:<name>` and `execution:<name>/<map run label>:<id>`
// (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html). Evaluated
// with iam-simulate on the deployed ARNs, against another machine's.
describe('AMIs with a stop: the role runs its own child executions only', () => {
  const app = createCheckedApp();
  const stack = createTestStack(app);
  const job = new ConsistentSnapshotJob(stack, 'Bastions', {
    purpose: 'bastion-root', instances: { tags: { Role: 'bastion' } }, capture: Capture.images(), retain: Retention.count(3),
  });
  const template = checkedTemplate(stack);
  const machineId = stack.getLogicalId(job.stateMachine.node.defaultChild as sfn.CfnStateMachine);
  const roleId = stack.getLogicalId(job.stateMachine.role.node.defaultChild as iam.CfnRole);
  // the machine's name as its Name attribute renders, and its ARN (Ref) with that name
  const name = renderIntrinsics({ 'Fn::GetAtt': [machineId, 'Name'] }, { template });
  const own = `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;
  const documents = Object.values<any>(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .map((r) => renderIntrinsics(r.Properties.PolicyDocument, { template, arns: { [machineId]: own } }));
  const allowed = (action: string, resource: string) =>
    evaluate({ principal: 'arn:aws:iam::123456789012:role/BastionsJob', action, resource }, { identity: documents });

  test.each([
    ['states:StartExecution', own],
    ['states:DescribeExecution', `arn:aws:states:us-east-1:123456789012:execution:${name}/Capture:0b7a5e5f-1c5b-4c53-9c6a-2f1b1d2e3f40`],
    ['states:StopExecution', `arn:aws:states:us-east-1:123456789012:execution:${name}/Capture:0b7a5e5f-1c5b-4c53-9c6a-2f1b1d2e3f40`],
  ])('%s on its own %s is allowed', async (action, resource) => {
    expect(await allowed(action, resource)).toBe('Allowed');
  });

  test.each([
    ['states:StartExecution', 'arn:aws:states:us-east-1:123456789012:stateMachine:PayrollJob'],
    ['states:DescribeExecution', 'arn:aws:states:us-east-1:123456789012:execution:PayrollJob/Capture:0b7a5e5f'],
    ['states:StopExecution', 'arn:aws:states:us-east-1:123456789012:execution:PayrollJob/Capture:0b7a5e5f'],
    ['states:StopExecution', 'arn:aws:states:us-east-1:123456789012:execution:PayrollJob:run-1'],
    ['states:StopExecution', `arn:aws:states:us-east-1:123456789012:execution:${name}/OtherRun:0b7a5e5f`],
  ])('%s on another machine\'s %s is denied', async (action, resource) => {
    expect(await allowed(action, resource)).toBe('ImplicitlyDenied');
  });
});
