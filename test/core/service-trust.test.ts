/**
 * A job's role serves the job only (issue 16, path 1: `iam:PassRole` of a deleter's role into the
 * attacker's own state machine or function, then acting as it). Evaluated with
 * `@cloud-copilot/iam-simulate` over every state machine and function of the example apps that
 * hold them (what users run):
 *
 * - Step Functions assumes a machine's role with `aws:SourceArn` = the machine's ARN and
 *   `aws:SourceAccount` (Step Functions Developer Guide, "Creating an IAM role for your state
 *   machine", "Prevent cross-service confused deputy issue"); the machine is named by
 *   CloudFormation `<logical id>-<12 random characters>`. The trust must allow the machine as
 *   deployed and nothing else: not another machine of the account, not another account.
 * - Lambda puts `lambda:SourceFunctionArn` into every call from a function's execution
 *   environment (Lambda Developer Guide, "Using source function ARN to control function access
 *   behavior"); calls it makes outside (the dead-letter queue) carry no key. The role must deny a
 *   call from any other function's code and leave its own function's and Lambda's own calls alone.
 */
import { App } from 'aws-cdk-lib';
import { listExamples, loadExample } from '../../examples/catalogue';
import { stateMachineNamePatterns } from '../../src/core/service-trust';
import { evaluate } from '../support/iam-evaluation';
import { renderIntrinsics, TEST_ACCOUNT, TEST_REGION } from '../support/intrinsics';

interface Job { where: string; logicalId: string; template: any; props: any }

const machines: Job[] = [];
const functions: Job[] = [];
const EXAMPLES = ['baseline-tiers', 'consistent-snapshot-job', 'pre-change-patch-night', 'worm-guard'];

beforeAll(() => {
  expect(EXAMPLES.every((e) => listExamples().includes(e))).toBe(true);
  for (const name of EXAMPLES) {
    const app = new App();
    loadExample(name).build(app);
    for (const stack of app.synth().stacksRecursively) {
      const template = stack.template;
      for (const [logicalId, r] of Object.entries<any>(template.Resources ?? {})) {
        const job = { where: `${name}/${stack.hierarchicalId}/${logicalId}`, logicalId, template, props: r.Properties };
        if (r.Type === 'AWS::StepFunctions::StateMachine') {
          machines.push(job);
        } else if (r.Type === 'AWS::Lambda::Function' && !logicalId.startsWith('AWS') && !/Intake/.test(logicalId)) {
          // the library's functions: not aws-cdk-lib's provider nor the example team's own steps
          functions.push(job);
        }
      }
    }
  }
}, 600_000);

