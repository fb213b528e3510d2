#!/usr/bin/env bash
# cdk-ebs-backup: application-consistent multi-volume EBS snapshot of this instance on Linux.
#
# Embedded in the SSM Command document of FsfreezeMaintenanceWindow; tested as root on
# loop-mounted ext4 and xfs file systems (test/ssm/fsfreeze-script.test.ts).
#
#   1. map every mount point to the EBS volumes under it (NVMe: /dev/disk/by-id/nvme-Amazon_
#      Elastic_Block_Store_vol…, through partitions and device-mapper; Xen: the IMDS block-device
#      mapping), refuse bind mounts and the root file system (by device and file-system root);
#   2. everything slow or fallible happens BEFORE the pause: the lock, IMDSv2 identity and role
#      credentials, the request body, a dry-run CreateSnapshots (permissions, and which client
#      works: curl --aws-sigv4 when the instance's curl signs, the AWS CLI otherwise), the pre
#      command, `sync`, and starting the client, which then waits on a FIFO;
#   3. a watchdog in its own session thaws every mount point after FSFREEZE_WATCHDOG_SECONDS,
#      even if this script is killed (SIGKILL included) or the API call hangs;
#   4. freeze the mount points, release the client: ONE CreateSnapshots attempt of
#      exactly the frozen volumes (ExcludeBootVolume, ExcludeDataVolumeIds for every other EBS
#      volume), tagged AppConsistent=true; thaw as soon as it returns. A throttled or 5xx answer
#      is retried only as a new freeze cycle; a timeout is never retried (the call may have landed);
#   5. the root volume, when asked for, is snapshotted after the thaw, labelled AppConsistent=false;
#   6. every exit path (error, signal, a freeze still in flight) thaws what it may have frozen;
#      the post command runs after the thaw; one JSON line per event.
#
# Expedited RCU grace periods: FIFREEZE (freeze_super) takes the superblock's three percpu
# rw-semaphores, and each down_write waits for an RCU grace period (rcu_sync_enter ->
# synchronize_rcu): 35-54 ms per freeze, 3-5 ms expedited. rcu_expedited is system-wide, so it is
# 1 only from just before the first FIFREEZE until the last one returns, then back to what it was
# (on every exit path too; a script killed mid-freeze: the watchdog puts it back at its bound).
#
# The freezer: where python3 runs on x86_64/arm64, one helper process started before the pause
# holds every mount point open and freezes/thaws them with ioctl(FIFREEZE/FITHAW) on command, so
# the pause costs no process start; it thaws on its own too (stdin closed, SIGTERM/SIGINT/SIGHUP,
# or the watchdog bound). Elsewhere one `fsfreeze` process per mount point, in parallel. The kernel
# does not thaw when a freezing process dies: a SIGKILLed helper is covered by the script's own
# thaw and by the watchdog. With curl and the helper (no proxy), the helper sends the request too:
# curl signs it before the pause (to the helper, on 127.0.0.1), the helper opens the connection to
# EC2 in advance, freezes, sends on the last FIFREEZE and thaws on the answer's status line; the
# `thawed` event then gives the pause's parts in µs (freeze, to the request, call, thaw).
#
# Inputs (environment, set by the document from its parameters):
#   FSFREEZE_MOUNT_POINTS          space-separated mount points, e.g. "/data /var/lib/mysql";
#                                  empty: every EBS-backed file system except the root one
#   FSFREEZE_EXCLUDE_BOOT_VOLUME   true|false (default true): false adds a crash-consistent
#                                  snapshot of the root volume, taken after the thaw
#   FSFREEZE_TAG_SPECIFICATIONS    JSON TagSpecifications of the snapshots (AppConsistent is set here)
#   FSFREEZE_DESCRIPTION           snapshot description
#   FSFREEZE_WATCHDOG_SECONDS      upper bound of the I/O pause (default 30)
#   FSFREEZE_API_TIMEOUT_SECONDS   bound of the CreateSnapshots call (default watchdog - 5)
#   FSFREEZE_FREEZE_CYCLES         freeze cycles for throttled / 5xx answers (default 3)
#   FSFREEZE_API_CLIENT            auto|curl|cli (default auto: curl when it signs, else the CLI)
#   FSFREEZE_FREEZER               auto|ioctl|fsfreeze (default auto: the python3 ioctl helper
#                                  when python3 runs on x86_64/arm64, else fsfreeze processes)
#   FSFREEZE_SOURCE_INSTANCE_TAG_KEY  optional tag key that records this instance's id on every
#                                  snapshot at creation (the restore drill groups by it)
#   FSFREEZE_PRE_COMMAND           optional, run before the freeze (e.g. a database's backup mode)
#   FSFREEZE_POST_COMMAND          optional, run after the thaw (always, once the pre command ran)
#   FSFREEZE_LOCK_FILE             (default /run/cdk-ebs-backup-fsfreeze.lock)
#   FSFREEZE_IMDS_ENDPOINT         (default http://169.254.169.254)
#   FSFREEZE_EC2_ENDPOINT          optional EC2 endpoint URL (e.g. a FIPS endpoint)
#   FSFREEZE_EBS_BY_ID_DIR         (default /dev/disk/by-id) where udev names NVMe EBS volumes
#   FSFREEZE_EXPEDITE_GRACE_PERIODS  true|false (default true): rcu_expedited=1 during the freezes
#   FSFREEZE_RCU_EXPEDITED_FILE    (default /sys/kernel/rcu_expedited) absent or read-only: normal
#                                  grace periods, said in the `expedite` event
set -u
set -o pipefail

MOUNT_POINTS_RAW="${FSFREEZE_MOUNT_POINTS:-}"
EXCLUDE_BOOT="${FSFREEZE_EXCLUDE_BOOT_VOLUME:-true}"
TAG_SPECS="${FSFREEZE_TAG_SPECIFICATIONS:-}"
DESCRIPTION="${FSFREEZE_DESCRIPTION:-cdk-ebs-backup fsfreeze snapshot}"
WATCHDOG_SECONDS="${FSFREEZE_WATCHDOG_SECONDS:-30}"
API_TIMEOUT="${FSFREEZE_API_TIMEOUT_SECONDS:-$((WATCHDOG_SECONDS > 6 ? WATCHDOG_SECONDS - 5 : 1))}"
CYCLES="${FSFREEZE_FREEZE_CYCLES:-3}"
CLIENT="${FSFREEZE_API_CLIENT:-auto}"
FREEZER="${FSFREEZE_FREEZER:-auto}"
SOURCE_TAG_KEY="${FSFREEZE_SOURCE_INSTANCE_TAG_KEY:-}"
PRE_COMMAND="${FSFREEZE_PRE_COMMAND:-}"
POST_COMMAND="${FSFREEZE_POST_COMMAND:-}"
LOCK_FILE="${FSFREEZE_LOCK_FILE:-/run/cdk-ebs-backup-fsfreeze.lock}"
EC2_ENDPOINT="${FSFREEZE_EC2_ENDPOINT:-}"
IMDS="${FSFREEZE_IMDS_ENDPOINT:-http://169.254.169.254}"
BY_ID="${FSFREEZE_EBS_BY_ID_DIR:-/dev/disk/by-id}"
EXPEDITE="${FSFREEZE_EXPEDITE_GRACE_PERIODS:-true}"
RCU_FILE="${FSFREEZE_RCU_EXPEDITED_FILE:-/sys/kernel/rcu_expedited}"

