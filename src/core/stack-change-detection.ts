/**
 * The public face of change detection: one construct per stack of standalone constructs (the
 * baseline creates its own).
 */
import { Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import * as rbin from 'aws-cdk-lib/aws-rbin';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ChangeDetection, isWatchable } from './change-detection';
import { isMachinery } from './machinery';

/** Properties of `EbsBackupChangeDetection`. */
export interface EbsBackupChangeDetectionProps {
  /**
   * The topic the detections notify. When it is encrypted with a key created in this app, the
   * key lets EventBridge (`events.amazonaws.com`) use it; an imported key must allow that
   * itself, or the events are dropped.
   */
  readonly topic: sns.ITopic;
}

/** The backup configuration a stack's detection watches, whoever created it. */
const CONFIGURATION_TYPES = [dlm.CfnLifecyclePolicy, backup.CfnBackupPlan, backup.CfnBackupVault, rbin.CfnRule];

/**
 * Alarms on any change to the backup machinery of a stack that no mechanism watches itself:
 * every DLM policy, Backup plan and vault and Recycle Bin rule the user created with the L1 or
 * aws-backup constructs, and the library's machinery outside a mechanism (the write-once guard,
 * a user's topic and key). One EventBridge rule per service matches the CloudTrail management
 * events that change those resources, CloudFormation deployments included, and notifies `topic`.
 *
 * Every mechanism of the library (DLM policies, `BackupVaultPolicy`, the maintenance windows,
 * `ConsistentSnapshotJob`, `PreChangeSnapshot`, `SnapshotLock`, `RestoreDrill`) watches its
 * own resources already, with an alarm routed like its heartbeat (`changeAlarm`): this construct
 * leaves them to it, so no change matches two rules. `EbsBackupBaseline` creates its own. Add one
 * to each stack of standalone constructs, after them: a resource added to the stack later would
 * not be watched, and is a synthesis error.
 */
export class EbsBackupChangeDetection extends Construct {
  /** The rules, one per service with watched resources. */
  public readonly rules: events.IRule[];

  constructor(scope: Construct, id: string, props: EbsBackupChangeDetectionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const watched = () => stack.node.findAll().filter((c) => Stack.of(c) === stack
      && !c.node.scopes.includes(this) && (isMachinery(c) || CONFIGURATION_TYPES.some((t) => c instanceof t)));
    const atCreation = new Set(watched());
    this.rules = new ChangeDetection(this, 'Rules', {
      topic: props.topic,
      watch: [...atCreation],
      mechanism: stack.node.path,
      alarmActions: [new cwActions.SnsAction(props.topic)],
    }).rules;
    this.node.addValidation({
      validate: () => {
        // the resources a rule would have named, created since
        const later = watched().filter((c) => !atCreation.has(c) && isWatchable(c));
        const roots = later.map((c) => c.node.path);
        return roots.length === 0 ? [] : [`EbsBackupChangeDetection: ${roots.join(', ')} ${roots.length === 1 ? 'was' : 'were'} `
          + 'added to the stack after the detection and would not be watched. Fix: create the EbsBackupChangeDetection last in the stack.'];
      },
    });
  }
}
