import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { renderRunCommand } from './fsfreeze-document';
import { SnapshotMaintenanceWindowBase, SnapshotMaintenanceWindowProps } from './window-base';
import { checkDocumentSize } from '../core/document-size';
import { sourceInstanceTagKey } from '../core/source-instance';
import { BackupTagging } from '../core/tagging';
import { check, checkCount, checkDuration, fail, isUnresolved } from '../core/validation';

/** The seconds between the API call's timeout and the watchdog's thaw. */
const WATCHDOG_MARGIN_SECONDS = 5;

/**
 * Properties of an `FsfreezeMaintenanceWindow`.
 */
export interface FsfreezeMaintenanceWindowProps extends SnapshotMaintenanceWindowProps {
  /**
   * The mount points to freeze, each the mount of a whole file system on EBS volumes (never `/`,
   * a bind mount, or a file system on the boot volume: the script refuses them on the instance).
   * Exactly the EBS volumes under them are snapshotted, in one call, tagged `AppConsistent=true`;
   * the instance's other EBS data volumes are left out.
   *
   * @default - every EBS-backed file system mounted on the instance except the root one; an
   * instance with none fails its run (and raises `failedRunsAlarm`)
   */
  readonly mountPoints?: string[];

  /**
   * Leave the boot volume out. The root file system is never frozen, so a root snapshot asked
   * for (`false`) is taken right after the thaw and labelled `AppConsistent=false`.
   *
   * @default true
   */
  readonly excludeBootVolume?: boolean;

  /**
   * The longest I/O pause: the watchdog thaws the file systems after this, even if the API call
   * hangs or the script is killed. The API call itself is cut off 5 seconds earlier.
   *
   * @default Duration.seconds(20)
   */
  readonly maxFreeze?: Duration;

  /**
   * Expedite the RCU grace periods the kernel waits for inside each freeze.
   *
   * Freezing a file system (`FIFREEZE`, the kernel's `freeze_super`) takes the superblock's three
   * per-CPU rw-semaphores, and each waits for an RCU grace period: measured on a 2-vCPU machine
   * with a writer on the mount, 35-54 ms per freeze on ext4 and xfs, 3-5 ms with
   * `/sys/kernel/rcu_expedited` set to 1 (both vary more under CPU load). The script sets it only from just before the first freeze
   * until the last one returns, then puts back the value it found (on every exit path; if the
   * script is killed mid-freeze, the watchdog puts it back at `maxFreeze`). The setting is
   * system-wide: for those milliseconds every RCU grace period on the instance is expedited,
   * which interrupts every CPU (inter-processor interrupts) instead of waiting for each to pass
   * a quiescent state, a cost latency-critical workloads on other CPUs may notice. Where the
   * file is absent or read-only (containers, no root), the freezes run with normal grace periods
   * and the run's `expedite` event says so; an instance already running with 1 is left alone.
   * `false` leaves the setting untouched.
   *
   * @default true
   */
  readonly expediteFreeze?: boolean;

  /**
   * A command run before the freeze, e.g. a database's hot-backup mode. The run fails (and
   * nothing is frozen) if it fails.
   *
   * @default - none
   */
  readonly preFreezeCommand?: string;

  /**
   * A command run after the thaw, always once the pre command ran, even on failure.
   *
   * @default - none
   */
  readonly postThawCommand?: string;
}

/**
 * Application-consistent snapshots of Linux instances in a Systems Manager maintenance window:
 * the same props shape as `VssMaintenanceWindow`, with its own Command document that, on the
 * instance, maps the mount points to their EBS volumes, fetches credentials and prepares a signed
 * request first, freezes with `fsfreeze`, sends one `CreateSnapshots` of exactly the frozen
 * volumes, and thaws; a watchdog bounds the pause and every exit path thaws.
 */
