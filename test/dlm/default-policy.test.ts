import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DefaultPolicyTarget, DlmDefaultPolicy, Retention } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

let app: App;
let stack: Stack;
beforeEach(() => {
  app = createCheckedApp();
  stack = createTestStack(app);
});

describe('DlmDefaultPolicy', () => {
  test('a volume safety net with exclusions, extended deletion and copies, its settings inside PolicyDetails only', () => {
    // WHEN
    new DlmDefaultPolicy(stack, 'Volumes', {
      purpose: 'safety-net',
      target: DefaultPolicyTarget.volumes({
        excludeBootVolumes: true, excludeVolumeTypes: [ec2.EbsDeviceVolumeType.ST1, ec2.EbsDeviceVolumeType.SC1],
      }),
      createEvery: Duration.days(2),
      retain: Retention.age(Duration.days(14)),
      extendDeletion: true,
      copyRegions: ['us-west-2'],
    });

    // THEN
    const t = checkedTemplate(stack);
    Template.fromJSON(t).hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      DefaultPolicy: 'VOLUME',
      State: 'ENABLED',
      CreateInterval: Match.absent(),
      RetainInterval: Match.absent(),
      Exclusions: Match.absent(),
      PolicyDetails: {
        PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
        PolicyLanguage: 'SIMPLIFIED',
        ResourceType: 'VOLUME',
        CreateInterval: 2,
        RetainInterval: 14,
        CopyTags: true,
        ExtendDeletion: true,
        Exclusions: { ExcludeBootVolumes: true, ExcludeVolumeTypes: { 'Fn::Split': [',', 'st1,sc1'] } },
        CrossRegionCopyTargets: [{ TargetRegion: 'us-west-2' }],
      },
    });
  });

  test('ExcludeVolumeTypes reaches CloudFormation as the list of strings its current schema and the DLM API define', () => {
    // the registry schema as packaged in @aws-cdk/aws-service-spec (the current one)
    const db = loadAwsServiceSpecSync();
    const resource = db.lookup('resource', 'cloudFormationType', 'equals', 'AWS::DLM::LifecyclePolicy').only();
    const exclusions = db.follow('usesType', resource).map((x) => x.entity).find((t) => t.name === 'Exclusions')!;
    expect(exclusions.properties.ExcludeVolumeTypes.type).toEqual({ type: 'array', element: { type: 'string' } });
    // the rendered value, resolved the way CloudFormation resolves Fn::Split before the handler sees it
    new DlmDefaultPolicy(stack, 'Volumes', {
      purpose: 'safety-net',
      target: DefaultPolicyTarget.volumes({ excludeVolumeTypes: [ec2.EbsDeviceVolumeType.ST1, ec2.EbsDeviceVolumeType.SC1] }),
    });
    const policy = Object.values<any>(checkedTemplate(stack).Resources).find((r) => r.Type === 'AWS::DLM::LifecyclePolicy');
    const [sep, joined] = policy.Properties.PolicyDetails.Exclusions.ExcludeVolumeTypes['Fn::Split'];
    const deployed: unknown[] = joined.split(sep);
    // DLM API reference, Exclusions: ExcludeVolumeTypes is an array of 0-6 strings of 0-50 characters
    expect(deployed).toEqual(['st1', 'sc1']);
    expect(deployed.every((v) => typeof v === 'string' && v.length <= 50)).toBe(true);
  });

  test('an instance safety net excludes instances by tag, with the defaults of 1 and 7 days', () => {
    new DlmDefaultPolicy(stack, 'Instances', {
      purpose: 'safety-net',
      target: DefaultPolicyTarget.instances({ excludeTags: { Ephemeral: 'true' } }),
    });
    Template.fromJSON(checkedTemplate(stack)).hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      DefaultPolicy: 'INSTANCE',
      PolicyDetails: {
        PolicyType: 'IMAGE_MANAGEMENT',
        PolicyLanguage: 'SIMPLIFIED',
        ResourceType: 'INSTANCE',
        CreateInterval: 1,
        RetainInterval: 7,
        CopyTags: true,
        ExtendDeletion: false,
        Exclusions: { ExcludeTags: [{ Key: 'Ephemeral', Value: 'true' }] },
      },
    });
  });

  test('one volume and one instance default policy may live side by side, sharing the execution role', () => {
    const volumes = new DlmDefaultPolicy(stack, 'Volumes', { purpose: 'safety-net', target: DefaultPolicyTarget.volumes() });
    const instances = new DlmDefaultPolicy(stack, 'Instances', { purpose: 'safety-net', target: DefaultPolicyTarget.instances() });
    const t = checkedTemplate(stack);
    const roles = Object.keys(t.Resources).filter((id) => t.Resources[id].Type === 'AWS::IAM::Role');
    expect(roles).toEqual([expect.any(String)]);
    const policies = Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::DLM::LifecyclePolicy')
      .map((r) => [r.Properties.DefaultPolicy, r.Properties.ExecutionRoleArn]);
    expect(policies).toEqual([['VOLUME', { 'Fn::GetAtt': [roles[0], 'Arn'] }], ['INSTANCE', { 'Fn::GetAtt': [roles[0], 'Arn'] }]]);
    expect(stack.resolve(volumes.executionRole.roleArn)).toEqual(stack.resolve(instances.executionRole.roleArn));
  });
});
