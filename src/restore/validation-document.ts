/**
 * The Run Command document a RestoreDrill runs on its scratch instance: mount every restored
 * volume read-only, then run the user's validation commands; any failing command fails the drill.
 */
import { Duration } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct } from 'constructs';
import { checkDocumentSize } from '../core/document-size';
import { isUnresolved } from '../core/validation';

/**
 * The first line every validation prints. A Run Command step whose precondition does not hold
 * (the Linux step on a Windows instance) is skipped and the command still ends `Success`; the
 * drill passes only when the output also starts with `<marker>: <platform>`, i.e. a step really ran.
 */
export const VALIDATION_MARKER = 'cdk-ebs-backup-validation';

/** The `mounts` parameter: `sdf:/data sdg:/data2`, device names as the drill attached them. */
export const MOUNTS_PATTERN = '^([a-z0-9]+:/[A-Za-z0-9._/-]*( [a-z0-9]+:/[A-Za-z0-9._/-]*)*)?$';

/**
 * The most bytes the drill's `mounts` parameter takes at run time (Systems Manager counts it in
 * the document's 64 KB): at most 21 volumes (`sdf` to `sdz`), each `sdX:` and a mount point of at
 * most 204 characters (a 202-character `mountPoint` and a two-digit suffix; a mount-point tag is
 * used only up to 201), separated by spaces.
 */
export const MOUNTS_PARAMETER_MAX_BYTES = 21 * (4 + 204) + 20;

/**
 * Hold a validation document to Systems Manager's 64 KB, naming the user's `property` (the
 * commands, each a JSON string of the document's `runCommand`).
 */
export function checkValidationDocumentSize(
  scope: IConstruct, document: ssm.CfnDocument, property: string, commands: readonly string[], runtimeParameterBytes: number,
): void {
  const bytes = isUnresolved(commands) ? 0 : commands.reduce((sum, c) => sum + Buffer.byteLength(JSON.stringify(c), 'utf8') + 1, 0);
  checkDocumentSize(scope, document, {
    grownBy: [{ property, bytes }],
    runtimeParameters: runtimeParameterBytes > 0 ? { bytes: runtimeParameterBytes, why: 'mounts: up to 21 restored volumes as sdX:<mount point>' } : undefined,
    fix: `keep ${property} short: put the checks in a script (on the image, or fetched from S3) and run that`,
  });
}

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
  return commandDocument('mount restored volumes read-only and run the validation commands',
    'Restored volumes as device:mountpoint pairs separated by spaces (set by the drill)',
    { action: 'aws:runShellScript', name: 'mountAndValidate', platform: 'Linux', timeout },
    [MOUNT_SCRIPT[0], `echo "${VALIDATION_MARKER}: linux"`, ...MOUNT_SCRIPT.slice(1), 'echo "running validation"', ...commands]);
}

/**
 * The document for Windows AMIs (schema 2.2, `aws:runPowerShellScript`): the validation
 * commands in PowerShell with `$ErrorActionPreference = 'Stop'`, so that a failing cmdlet fails
 * the drill. A native program's exit code is not an error to Windows PowerShell 5.1: check
 * `$LASTEXITCODE` in the commands (`if ($LASTEXITCODE) { exit $LASTEXITCODE }`).
 */
export function windowsValidationDocument(commands: readonly string[], timeout: Duration): Record<string, unknown> {
  // the drill sends every document the same parameters; an AMI drill mounts nothing
  return commandDocument('run the PowerShell validation commands on a Windows AMI', 'Unused: an AMI drill restores no extra volumes',
    { action: 'aws:runPowerShellScript', name: 'validate', platform: 'Windows', timeout },
    ["$ErrorActionPreference = 'Stop'", `Write-Output '${VALIDATION_MARKER}: windows'`, ...commands]);
}

/**
 * A Command document of one step that runs only on `platform` (a step whose precondition does
 * not hold is skipped: see VALIDATION_MARKER), taking the `mounts` parameter the drill sends.
 */
function commandDocument(what: string, mountsDescription: string,
  step: { action: string; name: string; platform: string; timeout: Duration }, runCommand: string[]): Record<string, unknown> {
  return {
    schemaVersion: '2.2',
    description: `cdk-ebs-backup RestoreDrill: ${what}`,
    parameters: { mounts: { type: 'String', description: mountsDescription, default: '', allowedPattern: MOUNTS_PATTERN } },
    mainSteps: [{
      action: step.action,
      name: step.name,
      precondition: { StringEquals: ['platformType', step.platform] },
      inputs: { timeoutSeconds: String(step.timeout.toSeconds()), runCommand },
    }],
  };
}
