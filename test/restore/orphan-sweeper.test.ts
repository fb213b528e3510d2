import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BackupOrphanSweeper } from '../../src/restore';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

describe('BackupOrphanSweeper', () => {
  test('reports by default, and deletes only tagged artefacts when dry run is off', () => {
    // GIVEN a report-only sweeper and a deleting one
    const app = createCheckedApp();
    const report = createTestStack(app, 'Report');
    new BackupOrphanSweeper(report, 'Orphans');
    const sweep = createTestStack(app, 'Sweep');
    new BackupOrphanSweeper(sweep, 'Orphans', { dryRun: false });

    // THEN the report-only one may not delete anything
    const reportTemplate = Template.fromJSON(checkedTemplate(report));
    reportTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ purposeTagKey: 'backup:purpose', dryRun: true, namespace: 'CdkEbsBackup/Orphans' }) })],
    });
    expect(JSON.stringify(reportTemplate.findResources('AWS::IAM::Policy'))).not.toMatch(/DeleteSnapshot|DeregisterImage/);

    // AND the deleting one only artefacts that carry the purpose tag
    Template.fromJSON(checkedTemplate(sweep)).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'DeleteOnlyTheLibrarysOrphans',
          Action: ['ec2:DeleteSnapshot', 'ec2:DeregisterImage'],
          Condition: { Null: { 'aws:ResourceTag/backup:purpose': 'false' } },
        })]),
      },
    });
  });

  test('rejects an AWS namespace', () => {
    expect(() => new BackupOrphanSweeper(new Stack(new App(), 'S'), 'Orphans', { metricNamespace: 'AWS/EBS' })).toThrow(
      "S/Orphans: metricNamespace must be a namespace of 1-255 characters without ':' that does not start with 'AWS/', got 'AWS/EBS'");
  });
});
