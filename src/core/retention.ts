import { Duration, Token } from 'aws-cdk-lib';

/**
 * How long a backup artefact is kept: a number of artefacts, or an age.
 *
 * One value drives both the service's retention setting and the retention tag on every
 * artefact, so the two cannot drift apart.
 *
 * @example
 * Retention.count(14);
 * Retention.age(Duration.days(30));
 */
export class Retention {
  /**
   * Keep the newest `count` artefacts (DLM allows 1-1000).
   */
  public static count(count: number): Retention {
    if (!Token.isUnresolved(count) && (!Number.isInteger(count) || count < 1 || count > 1000)) {
      throw new Error(`Retention.count: count must be an integer between 1 and 1000, got ${count}`);
    }
    return new Retention(count, undefined);
  }

  /**
   * Keep each artefact for `age` after it was created (1 day to 100 years).
   */
  public static age(age: Duration): Retention {
    if (!age.isUnresolved()) {
      const days = age.toDays({ integral: false });
      if (!Number.isInteger(days) || days < 1 || days > 36500) {
        throw new Error(`Retention.age: age must be a whole number of days between 1 and 36500 (100 years), got ${age.toHumanString()}`);
      }
    }
    return new Retention(undefined, age);
  }

  /**
   * The number of artefacts kept, for count-based retention.
   *
   * @default - undefined for age-based retention
   */
  public readonly maxCount?: number;

  /**
   * How long each artefact is kept, for age-based retention.
   *
   * @default - undefined for count-based retention
   */
  public readonly maxAge?: Duration;

  private constructor(count: number | undefined, age: Duration | undefined) {
    this.maxCount = count;
    this.maxAge = age;
  }

  /**
   * The value of the retention tag: `count:14` or `age:30d`.
   *
   * Written for cleanup scripts and auditors, who read it without the policy at hand.
   */
  public toTagValue(): string {
    if (this.maxCount !== undefined) {
      return Token.isUnresolved(this.maxCount) ? 'count' : `count:${this.maxCount}`;
    }
    const age = this.maxAge!;
    return age.isUnresolved() ? 'age' : `age:${age.toDays()}d`;
  }
}
