/**
 * Every condition of every deny the guard, the vault and the lock job render earns its place: a
 * deny's conditions are what keep it off the principals and resources that must keep working
 * (IAM User Guide, "Policy evaluation logic": an explicit deny whose conditions all match
 * overrides every allow; "Condition": the keys of one block are ANDed). So dropping any one
 * condition key from any deny statement must deny something legitimate: a retention role expiring
 * what is due, break-glass or a deployment changing what only they may change, the lock job, an
 * operator's everyday work on what is not protected. Evaluated with `@cloud-copilot/iam-simulate`
 * in every delivery form; the witnesses are the legitimate paths of the attack-path suite and every
 * catalogued action as break-glass (and, for the configuration and machinery classes, as the
 * deployment principal) would make it.
 */
import { DESTRUCTIVE_ACTIONS, DestructiveActionGroupName } from '../../src/core/destructive-actions';
import {
  DELIVERY_FORMS, DeliveryForm, GuardDocuments, legitimatePaths, policiesFor, sampleRequest, Step, synthesizeWorld, World,
} from '../support/attack-paths';
import { ConditionRemoval, conditionRemovals, describeRemoval, statementCovers, statementOf, withoutCondition } from '../support/deny-conditions';
import { evaluate } from '../support/iam-evaluation';

const world: World = synthesizeWorld();

/**
 * Requests that must be allowed: the legitimate paths; each catalogued action as its exempt
 * principals make it; and an operator's everyday work that the guard does not protect against
 * (an artefact of an unprotected purpose, a role or key that is not the guard's, a tag that no job
 * trusts). Each must be allowed as rendered (the first test of each form says so).
 */
function witnesses(w: World): Step[] {
  const p = w.principals;
  const r = w.resources;
  const groups = Object.keys(DESTRUCTIVE_ACTIONS) as DestructiveActionGroupName[];
  const exempt = (group: DestructiveActionGroupName) => DESTRUCTIVE_ACTIONS[group].denyClass === 'data'
    ? [p.breakGlass] : [p.breakGlass, p.deployer];
  const unprotected = { [w.purposeKey]: 'scratch' };
  const appRole = `arn:aws:iam::${w.account}:role/ledger-app`;
  const otherPolicy = `arn:aws:iam::${w.account}:policy/ledger-app-extra`;
  const newSnapshot = `arn:aws:ec2:${w.region}::snapshot/snap-0e0e0e0e0e0e0e0e1`;
  return [
    ...legitimatePaths(w).flatMap((path) => path.steps),
    ...groups.flatMap((group) =>
      DESTRUCTIVE_ACTIONS[group].actions.flatMap((action) => exempt(group).map((principal) => sampleRequest(w, group, action, principal)))),
    // the data denies hold for the protected purposes only: the same requests on a scratch artefact stay open
    // (but for the tags and the sharing outside the allowed accounts, denied on every snapshot by design)
    ...groups.filter((g) => DESTRUCTIVE_ACTIONS[g].denyClass === 'data' && !['purposeTag', 'trustedTags', 'sharing'].includes(g)).flatMap((group) => DESTRUCTIVE_ACTIONS[group].actions
      .map((action) => sampleRequest(w, group, action, p.attacker))
      .filter((step) => step.tags?.[w.purposeKey] !== undefined)
      .map((step) => ({ ...step, tags: { ...step.tags, ...unprotected } }))),
    // DeleteTags without a Tags list removes every tag: open on a scratch snapshot, and to break-glass
    { principal: p.attacker, action: 'ec2:DeleteTags', resource: r.snapshot, tags: unprotected },
    { principal: p.breakGlass, action: 'ec2:DeleteTags', resource: r.snapshot, tags: w.protectedTags },
    // stop sharing with the partner (ModifySnapshotAttribute with a remove only)
    { principal: p.attacker, action: 'ec2:ModifySnapshotAttribute', resource: r.snapshot, tags: unprotected, context: { 'ec2:Remove/userId': w.partnerAccount } },
    // a tag no job trusts, after creation, on a protected snapshot and on a job
    { principal: p.attacker, action: 'ec2:CreateTags', resource: r.snapshot, tags: w.protectedTags, context: { 'aws:TagKeys': ['cost-centre'] } },
    { principal: p.attacker, action: 'lambda:TagResource', resource: w.machinery.function, tags: w.machineryTags, context: { 'aws:TagKeys': ['cost-centre'] } },
    // a crash-consistent label at creation by a job that is not an instance (no ec2:SourceInstanceARN)
    {
      principal: p.attacker,
      action: 'ec2:CreateTags',
      resource: newSnapshot,
      context: { 'ec2:CreateAction': 'CreateSnapshots', 'aws:TagKeys': ['AppConsistent'], 'aws:RequestTag/AppConsistent': 'false' },
    },
    // break-glass corrects the AppConsistent label of a protected snapshot
    {
      principal: p.breakGlass,
      action: 'ec2:CreateTags',
      resource: r.snapshot,
      tags: w.protectedTags,
      context: { 'aws:TagKeys': ['AppConsistent'], 'aws:RequestTag/AppConsistent': 'false' },
    },
    // the keys that carry the purpose tag: break-glass may destroy, break-glass and deployments may re-policy
    ...DESTRUCTIVE_ACTIONS.keyDestruction.actions
      .map((action) => ({ principal: p.breakGlass, action, resource: r.taggedKey, tags: w.protectedTags })),
    ...[p.breakGlass, p.deployer].map((principal) => ({ principal, action: 'kms:PutKeyPolicy', resource: r.taggedKey, tags: w.protectedTags })),
    // a key that is neither named nor tagged
    { principal: p.attacker, action: 'kms:PutKeyPolicy', resource: `arn:aws:kms:${w.region}:${w.account}:key/0e0e0e0e-0e0e-0e0e-0e0e-0e0e0e0e0e0e` },
    // an application role's own policies and boundary (not the guard's)
    { principal: p.attacker, action: 'iam:DetachRolePolicy', resource: appRole, context: { 'iam:PolicyARN': otherPolicy } },
    { principal: p.attacker, action: 'iam:DeleteRolePermissionsBoundary', resource: appRole, context: { 'iam:PermissionsBoundary': otherPolicy } },
    // putting the guard's own boundary on a role is what the boundary is for
    { principal: p.attacker, action: 'iam:PutRolePermissionsBoundary', resource: appRole, context: { 'iam:PermissionsBoundary': r.boundaryPolicy } },
  ];
}

