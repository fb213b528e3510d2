/** The state machine definitions a synthesized stack holds, with references given fixed values. */
import { Template } from 'aws-cdk-lib/assertions';

/** Resolve a DefinitionString (string or Fn::Join) with `refs` for its references. */
export function resolveDefinition(value: any, refs: (ref: any) => string): any {
  const flat = (v: any): string => {
    if (typeof v === 'string') {
      return v;
    }
    if (v['Fn::Join']) {
      return v['Fn::Join'][1].map(flat).join(v['Fn::Join'][0]);
    }
    return refs(v);
  };
  return JSON.parse(flat(value));
}

/** Every state machine of `template`, by logical id. */
export function stateMachines(template: any, refs: (ref: any) => string): Record<string, any> {
  const t = Template.fromJSON(template);
  return Object.fromEntries(Object.entries(t.findResources('AWS::StepFunctions::StateMachine'))
    .map(([id, r]: [string, any]) => [id, resolveDefinition(r.Properties.DefinitionString, refs)]));
}
