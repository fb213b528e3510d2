/**
 * Jest's setup file, run before each test file: this file's aws-cdk-lib gets the worker's one
 * CloudFormation Validate engine (worker-shared.ts). Every `app.synth()` runs that validation,
 * the checked apps of this support module and plain `new App()` alike.
 */
import { CloudFormationValidatePlugin } from 'aws-cdk-lib';
import { shareCloudFormationValidateEngine } from './worker-shared';

shareCloudFormationValidateEngine(CloudFormationValidatePlugin);
