/**
 * What a deployment needs that CloudFormation cannot create (organization policy types, StackSets
 * trusted access, AWS Backup's cross-account setting, customer keys for DLM sharing): the
 * constructs that need them add one synth warning per stack naming the missing ones, as the
 * README's "Before you deploy" checklist lists them.
 */
export class DeploymentPrerequisites {
  /**
   * The id to acknowledge the warning with, once the prerequisites are in place:
   * `Validations.of(stack).acknowledge({ id: DeploymentPrerequisites.WARNING, reason })`.
   */
  public static readonly WARNING = 'Annotation::cdk-ebs-backup:core:prerequisites';

  private constructor() {}
}

