import { Stack } from 'aws-cdk-lib';
import { Built, TierContext } from './builder';
import { nagRendering } from '../../core/acknowledge';
import { FsfreezeMaintenanceWindow } from '../../ssm/fsfreeze-window';
import { MaintenanceTargets } from '../../ssm/targets';
import { VssMaintenanceWindow } from '../../ssm/vss-window';
import { SnapshotMaintenanceWindowBase } from '../../ssm/window-base';
import { intervalHours, MechanismFacts } from '../report';

/** The platform tag value of Windows instances (VSS). */
export const PLATFORM_WINDOWS = 'windows';
/** The platform tag value of Linux instances (fsfreeze). */
export const PLATFORM_LINUX = 'linux';

/**
 * A tier's application-consistent snapshots: a VSS window for instances whose platform tag says
 * `windows`, an fsfreeze window for those that say `linux`.
 */
export function buildConsistentWindows(ctx: TierContext): Built | undefined {
  const { tier } = ctx;
  const c = tier.definition.consistentSnapshots;
  if (!c) {
    return undefined;
  }
  const platforms: Array<[string, string, boolean]> = [
    [PLATFORM_WINDOWS, tier.windowsPurpose, c.windows !== false],
    [PLATFORM_LINUX, tier.linuxPurpose, c.linux !== false],
  ];
  const windows: SnapshotMaintenanceWindowBase[] = [];
  const covers: MechanismFacts[] = [];
  for (const [platform, purpose, enabled] of platforms) {
    if (!enabled) {
      continue;
    }
    const selection = { ...ctx.selection, [ctx.platformTagKey]: platform };
    const common = {
      purpose,
      schedule: c.schedule,
      retain: c.retain,
      targets: MaintenanceTargets.tagged(selection),
      maxConcurrency: '100%',
      maxErrors: '100%',
      alarmActions: [ctx.alarmAction],
    };
    const window = platform === PLATFORM_WINDOWS
      ? new VssMaintenanceWindow(ctx.scope, 'Vss', common)
      : new FsfreezeMaintenanceWindow(ctx.scope, 'Fsfreeze', { ...common, mountPoints: c.linuxMountPoints, expediteFreeze: c.linuxExpediteFreeze });
    windows.push(window);
    covers.push({
      mechanism: platform === PLATFORM_WINDOWS ? 'vss-window' : 'fsfreeze-window',
      selection,
      purpose,
      schedule: c.schedule.expressionString,
      intervalHours: intervalHours(c.schedule),
      retention: c.retain.toTagValue(),
      copies: [],
      coversWholeTier: false,
      instancePolicy: nagRendering(Stack.of(window).resolve(window.instancePolicyName)),
    });
  }
  return {
    maintenanceWindows: windows,
    alarms: windows.flatMap((w) => [w.crashConsistentAlarm, w.failedRunsAlarm, w.expiryFailedAlarm]),
    covers,
  };
}
