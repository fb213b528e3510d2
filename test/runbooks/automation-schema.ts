/**
 * A JSON schema of SSM Automation documents (schema version 0.3), for the parts this family
 * renders: top-level keys, parameters, the step envelope and the required inputs of each action
 * used. Written from the Automation "runbook syntax" and "actions reference" pages of the
 * Systems Manager user guide; SSM publishes no machine-readable schema.
 */
// ajv is installed (through eslint) but not a declared devDependency: asked of the lead
// eslint-disable-next-line import/no-extraneous-dependencies
import Ajv from 'ajv';

const stepName = { type: 'string', pattern: '^[A-Za-z0-9_]{1,100}$' };
const apiStep = (action: string, required: string[]) => ({
  if: { properties: { action: { const: action } } },
  then: { properties: { inputs: { required } } },
});

export const AUTOMATION_SCHEMA = {
  type: 'object',
  required: ['schemaVersion', 'mainSteps'],
  additionalProperties: false,
  properties: {
    schemaVersion: { const: '0.3' },
    description: { type: 'string', maxLength: 10000 },
    assumeRole: { type: 'string', minLength: 1 },
    parameters: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,50}$' },
      additionalProperties: {
        type: 'object',
        required: ['type'],
        additionalProperties: false,
        properties: {
          type: { enum: ['String', 'StringList', 'Boolean', 'Integer', 'MapList', 'StringMap', 'AWS::IAM::Role::Arn', 'AWS::EC2::Instance::Id'] },
          description: { type: 'string' },
          default: {},
          allowedPattern: { type: 'string' },
          allowedValues: { type: 'array', items: { type: 'string' } },
          minItems: { type: 'integer' },
          maxItems: { type: 'integer' },
          displayType: { enum: ['textarea', 'textfield'] },
        },
      },
    },
    variables: { type: 'object' },
    outputs: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_]+\\.[A-Za-z0-9_]+$' } },
    mainSteps: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'action', 'inputs'],
        additionalProperties: false,
        properties: {
          name: stepName,
          action: {
            enum: ['aws:executeAwsApi', 'aws:waitForAwsResourceProperty', 'aws:assertAwsResourceProperty', 'aws:executeAutomation',
              'aws:executeScript', 'aws:branch', 'aws:sleep', 'aws:approve', 'aws:createImage', 'aws:createTags', 'aws:runCommand',
              'aws:loop', 'aws:pause', 'aws:changeInstanceState', 'aws:deleteImage', 'aws:copyImage', 'aws:invokeLambdaFunction'],
          },
          description: { type: 'string' },
          inputs: { type: 'object' },
          outputs: {
            type: 'array',
            items: {
              type: 'object',
              required: ['Name', 'Selector', 'Type'],
              additionalProperties: false,
              properties: {
                Name: { type: 'string', pattern: '^[A-Za-z0-9_]+$' },
                Selector: { type: 'string', pattern: '^\\$' },
                Type: { enum: ['String', 'Integer', 'Boolean', 'StringList', 'StringMap', 'MapList'] },
              },
            },
          },
          onFailure: { type: 'string', pattern: '^(Abort|Continue|step:[A-Za-z0-9_]{1,100})$' },
          onCancel: { type: 'string' },
          isEnd: { type: 'boolean' },
          isCritical: { type: 'boolean' },
          nextStep: stepName,
          timeoutSeconds: { type: 'integer', minimum: 1 },
          maxAttempts: { type: 'integer', minimum: 1 },
        },
        allOf: [
          apiStep('aws:executeAwsApi', ['Service', 'Api']),
          apiStep('aws:waitForAwsResourceProperty', ['Service', 'Api', 'PropertySelector', 'DesiredValues']),
          apiStep('aws:executeAutomation', ['DocumentName']),
          apiStep('aws:executeScript', ['Runtime', 'Handler']),
        ],
      },
    },
  },
};

const validator = new Ajv({ allErrors: true }).compile(AUTOMATION_SCHEMA);

/** Every schema violation of `content`, one line each ('' when valid). */
export function automationSchemaErrors(content: unknown): string[] {
  return validator(content) ? [] : (validator.errors ?? []).map((e: any) => `${e.instancePath ?? e.dataPath ?? '(document)'} ${e.message}`);
}
