import * as fs from 'fs';
import * as path from 'path';

/** The quiesce script the document embeds (tested as root on real ext4 and xfs). */
export const FSFREEZE_SCRIPT = path.join(__dirname, '..', '..', 'assets', 'scripts', 'ssm-fsfreeze-snapshot.sh');

/** What the document bakes in for the script. */
export interface RunCommandOptions {
  readonly mountPoints: string[];
  readonly excludeBootVolume: boolean;
  readonly tagSpecifications: string;
  readonly description: string;
  /** The tag key that records the instance id on every snapshot at creation. */
  readonly sourceInstanceTagKey: string;
  readonly watchdogSeconds: number;
  readonly apiTimeoutSeconds: number;
  /** Set the kernel's rcu_expedited for the freezes (FSFREEZE_EXPEDITE_GRACE_PERIODS). */
  readonly expediteGracePeriods: boolean;
  readonly preFreezeCommand?: string;
  readonly postThawCommand?: string;
}

/**
 * The document's runCommand lines: the settings as environment variables, then the script on
 * a temp file run by bash (the agent runs runCommand with /bin/sh; the script needs bash).
 * Arbitrary pre/post commands travel base64-encoded, so no quoting or `{{ }}` can break them.
 */
export function renderRunCommand(o: RunCommandOptions): string[] {
  const script = fs.readFileSync(FSFREEZE_SCRIPT, 'utf8');
  if (script.includes('{{') || script.includes('CDK_EBS_BACKUP_FSFREEZE_EOF')) {
    throw new Error(`${FSFREEZE_SCRIPT} must not contain '{{' (SSM parameter syntax) or the heredoc delimiter`);
  }
  const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'utf8').toString('base64');
  return [
    `export FSFREEZE_MOUNT_POINTS='${o.mountPoints.join(' ')}'`,
    `export FSFREEZE_EXCLUDE_BOOT_VOLUME='${o.excludeBootVolume}'`,
    `export FSFREEZE_TAG_SPECIFICATIONS='${o.tagSpecifications}'`,
    `export FSFREEZE_DESCRIPTION='${o.description.replace(/'/g, '')}'`,
    `export FSFREEZE_SOURCE_INSTANCE_TAG_KEY='${o.sourceInstanceTagKey.replace(/'/g, '')}'`,
    `export FSFREEZE_WATCHDOG_SECONDS='${o.watchdogSeconds}'`,
    `export FSFREEZE_API_TIMEOUT_SECONDS='${o.apiTimeoutSeconds}'`,
    `export FSFREEZE_EXPEDITE_GRACE_PERIODS='${o.expediteGracePeriods}'`,
    `export FSFREEZE_PRE_COMMAND="$(echo '${b64(o.preFreezeCommand)}' | base64 -d)"`,
    `export FSFREEZE_POST_COMMAND="$(echo '${b64(o.postThawCommand)}' | base64 -d)"`,
    'script="$(mktemp)" || exit 1',
    'cat > "$script" <<\'CDK_EBS_BACKUP_FSFREEZE_EOF\'',
    ...script.replace(/\n$/, '').split('\n'),
    'CDK_EBS_BACKUP_FSFREEZE_EOF',
    'bash "$script" </dev/null',
    'rc=$?',
    'rm -f "$script"',
    'exit $rc',
  ];
}
