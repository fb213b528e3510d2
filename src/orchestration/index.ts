export * from './snapshot-step';
export * from './capture';
export * from './consistent-snapshot-job-props';
export * from './consistent-snapshot-job';
