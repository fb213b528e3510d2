import { BootstraplessSynthesizer, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DeploymentPrerequisites, BackupTier, BaselineStackSet, EbsBackupBaseline } from '../../src';

const RETENTION_ROLE_PATH = BaselineStackSet.RETENTION_ROLE_PATH;
const STACKSET_TEMPLATE_BODY_LIMIT = BaselineStackSet.TEMPLATE_BODY_LIMIT;
import {
  checkedTemplate, checkTemplateAgainstSchema, checkTemplateIamActions, createCheckedApp, createTestStack, synthesizeChecked,
} from '../support';

// One synthesis (the administrator's stack and, in the same run, the member stage through the
// same cdk-nag and cfn-guard plugins): about a minute on a loaded machine.
let stack: Stack;
let rollout: BaselineStackSet;
let template: Template;
let member: any;

beforeAll(() => {
  const app = createCheckedApp();
  stack = createTestStack(app, 'Organization');
  Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason: 'the organization prerequisites are in place (README Before you deploy)' });
  rollout = new BaselineStackSet(stack, 'Rollout', {
    baseline: {
      tiers: [BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '111122223333' }), BackupTier.silver(), BackupTier.bronze()],
      breakGlassPrincipalArns: ['arn:aws:iam::*:role/BreakGlass'],
    },
    organizationalUnitIds: ['ou-abcd-12345678'],
    regions: ['us-east-1', 'us-west-2'],
  });
  template = Template.fromJSON(checkedTemplate(stack));
  member = rollout.memberTemplate;
}, 600_000);

const resources = (t: any, type: string) => Object.values<any>(t.Resources).filter((r) => r.Type === type);

describe('the member template', () => {
  test('is self-contained: no parameters, no bootstrap rule, no asset or bootstrap reference, no code', () => {
    expect(member.Parameters ?? {}).toEqual({});
    expect(member.Rules ?? {}).toEqual({});
    const text = JSON.stringify(member);
    // code or template assets would appear as S3Bucket/S3Key (or asset parameters) pointing at the bootstrap bucket
    const forbidden = text.match(/BootstrapVersion|cdk-bootstrap|hnb659fds|AssetParameters|cdk-assets|"S3Bucket":|"S3Key":/g);
    expect(forbidden).toBeNull();
    expect(resources(member, 'AWS::Lambda::Function')).toEqual([]);
    expect(Object.values<any>(member.Resources).filter((r) => r.Type.startsWith('Custom::'))).toEqual([]);
  });

  test('is environment-agnostic: it names the account and region of each member with pseudo parameters', () => {
    const text = JSON.stringify(member);
    expect(text).toContain('"Ref":"AWS::AccountId"');
    expect(text).not.toContain('123456789012');
  });

  test('passes the schema and IAM action gates (cdk-nag and cfn-guard ran on the member stage in the same synthesis)', () => {
    expect(checkTemplateAgainstSchema(member)).toEqual([]);
    expect(checkTemplateIamActions(member)).toEqual([]);
  });

  test('still has every tier: VSS and fsfreeze windows, the locked vault, both DLM policies', () => {
    expect(resources(member, 'AWS::SSM::MaintenanceWindow')).toHaveLength(2);
    expect(resources(member, 'AWS::DLM::LifecyclePolicy')).toHaveLength(2);
    expect(resources(member, 'AWS::Backup::BackupVault')[0].Properties.LockConfiguration).toEqual({ MinRetentionDays: 7, MaxRetentionDays: 3650, ChangeableForDays: 3 });
    expect(resources(member, 'AWS::Backup::RestoreTestingPlan')).toHaveLength(1);
  });

  test('locks silver snapshots with a Step Functions SDK integration instead of a function', () => {
    const lock = resources(member, 'AWS::StepFunctions::StateMachine').find((m) => JSON.stringify(m.Properties.DefinitionString).includes('aws-sdk:ec2:lockSnapshot'));
    expect(lock).toBeDefined();
    expect(JSON.stringify(lock.Properties.DefinitionString)).toContain('silver-snapshots');
  });

  test('makes each member account\'s break-glass role the exempt one', () => {
    const vault = resources(member, 'AWS::Backup::BackupVault')[0];
    expect(JSON.stringify(vault.Properties.AccessPolicy)).toContain(':role/BreakGlass');
    expect(JSON.stringify(vault.Properties.AccessPolicy)).not.toContain('iam::*:');
  });

  test('puts every role that expires backups or locks snapshots on the exempt path, and no other role', () => {
    const roles = Object.entries<any>(member.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    const onPath = roles.filter(([, r]) => r.Properties.Path === RETENTION_ROLE_PATH).map(([id]) => id).sort();
    expect(onPath).toEqual([
      expect.stringMatching(/^BaselinegoldBackupBackupRole/),
      expect.stringMatching(/^BaselinegoldFsfreezeHousekeepingRole/),
      expect.stringMatching(/^BaselinegoldVssHousekeepingRole/),
      expect.stringMatching(/^BaselinesilverLockRole/),
      expect.stringMatching(/^DlmExecutionRole/),
    ]);
    // instance roles stay off the path: an instance must never be exempt
    expect(roles.filter(([id]) => /InstanceRole/.test(id)).every(([, r]) => r.Properties.Path === undefined)).toBe(true);
  });
});

test('a self-contained baseline passes every gate on its own: cdk-nag, cfn-guard, schema and IAM actions', () => {
  // GIVEN the member stack as the StackSet builds it, alone in a checked app
  const app = createCheckedApp();
  const alone = new Stack(app, 'Member', { synthesizer: new BootstraplessSynthesizer(), analyticsReporting: false });
  new EbsBackupBaseline(alone, 'Baseline', {
    tiers: [BackupTier.gold({ drRegion: 'eu-west-1', archiveAccount: '111122223333' }), BackupTier.silver(), BackupTier.bronze()],
    breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
    selfContained: true,
    // as the StackSet's member: its DR-vault StackSet creates the vault in the DR region
    drVaultCreatedElsewhere: true,
  });
  // THEN it synthesizes through every gate, without asset parameters
  const synthesized = synthesizeChecked(app).getStackArtifact(alone.artifactId).template;
  expect(synthesized.Parameters ?? {}).toEqual({});
  expect(Object.values<any>(synthesized.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toEqual([]);
}, 600_000);

describe('the StackSets', () => {
  test('roll the baseline out with service-managed permissions and auto-deployment to the OUs and regions', () => {
    const body = JSON.stringify(member);
    expect(Buffer.byteLength(body)).toBeGreaterThan(STACKSET_TEMPLATE_BODY_LIMIT);
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackSetName: 'ebs-backup-baseline',
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: ['ou-abcd-12345678'] }, Regions: ['us-east-1', 'us-west-2'] }],
      // too large for TemplateBody: uploaded by the administrator's (bootstrapped) stack
      TemplateURL: Match.anyValue(),
      TemplateBody: Match.absent(),
    });
  });

  test('create the vault that receives the DR copies in the DR region of every account, inline', () => {
    const dr = resources(template.toJSON(), 'AWS::CloudFormation::StackSet').find((s) => s.Properties.StackSetName === 'ebs-backup-baseline-dr-vault');
    expect(dr.Properties.StackInstancesGroup[0].Regions).toEqual(['eu-west-1']);
    const body = JSON.parse(dr.Properties.TemplateBody);
    expect(resources(body, 'AWS::Backup::BackupVault')[0].Properties).toMatchObject({ BackupVaultName: 'ebs-backup-dr' });
    expect(body.Parameters ?? {}).toEqual({});
    expect(checkTemplateAgainstSchema(body)).toEqual([]);
  });
});

