import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { BackupTagging, Retention } from '../../src';
import { createCheckedApp, createTestStack, synthesizeChecked } from '../support';

/** A stand-in for an artefact-creating construct of this library. */
class FakeSnapshotter extends Construct {
  constructor(scope: Construct, id: string, tags: Record<string, string>) {
    super(scope, id);
    // a real resource so the stack is not empty
    new ec2.CfnPlacementGroup(this, 'Resource', { strategy: 'cluster' });
    BackupTagging.addArtefactSource(this, { artefactTagSets: () => [{ artefact: "snapshots of schedule 'nightly'", tags }] });
  }
}

describe('BackupTagging', () => {
  test('derives the three tags with default keys', () => {
    const stack = new Stack(new App(), 'Prod');
    const c = new Construct(stack, 'DatabaseSnapshots');
    expect(BackupTagging.tagsFor(c, { purpose: 'database-dr', retention: Retention.count(14) })).toEqual({
      'backup:purpose': 'database-dr',
      'backup:retention': 'count:14',
      'backup:managed-by': 'Prod/DatabaseSnapshots',
    });
  });

  test('keys are configurable once per app', () => {
    const app = new App();
    BackupTagging.configure(app, { prefix: 'acme:', retentionKey: 'keep' });
    const stack = new Stack(app, 'S');
    expect(BackupTagging.keys(stack)).toEqual({ purpose: 'acme:purpose', retention: 'acme:keep', managedBy: 'acme:managed-by' });
  });

  test('the prefix can come from context', () => {
    const app = new App({ context: { 'cdk-ebs-backup:tagPrefix': 'corp/' } });
    expect(BackupTagging.keys(new Stack(app, 'S')).purpose).toEqual('corp/purpose');
  });

  test('a reserved key prefix is rejected', () => {
    expect(() => BackupTagging.configure(new App(), { prefix: 'aws:' })).toThrow(/BackupTagging purpose key must not start with 'aws:' \(reserved by AWS\)/);
  });

  test('a bad purpose is rejected with the property named', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => BackupTagging.tagsFor(stack, { purpose: 'db#1', retention: Retention.age(Duration.days(1)) }))
      .toThrow("S: purpose must be a tag value of letters, digits, spaces and _ . : / = + - @, got 'db#1'");
  });
});

describe('BackupTagsAspect', () => {
  test('fails synthesis for an artefact-creating construct missing its tags', () => {
    // GIVEN a construct whose snapshots would carry only the purpose tag
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    new FakeSnapshotter(stack, 'Untagged', { 'backup:purpose': 'x' });

    // THEN
    expect(() => synthesizeChecked(app)).toThrow(
      /TestStack\/Untagged: snapshots of schedule 'nightly' would be created without the tag\(s\) backup:retention, backup:managed-by/,
    );
  });

  test('passes a construct whose artefacts carry all three tags', () => {
    const app = createCheckedApp({ rules: false });
    const stack = createTestStack(app);
    const scope = new Construct(stack, 'Scope');
    new FakeSnapshotter(scope, 'Tagged', BackupTagging.tagsFor(scope, { purpose: 'x', retention: Retention.count(1) }));
    expect(() => synthesizeChecked(app)).not.toThrow();
  });
});

describe('BackupTagging namespace', () => {
  test('further keys share the configured prefix', () => {
    const app = new App();
    BackupTagging.configure(app, { prefix: 'acme:bk/' });
    const stack = new Stack(app, 'S');
    expect(BackupTagging.prefix(stack)).toEqual('acme:bk/');
    expect(BackupTagging.key(stack, 'execution')).toEqual('acme:bk/execution');
  });

  test('default prefix', () => {
    expect(BackupTagging.key(new Stack(new App(), 'S'), 'change-ref')).toEqual('backup:change-ref');
  });
});
