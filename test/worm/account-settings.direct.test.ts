/**
 * The account-and-region settings (src/worm/account-settings.ts), claimed directly on bare
 * constructs, without synthesis: what this file holds is what the mutation module
 * `worm-account-settings` runs (guard.test.ts and recycle-bin.test.ts reach the same claims through
 * synthesized guards).
 *
 * What AWS does: block public access for snapshots is one setting per account and region
 * (`AWS::EC2::SnapshotBlockPublicAccess`: "the state of EBS snapshot block public access for the
 * Region"), so two stacks deploying it to one account and region clash at deploy time; a locked
 * region-level Recycle Bin rule cannot be deleted before its unlock delay, and a deleted snapshot
 * is kept by the longest retention of the rules that match it ("Recycle Bin", EBS User Guide).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { claimPublicSharingBlock, warnOverlappingLockedRule } from '../../src/worm/account-settings';
import { warningsOn as warnings } from '../support/warnings';

const PROD = { account: '111122223333', region: 'eu-west-1' };

let app: App;
beforeEach(() => {
  app = new App();
});

const stackIn = (id: string, env?: { account: string; region: string }) => new Stack(app, id, { env });
const owner = (scope: Construct, id: string) => new Construct(scope, id);

describe('public sharing is blocked once per account and region', () => {
  test('a second owner in the same account and region fails, naming both, the environment and the prop to turn off', () => {
    const stack = stackIn('Prod', PROD);
    claimPublicSharingBlock(owner(stack, 'Guard'), 'blockPublicSharing');
    expect(() => claimPublicSharingBlock(owner(stackIn('Other', PROD), 'Baseline'), 'blockPublicSharing')).toThrow(
      'Other/Baseline: blockPublicSharing blocks public sharing, an account-and-region setting that Prod/Guard (blockPublicSharing) already blocks ' +
      'for 111122223333/eu-west-1, got true; set blockPublicSharing: false on Other/Baseline; Prod/Guard keeps blocking public sharing for the account and region',
    );
  });

  test('a second BlockPublicSharing is told to keep the first', () => {
    const stack = stackIn('Prod', PROD);
    claimPublicSharingBlock(owner(stack, 'First'), 'BlockPublicSharing');
    expect(() => claimPublicSharingBlock(owner(stack, 'Second'), 'BlockPublicSharing')).toThrow(
      'Prod/Second: BlockPublicSharing blocks public sharing, an account-and-region setting that Prod/First (BlockPublicSharing) already blocks ' +
      'for 111122223333/eu-west-1, got true; create BlockPublicSharing once per account and region (keep Prod/First)',
    );
  });

  test('another region, another account or another app is another setting', () => {
    claimPublicSharingBlock(owner(stackIn('Prod', PROD), 'Guard'), 'blockPublicSharing');
    expect(() => claimPublicSharingBlock(owner(stackIn('Dr', { ...PROD, region: 'eu-central-1' }), 'Guard'), 'blockPublicSharing')).not.toThrow();
    expect(() => claimPublicSharingBlock(owner(stackIn('Test', { ...PROD, account: '444455556666' }), 'Guard'), 'blockPublicSharing')).not.toThrow();
    const otherApp = new App();
    expect(() => claimPublicSharingBlock(owner(new Stack(otherApp, 'Prod', { env: PROD }), 'Guard'), 'blockPublicSharing')).not.toThrow();
    // and the first claim still holds in its own environment
    expect(() => claimPublicSharingBlock(owner(stackIn('Again', PROD), 'Guard'), 'blockPublicSharing')).toThrow('already blocks for 111122223333/eu-west-1');
  });

  test('a construct and its own parts are one owner, in either order (a baseline and its guard)', () => {
    const stack = stackIn('Prod', PROD);
    const baseline = owner(stack, 'Baseline');
    claimPublicSharingBlock(baseline, 'blockPublicSharing');
    expect(() => claimPublicSharingBlock(owner(baseline, 'Guard'), 'blockPublicSharing')).not.toThrow();
    expect(() => claimPublicSharingBlock(baseline, 'blockPublicSharing')).not.toThrow();
    // the part first, then the construct that holds it
    const other = new Stack(new App(), 'Prod', { env: PROD });
    const outer = owner(other, 'Outer');
    claimPublicSharingBlock(owner(outer, 'Guard'), 'blockPublicSharing');
    expect(() => claimPublicSharingBlock(outer, 'blockPublicSharing')).not.toThrow();
  });

  test('a sibling whose name merely starts with the owner\'s is another owner, in either order', () => {
    const stack = stackIn('Prod', PROD);
    claimPublicSharingBlock(owner(stack, 'Guard'), 'blockPublicSharing');
    expect(() => claimPublicSharingBlock(owner(stack, 'GuardTwo'), 'blockPublicSharing')).toThrow('Prod/Guard (blockPublicSharing) already blocks');
    const other = new Stack(new App(), 'Prod', { env: PROD });
    claimPublicSharingBlock(owner(other, 'GuardTwo'), 'blockPublicSharing');
    expect(() => claimPublicSharingBlock(owner(other, 'Guard'), 'blockPublicSharing')).toThrow('Prod/GuardTwo (blockPublicSharing) already blocks');
  });

  test('environment-agnostic stacks clash only within themselves: each may deploy anywhere', () => {
    const agnostic = stackIn('Anywhere');
    claimPublicSharingBlock(owner(agnostic, 'Guard'), 'blockPublicSharing');
    expect(() => claimPublicSharingBlock(owner(stackIn('Elsewhere'), 'Guard'), 'blockPublicSharing')).not.toThrow();
    expect(() => claimPublicSharingBlock(owner(stackIn('Prod', PROD), 'Guard'), 'blockPublicSharing')).not.toThrow();
    expect(() => claimPublicSharingBlock(owner(agnostic, 'Baseline'), 'blockPublicSharing'))
      .toThrow('an account-and-region setting that Anywhere/Guard (blockPublicSharing) already blocks for Anywhere (environment-agnostic), got true');
  });

  test('a stack with only its region or only its account given is environment-agnostic too', () => {
    const regionOnly = new Stack(app, 'RegionOnly', { env: { region: 'eu-west-1' } });
    const accountOnly = new Stack(app, 'AccountOnly', { env: { account: '111122223333' } });
    claimPublicSharingBlock(owner(regionOnly, 'Guard'), 'blockPublicSharing');
    claimPublicSharingBlock(owner(accountOnly, 'Guard'), 'blockPublicSharing');
    expect(() => claimPublicSharingBlock(owner(regionOnly, 'Second'), 'blockPublicSharing')).toThrow('for RegionOnly (environment-agnostic)');
    expect(() => claimPublicSharingBlock(owner(accountOnly, 'Second'), 'blockPublicSharing')).toThrow('for AccountOnly (environment-agnostic)');
  });
});

describe('a second locked region-level Recycle Bin rule for a resource type is worth a warning', () => {
  test('the second rule of a type in one account and region is warned about, naming the first; the first is not', () => {
    const first = owner(stackIn('Prod', PROD), 'First');
    const second = owner(stackIn('Other', PROD), 'Second');
    warnOverlappingLockedRule(first, 'EBS_SNAPSHOT');
    warnOverlappingLockedRule(second, 'EBS_SNAPSHOT');
    expect(warnings(first)).toEqual([]);
    expect(warnings(second)).toEqual([
      'Other/Second: a second locked region-level Recycle Bin rule for EBS_SNAPSHOT in 111122223333/eu-west-1 overlaps Prod/First; ' +
      'a deleted resource is kept by the longest of the two and neither can be removed before its unlock delay: ' +
      'keep one EbsBackupBaseline (one WormSnapshotGuard recycleBin) per account and region, and put every tier in it ' +
      '[ack: cdk-ebs-backup:worm:overlapping-locked-recycle-bin-rules]',
    ]);
  });

  test('rules of different types, or in other environments, do not overlap', () => {
    const stack = stackIn('Prod', PROD);
    const snapshots = owner(stack, 'Snapshots');
    const images = owner(stack, 'Images');
    const dr = owner(stackIn('Dr', { ...PROD, region: 'eu-central-1' }), 'Snapshots');
    warnOverlappingLockedRule(snapshots, 'EBS_SNAPSHOT');
    warnOverlappingLockedRule(images, 'EC2_IMAGE');
    warnOverlappingLockedRule(dr, 'EBS_SNAPSHOT');
    expect([warnings(snapshots), warnings(images), warnings(dr)]).toEqual([[], [], []]);
    // a third snapshot rule in the first environment still overlaps the first
    const third = owner(stack, 'Third');
    warnOverlappingLockedRule(third, 'EBS_SNAPSHOT');
    expect(warnings(third)).toEqual([expect.stringContaining('overlaps Prod/Snapshots')]);
  });

  test('the claims of public sharing and of Recycle Bin rules are kept apart', () => {
    const stack = stackIn('Prod', PROD);
    claimPublicSharingBlock(owner(stack, 'Guard'), 'blockPublicSharing');
    const rule = owner(stack, 'Rule');
    warnOverlappingLockedRule(rule, 'EBS_SNAPSHOT');
    expect(warnings(rule)).toEqual([]);
    expect(() => claimPublicSharingBlock(owner(stackIn('Other', PROD), 'Guard'), 'blockPublicSharing')).toThrow('Prod/Guard');
  });
});
