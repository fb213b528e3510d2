/**
 * The SCP size quota of AWS Organizations, as the guard and WormServiceControlPolicy check it:
 * "Maximum size of a policy document: Service control policies: 5,120 characters"
 * (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html).
 * A policy over the quota is rejected by CreatePolicy at deployment, so the check must fail the
 * synthesis instead, and a split must leave every document under it.
 */
import { Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { WormPolicyDocument } from '../../src/worm/deny-statements';
import {
  EMPTY_POLICY_LENGTH, SCP_MAX_CHARACTERS, SPLIT_HEADROOM, checkScpSize, estimatePolicyLength, splitStatements, statementLength,
} from '../../src/worm/scp-size';

const CAPACITY = SCP_MAX_CHARACTERS - SPLIT_HEADROOM;

/** A deny whose rendered size grows by one character per `pad`. */
function deny(sid: string, pad: number): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    actions: ['ec2:DeleteSnapshot'],
    resources: ['*'],
    conditions: { StringNotEquals: { 'aws:PrincipalTag/team': `x${'a'.repeat(pad)}` } },
  });
}

/** The rendered length of a document, as the template holds it. */
function lengthOf(stack: Stack, document: iam.PolicyDocument): number {
  return estimatePolicyLength(stack.resolve(document.toJSON()));
}

const sidsOf = (stack: Stack, documents: iam.PolicyDocument[]): string[][] =>
  documents.map((d) => stack.resolve(d.toJSON()).Statement.map((s: any) => s.Sid));

describe('estimatePolicyLength', () => {
  test('plain JSON counts its characters without whitespace; each intrinsic counts as the estimate', () => {
    expect(estimatePolicyLength({ Version: '2012-10-17', Statement: [] })).toBe('{"Version":"2012-10-17","Statement":[]}'.length);
    expect(EMPTY_POLICY_LENGTH).toBe(39);
    // {"a":""} is 8 characters, the reference counts 100
    expect(estimatePolicyLength({ a: { Ref: 'AWS::AccountId' } })).toBe(108);
    expect(estimatePolicyLength({ a: { 'Fn::GetAtt': ['Role', 'Arn'] }, b: [{ 'Fn::Join': ['', []] }] }, 10)).toBe('{"a":"","b":[""]}'.length + 20);
    // an object with other keys or more than one key is data, not an intrinsic
    expect(estimatePolicyLength({ a: { Reference: 'x', b: 1 } })).toBe('{"a":{"Reference":"x","b":1}}'.length);
    expect(estimatePolicyLength({ a: { Name: 'Ref' } })).toBe('{"a":{"Name":"Ref"}}'.length);
    expect(estimatePolicyLength([{ Ref: 'X' }])).toBe('[""]'.length + 100);
    expect(estimatePolicyLength({ a: null })).toBe('{"a":null}'.length);
    // a condition on a tag named like an intrinsic is data: an underestimate would let an oversized SCP through to CreatePolicy
    expect(estimatePolicyLength({ StringEquals: { 'aws:PrincipalTag/Ref': 'x' } })).toBe('{"StringEquals":{"aws:PrincipalTag/Ref":"x"}}'.length);
    expect(estimatePolicyLength({ StringEquals: { 'aws:PrincipalTag/Fn::x': 'x' } })).toBe('{"StringEquals":{"aws:PrincipalTag/Fn::x":"x"}}'.length);
  });
});

describe('checkScpSize', () => {
  test('5,120 characters pass, 5,121 fail with the path, the size and the fixes', () => {
    const stack = new Stack();
    const base = lengthOf(stack, new WormPolicyDocument({ statements: [deny('Pad', 0)] }));
    const fits = new WormPolicyDocument({ statements: [deny('Pad', SCP_MAX_CHARACTERS - base)] });
    const over = new WormPolicyDocument({ statements: [deny('Pad', SCP_MAX_CHARACTERS - base + 1)] });
    expect(lengthOf(stack, fits)).toBe(SCP_MAX_CHARACTERS);
    expect(checkScpSize(stack, fits)).toEqual([]);
    expect(checkScpSize(stack, over)).toEqual([`${stack.node.path}: service control policy must be at most 5120 characters (AWS Organizations quota), got about 5121; `
      + 'use toServiceControlPolicies() or WormServiceControlPolicy, which split the statements over several policies, or exempt principals by pattern '
      + '(arn:aws:iam::*:role/...) instead of one ARN each']);
  });

  test('a token counts as 100 characters (an account id or ARN resolved at deployment)', () => {
    const stack = new Stack();
    const withToken = (pad: number) => new WormPolicyDocument({
      statements: [new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['ec2:DeleteSnapshot'],
        resources: ['*'],
        conditions: { StringNotEquals: { 'aws:PrincipalAccount': Fn.importValue('Account'), 'aws:PrincipalTag/team': 'a'.repeat(pad) } },
      })],
    });
    const base = lengthOf(stack, withToken(0));
    expect(base).toBe(estimatePolicyLength(JSON.parse(JSON.stringify(stack.resolve(withToken(0).toJSON())).replace('{"Fn::ImportValue":"Account"}', '""'))) + 100);
    expect(checkScpSize(stack, withToken(SCP_MAX_CHARACTERS - base))).toEqual([]);
    expect(checkScpSize(stack, withToken(SCP_MAX_CHARACTERS - base + 1))).toHaveLength(1);
  });
});

describe('statementLength', () => {
  test('the lengths of the statements add up to the rendered document (one comma between two)', () => {
    const stack = new Stack();
    const a = deny('A', 10);
    const b = deny('B', 300);
    expect(EMPTY_POLICY_LENGTH + statementLength(stack, a) - 1).toBe(lengthOf(stack, new WormPolicyDocument({ statements: [a] })));
    expect(EMPTY_POLICY_LENGTH + statementLength(stack, a) + statementLength(stack, b) - 1)
      .toBe(lengthOf(stack, new WormPolicyDocument({ statements: [a, b] })));
  });
});

