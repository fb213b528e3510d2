/**
 * Real-file-system harness for the Linux quiesce script (assets/scripts/ssm-fsfreeze-snapshot.sh):
 * loop-mounted ext4/xfs images, a local stub of the EC2 query API and of IMDSv2 that the real
 * AWS CLI talks to, and helpers to run the script and to probe whether writes block.
 *
 * Shared by test/ssm/fsfreeze-script.test.ts and bench/ssm.bench.ts. Needs root.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { URLSearchParams } from 'url';

export const SCRIPT = path.join(__dirname, '..', '..', 'assets', 'scripts', 'ssm-fsfreeze-snapshot.sh');
export const INSTANCE_ID = 'i-0123456789abcdef0';

/** True when this process can run the real-file-system tests (root, the tools, the AWS CLI). */
export function canRunFileSystemTests(): { ok: boolean; why?: string } {
  if (process.getuid?.() !== 0) {
    return { ok: false, why: 'not root' };
  }
  for (const tool of ['mkfs.ext4', 'mkfs.xfs', 'fsfreeze', 'losetup', 'mount', 'aws', 'flock', 'setsid', 'curl']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return { ok: false, why: `${tool} is not installed` };
    }
  }
  return { ok: true };
}

export type FsType = 'ext4' | 'xfs';

/** Loop-mounted file systems in a temp dir; `cleanup()` unmounts and detaches everything. */
export class LoopMounts {
  public readonly dir: string;
  public readonly mountPoints: string[] = [];
  /** The EBS volume id each mount's loop device stands for (same order as mountPoints). */
  public readonly volumeIds: string[] = [];
  /**
   * A stand-in for /dev/disk/by-id: udev's NVMe EBS names (`nvme-Amazon_Elastic_Block_Store_vol…`)
   * pointing at the loop devices, passed to the script as FSFREEZE_EBS_BY_ID_DIR.
   */
  public readonly byIdDir: string;
  /** The loop device of each mount (same order as mountPoints). */
  public readonly devices: string[] = [];
  private readonly loops: string[] = [];

  constructor(prefix = 'fsfreeze-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.byIdDir = path.join(this.dir, 'by-id');
    fs.mkdirSync(this.byIdDir);
  }

  /** Create and mount one file system; returns its mount point. */
  public add(type: FsType, ebs = true): string {
    const i = this.mountPoints.length;
    const image = path.join(this.dir, `vol${i}.img`);
    const mnt = path.join(this.dir, `mnt${i}`);
    fs.mkdirSync(mnt);
    // xfsprogs >= 5.19 refuses file systems below 300 MB; sparse files cost nothing
    execFileSync('truncate', ['-s', type === 'xfs' ? '320M' : '32M', image]);
    execFileSync(type === 'xfs' ? 'mkfs.xfs' : 'mkfs.ext4', type === 'xfs' ? ['-q', image] : ['-q', '-F', image]);
    const loop = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    this.loops.push(loop);
    this.devices.push(loop);
    execFileSync('mount', ['-t', type, loop, mnt]);
    this.mountPoints.push(mnt);
    const volumeId = `vol-0${(0xd000 + i).toString(16)}${'0'.repeat(12)}`;
    this.volumeIds.push(volumeId);
    if (!ebs) {
      return mnt;
    }
    // what udev creates for an NVMe EBS volume: the id without its dash, and a -part link we must ignore
    fs.symlinkSync(loop, path.join(this.byIdDir, `nvme-Amazon_Elastic_Block_Store_${volumeId.replace('-', '')}`));
    fs.symlinkSync(loop, path.join(this.byIdDir, `nvme-Amazon_Elastic_Block_Store_${volumeId.replace('-', '')}-part1`));
    return mnt;
  }

