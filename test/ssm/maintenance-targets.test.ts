import { App, Fn, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { MaintenanceTargets, VssMaintenanceWindow } from '../../src';

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
  /** A window that uses the targets: bad targets are reported by it, with its path and prop. */
  const windowWith = (targets: MaintenanceTargets) => () => new VssMaintenanceWindow(new Stack(new App(), 'Prod'), 'Window', {
    purpose: 'erp', schedule: events.Schedule.cron({ hour: '3', minute: '0' }), targets,
  });
  test.each([
    ['no tags', () => MaintenanceTargets.tagged({}), 'Prod/Window: targets MaintenanceTargets.tagged(...): tags must have between 1 and 5 keys, got 0'],
    ['6 tag keys', () => MaintenanceTargets.tagged({ a: '1', b: '1', c: '1', d: '1', e: '1', f: '1' }), 'tags must have between 1 and 5 keys, got 6; Systems Manager takes at most 5 target keys'],
    ['an aws: tag key', () => MaintenanceTargets.tagged({ 'aws:x': '1' }), "tag key must be 1-128 characters and not start with 'aws:', got 'aws:x'"],
    ['51 instance ids', () => MaintenanceTargets.instanceIds(ids(51)), 'Prod/Window: targets MaintenanceTargets.instanceIds(...): ids must have between 1 and 50 values, got 51'],
    ['no instance id', () => MaintenanceTargets.instanceIds([]), 'ids must have between 1 and 50 values, got 0'],
    ['a bad instance id', () => MaintenanceTargets.instanceIds(['vol-123']), "ids must be EC2 instance ids such as i-0123456789abcdef0, got 'vol-123'"],
    ['51 tag values', () => MaintenanceTargets.taggedAnyOf('k', ids(51)), 'Prod/Window: targets MaintenanceTargets.taggedAnyOf(...): values must have between 1 and 50 values, got 51'],
    ['a bad group name', () => MaintenanceTargets.resourceGroup('a b'), "name must be 1-128 characters of letters, digits, _ . -, got 'a b'"],
  ])('a window reports targets with %s', (_name, make, message) => {
    expect(windowWith(make())).toThrow(message);
  });

  test('accepts the limits exactly', () => {
    expect(windowWith(MaintenanceTargets.instanceIds(ids(50)))).not.toThrow();
    expect(windowWith(MaintenanceTargets.tagged({ a: '1', b: '1', c: '1', d: '1', e: '1' }))).not.toThrow();
  });
});