FROZEN=()
FREEZE_PIDS=()
FREEZE_STATE=()
WATCHDOG_PID=""
PRE_RAN=0
POST_RAN=0
FREEZE_START_US=""
FROZEN_US=""
API_PID=""
CLEANUP_WORK=""
HELPER_PID=""
HELPER_ASKED=0 # a freeze was asked of the helper and not yet confirmed thawed
HELPER_CALLING=0 # the helper is frozen and its request is in flight
SENDER=client # who sends the request inside the pause: the client process, or the helper
RCU_SAVED="" # rcu_expedited's value before the run, when the script sets it to 1 for the freezes
RCU_SET=0 # 1 from the write of 1 (or the freeze asked of the helper) until the value is put back
EXPEDITED=false # whether the freezes ran with expedited grace periods

# the clock without a fork inside the pause: bash 5's EPOCHREALTIME, date on older bash
if [ -n "${EPOCHREALTIME:-}" ]; then now_us() { local t="${EPOCHREALTIME/[.,]/}"; printf -v "$1" '%s' "$t"; }; else now_us() { printf -v "$1" '%s' "$(($(date +%s%N) / 1000))"; }; fi

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

json_array() {
  local out="" s
  for s in "$@"; do out="${out:+$out,}$(json_string "$s")"; done
  printf '[%s]' "$out"
}

die() {
  log "error" "message=$(json_string "$1")"
  exit "${2:-1}"
}

# Wait for freezes still in flight, so that none completes after its thaw.
settle_freezes() {
  local i
  for i in "${!FREEZE_PIDS[@]}"; do
    [ "${FREEZE_STATE[$i]}" = pending ] || continue
    if wait "${FREEZE_PIDS[$i]}" 2>/dev/null; then
      FREEZE_STATE[i]=frozen
    else
      # 127: reaped before a signal let us record it; thaw it to be safe
      [ $? -eq 127 ] && FREEZE_STATE[i]=unknown || FREEZE_STATE[i]=failed
    fi
  done
  FROZEN=()
  for i in "${!FREEZE_PIDS[@]}"; do
    [ "${FREEZE_STATE[$i]}" = failed ] || FROZEN+=("${MOUNTS[$i]}")
  done
}

# Asks the helper to thaw (it reads commands in order: a freeze still in flight completes, then
# thaws); sets THAWED_COUNT. Fails when the helper is gone or does not answer.
helper_thaw() {
  local reply
  trap '' PIPE
  if printf 'T\n' >&6 2>/dev/null; then
    while read -r -t "$WATCHDOG_SECONDS" -u 7 reply; do
      if [[ "$reply" == thawed\ * ]]; then
        trap - PIPE
        THAWED_COUNT="${reply#thawed }"
        return 0
      fi
    done
  fi
  trap - PIPE
  return 1
}

# The helper is gone (the kernel keeps its freezes): thaw every mount point it may have frozen.
thaw_without_helper() {
  local m pids=()
  log "helper-lost" "message=$(json_string "the freeze helper did not confirm the thaw of every mount point; thawing with fsfreeze -u")"
  for m in "${MOUNTS[@]}"; do
    fsfreeze -u "$m" 2>/dev/null 6>&- 7>&- 8>&- 9>&- &
    pids+=($!)
  done
  wait "${pids[@]}" 2>/dev/null
}

