import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { MaintenanceTargets } from './targets';
import { SnapshotMaintenanceWindowBase, SnapshotMaintenanceWindowProps } from './window-base';
import { checkDuration, fail } from '../core/validation';

/** AWS's managed Command document that takes VSS-consistent snapshots on Windows. */
const AWS_VSS_DOCUMENT = 'AWSEC2-CreateVssSnapshot';

/**
 * The target keys State Manager associations accept ("Understanding targets and rate controls in
 * State Manager associations"): instance ids, `tag:<key>`, `tag-key` and `resource-groups:Name`.
 * `resource-groups:ResourceTypeFilters` is a maintenance-window target key only.
 */
const ASSOCIATION_TARGET_KEY = /^(InstanceIds|tag:.+|tag-key|resource-groups:Name)$/;

/** The window's targets in the form a State Manager association accepts. */
function associationTargets(scope: Construct, targets: MaintenanceTargets): ssm.CfnAssociation.TargetProperty[] {
  const kept = targets.targets.filter((t) => t.key !== 'resource-groups:ResourceTypeFilters');
  for (const t of kept) {
    if (!Token.isUnresolved(t.key) && !ASSOCIATION_TARGET_KEY.test(t.key)) {
      fail(scope, 'installVssComponents', `needs targets a State Manager association accepts (instance ids, tags or a resource group); pass installVssComponents: false and install AwsVssComponents yourself for target key '${t.key}'`, t.key);
    }
  }
  return kept.map((t) => ({ key: t.key, values: t.values }));
}

/** Tag keys the VSS agent sets itself; AWS rejects them in the document's `tags` parameter. */
const VSS_RESERVED_TAGS = ['AppConsistent', 'Device', 'AwsVssConfig'];

/**
 * Properties of a `VssMaintenanceWindow`.
 */
export interface VssMaintenanceWindowProps extends SnapshotMaintenanceWindowProps {
  /**
   * Leave the boot volume out of the snapshot set (data volumes only).
   *
   * @default false
   */
  readonly excludeBootVolume?: boolean;

  /**
   * Take a VSS copy-only backup, so a native SQL Server backup chain is not broken.
   *
   * @default false
   */
  readonly copyOnly?: boolean;

  /**
   * Leave the application VSS writers out (a workaround for conflicts with third-party VSS
   * components; the snapshot is then only file-system consistent).
   *
   * @default false
   */
  readonly noWriters?: boolean;

  /**
   * How long the snapshot step may run on the instance (the document's executionTimeout).
   *
   * @default Duration.minutes(10)
   */
  readonly executionTimeout?: Duration;

  /**
   * Install AwsVssComponents on the targets and keep it current with a State Manager
   * association (AWS-ConfigureAWSPackage, weekly, in-place update).
   *
   * AWS's `AWSEC2-VssInstallAndSnapshot` would install and snapshot in one run; the window keeps
   * `AWSEC2-CreateVssSnapshot` and a separate association because the association installs the
   * components as soon as an instance joins the targets (State Manager applies it to new targets),
   * so the first scheduled run already takes application-consistent snapshots, and the nightly run
   * stays a snapshot only: no package download (from the Distributor bucket) inside the window on
   * every instance, every night. The association updates in place, so it cannot break a run it
   * overlaps.
   *
   * @default true
   */
  readonly installVssComponents?: boolean;

  /**
   * The VSS snapshot document, for a pinned or customized copy of AWS's.
   *
   * @default 'AWSEC2-CreateVssSnapshot'
   */
  readonly documentName?: string;
}

/**
 * Application-consistent snapshots of Windows instances in a Systems Manager maintenance window:
 * AWS's VSS document (`AWSEC2-CreateVssSnapshot`) shadow-copies, then snapshots every volume of
 * an instance in one multi-volume call; each snapshot carries the library's tags, expires under
 * `retain`, and one that fell back to crash-consistent (no `AppConsistent=true`) raises
 * `crashConsistentAlarm`.
 *
 * @example
 * const window = new VssMaintenanceWindow(stack, 'WindowsVss', {
 *   purpose: 'windows-app-consistent',
 *   schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
 *   duration: Duration.hours(1),
 *   targets: MaintenanceTargets.tagged({ 'VSS-Snapshot': 'True' }),
 *   maxConcurrency: '100%',
 *   maxErrors: '10',
 * });
 */
export class VssMaintenanceWindow extends SnapshotMaintenanceWindowBase {
  /** AWS's managed Command document that takes VSS-consistent snapshots on Windows. */
  public static readonly AWS_VSS_DOCUMENT = AWS_VSS_DOCUMENT;

  /** The Run Command task that runs the VSS document. */
  public readonly snapshotTask: ssm.CfnMaintenanceWindowTask;

  /** The association that installs and updates AwsVssComponents, when enabled. */
  public readonly vssComponentsAssociation?: ssm.CfnAssociation;

