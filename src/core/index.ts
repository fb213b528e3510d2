export * from './retention';
export * from './tagging';
export * from './retention-roles';
export * from './coverage';