thaw_all() {
  local m pids=() thawed_us thaw_start_us
  THAWED_COUNT=0
  now_us thaw_start_us
  if [ "$HELPER_CALLING" = 1 ]; then
    # a signal mid-call: the helper thaws at once on SIGTERM (and exits 143)
    HELPER_CALLING=0
    HELPER_ASKED=0
    kill -TERM "$HELPER_PID" 2>/dev/null
    wait "$HELPER_PID" 2>/dev/null
    [ $? -eq 143 ] || thaw_without_helper
    HELPER_PID=""
    THAWED_COUNT=${#MOUNTS[@]}
  elif [ "$HELPER_ASKED" = 1 ]; then
    HELPER_ASKED=0
    if ! helper_thaw; then
      # the helper was killed or hangs
      thaw_without_helper
      THAWED_COUNT=${#MOUNTS[@]}
    fi
  else
    settle_freezes
    FREEZE_PIDS=()
    FREEZE_STATE=()
    [ ${#FROZEN[@]} -gt 0 ] || return 0
    if [ ${#FROZEN[@]} -eq 1 ]; then
      fsfreeze -u "${FROZEN[0]}" 2>/dev/null 6>&- 7>&- 8>&- 9>&-
    else
      for m in "${FROZEN[@]}"; do
        fsfreeze -u "$m" 2>/dev/null 6>&- 7>&- 8>&- 9>&- &
        pids+=($!)
      done
      wait "${pids[@]}" 2>/dev/null
    fi
    THAWED_COUNT=${#FROZEN[@]}
    FROZEN=()
  fi
  now_us thawed_us
  # thawed is the one event a reviewer reads: how long writes were held
  [ -z "$FREEZE_START_US" ] || log "thawed" "frozenMs=$(((thawed_us - FREEZE_START_US) / 1000))" "mounts=$THAWED_COUNT" \
    "freezeMs=$(((${FROZEN_US:-$thawed_us} - FREEZE_START_US) / 1000))" "thawMs=$(((thawed_us - thaw_start_us) / 1000))" "freezer=$(json_string "$FREEZER")" "expedited=$EXPEDITED"
  FREEZE_START_US=""
  FROZEN_US=""
}

# Puts rcu_expedited back (a builtin write: no fork inside the pause).
rcu_restore() {
  [ "$RCU_SET" = 1 ] || return 0
  RCU_SET=0
  { printf '%s\n' "$RCU_SAVED" >"$RCU_FILE"; } 2>/dev/null \
    || log "expedite-restore-failed" "file=$(json_string "$RCU_FILE")" "value=$(json_string "$RCU_SAVED")"
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
    if bash -c "$POST_COMMAND" 6>&- 7>&- 8>&- 9>&-; then
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
  trap '' INT TERM HUP
  thaw_all
  rcu_restore
  stop_watchdog
  # the helper exits when its commands end (nothing is frozen any more)
  [ -z "$HELPER_PID" ] || exec 6>&- 7<&-
  [ -z "$API_PID" ] || kill -TERM "$API_PID" 2>/dev/null
  [ -z "${KILLER_PID:-}" ] || kill "$KILLER_PID" 2>/dev/null
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
[[ "$WATCHDOG_SECONDS" =~ ^[0-9]+$ ]] && [ "$WATCHDOG_SECONDS" -ge 2 ] || die "FSFREEZE_WATCHDOG_SECONDS must be an integer >= 2"
[[ "$API_TIMEOUT" =~ ^[0-9]+$ ]] && [ "$API_TIMEOUT" -ge 1 ] && [ "$API_TIMEOUT" -lt "$WATCHDOG_SECONDS" ] \
  || die "FSFREEZE_API_TIMEOUT_SECONDS must be an integer >= 1 and below the watchdog's $WATCHDOG_SECONDS s"
[[ "$CYCLES" =~ ^[1-9]$ ]] || die "FSFREEZE_FREEZE_CYCLES must be an integer from 1 to 9"
case "$EXCLUDE_BOOT" in true | false) ;; *) die "FSFREEZE_EXCLUDE_BOOT_VOLUME must be true or false" ;; esac
case "$CLIENT" in auto | curl | cli) ;; *) die "FSFREEZE_API_CLIENT must be auto, curl or cli" ;; esac
case "$EXPEDITE" in true | false) ;; *) die "FSFREEZE_EXPEDITE_GRACE_PERIODS must be true or false" ;; esac
for cmd in fsfreeze flock setsid timeout curl mkfifo; do
  command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' is not installed"
done

# --- which EBS volume is under which block device ---------------------------------------------
declare -A DEV_VOL=() # kernel name (nvme1n1) -> vol-…
declare -A XEN_EBS=() # Xen: kernel names of EBS devices (IMDS gives no volume ids)
for link in "$BY_ID"/nvme-Amazon_Elastic_Block_Store_vol*; do
  [ -e "$link" ] || continue
  [[ "$(basename "$link")" =~ ^nvme-Amazon_Elastic_Block_Store_vol([0-9a-f]+)(_[0-9]+)?$ ]] || continue
  DEV_VOL["$(basename "$(readlink -f "$link")")"]="vol-${BASH_REMATCH[1]}"
done

# The whole disks under a device (major:minor), through partitions and device-mapper/md slaves.
leaf_disks() {
  local sys s
  sys="$(readlink -f "/sys/dev/block/$1" 2>/dev/null)" || return 0
  [ -d "$sys" ] || return 0
  if [ -d "$sys/slaves" ] && [ -n "$(ls -A "$sys/slaves" 2>/dev/null)" ]; then
    for s in "$sys"/slaves/*; do leaf_disks "$(cat "$s/dev")"; done
  elif [ -f "$sys/partition" ]; then
    basename "$(dirname "$sys")"
  else
    basename "$sys"
  fi
}

# mountinfo fields: id parent major:minor root mount-point options ... - fstype source superoptions
declare -A MNT_DEV=() MNT_ROOT=() MNT_TYPE=()
MNT_ORDER=()
while read -r _id _parent majmin fsroot mnt _rest; do
  mnt="$(printf '%b' "${mnt//\\/\\0}")" # octal escapes (\040 for a space)
  [ -n "${MNT_DEV[$mnt]+x}" ] || MNT_ORDER+=("$mnt")
  MNT_DEV["$mnt"]="$majmin" # the last line wins: the mount on top
  MNT_ROOT["$mnt"]="$(printf '%b' "${fsroot//\\/\\0}")"
  MNT_TYPE["$mnt"]="${_rest##* - }"
  MNT_TYPE["$mnt"]="${MNT_TYPE[$mnt]%% *}"
done </proc/self/mountinfo
ROOT_DEV="${MNT_DEV[/]:-}"
ROOT_DISKS=" $(leaf_disks "$ROOT_DEV" | tr '\n' ' ')"

MOUNTS=()
MOUNT_VOLS=() # per mount: its volume ids, space-separated
FROZEN_VOLS=" "
declare -A SEEN_DEV=()
# Checks one mount point; prints why it cannot be frozen, or nothing (and records it).
consider() {
  local m="$1" dev disks d vols="" why=""
  dev="${MNT_DEV[$m]:-}"
  [ -n "$dev" ] || { echo "$m is not a mount point"; return; }
  [ "${MNT_ROOT[$m]}" = "/" ] || { echo "$m is a bind mount (of ${MNT_ROOT[$m]} on device $dev): freeze the file system's own mount point"; return; }
  [ "$dev" != "$ROOT_DEV" ] || { echo "$m is the root file system (device $dev): the SSM agent, the client and the watchdog write there"; return; }
  [ -z "${SEEN_DEV[$dev]:-}" ] || return 0 # the same file system mounted twice: frozen once
  disks="$(leaf_disks "$dev")"
  [ -n "$disks" ] || { echo "$m (${MNT_TYPE[$m]}, device $dev) is not on a block device"; return; }
  for d in $disks; do
    [[ "$ROOT_DISKS" != *" $d "* ]] || { echo "$m is on the boot volume's disk $d: it is snapshotted with the root volume, which is never frozen"; return; }
    if [ -n "${DEV_VOL[$d]:-}" ]; then
      vols="$vols ${DEV_VOL[$d]}"
    elif [ -n "${XEN_EBS[$d]:-}" ]; then
      vols="$vols xen:$d"
    else
      why="$m is on $d, which is not an EBS volume of this instance"
    fi
  done
  [ -z "$why" ] || { echo "$why"; return; }
  SEEN_DEV["$dev"]=1
  MOUNTS+=("$m")
  MOUNT_VOLS+=("${vols# }")
  FROZEN_VOLS="$FROZEN_VOLS${vols# } "
}

# Xen instances name EBS devices only in IMDS (sdf -> xvdf), without volume ids.
xen_devices() {
  local name dev
  for name in $(imds meta-data/block-device-mapping/ 2>/dev/null); do
    [[ "$name" == ebs* || "$name" == root ]] || continue
    dev="$(imds "meta-data/block-device-mapping/$name" 2>/dev/null)" || continue
    dev="${dev#/dev/}"
    dev="${dev/#sd/xvd}"
    [ -e "/sys/class/block/$dev" ] && XEN_EBS["$dev"]=1
  done
}

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
# the description names the instance too: a drill in another account sees shared snapshots' descriptions, not their tags
DESCRIPTION="${DESCRIPTION:0:230} of $INSTANCE_ID"
[ -n "$EC2_ENDPOINT" ] || EC2_ENDPOINT="https://ec2.$AWS_DEFAULT_REGION.$(imds meta-data/services/domain || echo amazonaws.com)"
[ ${#DEV_VOL[@]} -gt 0 ] || xen_devices

# --- what to freeze -----------------------------------------------------------------------------
if [ ${#REQUESTED[@]} -gt 0 ]; then
  for m in "${REQUESTED[@]}"; do
    m="$(realpath -e -- "$m" 2>/dev/null)" || die "mount point $m does not exist"
    why="$(consider "$m")"
    [ -z "$why" ] || die "refusing to freeze: $why"
    consider "$m" >/dev/null
  done
else
  for m in "${MNT_ORDER[@]}"; do
    [ -n "$(consider "$m")" ] || consider "$m" >/dev/null
  done
  [ ${#MOUNTS[@]} -gt 0 ] || die "no EBS-backed file system besides / is mounted on this instance: nothing to freeze (set mountPoints)" 3
fi

# Every other EBS data volume of the instance is left out of the snapshot set by id.
EXCLUDED=()
for d in "${!DEV_VOL[@]}"; do
  v="${DEV_VOL[$d]}"
  [[ "$ROOT_DISKS" == *" $d "* || "$FROZEN_VOLS" == *" $v "* ]] && continue
  [[ " ${EXCLUDED[*]+${EXCLUDED[*]}} " == *" $v "* ]] || EXCLUDED+=("$v")
done
for d in "${!XEN_EBS[@]}"; do
  [[ "$ROOT_DISKS" == *" $d "* || "$FROZEN_VOLS" == *" xen:$d "* ]] && continue
  die "EBS volume $d is not frozen, and a Xen instance does not name its volume ids, so it cannot be left out of the snapshot: list every EBS data file system in mountPoints, or use a Nitro instance"
done
[ ${#EXCLUDED[@]} -le 40 ] || die "more than 40 unfrozen EBS data volumes: CreateSnapshots excludes at most 40"
ROOT_VOL=""
for d in $ROOT_DISKS; do ROOT_VOL="${DEV_VOL[$d]:-$ROOT_VOL}"; done
# shellcheck disable=SC2206
FROZEN_VOL_LIST=($FROZEN_VOLS)
log "identity" "instanceId=$(json_string "$INSTANCE_ID")" "region=$(json_string "$AWS_DEFAULT_REGION")" "mounts=$(json_array "${MOUNTS[@]}")" \
  "volumes=$(json_array "${FROZEN_VOL_LIST[@]}")" "excludedVolumes=$(json_array "${EXCLUDED[@]+"${EXCLUDED[@]}"}")"

# --- the request, built before the pause ---------------------------------------------------------
# The window's tags, without AppConsistent: this script alone says which snapshots are consistent.
TAG_KEYS=()
TAG_VALUES=()
if [ -n "$TAG_SPECS" ]; then
  flat="$(printf '%s' "$TAG_SPECS" | tr -d '\n')"
  str='"(([^"\\]|\\.)*)"'
  pairs="$(printf '%s' "$flat" | grep -oE "\"Key\"[[:space:]]*:[[:space:]]*$str[[:space:]]*,[[:space:]]*\"Value\"[[:space:]]*:[[:space:]]*$str")"
  [ "$(printf '%s' "$flat" | grep -o '"Key"' | wc -l)" -eq "$(printf '%s' "$pairs" | grep -c '"Key"')" ] \
    || die "FSFREEZE_TAG_SPECIFICATIONS must list tags as {\"Key\":…,\"Value\":…}"
  unescape() { local s="$1"; s="${s//\\\"/\"}"; s="${s//\\\//\/}"; printf '%s' "${s//\\\\/\\}"; }
  while IFS= read -r pair; do
    [ -n "$pair" ] || continue
    [[ "$pair" =~ ^\"Key\"[[:space:]]*:[[:space:]]*$str[[:space:]]*,[[:space:]]*\"Value\"[[:space:]]*:[[:space:]]*$str$ ]] || continue
    k="$(unescape "${BASH_REMATCH[1]}")"
    [ "$k" != AppConsistent ] && [ "$k" != "$SOURCE_TAG_KEY" ] || continue
    TAG_KEYS+=("$k")
    TAG_VALUES+=("$(unescape "${BASH_REMATCH[3]}")")
  done <<<"$pairs"
fi

urlencode() {
  local LC_ALL=C s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in [a-zA-Z0-9._~-]) out+="$c" ;; *) printf -v c '%%%02X' "'$c"; out+="$c" ;; esac
  done
  printf '%s' "$out"
}

# request_body <format query|json> <exclude-boot> <app-consistent> <volume ids to exclude...>
request_body() {
  local fmt="$1" boot="$2" consistent="$3" i n=0 q j tags=""
  shift 3
  q="Action=CreateSnapshots&Version=2016-11-15&InstanceSpecification.InstanceId=$INSTANCE_ID&InstanceSpecification.ExcludeBootVolume=$boot"
  q+="&CopyTagsFromSource=volume&Description=$(urlencode "$DESCRIPTION")&TagSpecification.1.ResourceType=snapshot"
  j="{\"InstanceSpecification\":{\"InstanceId\":\"$INSTANCE_ID\",\"ExcludeBootVolume\":$boot"
  [ $# -eq 0 ] || j+=",\"ExcludeDataVolumeIds\":$(json_array "$@")"
  j+="},\"CopyTagsFromSource\":\"volume\""
  for i in "$@"; do
    n=$((n + 1))
    q+="&InstanceSpecification.ExcludeDataVolumeId.$n=$i"
  done
  local keys=("${TAG_KEYS[@]+"${TAG_KEYS[@]}"}" AppConsistent) values=("${TAG_VALUES[@]+"${TAG_VALUES[@]}"}" "$consistent")
  # the source instance, recorded at creation (the restore drill groups one machine's snapshots by it)
  [ -z "$SOURCE_TAG_KEY" ] || { keys+=("$SOURCE_TAG_KEY"); values+=("$INSTANCE_ID"); }
  [ "$consistent" = true ] || { keys+=(RootVolume); values+=(true); }
  for i in "${!keys[@]}"; do
    q+="&TagSpecification.1.Tag.$((i + 1)).Key=$(urlencode "${keys[$i]}")&TagSpecification.1.Tag.$((i + 1)).Value=$(urlencode "${values[$i]}")"
    tags+="${tags:+,}{\"Key\":$(json_string "${keys[$i]}"),\"Value\":$(json_string "${values[$i]}")}"
  done
  j+=",\"TagSpecifications\":[{\"ResourceType\":\"snapshot\",\"Tags\":[$tags]}]}"
  [ "$fmt" = query ] && printf '%s' "$q" || printf '%s' "$j"
}

WORK="$(mktemp -d "$(dirname "$LOCK_FILE")/cdk-ebs-backup-fsfreeze.XXXXXX")" || die "cannot create a work directory"
CLEANUP_WORK="$WORK"
# the secret stays off the command line (other users can read /proc/*/cmdline)
(
  umask 077
  printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
  [ -z "${AWS_SESSION_TOKEN:-}" ] || printf 'header = "X-Amz-Security-Token: %s"\n' "$AWS_SESSION_TOKEN"
) >"$WORK/curl.conf"

# start_call <body> <description> <output>: starts ONE attempt in
# the background. curl: no --retry; the CLI: AWS_MAX_ATTEMPTS=1 (it retries throttling, 5xx and
# read timeouts by default, which inside the pause would land a call after the thaw).
start_call() {
  local body="$1" desc="$2" out="$3"
  if [ "$CLIENT" = curl ]; then
    curl -sS -K "$WORK/curl.conf" --aws-sigv4 "aws:amz:$AWS_DEFAULT_REGION:ec2" --connect-timeout 2 --max-time "$API_TIMEOUT" \
      -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' --data-binary "@$body" \
      -o "$out" -w '%{http_code}' "$EC2_ENDPOINT/" >"$out.status" 2>"$out.err" 6>&- 7>&- 8>&- 9>&- &
  else
    # the CLI reads --cli-input-json twice, a file:// parameter once: the description is the gate
    AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard aws ec2 create-snapshots --cli-connect-timeout 2 --cli-read-timeout "$API_TIMEOUT" \
      --endpoint-url "$EC2_ENDPOINT" --cli-input-json "$(cat "$body")" --description "file://$desc" \
      --query 'Snapshots[].[SnapshotId,VolumeId]' --output text >"$out" 2>"$out.err" 6>&- 7>&- 8>&- 9>&- &
  fi
  API_PID=$!
}

# The answer of the attempt that wrote <output>: sets CALL_OK, CALL_CODE (the EC2 error code),
# CALL_DETAIL, CALL_SNAPSHOTS ("snap vol" lines).
read_answer() {
  local out="$1" rc="$2" status
  CALL_OK=0 CALL_CODE="" CALL_DETAIL="" CALL_SNAPSHOTS=""
  if [ "$CLIENT" = curl ]; then
    status="$(cat "$out.status" 2>/dev/null)"
    if [ "$rc" -ne 0 ]; then
      CALL_CODE="curl-$rc"
      CALL_DETAIL="$(cat "$out.err" 2>/dev/null)"
      return
    fi
    if [ "$status" = 200 ]; then
      CALL_OK=1
      # one chunk per snapshot item (its tagSet holds nested items too): snapshotId, then its volumeId
      CALL_SNAPSHOTS="$(tr -d '\n' <"$out" | sed 's/<snapshotId>/\n<snapshotId>/g' |
        sed -n 's/^<snapshotId>\(snap-[0-9a-f]*\)<\/snapshotId>.*<volumeId>\(vol-[0-9a-f]*\)<\/volumeId>.*/\1 \2/p')"
      return
    fi
    CALL_CODE="$(sed -n 's/.*<Code>\([^<]*\)<\/Code>.*/\1/p' "$out" | head -n 1)"
    CALL_DETAIL="HTTP $status: $(sed -n 's/.*<Message>\([^<]*\)<\/Message>.*/\1/p' "$out" | head -n 1)"
  else
    if [ "$rc" -eq 0 ]; then
      CALL_OK=1
      CALL_SNAPSHOTS="$(tr '\t' ' ' <"$out")"
      return
    fi
    CALL_DETAIL="$(cat "$out.err" 2>/dev/null)"
    CALL_CODE="$(printf '%s' "$CALL_DETAIL" | sed -n 's/.*An error occurred (\([A-Za-z.]*\)).*/\1/p' | head -n 1)"
    case "$CALL_DETAIL" in
      *"Read timeout"*) CALL_CODE="read-timeout" ;;
      *"Could not connect"* | *"Connect timeout"*) CALL_CODE="${CALL_CODE:-connect-failed}" ;;
    esac
    [ -n "$CALL_CODE" ] || CALL_CODE="cli-$rc"
  fi
}

