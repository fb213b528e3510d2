import { Token } from 'aws-cdk-lib';
import { FactoryProblem, isReservedTagKey, present, recordFactoryProblems } from '../core/validation';

/** One key of a maintenance window target and its values, as SSM takes them. */
export interface MaintenanceTargetKey {
  /** The target key: `tag:<name>`, `InstanceIds` or `resource-groups:Name`. */
  readonly key: string;
  /** The values of the key. */
  readonly values: string[];
}

/** Systems Manager: a window target has at most 5 keys with at most 50 values each. */
const MAX_KEYS = 5;
const MAX_VALUES = 50;

/**
 * The instances a maintenance window runs its tasks on: by tags, by instance ids, or by a
 * resource group.
 *
 * Bad arguments are reported by the window that uses the targets, with its path and prop,
 * together with the window's other problems.
 *
 * @example
 * MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' });
 * MaintenanceTargets.instanceIds(['i-0123456789abcdef0']);
 */
export class MaintenanceTargets {
  /**
   * Instances that carry every one of `tags` (at most 5 keys; the keys are ANDed).
   */
  public static tagged(tags: Record<string, string>): MaintenanceTargets {
    const factory = 'MaintenanceTargets.tagged';
    const keys = Object.keys(tags ?? {});
    const problems: FactoryProblem[] = [];
    if (keys.length < 1 || keys.length > MAX_KEYS) {
      problems.push(new FactoryProblem(factory, `tags must have between 1 and ${MAX_KEYS} keys`, keys.length,
        `Systems Manager takes at most ${MAX_KEYS} target keys; use taggedAnyOf(key, values) for several values of one key`));
    }
    for (const key of keys) {
      if (!Token.isUnresolved(key) && (key.length < 1 || key.length > 128 || isReservedTagKey(key))) {
        problems.push(new FactoryProblem(factory, "tag key must be 1-128 characters and not start with 'aws:'", key,
          "'aws:' tags are reserved by AWS: target a tag of your own"));
      }
    }
    return recordFactoryProblems(new MaintenanceTargets('INSTANCE', keys.map((key) => ({ key: `tag:${key}`, values: [tags[key]] })),
      `instances tagged ${keys.map((k) => `${k}=${tags[k]}`).join(', ')}`), problems);
  }

  /**
   * Instances that carry the tag `key` with any of `values` (at most 50 values).
   */
  public static taggedAnyOf(key: string, values: string[]): MaintenanceTargets {
    return recordFactoryProblems(
      new MaintenanceTargets('INSTANCE', [{ key: `tag:${key}`, values: [...values ?? []] }], `instances tagged ${key} in [${(values ?? []).join(', ')}]`),
      present([valuesProblem('MaintenanceTargets.taggedAnyOf', 'values', values)]));
  }

  /**
   * These instances (at most 50 ids).
   */
  public static instanceIds(ids: string[]): MaintenanceTargets {
    const factory = 'MaintenanceTargets.instanceIds';
    const problems = present([valuesProblem(factory, 'ids', ids)]);
    for (const id of Token.isUnresolved(ids) ? [] : ids ?? []) {
      if (!Token.isUnresolved(id) && !/^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) {
        problems.push(new FactoryProblem(factory, 'ids must be EC2 instance ids such as i-0123456789abcdef0', id,
          'pass instance ids (i-...), or select the instances by tag with MaintenanceTargets.tagged()'));
      }
    }
    return recordFactoryProblems(new MaintenanceTargets('INSTANCE', [{ key: 'InstanceIds', values: [...ids ?? []] }],
      `instances ${(ids ?? []).join(', ')}`), problems);
  }

  /**
   * The EC2 instances in a resource group.
   */
  public static resourceGroup(name: string): MaintenanceTargets {
    const problems: FactoryProblem[] = [];
    if (!Token.isUnresolved(name) && !/^[a-zA-Z0-9_.-]{1,128}$/.test(name)) {
      problems.push(new FactoryProblem('MaintenanceTargets.resourceGroup', 'name must be 1-128 characters of letters, digits, _ . -', name,
        'pass the name of the resource group as Resource Groups shows it'));
    }
    return recordFactoryProblems(new MaintenanceTargets('RESOURCE_GROUP', [
      { key: 'resource-groups:Name', values: [name] },
      { key: 'resource-groups:ResourceTypeFilters', values: ['AWS::EC2::Instance'] },
    ], `instances in resource group ${name}`), problems);
  }

  /** `INSTANCE` or `RESOURCE_GROUP`, the window target's resource type. */
  public readonly resourceType: string;

  /** The target keys and values. */
  public readonly targets: MaintenanceTargetKey[];

  /** A human description for descriptions and messages. */
  public readonly description: string;

  private constructor(resourceType: string, targets: MaintenanceTargetKey[], description: string) {
    this.resourceType = resourceType;
    this.targets = targets;
    this.description = description;
  }
}

/** A window target key takes 1-50 values. */
function valuesProblem(factory: string, argument: string, values: string[]): FactoryProblem | undefined {
  if (Token.isUnresolved(values)) {
    return undefined;
  }
  const count = Array.isArray(values) ? values.length : 0;
  return count >= 1 && count <= MAX_VALUES ? undefined : new FactoryProblem(factory, `${argument} must have between 1 and ${MAX_VALUES} values`, count,
    `Systems Manager takes 1 to ${MAX_VALUES} values per target key: split the instances over several windows or select them by tag`);
}
