// The baseline: tiers by tag composed from every other family, a dashboard, the coverage report
// and the organization rollout. Helpers in report.ts and dashboard.ts stay internal.
export * from './tier';
export * from './baseline';
export * from './stackset';
export * from './dr-vault';
