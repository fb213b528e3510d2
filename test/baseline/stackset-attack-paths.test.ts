/**
 * The organization SCP of `BaselineStackSet` against issue 15 item 12: the StackSets exemption
 * and the retention roles' exemption cannot be obtained by creating a role. Evaluated with
 * `@cloud-copilot/iam-simulate` (IAM User Guide, "Policy evaluation logic": an explicit deny in an
 * SCP overrides every allow; "Service control policies": SCPs apply to every principal of a member
 * account).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  describeResult, evaluatePath, Path, stackSetAttackPaths, stackSetLegitimatePaths, StackSetWorld, synthesizeStackSetWorld,
} from '../support/attack-paths';

const world: StackSetWorld = synthesizeStackSetWorld();
const guard = { managedPolicy: undefined, boundary: undefined, scps: world.scps };

test.each(stackSetAttackPaths(world).map((p) => [p.name, p] as [string, Path]))('SCP breaks: %s', async (_name, attack) => {
  const result = await evaluatePath(attack, 'SCP', guard);
  expect([describeResult(result), result.results.includes('ExplicitlyDenied')]).toEqual([describeResult(result), true]);
});

test.each(stackSetLegitimatePaths(world).map((p) => [p.name, p] as [string, Path]))('SCP stays open: %s', async (_name, legit) => {
  const result = await evaluatePath(legit, 'SCP', guard);
  expect([describeResult(result), result.results.every((r) => r === 'Allowed')]).toEqual([describeResult(result), true]);
});

test('a role on the retention path or with a retention name elsewhere is exempt from nothing: every step of those paths is denied', async () => {
  // exact names, not the path: even if such a role existed (made before the SCP was attached, or
  // by break-glass), it could not delete
  for (const attack of stackSetAttackPaths(world).filter((p) => /on the retention path, then|on another path/.test(p.name))) {
    const result = await evaluatePath(attack, 'SCP', guard);
    expect([describeResult(result), result.results.every((r) => r === 'ExplicitlyDenied')]).toEqual([describeResult(result), true]);
  }
});

test('each SCP part stays within the 5,120-character quota, and every statement breaking a path exists and is in the README', () => {
  for (const scp of world.scps) {
    // the quota counts the policy as stored, without the whitespace the console adds
    expect(JSON.stringify(scp).length).toBeLessThanOrEqual(5120);
  }
  const sids = new Set(world.scps.flatMap((doc) => doc.Statement.map((s: any) => s.Sid)));
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  for (const attack of stackSetAttackPaths(world)) {
    expect([attack.name, attack.brokenBy.filter((sid) => !sids.has(sid) || !readme.includes(sid))]).toEqual([attack.name, []]);
  }
});
