// Data Lifecycle Manager: custom snapshot and AMI policies, default policies, and the
// event-based policy of the archive account. Helpers in render.ts, grants.ts, cron.ts and units.ts stay internal.
export * from './target';
export * from './script';
export * from './schedule';
export * from './policy-base';
export * from './execution-role';
export * from './snapshot-policy';
export * from './image-policy';
export * from './default-policy';
export * from './shared-copy-policy';
