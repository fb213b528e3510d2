import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct } from 'constructs';
import { renderedProperties } from './rendered-properties';
import { problemLine, warn } from './validation';

/**
 * Systems Manager's limit on a document's content: "The content of the document must not exceed
 * 64KB. This quota also includes the content specified for input parameters at runtime"
 * (CreateDocument API reference, `Content`; a larger one fails with `MaxDocumentSizeExceeded`,
 * "The size limit of a document is 64 KB"), in bytes: 64 × 1,024.
 */
export const SSM_DOCUMENT_LIMIT_BYTES = 64 * 1024;

/** What a user prop adds to a document, as the construct that renders the document measured it. */
export interface DocumentGrowth {
  /** The prop as the user wrote it: `preFreezeCommand`, `validation`. */
  readonly property: string;
  /** The bytes of the rendered content it accounts for. */
  readonly bytes: number;
}

/** How a construct's document grows and what the user can do when it is too large. */
export interface DocumentSizeOptions {
  /**
   * The user props that grow the document, each with the bytes it adds: the message names the
   * largest ones that together account for the excess, and gives the size of each.
   */
  readonly grownBy: readonly DocumentGrowth[];
  /** How to make the document smaller, in the user's terms. */
  readonly fix: string;
  /**
   * The most bytes the parameters sent at run time can take (SSM counts them in the limit), with
   * why that is the most: `the windowId parameter, mw- and 17 hex digits`.
   */
  readonly runtimeParameters?: { readonly bytes: number; readonly why: string };
}

/** A document's measured size. */
export interface DocumentSize {
  /** The bytes of the content as CloudFormation sends it, every deploy-time value counted as empty. */
  readonly bytes: number;
  /** The deploy-time values (intrinsics) in the content, as they appear in the template. */
  readonly unresolved: readonly string[];
}

/**
 * The size of a document's content as CloudFormation sends it to `CreateDocument`: the template's
 * `Content` (with any property override) as compact JSON, or the string itself for a YAML or
 * string content, in UTF-8 bytes. A deploy-time value (`Ref`, `Fn::GetAtt`, ...) is counted as
 * empty and listed: the size is then a lower bound. The literal parts of `Fn::Join` and
 * `Fn::Sub` are counted.
 */
export function measureDocument(document: ssm.CfnDocument): DocumentSize {
  const content = renderedProperties(document).Content;
  const unresolved: string[] = [];
  const literal = (v: unknown): string => {
    if (typeof v === 'string') {
      return v;
    }
    const key = intrinsicKey(v);
    if (key === 'Fn::Join') {
      const [sep, parts] = (v as any)[key];
      if (Array.isArray(parts)) {
        // a deploy-time separator is counted as empty and listed like any other value
        const joined = parts.map(literal);
        return joined.join(literal(sep));
      }
    }
    if (key === 'Fn::Sub') {
      const body = Array.isArray((v as any)[key]) ? (v as any)[key][0] : (v as any)[key];
      if (typeof body === 'string') {
        // every ${...} is a deploy-time value; ${!literal} stays as ${literal}
        return body.replace(/\$\{(!?)([^}]*)\}/g, (_m, bang: string, name: string) => {
          if (bang) {
            return `\${${name}}`;
          }
          unresolved.push(`\${${name}}`);
          return '';
        });
      }
    }
    unresolved.push(JSON.stringify(v));
    return '';
  };
  let text: string;
  if (content === undefined || content === null) {
    text = '';
  } else if (typeof content === 'string' || intrinsicKey(content) !== undefined) {
    text = literal(content);
  } else {
    text = JSON.stringify(content, (_k, v) => (intrinsicKey(v) !== undefined ? literal(v) : v));
  }
  return { bytes: Buffer.byteLength(text, 'utf8'), unresolved };
}

/** `Ref` or the `Fn::` key of a CloudFormation intrinsic, or undefined for any other value. */
function intrinsicKey(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') {
    return undefined;
  }
  // a list's keys are its indexes, never Ref or Fn::
  const keys = Object.keys(v as object);
  return keys.length === 1 && /^(Ref|Fn::)/.test(keys[0]) ? keys[0] : undefined;
}

/**
 * Hold `document` to Systems Manager's 64 KB document limit at synthesis, reported on `scope`
 * (the construct the user wrote) naming the props that grew it, the measured size and the fix.
 * Content that holds deploy-time values is measured without them: too large even so is an
 * error; otherwise a warning (`core:document-size-unresolved`) says how many bytes those values
 * have left, since the limit cannot be verified before deployment.
 */
export function checkDocumentSize(scope: IConstruct, document: ssm.CfnDocument, options: DocumentSizeOptions): void {
  scope.node.addValidation({ validate: () => documentSizeProblems(scope, document, options) });
}

/** The problems `checkDocumentSize` reports (a warning is added, not returned). */
export function documentSizeProblems(scope: IConstruct, document: ssm.CfnDocument, options: DocumentSizeOptions): string[] {
  const { bytes, unresolved } = measureDocument(document);
  const runtime = options.runtimeParameters?.bytes ?? 0;
  const total = bytes + runtime;
  const n = (x: number) => x.toLocaleString('en-US');
  const growers = options.grownBy.filter((g) => g.bytes > 0).sort((a, b) => b.bytes - a.bytes);
  // the props named are the largest ones whose bytes together cover the excess (all, if none does)
  const excess = total - SSM_DOCUMENT_LIMIT_BYTES;
  const named: DocumentGrowth[] = [];
  let covered = 0;
  for (const g of growers) {
    if (covered >= excess) {
      break;
    }
    named.push(g);
    covered += g.bytes;
  }
  const property = named.length > 0 ? named.map((g) => g.property).join(', ') : 'the document';
  const parts = [
    ...growers.map((g) => `${g.property} ${n(g.bytes)}`),
    `the rest ${n(bytes - growers.reduce((s, g) => s + g.bytes, 0))}`,
    ...(runtime > 0 ? [`run-time parameters up to ${n(runtime)} (${options.runtimeParameters!.why})`] : []),
  ];
  const tokens = unresolved.length > 0 ? `, not counting ${unresolved.length} deploy-time value(s): ${unresolved.slice(0, 3).join(', ')}` : '';
  if (total > SSM_DOCUMENT_LIMIT_BYTES) {
    return [problemLine(scope, property,
      `must keep the Systems Manager document ${document.node.path} within ${n(SSM_DOCUMENT_LIMIT_BYTES)} bytes (64 KB, CreateDocument quota, ` +
      `run-time parameters included), got ${unresolved.length > 0 ? 'at least ' : ''}${n(total)} bytes (${parts.join(', ')}${tokens})`,
      undefined, `${options.fix} (${n(total - SSM_DOCUMENT_LIMIT_BYTES)} ${total - SSM_DOCUMENT_LIMIT_BYTES === 1 ? 'byte' : 'bytes'} over)`)];
  }
  if (unresolved.length > 0) {
    warn(scope, 'core:document-size-unresolved',
      `${document.node.path}: the Systems Manager document holds ${unresolved.length} deploy-time value(s) (${unresolved.slice(0, 3).join(', ')}); ` +
      `measured without them it is ${n(total)} bytes, so they must take at most ${n(SSM_DOCUMENT_LIMIT_BYTES - total)} bytes ` +
      'or CreateDocument fails with MaxDocumentSizeExceeded (64 KB); pass values known at synthesis to have the size checked');
  }
  return [];
}
