import { Duration, Stack } from 'aws-cdk-lib';
import { PreChangeSnapshot, Retention } from '../../src';
import { AutomationDocumentModel, ExecuteAutomationStep, ExecuteAwsApiStep, WaitForAwsResourcePropertyStep, references } from '../../src/runbooks/automation';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { automationSchemaErrors } from './automation-schema';
import { automationDocuments } from './helpers';

const describeStep = (name: string, extra: object = {}) => new ExecuteAwsApiStep({
  name,
  service: 'ec2',
  api: 'DescribeInstances',
  parameters: { InstanceIds: ['{{ InstanceId }}'] },
  outputs: [{ name: 'State', selector: '$.Reservations[0].Instances[0].State.Name', type: 'String' }],
  ...extra,
});

function model(steps: any[], outputs: string[] = [], parameters: Record<string, any> = { InstanceId: { type: 'String', description: 'x' } }) {
  return new AutomationDocumentModel({ description: 'd', assumeRole: 'arn:aws:iam::123456789012:role/r', parameters, steps, outputs });
}

describe('Automation document model', () => {
  test('renders schema 0.3 with typed steps that pass the Automation schema', () => {
    const doc = model([
      describeStep('describe'),
      new WaitForAwsResourcePropertyStep({
        name: 'waitRunning',
        service: 'ec2',
        api: 'DescribeInstances',
        parameters: { InstanceIds: ['{{ InstanceId }}'] },
        propertySelector: '$.Reservations[0].Instances[0].State.Name',
        desiredValues: ['running'],
        timeoutSeconds: 600,
      }),
      new ExecuteAutomationStep({ name: 'child', documentName: 'AWS-UpdateLinuxAmi', runtimeParameters: { SourceAmiId: ['ami-1'] }, onFailure: 'step:describe' }),
    ], ['describe.State', 'child.ExecutionId']);
    expect(doc.problems()).toEqual([]);
    const rendered = doc.render();
    expect(automationSchemaErrors(rendered)).toEqual([]);
    expect(rendered.mainSteps).toEqual([
      expect.objectContaining({ name: 'describe', action: 'aws:executeAwsApi', outputs: [{ Name: 'State', Selector: '$.Reservations[0].Instances[0].State.Name', Type: 'String' }] }),
      expect.objectContaining({ action: 'aws:waitForAwsResourceProperty', timeoutSeconds: 600, inputs: expect.objectContaining({ DesiredValues: ['running'] }) }),
      expect.objectContaining({ action: 'aws:executeAutomation', onFailure: 'step:describe', inputs: { DocumentName: 'AWS-UpdateLinuxAmi', RuntimeParameters: { SourceAmiId: ['ami-1'] } } }),
    ]);
  });

  test.each([
    ['an unknown parameter', [new ExecuteAwsApiStep({ name: 's', service: 'ec2', api: 'X', parameters: { A: '{{ Nope }}' } })], [],
      "step 's' references '{{ Nope }}', which is neither a parameter, a system variable nor an output of an earlier step"],
    ['an output of a later step', [new ExecuteAwsApiStep({ name: 'first', service: 'ec2', api: 'X', parameters: { A: '{{ second.State }}' } }), describeStep('second')], [],
      "step 'first' references '{{ second.State }}'"],
    ['an unknown system variable', [new ExecuteAwsApiStep({ name: 's', service: 'ec2', api: 'X', parameters: { A: '{{ automation:CALLER }}' } })], [],
      "references '{{ automation:CALLER }}'"],
    ['a duplicate step', [describeStep('same'), describeStep('same')], [], "step 'same' is declared twice"],
    ['a bad step name', [describeStep('has space')], [], "step 'has space' must match"],
    ['a jump to nowhere', [describeStep('s', { nextStep: 'ghost' })], [], "step 's' jumps to unknown step 'ghost'"],
    ['an unknown document output', [describeStep('s')], ['s.Missing'], "document output 's.Missing' is not an output of any step"],
    ['no steps', [], [], 'the document has no steps'],
  ])('reports %s', (_name, steps, outputs, fragment) => {
    expect(model(steps as any[], outputs as string[]).problems()).toEqual(expect.arrayContaining([expect.stringContaining(fragment as string)]));
  });

  test('reports a bad parameter name', () => {
    expect(model([describeStep('s')], [], { 'Instance Id': { type: 'String', description: 'x' }, 'InstanceId': { type: 'String', description: 'x' } }).problems())
      .toEqual(["parameter 'Instance Id' must match ^[A-Za-z0-9_.-]{1,50}$"]);
  });

  test('finds references anywhere in the inputs, with or without spaces', () => {
    expect(references({ a: ['{{A}}', { b: 'x {{ s.B }} y {{ global:REGION }}' }], n: 1 })).toEqual(['A', 's.B', 'global:REGION']);
  });

  test('the schema catches what SSM would reject', () => {
    expect(automationSchemaErrors({ schemaVersion: '0.3', mainSteps: [{ name: 'x', action: 'aws:executeAwsApi', inputs: { Service: 'ec2' } }] }))
      .toEqual([".mainSteps[0].inputs should have required property 'Api'", '.mainSteps[0] should match "then" schema']);
    expect(automationSchemaErrors({ schemaVersion: '0.2', mainSteps: [] })).toEqual(expect.arrayContaining(['.schemaVersion should be equal to constant']));
  });

  test.each([
    ['snapshots only', {}],
    ['snapshots and an AMI', { includeImage: true, retain: Retention.age(Duration.days(30)) }],
    ['an AMI with reboot', { includeImage: true, rebootForImage: true, purpose: 'patch night:web' }],
  ])('every rendered PreChangeSnapshot document (%s) passes the Automation schema and the model checks', (_name, props) => {
    const app = createCheckedApp();
    const stack: Stack = createTestStack(app);
    new PreChangeSnapshot(stack, 'PreChange', props);
    const docs = Object.values(automationDocuments(checkedTemplate(stack)));
    expect(docs).toHaveLength(1);
    for (const content of docs) {
      expect(automationSchemaErrors(content)).toEqual([]);
      expect(content.mainSteps.find((s: any) => s.name === 'createImage')?.inputs.Name ?? 'none').toMatch(/^(none|[A-Za-z0-9()[\]./'@_ {}:-]+)$/);
    }
  });
});
