// The standing price of each resource type the plan report bills, called directly: which
// resources carry a monthly charge of their own and how many units, as AWS's pricing pages bill them.
import { App, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FLOW_LOG, HOURS_PER_MONTH, standingPrice } from '../../src/core/plan-report-pricing';

const stack = () => new Stack(new App(), 'S');
const endpoint = (type: string | undefined, subnetIds?: string[]) => new ec2.CfnVPCEndpoint(stack(), 'Endpoint', {
  vpcId: 'vpc-1', serviceName: 'com.amazonaws.us-east-1.ebs', vpcEndpointType: type, subnetIds,
});
const metric = (id: string) => ({ id, metricStat: { metric: { namespace: 'N', metricName: id }, period: 300, stat: 'Sum' }, returnData: false });
const alarm = (metrics?: cloudwatch.CfnAlarm.MetricDataQueryProperty[]) => new cloudwatch.CfnAlarm(stack(), 'Alarm', {
  comparisonOperator: 'GreaterThanThreshold',
  evaluationPeriods: 1,
  threshold: 0,
  ...(metrics ? { metrics } : { namespace: 'N', metricName: 'M', period: 300, statistic: 'Sum' }),
});

describe('standingPrice', () => {
  test('a customer managed key is $1 a month (AWS Key Management Service pricing)', () => {
    expect(standingPrice(new kms.CfnKey(stack(), 'Key', {}))).toEqual({
      price: expect.objectContaining({ item: 'KMS customer managed key', monthlyUsd: 1 }), units: 1,
    });
  });

  test('a gateway endpoint, stated or by CloudFormation\'s default type, has no hourly charge (AWS PrivateLink pricing)', () => {
    expect(standingPrice(endpoint('Gateway'))).toBeUndefined();
    expect(standingPrice(endpoint(undefined))).toBeUndefined();
  });

  test('an interface endpoint is billed per Availability Zone-hour: one unit per subnet, at least one', () => {
    const three = standingPrice(endpoint('Interface', ['subnet-a', 'subnet-b', 'subnet-c']));
    expect(three?.price).toEqual(expect.objectContaining({ item: 'interface VPC endpoint (one Availability Zone)', monthlyUsd: 0.01 * HOURS_PER_MONTH }));
    expect(three?.units).toBe(3);
    expect(standingPrice(endpoint('Interface', []))?.units).toBe(1);
    expect(standingPrice(endpoint('Interface'))?.units).toBe(1);
    // subnets known only at deployment: one Availability Zone, the least it can be
    expect(standingPrice(endpoint('Interface', Token.asList({ Ref: 'Subnets' })))?.units).toBe(1);
  });

  test('an alarm is billed per metric it reads: a metric math alarm per metricStat, not per expression (Amazon CloudWatch pricing)', () => {
    const single = standingPrice(alarm());
    expect(single?.price).toEqual(expect.objectContaining({ item: 'CloudWatch alarm metric', monthlyUsd: 0.1 }));
    expect(single?.units).toBe(1);
    const expression = { id: 'e', expression: 'a + b + c', returnData: true };
    expect(standingPrice(alarm([metric('a'), metric('b'), metric('c'), expression]))?.units).toBe(3);
    expect(standingPrice(alarm([metric('a'), expression]))?.units).toBe(1);
    // an alarm on an expression without metrics (a metric insights query) still bills one alarm metric
    expect(standingPrice(alarm([expression]))?.units).toBe(1);
  });

  test('a dashboard is $3 a month and a flow log has no hourly charge of its own', () => {
    expect(standingPrice(new cloudwatch.CfnDashboard(stack(), 'Dashboard', { dashboardBody: '{}' }))).toEqual({
      price: expect.objectContaining({ item: 'CloudWatch dashboard', monthlyUsd: 3 }), units: 1,
    });
    expect(standingPrice(new ec2.CfnFlowLog(stack(), 'FlowLog', { resourceId: 'vpc-1', resourceType: 'VPC', trafficType: 'REJECT' }))).toEqual({
      price: FLOW_LOG, units: 1,
    });
  });

  test('resources without a monthly charge of their own are not priced', () => {
    expect(standingPrice(new sns.CfnTopic(stack(), 'Topic', {}))).toBeUndefined();
  });
});
