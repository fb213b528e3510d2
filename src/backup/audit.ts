import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ProtectedResourceType } from './selection';
import { VaultLock } from './vault-lock';
import { acknowledge, guard, nag } from '../core/acknowledge';
import { checkCount, checkPattern, collectProblems, reportFactoryProblems, warn } from '../core/validation';

/** Where and how the audit evidence is delivered. */
export interface BackupAuditOptions {
  /**
   * The bucket that receives the compliance reports. Its policy must let the service-linked
   * role `AWSServiceRoleForBackupReports` put objects; a bucket created here has that policy.
   *
   * @default - a new versioned, encrypted, SSL-only bucket that is retained on stack deletion
   */
  readonly reportBucket?: s3.IBucket;
  /**
   * The key prefix of the reports in the bucket.
   *
   * @default 'backup-audit'
   */
  readonly reportKeyPrefix?: string;
  /**
   * How often every protected resource must be backed up at least.
   *
   * @default Duration.days(1)
   */
  readonly requiredFrequency?: Duration;
}

/** Properties of a BackupAuditFramework. */
export interface BackupAuditFrameworkProps extends BackupAuditOptions {
  /** The vault whose policy the controls prove. */
  readonly vault: backup.IBackupVault;
  /** The shortest retention every recovery point must have. */
  readonly minimumRetention: Duration;
  /**
   * The vault's lock, proved by the vault-lock control.
   *
   * @default - no vault-lock control
   */
  readonly vaultLock?: VaultLock;
  /**
   * The regions that copies go to, proved by the cross-region control.
   *
   * @default - no cross-region control
   */
  readonly copyRegions?: string[];
  /**
   * The accounts that copies go to, proved by the cross-account control.
   *
   * @default - no cross-account control
   */
  readonly copyAccounts?: string[];
  /**
   * The principals allowed to delete recovery points (at most 5, as the control accepts).
   *
   * @default - none
   */
  readonly breakGlassPrincipalArns?: string[];
  /**
   * The resource types the plan protects.
   *
   * @default - EBS and EC2
   */
  readonly resourceTypes?: ProtectedResourceType[];
}

/**
 * Audit evidence for a backup policy: an AWS Backup Audit Manager framework whose controls prove
 * the policy (resources protected by a plan, frequency and minimum retention, manual deletion
 * disabled, vault lock, encryption, cross-region and cross-account copies), and a report plan that
 * delivers daily compliance reports to S3. Audit Manager evaluates through AWS Config, which must
 * be recording in the account and region.
 */
