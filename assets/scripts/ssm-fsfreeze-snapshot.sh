#!/usr/bin/env bash
# cdk-ebs-backup: application-consistent multi-volume EBS snapshot of this instance on Linux.
#
# Embedded in the SSM Command document of FsfreezeMaintenanceWindow; tested as root on
# loop-mounted ext4 and xfs file systems (test/ssm/fsfreeze-script.test.ts).
#
#   1. everything slow or fallible happens BEFORE the pause: the lock, IMDSv2 identity and role
#      credentials, a dry-run CreateSnapshots (permissions, and warms the CLI), the pre command,
#      `sync` (so the freeze itself has little left to flush), and starting the CLI for the real
#      call, which then waits on a FIFO until the file systems are frozen;
#   2. a watchdog in its own session thaws every mount point after FSFREEZE_WATCHDOG_SECONDS,
#      even if this script is killed (SIGKILL included) or the API call hangs;
#   3. freeze the mount points (in parallel), release the CLI: CreateSnapshots ONCE for all volumes of the instance
#      (crash-consistent across volumes), thaw as soon as it returns (the point in time is set
#      when the call returns; the snapshots complete in the background);
#   4. thaw again on any exit (trap), run the post command, print one JSON line per event.
#
# Inputs (environment, set by the document from its parameters):
#   FSFREEZE_MOUNT_POINTS          space-separated mount points, e.g. "/data /var/lib/mysql"
#   FSFREEZE_EXCLUDE_BOOT_VOLUME   true|false (default false)
#   FSFREEZE_TAG_SPECIFICATIONS    JSON for --tag-specifications (default: none)
#   FSFREEZE_DESCRIPTION           snapshot description
#   FSFREEZE_WATCHDOG_SECONDS      upper bound of the I/O pause (default 30)
#   FSFREEZE_API_TIMEOUT_SECONDS   bound of the CreateSnapshots call (default watchdog - 5)
#   FSFREEZE_PRE_COMMAND           optional, run before the freeze (e.g. a database's backup mode)
#   FSFREEZE_POST_COMMAND          optional, run after the thaw (always, once the pre command ran)
#   FSFREEZE_LOCK_FILE             (default /run/cdk-ebs-backup-fsfreeze.lock)
#   FSFREEZE_IMDS_ENDPOINT         (default http://169.254.169.254)
#   FSFREEZE_EC2_ENDPOINT          optional EC2 endpoint URL (e.g. a FIPS endpoint); passed as
#                                  --endpoint-url, which every AWS CLI v1 and v2 honours (the
#                                  AWS_ENDPOINT_URL_EC2 variable needs CLI v2.13+ / v1.29+)
set -u
set -o pipefail

MOUNT_POINTS_RAW="${FSFREEZE_MOUNT_POINTS:-}"
EXCLUDE_BOOT="${FSFREEZE_EXCLUDE_BOOT_VOLUME:-false}"
TAG_SPECS="${FSFREEZE_TAG_SPECIFICATIONS:-}"
DESCRIPTION="${FSFREEZE_DESCRIPTION:-cdk-ebs-backup fsfreeze snapshot}"
WATCHDOG_SECONDS="${FSFREEZE_WATCHDOG_SECONDS:-30}"
API_TIMEOUT="${FSFREEZE_API_TIMEOUT_SECONDS:-$((WATCHDOG_SECONDS > 6 ? WATCHDOG_SECONDS - 5 : 1))}"
PRE_COMMAND="${FSFREEZE_PRE_COMMAND:-}"
POST_COMMAND="${FSFREEZE_POST_COMMAND:-}"
LOCK_FILE="${FSFREEZE_LOCK_FILE:-/run/cdk-ebs-backup-fsfreeze.lock}"
EC2_ENDPOINT="${FSFREEZE_EC2_ENDPOINT:-}"
IMDS="${FSFREEZE_IMDS_ENDPOINT:-http://169.254.169.254}"

FROZEN=()
WATCHDOG_PID=""
PRE_RAN=0
POST_RAN=0
FREEZE_START_NS=""
FROZEN_NS=""
API_PID=""
CLEANUP_WORK=""

now_ns() { date +%s%N; }

