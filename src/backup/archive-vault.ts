import { Names, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DESTRUCTIVE_KEY_ACTIONS, protectKey, vaultDenyStatements, vaultLockPlan, warnNoBreakGlass } from './protection';
import { VaultLock, VaultLockMode } from './vault-lock';
import { registerPlan } from '../core/plan-report';
import { requirePrerequisite } from '../core/prerequisites';
import { checkPrincipalArns, deploymentPrincipalArns } from '../core/principal-arns';
import { check, checkAccountId, checkPattern, collectProblems, isUnresolved, reportFactoryProblems, warn } from '../core/validation';

/** Properties of a BackupArchiveVault. */
export interface BackupArchiveVaultProps {
  /**
   * The accounts whose backup plans may copy into this vault.
   *
   * @default - none; `sourceOrganizationId` must then be given
   */
  readonly sourceAccounts?: string[];
  /**
   * Admit copies from every account of this AWS Organization (`o-...`).
   *
   * @default - only `sourceAccounts`
   */
  readonly sourceOrganizationId?: string;
  /**
   * Vault Lock of the receiving vault. Required for a logically air-gapped vault, which is always
   * locked and needs a minimum of at least 7 days and a maximum.
   *
   * @default - no lock
   */
  readonly vaultLock?: VaultLock;
  /**
   * Create a logically air-gapped vault: recovery points are stored in an AWS-owned account,
   * encrypted with an AWS-owned key, and always compliance-locked.
   *
   * @default false
   */
  readonly logicallyAirGapped?: boolean;
  /**
   * The customer-managed key of the vault.
   *
   * @default - a new key with rotation whose deletion is denied (standard vault); an AWS-owned key (air-gapped vault)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Principals exempt from the denies on the vault and key (see `BackupVaultPolicy`).
   *
   * @default - none
   */
  readonly breakGlassPrincipalArns?: string[];
  /**
   * The roles that deploy this stack: they pass the denies on changing the vault's access
   * policy and lock and the key's policy (not on deleting recovery points), so that later stack
   * updates of the vault keep working. Role ARNs only; an empty list exempts no deployment.
   *
   * @default - the CDK bootstrap CloudFormation execution role of the stack's account and region
   *   under the `DefaultStackSynthesizer`, none under other synthesizers
   */
  readonly deploymentPrincipalArns?: string[];
  /**
   * The vault's name; the source plans' copy targets name it in their ARNs.
   *
   * @default - a generated name (give one, so that source accounts can write the ARN)
   */
  readonly vaultName?: string;
}

/**
 * The receiving vault in an archive account: its access policy admits copies only from the named
 * source accounts (or organization), and denies deleting recovery points, changing their lifecycle
 * and changing the policy or lock to all but the break-glass principals. Optionally a logically
 * air-gapped vault.
 */
export class BackupArchiveVault extends Construct {
  /** The vault, for copy targets in the same app. */
  public readonly vault: backup.IBackupVault;
  /** The vault's ARN. */
  public readonly vaultArn: string;
  /** The vault's name. */
  public readonly vaultName: string;
  /**
   * The vault's key.
   *
   * @default - undefined for an air-gapped vault with an AWS-owned key
   */
  public readonly key?: kms.IKey;
  /**
   * The vault's lock.
   *
   * @default - undefined without a lock
   */
  public readonly vaultLock?: VaultLock;
  /** The vault's access policy. */
  public readonly accessPolicy: iam.PolicyDocument;

