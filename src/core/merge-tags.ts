import { IConstruct } from 'constructs';
import { fail } from './validation';

/**
 * Merge user tags with the library's tags; the library's win, and a clash is an error.
 * Internal: not exported from the package (jsii drops free functions).
 */
export function mergeTags(
  scope: IConstruct, property: string, user: Record<string, string> | undefined, library: Record<string, string>,
): Record<string, string> {
  for (const key of Object.keys(user ?? {})) {
    if (key in library && user![key] !== library[key]) {
      fail(scope, property, `must not set the library's tag '${key}' (it is derived from the construct's settings)`, user![key]);
    }
  }
  return { ...user, ...library };
}
