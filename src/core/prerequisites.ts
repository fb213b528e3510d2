import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { DeploymentPrerequisites } from './deployment-prerequisites';
import { warn } from './validation';

/**
 * What a deployment needs that CloudFormation cannot create: organization and account settings
 * outside any stack (README "Before you deploy" lists the same, in the same words).
 */
export const PREREQUISITES = {
  'declarative-policy-type': {
    what: 'the DECLARATIVE_POLICY_EC2 policy type enabled on the organization root',
    how: 'aws organizations enable-policy-type --root-id r-… --policy-type DECLARATIVE_POLICY_EC2 (management account)',
  },
  'scp-policy-type': {
    what: 'the SERVICE_CONTROL_POLICY policy type enabled on the organization root',
    how: 'aws organizations enable-policy-type --root-id r-… --policy-type SERVICE_CONTROL_POLICY (management account)',
  },
  'stacksets-trusted-access': {
    what: 'trusted access for CloudFormation StackSets in AWS Organizations',
    how: 'aws cloudformation activate-organizations-access (management or delegated administrator account)',
  },
  'backup-cross-account': {
    what: "the organization's cross-account backup setting in AWS Backup",
    how: 'aws backup update-global-settings --global-settings isCrossAccountBackupEnabled=true (management account)',
  },
  'dlm-customer-key': {
    what: 'a customer managed KMS key on the source volumes, shared with the target account: DLM cannot share snapshots encrypted with the default aws/ebs key',
    how: 'encrypt the volumes with a customer key and allow the target account kms:Decrypt, kms:CreateGrant, kms:DescribeKey in its key policy',
  },
} as const;

/** A prerequisite that CloudFormation cannot create. */
export type Prerequisite = keyof typeof PREREQUISITES;

/** The warning's id as `warn()` takes it (`DeploymentPrerequisites.WARNING` is the full one). */
const WARNING = DeploymentPrerequisites.WARNING.replace('Annotation::cdk-ebs-backup:', '');

const REGISTRY = Symbol.for('cdk-ebs-backup.prerequisites');

interface Registry {
  readonly needs: Map<Prerequisite, Set<string>>;
}

/**
 * Record that `scope` needs `prerequisite`. The stack gets one warning at synthesis, listing every
 * prerequisite its constructs need, each with the constructs that need it and how to set it up.
 */
export function requirePrerequisite(scope: IConstruct, prerequisite: Prerequisite): void {
  const stack = Stack.of(scope) as unknown as { [REGISTRY]?: Registry } & Stack;
  let registry = stack[REGISTRY];
  if (registry === undefined) {
    const created: Registry = { needs: new Map() };
    registry = created;
    Object.defineProperty(stack, REGISTRY, { value: created, enumerable: false });
    // validations run before the tree is synthesized, after every construct has registered;
    // once, however often the app is synthesized
    let warned = false;
    stack.node.addValidation({
      validate: () => {
        if (!warned) {
          warned = true;
          warn(stack, WARNING, prerequisitesMessage(stack.node.path, created.needs));
        }
        return [];
      },
    });
  }
  const by = registry.needs.get(prerequisite) ?? new Set<string>();
  by.add(scope.node.path);
  registry.needs.set(prerequisite, by);
}

/** The warning text: what is needed, by which constructs, and how (the order of the README checklist). */
export function prerequisitesMessage(stackPath: string, needs: ReadonlyMap<Prerequisite, ReadonlySet<string>>): string {
  const items = (Object.keys(PREREQUISITES) as Prerequisite[])
    .filter((p) => needs.has(p))
    .map((p, i) => `(${i + 1}) ${PREREQUISITES[p].what}, needed by ${[...needs.get(p)!].join(', ')}: ${PREREQUISITES[p].how}`);
  return `${stackPath} needs what CloudFormation cannot create (README "Before you deploy"); set it up, then acknowledge ` +
    `${DeploymentPrerequisites.WARNING}: ${items.join('; ')}`;
}