  constructor(scope: Construct, id: string, props: BackupArchiveVaultProps) {
    super(scope, id);
    const accounts = [...props.sourceAccounts ?? []];
    const breakGlass = [...props.breakGlassPrincipalArns ?? []];
    // every problem of the vault's props at once
    const deployment = collectProblems(this, () => {
      accounts.forEach((a, i) => checkAccountId(this, `sourceAccounts[${i}]`, a));
      checkPattern(this, 'sourceOrganizationId', props.sourceOrganizationId, /^o-[a-z0-9]{10,32}$/, 'an organization id such as o-a1b2c3d4e5');
      check(accounts.length > 0 || props.sourceOrganizationId !== undefined, this, 'sourceAccounts',
        'must name at least one account, or give sourceOrganizationId');
      checkPrincipalArns(this, 'breakGlassPrincipalArns', breakGlass);
      if (props.vaultName !== undefined) {
        checkPattern(this, 'vaultName', props.vaultName, /^[a-zA-Z0-9\-_]{2,50}$/, '2-50 characters of A-Z a-z 0-9 - _');
      }
      reportFactoryProblems(this, 'vaultLock', props.vaultLock);
      if (props.logicallyAirGapped) {
        const lock = props.vaultLock;
        check(lock?.maxRetention !== undefined, this, 'vaultLock',
          'must be given with a maxRetention for a logically air-gapped vault (its retention bounds are required)');
        if (lock !== undefined && !isUnresolved(lock.minRetention)) {
          check(lock.minRetention.toDays({ integral: false }) >= 7, this, 'vaultLock.minRetention', 'must be at least 7 days for a logically air-gapped vault', lock.minRetention);
        }
      }
      return deploymentPrincipalArns(this, 'deploymentPrincipalArns', props.deploymentPrincipalArns);
    });
    requirePrerequisite(this, 'backup-cross-account');
    this.vaultLock = props.vaultLock;

    this.accessPolicy = new iam.PolicyDocument();
    if (accounts.length > 0) {
      this.accessPolicy.addStatements(new iam.PolicyStatement({
        sid: 'AllowCopiesFromSourceAccounts',
        principals: accounts.map((a) => new iam.AccountPrincipal(a)),
        actions: ['backup:CopyIntoBackupVault'],
        resources: ['*'],
      }));
    }
    if (props.sourceOrganizationId) {
      this.accessPolicy.addStatements(new iam.PolicyStatement({
        sid: 'AllowCopiesFromOrganization',
        principals: [new iam.StarPrincipal()],
        actions: ['backup:CopyIntoBackupVault'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.sourceOrganizationId } },
      }));
    }
    this.accessPolicy.addStatements(...vaultDenyStatements(breakGlass, deployment));

    if (props.logicallyAirGapped) {
      const lock = props.vaultLock!; // checked above
      this.key = props.encryptionKey;
      this.vaultName = props.vaultName ?? Names.uniqueResourceName(this, { maxLength: 50 });
      const vault = new backup.CfnLogicallyAirGappedBackupVault(this, 'Resource', {
        backupVaultName: this.vaultName,
        minRetentionDays: lock.minRetention.toDays(),
        maxRetentionDays: lock.maxRetention!.toDays(),
        encryptionKeyArn: this.key?.keyArn,
        accessPolicy: this.accessPolicy,
      });
      vault.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.vaultArn = vault.attrBackupVaultArn;
      this.vault = backup.BackupVault.fromBackupVaultArn(this, 'Imported', this.vaultArn);
    } else {
      this.key = props.encryptionKey ?? new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `Encrypts the archive vault of ${this.node.path}`,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const vault = new backup.BackupVault(this, 'Vault', {
        backupVaultName: props.vaultName,
        encryptionKey: this.key,
        accessPolicy: this.accessPolicy,
        lockConfiguration: props.vaultLock?.toLockConfiguration(),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.vault = vault;
      this.vaultArn = vault.backupVaultArn;
      this.vaultName = vault.backupVaultName;
    }
    if (this.key) {
      if (!protectKey(this.key, breakGlass, deployment)) {
        warn(this, 'backup:imported-key', `${this.node.path}: the imported encryptionKey's policy must deny ${DESTRUCTIVE_KEY_ACTIONS.join(', ')} to all but the break-glass principals`);
      }
    }
    registerPlan(this, 'BackupArchiveVault', () => {
      const name = props.vaultName ?? this.vault.node.path;
      const lock = vaultLockPlan(this.vaultLock, name);
      const from = [...props.sourceAccounts ?? [], ...props.sourceOrganizationId ? [`organization ${props.sourceOrganizationId}`] : []].join(', ');
      return {
        protects: [{ mechanism: `receiving vault ${name}`, selects: `copies from ${from || 'this account'}`, schedule: 'on arrival', locks: lock.locks }],
        irreversible: lock.irreversible,
      };
    });
    warnNoBreakGlass(this, breakGlass, deployment);
    if (!props.vaultLock) {
      warn(this, 'backup:no-lock', `${this.node.path}: the archive vault has no Vault Lock`);
    } else if (props.vaultLock.mode === VaultLockMode.COMPLIANCE && !props.logicallyAirGapped) {
      const days = props.vaultLock.changeableFor && !isUnresolved(props.vaultLock.changeableFor) ? props.vaultLock.changeableFor.toDays() : 3;
      warn(this, 'backup:compliance-lock', `${this.node.path}: the compliance-mode Vault Lock becomes immutable ${days} days after deployment`);
    }
  }
}