export class BackupAuditFramework extends Construct {
  /** The framework. */
  public readonly framework: backup.CfnFramework;
  /** The report plan. */
  public readonly reportPlan: backup.CfnReportPlan;
  /** The bucket that receives the reports. */
  public readonly reportBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: BackupAuditFrameworkProps) {
    super(scope, id);
    const prefix = props.reportKeyPrefix ?? 'backup-audit';
    const breakGlass = props.breakGlassPrincipalArns ?? [];
    collectProblems(this, () => {
      checkPattern(this, 'audit.reportKeyPrefix', prefix, /^[a-zA-Z0-9!_.*'()/-]{1,512}$/, 'an S3 key prefix without a trailing slash');
      checkCount(this, 'breakGlassPrincipalArns (for the manual-deletion control)', breakGlass, 0, 5);
      reportFactoryProblems(this, 'vaultLock', props.vaultLock);
    });
    const types = props.resourceTypes ?? [ProtectedResourceType.EBS, ProtectedResourceType.EC2];
    const frequency = props.requiredFrequency ?? Duration.days(1);
    const retentionDays = String(props.minimumRetention.toDays());
    // ControlScope is untyped JSON in the L1: it is written in CloudFormation's own casing
    const byType = { ComplianceResourceTypes: [...types] };

    const controls: backup.CfnFramework.FrameworkControlProperty[] = [
      { controlName: 'BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN', controlScope: byType },
      {
        controlName: 'BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK',
        controlInputParameters: params({
          requiredRetentionDays: retentionDays,
          requiredFrequencyUnit: frequency.toHours() % 24 === 0 ? 'days' : 'hours',
          requiredFrequencyValue: String(frequency.toHours() % 24 === 0 ? frequency.toDays() : frequency.toHours()),
        }),
      },
      {
        controlName: 'BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK',
        controlInputParameters: params({ requiredRetentionDays: retentionDays }),
        controlScope: byType,
      },
      {
        controlName: 'BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED',
        controlInputParameters: breakGlass.length > 0 ? params({ principalArnList: breakGlass.join(',') }) : undefined,
      },
      { controlName: 'BACKUP_RECOVERY_POINT_ENCRYPTED', controlScope: byType },
    ];
    if (props.vaultLock) {
      controls.push({
        controlName: 'BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK',
        controlInputParameters: params({
          minRetentionDays: String(props.vaultLock.minRetention.toDays()),
          ...(props.vaultLock.maxRetention ? { maxRetentionDays: String(props.vaultLock.maxRetention.toDays()) } : {}),
        }),
        controlScope: byType,
      });
    }
    if (props.copyRegions && props.copyRegions.length > 0) {
      controls.push({
        controlName: 'BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION',
        controlInputParameters: params({ crossRegionList: [...new Set(props.copyRegions)].join(',') }),
        controlScope: byType,
      });
    }
    if (props.copyAccounts && props.copyAccounts.length > 0) {
      controls.push({
        controlName: 'BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT',
        controlInputParameters: params({ crossAccountList: [...new Set(props.copyAccounts)].join(',') }),
        controlScope: byType,
      });
    }

    this.framework = new backup.CfnFramework(this, 'Resource', {
      frameworkDescription: `Controls that prove the backup policy of ${props.vault.node.path}`.slice(0, 1024),
      frameworkControls: controls,
    });

    this.reportBucket = props.reportBucket ?? this.createBucket();
    // "Creating report plans" (AWS Backup Developer Guide): the bucket policy grants s3:PutObject to
    // the Backup Audit Manager service-linked role itself; its managed policy
    // (AWSServiceRolePolicyForBackupReports) grants no s3:PutObject, so an account-root principal
    // narrowed by aws:PrincipalArn would never let it write. AWS Backup creates that role with the
    // first framework or report plan, so the bucket policy is created after both (a policy naming a
    // principal that does not exist yet fails to deploy).
    const reportsRole = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports`;
    const added = this.reportBucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowBackupAuditManagerReports',
      principals: [new iam.ArnPrincipal(reportsRole)],
      actions: ['s3:PutObject'],
      resources: [this.reportBucket.arnForObjects(`${prefix}/*`)],
    }));
    if (!added.statementAdded) {
      warn(this, 'backup:report-bucket-policy', `${this.node.path}: the imported report bucket's policy must allow s3:PutObject on '${prefix}/*' to the role AWSServiceRoleForBackupReports`);
    }

    this.reportPlan = new backup.CfnReportPlan(this, 'ReportPlan', {
      reportPlanDescription: `Compliance of ${props.vault.node.path} with its backup policy`.slice(0, 1024),
      reportDeliveryChannel: { S3BucketName: this.reportBucket.bucketName, S3KeyPrefix: prefix, Formats: ['CSV', 'JSON'] },
      reportSetting: { ReportTemplate: 'CONTROL_COMPLIANCE_REPORT', FrameworkArns: [this.framework.attrFrameworkArn] },
    });
    if (added.policyDependable) {
      // the service-linked role exists once the framework and report plan do
      (this.reportBucket as s3.Bucket).policy?.node.addDependency(this.reportPlan, this.framework);
    }
  }

  private createBucket(): s3.Bucket {
    const bucket = new s3.Bucket(this, 'ReportBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // audit evidence is write-once: object lock, and old versions kept a year
      objectLockEnabled: true,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const why = 'the bucket holds only compliance reports written by the AWS Backup Audit Manager service-linked role; ' +
      'pass audit.reportBucket to deliver them to your own logged, KMS-encrypted evidence bucket';
    acknowledge(bucket,
      nag('S1', why),
      guard('s3_bucket_logging_enabled_check', why),
      guard('s3_event_notifications_enabled_check', 'nothing reacts to new reports; the report plan itself is the schedule'),
      guard('s3_bucket_default_encryption_kms_check',
        'S3-managed keys: the reports are compliance metadata, not backup data, and the service-linked role needs no key policy'));
    return bucket;
  }
}

function params(values: Record<string, string>): backup.CfnFramework.ControlInputParameterProperty[] {
  return Object.entries(values).map(([parameterName, parameterValue]) => ({ parameterName, parameterValue }));
}
