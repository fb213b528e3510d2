/**
 * The world the attack paths run in: one account with a tag-scoped write-once guard delivered
 * in its three forms, a DLM role and an AWS Backup vault that expire backups, break-glass, the
 * CDK deployment role, and the protected artefacts. Account ids, purposes and the tag prefix are
 * deliberately not the ones of the docs and examples.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardDocuments } from './index';
import {
  BackupTagging, BackupVaultPolicy, ConsistentSnapshotJob, ProtectedResources, Retention, RetentionRoles, SnapshotLockMode, VaultLock,
  WormSnapshotGuard,
} from '../../../src';
import { render } from '../../worm/iam-simulation';
import { checkedTemplate, createCheckedApp } from '../index';

export interface WorldOptions {
  /** Which artefacts the guard protects. @default purposes(ledger-archive, ledger-dr) */
  readonly protectedResources?: 'purposes' | 'purposeTagged' | 'all';
}

export interface World {
  readonly account: string;
  /** An account outside the sharing allow-list. */
  readonly foreignAccount: string;
  /** The one account snapshots may be shared with. */
  readonly partnerAccount: string;
  readonly region: string;
  readonly purposeKey: string;
  /** A protected purpose. */
  readonly purpose: string;
  /** The tags of a protected artefact. */
  readonly protectedTags: Record<string, string>;
  readonly principals: {
    /** Holds the broad allow, is not exempt: the adversary. */
    readonly attacker: string;
    readonly breakGlass: string;
    /** A DLM execution role this library created (registered with RetentionRoles). */
    readonly dlmRole: string;
    /** AWS Backup's role of the vault policy (registered). */
    readonly backupRole: string;
    /** The DLM default role, exempt by pattern. */
    readonly dlmDefaultRole: string;
    /** The guard's snapshot lock job. */
    readonly lockRole: string;
    /** The CDK bootstrap CloudFormation execution role (the default deployment principal). */
    readonly deployer: string;
    /** The role of an application server that runs AWS's VSS agent (its requests carry ec2:SourceInstanceARN). */
    readonly vssInstance: string;
  };
  /** The tag key every job reads: managed-by (the machinery carries it too). */
  readonly managedByKey: string;
  /** Tag keys, by name, as the app names them (prefix applied). */
  readonly tagKey: (name: string) => string;
  /** The tags the library's machinery carries from its creation, read from the synthesized lock job. */
  readonly machineryTags: Record<string, string>;
  /** The library's own jobs (issue 16), each tagged with `machineryTags`. */
  readonly machinery: {
    readonly function: string;
    readonly stateMachine: string;
    readonly execution: string;
    readonly document: string;
    readonly window: string;
    readonly association: string;
    readonly rule: string;
    readonly alarm: string;
    readonly topic: string;
    readonly topicKey: string;
  };
  readonly resources: {
    readonly snapshot: string;
    readonly image: string;
    readonly recoveryPoint: string;
    readonly vault: string;
    readonly backupPlan: string;
    readonly dlmPolicy: string;
    readonly recycleBinRule: string;
    /** The key of the protected volumes (sourceKeys). */
    readonly sourceKey: string;
    /** A key carrying the purpose tag, protected without being named. */
    readonly taggedKey: string;
    readonly guardPolicy: string;
    readonly boundaryPolicy: string;
  };
  readonly guard: GuardDocuments;
  /** The snapshot lock job's role policy, as deployed, and the lock duration it is configured with (days). */
  readonly lockRolePolicy: any;
  readonly lockDurationDays: number;
  /** The vault's access policy, as deployed. */
  readonly vaultAccessPolicy: any;
  /** The snapshot lock job's machine and its role's trust policy, as deployed. */
  readonly lockMachineArn: string;
  readonly lockRoleTrust: any;
  /**
   * A consistent snapshot job's expiry function (a registered retention role: it deletes the
   * job's expired snapshots), its ARN as deployed and every policy of its role.
   */
  readonly expiry: { readonly functionArn: string; readonly role: string; readonly rolePolicies: readonly any[] };
}

const ACCOUNT = '444455556666';
const REGION = 'eu-central-1';
const PREFIX = 'ledgerco:';
const LOCK_DAYS = 3;

