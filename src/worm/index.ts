export * from './deny-policy';
export * from './recycle-bin';
export * from './snapshot-lock';
export * from './snapshot-archiver';
export * from './block-public-access';
export * from './service-control-policy';
export * from './guard';