export class FsfreezeMaintenanceWindow extends SnapshotMaintenanceWindowBase {
  /**
   * The version of `document` the window's task runs: always 1, since the document is replaced,
   * never versioned, when its content changes (CloudFormation's default `UpdateMethod`). A version
   * published later in the account is never run.
   */
  public static readonly DOCUMENT_VERSION = '1';

  /** The Command document that quiesces and snapshots. */
  public readonly document: ssm.CfnDocument;

  /** The Run Command task that runs the document. */
  public readonly snapshotTask: ssm.CfnMaintenanceWindowTask;

  constructor(scope: Construct, id: string, props: FsfreezeMaintenanceWindowProps) {
    super(scope, id, props, ['AppConsistent'], 'Fsfreeze');
    const stack = Stack.of(this);

    checkCount(this, 'mountPoints', props.mountPoints, 1, 64);
    for (const [i, m] of (props.mountPoints ?? []).entries()) {
      if (isUnresolved(m)) {
        continue;
      }
      check(/^\/[A-Za-z0-9._/-]*$/.test(m), this, `mountPoints[${i}]`, 'must be an absolute path of letters, digits and . _ / -', m);
      check(m.replace(/\/+$/, '') !== '', this, `mountPoints[${i}]`,
        'must not be / (the SSM agent, the AWS CLI and the watchdog write to the root file system)', m);
    }
    const maxFreeze = props.maxFreeze ?? Duration.seconds(20);
    checkDuration(this, 'maxFreeze', maxFreeze, Duration.seconds(WATCHDOG_MARGIN_SECONDS + 1), Duration.minutes(10));
    if (!maxFreeze.isUnresolved() && !Number.isInteger(maxFreeze.toSeconds({ integral: false }))) {
      fail(this, 'maxFreeze', 'must be a whole number of seconds', maxFreeze);
    }
    for (const prop of ['preFreezeCommand', 'postThawCommand'] as const) {
      const value = props[prop];
      if (value !== undefined && Token.isUnresolved(value)) {
        fail(this, prop, 'must be known at synthesis (it is embedded in the document)', value);
      }
    }

    const snapshotTags = { ...this.snapshotTags, AppConsistent: 'true' };
    for (const [k, v] of Object.entries(snapshotTags)) {
      if ([k, v].some((s) => !Token.isUnresolved(s) && s.includes("'"))) {
        fail(this, 'tags', 'must not contain a single quote (the document passes them to the shell)', `${k}=${v}`);
      }
    }
    const watchdog = maxFreeze.toSeconds();
    this.document = new ssm.CfnDocument(this, 'Document', {
      documentType: 'Command',
      documentFormat: 'JSON',
      content: {
        schemaVersion: '2.2',
        description: `cdk-ebs-backup: freeze ${props.mountPoints?.join(' ') ?? 'every EBS data file system'}, snapshot exactly their volumes, thaw (${props.purpose})`,
        parameters: {
          windowId: { type: 'String', description: 'The id of the maintenance window that runs this command (tagged on every snapshot)', allowedPattern: '^mw-[0-9a-f]{17}$' },
        },
        mainSteps: [{
          action: 'aws:runShellScript',
          name: 'fsfreezeSnapshot',
          precondition: { StringEquals: ['platformType', 'Linux'] },
          inputs: {
            timeoutSeconds: String(Math.max(600, watchdog * 3)),
            runCommand: renderRunCommand({
              mountPoints: props.mountPoints ?? [],
              excludeBootVolume: props.excludeBootVolume ?? true,
              // the window's id, set by the window task ({{WINDOW_ID}}): the housekeeping deletes only snapshots carrying it
              tagSpecifications: stack.toJsonString([{ ResourceType: 'snapshot', Tags: Object.entries({ ...snapshotTags, [this.windowTagKey]: '{{ windowId }}' }).map(([Key, Value]) => ({ Key, Value })) }]),
              description: `cdk-ebs-backup ${props.purpose} (fsfreeze)`,
              // the instance id at creation, from IMDS (a Run Command task cannot pass {{TARGET_ID}})
              sourceInstanceTagKey: sourceInstanceTagKey(this),
              watchdogSeconds: watchdog,
              apiTimeoutSeconds: watchdog - WATCHDOG_MARGIN_SECONDS,
              expediteGracePeriods: props.expediteFreeze ?? true,
              preFreezeCommand: props.preFreezeCommand,
              postThawCommand: props.postThawCommand,
            }),
          },
        }],
      },
    });

    // the commands travel base64-encoded (4 bytes for every 3 of UTF-8), beside the script (the whole document ~56 KB)
    const base64Bytes = (command?: string) => (command === undefined ? 0 : 4 * Math.ceil(Buffer.byteLength(command, 'utf8') / 3));
    checkDocumentSize(this, this.document, {
      grownBy: [
        { property: 'preFreezeCommand', bytes: base64Bytes(props.preFreezeCommand) },
        { property: 'postThawCommand', bytes: base64Bytes(props.postThawCommand) },
        // the list is in the description and in the script's settings
        { property: 'mountPoints', bytes: isUnresolved(props.mountPoints) ? 0 : 2 * Buffer.byteLength((props.mountPoints ?? []).join(' '), 'utf8') },
      ],
      runtimeParameters: { bytes: 20, why: 'windowId: mw- and 17 hex digits' },
      fix: 'keep the commands short: put the steps in a script on the instance and call it (preFreezeCommand: \'/usr/local/sbin/pre-freeze.sh\')',
    });

    const documentArn = stack.formatArn({ service: 'ssm', resource: 'document', resourceName: this.document.ref });
    // The window runs version 1, not $DEFAULT: the document has a generated name and CloudFormation's
    // default UpdateMethod (Replace), so every change of its content is a new document whose only
    // version is 1 (AWS::SSM::Document, UpdateMethod). A version added later with UpdateDocument,
    // even made the default with UpdateDocumentDefaultVersion, is never run; both are denied to all
    // but break-glass and the deployment principals by the guard's DenyMachineryChanges.
    this.snapshotTask = this.addSnapshotTask(this.document.ref, documentArn, { windowId: ['{{WINDOW_ID}}'] }, `fsfreeze snapshots (${props.purpose})`,
      FsfreezeMaintenanceWindow.DOCUMENT_VERSION);
    this.grantFsfreezeSnapshots();
    this.detectChanges();
  }

