// core: the tagging strategy, retention, coverage and retention-role conventions every family shares
export * from './core';
// Data Lifecycle Manager: snapshot, AMI, default and shared-copy policies
export * from './dlm';
// AWS Backup: vault with Vault Lock, plan, copies, restore testing, audit; the archive vault
export * from './backup';
// Systems Manager maintenance windows: Windows VSS and Linux fsfreeze
export * from './ssm';
// write-once protection: deny policy, SCP, Recycle Bin, snapshot lock, block public access
export * from './worm';
// orchestration: consistent snapshot jobs with pre/post steps
export * from './orchestration';
// restore: restore drills and the orphan sweeper
export * from './restore';
// checks: the EbsBackupChecks validation plugin and its rules
export * from './checks';
// pre-change runbooks
export * from './runbooks';
// the baseline: tiers by tag, dashboard, StackSets
export * from './baseline';