describe('the SCP', () => {
  test('denies destroying the tiers\' backups to all but break-glass and the retention roles, in every account of the OUs', () => {
    // the SCP is split into parts within the 5,120-character quota: every part targets the OUs
    const scps = resources(template.toJSON(), 'AWS::Organizations::Policy').filter((p) => p.Properties.Type === 'SERVICE_CONTROL_POLICY'
      && !p.Properties.Name.includes('block-public'));
    expect(scps.map((scp) => scp.Properties.TargetIds)).toEqual(scps.map(() => ['ou-abcd-12345678']));
    const statements = scps.flatMap((scp) => scp.Properties.Content.Statement);
    const deletion = statements.find((s: any) => s.Sid === 'DenyBackupDeletion');
    // the retention roles by exact name (the region suffix the only wildcard), not the path
    const exempt = JSON.stringify(deletion.Condition.ArnNotLike);
    for (const name of rollout.retentionRoleNames) {
      expect(exempt).toContain(`:iam::*:role${RETENTION_ROLE_PATH}${name}-*`);
    }
    expect(exempt).not.toContain(`:iam::*:role${RETENTION_ROLE_PATH}*`);
    expect(rollout.retentionRoleNames).toHaveLength(new Set(rollout.retentionRoleNames).size);
    // every member retention role carries its exact name, the region appended
    const named = resources(member, 'AWS::IAM::Role').filter((r) => r.Properties.Path === RETENTION_ROLE_PATH);
    expect(named.map((r) => r.Properties.RoleName['Fn::Join'][1][0]).sort())
      .toEqual([...rollout.retentionRoleNames, ...rollout.lockRoleNames].sort());
    expect(deletion.Condition.StringEquals['aws:ResourceTag/backup:purpose']).toEqual(['gold-vss', 'gold-fsfreeze', 'gold-backup', 'silver-snapshots', 'bronze-snapshots']);
    const path = statements.find((s: any) => s.Sid === 'DenyRetentionRolePathExceptStackSets');
    expect(path).toMatchObject({ Effect: 'Deny', Condition: { ArnNotLike: { 'aws:PrincipalArn': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/stacksets-exec-*']] }, 'arn:aws:iam::*:role/BreakGlass'] } } });
  });

  test('comes with the EC2 declarative policy that blocks public sharing of snapshots and AMIs', () => {
    template.hasResourceProperties('AWS::Organizations::Policy', {
      Type: 'DECLARATIVE_POLICY_EC2',
      TargetIds: ['ou-abcd-12345678'],
    });
  });
});
