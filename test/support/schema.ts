/**
 * An independent check of every resource in a template against the CloudFormation registry
 * schemas, as packaged in `@aws-cdk/aws-service-spec`: unknown resource types, unknown or
 * missing required properties, wrong types and values outside the allowed set.
 *
 * CloudFormation rejects such templates at deploy time; rule-based validators (cdk-nag,
 * cfn-guard) look for bad practice, not for this, so it is checked here on its own.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';
import { workerShared } from './worker-shared';

let db: SpecDatabase | undefined;
function spec(): SpecDatabase {
  // read-only, loaded once per test process (about 1 s), keyed by the installed package's path
  db ??= workerShared(`${require.resolve('@aws-cdk/aws-service-spec')} database`, () => loadAwsServiceSpecSync());
  return db;
}

/** One problem in one resource. */
export interface SchemaFinding {
  readonly logicalId: string;
  readonly type: string;
  /** The construct path from the resource metadata, when present. */
  readonly constructPath?: string;
  /** The property path inside the resource, e.g. `PolicyDetails.Schedules[0].RetainRule.Count`. */
  readonly property: string;
  readonly message: string;
}

export function formatSchemaFinding(f: SchemaFinding): string {
  const where = f.constructPath ? ` at ${f.constructPath}` : '';
  return `${f.logicalId} (${f.type}${where}): ${f.property} ${f.message}`;
}

const INTRINSICS = /^(Ref|Fn::[A-Za-z0-9]+|Condition)$/;

/** True for `{ Ref }`, `{ Fn::GetAtt }` and the other intrinsics: their value is known only at deploy time. */
function isIntrinsic(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return false;
  }
  const keys = Object.keys(value);
  return keys.length === 1 && INTRINSICS.test(keys[0]);
}

/** Check every resource of a synthesized template. */
export function checkTemplateAgainstSchema(template: any): SchemaFinding[] {
  const findings: SchemaFinding[] = [];
  for (const [logicalId, resource] of Object.entries<any>(template.Resources ?? {})) {
    const type: string = resource.Type;
    const constructPath: string | undefined = resource.Metadata?.['aws:cdk:path'];
    const report = (property: string, message: string) =>
      findings.push({ logicalId, type, constructPath, property, message });
    if (type === 'AWS::CDK::Metadata' || type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
      continue;
    }
    const found = spec().lookup('resource', 'cloudFormationType', 'equals', type);
    if (found.length === 0) {
      report('Type', `is not a CloudFormation resource type, got '${type}'`);
      continue;
    }
    checkObject(found[0], resource.Properties ?? {}, '', report);
  }
  return findings;
}

function checkObject(
  def: Resource | TypeDefinition, value: unknown, path: string, report: (property: string, message: string) => void,
): void {
  if (isIntrinsic(value)) {
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report(path || 'Properties', `must be an object (${def.name}), got ${JSON.stringify(value)}`);
    return;
  }
  const props = def.properties;
  for (const [name, prop] of Object.entries(props)) {
    if (prop.required && !(name in value)) {
      report(join(path, name), 'is required but missing');
    }
  }
  for (const [name, v] of Object.entries(value)) {
    const prop = props[name];
    if (!prop) {
      report(join(path, name), `is not a property of ${def.name} (allowed: ${Object.keys(props).sort().join(', ')})`);
      continue;
    }
    checkValue(v, prop.type, join(path, name), report);
  }
}

function checkValue(value: unknown, type: PropertyType, path: string, report: (property: string, message: string) => void): void {
  if (isIntrinsic(value)) {
    return;
  }
  const problem = describeMismatch(value, type, path, report);
  if (problem) {
    report(path, problem);
  }
}

/**
 * Returns a message when `value` does not fit `type` at this level; deeper problems are reported
 * directly. Unions try each member silently and report only when none fits.
 */
function describeMismatch(
  value: unknown, type: PropertyType, path: string, report: (property: string, message: string) => void,
): string | undefined {
  const got = JSON.stringify(value);
  switch (type.type) {
    case 'json':
      return undefined;
    case 'string':
    case 'date-time': {
      // CloudFormation passes scalars to string properties as strings.
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        return `must be a string, got ${got}`;
      }
      const allowed = (type as { allowedValues?: string[] }).allowedValues;
      if (allowed && allowed.length > 0 && !allowed.includes(String(value))) {
        return `must be one of ${allowed.join(', ')}, got ${got}`;
      }
      return undefined;
    }
    case 'number':
    case 'integer':
      if (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !isNaN(Number(value)))) {
        if (type.type === 'integer' && !Number.isInteger(Number(value))) {
          return `must be an integer, got ${got}`;
        }
        return undefined;
      }
      return `must be a number, got ${got}`;
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false' ? undefined : `must be a boolean, got ${got}`;
    case 'null':
      return value === null ? undefined : `must be null, got ${got}`;
    case 'tag':
      if (value && typeof value === 'object' && 'Key' in value && 'Value' in value) {
        return undefined;
      }
      return `must be a tag { Key, Value }, got ${got}`;
    case 'ref': {
      const def = spec().get('typeDefinition', type.reference.$ref);
      checkObject(def, value, path, report);
      return undefined;
    }
    case 'array':
      if (!Array.isArray(value)) {
        return `must be a list, got ${got}`;
      }
      value.forEach((item, i) => checkValue(item, type.element, `${path}[${i}]`, report));
      return undefined;
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return `must be a map, got ${got}`;
      }
      for (const [k, v] of Object.entries(value)) {
        checkValue(v, type.element, `${path}.${k}`, report);
      }
      return undefined;
    case 'union': {
      for (const member of type.types) {
        const inner: string[] = [];
        const problem = describeMismatch(value, member, path, (p, m) => inner.push(`${p} ${m}`));
        if (!problem && inner.length === 0) {
          return undefined;
        }
      }
      return `matches none of the allowed shapes, got ${got}`;
    }
    default:
      return undefined;
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}
