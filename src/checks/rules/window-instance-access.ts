import { nagRendering } from '../../core/acknowledge';
import { WINDOW_INSTANCE_ACCESS_METADATA, WindowInstanceAccess as Access } from '../../core/window-instance-access';
import { CoverageSource } from '../coverage-index';
import { refTarget, TemplateResource } from '../model';
import { COMPLIANT, defineRule, nonCompliant, NOT_APPLICABLE, RuleContext } from '../rule';

/**
 * Instances that a snapshot maintenance window of the app targets (VSS or fsfreeze) carry the
 * window's instance permissions: the window's instance profile, its instance role, or its
 * attachable managed policy on their own role. The window's task runs on the instance with the
 * instance's credentials, so an instance that keeps a role of its own without them fails every
 * run (no snapshot, no transcript).
 */
export const WindowInstanceAccess = defineRule('WindowInstanceAccess', 'AWS::EC2::Instance', {
  summary: 'instances targeted by a snapshot maintenance window carry its instance profile, its instance role or its managed policy',
  fix: 'use the window\'s instanceProfile, or attach the window\'s instancePolicy (by its name) and AmazonSSMManagedInstanceCore to the instance\'s role',
}, (resource, context) => {
  const windows = context.coverage.sourcesCovering(resource, (s) => s.resource.stack === resource.stack && access(s) !== undefined);
  if (windows.length === 0) {
    return NOT_APPLICABLE;
  }
  const profileRef = resource.properties.IamInstanceProfile;
  const profile = profileRef === undefined ? undefined : context.app.target(resource, profileRef);
  if (profileRef !== undefined && profile?.type !== 'AWS::IAM::InstanceProfile') {
    return NOT_APPLICABLE; // an imported profile: its role is not in the app
  }
  const roles = profile === undefined ? [] : context.app.profileRoles(profile);
  const lacking = windows.filter((w) => !carries(profile, roles, access(w)!, context));
  if (lacking.length === 0) {
    return COMPLIANT;
  }
  const names = lacking.map((w) => nagRendering(access(w)!.instancePolicyName));
  const has = profile === undefined ? 'has no instance profile'
    : `has instance profile ${profile.path}${roles.length > 0 ? ` (role ${roles.map((r) => r.path).join(', ')})` : ''}`;
  return nonCompliant(
    `EC2 instance ${resource.path} is targeted by ${lacking.map((w) => w.description).join(', ')} but ${has} without the window's ` +
    `instance permissions: use the window's instanceProfile, or attach the managed policy ${names.join(', ')} ` +
    'and AmazonSSMManagedInstanceCore to its role, or every run of the window fails on it',
    'Properties/IamInstanceProfile',
  );
});

function access(source: CoverageSource): Access | undefined {
  return source.resource.metadata[WINDOW_INSTANCE_ACCESS_METADATA];
}

/** The profile is the window's, or one of its roles is the window's role or has the window's policy. */
function carries(profile: TemplateResource | undefined, roles: TemplateResource[], w: Access, { app }: RuleContext): boolean {
  if (profile === undefined) {
    return false;
  }
  if (profile.logicalId === w.instanceProfile) {
    return true;
  }
  const pieces = namePieces(w.instancePolicyName);
  return roles.some((role) => {
    if (role.logicalId === w.instanceRole) {
      return true;
    }
    const arns: unknown[] = Array.isArray(role.properties.ManagedPolicyArns) ? role.properties.ManagedPolicyArns : [];
    const byRef = arns.some((arn) => refTarget(arn) === w.instancePolicy);
    // imported by name (ManagedPolicy.fromManagedPolicyName): the ARN carries the name's literal parts
    const byName = pieces.length > 0 && arns.some((arn) => {
      const text = JSON.stringify(arn);
      return text.includes(':policy/') && pieces.every((p) => text.includes(p));
    });
    // the policy attaches itself (ManagedPolicy roles / attachToRole)
    const attached = app.referrers(role, 'AWS::IAM::ManagedPolicy').some((p) => p.logicalId === w.instancePolicy);
    return byRef || byName || attached;
  });
}

/** The literal parts of a rendered name: the string itself, or the strings of its `Fn::Join`. */
function namePieces(name: unknown): string[] {
  if (typeof name === 'string') {
    return [name];
  }
  const join = (name as Record<string, any> | undefined)?.['Fn::Join'];
  return Array.isArray(join) && Array.isArray(join[1]) ? join[1].filter((p: unknown): p is string => typeof p === 'string' && p.length > 0) : [];
}
