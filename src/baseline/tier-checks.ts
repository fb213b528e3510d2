import { IConstruct } from 'constructs';
import { BackupTier } from './tier';
import { check, checkCount, reportFactoryProblems } from '../core/validation';

/**
 * The baseline's checks of its tiers: each tier's own problems (recorded by the factory the user
 * called, `BackupTier.silver(...)`), reported with the baseline's path and the tier's place.
 */
export function checkTiers(scope: IConstruct, tiers: readonly BackupTier[]): void {
  checkCount(scope, 'tiers', tiers, 1, 20);
  (tiers ?? []).forEach((t, i) => {
    check(t instanceof BackupTier, scope, `tiers[${i}]`, 'must be BackupTier.gold(), .silver(), .bronze() or .custom()', t);
    reportFactoryProblems(scope, `tiers[${i}]`, t);
  });
  const names = (tiers ?? []).map((t) => t?.name);
  names.forEach((n, i) => check(names.indexOf(n) === i, scope, `tiers[${i}].name`, 'must be unique among the tiers', n,
    'give each tier its own name (the tier tag value selects its instances)'));
}
