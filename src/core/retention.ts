import { Duration, Fn, Token } from 'aws-cdk-lib';
import { A_TOKEN, FactoryProblem, recordFactoryProblems, throwFactoryProblems } from './validation';

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
   *
   * A bad count is reported by the construct that uses the retention, with its path and prop.
   */
  public static count(count: number): Retention {
    const problems: FactoryProblem[] = [];
    if (!Token.isUnresolved(count) && (!Number.isInteger(count) || count < 1 || count > 1000)) {
      problems.push(new FactoryProblem('Retention.count', 'count must be an integer between 1 and 1000', count,
        'keep between 1 and 1000 artefacts, or use Retention.age(Duration.days(n)) to keep them by age'));
    }
    return recordFactoryProblems(new Retention(count, undefined), problems);
  }

  /**
   * Keep each artefact for `age` after it was created (1 day to 100 years).
   *
   * A bad age is reported by the construct that uses the retention, with its path and prop.
   */
  public static age(age: Duration): Retention {
    const problems: FactoryProblem[] = [];
    if (!(age instanceof Duration)) {
      problems.push(new FactoryProblem('Retention.age', 'age must be a Duration', age, 'pass Duration.days(n)'));
    } else if (!age.isUnresolved()) {
      const days = age.toDays({ integral: false });
      if (!Number.isInteger(days) || days < 1 || days > 36500) {
        problems.push(new FactoryProblem('Retention.age', 'age must be a whole number of days between 1 and 36500 (100 years)', age,
          'pass Duration.days(n) with 1 <= n <= 36500'));
      }
    } else if (!convertsToDays(age)) {
      problems.push(new FactoryProblem('Retention.age', 'age must be given in days when it is a token (the services and the retention tag count whole days)',
        A_TOKEN, 'pass Duration.days(token)'));
    }
    return recordFactoryProblems(new Retention(undefined, age), problems);
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
   * Written for cleanup scripts and auditors, who read it without the policy at hand. A count or
   * an age known only at deploy time (a parameter) is rendered at deploy time
   * (`Fn::Join` of `count:` and the parameter), so the tag always carries the number.
   */
  public toTagValue(): string {
    throwFactoryProblems(this);
    if (this.maxCount !== undefined) {
      return Token.isUnresolved(this.maxCount)
        ? Fn.join('', ['count:', Token.asString(this.maxCount)])
        : `count:${this.maxCount}`;
    }
    const age = this.maxAge!;
    return age.isUnresolved()
      ? Fn.join('', ['age:', Token.asString(age.toDays()), 'd'])
      : `age:${age.toDays()}d`;
  }
}

function convertsToDays(age: Duration): boolean {
  try {
    age.toDays();
    return true;
  } catch {
    return false;
  }
}
