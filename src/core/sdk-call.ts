import { Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, IConstruct } from 'constructs';

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

/**
 * The body of a state machine written as Amazon States Language data (the JSONata definitions),
 * with its execution timeout in the definition: the top-level `TimeoutSeconds` ("State machine
 * structure in Amazon States Language", Step Functions Developer Guide) ends a longer execution
 * with `States.Timeout` (status TIMED_OUT). aws-cdk-lib writes `StateMachineProps.timeout` only
 * into definitions it builds from chainables and silently drops it for a string body, so such a
 * machine takes its timeout here, never from `timeout`.
 */
export function aslDefinitionBody(scope: IConstruct, definition: object, timeout: Duration): sfn.DefinitionBody {
  return sfn.DefinitionBody.fromString(Stack.of(scope).toJsonString({ ...definition, TimeoutSeconds: timeout.toSeconds() }));
}
