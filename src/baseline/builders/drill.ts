import { Annotations } from 'aws-cdk-lib';
import { Built, TierContext } from './builder';
import { BackupTagging } from '../../core/tagging';
import { RestoreDrill } from '../../restore/restore-drill';

/**
 * A tier's RestoreDrill of its Linux consistent snapshots (or its DLM snapshots). Left out of a
 * self-contained template, whose functions cannot be code assets: the report says so.
 */
export function buildRestoreDrill(ctx: TierContext): Built | undefined {
  const { tier } = ctx;
  const d = tier.definition;
  if (!d.restoreDrill) {
    return undefined;
  }
  const purpose = d.consistentSnapshots && d.consistentSnapshots.linux !== false ? tier.linuxPurpose : tier.snapshotPurpose;
  if (ctx.selfContained) {
    // selfContained is an explicit choice: an info, and the coverage report says so
    const omitted = `tier '${tier.name}' restoreDrill is left out of the self-contained template (its functions are code assets)`;
    Annotations.of(ctx.baseline).addInfo(`${ctx.baseline.node.path}: ${omitted}; AWS Backup restore testing still proves the recovery points restore`);
    return { alwaysOn: [omitted] };
  }
  const drill = new RestoreDrill(ctx.scope, 'Drill', {
    purpose,
    schedule: d.restoreDrill.schedule,
    validation: d.restoreDrill.validation ?? ['test -n "$(ls -A /data)"'],
    alarmTopic: ctx.alarmTopic,
    vpc: ctx.drillVpc,
  });
  return {
    restoreDrills: [drill],
    covers: [{
      mechanism: 'restore-drill',
      selection: { [BackupTagging.keys(ctx.baseline).purpose]: purpose },
      purpose,
      schedule: d.restoreDrill.schedule.expressionString,
      copies: [],
      coversWholeTier: false,
    }],
  };
}
