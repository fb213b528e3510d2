import { Fn } from 'aws-cdk-lib';
import { MaintenanceTargets } from '../../src';

describe('MaintenanceTargets', () => {
  test('tagged: one target key per tag, ANDed', () => {
    const t = MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True', 'Env': 'prod' });
    expect(t.resourceType).toBe('INSTANCE');
    expect(t.targets).toEqual([{ key: 'tag:VSS-Snapshot', values: ['True'] }, { key: 'tag:Env', values: ['prod'] }]);
  });

  test('taggedAnyOf, instanceIds and resourceGroup', () => {
    expect(MaintenanceTargets.taggedAnyOf('Tier', ['gold', 'silver']).targets).toEqual([{ key: 'tag:Tier', values: ['gold', 'silver'] }]);
    expect(MaintenanceTargets.instanceIds(['i-0123456789abcdef0']).targets).toEqual([{ key: 'InstanceIds', values: ['i-0123456789abcdef0'] }]);
    const group = MaintenanceTargets.resourceGroup('sql-servers');
    expect(group.resourceType).toBe('RESOURCE_GROUP');
    expect(group.targets[0]).toEqual({ key: 'resource-groups:Name', values: ['sql-servers'] });
  });

  test('tokens are not validated', () => {
    expect(() => MaintenanceTargets.instanceIds([Fn.importValue('Id')])).not.toThrow();
    expect(() => MaintenanceTargets.resourceGroup(Fn.importValue('Group'))).not.toThrow();
  });

  const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${String(i).padStart(17, '0')}`);
  test.each([
    ['no tags', () => MaintenanceTargets.tagged({}), 'MaintenanceTargets.tagged: tags must have between 1 and 5 keys, got 0'],
    ['6 tag keys', () => MaintenanceTargets.tagged({ a: '1', b: '1', c: '1', d: '1', e: '1', f: '1' }), 'tags must have between 1 and 5 keys, got 6'],
    ['an aws: tag key', () => MaintenanceTargets.tagged({ 'aws:x': '1' }), "tag key must be 1-128 characters and not start with 'aws:', got 'aws:x'"],
    ['51 instance ids', () => MaintenanceTargets.instanceIds(ids(51)), 'MaintenanceTargets.instanceIds: must have between 1 and 50 values, got 51'],
    ['no instance id', () => MaintenanceTargets.instanceIds([]), 'must have between 1 and 50 values, got 0'],
    ['a bad instance id', () => MaintenanceTargets.instanceIds(['vol-123']), "ids must be EC2 instance ids such as i-0123456789abcdef0, got 'vol-123'"],
    ['51 tag values', () => MaintenanceTargets.taggedAnyOf('k', ids(51)), 'MaintenanceTargets.taggedAnyOf: must have between 1 and 50 values, got 51'],
    ['a bad group name', () => MaintenanceTargets.resourceGroup('a b'), 'name must be 1-128 characters'],
  ])('rejects %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('accepts the limits exactly', () => {
    expect(() => MaintenanceTargets.instanceIds(ids(50))).not.toThrow();
    expect(() => MaintenanceTargets.tagged({ a: '1', b: '1', c: '1', d: '1', e: '1' })).not.toThrow();
  });
});
