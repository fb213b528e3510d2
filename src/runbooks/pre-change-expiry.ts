import * as path from 'path';
import { Duration, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeFindings, ANY_RESOURCE_FINDING, guard, wildcardArn } from '../core/acknowledge';
import { RetentionRoles } from '../core/retention-roles';

/** What the expiry job needs to find and judge the runbook's artefacts. */
export interface PreChangeExpiryProps {
  readonly purposeKey: string;
  readonly purpose: string;
  readonly managedByKey: string;
  readonly managedBy: string;
  readonly retentionKey: string;
  /** Used only while the retention tag could not be rendered at synthesis (a token). */
  readonly expireAfter: Duration;
  readonly schedule?: events.Schedule;
}

/**
 * The scheduled job that deregisters pre-change AMIs and deletes pre-change snapshots once
 * their retention tag (`age:<days>d`) has run out; an artefact re-tagged with anything else
 * (`keep`) stays. Its role may delete only artefacts carrying this runbook's purpose and
 * managed-by tags, and is registered with `RetentionRoles` so that the write-once guard
 * exempts exactly it.
 */
export class PreChangeExpiry extends Construct {
  public readonly role: iam.Role;
  public readonly function: lambda.Function;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: PreChangeExpiryProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      description: `Deletes expired ${props.purpose} snapshots and AMIs of ${props.managedBy}`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const ownArtefacts = {
      StringEquals: {
        [`aws:ResourceTag/${props.purposeKey}`]: props.purpose,
        [`aws:ResourceTag/${props.managedByKey}`]: props.managedBy,
      },
    };
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'FindArtefacts',
      actions: ['ec2:DescribeSnapshots', 'ec2:DescribeImages'],
      resources: ['*'],
    }));
    const artefacts = [wildcardArn('ec2', 'snapshot/*', false), wildcardArn('ec2', 'image/*', false)];
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DeleteOwnArtefactsOnly',
      actions: ['ec2:DeleteSnapshot', 'ec2:DeregisterImage'],
      resources: artefacts.map((a) => a.arn),
      conditions: ownArtefacts,
    }));

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    this.function = new lambda.Function(this, 'Function', {
      description: `Expires ${props.purpose} snapshots and AMIs of ${props.managedBy}`.slice(0, 256),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', 'lambda', 'prechange-expiry')),
      role: this.role,
      logGroup,
      timeout: Duration.minutes(10),
      memorySize: 256,
      // two overlapping runs would race on the same artefacts
      reservedConcurrentExecutions: 1,
      environment: {
        PURPOSE_KEY: props.purposeKey,
        PURPOSE: props.purpose,
        MANAGED_BY_KEY: props.managedByKey,
        MANAGED_BY: props.managedBy,
        RETENTION_KEY: props.retentionKey,
        EXPIRE_AFTER_DAYS: props.expireAfter.isUnresolved() ? Token.asString(props.expireAfter.toDays()) : String(props.expireAfter.toDays()),
      },
    });
    logGroup.grantWrite(this.role);

    // an EventBridge rule invokes through the function's resource policy: no role to hold
    this.rule = new events.Rule(this, 'Schedule', {
      description: `Expire ${props.purpose} artefacts of ${props.managedBy}`.slice(0, 512),
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(6)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });

    RetentionRoles.register(this, this.role,
      `expires ${props.purpose} snapshots and AMIs of ${props.managedBy} after their retention tag runs out`);

    acknowledgeFindings(this.role,
      'DescribeSnapshots/DescribeImages support no resource-level permissions; deletion is limited by ' +
      'aws:ResourceTag to artefacts carrying this runbook\'s purpose and managed-by tags',
      ANY_RESOURCE_FINDING, ...artefacts.map((a) => a.nagId));
    acknowledge(this.function,
      guard('lambda_inside_vpc_check', 'the job calls only the public EC2 API and reaches no private resource; a VPC adds NAT cost and no control'),
    );
    acknowledge(logGroup,
      guard('cloudwatch_log_group_encrypted_check', 'the log holds only artefact ids and counts, no customer data; ' +
        'CloudWatch Logs encrypts it at rest with its own key'),
    );
  }
}
