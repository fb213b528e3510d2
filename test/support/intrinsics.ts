/**
 * The one renderer of CloudFormation intrinsics for tests: what a template value (a policy
 * document, a state machine definition) becomes once deployed in a given account and region.
 * Policy evaluation (test/support/iam-evaluation.ts), call replay, role parity, the local Step
 * Functions runs and the drill harness all render through it, so a reference renders the same
 * ARN in a policy and in the request that a run makes.
 *
 * What CloudFormation returns, per the resource reference pages ("Return values"): `Ref` of a
 * topic, state machine or managed policy is its ARN, of other resources their physical id (here
 * `ref-<logical id>` unless `refName` says otherwise); `Fn::GetAtt [X, Arn]` is the ARN.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */

/** The account and region tests deploy to unless they say otherwise. */
export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-east-1';

export interface RenderOptions {
  /** @default TEST_ACCOUNT */
  readonly account?: string;
  /** @default TEST_REGION */
  readonly region?: string;
  /** The template the references point into: ARNs are rendered by resource type. @default none (every `GetAtt Arn` is a role) */
  readonly template?: any;
  /** Fixed renderings of references by logical id (of `Ref` and `GetAtt Arn`). */
  readonly arns?: Record<string, string>;
  /** The physical id a `Ref` to a resource without an ARN `Ref` renders to. @default `ref-<logical id>` */
  readonly refName?: (logicalId: string) => string;
}

const ARN_REF_TYPES = ['AWS::SNS::Topic', 'AWS::StepFunctions::StateMachine', 'AWS::IAM::ManagedPolicy'];

/** The ARN a resource of type `type` with logical id `logicalId` gets in the account and region. */
export function physicalArn(type: string | undefined, logicalId: string, options: RenderOptions = {}): string {
  const account = options.account ?? TEST_ACCOUNT;
  const region = options.region ?? TEST_REGION;
  switch (type) {
    case 'AWS::Lambda::Function': return `arn:aws:lambda:${region}:${account}:function:${logicalId}`;
    case 'AWS::SNS::Topic': return `arn:aws:sns:${region}:${account}:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:${region}:${account}:stateMachine:${logicalId}`;
    case 'AWS::IAM::Role': return `arn:aws:iam::${account}:role/${logicalId}`;
    case 'AWS::IAM::ManagedPolicy': return `arn:aws:iam::${account}:policy/${logicalId}`;
    case 'AWS::IAM::InstanceProfile': return `arn:aws:iam::${account}:instance-profile/${logicalId}`;
    case 'AWS::KMS::Key': return `arn:aws:kms:${region}:${account}:key/${logicalId}`;
    case 'AWS::SSM::Document': return logicalId;
    default: return `arn:aws:placeholder:${region}:${account}:${logicalId}`;
  }
}

/** The value of a pseudo parameter (`AWS::Region`...), or undefined for a resource reference. */
export function pseudoParameter(ref: string, options: RenderOptions = {}): string | undefined {
  switch (ref) {
    case 'AWS::Partition': return 'aws';
    case 'AWS::Region': return options.region ?? TEST_REGION;
    case 'AWS::AccountId': return options.account ?? TEST_ACCOUNT;
    case 'AWS::URLSuffix': return 'amazonaws.com';
    default: return ref.startsWith('AWS::') ? `[${ref}]` : undefined;
  }
}

/** Render every intrinsic in `value` (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Select`, `Fn::Split`). */
export function renderIntrinsics(value: unknown, options: RenderOptions = {}): any {
  if (Array.isArray(value)) {
    return value.map((v) => renderIntrinsics(v, options));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const v = value as Record<string, any>;
  const typeOf = (id: string): string | undefined => options.template?.Resources?.[id]?.Type;
  if (typeof v.Ref === 'string') {
    const ref = v.Ref;
    return pseudoParameter(ref, options) ?? options.arns?.[ref]
      ?? (ARN_REF_TYPES.includes(typeOf(ref) ?? '') ? physicalArn(typeOf(ref), ref, options) : (options.refName ?? ((id) => `ref-${id}`))(ref));
  }
  if (v['Fn::GetAtt']) {
    const [id, attr] = v['Fn::GetAtt'];
    // a state machine's name is the one its rendered ARN ends with (Ref and GetAtt Name agree, as in AWS)
    if (attr === 'Name' && typeOf(id) === 'AWS::StepFunctions::StateMachine') {
      return id;
    }
    if (attr !== 'Arn') {
      return `${attr}-${id}`;
    }
    return options.arns?.[id] ?? physicalArn(options.template ? typeOf(id) : 'AWS::IAM::Role', id, options);
  }
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'];
    return renderIntrinsics(parts, options).join(sep);
  }
  if (v['Fn::Select']) {
    const [index, list] = v['Fn::Select'];
    return renderIntrinsics(list, options)[index];
  }
  if (v['Fn::Split']) {
    const [sep, source] = v['Fn::Split'];
    return String(renderIntrinsics(source, options)).split(sep);
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderIntrinsics(x, options)]));
}

/** The state machine definitions of `template` by logical id, rendered (a DefinitionString is a string or an `Fn::Join`). */
export function stateMachineDefinitions(template: any, options: RenderOptions = {}): Record<string, any> {
  return Object.fromEntries(Object.entries<any>(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map(([id, r]) => [id, JSON.parse(renderIntrinsics(r.Properties.DefinitionString, { template, ...options }))]));
}

/**
 * The template of `stack` as CloudFormation receives it, resolved without synthesis: no asset
 * staging, no Aspects and no validation (a synthesis runs the CloudFormation Validate engine, tens
 * of seconds a stack on a loaded machine), for the direct tests that mutation runs load per mutant.
 */
export function unsynthesizedTemplate(stack: { resolve(value: unknown): any }): any {
  return { Resources: stack.resolve((stack as any)._toCloudFormation().Resources) };
}