# Answers worth a new freeze cycle: EC2's throttling codes, its 5xx codes, and a request that
# never left (no connection). A timeout is not: the snapshots may exist already.
retryable() {
  case "$1" in
    RequestLimitExceeded | Throttling | ThrottlingException | RequestThrottled | RequestThrottledException | \
      InternalError | InternalFailure | ServiceUnavailable | Unavailable | curl-7 | connect-failed) return 0 ;;
  esac
  return 1
}

# --- permissions and the client, before the pause ----------------------------------------------
request_body query true true "${EXCLUDED[@]+"${EXCLUDED[@]}"}" >"$WORK/body.query"
request_body json true true "${EXCLUDED[@]+"${EXCLUDED[@]}"}" >"$WORK/body.json"
printf '%s' "$DESCRIPTION" >"$WORK/description"
dry_run() {
  if [ "$CLIENT" = curl ]; then
    printf '%s&DryRun=true' "$(cat "$WORK/body.query")" >"$WORK/dry.body"
  else
    sed 's/}$/,"DryRun":true}/' "$WORK/body.json" >"$WORK/dry.body"
  fi
  start_call "$WORK/dry.body" "$WORK/description" "$WORK/dry.out"
  wait "$API_PID"
  local rc=$?
  API_PID=""
  read_answer "$WORK/dry.out" "$rc"
  [ "$CALL_CODE" = DryRunOperation ]
}
if [ "$CLIENT" = auto ]; then
  CLIENT=cli
  if curl --help all 2>/dev/null | grep -q -- '--aws-sigv4'; then
    CLIENT=curl
    dry_run || { log "curl-fallback" "reason=$(json_string "${CALL_CODE:-?}: $CALL_DETAIL")"; CLIENT=cli; }
  fi
