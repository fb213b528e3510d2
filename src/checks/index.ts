export * from './ebs-backup-checks';
