import { Duration, Names } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ProtectedResourceType } from './selection';
import { check, checkDuration, fail, isUnresolved } from '../core/validation';

/** How a restore test picks the recovery point to restore. */
export enum RestoreTestingAlgorithm {
  /** The newest recovery point in the selection window: proves today's backups restore. */
  LATEST_WITHIN_WINDOW = 'LATEST_WITHIN_WINDOW',
  /** A random recovery point in the window: proves older backups still restore. */
  RANDOM_WITHIN_WINDOW = 'RANDOM_WITHIN_WINDOW',
}

/** How and when recovery points of the vault are restored to prove they work. */
export interface RestoreTestingOptions {
  /**
   * When the restore tests run (a cron schedule).
   *
   * @default - weekly, Sunday 03:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * How long after the scheduled time a test may start (1 to 168 hours).
   *
   * @default Duration.hours(24)
   */
  readonly startWindow?: Duration;
  /**
   * How far back recovery points are eligible (1 to 365 days).
   *
   * @default Duration.days(7)
   */
  readonly selectionWindow?: Duration;
  /**
   * How long the restored volume or instance is kept for validation before AWS Backup deletes
   * it (1 to 168 hours).
   *
   * @default Duration.hours(4)
   */
  readonly validationWindow?: Duration;
  /**
   * Which recovery point in the window is restored.
   *
   * @default RestoreTestingAlgorithm.LATEST_WITHIN_WINDOW
   */
  readonly algorithm?: RestoreTestingAlgorithm;
  /**
   * Which resource types are restored.
   *
   * @default - the types the vault's plan protects
   */
  readonly resourceTypes?: ProtectedResourceType[];
  /**
   * Restore metadata to override for every test (e.g. `{ availabilityZone: 'us-east-1a' }` for
   * EBS, `{ instanceType: 't3.micro' }` for EC2), to keep tests cheap and isolated.
   *
   * @default - the recovery point's own metadata
   */
  readonly restoreMetadataOverrides?: Record<string, string>;
}

/** Properties of a BackupRestoreTesting. */
export interface BackupRestoreTestingProps extends RestoreTestingOptions {
  /** The vault whose recovery points are tested. */
  readonly vault: backup.IBackupVault;
  /** The role AWS Backup restores with; it must also be allowed to delete what it restored. */
  readonly role: iam.IRole;
}

/**
 * AWS Backup restore testing for EBS volumes and EC2 instances of one vault: a restore-testing
 * plan and one selection per resource type. "Backup is easy, restore is hard": this proves the
 * recovery points restore, on a schedule, and keeps the restored resources for validation.
 */
export class BackupRestoreTesting extends Construct {
  /** The restore-testing plan. */
  public readonly plan: backup.CfnRestoreTestingPlan;
  /** The selections, one per resource type. */
  public readonly selections: backup.CfnRestoreTestingSelection[];

  constructor(scope: Construct, id: string, props: BackupRestoreTestingProps) {
    super(scope, id);
    const startWindow = props.startWindow ?? Duration.hours(24);
    const selectionWindow = props.selectionWindow ?? Duration.days(7);
    const validationWindow = props.validationWindow ?? Duration.hours(4);
    const schedule = props.schedule ?? events.Schedule.cron({ weekDay: 'SUN', hour: '3', minute: '0' });
    const types = props.resourceTypes ?? [ProtectedResourceType.EBS, ProtectedResourceType.EC2];

    if (!schedule.expressionString.startsWith('cron(')) {
      fail(this, 'restoreTesting.schedule', 'must be a cron schedule', schedule.expressionString);
    }
    checkWhole(this, 'restoreTesting.startWindow', startWindow, 'hours');
    checkDuration(this, 'restoreTesting.startWindow', startWindow, Duration.hours(1), Duration.hours(168));
    checkWhole(this, 'restoreTesting.selectionWindow', selectionWindow, 'days');
    checkDuration(this, 'restoreTesting.selectionWindow', selectionWindow, Duration.days(1), Duration.days(365));
    checkWhole(this, 'restoreTesting.validationWindow', validationWindow, 'hours');
    // The API reference says 0-168 and the CloudFormation docs 1-168: 1 is valid for both.
    checkDuration(this, 'restoreTesting.validationWindow', validationWindow, Duration.hours(1), Duration.hours(168));
    check(types.length > 0, this, 'restoreTesting.resourceTypes', 'must name at least one resource type', types);

    const planName = Names.uniqueResourceName(this, { maxLength: 50, separator: '_', allowedSpecialCharacters: '_' });
    this.plan = new backup.CfnRestoreTestingPlan(this, 'Resource', {
      restoreTestingPlanName: planName,
      scheduleExpression: schedule.expressionString,
      startWindowHours: startWindow.toHours(),
      recoveryPointSelection: {
        algorithm: props.algorithm ?? RestoreTestingAlgorithm.LATEST_WITHIN_WINDOW,
        includeVaults: [props.vault.backupVaultArn],
        recoveryPointTypes: ['SNAPSHOT'],
        selectionWindowDays: selectionWindow.toDays(),
      },
    });

    this.selections = [...new Set(types)].map((type) => {
      const selection = new backup.CfnRestoreTestingSelection(this, type === ProtectedResourceType.EBS ? 'EbsVolumes' : 'Ec2Instances', {
        restoreTestingPlanName: planName,
        restoreTestingSelectionName: type === ProtectedResourceType.EBS ? 'ebs_volumes' : 'ec2_instances',
        protectedResourceType: type,
        // every protected resource with a recovery point in the included vault
        protectedResourceArns: ['*'],
        iamRoleArn: props.role.roleArn,
        validationWindowHours: validationWindow.toHours(),
        restoreMetadataOverrides: props.restoreMetadataOverrides,
      });
      selection.node.addDependency(this.plan);
      return selection;
    });
  }
}

function checkWhole(scope: Construct, property: string, value: Duration, unit: 'hours' | 'days'): void {
  if (isUnresolved(value)) {
    return;
  }
  const n = unit === 'hours' ? value.toHours({ integral: false }) : value.toDays({ integral: false });
  check(Number.isInteger(n), scope, property, `must be a whole number of ${unit}`, value);
}
