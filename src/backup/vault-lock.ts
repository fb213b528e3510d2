import { Duration } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import { IConstruct } from 'constructs';
import { check, isUnresolved, wholeDays } from '../core/validation';

/** The two modes of AWS Backup Vault Lock. */
export enum VaultLockMode {
  /** Removable by principals with the right IAM permissions: tests and reversible policies. */
  GOVERNANCE = 'GOVERNANCE',
  /** Immutable once the grace period (`changeableFor`) ends: not even the root user can remove it. */
  COMPLIANCE = 'COMPLIANCE',
}

/** The retention bounds of a vault lock. */
export interface VaultLockOptions {
  /**
   * The shortest retention a backup or copy job into the vault may have; jobs below it fail.
   */
  readonly minRetention: Duration;
  /**
   * The longest retention a backup or copy job into the vault may have; jobs above it fail.
   *
   * @default - no maximum
   */
  readonly maxRetention?: Duration;
}

/** The options of a compliance-mode vault lock. */
export interface ComplianceVaultLockOptions extends VaultLockOptions {
  /**
   * The grace period after deployment during which the lock can still be changed or removed;
   * after it the lock is immutable. AWS requires at least 3 days.
   *
   * @default Duration.days(3)
   */
  readonly changeableFor?: Duration;
}

/** Stand-in scope for errors raised by the factories, so they read like every other error. */
function where(factory: string): IConstruct {
  return { node: { path: `VaultLock.${factory}` } } as unknown as IConstruct;
}

/**
 * AWS Backup Vault Lock: the WORM setting of a vault, in governance or compliance mode.
 *
 * The factories check the bounds AWS enforces (min >= 1 day, max <= 36500 days, max > min,
 * `changeableFor` >= 3 days) so the error points at the line the user wrote.
 *
 * @example
 * VaultLock.compliance({ minRetention: Duration.days(7), maxRetention: Duration.days(3650), changeableFor: Duration.days(3) });
 * VaultLock.governance({ minRetention: Duration.days(7) });
 */
export class VaultLock {
  /**
   * A compliance-mode lock: immutable after `changeableFor` (at least 3 days).
   */
  public static compliance(options: ComplianceVaultLockOptions): VaultLock {
    const scope = where('compliance');
    const changeableFor = options.changeableFor ?? Duration.days(3);
    VaultLock.checkBounds(scope, options);
    if (!isUnresolved(changeableFor)) {
      const days = wholeDays(scope, 'changeableFor', changeableFor);
      check(days >= 3 && days <= 36500, scope, 'changeableFor',
        'must be between 3 and 36500 days (AWS enforces a 72-hour cooling-off period)', changeableFor);
    }
    return new VaultLock(VaultLockMode.COMPLIANCE, options.minRetention, options.maxRetention, changeableFor);
  }

  /**
   * A governance-mode lock: enforces the retention bounds but can be removed with IAM permission
   * (`backup:DeleteBackupVaultLockConfiguration`), which the vault's access policy denies to all
   * but the break-glass principals.
   */
  public static governance(options: VaultLockOptions): VaultLock {
    VaultLock.checkBounds(where('governance'), options);
    return new VaultLock(VaultLockMode.GOVERNANCE, options.minRetention, options.maxRetention, undefined);
  }

  private static checkBounds(scope: IConstruct, options: VaultLockOptions): void {
    const min = isUnresolved(options.minRetention) ? undefined : wholeDays(scope, 'minRetention', options.minRetention);
    if (min !== undefined) {
      check(min >= 1 && min <= 36500, scope, 'minRetention', 'must be between 1 and 36500 days', options.minRetention);
    }
    if (options.maxRetention === undefined || isUnresolved(options.maxRetention)) {
      return;
    }
    const max = wholeDays(scope, 'maxRetention', options.maxRetention);
    check(max >= 1 && max <= 36500, scope, 'maxRetention', 'must be between 1 and 36500 days', options.maxRetention);
    if (min !== undefined) {
      check(max > min, scope, 'maxRetention', `must be longer than minRetention (${options.minRetention.toHumanString()})`, options.maxRetention);
    }
  }

  /** Governance or compliance. */
  public readonly mode: VaultLockMode;
  /** The shortest retention a job into the vault may have. */
  public readonly minRetention: Duration;
  /**
   * The longest retention a job into the vault may have.
   *
   * @default - no maximum
   */
  public readonly maxRetention?: Duration;
  /**
   * The grace period of a compliance lock.
   *
   * @default - undefined for governance mode
   */
  public readonly changeableFor?: Duration;

  private constructor(mode: VaultLockMode, min: Duration, max: Duration | undefined, changeableFor: Duration | undefined) {
    this.mode = mode;
    this.minRetention = min;
    this.maxRetention = max;
    this.changeableFor = changeableFor;
  }

  /** The aws-backup L2's lock configuration for this lock. */
  public toLockConfiguration(): backup.LockConfiguration {
    return { minRetention: this.minRetention, maxRetention: this.maxRetention, changeableFor: this.changeableFor };
  }

  /**
   * Check that a job's retention falls within the lock's bounds: AWS fails such jobs at run
   * time, long after deployment, so it is checked at synthesis. Tokens are skipped.
   *
   * @returns the problem, or undefined when the retention fits
   */
  public violation(retention: Duration): string | undefined {
    if (isUnresolved(retention)) {
      return undefined;
    }
    const days = retention.toDays({ integral: false });
    if (!isUnresolved(this.minRetention) && days < this.minRetention.toDays({ integral: false })) {
      return `must be at least the vault lock's minRetention of ${this.minRetention.toHumanString()} (AWS fails jobs outside the lock's bounds)`;
    }
    if (this.maxRetention && !isUnresolved(this.maxRetention) && days > this.maxRetention.toDays({ integral: false })) {
      return `must be at most the vault lock's maxRetention of ${this.maxRetention.toHumanString()} (AWS fails jobs outside the lock's bounds)`;
    }
    return undefined;
  }
}
