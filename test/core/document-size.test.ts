import { App, Fn, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { checkDocumentSize, documentSizeProblems, measureDocument, SSM_DOCUMENT_LIMIT_BYTES } from '../../src/core/document-size';
import { pythonJsonBytes } from '../support/document-bytes';
import { warningsOn as warnings } from '../support/warnings';

// AWS Systems Manager API reference, CreateDocument, request parameter Content
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html):
// "The content of the document must not exceed 64KB. This quota also includes the content
// specified for input parameters at runtime." A larger one fails with MaxDocumentSizeExceeded
// ("The size limit of a document is 64 KB"). The template's Content goes to the service as JSON
// text, so the size is that text's UTF-8 bytes, not its characters.

/** A document whose content is `bytes` bytes of compact JSON, its description of two-byte characters. */
function documentOf(scope: Construct, bytes: number): ssm.CfnDocument {
  const empty = Buffer.byteLength(JSON.stringify({ schemaVersion: '2.2', description: '' }), 'utf8');
  const fill = bytes - empty;
  // 'é' is one character and two bytes in UTF-8: a count of characters comes out short
  const description = 'é'.repeat(Math.floor(fill / 2)) + 'x'.repeat(fill % 2);
  return new ssm.CfnDocument(scope, 'Document', { documentType: 'Command', content: { schemaVersion: '2.2', description } });
}

let app: App;
let stack: Stack;
let owner: Construct;
beforeEach(() => {
  app = new App();
  stack = new Stack(app, 'Db');
  owner = new Construct(stack, 'Window');
});

describe('the 64 KB document limit', () => {
  test('is 65,536 bytes', () => {
    expect(SSM_DOCUMENT_LIMIT_BYTES).toEqual(65_536);
  });

  test('a document of exactly the limit, run-time parameters included, is accepted; one byte more fails naming the path, the prop, the size and the fix', () => {
    const atLimit = documentOf(owner, SSM_DOCUMENT_LIMIT_BYTES - 20);
    checkDocumentSize(owner, atLimit, { grownBy: [{ property: 'preFreezeCommand', bytes: 30_000 }], runtimeParameters: { bytes: 20, why: 'windowId' }, fix: 'shorten it' });
    const content = stack.resolve(atLimit.content);
    expect(pythonJsonBytes(content)).toEqual(SSM_DOCUMENT_LIMIT_BYTES - 20);
    expect(measureDocument(atLimit)).toEqual({ bytes: SSM_DOCUMENT_LIMIT_BYTES - 20, unresolved: [] });
    // the check is a construct validation: at the limit it reports nothing (synthesizing through
    // the CloudFormation Validate engine adds nothing here and costs a mutant run tens of seconds)
    expect(owner.node.validate()).toEqual([]);

    const app2 = new App();
    const owner2 = new Construct(new Stack(app2, 'Db'), 'Window');
    const over = documentOf(owner2, SSM_DOCUMENT_LIMIT_BYTES - 19);
    checkDocumentSize(owner2, over, { grownBy: [{ property: 'preFreezeCommand', bytes: 30_000 }], runtimeParameters: { bytes: 20, why: 'windowId' }, fix: 'shorten it' });
    expect(() => app2.synth()).toThrow(
      'Db/Window: preFreezeCommand must keep the Systems Manager document Db/Window/Document within 65,536 bytes (64 KB, CreateDocument quota, ' +
      'run-time parameters included), got 65,537 bytes (preFreezeCommand 30,000, the rest 35,517, run-time parameters up to 20 (windowId)); shorten it (1 byte over)');
  });

  test('the props named are the largest that together account for the excess; every one is sized', () => {
    const doc = documentOf(owner, SSM_DOCUMENT_LIMIT_BYTES + 3000);
    const grownBy = [{ property: 'postThawCommand', bytes: 1500 }, { property: 'preFreezeCommand', bytes: 2000 }, { property: 'mountPoints', bytes: 38 }];
    expect(documentSizeProblems(owner, doc, { grownBy, fix: 'shorten them' })).toEqual([expect.stringMatching(
      /^Db\/Window: preFreezeCommand, postThawCommand must keep .* got 68,536 bytes \(preFreezeCommand 2,000, postThawCommand 1,500, mountPoints 38, the rest 64,998\); shorten them \(3,000 bytes over\)$/)]);
    const smaller = documentOf(new Construct(stack, 'Other'), SSM_DOCUMENT_LIMIT_BYTES + 1000);
    expect(documentSizeProblems(owner, smaller, { grownBy, fix: 'shorten them' })).toEqual([expect.stringMatching(/^Db\/Window: preFreezeCommand must keep /)]);
  });

  test('a property override is measured: the size is what CloudFormation sends, not the L1 prop', () => {
    const doc = documentOf(owner, 1000);
    doc.addPropertyOverride('Content.description', 'x'.repeat(SSM_DOCUMENT_LIMIT_BYTES));
    checkDocumentSize(owner, doc, { grownBy: [], fix: 'shorten it' });
    const sent = pythonJsonBytes({ schemaVersion: '2.2', description: 'x'.repeat(SSM_DOCUMENT_LIMIT_BYTES) });
    expect(() => app.synth()).toThrow(`Db/Window: the document must keep the Systems Manager document Db/Window/Document within 65,536 bytes (64 KB, CreateDocument quota, run-time parameters included), got ${sent.toLocaleString('en-US')} bytes`);
  });
});