describe('splitStatements', () => {
  test('no statement: one empty document', () => {
    const stack = new Stack();
    const documents = splitStatements(stack, []);
    expect(documents).toHaveLength(1);
    expect(documents[0]).toBeInstanceOf(WormPolicyDocument);
    expect(documents[0].isEmpty).toBe(true);
  });

  test('first fit in order: a document is filled to the quota less the headroom exactly, the next statement opens another', () => {
    const stack = new Stack();
    const one = statementLength(stack, deny('S0', 0));
    // three statements that together fill a document to CAPACITY exactly
    const first = deny('S0', 0);
    const second = deny('S1', 0);
    const third = deny('S2', CAPACITY - EMPTY_POLICY_LENGTH - 3 * one);
    expect(EMPTY_POLICY_LENGTH + statementLength(stack, first) + statementLength(stack, second) + statementLength(stack, third)).toBe(CAPACITY);
    const documents = splitStatements(stack, [first, second, third, deny('S3', 0), deny('S4', 0)]);
    expect(sidsOf(stack, documents)).toEqual([['S0', 'S1', 'S2'], ['S3', 'S4']]);
    for (const d of documents) {
      expect(lengthOf(stack, d)).toBeLessThanOrEqual(CAPACITY);
      expect(d).toBeInstanceOf(WormPolicyDocument);
    }
    expect(lengthOf(stack, documents[0])).toBe(CAPACITY - 1); // the rendered document has no comma after its last statement
  });

  test('statements for three documents: each filled first fit and under the quota less the headroom', () => {
    const stack = new Stack();
    // 12 statements of about 1,000 characters: four fit a document of 4,720 (five would fit the quota without the headroom)
    const statements = Array.from({ length: 12 }, (_, i) => deny(`S${i}`, 880 + i));
    const documents = splitStatements(stack, statements);
    expect(sidsOf(stack, documents)).toEqual([['S0', 'S1', 'S2', 'S3'], ['S4', 'S5', 'S6', 'S7'], ['S8', 'S9', 'S10', 'S11']]);
    for (const d of documents) {
      expect(lengthOf(stack, d)).toBeLessThanOrEqual(CAPACITY);
    }
  });

  test('one character more than the capacity moves the statement to the next document', () => {
    const stack = new Stack();
    const one = statementLength(stack, deny('S0', 0));
    const documents = splitStatements(stack, [deny('S0', 0), deny('S1', 0), deny('S2', CAPACITY - EMPTY_POLICY_LENGTH - 3 * one + 1)]);
    expect(sidsOf(stack, documents)).toEqual([['S0', 'S1'], ['S2']]);
  });

  test('reserveOnLast: the last document keeps the reserve free, its last statement moving to a further document when it would not', () => {
    const stack = new Stack();
    const statements = [0, 1, 2, 3].map((i) => deny(`S${i}`, 400));
    const each = statementLength(stack, statements[0]);
    const used = EMPTY_POLICY_LENGTH + 4 * each;
    /** The room the split leaves in its last document, under the quota less the headroom. */
    const roomInLast = (documents: iam.PolicyDocument[]) => CAPACITY - (EMPTY_POLICY_LENGTH + sidsOf(stack, documents).slice(-1)[0].length * each);
    expect(sidsOf(stack, splitStatements(stack, statements, CAPACITY - used))).toEqual([['S0', 'S1', 'S2', 'S3']]);
    // one character more: the last statement moves to a document of its own, which now has the room
    const moved = splitStatements(stack, statements, CAPACITY - used + 1);
    expect(sidsOf(stack, moved)).toEqual([['S0', 'S1', 'S2'], ['S3']]);
    expect(roomInLast(moved)).toBeGreaterThanOrEqual(CAPACITY - used + 1);
    // a reserve that leaves room for one statement only: still one statement moves (the further document is
    // the last one, where the later statements go; moving more would fill it past the reserve)
    const reserve = CAPACITY - EMPTY_POLICY_LENGTH - each;
    const one = splitStatements(stack, statements, reserve);
    expect(sidsOf(stack, one)).toEqual([['S0', 'S1', 'S2'], ['S3']]);
    expect(roomInLast(one)).toBe(reserve);
    expect(sidsOf(stack, splitStatements(stack, statements, CAPACITY - EMPTY_POLICY_LENGTH - 2 * each))).toEqual([['S0', 'S1', 'S2'], ['S3']]);
    // a reserve nothing satisfies keeps one statement per document (never an empty one)
    expect(sidsOf(stack, splitStatements(stack, [deny('S0', 0)], CAPACITY))).toEqual([['S0']]);
    expect(sidsOf(stack, splitStatements(stack, statements, CAPACITY))).toEqual([['S0', 'S1', 'S2'], ['S3']]);
  });

  test('reserveOnLast with a full last document: the statements added later still fit the quota', () => {
    // the guard's case: documents filled near the capacity, then the key and boundary statements (the reserve,
    // about 2,600 characters for the guard) added to the last one after the split
    const stack = new Stack();
    const statements = Array.from({ length: 12 }, (_, i) => deny(`S${i}`, 880));
    const reserve = 2800;
    const documents = splitStatements(stack, statements, reserve);
    documents[documents.length - 1].addStatements(deny('Later', reserve - statementLength(stack, deny('Later', 0))));
    for (const d of documents) {
      expect(lengthOf(stack, d)).toBeLessThanOrEqual(CAPACITY);
    }
    expect(sidsOf(stack, documents).flat()).toEqual([...statements.map((_, i) => `S${i}`), 'Later']);
  });
});