fi
if [ "$CLIENT" = cli ]; then
  command -v aws >/dev/null 2>&1 || die "required command 'aws' is not installed (this curl cannot sign requests)"
fi
dry_run || die "CreateSnapshots dry run failed (no file system was frozen): ${CALL_CODE}: $CALL_DETAIL"
log "dry-run" "ok=true" "client=$(json_string "$CLIENT")"
# what the gate FIFO receives inside the pause: curl's whole body, or the CLI's description
[ "$CLIENT" = curl ] && GATE_DATA="$(cat "$WORK/body.query")" || GATE_DATA="$DESCRIPTION"

# --- pre command, then flush outside the pause ------------------------------------------------
if [ -n "$PRE_COMMAND" ]; then
  PRE_RAN=1
  bash -c "$PRE_COMMAND" 9>&- || die "the pre command failed (no file system was frozen)"
  log "pre-command" "ok=true"
fi
sync

# --- expedited grace periods for the freezes (see the header), inside the lock ---------------------
if [ "$EXPEDITE" = false ]; then
  log "expedite" "expedited=false" "reason=\"turned off (expediteFreeze: false): the setting is left alone\""
elif [ ! -f "$RCU_FILE" ]; then
  log "expedite" "expedited=false" "reason=$(json_string "$RCU_FILE does not exist: normal grace periods")"
elif ! { read -r RCU_SAVED <"$RCU_FILE"; } 2>/dev/null || [[ ! "$RCU_SAVED" =~ ^[0-9]+$ ]]; then
  RCU_SAVED=""
  log "expedite" "expedited=false" "reason=$(json_string "$RCU_FILE does not hold a number: normal grace periods")"
elif [ "$RCU_SAVED" != 0 ]; then
  RCU_SAVED="" # expedited already: left alone
  EXPEDITED=true
  log "expedite" "expedited=true" "file=$(json_string "$RCU_FILE")" "reason=\"already set on this instance: left alone\""
elif ! { printf '0\n' >"$RCU_FILE"; } 2>/dev/null; then # writes what it holds: can it be written at all?
  RCU_SAVED=""
  log "expedite" "expedited=false" "reason=$(json_string "$RCU_FILE is not writable (a container, or not root): normal grace periods")"
else
  EXPEDITED=true
  log "expedite" "expedited=true" "file=$(json_string "$RCU_FILE")" "previous=0"
fi

# --- the freezer, started before the pause --------------------------------------------------------
# One process holds every mount point open and freezes/thaws on command: "F" freezes all (answers
# "frozen" or "failed <index>:<errno> ..."), "T" thaws what it froze ("thawed <count>"). It thaws
# by itself on SIGTERM/SIGINT/SIGHUP and at the watchdog bound; when its input closes (the script
# died) it keeps the freeze until that bound, as the watchdog does, so that a call still in flight
# cannot land after the thaw. FIFREEZE/FITHAW are _IOWR('X', 119, int) / _IOWR('X', 120, int)
# in the generic ioctl layout, which x86_64 and arm64 use (linux/fs.h, asm-generic/ioctl.h).
read -r -d '' HELPER_PY <<'FREEZER_PY'
import errno, fcntl, os, signal, socket, sys, threading, time
FIFREEZE, FITHAW = 0xC0045877, 0xC0045878
SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM}
bound = int(sys.argv[1])
sys.setswitchinterval(0.0005)  # the freeze threads hand the interpreter lock back within 0.5 ms, not 5
fds = [os.open(m, os.O_RDONLY | os.O_DIRECTORY) for m in sys.argv[2:]]
frozen = []
# rcu_expedited, opened now: 1 just before the first FIFREEZE, its value again once the last returns
rcu_saved = os.environ.get("FSFREEZE_HELPER_RCU_SAVED", "")
rcu = os.open(os.environ["FSFREEZE_RCU_EXPEDITED_FILE"], os.O_WRONLY) if rcu_saved else -1

