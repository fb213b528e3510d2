/**
 * A read-only model of the synthesized templates of one environment of an app, as the rules of
 * `EbsBackupChecks` see them: resources by type, their tags, and which logical id a value refers to.
 */

/** One synthesized stack template. */
export interface StackTemplate {
  /** The stack's construct path. */
  readonly stackPath: string;
  /** The template file, when read from the cloud assembly. */
  readonly templatePath?: string;
  /** The template. */
  readonly template: any;
}

/** One resource of a template. */
export interface TemplateResource {
  readonly stack: StackTemplate;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Record<string, any>;
  readonly metadata: Record<string, any>;
  /** The construct path when the template carries it, else `<stack>/<logicalId>`. */
  readonly path: string;
}

/** The templates of one environment (account and region) of an app. */
export class AppTemplates {
  private readonly all: TemplateResource[] = [];
  private readonly index = new Map<string, TemplateResource>();

  constructor(public readonly stacks: StackTemplate[]) {
    for (const stack of stacks) {
      for (const [logicalId, raw] of Object.entries<any>(stack.template?.Resources ?? {})) {
        const metadata = raw?.Metadata ?? {};
        const resource: TemplateResource = {
          stack,
          logicalId,
          type: String(raw?.Type ?? ''),
          properties: raw?.Properties ?? {},
          metadata,
          path: typeof metadata['aws:cdk:path'] === 'string' ? metadata['aws:cdk:path'] : `${stack.stackPath}/${logicalId}`,
        };
        this.all.push(resource);
        this.index.set(key(stack, logicalId), resource);
      }
    }
  }

  /** Every resource, or those of one CloudFormation type. */
  public resources(type?: string): TemplateResource[] {
    return type === undefined ? this.all : this.all.filter((r) => r.type === type);
  }

  /** The resource `value` refers to (`Ref`, `Fn::GetAtt`) in the same stack as `from`. */
  public target(from: TemplateResource, value: unknown): TemplateResource | undefined {
    const id = refTarget(value);
    return id === undefined ? undefined : this.index.get(key(from.stack, id));
  }

  /** Resources of `type` in `from`'s stack whose properties refer to `from`. */
  public referrers(from: TemplateResource, type: string): TemplateResource[] {
    return this.all.filter((r) => r.stack === from.stack && r.type === type && refersTo(r.properties, from.logicalId));
  }

  /** The roles of an instance profile that are defined in the app (an imported role is not). */
  public profileRoles(profile: TemplateResource): TemplateResource[] {
    return (Array.isArray(profile.properties.Roles) ? profile.properties.Roles : [])
      .map((r: unknown) => this.target(profile, r))
      .filter((r: TemplateResource | undefined): r is TemplateResource => r?.type === 'AWS::IAM::Role');
  }
}

function key(stack: StackTemplate, logicalId: string): string {
  return `${stack.stackPath}\u0000${logicalId}`;
}

/** The logical id of `{ Ref }` or `{ Fn::GetAtt }`, if `value` is one. */
export function refTarget(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') {
    return v.Ref;
  }
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
    return getAtt[0];
  }
  if (typeof getAtt === 'string') {
    return getAtt.split('.')[0];
  }
  return undefined;
}

/** True when `value` contains a `Ref`, `Fn::GetAtt` or `Fn::Sub` reference to `logicalId`. */
export function refersTo(value: unknown, logicalId: string): boolean {
  if (value === null || typeof value !== 'object') {
    return false;
  }
  if (refTarget(value) === logicalId) {
    return true;
  }
  const sub = (value as Record<string, unknown>)['Fn::Sub'];
  const subText = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
  if (subText !== undefined && new RegExp(`\\$\\{${escape(logicalId)}(\\.[^}]*)?\\}`).test(subText)) {
    return true;
  }
  return Object.values(value as Record<string, unknown>).some((v) => refersTo(v, logicalId));
}

/** Tags from the `[{ Key, Value }]` list most resources take; pairs that are not plain strings are left out. */
export function tagsOf(list: unknown, keyField = 'Key', valueField = 'Value'): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!Array.isArray(list)) {
    return tags;
  }
  for (const item of list) {
    const k = item?.[keyField];
    const v = item?.[valueField];
    if (typeof k === 'string' && typeof v === 'string') {
      tags[k] = v;
    }
  }
  return tags;
}

/** Render tags for a message: `Backup=database, Tier=gold`. */
export function describeTags(tags: Record<string, string>): string {
  const entries = Object.entries(tags);
  return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** A string as a literal in a regular expression. */
export function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An IAM-style glob (`*` and `?`) as an anchored regular expression. */
export function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escape(c))).join('')}$`);
}
