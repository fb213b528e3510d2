/**
 * Dropping one condition key of one deny statement: the mutation that proves a deny's
 * conditions earn their place (issue 19). A deny's condition keys are ANDed (IAM User Guide,
 * "IAM JSON policy elements: Condition"), so dropping one widens the deny; some legitimate request
 * must then be denied, or the condition protects nothing a test knows of.
 */

/** One condition key of one deny statement of one policy document. */
export interface ConditionRemoval {
  /** A name for the document, for messages. */
  readonly document: string;
  readonly doc: any;
  /** The index of the statement in the document. */
  readonly statement: number;
  readonly operator: string;
  readonly key: string;
}

/** Every condition key of every deny statement of `doc`. */
export function conditionRemovals(document: string, doc: any): ConditionRemoval[] {
  return [doc.Statement].flat().flatMap((s: any, i: number) => s.Effect !== 'Deny' ? [] : Object.entries<any>(s.Condition ?? {})
    .flatMap(([operator, keys]) => Object.keys(keys).map((key) => ({ document, doc, statement: i, operator, key }))));
}

/** The statement a removal applies to. */
export function statementOf(r: ConditionRemoval): any {
  return [r.doc.Statement].flat()[r.statement];
}

/** A one-line name: `<document>: <Sid> without <operator> <key>`. */
export function describeRemoval(r: ConditionRemoval): string {
  return `${r.document}: ${statementOf(r).Sid ?? `statement ${r.statement}`} without ${r.operator} ${r.key}`;
}

/** A copy of the document without the condition key (and without an operator or Condition left empty). */
export function withoutCondition(r: ConditionRemoval): any {
  const copy = JSON.parse(JSON.stringify(r.doc));
  const statement = [copy.Statement].flat()[r.statement];
  delete statement.Condition[r.operator][r.key];
  if (Object.keys(statement.Condition[r.operator]).length === 0) {
    delete statement.Condition[r.operator];
  }
  if (Object.keys(statement.Condition).length === 0) {
    delete statement.Condition;
  }
  return copy;
}

/** Whether an action matches a statement's `Action`/`NotAction` (IAM wildcards, case-insensitive). */
export function statementCovers(statement: any, action: string): boolean {
  const matches = (patterns: string | string[]) => [patterns].flat().some((p) =>
    new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(action));
  return statement.Action !== undefined ? matches(statement.Action) : !matches(statement.NotAction);
}
