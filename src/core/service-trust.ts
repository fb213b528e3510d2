/**
 * Who may act as a job's role: the job itself, not a state machine or function of someone who
 * managed to pass the role (issue 16, path 1: `iam:PassRole` of an exempt deleter's role into the
 * attacker's own machine or function). The write-once guard denies that `iam:PassRole`
 * (`DenyExemptRoleChanges`); the roles hold on their own as well, wherever the guard is not
 * deployed or a principal is exempt from it.
 *
 * - Step Functions assumes a state machine's role with `aws:SourceArn` set to the machine's ARN
 *   and `aws:SourceAccount` to its account (Step Functions Developer Guide, "Creating an IAM role
 *   for your state machine", "Prevent cross-service confused deputy issue"). The machine's exact
 *   ARN would make a cycle (the machine names its role), so the trust names the machine's
 *   CloudFormation-generated name (`stateMachineNamePatterns`).
 * - Lambda does not document `aws:SourceArn` on the execution role's assumption, but it puts the
 *   calling function's ARN into the request context of every call made from its execution
 *   environment (`lambda:SourceFunctionArn`, Lambda Developer Guide, "Using source function ARN to
 *   control function access behavior"). The role denies itself every call from any other
 *   function's code, in a policy of its own (the function's default policy cannot name the
 *   function it is a dependency of).
 * - EventBridge assumes a rule target's role with `aws:SourceArn` set to the rule's ARN ("For
 *   EventBridge event bus rule targets, the value of aws:SourceArn must be the rule ARN",
 *   EventBridge User Guide, "Cross-service confused deputy prevention in Amazon EventBridge",
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
 *   A generated name would make the rule's ARN a cycle (the rule names its target's role), so the
 *   library names its rules itself (`scopedRuleName`) and the trust lists the exact ARNs of every
 *   rule in the app that targets the role (`trustOnlyRules`). When one of them has a name only
 *   CloudFormation knows (a rule of the user's own, targeting a job), the trust takes the page's
 *   form for an unknown part instead: this account's and region's rules (`rule/*`), so that rule
 *   keeps working.
 * - Systems Manager Automation assumes an `AutomationAssumeRole` with `aws:SourceArn` on this
 *   account's and region's Systems Manager resources (`arn:aws:ssm:<region>:<account>:*`, Systems
 *   Manager User Guide, "Cross-service confused deputy prevention",
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/cross-service-confused-deputy-prevention.html,
 *   the Automation example) (`ssmAutomationPrincipal`).
 *
 * Checked, and not scoped by `aws:SourceArn`, because AWS does not document the key for the role's
 * assumption (a condition the service does not send would stop every run):
 * - a maintenance window's task role (`ssm.amazonaws.com`): the same Systems Manager page gives
 *   examples for hybrid activations and Automation only; "Control access to maintenance windows
 *   using the AWS CLI" shows the trust without conditions. It keeps `aws:SourceAccount`.
 * - the DLM execution role (`dlm.amazonaws.com`): "IAM service roles for Amazon Data Lifecycle
 *   Manager" (https://docs.aws.amazon.com/ebs/latest/userguide/service-role.html) shows the
 *   service principal only (see `DlmExecutionRole`).
 * - AWS Backup's roles (`backup.amazonaws.com`): "Cross-service confused deputy prevention"
 *   (https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-service-confused-deputy-prevention.html)
 *   documents `aws:SourceArn` (a vault) for publishing to SNS topics, not for role assumption (see
 *   `backupServicePrincipal`).
 */