def expedite(value):
    if rcu >= 0:
        try:
            os.pwrite(rcu, value.encode() + b"\n", 0)
        except OSError:
            pass  # the script puts it back too

def each(fn, indexes):
    # one thread per mount point (ioctl releases the GIL): the pause does not grow with their number
    threads = [threading.Thread(target=fn, args=(i,)) for i in indexes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

def thaw():
    thawed = []

    def one(i):
        try:
            fcntl.ioctl(fds[i], FITHAW, 0)
            thawed.append(i)
        except OSError:
            pass
    each(one, list(frozen))
    frozen.clear()
    signal.alarm(0)
    return len(thawed)

def on_signal(signum, _frame):
    thaw()
    os._exit(128 + signum)

def answer(text):
    try:
        os.write(1, (text + "\n").encode())
    except OSError:
        pass  # the script is gone: a freeze is kept until the bound, as the watchdog does

def freeze():
    # one thread per mount point, all started before the first FIFREEZE is issued
    signal.alarm(bound)
    failed = []
    frozen.extend(range(len(fds)))  # what may be frozen, before any freeze starts
    go = threading.Event()

    def one(i):
        go.wait()
        try:
            fcntl.ioctl(fds[i], FIFREEZE, 0)
        except OSError as e:
            failed.append("%d:%s" % (i, errno.errorcode.get(e.errno, e.errno)))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(fds))]
    for t in threads:
        t.start()
    expedite("1")
    start = time.time_ns() // 1000
    go.set()
    for t in threads:
        t.join()
    expedite(rcu_saved)
    for f in failed:
        frozen.remove(int(f.split(":")[0]))
    return failed, start

def us():
    return time.time_ns() // 1000

def prepared_thaw(indexes):
    # FITHAW takes a fraction of a millisecond: a few mount points are thawed in this thread, one
    # after the other; more, by threads started now (before the freeze) that wait for the answer.
    # Returns the thaw; it returns how many thawed.
    def one(i):
        try:
            fcntl.ioctl(fds[i], FITHAW, 0)
            return 1
        except OSError:
            return 0
    if len(indexes) <= 4:
        return lambda: sum(one(i) for i in indexes)
    go, thawed = threading.Event(), []

    def waiting(i):
        go.wait()
        thawed.append(one(i))
    threads = [threading.Thread(target=waiting, args=(i,), daemon=True) for i in indexes]
    for t in threads:
        t.start()

    def run():
        go.set()
        for t in threads:
            t.join()
        return sum(thawed)
    return run

# The request inside the pause, sent by this process: "C <url>" listens on 127.0.0.1 for the
# request curl signs (curl --aws-sigv4, connected here with --connect-to), answers curl, and opens
# the connection to <url> (DNS, TCP, TLS with the system CAs): all before the pause. "X <seconds>
# <output>" then freezes every mount point, sends the signed bytes as soon as the last FIFREEZE
# returns, and thaws on the status line of the answer. Without an answer (timeout, a reset) it
# does NOT thaw: the script thaws with "T" at once, or, if the script is gone, the bound does, so
# that a request EC2 may still process is covered as long as the watchdog's.
conn = None
request = b""

def capture(url):
    global conn, request
    import http.client, ssl, urllib.parse
    u = urllib.parse.urlsplit(url)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(10)
    answer("listening %d" % lsock.getsockname()[1])
    c, _ = lsock.accept()
    lsock.close()
    c.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk:
            raise OSError("the signing client closed before its request ended")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for h in head.split(b"\r\n")[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
        if k.strip().lower() == b"transfer-encoding" or k.strip().lower() == b"expect":
            raise OSError("unexpected header %r in the signed request" % k)
    while len(body) < length:
        chunk = c.recv(65536)
        if not chunk:
            raise OSError("the signing client closed before its body ended")
        body += chunk
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    c.close()
    request = head + b"\r\n\r\n" + body
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    conn = cls(u.hostname, u.port, timeout=2)
    conn.connect()

def call(seconds, output):
    global conn
    import http.client
    thaw_now = prepared_thaw(list(range(len(fds))))  # used only once every mount point froze
    failed, start = freeze()
    if failed:
        return "failed " + " ".join(failed)
    frozen_at = us()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)  # a signal now thaws at once
    sock = conn.sock
    sock.settimeout(seconds)
    try:
        sent = us()
        sock.sendall(request)
    except OSError as e:
        return "unsent %d %d %s" % (start, frozen_at, e)
    try:
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        first = us()
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        count = thaw_now()
        frozen.clear()
        signal.alarm(0)
        thawed = us()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
        data = resp.read()
    except socket.timeout:
        return "timeout %d %d %d" % (start, frozen_at, sent)
    except (OSError, http.client.HTTPException) as e:
        if frozen:
            return "lost %d %d %d %s" % (start, frozen_at, sent, ("%s" % e).replace("\n", " ") or type(e).__name__)
        data = b""
    finally:
        conn.close()
        conn = None
    with open(output, "wb") as f:
        f.write(data)
    with open(output + ".status", "w") as f:
        f.write("%d" % resp.status)
    return "called %d %d %d %d %d %d %d" % (resp.status, start, frozen_at, sent, first, thawed, count)

for s in SIGNALS:
    signal.signal(s, on_signal)
answer("ready")
stdin = os.fdopen(0, "rb", buffering=0)
for line in iter(stdin.readline, b""):
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    cmd = line.strip()
    if cmd == b"F":
        failed, _ = freeze()
        out = "failed " + " ".join(failed) if failed else "frozen"
    elif cmd.startswith(b"C "):
        try:
            capture(cmd[2:].decode())
            out = "armed"
        except Exception as e:
            out = "unarmed %s" % ("%s" % e).replace("\n", " ")
    elif cmd.startswith(b"X "):
        seconds, output = cmd.decode().split(" ", 2)[1:]
        out = call(int(seconds), output)
    elif cmd == b"T":
        out = "thawed %d" % thaw()
    else:
        out = "unknown command"
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    answer(out)
while frozen:
    signal.pause()
FREEZER_PY

start_helper() {
  local reply
  case "$(uname -m)" in x86_64 | aarch64) ;; *) HELPER_WHY="no FIFREEZE number for $(uname -m)"; return 1 ;; esac
  command -v python3 >/dev/null 2>&1 || { HELPER_WHY="python3 is not installed"; return 1; }
  mkfifo -m 600 "$WORK/helper.in" "$WORK/helper.out" || { HELPER_WHY="cannot create its FIFOs"; return 1; }
  FSFREEZE_RCU_EXPEDITED_FILE="$RCU_FILE" FSFREEZE_HELPER_RCU_SAVED="$RCU_SAVED" \
    python3 -c "$HELPER_PY" "$WATCHDOG_SECONDS" "${MOUNTS[@]}" <"$WORK/helper.in" >"$WORK/helper.out" 2>"$WORK/helper.err" 8>&- 9>&- &
  HELPER_PID=$!
  # read-write: this open does not wait for the helper; the helper's input ends only when the script's fd closes
  exec 6<>"$WORK/helper.in" 7<"$WORK/helper.out"
  if read -r -t 10 -u 7 reply && [ "$reply" = ready ]; then
    return 0
  fi
  HELPER_WHY="it did not start: $(head -c 300 "$WORK/helper.err" 2>/dev/null)"
  exec 6>&- 7<&-
  kill "$HELPER_PID" 2>/dev/null
  HELPER_PID=""
  return 1
}
HELPER_WHY=""
case "$FREEZER" in
  auto | ioctl)
    if start_helper; then
      FREEZER=ioctl
    else
      [ "$FREEZER" = auto ] || die "FSFREEZE_FREEZER=ioctl, but the freeze helper cannot run: $HELPER_WHY (no file system was frozen)"
      FREEZER=fsfreeze
      log "freezer-fallback" "reason=$(json_string "$HELPER_WHY")"
    fi
    ;;
  fsfreeze) ;;
  *) die "FSFREEZE_FREEZER must be auto, ioctl or fsfreeze" ;;
