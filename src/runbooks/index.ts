export * from './pre-change-snapshot';
