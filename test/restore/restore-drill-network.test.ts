import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import { PlanReport, RestoreDrill } from '../../src';

// `cdk synth` without credentials fails on any context lookup the app requests ("Need to perform
// AWS calls for account ..."); the cloud assembly lists them in its manifest's `missing`.

const ENV = { account: '123456789012', region: 'eu-central-1' };
const drill = (stack: Stack, extra = {}) => new RestoreDrill(stack, 'Drill', {
  purpose: 'database-dr', schedule: events.Schedule.rate(Duration.days(7)), validation: ['true'], ...extra,
});

describe('the restore drill network', () => {
  test('an environment-specific stack requests no lookup: the subnet takes the first zone from CloudFormation', () => {
    // GIVEN a stack with an account and region, as users write them
    const app = new App();
    const stack = new Stack(app, 'Drill', { env: ENV });
    drill(stack);
    // WHEN
    const assembly = app.synth();
    // THEN
    expect(assembly.manifest.missing ?? []).toEqual([]);
    const subnets = Object.values<any>(assembly.getStackByName('Drill').template.Resources).filter((r) => r.Type === 'AWS::EC2::Subnet');
    expect(subnets.map((s) => s.Properties.AvailabilityZone)).toEqual([{ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }]);
  });

  test('the scratch VPC\'s standing cost is in the plan report: 3 interface endpoints in one zone and a flow log', () => {
    const app = new App();
    drill(new Stack(app, 'Drill', { env: ENV }));
    const [plan] = JSON.parse(PlanReport.json(app)).stacks;
    // AWS PrivateLink pricing: $0.01 per endpoint per AZ-hour, 730 hours a month
    expect(plan.costs.filter((c: any) => c.item.startsWith('interface VPC endpoint')).map((c: any) => [c.construct, c.units, c.monthlyUsd]))
      .toEqual([['Drill/Drill', 3, 21.9]]);
    expect(plan.costs.filter((c: any) => c.item.startsWith('VPC flow log')).map((c: any) => c.units)).toEqual([1]);
  });

  test('a VPC of the user\'s own replaces the scratch VPC and its endpoints', () => {
    const app = new App();
    const stack = new Stack(app, 'Drill', { env: ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Existing', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-central-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef0'],
      privateSubnetRouteTableIds: ['rtb-0123456789abcdef0'],
    });
    drill(stack, { vpc });
    const assembly = app.synth();
    expect(assembly.manifest.missing ?? []).toEqual([]);
    const types = Object.values<any>(assembly.getStackByName('Drill').template.Resources).map((r) => r.Type);
    expect(types.filter((t) => ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::VPCEndpoint', 'AWS::EC2::FlowLog'].includes(t))).toEqual([]);
    const [plan] = JSON.parse(PlanReport.json(app)).stacks;
    expect(plan.costs.filter((c: any) => c.item.startsWith('interface VPC endpoint'))).toEqual([]);
  });
});