  public cleanup(): void {
    for (const mnt of [...this.mountPoints].reverse()) {
      try {
        execFileSync('fsfreeze', ['-u', mnt], { stdio: 'ignore' });
      } catch { /* not frozen */ }
      try {
        execFileSync('umount', [mnt], { stdio: 'ignore' });
      } catch { /* already gone */ }
    }
    for (const loop of this.loops) {
      try {
        execFileSync('losetup', ['-d', loop], { stdio: 'ignore' });
      } catch { /* already detached */ }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.mountPoints.length = 0;
    this.loops.length = 0;
  }
}

/** One CreateSnapshots request the stub received (the parsed EC2 query parameters). */
export interface StubCall {
  readonly params: Record<string, string>;
  readonly dryRun: boolean;
  readonly at: number;
  /** The volumes EC2 would snapshot for this request (InstanceSpecification applied). */
  readonly volumeIds: string[];
  /** The tags the request puts on its snapshots. */
  readonly tags: Record<string, string>;
  /** The HTTP status the stub answered with (undefined while pending or hanging). */
  status?: number;
}

/** What the stub does with a (non-dry-run) CreateSnapshots request. */
export type StubBehaviour =
  | { kind: 'succeed'; latencyMs: number }
  /** 500 InternalError, as EC2 answers a server-side failure. */
  | { kind: 'fail'; latencyMs: number }
  /** 503 RequestLimitExceeded, EC2's throttling answer. */
  | { kind: 'throttle'; latencyMs: number }
  | { kind: 'hang' };

export interface StubEc2 {
  readonly url: string;
  readonly calls: StubCall[];
  /** The instance's root volume (what ExcludeBootVolume leaves out). */
  rootVolume: string;
  /** The instance's data volume ids. */
  volumes: string[];
  behaviour: StubBehaviour;
  /**
   * IMDS `meta-data/block-device-mapping/` of a Xen instance (name -> device, e.g. ebs1 -> sdf);
   * none on Nitro, where EBS volumes are NVMe devices named by udev.
   */
  blockDeviceMapping: Record<string, string>;
  /** Behaviours for the next real calls, in order, before `behaviour` applies again. */
  queue: StubBehaviour[];
  /** Called when a real CreateSnapshots arrives, before the stub answers (probe the mounts here). */
  onCreate?: (call: StubCall) => Promise<void>;
  close(): Promise<void>;
}

export const STUB_CREDENTIALS = { AccessKeyId: 'ASIASTUBSTUBSTUBSTUB', SecretAccessKey: 'stub/secret', Token: 'stub-session-token' };

/**
 * A local stub of the EC2 query API (CreateSnapshots) and of IMDSv2, on 127.0.0.1. It answers as
 * EC2 does (API reference, "CreateSnapshots", "InstanceSpecification", "Error codes for the Amazon
 * EC2 API"): it checks the SigV4 signature and the session token, snapshots the instance's volumes
 * minus ExcludeBootVolume and ExcludeDataVolumeId.N (the root volume's id there fails the request),
 * answers DryRun with 412 DryRunOperation, failures with 500 InternalError and throttling with
 * 503 RequestLimitExceeded.
 */
export async function startStubEc2(tls?: { key: string; cert: string }): Promise<StubEc2> {
  const sockets = new Set<import('net').Socket>();
  const stub: StubEc2 = {
    url: '',
    calls: [],
    rootVolume: 'vol-0f000000000000001',
    volumes: ['vol-0aaaaaaaaaaaaaaa1'],
    behaviour: { kind: 'succeed', latencyMs: 0 },
    queue: [],
    blockDeviceMapping: {},
    close: async () => {
      for (const s of sockets) {
        s.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      void handle(stub, req, res, body);
    });
  };
  // with a key and certificate (for CN localhost): HTTPS on https://localhost:<port>, as EC2 answers
  const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  server.on(tls ? 'secureConnection' : 'connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (stub as { url: string }).url = `${tls ? 'https://localhost' : 'http://127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  return stub;
}

async function handle(stub: StubEc2, req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
  const url = req.url ?? '/';
  // IMDSv2
  if (url === '/latest/api/token' && req.method === 'PUT') {
    return send(res, 200, 'stub-imds-token', 'text/plain');
  }
  if (url.startsWith('/latest/')) {
    if (req.headers['x-aws-ec2-metadata-token'] !== 'stub-imds-token') {
      return send(res, 401, '', 'text/plain');
    }
    const meta: Record<string, string> = {
      '/latest/meta-data/instance-id': INSTANCE_ID,
      '/latest/meta-data/placement/region': 'us-east-1',
      '/latest/meta-data/services/domain': 'amazonaws.com',
      '/latest/meta-data/iam/security-credentials/': 'VssInstanceRole',
      '/latest/meta-data/iam/security-credentials/VssInstanceRole': JSON.stringify({
        Code: 'Success',
        Type: 'AWS-HMAC',
        ...STUB_CREDENTIALS,
        Expiration: '2099-01-01T00:00:00Z',
      }, null, 2),
    };
    if (Object.keys(stub.blockDeviceMapping).length > 0) {
      meta['/latest/meta-data/block-device-mapping/'] = Object.keys(stub.blockDeviceMapping).join('\n');
      for (const [name, device] of Object.entries(stub.blockDeviceMapping)) {
        meta[`/latest/meta-data/block-device-mapping/${name}`] = device;
      }
    }
    return meta[url] === undefined ? send(res, 404, '', 'text/plain') : send(res, 200, meta[url], 'text/plain');
  }
  // EC2 query API: signed with SigV4 and the session token, or AuthFailure
  const authError = checkSigV4(req, body);
  if (authError) {
    return send(res, 401, ec2Error('AuthFailure', authError), 'text/xml');
  }
  const params = Object.fromEntries(new URLSearchParams(body));
  if (params.Action !== 'CreateSnapshots') {
    return send(res, 400, ec2Error('InvalidAction', `stub does not implement ${params.Action}`), 'text/xml');
  }
  if (params['InstanceSpecification.InstanceId'] !== INSTANCE_ID) {
    return send(res, 400, ec2Error('InvalidInstanceID.NotFound', `The instance ID '${params['InstanceSpecification.InstanceId']}' does not exist`), 'text/xml');
  }
  const excluded = Object.entries(params).filter(([k]) => /^InstanceSpecification\.ExcludeDataVolumeId\.\d+$/.test(k)).map(([, v]) => v);
  if (excluded.includes(stub.rootVolume)) {
    // InstanceSpecification: "If you specify the ID of the root volume, the request fails."
    return send(res, 400, ec2Error('InvalidParameterValue', 'The root volume cannot be excluded with ExcludeDataVolumeIds: use ExcludeBootVolume'), 'text/xml');
  }
  const unknown = excluded.filter((v) => !stub.volumes.includes(v));
  if (unknown.length > 0) {
    return send(res, 400, ec2Error('InvalidVolume.NotFound', `The volume '${unknown[0]}' is not attached to ${INSTANCE_ID}`), 'text/xml');
  }
  if (excluded.length > 40) {
    return send(res, 400, ec2Error('InvalidParameterValue', 'ExcludeDataVolumeIds takes at most 40 volume ids'), 'text/xml');
  }
  const volumeIds = [...(params['InstanceSpecification.ExcludeBootVolume'] === 'true' ? [] : [stub.rootVolume]), ...stub.volumes.filter((v) => !excluded.includes(v))];
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const m = /^TagSpecification\.1\.Tag\.(\d+)\.Key$/.exec(k);
    if (m) {
      tags[v] = params[`TagSpecification.1.Tag.${m[1]}.Value`] ?? '';
    }
  }
  const call: StubCall = { params, dryRun: params.DryRun === 'true', at: performance.now(), volumeIds, tags };
  stub.calls.push(call);
  if (call.dryRun) {
    call.status = 412;
    return send(res, 412, ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.'), 'text/xml');
  }
  const behaviour = stub.queue.shift() ?? stub.behaviour;
  if (stub.onCreate) {
    await stub.onCreate(call);
  }
  if (behaviour.kind === 'hang') {
    return; // never answer; the socket is destroyed by close()
  }
  await sleep(behaviour.latencyMs);
  if (behaviour.kind === 'fail') {
    call.status = 500;
    return send(res, 500, ec2Error('InternalError', 'An internal error has occurred.'), 'text/xml');
  }
  if (behaviour.kind === 'throttle') {
    call.status = 503;
    return send(res, 503, ec2Error('RequestLimitExceeded', 'Request limit exceeded.'), 'text/xml');
  }
  call.status = 200;
  const tagSet = Object.entries(tags).map(([k, v]) => `<item><key>${k}</key><value>${v}</value></item>`).join('');
  const items = volumeIds.map((v, i) => `<item><snapshotId>snap-0${String(stub.calls.length * 100 + i).padStart(16, '0')}</snapshotId>` +
    `<tagSet>${tagSet}</tagSet><volumeId>${v}</volumeId><state>pending</state><startTime>2025-01-01T04:00:00.000Z</startTime>` +
    '<progress></progress><ownerId>123456789012</ownerId><volumeSize>8</volumeSize><encrypted>true</encrypted></item>').join('');
  return send(res, 200,
    `<CreateSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>stub</requestId><snapshotSet>${items}</snapshotSet></CreateSnapshotsResponse>`,
    'text/xml');
}

/** Back to a stub that answers at once with no call seen, for the instance's data volumes `volumes` (a test's beforeEach). */
export function resetStub(stub: StubEc2, volumes: string[]): void {
  stub.calls.length = 0;
  stub.onCreate = undefined;
  stub.queue = [];
  stub.blockDeviceMapping = {};
  stub.behaviour = { kind: 'succeed', latencyMs: 0 };
  stub.volumes = volumes;
}

/** Verifies a SigV4 header signature (the AWS General Reference's algorithm); returns the error or ''. */
function checkSigV4(req: http.IncomingMessage, body: string): string {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) {
    return `not a SigV4 Authorization header: '${auth}'`;
  }
  const [, accessKey, day, region, service, signedHeaders, signature] = m;
  if (accessKey !== STUB_CREDENTIALS.AccessKeyId || service !== 'ec2' || region !== 'us-east-1') {
    return `unexpected credential scope ${accessKey}/${region}/${service}`;
  }
  if (req.headers['x-amz-security-token'] !== STUB_CREDENTIALS.Token) {
    return 'the session token is missing (temporary credentials need X-Amz-Security-Token)';
  }
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-date']) {
    if (!names.includes(required)) {
      return `${required} is not signed`;
    }
  }
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const [pathPart, query = ''] = (req.url ?? '/').split('?');
  const hash = (x: string) => crypto.createHash('sha256').update(x, 'utf8').digest('hex');
  const canonical = [req.method, pathPart, query, canonicalHeaders, signedHeaders, hash(body)].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${day}/${region}/${service}/aws4_request`, hash(canonical)].join('\n');
  const hmac = (key: crypto.BinaryLike, x: string) => crypto.createHmac('sha256', key).update(x, 'utf8').digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${STUB_CREDENTIALS.SecretAccessKey}`, day), region), service), 'aws4_request');
  const expected = crypto.createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return expected === signature ? '' : 'The request signature we calculated does not match the signature you provided';
}

