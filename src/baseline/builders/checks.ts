import { Validations } from 'aws-cdk-lib';
import { BaselineContext, Built } from './builder';
import { EbsBackupChecks } from '../../checks/ebs-backup-checks';

const CHECKS_ADDED = Symbol.for('cdk-ebs-backup.baselineChecks');

/** The `EbsBackupChecks` validation plugin on the app: once, however many baselines it has. */
export function buildChecks(ctx: BaselineContext): Built {
  const root = ctx.baseline.node.root as unknown as { [CHECKS_ADDED]?: boolean };
  if (!root[CHECKS_ADDED]) {
    root[CHECKS_ADDED] = true;
    Validations.of(ctx.baseline.node.root).addPlugins(new EbsBackupChecks(ctx.baseline.node.root));
  }
  return { alwaysOn: ['EbsBackupChecks validation plugin on the app'] };
}