esac

# The helper sends the request itself where it can: curl signs it before the pause (sent to the
# helper on 127.0.0.1 with --connect-to, so its Host header and signature are those of the real
# endpoint) and the helper holds the connection to EC2 open, so the pause is the freezes, one
# request and response, and the thaws, in one process. Not through a proxy (curl would honour it).
ENDPOINT_HOSTPORT="${EC2_ENDPOINT#*://}"
ENDPOINT_HOSTPORT="${ENDPOINT_HOSTPORT%%/*}"
if [ "$FREEZER" = ioctl ] && [ "$CLIENT" = curl ] && [[ "$EC2_ENDPOINT" =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?/?$ ]] \
  && [ -z "${https_proxy:-}${HTTPS_PROXY:-}${http_proxy:-}${HTTP_PROXY:-}${all_proxy:-}${ALL_PROXY:-}" ]; then
  SENDER=helper
  [[ "$ENDPOINT_HOSTPORT" == *:* ]] && CAPTURE_TARGET="$ENDPOINT_HOSTPORT" || CAPTURE_TARGET="$ENDPOINT_HOSTPORT:80"
fi

# arm_helper: the signed request, captured by the helper, and its connection to EC2, opened
arm_helper() {
  local reply lport
  printf 'C %s\n' "$EC2_ENDPOINT" >&6
  read -r -t 15 -u 7 reply && [[ "$reply" == listening\ * ]] || die "the freeze helper did not listen for the request (no file system was frozen): $reply"
  lport="${reply#listening }"
  curl -sS -K "$WORK/curl.conf" --aws-sigv4 "aws:amz:$AWS_DEFAULT_REGION:ec2" --noproxy '*' --max-time 10 \
    --connect-to "$CAPTURE_TARGET:127.0.0.1:$lport" -H 'Expect:' \
    -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' --data-binary "@$WORK/body.query" \
    -o /dev/null "http://$ENDPOINT_HOSTPORT/" 2>"$OUT.err" 6>&- 7>&- 8>&- 9>&-
  read -r -t 15 -u 7 reply || reply="(no answer)"
  [ "$reply" = armed ] || die "the freeze helper could not prepare the request (no file system was frozen): $reply $(cat "$OUT.err" 2>/dev/null)"
}