const render = (job: Job, value: unknown) => renderIntrinsics(value, { template: job.template });
const roleOf = (job: Job) => {
  const roleId = job.props.RoleArn?.['Fn::GetAtt']?.[0] ?? job.props.Role?.['Fn::GetAtt']?.[0];
  return { roleId, roleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/${roleId}`, role: job.template.Resources[roleId] };
};
/** Step Functions assuming the role for the machine `name` of `account`. */
const assumeFor = (job: Job, name: string, account = TEST_ACCOUNT) => evaluate({
  principal: 'states.amazonaws.com',
  action: 'sts:AssumeRole',
  resource: roleOf(job).roleArn,
  context: { 'aws:SourceArn': `arn:aws:states:${TEST_REGION}:${account}:stateMachine:${name}`, 'aws:SourceAccount': account },
}, { resourcePolicy: render(job, roleOf(job).role.Properties.AssumeRolePolicyDocument) });

test('the examples hold every kind of state machine and function the library makes (the tests below are not vacuous)', () => {
  const kinds = (jobs: Job[], re: RegExp) => jobs.filter((j) => re.test(j.logicalId)).length;
  for (const re of [/Lock/, /Housekeeping/, /DrillStateMachine/, /DrillSweeper/, /StateMachine/]) {
    expect([String(re), kinds(machines, re)]).toEqual([String(re), expect.any(Number)]);
    expect(kinds(machines, re)).toBeGreaterThan(0);
  }
  expect(functions.length).toBeGreaterThanOrEqual(5);
});

/**
 * CloudFormation's name for a machine without a name (the Step Functions resource provider calls
 * `IdentifierUtils.generateResourceIdentifier(logicalId, token, maxLength)` of the CloudFormation
 * Java plugin library: the logical id's first `maxLength - 13` characters, `-`, 12 random
 * characters), with the library's default `maxLength` of 40 (older machines) and the provider's
 * `STATE_MACHINE_NAME_MAXLEN` of 80 (today's).
 */
const generatedName = (logicalId: string, maxLength: 40 | 80) => `${logicalId.slice(0, maxLength - 13)}-Nz4Kq7Wd2Lp9`;

test('Step Functions may assume each machine\'s role for that machine as CloudFormation names it (either generator), and for no other machine', async () => {
  // the examples hold logical ids longer than 27 characters: the older generator's truncation is exercised
  expect(machines.some((m) => m.logicalId.length > 27)).toBe(true);
  for (const job of machines) {
    const results = [
      await assumeFor(job, generatedName(job.logicalId, 80)),
      await assumeFor(job, generatedName(job.logicalId, 40)),
      await assumeFor(job, 'mine'),
      // a look-alike of another of the library's machines, or an attacker's name that only starts alike
      await assumeFor(job, generatedName(machines.find((m) => m.logicalId.slice(0, 27) !== job.logicalId.slice(0, 27))!.logicalId, 80)),
      await assumeFor(job, `${job.logicalId.slice(0, 27)}`),
      await assumeFor(job, generatedName(job.logicalId, 80), '999988887777'),
    ];
    expect([job.where, results]).toEqual([job.where, ['Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied']]);
  }
});

test('the name patterns follow both generators: the whole logical id up to 67 characters, and its first 27', () => {
  expect(stateMachineNamePatterns('BaselinesilverLockA1DC76F2')).toEqual(['BaselinesilverLockA1DC76F2-*']);
  const id = 'BaselinegoldDrillStateMachine1A2B3C4D';
  expect(stateMachineNamePatterns(id)).toEqual(['BaselinegoldDrillStateMachi-*', `${id}-*`]);
  const long = 'A'.repeat(70);
  expect(stateMachineNamePatterns(long)).toEqual([`${'A'.repeat(27)}-*`, `${'A'.repeat(67)}-*`]);
  expect(generatedName(long, 80).length).toBe(80);
  expect(generatedName(long, 40).length).toBe(40);
});

test('each function\'s role denies calls from any other function\'s code, not from its own nor Lambda\'s calls without the key', async () => {
  for (const job of functions) {
    const { roleId } = roleOf(job);
    const own = `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:${job.logicalId}`;
    const policies = Object.values<any>(job.template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((x: any) => x.Ref === roleId))
      .map((r) => render(job, r.Properties.PolicyDocument));
    // the role may do what the job does: the broadest allow stands in for it, the denies decide
    const identity = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, ...policies];
    const call = (source?: string) => evaluate({
      principal: `arn:aws:iam::${TEST_ACCOUNT}:role/${roleId}`,
      action: 'ec2:DeleteSnapshot',
      resource: `arn:aws:ec2:${TEST_REGION}::snapshot/snap-0f1e2d3c4b5a69788`,
      context: source ? { 'lambda:SourceFunctionArn': source } : {},
    }, { identity });
    const results = [
      await call(own),
      await call(`${own}:7`),
      await call(`arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:mine`),
      await call(`${own}-lookalike`),
      await call(undefined),
    ];
    expect([job.where, results]).toEqual([job.where, ['Allowed', 'Allowed', 'ExplicitlyDenied', 'ExplicitlyDenied', 'Allowed']]);
  }
});
