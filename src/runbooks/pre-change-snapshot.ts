import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { AutomationDocumentModel, AutomationStep, ExecuteAwsApiStep } from './automation';
import { PreChangeExpiry } from './pre-change-expiry';
import { automationRole, runbookTagKeys } from './shared';
import { acknowledgeFindings, ANY_RESOURCE_FINDING, wildcardArn } from '../core/acknowledge';
import { registerArtefactRetention } from '../core/artefact-retentions';
import { ChangeDetection } from '../core/change-detection';
import { protectAsMachinery } from '../core/machinery';
import { planRetention, planTags, registerPlan } from '../core/plan-report';
import { Retention } from '../core/retention';
import { BackupArtefactTagSet, BackupTagging, IBackupArtefactSource } from '../core/tagging';
import { check, checkDuration, checkTags, collectProblems, isUnresolved, retentionAge, wholeDays } from '../core/validation';

/**
 * Properties of a `PreChangeSnapshot`.
 */
export interface PreChangeSnapshotProps {
  /**
   * How long each pre-change snapshot and AMI is kept before the expiry job removes it:
   * `Retention.age(...)` (the job expires by age); it also becomes the retention tag
   * (`age:14d`), so an auditor reads the rule off the artefact.
   *
   * @default Retention.age(Duration.days(14))
   */
  readonly retain?: Retention;

  /**
   * Also create an AMI of the whole instance, so a failed change can be rolled back by
   * relaunching rather than by restoring volume by volume.
   *
   * @default false
   */
  readonly includeImage?: boolean;

  /**
   * Reboot the instance for the AMI (file-system consistent) instead of taking it without a
   * reboot (crash consistent). Fixed here, not a runbook parameter, so that running the runbook
   * never gives operators the power to reboot an instance.
   *
   * @default false - the AMI is taken without a reboot
   */
  readonly rebootForImage?: boolean;

  /**
   * Snapshot only the data volumes, for changes that never touch the operating system
   * (ignored by the AMI, which always covers the whole instance).
   *
   * @default false
   */
  readonly excludeBootVolume?: boolean;

  /**
   * The purpose tag value that marks these artefacts; the expiry job deletes only artefacts
   * with this purpose and this construct's managed-by tag.
   *
   * @default 'pre-change'
   */
  readonly purpose?: string;

  /**
   * Restrict the runbook to instances carrying all of these tags, enforced in the automation
   * role's policy (`aws:ResourceTag`) so it holds whatever parameters an operator passes.
   *
   * @default - any instance in the account and region
   */
  readonly instanceTags?: Record<string, string>;

  /**
   * When the expiry job runs.
   *
   * @default Schedule.rate(Duration.hours(6))
   */
  readonly expirySchedule?: events.Schedule;

  /**
   * Reserve this many concurrent executions for the expiry function. Opt-in: Lambda keeps at
   * least 100 unreserved executions per account, so an account whose concurrency quota is 10
   * (new accounts) rejects any reservation and the deployment fails. Without it two runs may
   * overlap (a run longer than the schedule); the handler treats an artefact already gone as
   * expired, so an overlap is harmless.
   *
   * @default - no reservation
   */
  readonly expiryReservedConcurrentExecutions?: number;

  /**
   * Where the runbook's alarms notify: the expiry job's failures (`expiryAlarm`) and a change to
   * the runbook's machinery (`changeAlarm`: its document, the expiry function, schedule or alarms).
   *
   * @default - none: `expiryAlarm` and `changeAlarm` are exposed for the team to route
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

const PRE_CHANGE_PARAMETERS = {
  instanceId: 'InstanceId',
  changeReference: 'ChangeReference',
} as const;

/**
 * An SSM Automation runbook that takes the pre-change snapshots the guidance asks for ("create
 * snapshots of the appropriate volumes or the entire instance before you make any major
 * changes"), which operators may run without any EC2 permission of their own.
 *
 * The operator starts the runbook with an instance id (or, through Automation's rate control,
 * with `--targets Key=tag:<key>,Values=<value> --target-parameter-name InstanceId`) and a change
 * reference. The runbook, running under its own role, takes crash-consistent snapshots of all
 * the instance's volumes in one `CreateSnapshots` call (and optionally an AMI), tagged with
 * purpose, retention, managed-by, the change reference, the operator's identity and the
 * automation execution id. A scheduled job deletes them after `retain` unless someone
 * re-tags them to keep them.
 *
 * @example
 * declare const operators: iam.IRole;
 * const runbook = new PreChangeSnapshot(this, 'PreChange', {
 *   retain: Retention.age(Duration.days(14)),
 *   includeImage: true,
 * });
 * runbook.grantStart(operators);
 */
export class PreChangeSnapshot extends Construct implements IBackupArtefactSource {
  /** The runbook parameter naming the instance (the `--target-parameter-name` for tag targets). */
  public static readonly INSTANCE_ID_PARAMETER = PRE_CHANGE_PARAMETERS.instanceId;