  constructor(scope: Construct, id: string, props: VssMaintenanceWindowProps) {
    super(scope, id, props, VSS_RESERVED_TAGS, 'Vss');
    const stack = Stack.of(this);
    const executionTimeout = props.executionTimeout ?? Duration.minutes(10);
    checkDuration(this, 'executionTimeout', executionTimeout, Duration.seconds(60), Duration.hours(2));
    const documentName = props.documentName ?? AWS_VSS_DOCUMENT;

    // the document's tags parameter is "Key=k,Value=v;Key=k2,Value=v2": no ',' or ';' inside
    for (const [key, value] of Object.entries(this.snapshotTags)) {
      for (const part of [key, value]) {
        if (!Token.isUnresolved(part) && /[,;]/.test(part)) {
          fail(this, 'tags', "must not contain ',' or ';' (AWSEC2-CreateVssSnapshot separates tags with them)", part);
        }
      }
    }
    // the window's id at creation (the {{WINDOW_ID}} pseudo parameter): the housekeeping deletes only snapshots carrying it
    const tags = Object.entries({ ...this.snapshotTags, [this.windowTagKey]: '{{WINDOW_ID}}' }).map(([k, v]) => `Key=${k},Value=${v}`).join(';');
    const flag = (b: boolean | undefined) => (b ? 'True' : 'False');

    const documentArn = documentName.startsWith('arn:')
      ? documentName
      : stack.formatArn({ service: 'ssm', account: documentName.startsWith('AWS') ? '' : undefined, resource: 'document', resourceName: documentName });
    this.snapshotTask = this.addSnapshotTask(documentName, documentArn, {
      ExcludeBootVolume: [flag(props.excludeBootVolume)],
      CopyOnly: [flag(props.copyOnly)],
      NoWriters: [flag(props.noWriters)],
      CreateAmi: ['False'],
      description: [`cdk-ebs-backup ${props.purpose} (VSS)`],
      tags: [tags],
      executionTimeout: [String(executionTimeout.toSeconds())],
    }, `VSS snapshots (${props.purpose})`);

    this.grantVssSnapshots();

    if (props.installVssComponents ?? true) {
      this.vssComponentsAssociation = new ssm.CfnAssociation(this, 'VssComponents', {
        name: 'AWS-ConfigureAWSPackage',
        // 'In-place update': the weekly run never uninstalls the components under a snapshot that a
        // window is taking at the same time (an uninstall-and-reinstall run overlapping the window fails it)
        parameters: { action: ['Install'], installationType: ['In-place update'], name: ['AwsVssComponents'] },
        targets: associationTargets(this, this.targets),
        // State Manager rates are 30 minutes to 31 days; weekly keeps the components current
        scheduleExpression: 'rate(7 days)',
        complianceSeverity: 'HIGH',
        maxConcurrency: '10%',
        maxErrors: '100%',
      });
    }
    this.detectChanges();
  }

  /**
   * What AWS's `AWSEC2VssSnapshotPolicy` grants (the parity test evaluates every action of its
   * current version against this role), scoped to this region and account:
   * - the instance may read its own attributes (the agent reads its block device mapping with
   *   `ec2:DescribeInstanceAttribute`) and snapshot its own volumes only (`ec2:SourceInstanceARN`
   *   is the calling instance);
   * - new snapshots must carry `AwsVssConfig` (the agent sets it at creation);
   * - tags at creation only (`ec2:CreateAction`: the purpose, retention and managed-by tags come in
   *   the `CreateSnapshots` request), and afterwards only `AppConsistent` and `Device`, only on
   *   snapshots that already carry `AwsVssConfig`: the role cannot put expiry tags on a snapshot
   *   it did not create, so the housekeeping cannot be steered into deleting someone else's.
   * `ec2:CreateImage` is left out: the window passes `CreateAmi=False` (AMIs are `addImageTask`'s).
   */
  private grantVssSnapshots(): void {
    const stack = Stack.of(this);
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const ownInstance = { ArnLike: { 'ec2:SourceInstanceARN': stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '${ec2:InstanceId}' }) } };
    const snapshots = stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' });
    const volumes = stack.formatArn({ service: 'ec2', resource: 'volume', resourceName: '*' });
    const idsAtRunTime = 'instance, volume and snapshot ids are known only at run time; the ARNs are scoped to this region and account';
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'DescribeOwnInstance',
      actions: ['ec2:DescribeInstanceAttribute'],
      resources: [instances],
      conditions: ownInstance,
    }), `the VSS agent reads its own block device mapping (ec2:SourceInstanceARN must be the calling instance); ${idsAtRunTime}`);
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'SnapshotOwnInstanceOnly',
      actions: ['ec2:CreateSnapshots'],
      resources: [instances],
      conditions: ownInstance,
    }), `snapshots are allowed only of the caller's own instance (ec2:SourceInstanceARN); ${idsAtRunTime}`);
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'SnapshotVolumes',
      actions: ['ec2:CreateSnapshots'],
      resources: [volumes],
    }), `CreateSnapshots names every attached volume of the instance; ${idsAtRunTime}`);
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'NewSnapshotsCarryVssConfig',
      actions: ['ec2:CreateSnapshots'],
      resources: [snapshots],
      conditions: { StringLike: { 'aws:RequestTag/AwsVssConfig': '*' } },
    }), `new snapshots must carry the AwsVssConfig tag the agent sets; ${idsAtRunTime}`);
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'TagSnapshotsAtCreation',
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshots' } },
    }), `tags may be set on new snapshots only as part of CreateSnapshots (ec2:CreateAction); ${idsAtRunTime}`);
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'TagSnapshotsAfterVss',
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: {
        'StringLike': { 'ec2:ResourceTag/AwsVssConfig': '*' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['AppConsistent', 'Device'] },
      },
    }), `after VSS finishes the agent may add only AppConsistent and Device, and only to snapshots that carry AwsVssConfig; ${idsAtRunTime}`);
    this.addInstanceStatement(new iam.PolicyStatement({
      sid: 'DescribeForVss',
      actions: ['ec2:DescribeSnapshots', 'ec2:DescribeImages'],
      resources: ['*'],
    }), 'ec2:DescribeSnapshots and DescribeImages have no resource-level permissions; the VSS agent follows its snapshots with them');
  }
}
