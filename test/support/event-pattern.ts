/**
 * EventBridge event-pattern matching, as the EventBridge User Guide documents it ("Creating event
 * patterns", "Comparison operators for use in event patterns in Amazon EventBridge"):
 * - every field of the pattern must be in the event (AND across fields, nested objects
 *   recursively); a field's array of matchers matches when any matcher does (OR);
 * - an event value that is an array matches when any of its elements matches;
 * - matchers: exact value (string, number, boolean, null), `prefix`, `suffix`, `wildcard` (`*`
 *   any characters), `anything-but` (a value, a list, or `prefix`/`suffix`), `exists`;
 * - `$or`: a list of sub-patterns of which one must match.
 * No library runs EventBridge patterns locally in JavaScript (the SDK's `TestEventPattern` calls
 * the service), hence this; `test/support/event-pattern.test.ts` holds it to the guide's examples.
 */
import { CLOUDTRAIL_DETAIL_TYPE, eventSourceOf } from '../../src/core/change-detection';

export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  for (const [key, matcher] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(matcher as Record<string, unknown>[]).some((alternative) => matchesPattern(alternative, event))) {
        return false;
      }
      continue;
    }
    const present = event !== null && typeof event === 'object' && key in (event as object);
    const value = present ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(matcher)) {
      if (!matchesField(matcher, present, value)) {
        return false;
      }
    } else if (matcher !== null && typeof matcher === 'object') {
      if (!present || !matchesPattern(matcher as Record<string, unknown>, value)) {
        return false;
      }
    } else {
      throw new Error(`event pattern: the value of ${key} must be an array or an object, got ${JSON.stringify(matcher)}`);
    }
  }
  return true;
}

function matchesField(matchers: unknown[], present: boolean, value: unknown): boolean {
  return matchers.some((m) => {
    if (m !== null && typeof m === 'object' && 'exists' in (m as object)) {
      // exists matches leaf values only: an object or empty array is not an existing leaf
      const leaf = present && (value === null || typeof value !== 'object' || (Array.isArray(value) && value.length > 0));
      return (m as { exists: boolean }).exists === leaf;
    }
    if (!present) {
      return false;
    }
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => matchesValue(m, v));
  });
}

function matchesValue(m: unknown, v: unknown): boolean {
  if (m === null || typeof m !== 'object') {
    return m === v;
  }
  const op = m as Record<string, any>;
  if ('prefix' in op) {
    return typeof v === 'string' && v.startsWith(op.prefix);
  }
  if ('suffix' in op) {
    return typeof v === 'string' && v.endsWith(op.suffix);
  }
  if ('wildcard' in op) {
    return typeof v === 'string' && wildcard(op.wildcard).test(v);
  }
  if ('anything-but' in op) {
    const but = op['anything-but'];
    if (Array.isArray(but)) {
      return !but.includes(v);
    }
    if (but !== null && typeof but === 'object') {
      return !matchesValue(but, v);
    }
    return v !== but;
  }
  throw new Error(`event pattern: unsupported matcher ${JSON.stringify(m)}`);
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
}

/**
 * A synthesized value with its intrinsics replaced by deterministic strings, so that a pattern
 * and a sample event name a resource alike: `{ Ref: X }` -> `ref-X`, `{ Fn::GetAtt: [X, A] }` ->
 * `A-X`, pseudo parameters -> the given account and region.
 */
export function renderIntrinsicsForEvents(value: any, account: string, region: string): any {
  const r = (v: any): any => {
    if (Array.isArray(v)) {
      return v.map(r);
    }
    if (v === null || typeof v !== 'object') {
      return v;
    }
    if (v.Ref === 'AWS::Partition') {
      return 'aws';
    }
    if (v.Ref === 'AWS::Region') {
      return region;
    }
    if (v.Ref === 'AWS::AccountId') {
      return account;
    }
    if (v.Ref) {
      return `ref-${v.Ref}`;
    }
    if (v['Fn::GetAtt']) {
      return `${v['Fn::GetAtt'][1]}-${v['Fn::GetAtt'][0]}`;
    }
    if (v['Fn::Join']) {
      return r(v['Fn::Join'][1]).join(v['Fn::Join'][0]);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, r(x)]));
  };
  return r(value);
}