export function synthesizeWorld(options: WorldOptions = {}): World {
  const app = createCheckedApp({ context: { [BackupTagging.PREFIX_CONTEXT]: PREFIX } });
  const stack = new Stack(app, 'LedgerBackups', { env: { account: ACCOUNT, region: REGION } });
  const breakGlass = `arn:aws:iam::${ACCOUNT}:role/ledger-break-glass`;
  const sourceKey = `arn:aws:kms:${REGION}:${ACCOUNT}:key/5a1d7e0c-93b4-4c2e-8f61-0d9e4b7a2c13`;
  const scope = options.protectedResources ?? 'purposes';
  const guard = new WormSnapshotGuard(stack, 'LedgerGuard', {
    breakGlassPrincipalArns: [breakGlass],
    exemptPrincipalArns: ['arn:aws:iam::*:role/AWSDataLifecycleManagerDefaultRole'],
    protectedResources: scope === 'purposes' ? ProtectedResources.purposes('ledger-archive', 'ledger-dr')
      : scope === 'purposeTagged' ? ProtectedResources.purposeTagged() : ProtectedResources.all(),
    sourceKeys: [kms.Key.fromKeyArn(stack, 'VolumeKey', sourceKey)],
    sharingAllowedAccounts: ['121212121212'],
    snapshotLock: { mode: SnapshotLockMode.governance(Duration.days(LOCK_DAYS)) },
    recycleBin: { retain: Retention.age(Duration.days(21)), lockUnlockDelay: Duration.days(7) },
  });
  const dlm = new iam.Role(stack, 'LedgerDlmRole', { assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com') });
  RetentionRoles.register(dlm, dlm, 'DLM execution role');
  const vault = new BackupVaultPolicy(stack, 'LedgerVault', {
    purpose: 'ledger-dr',
    vaultLock: VaultLock.governance({ minRetention: Duration.days(7) }),
    rules: [{ name: 'nightly', schedule: events.Schedule.cron({ hour: '2', minute: '30' }), retain: Retention.age(Duration.days(45)) }],
    allTags: { LedgerTier: 'gold' },
    breakGlassPrincipalArns: [breakGlass],
    notifications: false,
  });
  const job = new ConsistentSnapshotJob(stack, 'LedgerJob', {
    purpose: 'ledger-archive',
    instances: { tags: { LedgerTier: 'gold' } },
    schedule: events.Schedule.cron({ hour: '3', minute: '15' }),
    retain: Retention.count(9),
  });
  const attacker = new iam.Role(stack, 'PlatformAdmin', { assumedBy: new iam.AccountRootPrincipal() });
  guard.protect(attacker);
  guard.applyPermissionsBoundary(attacker);
  const scps = guard.toServiceControlPolicies();
  Validations.of(stack).acknowledge(
    { id: WormSnapshotGuard.NO_EXEMPTION_WARNING, reason: 'not raised: break-glass is declared' },
  );

  const template = checkedTemplate(stack);
  const roleArns: Record<string, string> = {};
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    if (r.Type === 'AWS::IAM::Role') {
      roleArns[id] = `arn:aws:iam::${ACCOUNT}:role/${id}`;
    }
  }
  const logicalId = (c: { node: { defaultChild?: any } }) => stack.getLogicalId(c.node.defaultChild);
  // CloudFormation names functions <stack>-<logical id>-<random>, state machines <logical id>-<random>
  const expiryFnId = logicalId(job.expiryFunction as lambda.Function);
  const lockMachineId = logicalId(guard.snapshotLock!.stateMachine);
  const deployed = {
    ...roleArns,
    [expiryFnId]: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:LedgerBackups-${expiryFnId}-Qw3Er5Ty7Ui9`,
    [lockMachineId]: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${lockMachineId}-Qw3Er5Ty7Ui9`,
  };
  const expiryRoleId = logicalId(job.expiryFunction.role as iam.Role);
  // the machinery's tags as deployed: the lock job's state machine carries them from its creation
  const lockMachine = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  const machineryTags: Record<string, string> = Object.fromEntries((lockMachine.Properties.Tags ?? []).map((t: any) => [t.Key, t.Value]));
  const docOf = (c: iam.ManagedPolicy) => render(template.Resources[logicalId(c)].Properties.PolicyDocument, roleArns);
  const vaultResource = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Backup::BackupVault');
  const purposeKey = BackupTagging.keys(stack).purpose;
  const policyName = template.Resources[logicalId(guard.managedPolicy)].Properties.ManagedPolicyName;
  const boundaryName = template.Resources[logicalId(guard.permissionsBoundary)].Properties.ManagedPolicyName;
  return {
    account: ACCOUNT,
    foreignAccount: '989898989898',
    partnerAccount: '121212121212',
    region: REGION,
    purposeKey,
    purpose: 'ledger-archive',
    protectedTags: { [purposeKey]: 'ledger-archive', [`${PREFIX}retention`]: 'count:9' },
    principals: {
      attacker: roleArns[logicalId(attacker)],
      breakGlass,
      dlmRole: roleArns[logicalId(dlm)],
      backupRole: roleArns[logicalId(vault.backupRole as iam.Role)],
      dlmDefaultRole: `arn:aws:iam::${ACCOUNT}:role/AWSDataLifecycleManagerDefaultRole`,
      lockRole: roleArns[logicalId(guard.snapshotLock!.role as iam.Role)],
      deployer: `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`,
      vssInstance: `arn:aws:iam::${ACCOUNT}:role/ledger-sql-server`,
    },
    managedByKey: BackupTagging.keys(stack).managedBy,
    tagKey: (name: string) => BackupTagging.key(stack, name),
    machineryTags,
    machinery: {
      function: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:LedgerBackups-ExpiryFunction4c1d`,
      stateMachine: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:LedgerLockJob7b2e`,
      execution: `arn:aws:states:${REGION}:${ACCOUNT}:execution:LedgerLockJob7b2e:3a4b5c6d`,
      document: `arn:aws:ssm:${REGION}:${ACCOUNT}:document/LedgerBackups-FsfreezeDocument9d8c`,
      window: `arn:aws:ssm:${REGION}:${ACCOUNT}:maintenancewindow/mw-0a1b2c3d4e5f60718`,
      association: `arn:aws:ssm:${REGION}:${ACCOUNT}:association/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9`,
      rule: `arn:aws:events:${REGION}:${ACCOUNT}:rule/LedgerBackups-OnSnapshotCompleted6a5b`,
      alarm: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:LedgerBackups-LockFailed2c3d`,
      topic: `arn:aws:sns:${REGION}:${ACCOUNT}:LedgerBackups-AlarmTopic8e9f`,
      topicKey: `arn:aws:kms:${REGION}:${ACCOUNT}:key/7e6d5c4b-3a29-4180-b7c6-d5e4f3a2b190`,
    },
    resources: {
      snapshot: `arn:aws:ec2:${REGION}::snapshot/snap-0f1e2d3c4b5a69788`,
      image: `arn:aws:ec2:${REGION}::image/ami-0a9b8c7d6e5f40312`,
      recoveryPoint: `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:7C1D2E3F-4A5B-4C6D-8E9F-0A1B2C3D4E5F`,
      vault: `arn:aws:backup:${REGION}:${ACCOUNT}:backup-vault:ledger-vault`,
      backupPlan: `arn:aws:backup:${REGION}:${ACCOUNT}:backup-plan:3f2e1d0c-ba98-7654-3210-fedcba987654`,
      dlmPolicy: `arn:aws:dlm:${REGION}:${ACCOUNT}:policy/policy-0d1c2b3a49586f7e0`,
      recycleBinRule: `arn:aws:rbin:${REGION}:${ACCOUNT}:rule/Xq7Lm2Np9Rt`,
      sourceKey,
      taggedKey: `arn:aws:kms:${REGION}:${ACCOUNT}:key/0c6b5a49-3827-4160-9e8d-7c6b5a493827`,
      guardPolicy: `arn:aws:iam::${ACCOUNT}:policy/${policyName}`,
      boundaryPolicy: `arn:aws:iam::${ACCOUNT}:policy/${boundaryName}`,
    },
    guard: {
      managedPolicy: docOf(guard.managedPolicy),
      boundary: docOf(guard.permissionsBoundary),
      scps: scps.map((doc) => render(stack.resolve(doc.toJSON()), roleArns)),
    },
    lockRolePolicy: render(Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::IAM::Policy'
      && JSON.stringify(r.Properties.Roles).includes(logicalId(guard.snapshotLock!.role as iam.Role))).Properties.PolicyDocument, roleArns),
    lockDurationDays: LOCK_DAYS,
    vaultAccessPolicy: render(vaultResource.Properties.AccessPolicy, roleArns),
    lockMachineArn: deployed[lockMachineId],
    lockRoleTrust: render(template.Resources[logicalId(guard.snapshotLock!.role as iam.Role)].Properties.AssumeRolePolicyDocument, deployed),
    expiry: {
      functionArn: deployed[expiryFnId],
      role: roleArns[expiryRoleId],
      rolePolicies: Object.values<any>(template.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((x: any) => x.Ref === expiryRoleId))
        .map((r) => render(r.Properties.PolicyDocument, deployed)),
    },
  };
}
