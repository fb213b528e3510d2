/**
 * Write-once against an attacker (issue 15): every attack path is broken in every delivery form
 * of the guard, and the legitimate paths stay open. Evaluated with `@cloud-copilot/iam-simulate`
 * (IAM User Guide, "Policy evaluation logic": an explicit deny in any applicable policy — identity
 * policy, permissions boundary or SCP — overrides every allow).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DESTRUCTIVE_ACTIONS, DestructiveActionGroupName } from '../../src/core/destructive-actions';
import {
  attackPaths, DELIVERY_FORMS, describeResult, evaluatePath, legitimatePaths, machineryPaths, Path, sampleRequest, synthesizeWorld, World,
} from '../support/attack-paths';

const world: World = synthesizeWorld();
const resourcePolicyOf = (resource: string) => resource.startsWith(world.resources.vault) || resource.includes(':recovery-point:')
  ? world.vaultAccessPolicy : undefined;

describe.each(DELIVERY_FORMS)('delivered as %s', (form) => {
  test.each(attackPaths(world).map((p) => [p.name, p] as [string, Path]))('breaks: %s', async (_name, attack) => {
    const result = await evaluatePath(attack, form, world.guard, resourcePolicyOf);
    expect([describeResult(result), result.results.includes('ExplicitlyDenied')]).toEqual([describeResult(result), true]);
  });

  test.each(legitimatePaths(world).map((p) => [p.name, p] as [string, Path]))('stays open: %s', async (_name, legit) => {
    const result = await evaluatePath(legit, form, world.guard, resourcePolicyOf);
    expect([describeResult(result), result.results.every((r) => r === 'Allowed')]).toEqual([describeResult(result), true]);
  });

  // The matrix is generated from the catalogue: each action must be denied to the adversary and
  // allowed to break-glass, so an action added to the catalogue is proven at once.
  const matrix = (Object.keys(DESTRUCTIVE_ACTIONS) as DestructiveActionGroupName[])
    .flatMap((group) => DESTRUCTIVE_ACTIONS[group].actions.map((action) => [group, action] as [DestructiveActionGroupName, string]));
  test.each(matrix)('catalogue %s: %s is denied to the adversary and allowed to break-glass', async (group, action) => {
    const single = (principal: string): Path => ({
      name: `${group} ${action}`,
      source: 'catalogue',
      brokenBy: [],
      steps: [sampleRequest(world, group, action, principal)],
    });
    const attacker = await evaluatePath(single(world.principals.attacker), form, world.guard, resourcePolicyOf);
    const breakGlass = await evaluatePath(single(world.principals.breakGlass), form, world.guard, resourcePolicyOf);
    expect([action, attacker.results[0], breakGlass.results[0]]).toEqual([action, 'ExplicitlyDenied', 'Allowed']);
  });
});

// Issue 16: the tags the machinery trusts are set at creation only whatever ProtectedResources
// says; under ProtectedResources.all() (the default) no purpose-tag statement is rendered at all.
describe.each(DELIVERY_FORMS)('under ProtectedResources.all(), delivered as %s', (form) => {
  const everything = synthesizeWorld({ protectedResources: 'all' });
  test.each(machineryPaths(everything).map((p) => [p.name, p] as [string, Path]))('breaks: %s', async (_name, attack) => {
    const result = await evaluatePath(attack, form, everything.guard);
    expect([describeResult(result), result.results.includes('ExplicitlyDenied')]).toEqual([describeResult(result), true]);
  });
  // the operator's everyday path shares and copies: under all() every snapshot is protected from that, by design
  const legitimate = legitimatePaths(everything).filter((p) => p.source !== 'everyday' || !p.steps.some((s) => s.action === 'ec2:ModifySnapshotAttribute'));
  test.each(legitimate.map((p) => [p.name, p] as [string, Path]))('stays open: %s', async (_name, legit) => {
    const result = await evaluatePath(legit, form, everything.guard);
    expect([describeResult(result), result.results.every((r) => r === 'Allowed')]).toEqual([describeResult(result), true]);
  });
});

// The exempt roles hold on their own (issue 16 #1): were the PassRole allowed (a principal exempt
// from the guard, or no guard deployed), Step Functions still cannot assume the lock role for
// another machine, and the expiry role cannot act from another function's code.
describe.each(DELIVERY_FORMS)('after a PassRole that went through, delivered as %s', (form) => {
  const passRole = machineryPaths(world).filter((p) => p.steps[0].action === 'iam:PassRole'
    && p.steps.some((s) => s.action === 'sts:AssumeRole' || s.context?.['lambda:SourceFunctionArn']));
  test.each(passRole.map((p) => [p.name, p] as [string, Path]))('still broken: %s', async (_name, attack) => {
    const result = await evaluatePath({ ...attack, steps: attack.steps.slice(2) }, form, world.guard, resourcePolicyOf);
    expect([describeResult(result), result.results.every((r) => r !== 'Allowed')]).toEqual([describeResult(result), true]);
  });
  test('there are such paths for a state machine and a function', () => {
    expect(passRole.map((p) => p.steps[1].action).sort()).toEqual(['lambda:CreateFunction', 'states:CreateStateMachine']);
  });
});

describe('the attack paths', () => {
  test('break every catalogued action on at least one path, and name statements that exist', () => {
    const sids = new Set([world.guard.managedPolicy, world.guard.boundary, ...world.guard.scps, world.vaultAccessPolicy, world.lockRolePolicy,
      ...world.expiry.rolePolicies]
      .flatMap((doc) => doc.Statement.map((s: any) => s.Sid)));
    for (const attack of attackPaths(world)) {
      expect([attack.name, attack.brokenBy.filter((sid) => !sids.has(sid))]).toEqual([attack.name, []]);
    }
  });

  test('are each listed in the README threat model with the statements that break them', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const attack of attackPaths(world)) {
      for (const sid of attack.brokenBy) {
        expect([attack.name, readme.includes(sid)]).toEqual([attack.name, true]);
      }
    }
  });
});
