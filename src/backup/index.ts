export * from './vault-lock';
export { BackupCondition, BackupConditionOperator, ProtectedResourceType } from './selection';
export * from './restore-testing';
export * from './audit';
export * from './vault-policy';
export * from './archive-vault';
