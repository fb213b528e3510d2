export * from './drill-source';
export * from './restore-drill';
export * from './orphan-sweeper';
