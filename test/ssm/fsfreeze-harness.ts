/**
 * Real-file-system harness for the Linux quiesce script (assets/scripts/ssm-fsfreeze-snapshot.sh):
 * loop-mounted ext4/xfs images, a local stub of the EC2 query API and of IMDSv2 that the real
 * AWS CLI talks to, and helpers to run the script and to probe whether writes block.
 *
 * Shared by test/ssm/fsfreeze-script.test.ts and bench/ssm.bench.ts. Needs root.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
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
  private readonly loops: string[] = [];

  constructor(prefix = 'fsfreeze-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  }

  /** Create and mount one file system; returns its mount point. */
  public add(type: FsType): string {
    const i = this.mountPoints.length;
    const image = path.join(this.dir, `vol${i}.img`);
    const mnt = path.join(this.dir, `mnt${i}`);
    fs.mkdirSync(mnt);
    // xfsprogs >= 5.19 refuses file systems below 300 MB; sparse files cost nothing
    execFileSync('truncate', ['-s', type === 'xfs' ? '320M' : '32M', image]);
    execFileSync(type === 'xfs' ? 'mkfs.xfs' : 'mkfs.ext4', type === 'xfs' ? ['-q', image] : ['-q', '-F', image]);
    const loop = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    this.loops.push(loop);
    execFileSync('mount', ['-t', type, loop, mnt]);
    this.mountPoints.push(mnt);
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
}

/** What the stub does with a (non-dry-run) CreateSnapshots request. */
export type StubBehaviour =
  | { kind: 'succeed'; latencyMs: number }
  | { kind: 'fail'; latencyMs: number }
  | { kind: 'hang' };

export interface StubEc2 {
  readonly url: string;
  readonly calls: StubCall[];
  /** Volume ids the stub reports for the instance. */
  volumes: string[];
  behaviour: StubBehaviour;
  /** Called when a real CreateSnapshots arrives, before the stub answers (probe the mounts here). */
  onCreate?: (call: StubCall) => Promise<void>;
  close(): Promise<void>;
}

/** A local stub of the EC2 query API (CreateSnapshots) and of IMDSv2, on 127.0.0.1. */
export async function startStubEc2(): Promise<StubEc2> {
  const sockets = new Set<import('net').Socket>();
  const stub: StubEc2 = {
    url: '',
    calls: [],
    volumes: ['vol-0aaaaaaaaaaaaaaa1'],
    behaviour: { kind: 'succeed', latencyMs: 0 },
    close: async () => {
      for (const s of sockets) {
        s.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      void handle(stub, req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (stub as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
      '/latest/meta-data/iam/security-credentials/': 'VssInstanceRole',
      '/latest/meta-data/iam/security-credentials/VssInstanceRole': JSON.stringify({
        Code: 'Success',
        Type: 'AWS-HMAC',
        AccessKeyId: 'ASIASTUBSTUBSTUBSTUB',
        SecretAccessKey: 'stub/secret',
        Token: 'stub-session-token',
        Expiration: '2099-01-01T00:00:00Z',
      }, null, 2),
    };
    return meta[url] === undefined ? send(res, 404, '', 'text/plain') : send(res, 200, meta[url], 'text/plain');
  }
  // EC2 query API
  const params = Object.fromEntries(new URLSearchParams(body));
  if (params.Action !== 'CreateSnapshots') {
    return send(res, 400, ec2Error('InvalidAction', `stub does not implement ${params.Action}`), 'text/xml');
  }
  const call: StubCall = { params, dryRun: params.DryRun === 'true', at: performance.now() };
  stub.calls.push(call);
  if (call.dryRun) {
    return send(res, 412, ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.'), 'text/xml');
  }
  const behaviour = stub.behaviour;
  if (stub.onCreate) {
    await stub.onCreate(call);
  }
  if (behaviour.kind === 'hang') {
    return; // never answer; the socket is destroyed by close()
  }
  await sleep(behaviour.latencyMs);
  if (behaviour.kind === 'fail') {
    return send(res, 503, ec2Error('InternalError', 'stub: an internal error occurred'), 'text/xml');
  }
  const items = stub.volumes.map((v, i) => `<item><snapshotId>snap-0${String(i).padStart(16, '0')}</snapshotId>` +
    `<volumeId>${v}</volumeId><state>pending</state><startTime>2025-01-01T04:00:00.000Z</startTime>` +
    '<progress></progress><ownerId>123456789012</ownerId><volumeSize>8</volumeSize><encrypted>true</encrypted></item>').join('');
  return send(res, 200,
    `<CreateSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>stub</requestId><snapshotSet>${items}</snapshotSet></CreateSnapshotsResponse>`,
    'text/xml');
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

/** The environment the document gives the script, pointed at the stub. */
export function scriptEnv(stub: StubEc2, mounts: string[], lockFile: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
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
    AWS_MAX_ATTEMPTS: '1',
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