import { createHash } from 'crypto';
import { ArnFormat, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';

/**
 * How CloudFormation names a state machine without a `StateMachineName`: the Step Functions
 * resource provider (aws-cloudformation-resource-providers-stepfunctions, `CreateHandler`) calls
 * the CloudFormation plugin library's `IdentifierUtils.generateResourceIdentifier(logicalId,
 * token, maxLength)`, which keeps the logical id's first `maxLength - 13` characters and appends
 * `-` and 12 random characters (`StateMachine2E01A3A5-N5TJppzoevKQ`). The provider passed the
 * library's default of 40 (27 characters of logical id: `DefaultCustApprovalMachined-Cd1VkOHJRxcb`)
 * and later `STATE_MACHINE_NAME_MAXLEN`, 80 (67 characters). A machine keeps the name it was
 * created with, so both forms stay in use.
 */
const GENERATED_NAME_LOGICAL_ID_LENGTHS = [40 - 13, 80 - 13];

/**
 * The `stateMachine:` resource name patterns that CloudFormation's generated names of `logicalId`
 * match, under either generator (one pattern when the logical id fits both).
 */
export function stateMachineNamePatterns(logicalId: string): string[] {
  return [...new Set(GENERATED_NAME_LOGICAL_ID_LENGTHS.map((n) => `${logicalId.slice(0, n)}-*`))];
}

/** The `Sid` of the statement that denies a job function's role to any other function's code. */
export const OTHER_FUNCTIONS_DENY_SID = 'DenyCallsFromOtherFunctions';

/**
 * Trust the role of `machine` to Step Functions acting for `machine` only: `aws:SourceAccount`
 * and `aws:SourceArn` on the machine's generated name. A role the user passed keeps its own
 * trust. Call right after creating the machine.
 */
export function trustOnlyStateMachine(machine: sfn.StateMachine): void {
  const role = machine.role;
  if (!(role instanceof iam.Role) || !(role.node.defaultChild instanceof iam.CfnRole)) {
    return;
  }
  if (role.assumeRolePolicy?.statementCount !== 1) {
    throw new Error(`${machine.node.path}: the state machine's role must be trusted by Step Functions alone to be scoped to the machine`);
  }
  const stack = Stack.of(machine);
  const cfnMachine = machine.node.defaultChild as sfn.CfnStateMachine;
  // one ARN, or both generators' when the logical id is longer than the older one kept
  const sourceArn = Lazy.any({
    produce: () => {
      const arns = stateMachineNamePatterns(stack.resolve(cfnMachine.logicalId)).map((resourceName) => stack.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }));
      return arns.length === 1 ? arns[0] : arns;
    },
  });
  trustServiceFor(role.node.defaultChild, 'states.amazonaws.com', stack.account, sourceArn);
}

/**
 * Replace `role`'s trust with one statement: `service` may assume it acting for `sourceArn` in
 * `account` (`aws:SourceAccount`, `aws:SourceArn`). The trusts of the machines' and the rules' roles.
 */
function trustServiceFor(role: iam.CfnRole, service: string, account: string, sourceArn: unknown): void {
  role.addPropertyOverride('AssumeRolePolicyDocument', {
    Version: '2012-10-17',
    Statement: [{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: service },
      Condition: {
        StringEquals: { 'aws:SourceAccount': account },
        ArnLike: { 'aws:SourceArn': sourceArn },
      },
    }],
  });
}

/**
 * Deny `role` every call made from the code of any function but `fn` (`lambda:SourceFunctionArn`,
 * present on every call from an execution environment; calls Lambda makes outside it, such as the
 * dead-letter queue delivery, carry no key and are not affected).
 */
export function denyOtherFunctions(scope: Construct, id: string, fn: lambda.IFunction, role: iam.IRole): iam.Policy {
  return new iam.Policy(scope, id, {
    roles: [role],
    statements: [new iam.PolicyStatement({
      sid: OTHER_FUNCTIONS_DENY_SID,
      effect: iam.Effect.DENY,
      actions: ['*'],
      resources: ['*'],
      conditions: {
        // present (a negated operator alone also matches an absent key: "Condition operators", IAM User Guide)
        Null: { 'lambda:SourceFunctionArn': 'false' },
        ArnNotLike: { 'lambda:SourceFunctionArn': [fn.functionArn, `${fn.functionArn}:*`] },
      },
    })],
  });
}

/** The id aws-cdk-lib's targets give the role they create under the target (`singletonEventRole`). */
const EVENTS_ROLE_ID = 'EventsRole';

