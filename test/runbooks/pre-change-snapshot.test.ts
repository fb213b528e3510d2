import { ResponseCode } from '@cdklabs/cdk-ssm-documents';
import { App, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BackupTagging, PreChangeSnapshot, Retention, RetentionRoles } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { ACCOUNT, REGION, automationDocuments, evaluateAsRole, simulateDocument } from './helpers';
import { acknowledge, nag } from '../../src/core/acknowledge';

const INSTANCE = 'i-0123456789abcdef0';
const INSTANCE_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`;
const OPERATOR_ARN = 'arn:aws:sts::123456789012:assumed-role/Operators/jane';

/**
 * The public contract of issue 8, verbatim; `declare const operators: iam.IRole` becomes a real
 * role created by the caller.
 */
/* eslint-disable @stylistic/no-multi-spaces -- the contract's own alignment, kept verbatim */
function contract(stack: Stack, operators: iam.IRole): PreChangeSnapshot {
  const runbook = new PreChangeSnapshot(stack, 'PreChange', {
    retain: Retention.age(Duration.days(14)),
    includeImage: true,            // also an AMI (no-reboot by default) of the whole instance
  });
  runbook.grantStart(operators);  // may run the runbook, nothing else
  return runbook;
}
/* eslint-enable @stylistic/no-multi-spaces */

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: any } } | iam.IRole): string {
  const child = (construct as any).node.defaultChild;
  return stack.getLogicalId(child);
}

describe('PreChangeSnapshot', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  describe('the public contract', () => {
    let runbook: PreChangeSnapshot;
    let operators: iam.Role;
    let template: any;
    let contractStack: Stack;

    // synthesized once: every test below reads the same template
    beforeAll(() => {
      const contractApp = createCheckedApp();
      contractStack = createTestStack(contractApp);
      // GIVEN a real role for `declare const operators: iam.IRole`
      operators = new iam.Role(contractStack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() });

      // WHEN
      runbook = contract(contractStack, operators);

      template = checkedTemplate(contractStack);
    });

    test('renders one Automation document, schema 0.3, run under its own role', () => {
      const t = Template.fromJSON(template);
      t.resourceCountIs('AWS::SSM::Document', 1);
      t.hasResourceProperties('AWS::SSM::Document', {
        DocumentType: 'Automation',
        DocumentFormat: 'JSON',
        TargetType: '/AWS::EC2::Instance',
        Content: Match.objectLike({
          schemaVersion: '0.3',
          assumeRole: { 'Fn::GetAtt': [logicalIdOf(contractStack, runbook.automationRole), 'Arn'] },
          parameters: {
            InstanceId: Match.objectLike({ type: 'String', allowedPattern: '^i-[0-9a-f]{8,17}$' }),
            ChangeReference: Match.objectLike({ type: 'String' }),
          },
          outputs: ['identifyOperator.ExecutedBy', 'createSnapshots.SnapshotIds', 'createImage.ImageId'],
        }),
      });
    });

    test('snapshots every volume in one CreateSnapshots call, tagged with purpose, retention, change and operator', () => {
      const content = Object.values(automationDocuments(template))[0];
      const step = content.mainSteps.find((s: any) => s.name === 'createSnapshots');
      expect(step).toMatchObject({
        action: 'aws:executeAwsApi',
        inputs: {
          Service: 'ec2',
          Api: 'CreateSnapshots',
          InstanceSpecification: { InstanceId: '{{ InstanceId }}', ExcludeBootVolume: false },
          TagSpecifications: [{ ResourceType: 'snapshot' }],
        },
        outputs: [{ Name: 'SnapshotIds', Selector: '$.Snapshots..SnapshotId', Type: 'StringList' }],
      });
      expect(step.inputs.TagSpecifications[0].Tags).toEqual(expect.arrayContaining([
        { Key: 'backup:purpose', Value: 'pre-change' },
        { Key: 'backup:retention', Value: 'age:14d' },
        { Key: 'backup:managed-by', Value: 'TestStack/PreChange' },
        { Key: 'backup:change-ref', Value: '{{ ChangeReference }}' },
        { Key: 'backup:executed-by', Value: '{{ identifyOperator.ExecutedBy }}' },
        { Key: 'backup:automation-execution', Value: '{{ automation:EXECUTION_ID }}' },
      ]));
    });

    test('takes the AMI without a reboot by default and tags the image and its snapshots', () => {
      const content = Object.values(automationDocuments(template))[0];
      const step = content.mainSteps.find((s: any) => s.name === 'createImage');
      expect(step.inputs).toMatchObject({ Service: 'ec2', Api: 'CreateImage', InstanceId: '{{ InstanceId }}', NoReboot: true });
      expect(step.inputs.TagSpecifications.map((t: any) => t.ResourceType)).toEqual(['image', 'snapshot']);
      expect(step.inputs.Name).toMatch(/^pre-change-\{\{ InstanceId \}\}-\{\{ automation:EXECUTION_ID \}\}$/);
    });

    test('runs in the Automation simulator and outputs what it created', () => {
      // GIVEN the rendered document and AWS answering as it would
      const content = Object.values(automationDocuments(template))[0];

      // WHEN
      const { result, calls } = simulateDocument(content, { InstanceId: INSTANCE, ChangeReference: 'CHG0012345' }, {
        'ssm.getAutomationExecution': { AutomationExecution: { ExecutedBy: OPERATOR_ARN } },
        'ec2.createSnapshots': { Snapshots: [{ SnapshotId: 'snap-0a', VolumeId: 'vol-1' }, { SnapshotId: 'snap-0b', VolumeId: 'vol-2' }] },
        'ec2.createImage': { ImageId: 'ami-0c' },
      });

      // THEN every step ran, in order, and the outputs list the snapshots and the AMI
      expect(result.responseCode).toBe(ResponseCode.SUCCESS);
      expect(result.executedSteps).toEqual(['identifyOperator', 'createSnapshots', 'createImage']);
      expect(result.outputs).toMatchObject({
        'createSnapshots.SnapshotIds': ['snap-0a', 'snap-0b'],
        'createImage.ImageId': 'ami-0c',
        'identifyOperator.ExecutedBy': OPERATOR_ARN,
      });
      // and the operator's identity reached the tags, resolved
      const snapshotTags = calls.find((c) => c.api === 'ec2.createSnapshots')!.params.TagSpecifications[0].Tags;
      expect(snapshotTags).toEqual(expect.arrayContaining([
        { Key: 'backup:executed-by', Value: OPERATOR_ARN },
        { Key: 'backup:change-ref', Value: 'CHG0012345' },
        { Key: 'backup:source-instance', Value: INSTANCE },
      ]));
    });

    test('stops without an AMI when the snapshots fail', () => {
      const content = Object.values(automationDocuments(template))[0];
      const { result, calls } = simulateDocument(content, { InstanceId: INSTANCE, ChangeReference: 'CHG1' }, {
        'ssm.getAutomationExecution': { AutomationExecution: { ExecutedBy: OPERATOR_ARN } },
        'ec2.createSnapshots': () => {
          throw new Error('IncorrectState: the instance is terminated');
        },
      });
      expect(result.responseCode).toBe(ResponseCode.FAILED);
      expect(calls.map((c) => c.api)).toEqual(['ssm.getAutomationExecution', 'ec2.createSnapshots']);
    });

    test('the simulator rejects a run without a change reference', () => {
      const content = Object.values(automationDocuments(template))[0];
      expect(() => simulateDocument(content, { InstanceId: INSTANCE }, {})).toThrow(/ChangeReference/);
    });

    test('an operator with grantStart may start the runbook and pass its role to SSM only', async () => {
      const op = logicalIdOf(contractStack, operators);
      const documentArn = `arn:aws:ssm:${REGION}:${ACCOUNT}:document/${contractStack.getLogicalId(runbook.document)}`;
      const roleArn = `arn:aws:iam::${ACCOUNT}:role/Role${logicalIdOf(contractStack, runbook.automationRole)}`;
      const execution = `arn:aws:ssm:${REGION}:${ACCOUNT}:automation-execution/3f1d2c4b-0000-4000-8000-000000000000`;

      expect(await evaluateAsRole(template, op, { action: 'ssm:StartAutomationExecution', resource: documentArn })).toBe('Allowed');
      expect(await evaluateAsRole(template, op, { action: 'ssm:StartAutomationExecution', resource: execution })).toBe('Allowed');
      expect(await evaluateAsRole(template, op, { action: 'ssm:GetAutomationExecution', resource: execution })).toBe('Allowed');
      expect(await evaluateAsRole(template, op, {
        action: 'iam:PassRole', resource: roleArn, context: { 'iam:PassedToService': 'ssm.amazonaws.com' },
      })).toBe('Allowed');

      // but not another document, not the role to another service, not another role
      expect(await evaluateAsRole(template, op, {
        action: 'ssm:StartAutomationExecution', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:document/AWS-DeleteSnapshot`,
      })).toBe('ImplicitlyDenied');
      expect(await evaluateAsRole(template, op, {
        action: 'iam:PassRole', resource: roleArn, context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
      })).toBe('ImplicitlyDenied');
      expect(await evaluateAsRole(template, op, {
        action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/Admin`, context: { 'iam:PassedToService': 'ssm.amazonaws.com' },
      })).toBe('ImplicitlyDenied');
    });

    test.each([
      ['ec2:CreateSnapshot', `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-0123456789abcdef0`],
      ['ec2:CreateSnapshots', INSTANCE_ARN],
      ['ec2:DeleteSnapshot', `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`],
      ['ec2:CreateTags', `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`],
      ['ec2:CreateImage', INSTANCE_ARN],
      ['ec2:DeregisterImage', `arn:aws:ec2:${REGION}::image/ami-0123456789abcdef0`],
      ['ec2:RebootInstances', INSTANCE_ARN],
    ])('an operator with grantStart cannot call %s directly', async (action, resource) => {
      expect(await evaluateAsRole(template, logicalIdOf(contractStack, operators), { action, resource })).toBe('ImplicitlyDenied');
    });

    test('the operator policy is one managed policy of the runbook, attached to the role', () => {
      Template.fromJSON(template).hasResourceProperties('AWS::IAM::ManagedPolicy', {
        Roles: [{ Ref: logicalIdOf(contractStack, operators) }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Sid: 'PassRunbookRoleToSsmOnly',
            Action: 'iam:PassRole',
            Condition: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
          })]),
        },
      });
      const operatorPolicies = JSON.stringify(Object.values<any>(template.Resources)
        .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy').map((r) => r.Properties.PolicyDocument));
      expect(operatorPolicies).not.toMatch(/"ec2:/);
    });

    test('the automation role is trusted by SSM for this account only', () => {
      Template.fromJSON(template).hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({
            Principal: { Service: 'ssm.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': ACCOUNT },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          })],
        },
      });
    });

    test('the automation role creates only tagged artefacts and deletes nothing', async () => {
      const role = logicalIdOf(contractStack, runbook.automationRole);
      const snapshot = `arn:aws:ec2:${REGION}::snapshot/*`;
      const ownTags = {
        'aws:RequestTag/backup:purpose': 'pre-change',
        'aws:RequestTag/backup:retention': 'age:14d',
        'aws:RequestTag/backup:managed-by': 'TestStack/PreChange',
        'aws:TagKeys': ['backup:purpose', 'backup:retention', 'backup:managed-by', 'backup:change-ref', 'Name'],
      };
      expect(await evaluateAsRole(template, role, { action: 'ec2:CreateSnapshots', resource: INSTANCE_ARN })).toBe('Allowed');
      expect(await evaluateAsRole(template, role, { action: 'ec2:CreateSnapshots', resource: snapshot, context: ownTags })).toBe('Allowed');
      expect(await evaluateAsRole(template, role, { action: 'ec2:CreateImage', resource: `arn:aws:ec2:${REGION}::image/*`, context: ownTags })).toBe('Allowed');
      // a forged retention tag, or an extra key, is refused
      expect(await evaluateAsRole(template, role, {
        action: 'ec2:CreateSnapshots', resource: snapshot, context: { ...ownTags, 'aws:RequestTag/backup:retention': 'keep' },
      })).toBe('ImplicitlyDenied');
      expect(await evaluateAsRole(template, role, {
        action: 'ec2:CreateSnapshots', resource: snapshot, context: { ...ownTags, 'aws:TagKeys': ['backup:purpose', 'owner'] },
      })).toBe('ImplicitlyDenied');
      // tags only while creating
      expect(await evaluateAsRole(template, role, {
        action: 'ec2:CreateTags', resource: 'arn:aws:ec2:us-east-1::snapshot/snap-1', context: { 'ec2:CreateAction': 'CreateSnapshots' },
      })).toBe('Allowed');
      expect(await evaluateAsRole(template, role, { action: 'ec2:CreateTags', resource: 'arn:aws:ec2:us-east-1::snapshot/snap-1' }))
        .toBe('ImplicitlyDenied');
      expect(await evaluateAsRole(template, role, { action: 'ec2:DeleteSnapshot', resource: 'arn:aws:ec2:us-east-1::snapshot/snap-1' }))
        .toBe('ImplicitlyDenied');
    });

    test('the expiry job deletes only this runbook\'s artefacts and is the registered retention role', async () => {
      const role = logicalIdOf(contractStack, runbook.expiryRole);
      const own = { 'aws:ResourceTag/backup:purpose': 'pre-change', 'aws:ResourceTag/backup:managed-by': 'TestStack/PreChange' };
      const snapshot = 'arn:aws:ec2:us-east-1::snapshot/snap-1';
      expect(await evaluateAsRole(template, role, { action: 'ec2:DeleteSnapshot', resource: snapshot, context: own })).toBe('Allowed');
      expect(await evaluateAsRole(template, role, {
        action: 'ec2:DeregisterImage', resource: 'arn:aws:ec2:us-east-1::image/ami-1', context: own,
      })).toBe('Allowed');
      expect(await evaluateAsRole(template, role, {
        action: 'ec2:DeleteSnapshot', resource: snapshot, context: { ...own, 'aws:ResourceTag/backup:purpose': 'database-dr' },
      })).toBe('ImplicitlyDenied');
      expect(await evaluateAsRole(template, role, {
        action: 'ec2:DeleteSnapshot', resource: snapshot, context: { ...own, 'aws:ResourceTag/backup:managed-by': 'Other/Runbook' },
      })).toBe('ImplicitlyDenied');
      expect(RetentionRoles.roles(contractStack)).toEqual([runbook.expiryRole]);
    });

    test('the expiry job runs on a schedule with the tag keys it matches on', () => {
      const t = Template.fromJSON(template);
      t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)', State: 'ENABLED' });
      t.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.handler',
        // opt-in only: accounts with a concurrency quota of 10 reject any reservation
        ReservedConcurrentExecutions: Match.absent(),
        Environment: {
          Variables: {
            PURPOSE_KEY: 'backup:purpose',
            PURPOSE: 'pre-change',
            MANAGED_BY_KEY: 'backup:managed-by',
            MANAGED_BY: 'TestStack/PreChange',
            RETENTION_KEY: 'backup:retention',
            EXPIRE_AFTER_DAYS: '14',
            // the floor: a retention tag below it is rejected by the handler
            MIN_RETENTION_DAYS: '14',
          },
        },
      });
    });

    test('declares its snapshots and AMIs as artefact sources with the three tags', () => {
      expect(runbook.artefactTagSets()).toEqual([
        { artefact: "snapshots of runbook 'TestStack/PreChange'", tags: { 'backup:purpose': 'pre-change', 'backup:retention': 'age:14d', 'backup:managed-by': 'TestStack/PreChange' } },
        { artefact: "AMIs of runbook 'TestStack/PreChange'", tags: expect.objectContaining({ 'backup:purpose': 'pre-change' }) },
      ]);
      expect(BackupTagging.artefactSources(runbook)).toEqual([runbook]);
    });
  });

  test('snapshots only, by default: no image step and no CreateImage right', () => {
    const runbook = new PreChangeSnapshot(stack, 'PreChange');
    const template = checkedTemplate(stack);
    const content = Object.values(automationDocuments(template))[0];
    expect(content.mainSteps.map((s: any) => s.name)).toEqual(['identifyOperator', 'createSnapshots']);
    expect(JSON.stringify(template)).not.toContain('ec2:CreateImage');
    expect(runbook.retention.toTagValue()).toBe('age:14d');
  });

  test('rebootForImage bakes NoReboot false into the document: operators cannot choose a reboot', () => {
    new PreChangeSnapshot(stack, 'PreChange', { includeImage: true, rebootForImage: true, excludeBootVolume: true });
    const content = Object.values(automationDocuments(checkedTemplate(stack)))[0];
    const image = content.mainSteps.find((s: any) => s.name === 'createImage');
    expect(image.inputs.NoReboot).toBe(false);
    expect(content.mainSteps[1].inputs.InstanceSpecification.ExcludeBootVolume).toBe(true);
    expect(Object.keys(content.parameters)).toEqual([PreChangeSnapshot.INSTANCE_ID_PARAMETER, PreChangeSnapshot.CHANGE_REFERENCE_PARAMETER]);
  });

  test('instanceTags limit the instances in the role policy, whatever the operator passes', async () => {
    const runbook = new PreChangeSnapshot(stack, 'PreChange', { instanceTags: { 'patch-group': 'web' } });
    const template = checkedTemplate(stack);
    const role = logicalIdOf(stack, runbook.automationRole);
    expect(await evaluateAsRole(template, role, {
      action: 'ec2:CreateSnapshots', resource: INSTANCE_ARN, context: { 'aws:ResourceTag/patch-group': 'web' },
    })).toBe('Allowed');
    expect(await evaluateAsRole(template, role, {
      action: 'ec2:CreateSnapshots', resource: INSTANCE_ARN, context: { 'aws:ResourceTag/patch-group': 'db' },
    })).toBe('ImplicitlyDenied');
  });

  test('a custom purpose, schedule and tag prefix flow into the document, the policies and the job', () => {
    BackupTagging.configure(app, { prefix: 'acme:' });
    new PreChangeSnapshot(stack, 'PreChange', {
      purpose: 'patch-night', retain: Retention.age(Duration.days(3)), expirySchedule: events.Schedule.cron({ minute: '0', hour: '5' }),
    });
    const template = checkedTemplate(stack);
    const t = Template.fromJSON(template);
    const content = Object.values(automationDocuments(template))[0];
    expect(content.mainSteps[1].inputs.TagSpecifications[0].Tags).toEqual(expect.arrayContaining([
      { Key: 'acme:purpose', Value: 'patch-night' },
      { Key: 'acme:retention', Value: 'age:3d' },
      { Key: 'acme:change-ref', Value: '{{ ChangeReference }}' },
    ]));
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 5 * * ? *)' });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'DeleteOwnArtefactsOnly',
          Condition: { StringEquals: { 'aws:ResourceTag/acme:purpose': 'patch-night', 'aws:ResourceTag/acme:managed-by': 'TestStack/PreChange' } },
        })]),
      },
    });
  });

  test('grantStart on a principal that is not a role, user or group puts the statements in its policy', () => {
    const runbook = new PreChangeSnapshot(stack, 'PreChange');
    const fnRole = new iam.Role(stack, 'Fn', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grantee = new iam.PrincipalWithConditions(fnRole, { StringEquals: { 'aws:RequestedRegion': REGION } });
    const grant = runbook.grantStart(grantee);
    expect(grant.success).toBe(true);
    // the statements land in the user's own policy, so the user reviews (and acknowledges) them
    acknowledge(fnRole,
      nag('IAM5', 'user: executions of the runbook have generated ids', 'Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:automation-execution/*'),
      nag('IAM5', 'user: DescribeAutomationExecutions supports no resource-level permissions', 'Resource::*'));
    const template = checkedTemplate(stack);
    Template.fromJSON(template).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(stack, fnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ssm:StartAutomationExecution' })]) },
    });
  });

  test('retain from a token is not validated and reaches the job as a token', () => {
    new PreChangeSnapshot(stack, 'PreChange', { retain: Retention.age(Duration.days(Token.asNumber(Fn.importValue('PreChangeDays')))) });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EXPIRE_AFTER_DAYS: { 'Fn::ImportValue': 'PreChangeDays' }, MIN_RETENTION_DAYS: { 'Fn::ImportValue': 'PreChangeDays' } }) },
    });
  });

  test.each([
    ['retain as a count (the expiry job expires by age)', { retain: Retention.count(3) },
      "TestStack/Bad: retain must be Retention.age(Duration.days(n)), not a count: the expiry job removes pre-change artefacts by age, got 'count:3'"],
    ['rebootForImage without an image', { rebootForImage: true }, 'rebootForImage applies only with includeImage: true'],
    ['a purpose that is no tag value', { purpose: 'pre change!' }, "purpose must be a tag value of letters, digits, spaces and _ . : / = + - @, got 'pre change!'"],
    ['an empty purpose', { purpose: '' }, 'purpose must be between 1 and 256 characters long'],
    ['a reserved instance tag key', { instanceTags: { 'aws:cloudformation:stack-name': 'x' } }, "instanceTags key must not start with 'aws:'"],
    ['too many instance tags', { instanceTags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'instanceTags must have at most 50 tags, got 51'],
  ])('rejects %s', (_name, props, fragment) => {
    expect(() => new PreChangeSnapshot(stack, 'Bad', props as any)).toThrow(fragment);
  });
});
