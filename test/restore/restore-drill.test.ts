import { App, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { definitionOf } from './drill-harness';
import { select } from '../../lambda/restore/drill-select';
import { BackupTagging, RestoreDrill, EbsBackupChecks, DrillSource, ConsistentSnapshotJob, Retention } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

// The public contract of the issue, verbatim (the package name mapped to the source tree).

function contract(app: App, stack: Stack): void {
  new RestoreDrill(stack, 'WeeklyDrill', {
    purpose: 'database-dr', // drill the newest snapshots with this purpose tag
    schedule: events.Schedule.cron({ weekDay: 'SAT', hour: '3', minute: '0' }),
    validation: ['test -f /data/PG_VERSION'], // run on a scratch instance with the restored volumes
  });
  Validations.of(app).addPlugins(new EbsBackupChecks(app));
}

function definitionText(template: Template, index = 0): string {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const body = Object.values<any>(machines)[index].Properties.DefinitionString;
  return JSON.stringify(body);
}

describe('RestoreDrill: the public contract', () => {
  let template: Template;
  beforeAll(() => {
    // GIVEN the contract, synthesized through every gate (schema, IAM actions, cdk-nag, cfn-guard, EbsBackupChecks)
    const app = createCheckedApp();
    const stack = createTestStack(app);
    contract(app, stack);
    template = Template.fromJSON(checkedTemplate(stack));
  });

  test('runs the drill on the schedule and sweeps daily', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 3 ? * SAT *)',
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('WeeklyDrillStateMachine') } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('WeeklyDrillSweeper') } })],
    });
  });

  test('restores into an isolated scratch VPC that reaches only Systems Manager', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    for (const service of ['ssm', 'ssmmessages', 'ec2messages']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: `com.amazonaws.us-east-1.${service}`, PrivateDnsEnabled: true, VpcEndpointType: 'Interface',
      });
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Restore drill database-dr: no inbound'),
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })],
      SecurityGroupIngress: Match.absent(),
    });
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  test('launches the scratch instance from a template that requires IMDSv2 and terminates on shutdown', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 't3.small',
        MetadataOptions: { HttpTokens: 'required' },
        InstanceInitiatedShutdownBehavior: 'terminate',
        Monitoring: { Enabled: true },
        ImageId: { Ref: Match.stringLikeRegexp('al2023') },
      }),
    });
  });

  test('mounts read-only and runs the validation commands through a Run Command document', () => {
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Command',
      Content: Match.objectLike({
        schemaVersion: '2.2',
        parameters: { mounts: Match.objectLike({ type: 'String', allowedPattern: Match.anyValue() }) },
        mainSteps: [Match.objectLike({
          action: 'aws:runShellScript',
          inputs: Match.objectLike({ timeoutSeconds: '1800', runCommand: Match.arrayWith(['set -euo pipefail', 'test -f /data/PG_VERSION']) }),
        })],
      }),
    });
    const content = JSON.stringify(template.findResources('AWS::SSM::Document'));
    expect(content).toContain('opts=ro,noload');
    expect(content).toContain('opts=ro,norecovery,nouuid');
  });

  test('the drill tags what it restores and tears down by that tag', () => {
    const definition = definitionText(template);
    for (const fragment of [
      '\\"Key\\":\\"backup:purpose\\",\\"Value\\":\\"restore-drill:database-dr\\"',
      '\\"Key\\":\\"backup:retention\\",\\"Value\\":\\"age:1d\\"',
      '\\"Key\\":\\"backup:managed-by\\",\\"Value\\":\\"TestStack/WeeklyDrill\\"',
      '\\"Key\\":\\"backup:drill-execution\\",\\"Value.$\\":\\"$$.Execution.Name\\"',
      '\\"Name\\":\\"tag:backup:drill-execution\\",\\"Values.$\\":\\"States.Array($$.Execution.Name)\\"',
      '\\"Drill\\":{\\"Type\\":\\"Parallel\\"',
      '\\"Catch\\":[{\\"ErrorEquals\\":[\\"States.ALL\\"],\\"ResultPath\\":\\"$.error\\",\\"Next\\":\\"RecordDrillFailure\\"}]',
    ]) {
      expect(definition).toContain(fragment);
    }
    // the sweeper tears down by the drill's managed-by tag
    expect(definitionText(template, 1)).toContain('\\"Name\\":\\"tag:backup:managed-by\\",\\"Values\\":[\\"TestStack/WeeklyDrill\\"]');
  });

  test('the state machines may create, touch and command only what carries the drill tag', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CreateOnlyTaggedAsTheDrill',
            Effect: 'Deny',
            Action: ['ec2:RunInstances', 'ec2:CreateVolume'],
            Condition: { StringNotEquals: { 'aws:RequestTag/backup:managed-by': 'TestStack/WeeklyDrill' } },
          }),
          Match.objectLike({
            Sid: 'TouchOnlyWhatTheDrillCreated',
            Effect: 'Deny',
            Action: ['ec2:TerminateInstances', 'ec2:AttachVolume', 'ec2:DeleteVolume'],
            Condition: { StringNotEquals: { 'aws:ResourceTag/backup:managed-by': 'TestStack/WeeklyDrill' } },
          }),
          Match.objectLike({ Sid: 'RunCommandsOnlyOnTheScratchInstance', Effect: 'Deny', Action: 'ssm:SendCommand' }),
          Match.objectLike({ Action: 'iam:PassRole', Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': 'CdkEbsBackup/RestoreDrill' } },
        })]),
      },
    });
  });

  test('alarms on a failed drill, a failed teardown or a failed execution', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(FILL(ok, 1) < 1, 1, 0) + FILL(teardown, 0) + FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)' }),
        Match.objectLike({ Id: 'ok', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'DrillSucceeded', Namespace: 'CdkEbsBackup/RestoreDrill' }), Stat: 'Minimum' }) }),
      ]),
    });
  });

  test('the handlers run on the current Node.js runtime with JSON logs and a retention', () => {
    template.resourcePropertiesCountIs('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x', Handler: 'index.handler', Architectures: ['arm64'], LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    }, 2);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });
});

