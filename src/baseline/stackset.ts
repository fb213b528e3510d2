import { createHash } from 'crypto';
import { Aws, BootstraplessSynthesizer, CfnStackSet, Duration, Fn, Stack, Stage, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { EbsBackupBaseline, EbsBackupBaselineProps } from './baseline';
import { BackupArchiveVault } from '../backup/archive-vault';
import { VaultLock } from '../backup/vault-lock';
import { actionsOf } from '../core/destructive-actions';
import { requirePrerequisite } from '../core/prerequisites';
import { RetentionRoles } from '../core/retention-roles';
import { check, checkCount, checkLength, checkPattern, checkRegion, collectProblems, isUnresolved, reportFactoryProblems } from '../core/validation';
import { ProtectedResources } from '../worm/deny-policy';
import { WormServiceControlPolicy } from '../worm/service-control-policy';

/** CloudFormation's limit for an inline StackSet template (`TemplateBody`), in bytes. */
const STACKSET_TEMPLATE_BODY_LIMIT = 51_200;

/**
 * The IAM path of every role in the member template that expires backups (DLM, housekeeping,
 * AWS Backup, snapshot lock). Each has an exact name (`retentionRoleNames`); the SCP exempts
 * those exact names on this path only, and denies creating or changing any role on the path, or
 * any role with one of those names, to all but the StackSets execution role.
 */
const RETENTION_ROLE_PATH = '/cdk-ebs-backup/retention/';

/**
 * Properties of `BaselineStackSet`.
 */
export interface BaselineStackSetProps {
  /**
   * The baseline every member account gets. It is built self-contained (`selfContained` is
   * forced on) so that the template deploys without assets or bootstrap.
   */
  readonly baseline: EbsBackupBaselineProps;

  /** The organization root (`r-...`) or OUs (`ou-...`) whose accounts get the baseline, now and when they join. */
  readonly organizationalUnitIds: string[];

  /** The regions every account gets the baseline in (not the DR regions). */
  readonly regions: string[];

  /**
   * The StackSet's name; the member stacks are named `StackSet-<name>-<id>`.
   *
   * @default 'ebs-backup-baseline'
   */
  readonly stackSetName?: string;

  /**
   * Also create (and attach to the same targets) the write-once SCP, with the organization's
   * EC2 declarative policy that blocks public sharing of snapshots and AMIs.
   *
   * @default true
   */
  readonly serviceControlPolicy?: boolean;

  /**
   * Deploy a second StackSet that creates the vault receiving AWS Backup DR copies
   * (`drVaultName`) in every DR region the tiers copy to.
   *
   * @default true
   */
  readonly drVaults?: boolean;

  /**
   * The lock of the DR vaults.
   *
   * @default VaultLock.governance({ minRetention: Duration.days(7) })
   */
  readonly drVaultLock?: VaultLock;

  /**
   * Deploy as a delegated administrator rather than from the management account.
   *
   * @default false
   */
  readonly delegatedAdmin?: boolean;

  /**
   * The share of accounts deployed at once, per region (1-100).
   *
   * @default 25
   */
  readonly maxConcurrentPercentage?: number;

  /**
   * The share of accounts that may fail per region before the operation stops (0-100).
   *
   * @default 10
   */
  readonly failureTolerancePercentage?: number;
}

const OU = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const STACKSET_NAME = /^[a-zA-Z][a-zA-Z0-9-]{0,127}$/;

/**
 * The baseline rolled out to every account of some OUs, in the listed regions, with
 * CloudFormation StackSets and service-managed permissions (auto-deployment to accounts that
 * join later), plus the write-once SCP and the DR-region receiving vaults.
 *
 * The member template is self-contained: no asset parameters, no bootstrap version, no code
 * assets (snapshot locks are Step Functions SDK integrations). Templates up to 51,200 bytes go
 * inline (`TemplateBody`); a larger one is uploaded as a file asset of the administrator's
 * stack (`TemplateURL`), which is bootstrapped anyway; the member accounts need nothing.
 *
 * The archive account's receiving vault is a `BackupArchiveVault` in a stack of that account,
 * named `EbsBackupBaseline.DEFAULT_ARCHIVE_VAULT_NAME` (or the baseline's `archiveVaultName`).
 */
export class BaselineStackSet extends Construct {
  /**
   * CloudFormation's limit for an inline StackSet template (`TemplateBody`), in bytes; a larger
   * member template is uploaded as an asset and passed as `TemplateURL`.
   */
  public static readonly TEMPLATE_BODY_LIMIT = STACKSET_TEMPLATE_BODY_LIMIT;

  /**
   * The IAM path of every member role that expires backups or locks snapshots (DLM, housekeeping,
   * AWS Backup, snapshot lock). The SCP exempts their exact names on this path
   * (`arn:aws:iam::*:role<path><name>-*`, the region the only wildcard; see `retentionRoleNames`), not the path, and
   * denies creating or changing roles on the path or with those names to all but the StackSets
   * execution role.
   */
  public static readonly RETENTION_ROLE_PATH = RETENTION_ROLE_PATH;

  /** The StackSet of the baseline. */
  public readonly stackSet: CfnStackSet;
  /** The member stack (in its own stage): read its template, or test it. */
  public readonly memberStack: Stack;
  /** The baseline inside the member stack. */
  public readonly memberBaseline: EbsBackupBaseline;
  /**
   * The StackSet of the DR vaults.
   *
   * @default - none when there is no DR region or `drVaults` is false
   */
  public readonly drVaultStackSet?: CfnStackSet;
  /**
   * The write-once SCP.
   *
   * @default - none when `serviceControlPolicy` is false
   */
  public readonly serviceControlPolicy?: WormServiceControlPolicy;
  /** The member template as deployed, for tests and review. */
  public readonly memberTemplate: any;
  /**
   * The names of the member roles that expire backups, without their region suffix: each is
   * deployed as `EbsBackup-<hash>-<region>` on `RETENTION_ROLE_PATH` (IAM names are unique per
   * account and the StackSet deploys one stack per region). The SCP exempts exactly these names,
   * the region being the only wildcard, and nothing else on the path. The hash is of the StackSet
   * name and the role's construct path, so two baselines in one account never share a name.
   */
  public readonly retentionRoleNames: string[] = [];
  /** The names of the member roles that lock snapshots, as `retentionRoleNames`. */
  public readonly lockRoleNames: string[] = [];

  constructor(scope: Construct, id: string, props: BaselineStackSetProps) {
    super(scope, id);
    const name = props.stackSetName ?? 'ebs-backup-baseline';
    const concurrency = props.maxConcurrentPercentage ?? 25;
    const tolerance = props.failureTolerancePercentage ?? 10;
    // every problem of the StackSet's own props at once
    collectProblems(this, () => {
      checkCount(this, 'organizationalUnitIds', props.organizationalUnitIds, 1, 1000);
      props.organizationalUnitIds.forEach((ou, i) => checkPattern(this, `organizationalUnitIds[${i}]`, ou, OU,
        'an organization root (r-...) or OU id (ou-...-...)'));
      checkCount(this, 'regions', props.regions, 1, 50);
      props.regions.forEach((r, i) => checkRegion(this, `regions[${i}]`, r));
      checkPattern(this, 'stackSetName', name, STACKSET_NAME, 'a StackSet name: a letter, then up to 127 letters, digits and -');
      checkLength(this, 'stackSetName', name, 1, 128);
      check(isUnresolved(concurrency) || (Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 100), this,
        'maxConcurrentPercentage', 'must be an integer between 1 and 100', concurrency);
      check(isUnresolved(tolerance) || (Number.isInteger(tolerance) && tolerance >= 0 && tolerance <= 100), this,
        'failureTolerancePercentage', 'must be an integer between 0 and 100', tolerance);
      reportFactoryProblems(this, 'drVaultLock', props.drVaultLock);
    });

    // --- the member: an environment-agnostic stack without bootstrap, in its own stage
    const stage = new Stage(this, 'Member');
    this.memberStack = new Stack(stage, 'Baseline', {
      synthesizer: new BootstraplessSynthesizer(),
      analyticsReporting: false,
      description: 'EBS backup baseline (cdk-ebs-backup), deployed by a service-managed StackSet',
    });
    // `arn:aws:iam::*:role/BreakGlass` (any account, as the SCP needs it) becomes each member
    // account's own role, since vault access policies take no account wildcard
    const memberBreakGlass = props.baseline.breakGlassPrincipalArns?.map((arn) => isUnresolved(arn) ? arn
      : arn.replace(/^arn:[^:]+:iam::\*:/, `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:`));
    this.memberBaseline = new EbsBackupBaseline(this.memberStack, 'Baseline', {
      ...props.baseline,
      breakGlassPrincipalArns: memberBreakGlass,
      // a member account is deployed by the StackSets execution role, not the CDK bootstrap role
      deploymentPrincipalArns: props.baseline.deploymentPrincipalArns
        ?? [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/stacksets-exec-*`],
      selfContained: true,
      // the DR vaults are this construct's own StackSet (or, without drVaults, the organization's own)
      drVaultCreatedElsewhere: true,
      // the administrator's app runs the checks; a member stage would only repeat them
      checks: false,
    });
    const drRegions = [...new Set(this.memberBaseline.tiers.flatMap((t) => [t.definition.backupPlan?.drRegion, t.definition.snapshots?.drRegion])
      .filter((r): r is string => r !== undefined)), ...props.baseline.drRegion ? [props.baseline.drRegion] : []];
    props.regions.forEach((r, i) => check(isUnresolved(r) || !drRegions.includes(r), this, `regions[${i}]`,
      'must not be a DR region of the baseline (a region cannot copy to itself)', r));
    // Roles that expire backups or lock snapshots get the path and an exact name, the same in
    // every account (the region in the name: IAM names are unique per account, and a StackSet
    // deploys one stack per region), so that the SCP can exempt exactly them across accounts.
    const nameRole = (role: iam.Role, into: string[]) => {
      const base = retentionRoleBaseName(name, role.node.path.slice(this.memberStack.node.path.length));
      const cfn = role.node.defaultChild as iam.CfnRole;
      cfn.path = RETENTION_ROLE_PATH;
      cfn.roleName = Fn.join('-', [base, Aws.REGION]);
      into.push(base);
    };
    for (const role of RetentionRoles.roles(this.memberStack)) {
      if (role instanceof iam.Role && Stack.of(role) === this.memberStack) {
        nameRole(role, this.retentionRoleNames);
      }
    }
    for (const lock of this.memberBaseline.snapshotLocks) {
      nameRole(lock.role as iam.Role, this.lockRoleNames);
    }

    const assembly = stage.synth();
    const artifact = assembly.getStackArtifact(this.memberStack.artifactId);
    this.memberTemplate = artifact.template;
    const autoDeployment = { enabled: true, retainStacksOnAccountRemoval: false };
    requirePrerequisite(this, 'stacksets-trusted-access');
    const common = {
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment,
      callAs: props.delegatedAdmin ? 'DELEGATED_ADMIN' : 'SELF',
      // named IAM resources (the retention roles, the window instance policies)
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        maxConcurrentPercentage: concurrency,
        failureTolerancePercentage: tolerance,
        regionConcurrencyType: 'PARALLEL',
      },
    };
    this.stackSet = new CfnStackSet(this, 'Resource', {
      ...common,
      stackSetName: name,
      description: 'EBS backup baseline: tiers by tag, write-once guard, alarms and dashboard (cdk-ebs-backup)',
      ...this.templateSource('MemberTemplate', artifact.templateFullPath, this.memberTemplate),
      stackInstancesGroup: [{ deploymentTargets: { organizationalUnitIds: props.organizationalUnitIds }, regions: props.regions }],
    });

    // --- the DR vaults
    const drVaultName = props.baseline.drVaultName ?? EbsBackupBaseline.DEFAULT_DR_VAULT_NAME;
    const backupDrRegions = [...new Set(this.memberBaseline.tiers
      .map((t) => t.definition.backupPlan?.drRegion)
      .filter((r): r is string => r !== undefined))];
    if ((props.drVaults ?? true) && backupDrRegions.length > 0) {
      const drStage = new Stage(this, 'DrVault');
      const drStack = new Stack(drStage, 'DrVault', {
        synthesizer: new BootstraplessSynthesizer(),
        analyticsReporting: false,
        description: 'Receives AWS Backup DR copies of the EBS backup baseline (cdk-ebs-backup)',
      });
      new BackupArchiveVault(drStack, 'Vault', {
        sourceAccounts: [Aws.ACCOUNT_ID],
        vaultName: drVaultName,
        vaultLock: props.drVaultLock ?? VaultLock.governance({ minRetention: Duration.days(7) }),
        breakGlassPrincipalArns: memberBreakGlass,
      });
      const drArtifact = drStage.synth().getStackArtifact(drStack.artifactId);
      this.drVaultStackSet = new CfnStackSet(this, 'DrVaults', {
        ...common,
        stackSetName: `${name}-dr-vault`.slice(0, 128),
        description: 'Vaults that receive the EBS backup baseline\'s DR copies (cdk-ebs-backup)',
        ...this.templateSource('DrVaultTemplate', drArtifact.templateFullPath, drArtifact.template),
        stackInstancesGroup: [{ deploymentTargets: { organizationalUnitIds: props.organizationalUnitIds }, regions: backupDrRegions }],
      });
    }

    // --- the SCP
    if (props.serviceControlPolicy ?? true) {
      const partition = Aws.PARTITION;
      const retentionRoles = `arn:${partition}:iam::*:role${RETENTION_ROLE_PATH}*`;
      // one role per member role and region: the name is exact up to the region suffix (listing
      // every region would grow the SCP past the five policies an OU can carry)
      const exact = (names: string[]) => names.map((n) => `arn:${partition}:iam::*:role${RETENTION_ROLE_PATH}${n}-*`);
      const purposes = this.memberBaseline.tiers.flatMap((t) => t.purposes());
      this.serviceControlPolicy = new WormServiceControlPolicy(this, 'Scp', {
        targetIds: props.organizationalUnitIds,
        policyName: `${name}-write-once`,
        breakGlassPrincipalArns: props.baseline.breakGlassPrincipalArns,
        // the member roles that expire backups (data statements) and lock snapshots (the lock
        // statement), by exact name: another role on the path is exempt from nothing
        exemptPrincipalArns: exact(this.retentionRoleNames),
        exemptLockPrincipalArns: exact(this.lockRoleNames),
        exemptRegisteredRetentionRoles: false,
        // member accounts are deployed by the StackSets execution role, which only AWS creates (denied below)
        deploymentPrincipalArns: [`arn:${partition}:iam::*:role/stacksets-exec-*`],
        protectedResources: props.baseline.protectedResources ?? ProtectedResources.purposes(...purposes),
        blockPublicSharing: true,
      });
      // Nobody but the StackSets execution role may create, re-trust, re-permission or pass a role
      // on the exempt path; and nobody may make a role that looks like the StackSets execution
      // role: the service-linked role that creates those is not subject to SCPs.
      const stackSetsExec = `arn:${partition}:iam::*:role/stacksets-exec-*`;
      this.serviceControlPolicy.addStatements(new iam.PolicyStatement({
        sid: 'DenyRetentionRolePathExceptStackSets',
        effect: iam.Effect.DENY,
        actions: actionsOf('exemptRoles'),
        resources: [retentionRoles],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': [stackSetsExec, ...props.baseline.breakGlassPrincipalArns ?? []] } },
      }), new iam.PolicyStatement({
        sid: 'DenyStackSetsExecutionRoleLookalikes',
        effect: iam.Effect.DENY,
        actions: actionsOf('exemptRoles').filter((a) => a !== 'iam:PassRole'),
        resources: [stackSetsExec],
        ...(props.baseline.breakGlassPrincipalArns ?? []).length > 0
          ? { conditions: { ArnNotLike: { 'aws:PrincipalArn': [...props.baseline.breakGlassPrincipalArns ?? []] } } } : {},
      }));
      // the exact names on any other path: such a role would not be exempt, but it would take the
      // name and make the StackSet's deployment fail in that account (IAM role names are unique
      // per account, whatever the path)
      const allNames = [...this.retentionRoleNames, ...this.lockRoleNames];
      if (allNames.length > 0) {
        this.serviceControlPolicy.addStatements(new iam.PolicyStatement({
          sid: 'DenyRetentionRoleNamesExceptStackSets',
          effect: iam.Effect.DENY,
          actions: actionsOf('exemptRoles'),
          resources: allNames.map((n) => `arn:${partition}:iam::*:role/*${n}-*`),
          conditions: { ArnNotLike: { 'aws:PrincipalArn': [stackSetsExec, ...props.baseline.breakGlassPrincipalArns ?? []] } },
        }));
      }
    }
  }

  /** Inline the template when it fits, otherwise upload it as an asset of this (administrator) stack. */
  private templateSource(id: string, file: string, template: unknown): { templateBody?: string; templateUrl?: string } {
    const body = JSON.stringify(template);
    if (Buffer.byteLength(body, 'utf8') <= STACKSET_TEMPLATE_BODY_LIMIT) {
      return { templateBody: body };
    }
    const asset = new s3assets.Asset(this, id, { path: file });
    return { templateUrl: Token.asString(asset.httpUrl) };
  }
}

/**
 * `EbsBackup-<10 hex>`: the same in every member account, different for each StackSet and role
 * (the region is appended in the template).
 */
function retentionRoleBaseName(stackSetName: string, rolePath: string): string {
  return `EbsBackup-${createHash('sha256').update(`${stackSetName}\n${rolePath}`).digest('hex').slice(0, 10)}`;
}
