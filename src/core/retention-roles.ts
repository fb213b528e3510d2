import { Lazy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

const ROLES = Symbol.for('cdk-ebs-backup.retentionRoles');

interface Registered {
  readonly role: iam.IRole;
  readonly reason: string;
}

/**
 * The roles that legitimately delete expired backups (DLM execution roles, AWS Backup service
 * roles, the pre-change expiry job) in an app.
 *
 * Every construct of this library that creates such a role registers it here; the write-once
 * guard reads the list lazily and exempts exactly these roles from its deny statements. Without
 * that exemption the deny (and above all an SCP) silently stops retention and snapshots pile up.
 */
export class RetentionRoles {
  /**
   * Register `role` as one that deletes expired backups for `construct`.
   */
  public static register(construct: IConstruct, role: iam.IRole, reason: string): void {
    const root = construct.node.root as unknown as { [ROLES]?: Registered[] };
    const list = (root[ROLES] ??= []);
    if (!list.some((r) => r.role === role)) {
      list.push({ role, reason });
    }
  }

  /** Every role registered in the app that holds `scope`, at the time of the call. */
  public static roles(scope: IConstruct): iam.IRole[] {
    return ((scope.node.root as unknown as { [ROLES]?: Registered[] })[ROLES] ?? []).map((r) => r.role);
  }

  /**
   * The ARNs of every registered role, resolved at synthesis, so that roles registered after the
   * caller was created are included.
   */
  public static lazyArns(scope: IConstruct): string[] {
    return Lazy.list({ produce: () => RetentionRoles.roles(scope).map((r) => r.roleArn) }, { omitEmpty: false });
  }
}