  /** The runbook parameter carrying the change ticket. */
  public static readonly CHANGE_REFERENCE_PARAMETER = PRE_CHANGE_PARAMETERS.changeReference;

  /** The Automation document operators run. */
  public readonly document: ssm.CfnDocument;

  /** The document's name, to pass to `StartAutomationExecution`. */
  public readonly documentName: string;

  /** The document's ARN. */
  public readonly documentArn: string;

  /** The role every step of the runbook runs as: the only holder of the EC2 create rights. */
  public readonly automationRole: iam.IRole;

  /** The role of the expiry job: the only one allowed to delete these artefacts. */
  public readonly expiryRole: iam.IRole;
  /** In alarm when a scheduled expiry run failed every retry (its events are in a dead-letter queue). */
  public readonly expiryAlarm: cloudwatch.IAlarm;
  /**
   * In alarm when a piece of the runbook was changed or disabled: its Automation document, the
   * expiry function, its schedule rule or alarm (a CloudTrail management event matched its
   * change-detection rules; a deployment counts too).
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;

  /** How long artefacts are kept. */
  public readonly retention: Retention;

  private readonly tags: Record<string, string>;
  private readonly includeImage: boolean;
  private operatorPolicy?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: PreChangeSnapshotProps = {}) {
    super(scope, id);
    protectAsMachinery(this);
    this.includeImage = props.includeImage ?? false;
    // every problem of the runbook's props at once
    const expireAfter = collectProblems(this, () => {
      if (props.purpose !== undefined) {
        BackupTagging.validatePurpose(this, 'purpose', props.purpose);
      }
      checkTags(this, 'instanceTags', props.instanceTags);
      // a silent no-op would let a reader believe the snapshots are taken after a reboot
      check(props.rebootForImage === undefined || this.includeImage, this, 'rebootForImage',
        'applies only with includeImage: true (snapshots are never taken with a reboot)', props.rebootForImage);
      const age = props.retain === undefined ? Duration.days(14)
        : retentionAge(this, 'retain', props.retain, 'the expiry job removes pre-change artefacts by age');
      // Retention.age's own range, checked here so the message names this construct and prop
      checkDuration(this, 'retain', age, Duration.days(1), Duration.days(36500));
      wholeDays(this, 'retain', age);
      return age;
    });
    registerPlan(this, 'PreChangeSnapshot', () => ({
      protects: [{
        mechanism: `PreChangeSnapshot runbook (snapshots${props.includeImage ? ' and an AMI' : ''} before a change)`,
        selects: props.instanceTags ? `instances tagged ${planTags(props.instanceTags)}` : 'the instance an operator names',
        schedule: 'on demand',
        retention: planRetention(expireAfter),
      }],
    }));

    this.retention = Retention.age(expireAfter);
    const purpose = props.purpose ?? 'pre-change';
    const keys = BackupTagging.keys(this);
    const extra = runbookTagKeys(this);
    const base = BackupTagging.tagsFor(this, { purpose, retention: this.retention });
    this.tags = base;
    // the snapshot lock compares its duration with this retention
    registerArtefactRetention({
      construct: this,
      property: 'retain',
      purpose,
      retention: this.retention,
      // Automation tags each artefact at creation with its execution id, an execution of this document
      creationRecord: () => ({ managedBy: base[keys.managedBy], executionTagKey: extra.execution, automationDocument: this.documentName }),
    });

    // Tags every artefact carries: the three library tags are constants of the document (and
    // required by the role's policy); the rest are filled in by Automation at run time.
    const runTags: Record<string, string> = {
      ...base,
      [extra.changeReference]: `{{ ${PRE_CHANGE_PARAMETERS.changeReference} }}`,
      [extra.executedBy]: '{{ identifyOperator.ExecutedBy }}',
      [extra.execution]: '{{ automation:EXECUTION_ID }}',
      [extra.sourceInstance]: `{{ ${PRE_CHANGE_PARAMETERS.instanceId} }}`,
      Name: `${purpose} {{ ${PRE_CHANGE_PARAMETERS.changeReference} }}`,
    };
    const tagList = Object.entries(runTags).map(([Key, Value]) => ({ Key, Value }));

    this.automationRole = automationRole(this, 'AutomationRole',
      `Runs the ${this.node.path} pre-change runbook: creates tagged snapshots${this.includeImage ? ' and AMIs' : ''}, nothing else`);
    const role = this.automationRole;
    const stack = Stack.of(this);

    const steps: AutomationStep[] = [
      // Automation has no system variable for the caller: read it from the execution itself.
      new ExecuteAwsApiStep({
        name: 'identifyOperator',
        description: 'Reads who started this execution, for the executed-by tag.',
        service: 'ssm',
        api: 'GetAutomationExecution',
        parameters: { AutomationExecutionId: '{{ automation:EXECUTION_ID }}' },
        outputs: [{ name: 'ExecutedBy', selector: '$.AutomationExecution.ExecutedBy', type: 'String' }],
      }),
      new ExecuteAwsApiStep({
        name: 'createSnapshots',
        description: 'Takes crash-consistent snapshots of every attached volume at one point in time.',
        service: 'ec2',
        api: 'CreateSnapshots',
        parameters: {
          InstanceSpecification: {
            InstanceId: `{{ ${PRE_CHANGE_PARAMETERS.instanceId} }}`,
            ExcludeBootVolume: props.excludeBootVolume ?? false,
          },
          Description: `${purpose} snapshot for {{ ${PRE_CHANGE_PARAMETERS.changeReference} }} (automation {{ automation:EXECUTION_ID }})`,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: tagList }],
        },
        outputs: [{ name: 'SnapshotIds', selector: '$.Snapshots..SnapshotId', type: 'StringList' }],
      }),
    ];
    const outputs = ['identifyOperator.ExecutedBy', 'createSnapshots.SnapshotIds'];
    if (this.includeImage) {
      steps.push(new ExecuteAwsApiStep({
        name: 'createImage',
        description: props.rebootForImage ? 'Creates an AMI of the whole instance, rebooting it for file-system consistency.'
          : 'Creates an AMI of the whole instance without a reboot (crash consistent).',
        service: 'ec2',
        api: 'CreateImage',
        parameters: {
          InstanceId: `{{ ${PRE_CHANGE_PARAMETERS.instanceId} }}`,
          // AMI names allow letters, digits and ( ) [ ] space . / - ' @ _ only, 3-128 characters
          Name: `${purpose.replace(/[^A-Za-z0-9()[\]./'@_ -]/g, '-').slice(0, 60)}-{{ ${PRE_CHANGE_PARAMETERS.instanceId} }}-{{ automation:EXECUTION_ID }}`,
          Description: `${purpose} AMI for {{ ${PRE_CHANGE_PARAMETERS.changeReference} }}`,
          NoReboot: !props.rebootForImage,
          TagSpecifications: [{ ResourceType: 'image', Tags: tagList }, { ResourceType: 'snapshot', Tags: tagList }],
        },
        outputs: [{ name: 'ImageId', selector: '$.ImageId', type: 'String' }],
      }));
      outputs.push('createImage.ImageId');
    }

    const model = new AutomationDocumentModel({
      description: [
        `# ${purpose} snapshot (${this.node.path})`,
        '',
        `Takes ${this.includeImage ? 'snapshots of every volume and an AMI' : 'snapshots of every volume'} of one instance before a change,`,
        `tagged with the change reference and who ran it. Kept for ${this.retention.toTagValue()}, then removed`,
        `unless re-tagged (set \`${keys.retention}\` to \`keep\` or to a longer \`age:<days>d\`).`,
        '',
        'Many instances at once: start it with `--targets Key=tag:<key>,Values=<value> --target-parameter-name InstanceId`.',
      ].join('\n'),
      assumeRole: role.roleArn,
      parameters: {
        [PRE_CHANGE_PARAMETERS.instanceId]: {
          type: 'String',
          description: 'The instance whose volumes are snapshotted.',
          allowedPattern: '^i-[0-9a-f]{8,17}$',
        },
        [PRE_CHANGE_PARAMETERS.changeReference]: {
          type: 'String',
          description: 'The change ticket this snapshot belongs to (e.g. CHG0012345); becomes a tag.',
          allowedPattern: '^[A-Za-z0-9 _.:/=+@-]{1,128}$',
        },
      },
      steps,
      outputs,
    });
    this.node.addValidation({ validate: () => model.problems().map((p) => `${this.node.path}: runbook ${p}`) });

    this.document = new ssm.CfnDocument(this, 'Document', {
      documentType: 'Automation',
      documentFormat: 'JSON',
      targetType: '/AWS::EC2::Instance',
      content: model.render(),
    });
    this.documentName = this.document.ref;
    this.documentArn = stack.formatArn({ service: 'ssm', resource: 'document', resourceName: this.documentName });

    // The role may create snapshots and AMIs only if they carry this runbook's tags, and tag
    // only while creating them: it can neither delete nor re-tag anything.
    const instanceConditions = props.instanceTags && !isUnresolved(props.instanceTags)
      ? { StringEquals: Object.fromEntries(Object.entries(props.instanceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])) }
      : undefined;
    const createActions = this.includeImage ? ['ec2:CreateSnapshots', 'ec2:CreateImage'] : ['ec2:CreateSnapshots'];
    const instances = wildcardArn('ec2', 'instance/*');
    const volumes = wildcardArn('ec2', 'volume/*');
    const artefacts = [wildcardArn('ec2', 'snapshot/*', false), ...(this.includeImage ? [wildcardArn('ec2', 'image/*', false)] : [])];
    const executions = wildcardArn('ssm', 'automation-execution/*');
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'SourceInstances',
      actions: createActions,
      resources: [instances.arn],
      conditions: instanceConditions,
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'SourceVolumes',
      actions: ['ec2:CreateSnapshots'],
      resources: [volumes.arn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'TaggedArtefactsOnly',
      actions: createActions,
      resources: artefacts.map((a) => a.arn),
      conditions: {
        'StringEquals': Object.fromEntries([keys.purpose, keys.retention, keys.managedBy].map((k) => [`aws:RequestTag/${k}`, base[k]])),
        'ForAllValues:StringEquals': { 'aws:TagKeys': Object.keys(runTags) },
      },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'TagOnCreateOnly',
      actions: ['ec2:CreateTags'],
      resources: artefacts.map((a) => a.arn),
      conditions: { StringEquals: { 'ec2:CreateAction': createActions.map((a) => a.replace('ec2:', '')) } },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadOwnExecution',
      actions: ['ssm:GetAutomationExecution'],
      resources: [executions.arn],
    }));
    acknowledgeFindings(role,
      'instance and volume ids are chosen by the operator at run time and snapshot/AMI ids do not exist before creation; ' +
      'creation is limited by aws:RequestTag (purpose, retention, managed-by) and tagging by ec2:CreateAction; ' +
      'automation execution ids are generated by SSM',
      ...[instances, volumes, ...artefacts, executions].map((a) => a.nagId));

    const expiry = new PreChangeExpiry(this, 'Expiry', {
      purposeKey: keys.purpose,
      purpose,
      managedByKey: keys.managedBy,
      managedBy: base[keys.managedBy],
      retentionKey: keys.retention,
      expireAfter,
      schedule: props.expirySchedule,
      reservedConcurrentExecutions: props.expiryReservedConcurrentExecutions,
      alarmAction: props.alarmAction,
    });
    this.expiryRole = expiry.role;
    this.expiryAlarm = expiry.alarm;

    BackupTagging.addArtefactSource(this, this);
    // last: the rules name the document and the expiry job created above
    this.changeAlarm = new ChangeDetection(this, 'ChangeDetection', {
      mechanism: `Pre-change runbook ${this.node.path}`,
      alarmActions: props.alarmAction ? [props.alarmAction] : undefined,
      noActionReason: 'no alarmAction was given: changeAlarm is exposed for the team to route',
    }).alarm;
  }

  /**
   * Let `grantee` start this runbook and follow its executions, and nothing else: no EC2
   * permission, and `iam:PassRole` only for the runbook's own role, only to Systems Manager.
   *
   * Roles, users and groups get a managed policy owned by this construct (so its findings are
   * reviewed here once); any other grantee gets the statements in its own policy.
   */
  public grantStart(grantee: iam.IGrantable): iam.Grant {
    const statements = this.startStatements();
    const principal = grantee.grantPrincipal as Partial<iam.IRole & iam.IUser & iam.IGroup>;
    const attach = principal.roleArn ? (p: iam.ManagedPolicy) => p.attachToRole(principal as iam.IRole)
      : principal.userArn ? (p: iam.ManagedPolicy) => p.attachToUser(principal as iam.IUser)
        : principal.groupArn ? (p: iam.ManagedPolicy) => p.attachToGroup(principal as iam.IGroup)
          : undefined;
    if (!attach) {
      // any other principal: the first statement through Grant (so the caller can assert it), the rest alongside
      const [start, ...rest] = statements;
      rest.forEach((s) => grantee.grantPrincipal.addToPrincipalPolicy(s));
      return iam.Grant.addToPrincipal({ grantee, actions: start.actions, resourceArns: start.resources });
    }
    if (!this.operatorPolicy) {
      this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
        description: `Start the ${this.node.path} runbook and read its executions; no EC2 permissions`,
        statements,
      });
      acknowledgeFindings(this.operatorPolicy,
        'automation-execution/* is required by StartAutomationExecution (execution ids are generated by SSM); ' +
        'DescribeAutomationExecutions and tag:GetResources support no resource-level permissions',
        wildcardArn('ssm', 'automation-execution/*').nagId, ANY_RESOURCE_FINDING);
    }
    attach(this.operatorPolicy);
    return iam.Grant.drop(grantee, `start ${this.node.path} through the managed policy ${this.operatorPolicy.node.path}`);
  }

  /** The tags of every artefact the runbook creates (the run-time tags come on top). */
  public artefactTagSets(): BackupArtefactTagSet[] {
    const sets = [{ artefact: `snapshots of runbook '${this.node.path}'`, tags: this.tags }];
    if (this.includeImage) {
      sets.push({ artefact: `AMIs of runbook '${this.node.path}'`, tags: this.tags });
    }
    return sets;
  }

  private startStatements(): iam.PolicyStatement[] {
    const executions = wildcardArn('ssm', 'automation-execution/*').arn;
    return [
      new iam.PolicyStatement({
        sid: 'StartThisRunbookOnly',
        actions: ['ssm:StartAutomationExecution'],
        resources: [this.documentArn, executions],
      }),
      new iam.PolicyStatement({
        sid: 'ReadThisRunbook',
        actions: ['ssm:DescribeDocument', 'ssm:GetDocument'],
        resources: [this.documentArn],
      }),
      new iam.PolicyStatement({
        sid: 'FollowExecutions',
        actions: ['ssm:GetAutomationExecution', 'ssm:DescribeAutomationStepExecutions'],
        resources: [executions],
      }),
      new iam.PolicyStatement({
        sid: 'ListExecutionsAndResolveTagTargets',
        actions: ['ssm:DescribeAutomationExecutions', 'tag:GetResources'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'PassRunbookRoleToSsmOnly',
        actions: ['iam:PassRole'],
        resources: [this.automationRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
      }),
    ];
  }
}
