/**
 * The Run Command document a RestoreDrill runs on its scratch instance: mount every restored
 * volume read-only, then run the user's validation commands; any failing command fails the drill.
 */
import { Duration } from 'aws-cdk-lib';

/** The `mounts` parameter: `sdf:/data sdg:/data2`, device names as the drill attached them. */
export const MOUNTS_PATTERN = '^([a-z0-9]+:/[A-Za-z0-9._/-]*( [a-z0-9]+:/[A-Za-z0-9._/-]*)*)?$';

/**
 * The mount script. Amazon Linux's udev rules link `/dev/sdX` to the NVMe device EBS presents
 * on Nitro instances; the file system is mounted read-only without journal replay (ext4
 * `noload`, XFS `norecovery`), and XFS with `nouuid` because a restored root volume shares its
 * UUID with the scratch instance's own root.
 */
export const MOUNT_SCRIPT: readonly string[] = [
  'set -euo pipefail',
  'for pair in {{ mounts }}; do',
  '  dev="/dev/${pair%%:*}"; dir="${pair#*:}"',
  '  for i in $(seq 1 90); do [ -e "$dev" ] && break; sleep 2; done',
  '  [ -e "$dev" ] || { echo "restored volume $dev did not appear" >&2; exit 90; }',
  '  part=$(lsblk -nrbpo NAME,FSTYPE,SIZE "$(readlink -f "$dev")" | awk \'$2 != "" && $2 != "swap" {print $3, $1}\' | sort -n | tail -n1 | cut -d" " -f2)',
  '  [ -n "$part" ] || { echo "no file system found on $dev" >&2; exit 91; }',
  '  fstype=$(lsblk -nro FSTYPE "$part" | head -n1)',
  '  case "$fstype" in xfs) opts=ro,norecovery,nouuid ;; ext3|ext4) opts=ro,noload ;; *) opts=ro ;; esac',
  '  mkdir -p "$dir" && mount -t "$fstype" -o "$opts" "$part" "$dir"',
  '  echo "mounted $part ($fstype) read-only at $dir"',
  'done',
];

/** The document content (schema 2.2) with the validation commands after the mount script. */
export function validationDocument(commands: readonly string[], timeout: Duration): Record<string, unknown> {
  return {
    schemaVersion: '2.2',
    description: 'cdk-ebs-backup RestoreDrill: mount restored volumes read-only and run the validation commands',
    parameters: {
      mounts: {
        type: 'String',
        description: 'Restored volumes as device:mountpoint pairs separated by spaces (set by the drill)',
        default: '',
        allowedPattern: MOUNTS_PATTERN,
      },
    },
    mainSteps: [{
      action: 'aws:runShellScript',
      name: 'mountAndValidate',
      precondition: { StringEquals: ['platformType', 'Linux'] },
      inputs: {
        timeoutSeconds: String(timeout.toSeconds()),
        runCommand: [...MOUNT_SCRIPT, 'echo "running validation"', ...commands],
      },
    }],
  };
}