describe('deploy-time values', () => {
  test('are counted as empty and named: too large even so fails with "at least"', () => {
    const doc = new ssm.CfnDocument(owner, 'Document', {
      documentType: 'Command',
      content: { schemaVersion: '2.2', description: Fn.join('', ['x'.repeat(SSM_DOCUMENT_LIMIT_BYTES), Fn.importValue('Suffix')]) },
    });
    expect(measureDocument(doc).unresolved).toEqual(['{"Fn::ImportValue":"Suffix"}']);
    checkDocumentSize(owner, doc, { grownBy: [], fix: 'shorten it' });
    expect(() => app.synth()).toThrow(/got at least 65,5\d\d bytes \(the rest 65,5\d\d, not counting 1 deploy-time value\(s\): \{"Fn::ImportValue":"Suffix"\}\)/);
  });

  test('within the limit, a warning says what the deploy-time values have left (never a silent pass)', () => {
    const doc = new ssm.CfnDocument(owner, 'Document', {
      documentType: 'Command',
      content: { schemaVersion: '2.2', description: Fn.sub('${AWS::Region} ${!Literal} ok'), mainSteps: [{ name: Fn.importValue('Step') }] },
    });
    const { bytes, unresolved } = measureDocument(doc);
    expect(unresolved).toEqual(['${AWS::Region}', '{"Fn::ImportValue":"Step"}']);
    // the literal parts of Fn::Sub count; ${!Literal} is sent as ${Literal}
    expect(bytes).toEqual(Buffer.byteLength(JSON.stringify({ schemaVersion: '2.2', description: ' ${Literal} ok', mainSteps: [{ name: '' }] })));
    checkDocumentSize(owner, doc, { grownBy: [], fix: 'shorten it' });
    app.synth();
    Annotations.fromStack(stack).hasWarning('/Db/Window', Match.stringLikeRegexp(
      `holds 2 deploy-time value\\(s\\).*so they must take at most ${(SSM_DOCUMENT_LIMIT_BYTES - bytes).toLocaleString('en-US')} bytes.*cdk-ebs-backup:core:document-size-unresolved`));
  });
});

describe('measureDocument reads every shape CloudFormation sends (each in a test: no fixture outside one)', () => {
  const measured = (content: unknown) => {
    const doc = new ssm.CfnDocument(owner, `Document${owner.node.children.length}`, { documentType: 'Command', content: {} });
    doc.addPropertyOverride('Content', content);
    return measureDocument(doc);
  };

  test('content that is a string (YAML, or JSON text) is its own UTF-8 bytes', () => {
    const yaml = 'schemaVersion: "2.2"\ndescription: é';
    expect(yaml.length).toBe(35);
    expect(measured(yaml)).toEqual({ bytes: 36, unresolved: [] });
  });

  test('no content, or a null one, measures 0 bytes', () => {
    expect(measured(null)).toEqual({ bytes: 0, unresolved: [] });
    const doc = new ssm.CfnDocument(owner, 'Document', { documentType: 'Command', content: {} });
    doc.addPropertyDeletionOverride('Content');
    expect(measureDocument(doc)).toEqual({ bytes: 0, unresolved: [] });
  });

  test('content that is one deploy-time value is 0 bytes and listed; a Fn::Join of the whole content counts its literal parts', () => {
    expect(measured({ 'Fn::ImportValue': 'Doc' })).toEqual({ bytes: 0, unresolved: ['{"Fn::ImportValue":"Doc"}'] });
    expect(measured({ 'Fn::Join': ['--', ['abc', { Ref: 'AWS::Region' }, 'de']] })).toEqual({ bytes: 9, unresolved: ['{"Ref":"AWS::Region"}'] });
  });

  test('a Fn::Join whose list is a deploy-time value is listed whole; a deploy-time separator counts as empty and is listed', () => {
    const join = { 'Fn::Join': [',', { 'Fn::GetAZs': '' }] };
    expect(measured({ a: join })).toEqual({ bytes: Buffer.byteLength('{"a":""}'), unresolved: [JSON.stringify(join)] });
    expect(measured({ a: { 'Fn::Join': [{ Ref: 'Sep' }, ['xy', 'z']] } })).toEqual({ bytes: Buffer.byteLength('{"a":"xyz"}'), unresolved: ['{"Ref":"Sep"}'] });
  });

  test('Fn::Sub in its list form counts the template\'s literal parts; a Sub of no string is listed whole', () => {
    expect(measured({ a: { 'Fn::Sub': ['pre ${X} post', { X: 'value' }] } })).toEqual({ bytes: Buffer.byteLength('{"a":"pre  post"}'), unresolved: ['${X}'] });
    const sub = { 'Fn::Sub': [{ Ref: 'Body' }, {}] };
    expect(measured({ a: sub })).toEqual({ bytes: Buffer.byteLength('{"a":""}'), unresolved: [JSON.stringify(sub)] });
  });

  test('only a one-key object whose key starts with Ref or Fn:: is a deploy-time value; other objects and lists are content', () => {
    const content = { a: { TargetRef: 'x' }, b: { Ref: 'y', Other: 1 }, c: [{ Ref: 'z' }], d: { 'MyFn::Thing': 1 }, e: null };
    expect(measured(content)).toEqual({
      bytes: Buffer.byteLength(JSON.stringify({ ...content, c: [''] })),
      unresolved: ['{"Ref":"z"}'],
    });
  });
});