# One JSON line per event on stdout (the Run Command transcript and CloudWatch Logs).
log() {
  local event="$1"
  shift
  local extra=""
  local kv
  for kv in "$@"; do
    extra="${extra},\"${kv%%=*}\":${kv#*=}"
  done
  printf '{"event":"%s","time":"%s"%s}\n' "$event" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$extra"
}

json_string() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  printf '"%s"' "$s"
}

die() {
  log "error" "message=$(json_string "$1")"
  exit "${2:-1}"
}

thaw_all() {
  local m pids=() thawed_ns thaw_start_ns
  [ ${#FROZEN[@]} -gt 0 ] || return 0
  thaw_start_ns="$(now_ns)"
  for m in "${FROZEN[@]}"; do
    fsfreeze -u "$m" 2>/dev/null 8>&- 9>&- &
    pids+=($!)
  done
  wait "${pids[@]}" 2>/dev/null
  thawed_ns="$(now_ns)"
  # thawed is the one event a reviewer reads: how long writes were held
  [ -z "$FREEZE_START_NS" ] || log "thawed" "frozenMs=$(((thawed_ns - FREEZE_START_NS) / 1000000))" "mounts=${#FROZEN[@]}" \
    "freezeMs=$(((${FROZEN_NS:-$FREEZE_START_NS} - FREEZE_START_NS) / 1000000))" "thawMs=$(((thawed_ns - thaw_start_ns) / 1000000))"
  FROZEN=()
}

stop_watchdog() {
  if [ -n "$WATCHDOG_PID" ]; then
    # the watchdog leads its own session: end the whole group (its sleep holds the lock too)
    kill -TERM -- "-$WATCHDOG_PID" 2>/dev/null || true
    WATCHDOG_PID=""
  fi
}

run_post() {
  if [ "$PRE_RAN" = 1 ] && [ "$POST_RAN" = 0 ] && [ -n "$POST_COMMAND" ]; then
    POST_RAN=1
    if bash -c "$POST_COMMAND"; then
      log "post-command" "ok=true"
    else
      log "post-command" "ok=false"
      return 1
    fi
  fi
  return 0
}

on_exit() {
  local rc=$?
  trap - EXIT
  thaw_all
  stop_watchdog
  [ -z "$API_PID" ] || kill -TERM "$API_PID" 2>/dev/null
  [ -z "$CLEANUP_WORK" ] || rm -rf -- "$CLEANUP_WORK"
  run_post || true
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- validate the inputs -------------------------------------------------------------------
read -r -a REQUESTED <<<"$MOUNT_POINTS_RAW"
[ ${#REQUESTED[@]} -gt 0 ] || die "FSFREEZE_MOUNT_POINTS is empty: name at least one mount point"
[[ "$WATCHDOG_SECONDS" =~ ^[0-9]+$ ]] && [ "$WATCHDOG_SECONDS" -ge 2 ] || die "FSFREEZE_WATCHDOG_SECONDS must be an integer >= 2"
[[ "$API_TIMEOUT" =~ ^[0-9]+$ ]] && [ "$API_TIMEOUT" -ge 1 ] && [ "$API_TIMEOUT" -lt "$WATCHDOG_SECONDS" ] \
  || die "FSFREEZE_API_TIMEOUT_SECONDS must be an integer >= 1 and below the watchdog's $WATCHDOG_SECONDS s"
case "$EXCLUDE_BOOT" in true | false) ;; *) die "FSFREEZE_EXCLUDE_BOOT_VOLUME must be true or false" ;; esac
for cmd in fsfreeze flock setsid timeout curl aws; do
  command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' is not installed"
done

MOUNTS=()
for m in "${REQUESTED[@]}"; do
  m="$(realpath -e -- "$m" 2>/dev/null)" || die "mount point $m does not exist"
  [ "$m" != "/" ] || die "refusing to freeze / : the SSM agent, the AWS CLI and the watchdog write there"
  mountpoint -q -- "$m" || die "$m is not a mount point"
  for seen in "${MOUNTS[@]+"${MOUNTS[@]}"}"; do
    [ "$seen" != "$m" ] || continue 2
  done
  MOUNTS+=("$m")
done

# --- one run at a time: a second concurrent run must not double-freeze (or thaw the first's) ---
exec 9>>"$LOCK_FILE" || die "cannot open the lock file $LOCK_FILE"
flock -n 9 || die "another fsfreeze snapshot run holds $LOCK_FILE (or its watchdog is still armed); not freezing" 75

# --- identity and credentials BEFORE the pause (IMDSv2) ---------------------------------------
imds() {
  curl -sf --connect-timeout 2 --max-time 5 -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$IMDS/latest/$1"
}
IMDS_TOKEN="$(curl -sf --connect-timeout 2 --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS/latest/api/token")" \
  || die "cannot get an IMDSv2 token from $IMDS"
INSTANCE_ID="$(imds meta-data/instance-id)" || die "cannot read the instance id from IMDS"
[[ "$INSTANCE_ID" =~ ^i-[0-9a-f]+$ ]] || die "unexpected instance id '$INSTANCE_ID'"
if [ -z "${AWS_DEFAULT_REGION:-}" ]; then
  AWS_DEFAULT_REGION="$(imds meta-data/placement/region)" || die "cannot read the region from IMDS"
  export AWS_DEFAULT_REGION
fi
if [ -z "${AWS_ACCESS_KEY_ID:-}" ]; then
  ROLE="$(imds meta-data/iam/security-credentials/ | head -n 1)" || die "no instance profile role: attach window.instanceRole's instance profile"
  CREDS="$(imds "meta-data/iam/security-credentials/$ROLE")" || die "cannot read the credentials of role $ROLE"
  field() { printf '%s' "$CREDS" | tr -d '\n' | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"; }
  AWS_ACCESS_KEY_ID="$(field AccessKeyId)"
  AWS_SECRET_ACCESS_KEY="$(field SecretAccessKey)"
  AWS_SESSION_TOKEN="$(field Token)"
  [ -n "$AWS_ACCESS_KEY_ID" ] && [ -n "$AWS_SECRET_ACCESS_KEY" ] || die "the credentials of role $ROLE are incomplete"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
fi
log "identity" "instanceId=$(json_string "$INSTANCE_ID")" "region=$(json_string "$AWS_DEFAULT_REGION")" "mounts=${#MOUNTS[@]}"

CREATE_ARGS=(ec2 create-snapshots --output json --cli-connect-timeout 2 --cli-read-timeout "$API_TIMEOUT")
[ -z "$EC2_ENDPOINT" ] || CREATE_ARGS+=(--endpoint-url "$EC2_ENDPOINT")
CREATE_INPUT="{\"InstanceSpecification\":{\"InstanceId\":\"$INSTANCE_ID\",\"ExcludeBootVolume\":$EXCLUDE_BOOT},\"CopyTagsFromSource\":\"volume\"${TAG_SPECS:+,\"TagSpecifications\":$TAG_SPECS}}"

# Permissions and a warm CLI before the pause: DryRunOperation means the real call is allowed.
DRY="$(timeout --kill-after=2 "$API_TIMEOUT" aws "${CREATE_ARGS[@]}" --cli-input-json "$CREATE_INPUT" --description "$DESCRIPTION" --dry-run 2>&1 9>&-)"
case "$DRY" in
  *DryRunOperation*) log "dry-run" "ok=true" ;;
  *) die "CreateSnapshots dry run failed (no file system was frozen): $DRY" ;;
esac

# --- pre command, then flush outside the pause ------------------------------------------------
if [ -n "$PRE_COMMAND" ]; then
  PRE_RAN=1
  bash -c "$PRE_COMMAND" 9>&- || die "the pre command failed (no file system was frozen)"
  log "pre-command" "ok=true"
fi
sync

# --- the CLI starts BEFORE the pause and waits on a FIFO for its last parameter ---------------
# Starting the CLI (an interpreter, its libraries, the service model) takes far longer than the
# call itself; here it happens before the freeze, and the pause covers only the request. The CLI
# reads a file:// parameter once, while parsing, so it blocks on the FIFO until we write the
# description (--cli-input-json itself is read twice, so it cannot be the gate).
WORK="$(mktemp -d "$(dirname "$LOCK_FILE")/cdk-ebs-backup-fsfreeze.XXXXXX")" || die "cannot create a work directory"
CLEANUP_WORK="$WORK"
FIFO="$WORK/description"
mkfifo -m 600 "$FIFO" || die "cannot create the FIFO $FIFO"
exec 8<>"$FIFO" # held read-write: the CLI's open() returns at once, its read() waits for our data
aws "${CREATE_ARGS[@]}" --cli-input-json "$CREATE_INPUT" --description "file://$FIFO" >"$WORK/output" 2>&1 8>&- 9>&- &
API_PID=$!
ready=0
for ((i = 0; i < API_TIMEOUT * 20; i++)); do
  kill -0 "$API_PID" 2>/dev/null || break
  # ready once any process (the CLI, or its interpreter child) holds the FIFO open
  if [ -n "$(exec 8>&-; find /proc/[0-9]*/fd -maxdepth 1 -lname "$FIFO" 2>/dev/null | grep -v "^/proc/$$/")" ]; then
    ready=1
    break
  fi
  sleep 0.05
done
[ "$ready" = 1 ] || die "the AWS CLI did not get ready within ${API_TIMEOUT}s (no file system was frozen): $(cat "$WORK/output" 2>/dev/null)"

# --- the watchdog: thaws after the bound even if this script dies ---------------------------
WATCHDOG_LOG="${LOCK_FILE%.lock}.watchdog.log"
setsid bash -c '
  bound="$1"; shift
  sleep "$bound"
  for m in "$@"; do
    if fsfreeze -u "$m" 2>/dev/null; then
      printf "{\"event\":\"watchdog-thawed\",\"time\":\"%s\",\"mountPoint\":\"%s\"}\n" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$m"
    fi
  done
' fsfreeze-watchdog "$WATCHDOG_SECONDS" "${MOUNTS[@]}" </dev/null >>"$WATCHDOG_LOG" 2>&1 8>&- &
WATCHDOG_PID=$!

# --- the pause ----------------------------------------------------------------------------------
# all mount points at once, so the pause does not grow with their number
FREEZE_START_NS="$(now_ns)"
FREEZE_PIDS=()
for m in "${MOUNTS[@]}"; do
  fsfreeze -f "$m" 8>&- 9>&- &
  FREEZE_PIDS+=($!)
done
FREEZE_FAILED=""
for i in "${!MOUNTS[@]}"; do
  if wait "${FREEZE_PIDS[$i]}"; then
    FROZEN+=("${MOUNTS[$i]}")
  else
    FREEZE_FAILED="$FREEZE_FAILED ${MOUNTS[$i]}"
  fi
done
[ -z "$FREEZE_FAILED" ] || die "fsfreeze -f failed for$FREEZE_FAILED (already frozen by someone else, or not freezable)"
FROZEN_NS="$(now_ns)"
API_START_NS="$(now_ns)"
printf '%s' "$DESCRIPTION" >&8
exec 8>&- # EOF for the CLI: it sends the request now
(
  exec 9>&-
  sleep "$API_TIMEOUT"
  kill -TERM "$API_PID" 2>/dev/null && sleep 2 && kill -KILL "$API_PID" 2>/dev/null
) </dev/null >/dev/null 2>&1 &
KILLER_PID=$!
wait "$API_PID"
API_RC=$?
API_PID=""
API_MS=$((($(now_ns) - API_START_NS) / 1000000))
thaw_all
stop_watchdog
# -------------------------------------------------------------------------------------------------
kill "$KILLER_PID" 2>/dev/null
OUT="$(cat "$WORK/output")"

if [ "$API_RC" -ne 0 ]; then
  [ "$API_RC" -eq 143 ] || [ "$API_RC" -eq 137 ] && die "CreateSnapshots did not answer within ${API_TIMEOUT}s (thawed)" 124
  die "CreateSnapshots failed with exit code $API_RC (thawed): $OUT" "$API_RC"
fi
SNAPSHOTS="$(printf '%s' "$OUT" | tr -d '\n' | grep -o '"SnapshotId"[[:space:]]*:[[:space:]]*"snap-[0-9a-f]*"' | sed 's/.*"\(snap-[0-9a-f]*\)"/"\1"/' | paste -sd, -)"
log "snapshots" "apiMs=$API_MS" "snapshotIds=[${SNAPSHOTS}]"
run_post || exit 1
exit 0