function ec2Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>stub</RequestID></Response>`;
}

function send(res: http.ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Debian's AWS CLI package installs here. */
export const DEBIAN_AWS_CLI = '/usr/bin/aws';

/** The kernel's switch for expedited RCU grace periods, system-wide (the bench and one dedicated test only). */
export const KERNEL_RCU_EXPEDITED = '/sys/kernel/rcu_expedited';

/**
 * The stand-in for /sys/kernel/rcu_expedited that scriptEnv() gives every run (beside its lock
 * file, holding `0` when first made): tests running in parallel never race on the kernel's setting.
 */
export function rcuExpeditedFile(lockFile: string): string {
  const file = path.join(path.dirname(lockFile), 'rcu_expedited');
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, '0\n');
  }
  return file;
}

/** The environment the document gives the script, pointed at the stub. */
export function scriptEnv(stub: StubEc2, mounts: string[], lockFile: string, byIdDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    // Debian's awscli (what the acceptance names, and what .ci/run installs) when present
    PATH: fs.existsSync(DEBIAN_AWS_CLI) ? `${path.dirname(DEBIAN_AWS_CLI)}:${process.env.PATH}` : process.env.PATH,
    HOME: process.env.HOME ?? '/root',
    LANG: 'C',
    FSFREEZE_MOUNT_POINTS: mounts.join(' '),
    FSFREEZE_TAG_SPECIFICATIONS: JSON.stringify([{ ResourceType: 'snapshot', Tags: [{ Key: 'backup:purpose', Value: 'linux-app-consistent' }, { Key: 'AppConsistent', Value: 'true' }] }]),
    FSFREEZE_WATCHDOG_SECONDS: '8',
    FSFREEZE_API_TIMEOUT_SECONDS: '4',
    FSFREEZE_LOCK_FILE: lockFile,
    FSFREEZE_IMDS_ENDPOINT: stub.url,
    // --endpoint-url works with every CLI (Debian's awscli 2.9 predates AWS_ENDPOINT_URL_EC2)
    FSFREEZE_EC2_ENDPOINT: stub.url,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    // the fake /dev/disk/by-id naming the loop devices as EBS volumes
    FSFREEZE_EBS_BY_ID_DIR: byIdDir,
    // not the kernel's setting: a file of the test's own
    FSFREEZE_RCU_EXPEDITED_FILE: rcuExpeditedFile(lockFile),
    // no AWS_MAX_ATTEMPTS or AWS_RETRY_MODE: the script must hold the CLI to one attempt itself
    ...extra,
  };
  return env;
}

export interface ScriptRun {
  readonly child: ChildProcess;
  readonly done: Promise<ScriptResult>;
}

export interface ScriptResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly events: Array<Record<string, any>>;
  readonly elapsedMs: number;
}

/** Start the script in its own process group (so a test can kill it like the SSM agent would). */
export function startScript(env: NodeJS.ProcessEnv): ScriptRun {
  const t0 = performance.now();
  const child = spawn('bash', process.env.DBG ? ['-x', SCRIPT] : [SCRIPT], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<ScriptResult>((resolve) => {
    child.on('close', (code, signal) => {
      const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      resolve({ code, signal, stdout, stderr, events, elapsedMs: performance.now() - t0 });
    });
  });
  return { child, done };
}

/**
 * Start a write of a small file with fsync on `mountPoint`; resolves with the time it took.
 * While the file system is frozen, the write blocks in the kernel until the thaw.
 */
export function startWrite(mountPoint: string, name = `probe-${process.hrtime.bigint()}`): { finished: () => boolean; done: Promise<number> } {
  const t0 = performance.now();
  let finished = false;
  const child = spawn('dd', ['if=/dev/zero', `of=${path.join(mountPoint, name)}`, 'bs=4k', 'count=1', 'conv=fsync', 'status=none']);
  const done = new Promise<number>((resolve, reject) => {
    child.on('close', (code) => {
      finished = true;
      if (code === 0) {
        resolve(performance.now() - t0);
      } else {
        reject(new Error(`dd on ${mountPoint} exited with ${code}`));
      }
    });
  });
  return { finished: () => finished, done };
}

/** True when `mountPoint` is frozen right now (a write does not finish within `ms`). */
export async function isFrozen(mountPoint: string, ms = 300): Promise<boolean> {
  const w = startWrite(mountPoint);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([w.done.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
  const frozen = !w.finished();
  if (frozen) {
    w.done.catch(() => undefined);
  }
  return frozen;
}

/** The pids of the direct children of a process (from /proc). */
export function childrenOf(pid: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      // stat: pid (comm) state ppid ...; comm may hold spaces and parentheses
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  }).map(Number);
}

/**
 * Fault-injecting shims, put first on the script's PATH; returns their directory (under `dir`).
 * They act only when a variable of theirs is set:
 * - `fsfreeze`: before a freeze, fails for the mount point FSFREEZE_SHIM_FAIL, touches
 *   FSFREEZE_SHIM_MARK, appends what FSFREEZE_RCU_EXPEDITED_FILE holds (`-` if it cannot be read) to
 *   FSFREEZE_SHIM_RCU_LOG (the setting at the moment of the FIFREEZE), sleeps FSFREEZE_SHIM_SLEEP seconds;
 * - `python3`: the same around the ioctl helper's FIFREEZE (a python3 that wraps fcntl.ioctl
 *   around the helper's code), or, with FSFREEZE_SHIM_PYTHON_BROKEN, a python3 that cannot run;
 * - `cat`: takes FSFREEZE_SHIM_SLOW_CAT seconds to read a request body (the background job that
 *   starts the CLI expands "$(cat body)" while it still holds the shell's end of the FIFO).
 */
export function installShims(dir: string): string {
  const shims = path.join(dir, 'shims');
  fs.mkdirSync(shims);
  const realFsfreeze = execFileSync('sh', ['-c', 'command -v fsfreeze'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(shims, 'fsfreeze'), [
    '#!/bin/bash',
    'if [ "$1" = -f ]; then',
    '  [ "$2" != "${FSFREEZE_SHIM_FAIL:-}" ] || exit 1',
    '  touch "${FSFREEZE_SHIM_MARK:-/dev/null}"',
    '  [ -z "${FSFREEZE_SHIM_RCU_LOG:-}" ] || { { read -r v <"$FSFREEZE_RCU_EXPEDITED_FILE"; } 2>/dev/null || v=-; echo "$v" >>"$FSFREEZE_SHIM_RCU_LOG"; }',
    '  sleep "${FSFREEZE_SHIM_SLEEP:-0}"',
    'fi',
    `exec ${realFsfreeze} "$@"`,
  ].join('\n'), { mode: 0o755 });
  const realPython = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(shims, 'python3'), [
    '#!/bin/bash',
    '[ -z "${FSFREEZE_SHIM_PYTHON_BROKEN:-}" ] || { echo "python3: broken" >&2; exit 127; }',
    `[ "$1" = -c ] || exec ${realPython} "$@"`,
    `exec ${realPython} -c '