/** The `aws:SourceArn` pattern of this stack's account's and region's EventBridge rules. */
export function ruleSourceArnPattern(scope: Construct): string {
  return Stack.of(scope).formatArn({ service: 'events', resource: 'rule', resourceName: '*' });
}

/** EventBridge's rule names: at most 64 of `.`, `-`, `_`, letters and digits (PutRule, `Name`). */
const RULE_NAME_MAX = 64;

/**
 * The name the library gives a rule whose target's role it scopes to the rule: `<stack>-<path>-<hash>`,
 * at most 64 characters, the hash over the stack's name and the rule's construct path, so two
 * stacks (or one app deployed twice under other stack names) never share a name.
 */
export function scopedRuleName(scope: Construct, id: string): string {
  // a stack's name is never a token (aws-cdk-lib validates it: `^[A-Za-z][A-Za-z0-9-]*$`)
  const stackName = Stack.of(scope).stackName;
  const path = `${scope.node.path}/${id}`;
  const hash = createHash('sha256').update(`${stackName}\n${path}`).digest('hex').slice(0, 8);
  const readable = `${stackName}-${path.split('/').slice(1).join('')}`.replace(/[^.\-_A-Za-z0-9]/g, '');
  return `${readable.slice(0, RULE_NAME_MAX - hash.length - 1)}-${hash}`;
}

/**
 * The `aws:SourceArn` values EventBridge may assume `role` for: the exact ARN of every rule in the
 * app whose targets use it, or, when one of them has no name of its own (CloudFormation names it),
 * the account's and region's rules.
 */
function ruleSourceArns(role: iam.Role): string[] {
  const stack = Stack.of(role);
  const roleArn = JSON.stringify(stack.resolve(role.roleArn));
  const rules = role.node.root.node.findAll().filter((c): c is events.CfnRule => c instanceof events.CfnRule)
    .filter((rule) => {
      // the L1's targets, in the L1's casing (`roleArn`) until the template is rendered
      const targets = Stack.of(rule).resolve(rule.targets) as Array<{ roleArn?: unknown }> | undefined;
      return (targets ?? []).some((t) => t.roleArn !== undefined && JSON.stringify(t.roleArn) === roleArn);
    });
  if (rules.length === 0 || rules.some((r) => r.name === undefined || Token.isUnresolved(r.name) || Stack.of(r).region !== stack.region)) {
    return [ruleSourceArnPattern(role)];
  }
  return rules.map((r) => stack.formatArn({ service: 'events', resource: 'rule', resourceName: r.name }));
}

/**
 * Trust the role aws-cdk-lib's rule targets create for `target` (a state machine target's
 * `EventsRole`, a child of the state machine, shared by every rule that targets it) to EventBridge
 * acting for the rules that target it (`ruleSourceArns`), in this account: `aws:SourceAccount` and
 * `aws:SourceArn`. Call after adding the rule. Fails when the target has no such role (the call
 * would protect nothing).
 */
export function trustOnlyRules(target: IConstruct): void {
  const role = target.node.tryFindChild(EVENTS_ROLE_ID);
  if (!(role instanceof iam.Role) || !(role.node.defaultChild instanceof iam.CfnRole)) {
    throw new Error(`${target.node.path}: no EventBridge role to scope (add the rule that targets it first)`);
  }
  if (role.assumeRolePolicy?.statementCount !== 1) {
    throw new Error(`${target.node.path}: the target's role must be trusted by EventBridge alone to be scoped to the rules`);
  }
  // read when the template is written: every rule of the app that targets the role by then
  trustServiceFor(role.node.defaultChild, 'events.amazonaws.com', Stack.of(target).account, Lazy.list({ produce: () => ruleSourceArns(role) }));
}

/** Systems Manager Automation acting for this account's and region's Systems Manager resources only. */
export function ssmAutomationPrincipal(scope: Construct): iam.IPrincipal {
  const stack = Stack.of(scope);
  return new iam.ServicePrincipal('ssm.amazonaws.com', {
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'ssm', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }) },
    },
  });
}
