import { Token } from 'aws-cdk-lib';

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
 * @example
 * MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' });
 * MaintenanceTargets.instanceIds(['i-0123456789abcdef0']);
 */
export class MaintenanceTargets {
  /**
   * Instances that carry every one of `tags` (at most 5 keys; the keys are ANDed).
   */
  public static tagged(tags: Record<string, string>): MaintenanceTargets {
    const keys = Object.keys(tags ?? {});
    if (keys.length < 1 || keys.length > MAX_KEYS) {
      throw new Error(`MaintenanceTargets.tagged: tags must have between 1 and ${MAX_KEYS} keys, got ${keys.length}`);
    }
    for (const key of keys) {
      if (!Token.isUnresolved(key) && (key.length < 1 || key.length > 128 || key.toLowerCase().startsWith('aws:'))) {
        throw new Error(`MaintenanceTargets.tagged: tag key must be 1-128 characters and not start with 'aws:', got '${key}'`);
      }
    }
    return new MaintenanceTargets('INSTANCE', keys.map((key) => ({ key: `tag:${key}`, values: [tags[key]] })),
      `instances tagged ${keys.map((k) => `${k}=${tags[k]}`).join(', ')}`);
  }

  /**
   * Instances that carry the tag `key` with any of `values` (at most 50 values).
   */
  public static taggedAnyOf(key: string, values: string[]): MaintenanceTargets {
    MaintenanceTargets.checkValues('taggedAnyOf', values);
    return new MaintenanceTargets('INSTANCE', [{ key: `tag:${key}`, values: [...values] }], `instances tagged ${key} in [${values.join(', ')}]`);
  }

  /**
   * These instances (at most 50 ids).
   */
  public static instanceIds(ids: string[]): MaintenanceTargets {
    MaintenanceTargets.checkValues('instanceIds', ids);
    for (const id of ids) {
      if (!Token.isUnresolved(id) && !/^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) {
        throw new Error(`MaintenanceTargets.instanceIds: ids must be EC2 instance ids such as i-0123456789abcdef0, got '${id}'`);
      }
    }
    return new MaintenanceTargets('INSTANCE', [{ key: 'InstanceIds', values: [...ids] }], `instances ${ids.join(', ')}`);
  }

  /**
   * The EC2 instances in a resource group.
   */
  public static resourceGroup(name: string): MaintenanceTargets {
    if (!Token.isUnresolved(name) && !/^[a-zA-Z0-9_.-]{1,128}$/.test(name)) {
      throw new Error(`MaintenanceTargets.resourceGroup: name must be 1-128 characters of letters, digits, _ . -, got '${name}'`);
    }
    return new MaintenanceTargets('RESOURCE_GROUP', [
      { key: 'resource-groups:Name', values: [name] },
      { key: 'resource-groups:ResourceTypeFilters', values: ['AWS::EC2::Instance'] },
    ], `instances in resource group ${name}`);
  }

  private static checkValues(factory: string, values: string[]): void {
    if (Token.isUnresolved(values)) {
      return;
    }
    if (!Array.isArray(values) || values.length < 1 || values.length > MAX_VALUES) {
      throw new Error(`MaintenanceTargets.${factory}: must have between 1 and ${MAX_VALUES} values, got ${values?.length ?? 0}`);
    }
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