# fifo_has_reader: reads /proc/<pid>/fd/<n> links to the FIFO on stdin; true when one of them was
# opened read-only (the access mode in /proc/<pid>/fdinfo/<n>: O_RDONLY is 0)
fifo_has_reader() {
  local link key value flags
  while read -r link; do
    flags=""
    while read -r key value; do
      [ "$key" != flags: ] || flags="$value"
    done <"${link%/fd/*}/fdinfo/${link##*/}" 2>/dev/null
    [ -z "$flags" ] || (((8#$flags & 3) != 0)) || return 0
  done
  return 1
}

# --- freeze cycles -----------------------------------------------------------------------------
WATCHDOG_LOG="${LOCK_FILE%.lock}.watchdog.log"
FIFO="$WORK/request"
mkfifo -m 600 "$FIFO" || die "cannot create the FIFO $FIFO"
for ((cycle = 1; ; cycle++)); do
  # The client starts BEFORE the pause and blocks reading its request body from the FIFO (curl
  # reads @file, the CLI file:// parameters, while parsing its arguments, before any connection).
  OUT="$WORK/answer.$cycle"
  ready=0
  if [ "$SENDER" = helper ]; then
    arm_helper
    ready=1
  else
    exec 8<>"$FIFO" # held read-write: the client's open() returns at once, its read() waits for data
    [ "$CLIENT" = curl ] && start_call "$FIFO" - "$OUT" || start_call "$WORK/body.json" "$FIFO" "$OUT"
  fi
  for ((i = 0; ready == 0 && i < API_TIMEOUT * 20; i++)); do
    kill -0 "$API_PID" 2>/dev/null || break
    # ready once a process (the client, or its interpreter child) has opened the FIFO for reading:
    # read-only, not the read-write end this shell holds, which the job starting the client inherits
    # until it execs (it holds it while it expands the client's arguments; taken for the client, the
    # pause would begin, and the client's later open() would wait for a writer that is gone)
    if (exec 8>&-; find /proc/[0-9]*/fd -maxdepth 1 -lname "$FIFO" 2>/dev/null || true) | fifo_has_reader; then
      ready=1
      break
    fi
    sleep 0.02
  done
  [ "$ready" = 1 ] || die "the $CLIENT client did not get ready within ${API_TIMEOUT}s (no file system was frozen): $(cat "$OUT.err" 2>/dev/null)"

  # the watchdog: thaws after the bound even if this script dies
  setsid bash -c '
    bound="$1" rcu="$2" saved="$3"; shift 3
    sleep "$bound"
    for m in "$@"; do
      if fsfreeze -u "$m" 2>/dev/null; then
        printf "{\"event\":\"watchdog-thawed\",\"time\":\"%s\",\"mountPoint\":\"%s\"}\n" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$m"
      fi
    done
    # a script killed mid-freeze left rcu_expedited at 1
    if [ -n "$saved" ] && [ "$(cat "$rcu" 2>/dev/null)" != "$saved" ] && { printf "%s\n" "$saved" >"$rcu"; } 2>/dev/null; then
      printf "{\"event\":\"watchdog-restored-rcu-expedited\",\"time\":\"%s\",\"value\":\"%s\"}\n" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$saved"
    fi
  ' fsfreeze-watchdog "$WATCHDOG_SECONDS" "$RCU_FILE" "$RCU_SAVED" "${MOUNTS[@]}" </dev/null >>"$WATCHDOG_LOG" 2>&1 6>&- 7>&- 8>&- &
  WATCHDOG_PID=$!

  # cuts the call off at the API timeout (armed now: no fork inside the pause); the helper has its own
  if [ "$SENDER" = client ]; then
    (
      exec 6>&- 7>&- 9>&-
      sleep "$API_TIMEOUT"
      kill -TERM "$API_PID" 2>/dev/null && sleep 2 && kill -KILL "$API_PID" 2>/dev/null
    ) </dev/null >/dev/null 2>&1 8>&- &
    KILLER_PID=$!
  fi

  # --- the pause: only builtins, the freezes, the request and the thaws ------------------------
  now_us FREEZE_START_US
  FREEZE_FAILED=""
  [ -z "$RCU_SAVED" ] || RCU_SET=1 # the helper sets it around its FIFREEZEs; the script puts it back too
  if [ "$SENDER" = helper ]; then
    HELPER_ASKED=1
    HELPER_CALLING=1
    printf 'X %s %s\n' "$API_TIMEOUT" "$OUT" >&6
    read -r -t "$WATCHDOG_SECONDS" -u 7 reply || reply=""
    HELPER_CALLING=0
    read -r kind a1 a2 a3 a4 a5 a6 a7 <<<"$reply"
    API_RC=0
    case "$kind" in
      called)
        # the helper thawed on the answer's status line: its clock, the pause as the kernel saw it
        HELPER_ASKED=0
        API_MS=$(((a5 - a4) / 1000))
        log "thawed" "frozenMs=$(((a6 - a2) / 1000))" "mounts=$a7" "freezeMs=$(((a3 - a2) / 1000))" "thawMs=$(((a6 - a5) / 1000))" \
          "freezeUs=$((a3 - a2))" "requestAfterFreezeUs=$((a4 - a3))" "callUs=$((a5 - a4))" "thawUs=$((a6 - a5))" \
          "freezer=$(json_string "$FREEZER")" "requestBy=\"helper\"" "expedited=$EXPEDITED"
        FREEZE_START_US=""
        # a FITHAW that failed must not leave a mount frozen once the watchdog is stopped
        [ "$a7" = "${#MOUNTS[@]}" ] || thaw_without_helper
        ;;
      failed) for f in ${reply#failed }; do FREEZE_FAILED="$FREEZE_FAILED ${MOUNTS[${f%%:*}]} (${f#*:})"; done ;;
      unsent) API_RC=7 && printf '%s' "${reply#* * * }" >"$OUT.err" ;; # the request never left: a new cycle may retry
      timeout) API_RC=28 && printf 'no answer within %s s' "$API_TIMEOUT" >"$OUT.err" ;;
      lost) API_RC=56 && printf '%s' "${reply#* * * * }" >"$OUT.err" ;; # sent, the answer lost: not retried
      *)
        # the helper died mid-call: the request may still be processed, so the freeze is held
        # (the kernel keeps it) until the API timeout, then thawed and the run fails unretried
        now_us now
        wait_us=$((FREEZE_START_US + API_TIMEOUT * 1000000 - now))
        [ "$wait_us" -le 0 ] || sleep "$((wait_us / 1000000)).$(printf '%06d' $((wait_us % 1000000)))"
        API_RC=56 && printf 'the freeze helper was lost during the call' >"$OUT.err"
        ;;
    esac
    FROZEN_US="$FREEZE_START_US"
  elif [ "$FREEZER" = ioctl ]; then
    HELPER_ASKED=1
    printf 'F\n' >&6
    read -r -t "$WATCHDOG_SECONDS" -u 7 reply || reply="(the freeze helper did not answer)"
    now_us FROZEN_US
    case "$reply" in
      frozen) ;;
      failed\ *) for f in ${reply#failed }; do FREEZE_FAILED="$FREEZE_FAILED ${MOUNTS[${f%%:*}]} (${f#*:})"; done ;;
      *) FREEZE_FAILED=" every mount point $reply" ;;
    esac
  else
    # all mount points at once, so the pause does not grow with their number
    [ -z "$RCU_SAVED" ] || { printf '1\n' >"$RCU_FILE"; } 2>/dev/null
    for m in "${MOUNTS[@]}"; do
      FREEZE_STATE+=(pending)
      fsfreeze -f "$m" 6>&- 7>&- 8>&- 9>&- &
      FREEZE_PIDS+=($!)
    done
    settle_freezes
    rcu_restore
    now_us FROZEN_US
    for i in "${!MOUNTS[@]}"; do
      [ "${FREEZE_STATE[$i]}" != failed ] || FREEZE_FAILED="$FREEZE_FAILED ${MOUNTS[$i]}"
    done
  fi
  [ -z "$FREEZE_FAILED" ] || die "the freeze failed for$FREEZE_FAILED (already frozen by someone else, or not freezable)"
  if [ "$SENDER" = client ]; then
    now_us API_START_US
    printf '%s' "$GATE_DATA" >&8
    exec 8>&- # EOF for the client: it sends the request now
    wait "$API_PID"
    API_RC=$?
    API_PID=""
    now_us API_END_US
    API_MS=$(((API_END_US - API_START_US) / 1000))
  fi
  thaw_all
  rcu_restore
  stop_watchdog
  # -------------------------------------------------------------------------------------------------
  [ -z "${KILLER_PID:-}" ] || kill "$KILLER_PID" 2>/dev/null
  read_answer "$OUT" "$API_RC"
  [ "$CALL_OK" = 1 ] && break
  if [ "$API_RC" -eq 143 ] || [ "$API_RC" -eq 137 ] || [ "$CALL_CODE" = curl-28 ] || [ "$CALL_CODE" = read-timeout ]; then
    die "CreateSnapshots did not answer within ${API_TIMEOUT}s (thawed; not retried: the snapshots may exist)" 124
  fi
  if retryable "$CALL_CODE" && [ "$cycle" -lt "$CYCLES" ]; then
    backoff=$((2 ** (cycle - 1)))
    log "retry" "cycle=$cycle" "code=$(json_string "$CALL_CODE")" "backoffSeconds=$backoff"
    sleep "$backoff"
    continue
  fi
  die "CreateSnapshots failed (thawed): ${CALL_CODE}: $CALL_DETAIL"
done

SNAPSHOT_IDS=()
UNFROZEN=""
while read -r sid vid; do
  [ -n "$sid" ] || continue
  SNAPSHOT_IDS+=("$sid")
  [[ -z "$vid" || "$FROZEN_VOLS" == *" $vid "* || "$FROZEN_VOLS" == *" xen:"* ]] || UNFROZEN="$UNFROZEN $vid"
done <<<"$CALL_SNAPSHOTS"
log "snapshots" "apiMs=$API_MS" "cycles=$cycle" "client=$(json_string "$CLIENT")" "freezer=$(json_string "$FREEZER")" "requestBy=$(json_string "$SENDER")" "snapshotIds=$(json_array "${SNAPSHOT_IDS[@]+"${SNAPSHOT_IDS[@]}"}")"
[ -z "$UNFROZEN" ] || die "EC2 snapshotted volumes that were not frozen:$UNFROZEN"

# --- the root volume, when asked for: after the thaw, crash-consistent and labelled so ---------
if [ "$EXCLUDE_BOOT" = false ]; then
  [ ${#XEN_EBS[@]} -eq 0 ] || die "a Xen instance does not name its volume ids: the root volume cannot be snapshotted alone"
  others=("${EXCLUDED[@]+"${EXCLUDED[@]}"}" "${FROZEN_VOL_LIST[@]}")
  [ "$CLIENT" = curl ] && fmt=query || fmt=json
  request_body "$fmt" false false "${others[@]}" >"$WORK/root.body"
  start_call "$WORK/root.body" "$WORK/description" "$WORK/root.out"
  wait "$API_PID"
  rc=$?
  API_PID=""
  read_answer "$WORK/root.out" "$rc"
  [ "$CALL_OK" = 1 ] || die "the root volume's snapshot failed: ${CALL_CODE}: $CALL_DETAIL"
  log "root-snapshot" "appConsistent=false" "snapshotIds=$(json_array $(printf '%s\n' "$CALL_SNAPSHOTS" | cut -d' ' -f1))"
fi
run_post || exit 1
exit 0
