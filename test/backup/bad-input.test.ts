import { App, Duration, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  BackupArchiveVault, BackupArchiveVaultProps, BackupCondition, BackupVaultPolicy, BackupVaultPolicyProps, BackupVaultRule,
  ProtectedResourceType, Retention, VaultLock,
} from '../../src';

const daily = events.Schedule.cron({ hour: '5', minute: '0' });
const rule = (extra: Partial<BackupVaultRule> = {}): BackupVaultRule => ({ name: 'daily', schedule: daily, retain: Retention.age(Duration.days(35)), ...extra });
const props = (extra: Partial<BackupVaultPolicyProps> = {}): BackupVaultPolicyProps => ({
  purpose: 'ebs-dr',
  rules: [rule()],
  allTags: { Backup: 'daily' },
  breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
  notifications: false,
  ...extra,
});
const lock = VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(3650) });

/** Build the construct and synthesize (no rule plugins: only this library's checks are under test). */
function attempt(build: (stack: Stack) => void): void {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'us-east-1' } });
  build(stack);
  app.synth();
}

describe('bad input is a clear synth error', () => {
  test.each<[string, (stack: Stack) => void, string]>([
    // a lock's bounds are reported by the construct that uses the lock, with its path and prop
    ['changeableFor of 1 day', (s) => new BackupVaultPolicy(s, 'V', props({ vaultLock: VaultLock.compliance({ minRetention: Duration.days(7), changeableFor: Duration.days(1) }) })),
      'S/V: vaultLock VaultLock.compliance(...): changeableFor must be a whole number of days between 3 and 36500 (AWS enforces a 72-hour cooling-off period), got 1 day'],
    ['a lock minimum of 0 days', (s) => new BackupVaultPolicy(s, 'V', props({ vaultLock: VaultLock.governance({ minRetention: Duration.days(0) }) })),
      'S/V: vaultLock VaultLock.governance(...): minRetention must be a whole number of days between 1 and 36500, got 0 days; pass Duration.days(n) with 1 <= n <= 36500'],
    ['a lock maximum over 100 years', (s) => new BackupVaultPolicy(s, 'V', props({ vaultLock: VaultLock.governance({ minRetention: Duration.days(1), maxRetention: Duration.days(36501) }) })),
      'maxRetention must be a whole number of days between 1 and 36500, got 36501 days'],
    ['a lock maximum not above the minimum', (s) => new BackupVaultPolicy(s, 'V', props({ vaultLock: VaultLock.compliance({ minRetention: Duration.days(30), maxRetention: Duration.days(30) }) })),
      'S/V: vaultLock VaultLock.compliance(...): maxRetention must be longer than minRetention (30 days), got 30 days'],
    ['a lock in hours', (s) => new BackupVaultPolicy(s, 'V', props({ vaultLock: VaultLock.governance({ minRetention: Duration.hours(36) }) })),
      'minRetention must be a whole number of days between 1 and 36500, got 1 day 12 hours'],
    ['a destination lock out of bounds', (s) => new BackupVaultPolicy(s, 'V', props({
      rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:archive', destinationLock: VaultLock.governance({ minRetention: Duration.days(0) }) }] })],
    })), 'S/V: rules[0].copyTo[0].destinationLock VaultLock.governance(...): minRetention must be a whole number of days between 1 and 36500, got 0 days'],
    ['a lock used outside any construct', () => VaultLock.governance({ minRetention: Duration.days(0) }).toLockConfiguration(),
      'VaultLock.governance: minRetention must be a whole number of days between 1 and 36500, got 0 days'],
    ['rule retention below the lock minimum', (s) => new BackupVaultPolicy(s, 'V', props({ vaultLock: lock, rules: [rule({ retain: Retention.age(Duration.days(3)) })] })),
      "S/V: rules[0].retain must be at least the vault lock's minRetention of 7 days (AWS fails jobs outside the lock's bounds), got 3 days"],
    ['rule retention above the lock maximum', (s) => new BackupVaultPolicy(s, 'V', props({ vaultLock: lock, rules: [rule({ retain: Retention.age(Duration.days(4000)) })] })),
      "rules[0].retain must be at most the vault lock's maxRetention of 3650 days"],
    ['copy retention outside the destination lock', (s) => new BackupVaultPolicy(s, 'V', props({
      rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:archive', retain: Retention.age(Duration.days(10)), destinationLock: VaultLock.compliance({ minRetention: Duration.days(30) }) }] })],
    })), "rules[0].copyTo[0].retain must be at least the destination vault lock's minRetention of 30 days"],
    ['cold storage with too short a retention', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ retain: Retention.age(Duration.days(100)), moveToColdStorageAfter: Duration.days(30) })] })),
      'rules[0].retain must be at least 90 days after moveToColdStorageAfter (30 days)'],
    ['copy cold storage with too short a retention', (s) => new BackupVaultPolicy(s, 'V', props({
      rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:archive', retain: Retention.age(Duration.days(60)), moveToColdStorageAfter: Duration.days(1) }] })],
    })), 'rules[0].copyTo[0].retain must be at least 90 days after moveToColdStorageAfter (1 day)'],
    ['copy cold storage without its own retention', (s) => new BackupVaultPolicy(s, 'V', props({
      rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:archive', moveToColdStorageAfter: Duration.days(1) }] })],
    })), 'rules[0].copyTo[0].retain must be set when moveToColdStorageAfter is'],
    // AWS Backup keeps recovery points by age only (Lifecycle.DeleteAfterDays, AWS Backup API reference)
    ['a rule kept by count', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ retain: Retention.count(14) })] })),
      "S/V: rules[0].retain must be Retention.age(Duration.days(n)), not a count: AWS Backup keeps recovery points by age only (Lifecycle.DeleteAfterDays), got 'count:14'"],
    ['a copy kept by count', (s) => new BackupVaultPolicy(s, 'V', props({
      rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:archive', retain: Retention.count(3) }] })],
    })), 'S/V: rules[0].copyTo[0].retain must be Retention.age(Duration.days(n)), not a count'],
    // Retention.age validates its own range, so the error points at the line the user wrote
    ['retention over 100 years', () => Retention.age(Duration.days(40000)).toTagValue(),
      'Retention.age: age must be a whole number of days between 1 and 36500 (100 years), got 40000 days'],
    ['retention in hours', () => Retention.age(Duration.hours(30)).toTagValue(),
      'Retention.age: age must be a whole number of days between 1 and 36500 (100 years), got 1 day 6 hours'],
    ['a start window under an hour', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ startWindow: Duration.minutes(30) })] })),
      'rules[0].startWindow must be between 1 hour and 365 days, got 30 minutes'],
    ['a completion window not longer than the start window', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ startWindow: Duration.hours(8), completionWindow: Duration.hours(8) })] })),
      'rules[0].completionWindow must be longer than startWindow (8 hours), got 8 hours'],
    ['a rate schedule', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ schedule: events.Schedule.rate(Duration.hours(12)) })] })),
      "rules[0].schedule must be a cron schedule (AWS Backup takes no rate expressions), got 'rate(12 hours)'"],
    ['a rule name with spaces', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ name: 'daily backup' })] })),
      "rules[0].name must be 1-50 characters of A-Z a-z 0-9 - _ ., got 'daily backup'"],
    ['two rules with one name', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule(), rule()] })), "rules[1].name must be unique in the plan, got 'daily'"],
    ['no rules', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [] })), 'S/V: rules must have between 1 and 100 items, got [] (0 items)'],
    ['a malformed copy vault ARN', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:s3:::bucket' }] })] })),
      "rules[0].copyTo[0].vaultArn must be a backup vault ARN such as arn:aws:backup:eu-west-1:111122223333:backup-vault:name, got 'arn:aws:s3:::bucket'"],
    ['a copy vault ARN with a bad region', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:backup:europe:111122223333:backup-vault:a1' }] })] })),
      "rules[0].copyTo[0].vaultArn region must be an AWS region name such as eu-west-1, got 'europe'"],
    ['the same copy target twice', (s) => new BackupVaultPolicy(s, 'V', props({
      rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:a1' }, { vaultArn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:a1' }] })],
    })), 'rules[0].copyTo[0].vaultArn must not repeat a copy target of the rule'],
    ['a copy to the source vault itself', (s) => new BackupVaultPolicy(s, 'V', props({
      vaultName: 'ebs', rules: [rule({ copyTo: [{ vaultArn: 'arn:aws:backup:us-east-1:123456789012:backup-vault:ebs' }] })],
    })), 'rules[0].copyTo[0].vaultArn must not be the source vault itself'],
    ['a library tag overridden in recovery point tags', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ recoveryPointTags: { 'backup:purpose': 'other' } })] })),
      "must not set the library's tag 'backup:purpose'"],
    ['a reserved recovery point tag key', (s) => new BackupVaultPolicy(s, 'V', props({ rules: [rule({ recoveryPointTags: { 'aws:owner': 'x' } })] })),
      "rules[0].recoveryPointTags key must not start with 'aws:' (reserved by AWS), got 'aws:owner'"],
    ['an empty selection', (s) => new BackupVaultPolicy(s, 'V', props({ allTags: undefined })), 'S/V: resources must select something'],
    ['an RDS ARN with the EBS/EC2 role', (s) => new BackupVaultPolicy(s, 'V', props({ resources: [backup.BackupResource.fromArn('arn:aws:rds:us-east-1:123456789012:db:orders')] })),
      "resources must be EBS volume or EC2 instance ARNs (the default backup role covers only those; pass backupRole for others), got 'arn:aws:rds:us-east-1:123456789012:db:orders'"],
    ['more than 30 wildcard ARNs', (s) => new BackupVaultPolicy(s, 'V', props({
      resources: Array.from({ length: 31 }, (_, i) => backup.BackupResource.fromArn(`arn:aws:ec2:us-east-1:123456789012:volume/vol-${i}*`)),
    })), 'resources must have at most 30 ARNs when any has a wildcard, got 31'],
    ['a wildcard inside a resource id', (s) => new BackupVaultPolicy(s, 'V', props({ excludeArns: ['arn:aws:ec2:us-east-1:123456789012:volume/vol-*-data'] })),
      "excludeArns must use a wildcard only as a trailing '*' in the resource id"],
    ['a bad break-glass ARN', (s) => new BackupVaultPolicy(s, 'V', props({ breakGlassPrincipalArns: ['BreakGlass'] })),
      "breakGlassPrincipalArns[0] must be an IAM role, user or root ARN such as arn:aws:iam::123456789012:role/BreakGlass (wildcards allowed), got 'BreakGlass'"],
    ['both a key and the AWS managed key', (s) => new BackupVaultPolicy(s, 'V', props({ useAwsManagedKey: true, encryptionKey: new kms.Key(s, 'K') })),
      'encryptionKey must not be set together with useAwsManagedKey'],
    ['Windows VSS without EC2', (s) => new BackupVaultPolicy(s, 'V', props({ windowsVss: true, resourceTypes: [ProtectedResourceType.EBS] })),
      'windowsVss needs EC2 in resourceTypes'],
    ['a bad purpose', (s) => new BackupVaultPolicy(s, 'V', props({ purpose: 'ebs#dr' })), 'S/V: purpose must be a tag value'],
    ['a restore test start window over 168 hours', (s) => new BackupVaultPolicy(s, 'V', props({ restoreTesting: { startWindow: Duration.hours(200) } })),
      'S/V/RestoreTesting: restoreTesting.startWindow must be between 1 hour and 7 days, got 8 days 8 hours'],
    ['a restore test selection window over 365 days', (s) => new BackupVaultPolicy(s, 'V', props({ restoreTesting: { selectionWindow: Duration.days(400) } })),
      'restoreTesting.selectionWindow must be between 1 day and 365 days, got 400 days'],
    ['a restore test validation window over 168 hours', (s) => new BackupVaultPolicy(s, 'V', props({ restoreTesting: { validationWindow: Duration.days(8) } })),
      'restoreTesting.validationWindow must be between 1 hour and 7 days, got 8 days'],
    ['more than 5 break-glass principals with audit', (s) => new BackupVaultPolicy(s, 'V', props({
      audit: {}, breakGlassPrincipalArns: Array.from({ length: 6 }, (_, i) => `arn:aws:iam::123456789012:role/BreakGlass${i}`),
    })), 'breakGlassPrincipalArns (for the manual-deletion control) must have at most 5 items'],
    ['an empty condition key', () => BackupCondition.tagEquals('', 'x'), 'BackupCondition.StringEquals: tag key must be between 1 and 128 characters long'],
  ])('%s', (_name, build, fragment) => {
    expect(() => attempt(build)).toThrow(fragment);
  });
});