/** CloudTrail's event names of Lambda actions, which carry the API version. */
const LAMBDA_EVENT_NAMES: Record<string, string> = {
  UpdateFunctionCode: 'UpdateFunctionCode20150331v2',
  UpdateFunctionConfiguration: 'UpdateFunctionConfiguration20150331v2',
  PutFunctionConcurrency: 'PutFunctionConcurrency20171031',
  DeleteFunction: 'DeleteFunction20150331',
};

/** CloudTrail's event name of an IAM action (Lambda's carry the API version). */
export function cloudTrailName(action: string): string {
  const [service, name] = action.split(':');
  return service === 'lambda' ? LAMBDA_EVENT_NAMES[name] ?? `${name}20150331v2` : name;
}

/**
 * The event EventBridge receives for a management API call `action` made by an admin role of
 * `account` ("Events from AWS services", EventBridge User Guide: detail-type `AWS API Call via
 * CloudTrail`; the CloudTrail record's eventSource, eventName and requestParameters as sent).
 */
export function cloudTrailEvent(action: string, requestParameters: Record<string, unknown>, account: string, region: string) {
  return {
    'version': '0',
    'id': '6f7e8d9c-0b1a-4c3d-8e7f-6a5b4c3d2e1f',
    'detail-type': CLOUDTRAIL_DETAIL_TYPE,
    'source': `aws.${action.split(':')[0]}`,
    'account': account,
    'time': '2026-11-30T03:12:44Z',
    'region': region,
    'resources': [],
    'detail': {
      eventVersion: '1.09',
      userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${account}:assumed-role/platform-admin/session` },
      eventTime: '2026-11-30T03:12:44Z',
      eventSource: eventSourceOf(action),
      eventName: cloudTrailName(action),
      awsRegion: region,
      requestParameters,
      responseElements: null,
      eventType: 'AwsApiCall',
      managementEvent: true,
      eventCategory: 'Management',
    },
  };
}

/**
 * One change to a resource of each watched type, as a caller names the resource in the request
 * (`ref` is the resource's rendered `Ref`, `logicalId` its id for `Fn::GetAtt` renderings):
 * the IAM action and the request parameters of its CloudTrail record.
 */
export const CLOUDTRAIL_CHANGES: Record<string, (ref: string, logicalId: string) => [string, Record<string, unknown>]> = {
  'AWS::Lambda::Function': (ref) => ['lambda:UpdateFunctionCode', { functionName: ref }],
  'AWS::StepFunctions::StateMachine': (ref) => ['states:UpdateStateMachine', { stateMachineArn: ref }],
  'AWS::SSM::Document': (ref) => ['ssm:UpdateDocument', { name: ref, documentVersion: '$LATEST' }],
  'AWS::SSM::MaintenanceWindow': (ref) => ['ssm:UpdateMaintenanceWindow', { windowId: ref, enabled: false }],
  'AWS::Events::Rule': (ref) => ['events:DisableRule', { name: ref }],
  'AWS::CloudWatch::Alarm': (ref) => ['cloudwatch:DisableAlarmActions', { alarmNames: ['someone-elses-alarm', ref] }],
  'AWS::SNS::Topic': (ref) => ['sns:SetTopicAttributes', { topicArn: ref, attributeName: 'Policy' }],
  'AWS::KMS::Key': (ref) => ['kms:DisableKey', { keyId: ref }],
  'AWS::DLM::LifecyclePolicy': (ref) => ['dlm:UpdateLifecyclePolicy', { policyId: ref, state: 'DISABLED' }],
  'AWS::Backup::BackupPlan': (_ref, id) => ['backup:UpdateBackupPlan', { backupPlanId: `BackupPlanId-${id}` }],
  'AWS::Backup::BackupVault': (ref) => ['backup:DeleteBackupVaultAccessPolicy', { backupVaultName: ref }],
  'AWS::Rbin::Rule': (_ref, id) => ['rbin:UpdateRule', { identifier: `Identifier-${id}` }],
};