/** The documents each delivery form evaluates, by name. */
function documentsOf(form: DeliveryForm, w: World): Array<[string, any]> {
  const guard = form === 'managed policy' ? [['guard managed policy', w.guard.managedPolicy]]
    : form === 'permissions boundary' ? [['guard boundary', w.guard.boundary]]
      : w.guard.scps.map((scp, i) => [`guard SCP ${i + 1}`, scp]);
  // the vault's and the lock job's own policies are the same in every form: dropped once
  const own: Array<[string, any]> = form !== DELIVERY_FORMS[0] ? []
    : [['vault access policy', w.vaultAccessPolicy], ['lock role policy', w.lockRolePolicy]];
  return [...guard as Array<[string, any]>, ...own];
}

/** Evaluate a step with one document swapped for another (guard documents, the vault policy, the step's own policies). */
async function evaluateWith(step: Step, form: DeliveryForm, swap: (doc: any) => any): Promise<string> {
  const guard: GuardDocuments = {
    managedPolicy: swap(world.guard.managedPolicy),
    boundary: swap(world.guard.boundary),
    scps: world.guard.scps.map(swap),
  };
  const onVault = step.resource.startsWith(world.resources.vault) || step.resource.includes(':recovery-point:');
  // a step's own resource policy (a role's trust for sts:AssumeRole) decides with the guard, as in the attack-path runner
  const policies = policiesFor(form, guard, step.resourcePolicy ?? (onVault ? swap(world.vaultAccessPolicy) : undefined));
  return evaluate(step, { ...policies, identity: [...policies.identity ?? [], ...(step.ownPolicies ?? []).map(swap)] });
}

const all = witnesses(world);

describe.each(DELIVERY_FORMS)('delivered as %s', (form) => {
  const cases = documentsOf(form, world).flatMap(([name, doc]) => conditionRemovals(name, doc));

  test('every witness is allowed as rendered (so a condition dropped in the source fails here)', async () => {
    const denied: string[] = [];
    for (const step of all) {
      const result = await evaluateWith(step, form, (d) => d);
      if (result !== 'Allowed') {
        denied.push(`${result}: ${step.principal} ${step.action} ${step.resource} ${JSON.stringify(step.tags ?? {})} ${JSON.stringify(step.context ?? {})}`);
      }
    }
    expect(denied).toEqual([]);
  });

  test('every document has deny conditions to drop (no test registration can vanish)', () => {
    expect([...new Set(cases.map((c) => c.document))]).toEqual(documentsOf(form, world).map(([name]) => name));
  });

  test.each(cases.map((r) => [describeRemoval(r), r] as [string, ConditionRemoval]))(
    '%s denies something legitimate', async (_name, removal) => {
      const statement = statementOf(removal);
      const dropped = withoutCondition(removal);
      const swap = (doc: any) => (doc === removal.doc ? dropped : doc);
      const flipped: string[] = [];
      for (const step of all.filter((s) => statementCovers(statement, s.action))) {
        if (await evaluateWith(step, form, swap) !== 'Allowed') {
          flipped.push(`${step.principal} ${step.action} ${step.resource}`);
          break;
        }
      }
      expect(flipped).toHaveLength(1);
    });
});