  /**
   * The instance may snapshot only itself, and only into snapshots tagged with this window's
   * purpose (the script tags at creation, so no later CreateTags is needed).
   */
  private grantFsfreezeSnapshots(): void {
    const stack = Stack.of(this);
    const purposeKey = BackupTagging.keys(this).purpose;
    const snapshots = stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' });
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'SnapshotOwnInstanceOnly',
      actions: ['ec2:CreateSnapshots'],
      resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
      conditions: { StringLike: { 'ec2:SourceInstanceARN': '*${ec2:InstanceID}' } },
    }), "snapshots are allowed only of the caller's own instance (ec2:SourceInstanceARN must end with the instance's id), in this region and account; the targets are chosen by tag at run time");
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'SnapshotVolumes',
      actions: ['ec2:CreateSnapshots'],
      resources: [stack.formatArn({ service: 'ec2', resource: 'volume', resourceName: '*' })],
    }), 'CreateSnapshots names every attached volume as a resource; their ids are known only at run time and the ARN is scoped to this region and account');
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'CreateTaggedSnapshotsOnly',
      actions: ['ec2:CreateSnapshots'],
      resources: [snapshots],
      conditions: { StringEquals: { [`aws:RequestTag/${purposeKey}`]: this.snapshotTags[purposeKey] } },
    }), "new snapshots must carry this window's purpose tag in the request (aws:RequestTag); their ids are known only at run time");
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'TagSnapshotsAtCreation',
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshots' } },
    }), 'tags may be set only as part of CreateSnapshots (ec2:CreateAction); snapshot ids are known only at run time');
  }
}
