/**
 * Rule ids of `EbsBackupChecks` that families acknowledge for their own resources, kept in core
 * so that a family never imports the checks (no family imports another).
 */
export const CHECK_IDS = {
  /** `EbsBackupChecks.LAUNCH_TEMPLATE_COVERED`. */
  launchTemplateCovered: 'EbsBackup-LaunchTemplateCovered',
} as const;
