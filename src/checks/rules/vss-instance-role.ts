import { VSS_AGENT_PERMISSIONS, VSS_MANAGED_POLICY } from '../../core/vss-permissions';
import { VSS_TASK } from '../coverage-index';
import { TemplateResource } from '../model';
import { COMPLIANT, defineRule, nonCompliant, NOT_APPLICABLE, RuleContext } from '../rule';

/**
 * Windows instances that a VSS maintenance window or a DLM `AWS_VSS_BACKUP` script protects carry
 * an instance role that may take the snapshots: AWSEC2-CreateVssSnapshot calls `CreateSnapshots`
 * from the instance itself, and without the permission every run fails (or, with a fallback,
 * silently takes crash-consistent snapshots).
 */
export const VssInstanceRole = defineRule('VssInstanceRole', 'AWS::EC2::Instance', {
  summary: 'instances protected by VSS carry an instance role that grants the VSS snapshot permissions',
  fix: 'attach an instance profile whose role has the AWSEC2VssSnapshotPolicy managed policy, or the VSS window\'s instance policy (every action of AWSEC2VssSnapshotPolicy a snapshot run uses)',
}, (resource, context) => {
  const vss = context.coverage.sourcesCovering(resource, (s) => VSS_TASK.test(JSON.stringify(s.resource.properties)));
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
  const roles = context.app.profileRoles(profile);
  if (roles.length === 0) {
    return COMPLIANT;
  }
  const missing = roles.map((role: TemplateResource) => missingVssPermissions(role, context));
  if (missing.some((m: string[]) => m.length === 0)) {
    return COMPLIANT;
  }
  return nonCompliant(
    `EC2 instance ${resource.path} is in a VSS tier (${by}) but its role ${roles.map((r: TemplateResource) => r.path).join(', ')} ` +
    `cannot take the snapshots: add the AWSEC2VssSnapshotPolicy managed policy (or the VSS window's instance policy) to it; missing ${missing[0].join(', ')}`,
    'Properties/IamInstanceProfile',
  );
});

/**
 * The VSS permissions (`VSS_AGENT_PERMISSIONS`, the parity of AWSEC2VssSnapshotPolicy) that none
 * of the role's Allow statements grants; empty when the managed policy itself is attached. A
 * statement grants an action on a resource type when its Action matches (wildcards included) and
 * its Resource is `*` or names that type; conditions are the role author's scoping and not judged
 * here (the role parity test evaluates the library's own role with the IAM evaluator).
 */
function missingVssPermissions(role: TemplateResource, { app }: RuleContext): string[] {
  const own = JSON.stringify(role.properties.ManagedPolicyArns ?? []);
  if (own.includes(VSS_MANAGED_POLICY)) {
    return [];
  }
  const attachedManaged = (Array.isArray(role.properties.ManagedPolicyArns) ? role.properties.ManagedPolicyArns : [])
    .map((arn: unknown) => app.target(role, arn))
    .filter((p: TemplateResource | undefined) => p !== undefined);
  const documents = [
    ...(Array.isArray(role.properties.Policies) ? role.properties.Policies : []).map((p: any) => p?.PolicyDocument),
    ...[...app.referrers(role, 'AWS::IAM::Policy'), ...app.referrers(role, 'AWS::IAM::ManagedPolicy'), ...attachedManaged]
      .map((p: TemplateResource) => p.properties.PolicyDocument),
  ];
  const statements = documents.flatMap((d: any) => ([] as any[]).concat(d?.Statement ?? []))
    .filter((st: any) => st?.Effect === 'Allow' && st.Action !== undefined);
  const missing: string[] = [];
  for (const { action, resourceTypes } of VSS_AGENT_PERMISSIONS) {
    for (const type of resourceTypes) {
      const granted = statements.some((st: any) => ([] as unknown[]).concat(st.Action).some((a) => typeof a === 'string' && actionMatches(a, action))
        && ([] as unknown[]).concat(st.Resource ?? []).some((r) => resourceCovers(r, type)));
      if (!granted) {
        missing.push(type === '*' ? action : `${action} on ${type}`);
      }
    }
  }
  return missing;
}

function actionMatches(pattern: string, action: string): boolean {
  return new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i').test(action);
}

/** `*`, or an ARN (possibly built with intrinsics) of the resource type, e.g. `...:snapshot/*`. */
function resourceCovers(resource: unknown, type: string): boolean {
  const text = typeof resource === 'string' ? resource : JSON.stringify(resource);
  if (text === '*') {
    return true;
  }
  return type !== '*' && (text.includes(`:${type}/`) || /:ec2:[^:]*:[^:]*:\*$/.test(text));
}
