import { VSS_TASK } from '../coverage-index';
import { TemplateResource } from '../model';
import { COMPLIANT, EbsBackupRule, nonCompliant, NOT_APPLICABLE, RuleContext } from '../rule';

/**
 * Windows instances that a VSS maintenance window or a DLM `AWS_VSS_BACKUP` script protects carry
 * an instance role that may take the snapshots: AWSEC2-CreateVssSnapshot calls `CreateSnapshots`
 * from the instance itself, and without the permission every run fails (or, with a fallback,
 * silently takes crash-consistent snapshots).
 */
export const VssInstanceRole: EbsBackupRule = {
  id: 'EbsBackup-VssInstanceRole',
  summary: 'instances protected by VSS carry an instance role that grants the VSS snapshot permissions',
  fix: 'attach an instance profile whose role has the AWSEC2VssSnapshotPolicy managed policy (or ec2:CreateSnapshots and ec2:CreateTags)',
  severity: 'error',
  evaluate(resource, context) {
    if (resource.type !== 'AWS::EC2::Instance') {
      return NOT_APPLICABLE;
    }
    const target = context.coverage.instanceTarget(resource);
    const vss = context.coverage.sources.filter((s) => VSS_TASK.test(JSON.stringify(s.resource.properties)) && s.covers(target));
    if (vss.length === 0) {
      return NOT_APPLICABLE;
    }
    const profileRef = resource.properties.IamInstanceProfile;
    const by = vss.map((s) => s.description).join(', ');
    if (profileRef === undefined) {
      return nonCompliant(
        `EC2 instance ${resource.path} is in a VSS tier (${by}) but has no instance profile: ` +
        'attach one whose role has the AWSEC2VssSnapshotPolicy managed policy, or VSS snapshots fail on it',
        'Properties/IamInstanceProfile',
      );
    }
    const profile = context.app.target(resource, profileRef);
    if (profile?.type !== 'AWS::IAM::InstanceProfile') {
      return NOT_APPLICABLE; // an imported profile: its role is not in the app
    }
    const roles = (Array.isArray(profile.properties.Roles) ? profile.properties.Roles : [])
      .map((r: unknown) => context.app.target(profile, r))
      .filter((r: TemplateResource | undefined): r is TemplateResource => r?.type === 'AWS::IAM::Role');
    if (roles.length === 0 || roles.some((role: TemplateResource) => grantsVss(role, context))) {
      return COMPLIANT;
    }
    return nonCompliant(
      `EC2 instance ${resource.path} is in a VSS tier (${by}) but its role ${roles.map((r: TemplateResource) => r.path).join(', ')} ` +
      'cannot take the snapshots: add the AWSEC2VssSnapshotPolicy managed policy (or ec2:CreateSnapshots and ec2:CreateTags) to it',
      'Properties/IamInstanceProfile',
    );
  },
};

const VSS_GRANT = /AWSEC2VssSnapshotPolicy|"ec2:(CreateSnapshots|CreateSnapshot\*|\*)"/;

function grantsVss(role: TemplateResource, { app }: RuleContext): boolean {
  const own = JSON.stringify({ m: role.properties.ManagedPolicyArns ?? [], p: role.properties.Policies ?? [] });
  if (VSS_GRANT.test(own)) {
    return true;
  }
  const attachedManaged = (Array.isArray(role.properties.ManagedPolicyArns) ? role.properties.ManagedPolicyArns : [])
    .map((arn: unknown) => app.target(role, arn))
    .filter((p: TemplateResource | undefined) => p !== undefined);
  const policies = [
    ...app.referrers(role, 'AWS::IAM::Policy'),
    ...app.referrers(role, 'AWS::IAM::ManagedPolicy'),
    ...attachedManaged,
  ];
  return policies.some((p: TemplateResource) => VSS_GRANT.test(JSON.stringify(p.properties.PolicyDocument ?? {})));
}