import fcntl, os, sys, time
real_ioctl = fcntl.ioctl
def ioctl(fd, request, *rest):
    if request == 0xC0045877:
        if os.readlink("/proc/self/fd/%d" % fd) == os.environ.get("FSFREEZE_SHIM_FAIL"):
            raise OSError(16, "Device or resource busy")
        open(os.environ.get("FSFREEZE_SHIM_MARK", "/dev/null"), "a").close()
        if os.environ.get("FSFREEZE_SHIM_RCU_LOG"):
            try:
                with open(os.environ["FSFREEZE_RCU_EXPEDITED_FILE"]) as f:
                    value = f.read().strip()
            except OSError:
                value = "-"
            with open(os.environ["FSFREEZE_SHIM_RCU_LOG"], "a") as log:
                log.write(value + "\\n")
        time.sleep(float(os.environ.get("FSFREEZE_SHIM_SLEEP", "0")))
    return real_ioctl(fd, request, *rest)
fcntl.ioctl = ioctl
code = sys.argv[1]
sys.argv = ["-c"] + sys.argv[2:]
exec(compile(code, "<helper>", "exec"))
' "$2" "\${@:3}"`,
  ].join('\n'), { mode: 0o755 });
  const realCat = execFileSync('sh', ['-c', 'command -v cat'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(shims, 'cat'), [
    '#!/bin/bash',
    'case "${1:-}" in *body.json) sleep "${FSFREEZE_SHIM_SLOW_CAT:-0}" ;; esac',
    `exec ${realCat} "$@"`,
  ].join('\n'), { mode: 0o755 });
  return shims;
}