describe('RestoreDrill: options', () => {
  test('an AMI drill of an archive account, in the DR region, on a given VPC, with a key, an RPO alarm and a topic', () => {
    // GIVEN a drill in a stack in the DR region
    const app = createCheckedApp();
    const stack = createTestStack(app, 'DrStack', { env: { account: '123456789012', region: 'eu-west-1' } });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    key.grantEncryptDecrypt(new iam.ServicePrincipal('logs.eu-west-1.amazonaws.com'));
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      subnetConfiguration: [{ name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      flowLogs: { All: { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(stack, 'FlowLogs', { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR })) } },
    });
    key.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['kms:CreateGrant'],
      principals: [new iam.AnyPrincipal()],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }));
    const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true, masterKey: key });
    const drill = new RestoreDrill(stack, 'ImageDrill', {
      purpose: 'web-golden',
      schedule: events.Schedule.rate(Duration.days(7)),
      validation: ['systemctl is-enabled nginx'],
      source: DrillSource.image({ owner: '111122223333' }),
      vpc,
      encryptionKey: key,
      maxSnapshotAge: Duration.hours(26),
      alarmTopic: topic,
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
      metricNamespace: 'Acme/Drills',
    });
    Validations.of(app).addPlugins(new EbsBackupChecks(app));

    // THEN
    const template = Template.fromJSON(checkedTemplate(stack));
    const definition = definitionText(template);
    expect(definition).toContain('\\"ImageId.$\\":\\"$.selection.imageId\\"');
    expect(definition).toContain('\\"mode\\":\\"IMAGE\\"');
    expect(definition).toContain('\\"owner\\":\\"111122223333\\"');
    expect(definition).toContain('\\"KmsKeyId\\":\\"');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SnapshotAge',
      Namespace: 'Acme/Drills',
      Threshold: 26 * 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Alarms') }],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('web-golden'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443 })],
    });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'kms:CreateGrant',
          Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
          Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        })]),
      },
    });
    expect(drill.recoveryPointAlarm).toBeDefined();
    expect(drill.metricTimeToRestore().metricName).toBe('TimeToRestore');
  });
});

