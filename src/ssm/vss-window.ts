import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { SnapshotMaintenanceWindowBase, SnapshotMaintenanceWindowProps } from './window-base';
import { addAcknowledgedStatement } from '../core/acknowledge';
import { checkDuration, fail } from '../core/validation';

/** AWS's managed Command document that takes VSS-consistent snapshots on Windows. */
const AWS_VSS_DOCUMENT = 'AWSEC2-CreateVssSnapshot';

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
   * association (AWS-ConfigureAWSPackage, weekly).
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
 * `retention`, and one that fell back to crash-consistent (no `AppConsistent=true`) raises
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
    super(scope, id, props, VSS_RESERVED_TAGS);
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
    const tags = Object.entries(this.snapshotTags).map(([k, v]) => `Key=${k},Value=${v}`).join(';');
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

    this.grantVssSnapshots(Object.keys(this.snapshotTags));

    if (props.installVssComponents ?? true) {
      this.vssComponentsAssociation = new ssm.CfnAssociation(this, 'VssComponents', {
        name: 'AWS-ConfigureAWSPackage',
        parameters: { action: ['Install'], installationType: ['Uninstall and reinstall'], name: ['AwsVssComponents'] },
        targets: this.targets.targets.map((t) => ({ key: t.key, values: t.values })),
        // State Manager rates are 30 minutes to 31 days; weekly keeps the components current
        scheduleExpression: 'rate(7 days)',
        complianceSeverity: 'HIGH',
        maxConcurrency: '10%',
        maxErrors: '100%',
      });
    }
  }

  /**
   * What AWS's AWSEC2VssSnapshotPolicy grants, scoped to this region and account: snapshots of
   * the caller's own instance only, and tags only at creation or the keys the VSS agent sets.
   */
  private grantVssSnapshots(libraryTagKeys: string[]): void {
    const stack = Stack.of(this);
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const snapshots = stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' });
    const volumes = stack.formatArn({ service: 'ec2', resource: 'volume', resourceName: '*' });
    addAcknowledgedStatement(this.instanceRole, new iam.PolicyStatement({
      sid: 'SnapshotOwnInstanceOnly',
      actions: ['ec2:CreateSnapshots'],
      resources: [instances],
      // the request must come from the instance being snapshotted (instance-profile credentials)
      conditions: { StringLike: { 'ec2:SourceInstanceARN': '*${ec2:InstanceID}' } },
    }), "snapshots are allowed only of the caller's own instance (ec2:SourceInstanceARN must end with the instance's id), in this region and account; the targets are chosen by tag at run time");
    addAcknowledgedStatement(this.instanceRole, new iam.PolicyStatement({
      sid: 'SnapshotVolumes',
      actions: ['ec2:CreateSnapshots'],
      resources: [volumes, snapshots],
    }), 'CreateSnapshots names every attached volume and the new snapshots as resources, whose ids are known only at run time; the ARNs are scoped to this region and account');
    addAcknowledgedStatement(this.instanceRole, new iam.PolicyStatement({
      sid: 'TagSnapshotsAtCreation',
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshots' } },
    }), 'tags may be set on new snapshots only as part of CreateSnapshots (ec2:CreateAction); snapshot ids are known only at run time');
    addAcknowledgedStatement(this.instanceRole, new iam.PolicyStatement({
      sid: 'TagSnapshotsAfterVss',
      actions: ['ec2:CreateTags'],
      resources: [snapshots],
      conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [...VSS_RESERVED_TAGS, 'Name', ...libraryTagKeys] } },
    }), "after VSS finishes the agent may add only its own keys (AppConsistent, Device, AwsVssConfig, Name) and this window's tag keys (aws:TagKeys)");
    addAcknowledgedStatement(this.instanceRole, new iam.PolicyStatement({
      sid: 'DescribeForVss',
      actions: ['ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeTags'],
      resources: ['*'],
    }), 'ec2:DescribeInstances, DescribeSnapshots and DescribeTags have no resource-level permissions; the VSS agent reads its volumes and snapshots with them');
  }
}
