/**
 * The warnings added to one construct (`Annotations.of(scope).addWarningV2`), read from its
 * metadata without synthesis, as synthesis collects them: for tests that build a construct and
 * ask a check directly.
 */
import { IConstruct } from 'constructs';

export function warningsOn(scope: IConstruct): string[] {
  return scope.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
}
