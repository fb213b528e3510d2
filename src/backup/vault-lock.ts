import { Duration } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import { FactoryProblem, isUnresolved, present, recordFactoryProblems, throwFactoryProblems, wholeDurationProblem } from '../core/validation';

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

/**
 * AWS Backup Vault Lock: the WORM setting of a vault, in governance or compliance mode.
 *
 * The factories check the bounds AWS enforces (min >= 1 day, max <= 36500 days, max > min,
 * `changeableFor` >= 3 days); a lock out of bounds is reported by the construct that uses it,
 * with its path and prop, together with the construct's other problems.
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
    const factory = 'VaultLock.compliance';
    const changeableFor = options.changeableFor ?? Duration.days(3);
    const problems = VaultLock.boundsProblems(factory, options);
    const p = wholeDurationProblem(factory, 'changeableFor', changeableFor, 'days', 3, 36500, ' (AWS enforces a 72-hour cooling-off period)');
    return recordFactoryProblems(new VaultLock(VaultLockMode.COMPLIANCE, options.minRetention, options.maxRetention, changeableFor),
      p ? [...problems, p] : problems);
  }

  /**
   * A governance-mode lock: enforces the retention bounds but can be removed with IAM permission
   * (`backup:DeleteBackupVaultLockConfiguration`), which the vault's access policy denies to all
   * but the break-glass principals.
   */
  public static governance(options: VaultLockOptions): VaultLock {
    return recordFactoryProblems(new VaultLock(VaultLockMode.GOVERNANCE, options.minRetention, options.maxRetention, undefined),
      VaultLock.boundsProblems('VaultLock.governance', options));
  }

  private static boundsProblems(factory: string, options: VaultLockOptions): FactoryProblem[] {
    const { minRetention: min, maxRetention: max } = options;
    const problems = present([
      wholeDurationProblem(factory, 'minRetention', min, 'days', 1, 36500),
      max === undefined ? undefined : wholeDurationProblem(factory, 'maxRetention', max, 'days', 1, 36500),
    ]);
    if (problems.length === 0 && max !== undefined && !isUnresolved(min) && !isUnresolved(max)
      && max.toDays() <= min.toDays()) {
      problems.push(new FactoryProblem(factory, `maxRetention must be longer than minRetention (${min.toHumanString()})`, max,
        'raise maxRetention or leave it out for no maximum'));
    }
    return problems;
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
    throwFactoryProblems(this);
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
