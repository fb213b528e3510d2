/**
 * One request per action of the catalogue of destructive actions, aimed at a protected
 * resource with the context that AWS sends for it, so that the matrix is generated from the
 * catalogue: every action in it must be denied to the adversary and allowed to break-glass.
 */
import { Step } from './index';
import { World } from './world';
import { DESTRUCTIVE_ACTIONS, DestructiveActionGroupName } from '../../../src/core/destructive-actions';

/** The request `principal` makes to perform `action` (of `group`) on a protected resource. */
export function sampleRequest(world: World, group: DestructiveActionGroupName, action: string, principal: string): Step {
  const r = world.resources;
  const tags = world.protectedTags;
  const base = { principal, action };
  if (group === 'trustedTags') {
    // after creation (no ec2:CreateAction): re-tag a backup into a deleter, or drop its execution id
    const key = action === 'ec2:CreateTags' ? world.tagKey('retention') : world.tagKey('execution');
    return { ...base, resource: r.snapshot, tags, context: { 'aws:TagKeys': [key], ...action === 'ec2:CreateTags' ? { [`aws:RequestTag/${key}`]: 'age:0d' } : {} } };
  }
  switch (action) {
    case 'ec2:ModifySnapshotAttribute':
    case 'ec2:ModifyImageAttribute':
      // createVolumePermission / launchPermission add: ec2:Add/userId carries the accounts added
      return { ...base, resource: action.includes('Image') ? r.image : r.snapshot, tags, context: action.includes('Image') ? { 'ec2:Attribute': 'launchPermission' } : { 'ec2:Add/userId': world.foreignAccount } };
    case 'ec2:CreateTags':
      return { ...base, resource: r.snapshot, tags, context: { 'aws:TagKeys': [world.purposeKey], [`aws:RequestTag/${world.purposeKey}`]: 'scratch' } };
    case 'ec2:DeleteTags':
      return { ...base, resource: r.snapshot, tags, context: { 'aws:TagKeys': [world.purposeKey] } };
    case 'iam:DetachRolePolicy':
    case 'iam:DetachUserPolicy':
    case 'iam:DetachGroupPolicy':
      return group === 'exemptRoles'
        ? { ...base, resource: world.principals.dlmRole }
        : { ...base, resource: detachTarget(world, action), context: { 'iam:PolicyARN': r.guardPolicy } };
    case 'iam:DeleteRolePermissionsBoundary':
      return group === 'exemptRoles'
        ? { ...base, resource: world.principals.dlmRole }
        : { ...base, resource: world.principals.attacker, context: { 'iam:PermissionsBoundary': r.boundaryPolicy } };
    case 'iam:DeleteUserPermissionsBoundary':
      return { ...base, resource: `arn:aws:iam::${world.account}:user/ops`, context: { 'iam:PermissionsBoundary': r.boundaryPolicy } };
    case 'iam:PutRolePermissionsBoundary':
      return {
        ...base,
        resource: group === 'exemptRoles' ? world.principals.dlmRole : world.principals.attacker,
        context: { 'iam:PermissionsBoundary': `arn:aws:iam::${world.account}:policy/AllowEverything` },
      };
    case 'iam:PutUserPermissionsBoundary':
      return { ...base, resource: `arn:aws:iam::${world.account}:user/ops`, context: { 'iam:PermissionsBoundary': `arn:aws:iam::${world.account}:policy/AllowEverything` } };
    default:
  }
  if (group === 'machineryTags') {
    // untag a job (the tag key named), on the resource type of the action's service
    return { ...base, resource: machineryResourceOf(world, action), tags: world.machineryTags, context: { 'aws:TagKeys': [world.managedByKey] } };
  }
  switch (action) {
    case 'iam:PassRole':
      return { ...base, resource: world.principals.dlmRole, context: { 'iam:PassedToService': 'dlm.amazonaws.com' } };
    default:
  }
  switch (DESTRUCTIVE_ACTIONS[group].target) {
    case 'snapshot':
      return { ...base, resource: r.snapshot, tags };
    case 'image':
      return { ...base, resource: r.image, tags };
    case 'recovery-point':
      return { ...base, resource: r.recoveryPoint };
    case 'vault':
      return { ...base, resource: r.vault };
    case 'backup-plan':
      return { ...base, resource: r.backupPlan };
    case 'dlm-policy':
      return { ...base, resource: r.dlmPolicy };
    case 'rbin-rule':
      return { ...base, resource: r.recycleBinRule };
    case 'key':
      return { ...base, resource: r.sourceKey };
    case 'account':
      return { ...base, resource: '*' };
    case 'role':
      return { ...base, resource: world.principals.dlmRole };
    case 'policy':
      return { ...base, resource: r.guardPolicy };
    case 'machinery-tag':
      return { ...base, resource: machineryResourceOf(world, action), tags: world.machineryTags };
    default:
      return { ...base, resource: machineryResourceOf(world, action), tags: world.machineryTags };
  }
}

/** The world's machinery resource an action of a machinery service acts on. */
function machineryResourceOf(world: World, action: string): string {
  const m = world.machinery;
  const [service, name] = action.split(':');
  switch (service) {
    case 'lambda':
      return m.function;
    case 'states':
      return name === 'StopExecution' ? m.execution : m.stateMachine;
    case 'ssm':
      return /Document/.test(name) ? m.document : /Association/.test(name) ? m.association : m.window;
    case 'events':
      return m.rule;
    case 'cloudwatch':
      return m.alarm;
    case 'sns':
      return m.topic;
    case 'kms':
      return m.topicKey;
    default:
      throw new Error(`no machinery resource for ${action}`);
  }
}

function detachTarget(world: World, action: string): string {
  if (action === 'iam:DetachUserPolicy') {
    return `arn:aws:iam::${world.account}:user/ops`;
  }
  if (action === 'iam:DetachGroupPolicy') {
    return `arn:aws:iam::${world.account}:group/operators`;
  }
  return world.principals.attacker;
}
