/**
 * Test helpers of the runbooks family: resolve a synthesized template's intrinsics to concrete
 * values, evaluate the IAM policies of a principal with a real IAM evaluator
 * (@cloud-copilot/iam-simulate), and run a rendered Automation document in the local simulator
 * of @cdklabs/cdk-ssm-documents.
 */
import { DataTypeEnum, IAwsInvoker, Invocation, Simulation, SimulationResult, StringDocument } from '@cdklabs/cdk-ssm-documents';
import { AutomationStepSimulation } from '@cdklabs/cdk-ssm-documents/lib/simulation/automation-step-simulation';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Stack } from 'aws-cdk-lib';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** The concrete value a resource's Ref / Arn stands for in these tests. */
function refOf(logicalId: string, resource: any): string {
  switch (resource?.Type) {
    case 'AWS::IAM::Role':
      return `Role${logicalId}`;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:aws:iam::${ACCOUNT}:policy/${logicalId}`;
    default:
      return logicalId;
  }
}

function arnOf(logicalId: string, resource: any): string {
  switch (resource?.Type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${ACCOUNT}:role/${refOf(logicalId, resource)}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;
    default:
      return `arn:aws:test:${REGION}:${ACCOUNT}:${logicalId}`;
  }
}

/** Replace Ref, Fn::GetAtt (Arn) and Fn::Join with the values the tests assume. */
export function resolve(value: any, template: any): any {
  if (Array.isArray(value)) {
    return value.map((v) => resolve(v, template));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [k] = keys;
    const v = value[k];
    if (k === 'Ref') {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[v] ?? refOf(v, template.Resources[v]);
    }
    if (k === 'Fn::GetAtt') {
      return arnOf(v[0], template.Resources[v[0]]);
    }
    if (k === 'Fn::Join') {
      return resolve(v[1], template).join(v[0]);
    }
  }
  return Object.fromEntries(keys.map((key) => [key, resolve(value[key], template)]));
}

/** Every identity policy document attached to the role `roleLogicalId` (inline and managed). */
export function policiesOfRole(template: any, roleLogicalId: string): Array<{ name: string; policy: any }> {
  const policies: Array<{ name: string; policy: any }> = [];
  const attached = (roles: any[] | undefined) => (roles ?? []).some((r) => r?.Ref === roleLogicalId);
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && attached(r.Properties.Roles)) {
      policies.push({ name: id, policy: resolve(r.Properties.PolicyDocument, template) });
    }
  }
  const role = template.Resources[roleLogicalId];
  for (const p of role?.Properties?.Policies ?? []) {
    policies.push({ name: p.PolicyName, policy: resolve(p.PolicyDocument, template) });
  }
  for (const arn of role?.Properties?.ManagedPolicyArns ?? []) {
    const id = arn?.Ref;
    if (id && template.Resources[id]) {
      policies.push({ name: id, policy: resolve(template.Resources[id].Properties.PolicyDocument, template) });
    }
  }
  return policies;
}

/** One request to evaluate. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
}

/** Evaluate `request` as the role would make it: 'Allowed', 'ImplicitlyDenied' or 'ExplicitlyDenied'. */
export async function evaluateAsRole(template: any, roleLogicalId: string, request: IamRequest): Promise<string> {
  const result = await runSimulation({
    request: {
      principal: `arn:aws:iam::${ACCOUNT}:role/${refOf(roleLogicalId, template.Resources[roleLogicalId])}`,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: request.context ?? {},
    },
    identityPolicies: policiesOfRole(template, roleLogicalId),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }, {});
  if (result.resultType === 'error') {
    throw new Error(`iam-simulate rejected the request ${request.action} on ${request.resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult;
}

/** The rendered content of every Automation document in the template, intrinsics resolved. */
export function automationDocuments(template: any): Record<string, any> {
  return Object.fromEntries(Object.entries<any>(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::SSM::Document' && r.Properties.DocumentType === 'Automation')
    .map(([id, r]) => [id, resolve(r.Properties.Content, template)]));
}

/*
 * The simulator takes only the first JSONPath match of an output selector; SSM returns every
 * match for list-typed outputs (`$.Snapshots..SnapshotId` as StringList). Patched here, in the
 * tests only, so the simulation behaves as the service does.
 */
// the very JSONPath library the simulator uses, resolved from it (not a dependency of ours)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { JSONPath } = require(require.resolve('jsonpath-plus', { paths: [require.resolve('@cdklabs/cdk-ssm-documents')] }));
const proto = AutomationStepSimulation.prototype as any;
if (!proto.__allMatches) {
  const original = proto.getSelectedResponse;
  proto.getSelectedResponse = function patched(this: any, response: any) {
    const listOutputs = this.step.listOutputs().filter((o: any) =>
      /\.\.|\[\*\]/.test(o.selector) && [DataTypeEnum.STRING_LIST, DataTypeEnum.MAP_LIST].includes(o.outputType));
    if (listOutputs.length === 0 || response === undefined) {
      return original.call(this, response);
    }
    const selected: Record<string, unknown> = {};
    for (const o of this.step.listOutputs()) {
      const all = JSONPath({ path: o.selector, json: JSON.parse(JSON.stringify(response)) });
      selected[`${this.step.name}.${o.name}`] = listOutputs.includes(o) ? all : all[0];
    }
    return selected;
  };
  proto.__allMatches = true;
}

/** One AWS call the simulated document made. */
export interface SimulatedCall {
  /** `service.api`, e.g. `ec2.createSnapshots`. */
  readonly api: string;
  readonly params: any;
}

/**
 * Run `content` in the local Automation simulator, answering each AWS call from `responses`
 * (keyed `service.api` with the API in lowerCamelCase, e.g. `ec2.createSnapshots`); a function
 * value may throw to simulate a fault.
 */
export function simulateDocument(
  content: any, inputs: Record<string, unknown>, responses: Record<string, any>,
): { result: SimulationResult; calls: SimulatedCall[] } {
  const doc = StringDocument.fromJson(new Stack(), 'Doc', JSON.stringify(content));
  const calls: SimulatedCall[] = [];
  const invoker: IAwsInvoker = {
    invoke(invocation: Invocation): any {
      const api = `${invocation.service.namespace}.${invocation.awsApi}`;
      calls.push({ api, params: invocation.awsParams });
      if (!(api in responses)) {
        throw new Error(`no simulated response for ${api}`);
      }
      const r = responses[api];
      return typeof r === 'function' ? r(invocation.awsParams) : r;
    },
  };
  // the simulator narrates every step on console.log: keep the test output readable
  const log = console.log;
  console.log = () => undefined;
  try {
    const result = Simulation.ofAutomation(doc, { awsInvoker: invoker }).simulate(inputs);
    return { result, calls };
  } finally {
    console.log = log;
  }
}
