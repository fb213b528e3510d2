import { EbsBackupRule } from '../rule';
import { BackupRetentionWithinVaultLock } from './backup-retention-within-vault-lock';
import { InstanceCovered } from './instance-covered';
import { LaunchTemplateCovered } from './launch-template-covered';
import { RecycleBinRetention } from './recycle-bin-retention';
import { VolumeCovered } from './volume-covered';
import { VssInstanceRole } from './vss-instance-role';
import { WindowInstanceAccess } from './window-instance-access';

/** Every rule of the pack, in report order. */
export const ALL_RULES: readonly EbsBackupRule[] = [
  VolumeCovered,
  InstanceCovered,
  LaunchTemplateCovered,
  VssInstanceRole,
  WindowInstanceAccess,
  BackupRetentionWithinVaultLock,
  RecycleBinRetention,
];
