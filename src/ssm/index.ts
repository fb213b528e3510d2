export * from './targets';
export * from './window-base';
export * from './vss-window';
export * from './fsfreeze-window';