describe('RestoreDrill: validation', () => {
  const base = { purpose: 'database-dr', schedule: events.Schedule.rate(Duration.days(7)), validation: ['true'] };
  test.each([
    ['an empty purpose', { purpose: '' }, "Stack/Drill: purpose must be between 1 and 256 characters long, got ''"],
    ['a purpose with a shell character', { purpose: 'db;rm' }, "purpose must be a tag value of letters, digits, spaces and _ . : / = + - @, got 'db;rm'"],
    ['no validation command', { validation: [] }, 'validation must have between 1 and 100 items, got [] (0 items)'],
    ['a blank validation command', { validation: ['true', ' '] }, "validation[1] must be a non-empty command, got ' '"],
    ['an empty Windows validation', { windowsValidation: [] }, 'windowsValidation must have between 1 and 100 items, got [] (0 items)'],
    ['a blank Windows validation command', { windowsValidation: [' '] }, "windowsValidation[0] must be a non-empty command, got ' '"],
    ['the root as mount point', { mountPoint: '/' }, "mountPoint must be an absolute path other than '/' of letters, digits and . _ / -, got '/'"],
    ['a relative mount point', { mountPoint: 'data' }, "mountPoint must be an absolute path other than '/'"],
    ['a mount point with a space', { mountPoint: '/my data' }, "got '/my data'"],
    ['a validation timeout under 30 seconds', { validationTimeout: Duration.seconds(10) }, 'validationTimeout must be between 30 seconds and 30 days, got 10 seconds'],
    ['a set window over an hour', { setWindow: Duration.hours(2) }, 'setWindow must be between 0 seconds and 1 hour, got 2 hours'],
    ['a snapshot age alarm under an hour', { maxSnapshotAge: Duration.minutes(5) }, 'maxSnapshotAge must be between 1 hour and 3650 days, got 5 minutes'],
    ['an AWS metric namespace', { metricNamespace: 'AWS/EC2' }, "metricNamespace must be a namespace of 1-255 characters without ':' that does not start with 'AWS/', got 'AWS/EC2'"],
    ['a reserved tag key', { tags: { 'aws:owner': 'x' } }, "tags key must not start with 'aws:' (reserved by AWS), got 'aws:owner'"],
  ])('rejects %s', (_name, override, message) => {
    const stack = new Stack(new App(), 'Stack');
    expect(() => new RestoreDrill(stack, 'Drill', { ...base, ...override } as any)).toThrow(message);
  });

  test.each([
    ['DrillSource.snapshots', () => DrillSource.snapshots({ owner: '1234' }), "Stack/Drill: source DrillSource.snapshots(...): owner must be a 12-digit AWS account id, got '1234'; pass the id"],
    ['DrillSource.image', () => DrillSource.image({ owner: 'archive' }), "Stack/Drill: source DrillSource.image(...): owner must be a 12-digit AWS account id, got 'archive'"],
  ])('the drill reports a %s with a bad owner', (_name, source, message) => {
    const stack = new Stack(new App(), 'Stack');
    expect(() => new RestoreDrill(stack, 'Drill', { ...base, source: source() })).toThrow(message);
  });

  test('skips validation of values known only at deploy time', () => {
    const stack = new Stack(new App(), 'Stack');
    expect(() => new RestoreDrill(stack, 'Drill', {
      ...base,
      purpose: Fn.importValue('Purpose'),
      validation: [Fn.importValue('Command')],
      mountPoint: Fn.importValue('MountPoint'),
      source: DrillSource.snapshots({ owner: Fn.importValue('ArchiveAccount') }),
    })).not.toThrow();
  });

  test('validation commands that take the document over Systems Manager\'s 64 KB fail synthesis, counted in UTF-8 bytes, not characters', () => {
    // CreateDocument, Content (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html):
    // "The content of the document must not exceed 64KB", run-time parameters included (the mounts parameter here).
    // 100 checks of a Japanese-language shop: 25,800 characters, but 3 bytes for each of the 20,000 kana and kanji.
    const validation = Array.from({ length: 100 }, (_, i) =>
      `psql -d shop -tAc "SELECT 1 FROM 商品 WHERE id = ${String(i).padStart(3, '0')} AND 説明 LIKE '%${'在庫あり'.repeat(49)}%'" | grep -q 1`);
    expect(validation.join('').length).toBeLessThan(30_000);
    const app = new App();
    new RestoreDrill(new Stack(app, 'Stack'), 'Drill', { ...base, validation });
    expect(() => app.synth()).toThrow(/Stack\/Drill: validation must keep the Systems Manager document Stack\/Drill\/ValidationDocument within 65,536 bytes .* got [0-9,]+ bytes \(validation 6[0-9],[0-9]{3}, the rest 1,[0-9]{3}, run-time parameters up to 4,388 \(mounts: up to 21 restored volumes as sdX:<mount point>\)\); keep validation short: put the checks in a script/);
  });

  test('rejects a VPC selection without subnets', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
    expect(() => new RestoreDrill(stack, 'Drill', { ...base, vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })).toThrow(
      /Stack\/Drill: vpcSubnets|There are no 'Isolated' subnet groups/);
  });
});

