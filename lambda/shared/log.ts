/**
 * JSON-line logging for the handlers: one object per line, with the purpose tag, resource ids and
 * outcome. Never log credentials or whole SDK responses.
 */
export type LogFields = Record<string, string | number | boolean | string[] | undefined>;

export function log(level: 'INFO' | 'WARN' | 'ERROR', message: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'ERROR') {
    console.error(line);
  } else {
    console.log(line);
  }
}
