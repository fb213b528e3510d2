import { CfnResource, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';

/**
 * List prices of the resources this library creates that are billed every month whether or not a
 * backup runs: US East (N. Virginia), on-demand, as the AWS pricing pages state them. Usage
 * (snapshot and recovery point storage, data processed, API calls, Lambda and Step Functions
 * runs) is not a standing cost and is left out: it grows with what is backed up.
 */

/** Hours AWS bills in an average month (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

/** One priced resource type. */
export interface StandingPrice {
  /** What is billed, as the report names it. */
  readonly item: string;
  /** The monthly price of one unit in USD. */
  readonly monthlyUsd: number;
  /** How the monthly price is made up. */
  readonly basis: string;
  /** The AWS pricing page that states it. */
  readonly page: string;
}

const KMS: StandingPrice = {
  item: 'KMS customer managed key', monthlyUsd: 1, basis: '$1 per key per month', page: 'AWS Key Management Service pricing',
};
const INTERFACE_ENDPOINT: StandingPrice = {
  item: 'interface VPC endpoint (one Availability Zone)',
  monthlyUsd: 0.01 * HOURS_PER_MONTH,
  basis: `$0.01 per endpoint per AZ-hour × ${HOURS_PER_MONTH} h, plus $0.01 per GB processed`,
  page: 'AWS PrivateLink pricing',
};
const ALARM: StandingPrice = {
  item: 'CloudWatch alarm metric', monthlyUsd: 0.1, basis: '$0.10 per standard-resolution alarm metric per month', page: 'Amazon CloudWatch pricing',
};
const DASHBOARD: StandingPrice = {
  item: 'CloudWatch dashboard', monthlyUsd: 3, basis: '$3 per dashboard per month (the first 3 of an account are free)', page: 'Amazon CloudWatch pricing',
};
/** Fast snapshot restore: billed per snapshot and Availability Zone while it is enabled. */
export const FAST_SNAPSHOT_RESTORE: StandingPrice = {
  item: 'fast snapshot restore (one snapshot, one Availability Zone)',
  monthlyUsd: 0.75 * HOURS_PER_MONTH,
  basis: `$0.75 per DSU-hour × ${HOURS_PER_MONTH} h`,
  page: 'Amazon EBS pricing',
};
/** A VPC flow log to CloudWatch Logs: no hourly charge, only the logs it delivers. */
export const FLOW_LOG: StandingPrice = {
  item: 'VPC flow log to CloudWatch Logs (rejected traffic)',
  monthlyUsd: 0,
  basis: 'no hourly charge; $0.50 per GB delivered (vended logs) and $0.03 per GB-month stored',
  page: 'Amazon CloudWatch pricing',
};

/**
 * The standing price of one resource, from its type and properties; undefined for resources
 * without a monthly charge of their own.
 */
export function standingPrice(resource: CfnResource): { price: StandingPrice; units: number } | undefined {
  if (resource instanceof kms.CfnKey) {
    return { price: KMS, units: 1 };
  }
  if (resource instanceof ec2.CfnVPCEndpoint) {
    if (resource.vpcEndpointType !== 'Interface') {
      return undefined;
    }
    const subnets = resource.subnetIds;
    return { price: INTERFACE_ENDPOINT, units: Array.isArray(subnets) && !Token.isUnresolved(subnets) ? Math.max(1, subnets.length) : 1 };
  }
  if (resource instanceof cloudwatch.CfnAlarm) {
    // a metric math alarm is billed per metric it reads
    const metrics = resource.metrics;
    const read = Array.isArray(metrics) ? metrics.filter((m: any) => m.metricStat !== undefined).length : 1;
    return { price: ALARM, units: Math.max(1, read) };
  }
  if (resource instanceof cloudwatch.CfnDashboard) {
    return { price: DASHBOARD, units: 1 };
  }
  if (resource instanceof ec2.CfnFlowLog) {
    return { price: FLOW_LOG, units: 1 };
  }
  return undefined;
}