describe('RestoreDrill: the tag prefix', () => {
  test('the execution tag follows the app\'s tag prefix (BackupTagging), for the tags and for the teardown that finds them', () => {
    const app = createCheckedApp();
    BackupTagging.configure(app, { prefix: 'corp/' });
    const stack = createTestStack(app);
    const drill = new RestoreDrill(stack, 'WeeklyDrill', { purpose: 'database-dr', schedule: events.Schedule.rate(Duration.days(7)), validation: ['true'] });
    expect(drill.executionTagKey).toBe('corp/drill-execution');
    const definition = definitionText(Template.fromStack(stack));
    expect(definition).toContain('\\"Key\\":\\"corp/drill-execution\\",\\"Value.$\\":\\"$$.Execution.Name\\"');
    expect(definition).toContain('\\"Name\\":\\"tag:corp/drill-execution\\"');
    expect(definition).not.toContain('backup:drill-execution');
    expect(definition).not.toContain('cdk-ebs-backup:drill-execution');
  });

  test('a user tag on the execution key is a synth-time error naming the construct and the key', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    expect(() => new RestoreDrill(stack, 'Drill', { purpose: 'x', schedule: events.Schedule.rate(Duration.days(7)), validation: ['true'], tags: { 'backup:drill-execution': 'mine' } }))
      .toThrow("TestStack/Drill: tags['backup:drill-execution'] must not be set: the drill writes its execution name under this key, got 'mine'");
  });
});

