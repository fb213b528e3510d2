// What the library's checks read of a resource: the template entry as CloudFormation receives it.
import { App, CfnResource, Fn, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { renderedProperties, renderedResources } from '../../src/core/rendered-properties';

describe('renderedProperties', () => {
  test('CloudFormation casing, property overrides applied (CDK\'s escape hatch), tokens as intrinsics', () => {
    const stack = new Stack(new App(), 'S');
    const q = new sqs.CfnQueue(stack, 'Q', { delaySeconds: 5, queueName: Fn.importValue('Name') });
    q.addPropertyOverride('MessageRetentionPeriod', 60);
    q.addPropertyOverride('DelaySeconds', 9);
    expect(renderedProperties(q)).toEqual({ DelaySeconds: 9, MessageRetentionPeriod: 60, QueueName: { 'Fn::ImportValue': 'Name' } });
  });

  test('a resource without properties renders none; its entry keeps its logical id and type', () => {
    const stack = new Stack(new App(), 'S');
    const r = new CfnResource(stack, 'Handle', { type: 'AWS::CloudFormation::WaitConditionHandle' });
    expect(renderedProperties(r)).toEqual({});
    expect(renderedResources(r)).toEqual({ Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } });
  });
});
