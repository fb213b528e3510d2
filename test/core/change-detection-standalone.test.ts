/**
 * Change detection for standalone constructs (issue 16, "silence alarms": every mechanism, not
 * only the baseline's): `EbsBackupChangeDetection` added last to each stack of every example app
 * that is not a baseline. A CloudTrail management event that changes any of the library's job
 * resources (the resources carrying the machinery tag, as synthesized) or any DLM policy, Backup
 * plan or vault or Recycle Bin rule of the stack matches one of its rules; the same change to
 * the app's own resources matches none. Events follow "Events from AWS services" (EventBridge
 * User Guide: detail-type `AWS API Call via CloudTrail`, CloudTrail's eventSource and eventName,
 * requestParameters as the caller sent them); patterns are evaluated with the matcher held to the
 * EventBridge guide's examples (test/support/event-pattern.test.ts).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations } from 'aws-cdk-lib/assertions';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { listExamples, loadExample } from '../../examples/catalogue';
import { CLOUDTRAIL_DETAIL_TYPE } from '../../src/core/change-detection';
import { MACHINERY_TAG_VALUE } from '../../src/core/machinery';
import { EbsBackupChangeDetection } from '../../src/index';
import { cloudTrailEvent, CLOUDTRAIL_CHANGES as CHANGES, matchesPattern, renderIntrinsicsForEvents } from '../support/event-pattern';

const ACCOUNT = '565656565656';
const REGION = 'ap-southeast-2';
/** The examples that are a baseline (it creates its own detection). */
const BASELINES = ['baseline-tiers', 'organization-stackset'];

/** Watched whoever created them: the stack's backup configuration. */
const CONFIGURATION = new Set(['AWS::DLM::LifecyclePolicy', 'AWS::Backup::BackupPlan', 'AWS::Backup::BackupVault', 'AWS::Rbin::Rule']);

const isMachineryTagged = (r: any) => [r.Properties?.Tags ?? []].flat()
  .some((t: any) => t?.Value === MACHINERY_TAG_VALUE) || Object.values(r.Properties?.Tags ?? {}).includes(MACHINERY_TAG_VALUE);

interface Checked { readonly where: string; readonly type: string; readonly expected: boolean; readonly matched: boolean }

function checkExample(name: string): Checked[] {
  const app = new App();
  loadExample(name).build(app);
  const stacks = app.node.findAll().filter((c): c is Stack => Stack.isStack(c));
  for (const stack of stacks) {
    new EbsBackupChangeDetection(stack, 'ChangeDetection', { topic: new sns.Topic(stack, 'ChangeTopic') });
  }
  const assembly = app.synth();
  const checked: Checked[] = [];
  for (const stack of stacks) {
    const template = assembly.getStackArtifact(stack.artifactId).template;
    const render = (v: unknown) => renderIntrinsicsForEvents(v, ACCOUNT, REGION);
    const patterns = Object.values<any>(template.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.['detail-type']?.includes(CLOUDTRAIL_DETAIL_TYPE))
      .map((r) => render(r.Properties.EventPattern));
    // a vault's key: watched by the BackupVaultPolicy that created it (a mechanism watches every key
    // under it), by nobody when it is an archive vault's (the write-once guard denies disabling it)
    const vaultKeys = new Set(Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::Backup::BackupVault')
      .map((r) => r.Properties.EncryptionKeyArn?.['Fn::GetAtt']?.[0]).filter((id) => id !== undefined));
    for (const [logicalId, r] of Object.entries<any>(template.Resources)) {
      const change = CHANGES[r.Type];
      const isDetectionRule = r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.['detail-type']?.includes(CLOUDTRAIL_DETAIL_TYPE);
      // the stack detection's own alarm: created after its rules, on their metric (like the rules, not watched by them);
      // the mechanisms' detection alarms are watched by it
      const isOwnAlarm = r.Type === 'AWS::CloudWatch::Alarm' && logicalId.startsWith('ChangeDetectionRulesAlarm');
      if (!change || isDetectionRule || isOwnAlarm || vaultKeys.has(logicalId)) {
        continue;
      }
      const [action, requestParameters] = change(render({ Ref: logicalId }), logicalId);
      const event = cloudTrailEvent(action, requestParameters, ACCOUNT, REGION);
      checked.push({
        where: `${name}/${stack.stackName}/${logicalId} (${r.Type})`,
        type: r.Type,
        expected: CONFIGURATION.has(r.Type) || isMachineryTagged(r),
        matched: patterns.some((p) => matchesPattern(p, event)),
      });
    }
  }
  return checked;
}

const examples = listExamples().filter((e) => !BASELINES.includes(e));

test('the standalone examples are all checked, and they hold the library\'s jobs and the apps\' own resources (not vacuous)', () => {
  expect(examples.length).toBeGreaterThanOrEqual(7);
});

test.each(examples)('%s: a change to any of the library\'s jobs or the stack\'s backup configuration alarms; the app\'s own resources do not', (name) => {
  const checked = checkExample(name);
  expect(checked.filter((c) => c.expected).length).toBeGreaterThan(0);
  const wrong = checked.filter((c) => c.expected !== c.matched).map((c) => `${c.where}: ${c.expected ? 'not detected' : 'detected, but not the library\'s'}`);
  expect(wrong).toEqual([]);
}, 300_000);

test('across the examples, every kind of mechanism is watched: functions, state machines, documents, windows, rules, alarms, DLM policies, plans, vaults', () => {
  const kinds = new Set(examples.flatMap(checkExample).filter((c) => c.expected && c.matched).map((c) => c.type));
  for (const type of ['AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine', 'AWS::SSM::Document', 'AWS::SSM::MaintenanceWindow',
    'AWS::Events::Rule', 'AWS::CloudWatch::Alarm', 'AWS::DLM::LifecyclePolicy', 'AWS::Backup::BackupPlan', 'AWS::Backup::BackupVault']) {
    expect([type, kinds.has(type)]).toEqual([type, true]);
  }
}, 600_000);

test('a backup resource added to the stack after the detection is a synthesis error naming it and the fix', () => {
  const app = new App();
  const stack = new Stack(app, 'Jobs', { env: { account: ACCOUNT, region: REGION } });
  new EbsBackupChangeDetection(stack, 'ChangeDetection', { topic: new sns.Topic(stack, 'Topic') });
  new dlm.CfnLifecyclePolicy(stack, 'LatePolicy', { description: 'late', state: 'ENABLED', executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/dlm` });
  expect(() => app.synth()).toThrow(/Jobs\/ChangeDetection.*Jobs\/LatePolicy was added to the stack after the detection.*Fix: create the EbsBackupChangeDetection last in the stack/s);
});

test('an encrypted topic\'s key created in the app lets EventBridge publish (else the detections are dropped)', () => {
  const app = new App();
  const stack = new Stack(app, 'Jobs', { env: { account: ACCOUNT, region: REGION } });
  const key = new kms.Key(stack, 'TopicKey');
  new dlm.CfnLifecyclePolicy(stack, 'Policy', { description: 'p', state: 'ENABLED', executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/dlm` });
  new EbsBackupChangeDetection(stack, 'ChangeDetection', { topic: new sns.Topic(stack, 'Topic', { masterKey: key }) });
  const template = app.synth().getStackByName('Jobs').template;
  const statements = template.Resources[stack.getLogicalId(key.node.defaultChild as kms.CfnKey)].Properties.KeyPolicy.Statement;
  expect(statements).toContainEqual(expect.objectContaining({
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']),
  }));
  expect(Annotations.fromStack(stack).findError('*', /.*/)).toEqual([]);
});
