// core: what every family shares
export * from './core';
export * from './runbooks';
export * from './dlm';
export * from './backup';
export * from './worm';
export * from './restore';
export * from './orchestration';
export * from './ssm';
export * from './baseline';
