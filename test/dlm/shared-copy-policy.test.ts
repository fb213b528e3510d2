import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DeploymentPrerequisites, DlmSharedSnapshotCopyPolicy, Retention } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

let app: App;
let stack: Stack;
beforeEach(() => {
  app = createCheckedApp();
  stack = createTestStack(app, 'ArchiveStack', { env: { account: '222222222222', region: 'us-east-1' } });
  Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the shared volumes are encrypted with a customer key shared with the target account (README Before you deploy)' });
});

describe('DlmSharedSnapshotCopyPolicy', () => {
  test('copies snapshots shared by the source account on arrival, re-encrypted with the archive key', () => {
    // GIVEN
    const archiveKey = kms.Key.fromKeyArn(stack, 'ArchiveKey', 'arn:aws:kms:us-east-1:222222222222:key/99999999-2222-3333-4444-555555555555');
    const sourceKey = kms.Key.fromKeyArn(stack, 'SourceKey', 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555');

    // WHEN
    new DlmSharedSnapshotCopyPolicy(stack, 'Copy', {
      purpose: 'archive',
      sourceAccounts: ['111111111111'],
      sourcePolicyIds: ['policy-0123456789abcdef0'],
      sourceKeys: [sourceKey],
      copies: [
        { region: 'us-east-1', retain: Retention.age(Duration.days(365)), encryptionKey: archiveKey },
        { region: 'us-west-2', retain: Retention.age(Duration.days(90)) },
      ],
    });

    // THEN
    const t = checkedTemplate(stack);
    Template.fromJSON(t).hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      State: 'ENABLED',
      PolicyDetails: {
        PolicyType: 'EVENT_BASED_POLICY',
        EventSource: {
          Type: 'MANAGED_CWE',
          Parameters: {
            // AWS::DLM::LifecyclePolicy EventParameters, EventType: "Allowed values: shareSnapshot"
            // (SHARE_SNAPSHOT passed the 2.262 validator and is rejected by newer ones and by DLM)
            EventType: 'shareSnapshot',
            SnapshotOwner: ['111111111111'],
            DescriptionRegex: '^.*Created for policy: (policy-0123456789abcdef0).*$',
          },
        },
        Actions: [{
          Name: 'copy-shared-snapshots',
          CrossRegionCopy: [
            {
              Target: 'us-east-1',
              EncryptionConfiguration: { Encrypted: true, CmkArn: archiveKey.keyArn },
              RetainRule: { Interval: 365, IntervalUnit: 'DAYS' },
            },
            { Target: 'us-west-2', EncryptionConfiguration: { Encrypted: true }, RetainRule: { Interval: 90, IntervalUnit: 'DAYS' } },
          ],
        }],
      },
    });
    const statements = JSON.stringify(Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::IAM::Policy'));
    expect(statements).toContain('rule/AwsDataLifecycleRule.managed-cwe.*');
    expect(statements).toContain(sourceKey.keyArn);
    expect(statements).toContain(':ec2:us-west-2::snapshot/*');
  });
});