describe('RestoreDrill: the drill reads the source instance its creators write', () => {
  /** Every state of a definition, Map and Parallel branches included. */
  const statesOf = (definition: any): Record<string, any> => Object.assign({}, ...Object.entries<any>(definition.States).map(([name, st]) => ({
    [name]: st,
    ...Object.assign({}, ...[...st.Branches ?? [], ...st.ItemProcessor ? [st.ItemProcessor] : []].map(statesOf)),
  })));

  test('ConsistentSnapshotJob tags and describes each snapshot with its instance under the app\'s prefix, and a drill of 3 instances restores one', async () => {
    const app = createCheckedApp();
    BackupTagging.configure(app, { prefix: 'corp/' });
    const stack = createTestStack(app);
    const job = new ConsistentSnapshotJob(stack, 'Job', { purpose: 'orders-db', instances: { tags: { App: 'orders' } }, retain: Retention.count(7) });
    const drill = new RestoreDrill(stack, 'Drill', { purpose: 'orders-db', schedule: events.Schedule.rate(Duration.days(7)), validation: ['true'] });
    const create = statesOf(definitionOf(stack, stack.getLogicalId(job.stateMachine.node.defaultChild as any))).CreateSnapshots;
    const payload = statesOf(definitionOf(stack, stack.getLogicalId(drill.stateMachine.node.defaultChild as any))).SelectRestorePoint.Parameters;

    // WHEN three instances are snapshotted in one run, as EC2 stores what the job asked for
    // (TagSpecifications and Description evaluated for each Map item's $.instanceId)
    const format = create.Parameters['Description.$'] as string;
    const machineArn = `arn:aws:states:us-east-1:123456789012:stateMachine:${stack.getLogicalId(job.stateMachine.node.defaultChild as any)}`;
    const run = `${machineArn.replace(':stateMachine:', ':execution:')}:run-1`;
    const [, template, literal] = format.match(/^States\.Format\('(.*?)', '(.*)', \$\.instanceId\)$/)!;
    const snapshots = [1, 2, 3].flatMap((n) => [0, 1].map((v) => {
      const instanceId = `i-0${String(n).padStart(16, '0')}`;
      return {
        SnapshotId: `snap-${n}${v}`,
        VolumeId: `vol-${n}${v}`,
        State: 'completed' as const,
        StartTime: new Date(Date.parse('2026-11-21T02:00:00Z') + (n * 2 + v) * 1000),
        Description: template.replace('{}', literal).replace('{}', instanceId),
        Tags: create.Parameters.TagSpecifications[0].Tags.map((t: any) => ({
          Key: t.Key, Value: t['Value.$'] === '$.instanceId' ? instanceId : t['Value.$'] === '$$.Execution.Id' ? run : t.Value,
        })),
      };
    }));
    const client = { send: async () => ({ Snapshots: snapshots }) };
    // the run that took them, as Step Functions describes it
    const runs = { send: async (c: any) => ({ executionArn: c.input.executionArn, startDate: new Date('2026-11-21T01:59:30Z'), stopDate: new Date('2026-11-21T02:03:00Z') }) };
    const selection = await select(client as any, payload, new Date('2026-11-21T03:00:00Z'), runs as any);

    // THEN the drill restores one machine, found by the key the job wrote
    expect(payload.sourceInstanceTagKeys).toEqual(['corp/source-instance']);
    // only what the job recorded at creation: its managed-by and execution tags, a run of its machine
    expect(payload.creators).toEqual([{ managedBy: 'TestStack/Job', executionTagKey: 'corp/execution', stateMachineArn: machineArn }]);
    expect(create.Parameters.TagSpecifications[0].Tags).toContainEqual({ 'Key': 'corp/source-instance', 'Value.$': '$.instanceId' });
    expect(selection.snapshots.map((s) => s.snapshotId).sort()).toEqual(['snap-30', 'snap-31']);
    expect(selection.sourceInstance).toBe('i-00000000000000003');
    // and the description alone (all another account sees) names the instance as well
    expect(snapshots[0].Description).toBe('orders-db: consistent snapshots by TestStack/Job (i-00000000000000001)');
  });

  test('a Windows validation gets its own PowerShell document', () => {
    const stack = createTestStack(createCheckedApp());
    const drill = new RestoreDrill(stack, 'Drill', {
      purpose: 'web-ami',
      schedule: events.Schedule.rate(Duration.days(7)),
      validation: ['true'],
      source: DrillSource.image(),
      windowsValidation: ['Get-Service W3SVC'],
    });
    const content = (Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(drill.windowsDocument!)].Properties.Content);
    expect(content.mainSteps).toEqual([expect.objectContaining({
      action: 'aws:runPowerShellScript',
      precondition: { StringEquals: ['platformType', 'Windows'] },
      inputs: expect.objectContaining({ runCommand: ["$ErrorActionPreference = 'Stop'", "Write-Output 'cdk-ebs-backup-validation: windows'", 'Get-Service W3SVC'] }),
    })]);
  });
});
