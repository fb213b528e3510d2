/**
 * The backup tags value by value (module `core-tagging`), without synthesis: the aspect is
 * visited directly and its errors read from the construct's metadata. Tag keys and values as EC2
 * and AWS Backup accept them (Amazon EC2 User Guide, "Tag restrictions": key 1-128 characters,
 * value 0-256, letters, digits, spaces and `_ . : / = + - @`, the `aws:` prefix reserved).
 */
import { Aspects, App, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { Retention } from '../../src/core/retention';
import { BackupTagging, BackupTagsAspect } from '../../src/core/tagging';

const errorsOf = (c: IConstruct) => c.node.metadata.filter((m) => m.type === 'aws:cdk:error').map((m) => m.data);

describe('keys', () => {
  test('configured per app: the other keys keep their defaults; another app is not affected', () => {
    const app = new App();
    BackupTagging.configure(new Construct(new Stack(app, 'S'), 'Deep'), { purposeKey: 'why', managedByKey: 'owner' });
    expect(BackupTagging.keys(new Stack(app, 'T'))).toEqual({ purpose: 'backup:why', retention: 'backup:retention', managedBy: 'backup:owner' });
    expect(BackupTagging.keys(new Stack(new App(), 'S'))).toEqual({ purpose: 'backup:purpose', retention: 'backup:retention', managedBy: 'backup:managed-by' });
  });

  test('configure wins over the context key; a context value that is not a string is ignored', () => {
    const app = new App({ context: { [BackupTagging.PREFIX_CONTEXT]: 'corp/' } });
    BackupTagging.configure(app, { prefix: 'acme:' });
    expect(BackupTagging.prefix(new Stack(app, 'S'))).toBe('acme:');
    const configuredWithoutPrefix = new App({ context: { [BackupTagging.PREFIX_CONTEXT]: 'corp/' } });
    BackupTagging.configure(configuredWithoutPrefix, { retentionKey: 'keep' });
    expect(BackupTagging.keys(new Stack(configuredWithoutPrefix, 'S')).retention).toBe('backup:keep');
    expect(BackupTagging.prefix(new Stack(new App({ context: { [BackupTagging.PREFIX_CONTEXT]: 42 } }), 'S'))).toBe('backup:');
    expect(BackupTagging.PREFIX_CONTEXT).toBe('cdk-ebs-backup:tagPrefix');
  });

  test.each<[string, object, string]>([
    ['reserved prefix', { prefix: 'aws:' },
      "<app>: BackupTagging purpose key must not start with 'aws:' (reserved by AWS), got 'aws:purpose'"],
    // "Don't use aws:, AWS:, or any upper or lowercase combination of such as a prefix" (tag restrictions)
    ['reserved prefix in capitals', { prefix: 'AWS:' },
      "<app>: BackupTagging purpose key must not start with 'aws:' (reserved by AWS), got 'AWS:purpose'"],
    ['reserved prefix in mixed case', { prefix: 'Aws:' }, "must not start with 'aws:' (reserved by AWS), got 'Aws:purpose'"],
    ['a character EC2 refuses', { purposeKey: 'purpose#1' },
      "<app>: BackupTagging purpose key must be a tag key of letters, digits, spaces and _ . : / = + - @, got 'backup:purpose#1'"],
    ['the retention key', { retentionKey: 'keep?' }, '<app>: BackupTagging retention key must be a tag key'],
    ['the managed-by key', { managedByKey: 'by!' }, '<app>: BackupTagging managedBy key must be a tag key'],
    ['longer than 128 characters', { managedByKey: 'm'.repeat(122) }, `<app>: BackupTagging managedBy key must be between 1 and 128 characters long, got 'backup:${'m'.repeat(122)}'`],
  ])('a key EC2 would refuse fails at configure: %s', (_name, options, message) => {
    expect(() => BackupTagging.configure(new App(), options)).toThrow(message.replace('<app>', ''));
  });

  test('a prefix set through the context key is held to the same rules', () => {
    const stackWith = (prefix: string) => new Stack(new App({ context: { [BackupTagging.PREFIX_CONTEXT]: prefix } }), 'S');
    expect(() => BackupTagging.keys(stackWith('AWS:'))).toThrow(
      ": context cdk-ebs-backup:tagPrefix: purpose key must not start with 'aws:' (reserved by AWS), got 'AWS:purpose'");
    expect(() => BackupTagging.key(stackWith('corp#'), 'execution')).toThrow('context cdk-ebs-backup:tagPrefix: purpose key must be a tag key');
    expect(() => BackupTagging.prefix(stackWith('p'.repeat(122)))).toThrow('context cdk-ebs-backup:tagPrefix: purpose key must be between 1 and 128 characters long');
    expect(BackupTagging.keys(stackWith('corp:aws:')).managedBy).toBe('corp:aws:managed-by');
  });

  test('the context prefix is checked once per app and value, and a bad one is refused on every read', () => {
    const bad = new Stack(new App({ context: { [BackupTagging.PREFIX_CONTEXT]: 'AWS:' } }), 'S');
    for (let read = 0; read < 3; read++) {
      expect(() => BackupTagging.key(bad, 'execution')).toThrow("context cdk-ebs-backup:tagPrefix: purpose key must not start with 'aws:'");
    }
    // a value set on a subtree is a value of its own: checked although the app's was checked already
    const app = new App({ context: { [BackupTagging.PREFIX_CONTEXT]: 'corp:' } });
    const stack = new Stack(app, 'S');
    expect(BackupTagging.key(stack, 'execution')).toBe('corp:execution');
    const team = new Stack(app, 'Team');
    team.node.setContext(BackupTagging.PREFIX_CONTEXT, 'team#');
    expect(() => BackupTagging.key(team, 'execution')).toThrow('context cdk-ebs-backup:tagPrefix: purpose key must be a tag key');
    expect(BackupTagging.key(stack, 'archived-at')).toBe('corp:archived-at');
  });

  test('keys EC2 accepts pass: 128 characters, unicode letters, spaces, every allowed sign, aws: not at the start', () => {
    for (const options of [{ managedByKey: 'm'.repeat(121) }, { prefix: 'Sicherung ü:' }, { purposeKey: 'a_b.c:d/e=f+g-h@i' }, { prefix: 'corp:aws:' }]) {
      expect(() => BackupTagging.configure(new App(), options)).not.toThrow();
    }
    expect(BackupTagging.key(new Stack(new App(), 'S'), 'execution')).toBe('backup:execution');
  });
});

describe('tagsFor', () => {
  let stack: Stack;
  beforeEach(() => {
    stack = new Stack(new App(), 'Prod');
  });

  test('managed-by: the given value, or the construct path; cut to 256 characters (EC2\'s limit of a tag value)', () => {
    const c = new Construct(stack, 'Db');
    expect(BackupTagging.tagsFor(c, { purpose: 'db', retention: Retention.age(Duration.days(7)), managedBy: 'team-a' }))
      .toEqual({ 'backup:purpose': 'db', 'backup:retention': 'age:7d', 'backup:managed-by': 'team-a' });
    let deep: Construct = stack;
    for (let i = 0; i < 40; i++) {
      deep = new Construct(deep, `Level${i}`);
    }
    expect(deep.node.path.length).toBeGreaterThan(256);
    expect(BackupTagging.tagsFor(deep, { purpose: 'db', retention: Retention.count(1) })['backup:managed-by']).toBe(deep.node.path.slice(0, 256));
  });

  test('the purpose: 1-256 characters EC2 accepts in a tag value', () => {
    const tags = (purpose: string) => () => BackupTagging.tagsFor(stack, { purpose, retention: Retention.count(1) });
    expect(tags('Datenbank DR ü_.:/=+-@1')).not.toThrow();
    expect(tags('p'.repeat(256))).not.toThrow();
    expect(tags('')).toThrow("Prod: purpose must be between 1 and 256 characters long, got ''");
    expect(tags('p'.repeat(257))).toThrow(`Prod: purpose must be between 1 and 256 characters long, got '${'p'.repeat(257)}'`);
    expect(tags('db!')).toThrow("Prod: purpose must be a tag value of letters, digits, spaces and _ . : / = + - @, got 'db!'");
    expect(() => BackupTagging.validatePurpose(stack, 'tiers[0].purpose', 'a,b')).toThrow('Prod: tiers[0].purpose must be a tag value');
  });

  test('a retention factory problem is reported as the retention prop\'s', () => {
    expect(() => BackupTagging.tagsFor(stack, { purpose: 'db', retention: Retention.count(0) })).toThrow(/^Prod: retention Retention\.count\(\.\.\.\): /);
  });
});

describe('BackupTagsAspect', () => {
  const REQUIRED = 'every backup artefact must carry purpose, retention and managed-by tags (see BackupTagging)';
  let stack: Stack;
  beforeEach(() => {
    stack = new Stack(new App(), 'Prod');
  });
  const source = (c: IConstruct, ...sets: Array<Record<string, string>>) => BackupTagging.addArtefactSource(c, {
    artefactTagSets: () => sets.map((tags, i) => ({ artefact: `snapshots of schedule '${i}'`, tags })),
  });
  const ALL = { 'backup:purpose': 'db', 'backup:retention': 'count:1', 'backup:managed-by': 'Prod/Db' };

  test('each artefact set missing a tag, or with a blank one, is an error naming the construct, the artefact and the keys', () => {
    const db = new Construct(stack, 'Db');
    source(db, ALL, { 'backup:purpose': 'db' }, { ...ALL, 'backup:retention': '  ' });
    source(db, { ...ALL, 'backup:managed-by': '' });
    new BackupTagsAspect().visit(db);
    expect(errorsOf(db)).toEqual([
      `Prod/Db: snapshots of schedule '1' would be created without the tag(s) backup:retention, backup:managed-by; ${REQUIRED}`,
      `Prod/Db: snapshots of schedule '2' would be created without the tag(s) backup:retention; ${REQUIRED}`,
      `Prod/Db: snapshots of schedule '0' would be created without the tag(s) backup:managed-by; ${REQUIRED}`,
    ]);
  });

  test('all three tags, token values, other keys beside them, or no source at all: no error', () => {
    const db = new Construct(stack, 'Db');
    source(db, ALL, { ...ALL, 'backup:purpose': Fn.importValue('Purpose'), 'team': 'x' });
    const plain = new Construct(stack, 'Plain');
    new BackupTagsAspect().visit(db);
    new BackupTagsAspect().visit(plain);
    expect([errorsOf(db), errorsOf(plain), BackupTagging.artefactSources(plain)]).toEqual([[], [], []]);
  });

  test('the configured keys are the ones required', () => {
    const app = new App();
    BackupTagging.configure(app, { prefix: 'acme:' });
    const db = new Construct(new Stack(app, 'Prod'), 'Db');
    source(db, ALL);
    new BackupTagsAspect().visit(db);
    expect(errorsOf(db)).toEqual([`Prod/Db: snapshots of schedule '0' would be created without the tag(s) acme:purpose, acme:retention, acme:managed-by; ${REQUIRED}`]);
  });

  test('the aspect is added once per stack, whatever the number of sources', () => {
    source(new Construct(stack, 'A'), ALL);
    source(new Construct(stack, 'B'), ALL);
    const other = new Stack(stack.node.root as App, 'Other');
    source(new Construct(other, 'C'), ALL);
    const aspects = (s: Stack) => Aspects.of(s).all.filter((a) => a instanceof BackupTagsAspect).length;
    expect([aspects(stack), aspects(other)]).toEqual([1, 1]);
    expect(BackupTagging.artefactSources(stack.node.findChild('A')).length).toBe(1);
  });
});
