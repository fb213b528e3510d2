import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { fail, warn } from '../core/validation';

/**
 * Settings that exist once per account and region, claimed across the app: the block of public
 * sharing (an account setting) and locked region-level Recycle Bin rules. Two baselines (or
 * guards) in one environment would otherwise clash at deploy time or pile up locks that cannot be
 * removed for weeks. Not exported from the package.
 */
const CLAIMS = Symbol.for('cdk-ebs-backup.accountSettings');

interface Claim {
  readonly path: string;
  readonly property: string;
}

/** The environment a construct deploys to, as a key: agnostic stacks only clash within themselves. */
function environmentOf(scope: IConstruct): string {
  const stack = Stack.of(scope);
  const agnostic = Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region);
  return agnostic ? `${stack.node.path} (environment-agnostic)` : `${stack.account}/${stack.region}`;
}

function claims(scope: IConstruct, setting: string): Map<string, Claim> {
  const root = scope.node.root as unknown as { [CLAIMS]?: Map<string, Map<string, Claim>> };
  const all = (root[CLAIMS] ??= new Map());
  if (!all.has(setting)) {
    all.set(setting, new Map());
  }
  return all.get(setting)!;
}

/** True when one path is the other or contains it (a construct and its own parts). */
function related(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/**
 * Claim the block of public sharing for `owner`, the construct whose `property` turned it on.
 * A second owner in the same account and region fails with the prop to turn off.
 */
export function claimPublicSharingBlock(owner: IConstruct, property: string): void {
  const env = environmentOf(owner);
  const seen = claims(owner, 'blockPublicSharing');
  const prior = seen.get(env);
  if (prior === undefined) {
    seen.set(env, { path: owner.node.path, property });
    return;
  }
  if (!related(prior.path, owner.node.path)) {
    fail(owner, property, `blocks public sharing, an account-and-region setting that ${prior.path} (${prior.property}) already blocks for ${env}`,
      true, property === 'BlockPublicSharing'
        ? `create BlockPublicSharing once per account and region (keep ${prior.path})`
        : `set ${property}: false on ${owner.node.path}; ${prior.path} keeps blocking public sharing for the account and region`);
  }
}

/**
 * Warn about a second locked region-level Recycle Bin rule for the same resource type in one
 * account and region: a deleted snapshot is kept by the longest of them, so the second adds
 * nothing but another lock that cannot be removed before its unlock delay.
 */
export function warnOverlappingLockedRule(rule: IConstruct, resourceType: string): void {
  const env = environmentOf(rule);
  const seen = claims(rule, `lockedRecycleBin:${resourceType}`);
  const prior = seen.get(env);
  if (prior === undefined) {
    seen.set(env, { path: rule.node.path, property: 'lockUnlockDelay' });
    return;
  }
  warn(rule, 'worm:overlapping-locked-recycle-bin-rules',
    `${rule.node.path}: a second locked region-level Recycle Bin rule for ${resourceType} in ${env} overlaps ${prior.path}; ` +
    'a deleted resource is kept by the longest of the two and neither can be removed before its unlock delay: ' +
    'keep one EbsBackupBaseline (one WormSnapshotGuard recycleBin) per account and region, and put every tier in it');
}
