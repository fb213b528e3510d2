import { IConstruct } from 'constructs';
import { BackupTier } from './tier';
import { check, checkCount, checkTags, reportFactoryProblems, warn } from '../core/validation';

/**
 * The baseline's checks of its tiers: each tier's own problems (recorded by the factory the user
 * called, `BackupTier.silver(...)`), reported with the baseline's path and the tier's place.
 */
export function checkTiers(scope: IConstruct, tiers: readonly BackupTier[], tierTagKey: string): void {
  checkCount(scope, 'tiers', tiers, 1, 20);
  (tiers ?? []).forEach((t, i) => {
    check(t instanceof BackupTier, scope, `tiers[${i}]`, 'must be BackupTier.gold(), .silver(), .bronze() or .custom()', t);
    reportFactoryProblems(scope, `tiers[${i}]`, t);
    const exclude = t?.definition?.snapshots?.excludeVolumeTags;
    const at = `tiers[${i}].snapshots.excludeVolumeTags`;
    if (exclude !== undefined) {
      checkTags(scope, at, exclude, 50);
      check(Object.keys(exclude).length > 0, scope, at, 'must name at least one tag', exclude, 'omit it to keep every volume');
      // volumes often carry their instance's tags (copied at launch): excluding the tier tag would leave out every data volume
      check(!(tierTagKey in exclude), scope, at, `must not name the tier tag key '${tierTagKey}'`, exclude,
        'name a tag only the volumes to leave out carry, e.g. { Backup: "skip" }');
      if (t.definition.backupPlan !== undefined) {
        // AWS Backup selects the tier's EC2 instances, and an EC2 backup is an AMI of every attached
        // volume: a selection condition filters instances by their own tags, never volumes
        warn(scope, 'baseline:excluded-volumes-backed-up', `${scope.node.path}: ${at} leaves volumes out of the tier's DLM snapshots only: ` +
          "the tier's backupPlan backs up each instance with every attached volume (AWS Backup cannot leave one out of an EC2 backup); " +
          'to keep those volumes out of every backup, drop backupPlan from the tier or move them to instances of another tier, ' +
          'or acknowledge this warning');
      }
    }
  });
  const names = (tiers ?? []).map((t) => t?.name);
  names.forEach((n, i) => check(names.indexOf(n) === i, scope, `tiers[${i}].name`, 'must be unique among the tiers', n,
    'give each tier its own name (the tier tag value selects its instances)'));
}
