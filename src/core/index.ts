// The package's core API. Internal helpers (mergeTags, the job-function builder, the failure
// alarm, acknowledgements, validation) live in modules not exported here: jsii drops free
// functions and constants, so they would exist for TypeScript users only.
export * from './retention';
export * from './tagging';
export * from './retention-roles';
export * from './coverage';
export * from './deployment-prerequisites';
export { PlanReport } from './plan-report';
export * from './stack-change-detection';
