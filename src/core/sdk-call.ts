import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/**
 * Page size of every `DescribeSnapshots` call a state machine makes. A snapshot record with the
 * library's tags is about 690 bytes (measured with the EC2 API reference's shape); 100 records are
 * about 69 KiB, a quarter of Step Functions' 256 KiB connector-result limit, which leaves room for
 * user tags.
 */
export const SNAPSHOT_PAGE_SIZE = 100;

/** The props of one AWS SDK integration, less the names `sdkCall` derives from the IAM action. */
export type SdkCallProps = Omit<tasks.CallAwsServiceProps, 'service' | 'action' | 'iamAction' | 'stateName'>;

/**
 * One Step Functions AWS SDK integration (`arn:aws:states:::aws-sdk:<service>:<action>`), named
 * `id` as a construct and as a state, calling the API of `iamAction` (`ec2:CreateSnapshots`
 * calls `createSnapshots`): the service, the action and the permission can never disagree.
 */
export function sdkCall(scope: Construct, id: string, iamAction: string, props: SdkCallProps): tasks.CallAwsService {
  const [service, api] = iamAction.split(':');
  return new tasks.CallAwsService(scope, id, {
    stateName: id,
    service,
    action: `${api.charAt(0).toLowerCase()}${api.slice(1)}`,
    iamAction,
    ...props,
  });
}