describe('BackupArchiveVault bad input', () => {
  const archive = (extra: Partial<BackupArchiveVaultProps>) => (s: Stack) => new BackupArchiveVault(s, 'A', { sourceAccounts: ['123456789012'], ...extra });
  test.each<[string, (stack: Stack) => void, string]>([
    ['no source account or organization', archive({ sourceAccounts: [] }), 'S/A: sourceAccounts must name at least one account, or give sourceOrganizationId'],
    ['a short account id', archive({ sourceAccounts: ['1234'] }), "sourceAccounts[0] must be a 12-digit AWS account id, got '1234'"],
    ['a bad organization id', archive({ sourceOrganizationId: 'org-1' }), "sourceOrganizationId must be an organization id such as o-a1b2c3d4e5, got 'org-1'"],
    ['an air-gapped vault without a lock', archive({ logicallyAirGapped: true }), 'vaultLock must be given with a maxRetention for a logically air-gapped vault'],
    ['an air-gapped vault with a minimum under 7 days', archive({
      logicallyAirGapped: true, vaultLock: VaultLock.compliance({ minRetention: Duration.days(3), maxRetention: Duration.days(30) }),
    }), 'vaultLock.minRetention must be at least 7 days for a logically air-gapped vault, got 3 days'],
    ['a lock out of bounds', archive({ vaultLock: VaultLock.governance({ minRetention: Duration.days(7), maxRetention: Duration.days(7) }) }),
      'S/A: vaultLock VaultLock.governance(...): maxRetention must be longer than minRetention (7 days), got 7 days'],
  ])('%s', (_name, build, fragment) => {
    expect(() => attempt(build)).toThrow(fragment);
  });
});