describe('documentSizeProblems names, sizes and warns exactly', () => {
  test('the props named stop as soon as their bytes cover the excess exactly; a prop that adds nothing is neither named nor sized', () => {
    const doc = documentOf(owner, SSM_DOCUMENT_LIMIT_BYTES + 2000);
    const grownBy = [{ property: 'preFreezeCommand', bytes: 2000 }, { property: 'postThawCommand', bytes: 1500 }, { property: 'mountPoints', bytes: 0 }];
    expect(documentSizeProblems(owner, doc, { grownBy, fix: 'shorten them' })).toEqual([
      'Db/Window: preFreezeCommand must keep the Systems Manager document Db/Window/Document within 65,536 bytes (64 KB, CreateDocument quota, ' +
      'run-time parameters included), got 67,536 bytes (preFreezeCommand 2,000, postThawCommand 1,500, the rest 64,036); shorten them (2,000 bytes over)',
    ]);
  });

  test('grown by nothing the user wrote: the document is named; exactly at the limit without run-time parameters, no problem and no warning', () => {
    const over = documentOf(owner, SSM_DOCUMENT_LIMIT_BYTES + 1);
    expect(documentSizeProblems(owner, over, { grownBy: [], fix: 'shorten it' })).toEqual([
      'Db/Window: the document must keep the Systems Manager document Db/Window/Document within 65,536 bytes (64 KB, CreateDocument quota, ' +
      'run-time parameters included), got 65,537 bytes (the rest 65,537); shorten it (1 byte over)',
    ]);
    const other = new Construct(stack, 'Other');
    expect(documentSizeProblems(other, documentOf(other, SSM_DOCUMENT_LIMIT_BYTES), { grownBy: [], fix: 'shorten it' })).toEqual([]);
    expect(warnings(other)).toEqual([]);
  });

  test('the warning for deploy-time values: the count, the first three, the bytes they have left, with run-time parameters counted', () => {
    const doc = new ssm.CfnDocument(owner, 'Document', { documentType: 'Command', content: {} });
    const content = { a: [{ Ref: 'A' }, { Ref: 'B' }, { Ref: 'C' }, { Ref: 'D' }] };
    doc.addPropertyOverride('Content', content);
    const bytes = Buffer.byteLength('{"a":["","","",""]}');
    expect(documentSizeProblems(owner, doc, { grownBy: [], fix: 'shorten it', runtimeParameters: { bytes: 100, why: 'windowId' } })).toEqual([]);
    expect(warnings(owner)).toEqual([
      `Db/Window/Document: the Systems Manager document holds 4 deploy-time value(s) ({"Ref":"A"}, {"Ref":"B"}, {"Ref":"C"}); measured without them it is ${bytes + 100} bytes, ` +
      `so they must take at most ${(SSM_DOCUMENT_LIMIT_BYTES - bytes - 100).toLocaleString('en-US')} bytes or CreateDocument fails with MaxDocumentSizeExceeded (64 KB); ` +
      'pass values known at synthesis to have the size checked [ack: cdk-ebs-backup:core:document-size-unresolved]',
    ]);
  });

  test('too large with deploy-time values: "at least", the first three named, the run-time parameters sized', () => {
    const doc = documentOf(owner, SSM_DOCUMENT_LIMIT_BYTES);
    doc.addPropertyOverride('Content.mainSteps', [{ Ref: 'A' }, { Ref: 'B' }, { Ref: 'C' }, { Ref: 'D' }]);
    const bytes = measureDocument(doc).bytes;
    expect(documentSizeProblems(owner, doc, { grownBy: [], fix: 'shorten it', runtimeParameters: { bytes: 7, why: 'windowId' } })).toEqual([
      'Db/Window: the document must keep the Systems Manager document Db/Window/Document within 65,536 bytes (64 KB, CreateDocument quota, ' +
      `run-time parameters included), got at least ${(bytes + 7).toLocaleString('en-US')} bytes (the rest ${bytes.toLocaleString('en-US')}, run-time parameters up to 7 (windowId), ` +
      `not counting 4 deploy-time value(s): {"Ref":"A"}, {"Ref":"B"}, {"Ref":"C"}); shorten it (${bytes + 7 - SSM_DOCUMENT_LIMIT_BYTES} bytes over)`,
    ]);
    expect(warnings(owner)).toEqual([]);
  });
});
