import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { createCheckedApp, createTestStack, synthesizeChecked } from './index';
import { acknowledge, guard, nag } from '../../src/core/acknowledge';

const GUARD_RULES = [
  's3_bucket_level_public_access_prohibited_check', 's3_bucket_default_encryption_kms_check',
  's3_bucket_versioning_enabled_check', 's3_bucket_logging_enabled_check', 's3_version_lifecycle_policy_check',
  's3_event_notifications_enabled_check', 's3_bucket_acl_prohibited_check', 's3_lifecycle_policy_check',
  's3_bucket_object_lock_enabled_check', 's3_bucket_ssl_requests_only',
];

function failureOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

describe('acknowledgements are scoped to the construct that makes them', () => {
  test("a library construct acknowledging a rule does not hide the same finding on the user's resources", () => {
    // GIVEN two identical buckets; only the "library" one acknowledges its findings
    const app = createCheckedApp();
    const stack = createTestStack(app);
    const library = new Construct(stack, 'Library');
    new s3.Bucket(library, 'Bucket');
    acknowledge(library,
      nag('S1', 'test: stands in for a reasoned acknowledgement'),
      nag('S10', 'test: stands in for a reasoned acknowledgement'),
      ...GUARD_RULES.map((r) => guard(r, 'test: stands in for a reasoned acknowledgement')));
    new s3.Bucket(stack, 'UserBucket');

    // THEN synthesis fails, naming the user's bucket and never the library's
    const message = failureOf(() => synthesizeChecked(app));
    expect(message).toMatch(/AwsSolutions-S10/);
    expect(message).toMatch(/s3_bucket_versioning_enabled_check|CT\.S3\.PR\.11/);
    expect(message).toMatch(/TestStack\/UserBucket/);
    expect(message).not.toMatch(/TestStack\/Library\/Bucket/);
  });

  test('granular cdk-nag findings (with :: in their id) can be acknowledged', () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    const policy = new iam.ManagedPolicy(stack, 'Describe', {
      statements: [new iam.PolicyStatement({ actions: ['ec2:DescribeSnapshots'], resources: ['*'] })],
    });
    acknowledge(policy, nag('IAM5', 'Describe* actions support no resource-level permissions', 'Resource::*'));
    expect(() => synthesizeChecked(app)).not.toThrow();
  });

  test("a granular acknowledgement (Resource::*) on a library construct does not hide the user's identical finding", () => {
    const app = createCheckedApp();
    const stack = createTestStack(app);
    const library = new Construct(stack, 'Library');
    const statements = [new iam.PolicyStatement({ actions: ['ec2:DescribeSnapshots'], resources: ['*'] })];
    new iam.ManagedPolicy(library, 'Describe', { statements });
    acknowledge(library, nag('IAM5', 'Describe* actions support no resource-level permissions', 'Resource::*'));
    new iam.ManagedPolicy(stack, 'UserDescribe', { statements });

    const message = failureOf(() => synthesizeChecked(app));
    expect(message).toMatch(/AwsSolutions-IAM5\[Resource::\*\]/);
    expect(message).toMatch(/TestStack\/UserDescribe/);
    expect(message).not.toMatch(/TestStack\/Library\/Describe/);
  });
});
