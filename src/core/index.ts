export * from './retention';
export * from './tagging';
