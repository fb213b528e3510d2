/**
 * The size of an SSM document's content as an independent serializer writes it: Python's `json`,
 * compact separators, non-ASCII kept as UTF-8 (`ensure_ascii=False`), in bytes. Tests hold the
 * library's own measurement (src/core/document-size.ts) to it.
 */
import { execFileSync } from 'child_process';

export function pythonJsonBytes(content: unknown): number {
  return Number(execFileSync('python3', ['-c',
    'import json,sys; print(len(json.dumps(json.load(sys.stdin), separators=(",", ":"), ensure_ascii=False).encode("utf-8")))'], { input: JSON.stringify(content) }).toString().trim());
}
