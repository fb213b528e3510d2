/**
 * The test harness hands cfn-guard only the rule files that name a resource type of the templates
 * (scoped-guard.ts). That is sound only if a rule never reports a resource of a type its file does
 * not name; these tests hold that to the real cfn-guard binary and rule set, not to our reading.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, IPolicyValidationContext, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { applicableRuleFiles, guardRuleFiles, rulePathsOf, ScopedCfnGuardValidator } from './scoped-guard';

const rulePaths = rulePathsOf(new CfnGuardValidator())!;
const ruleFiles = guardRuleFiles(rulePaths);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function writeTemplate(name: string, template: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scoped-guard-'));
  dirs.push(dir);
  const file = path.join(dir, `${name}.template.json`);
  fs.writeFileSync(file, JSON.stringify(template));
  return file;
}

function contextOf(...templatePaths: string[]): IPolicyValidationContext {
  return { templatePaths } as IPolicyValidationContext;
}

/** Each violation as "rule logicalId", sorted: the part of a report the scoped validator reads. */
function findings(report: PolicyValidationPluginReport): string[] {
  return report.violations
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`))
    .sort();
}

/** Every resource type some rule file names, sorted. */
const namedTypes = [...new Set(ruleFiles.flatMap((r) => r.types))].sort();

/** The logical id of a type's bare resource: the type without its colons. */
function logicalIdOf(type: string): string {
  return type.replace(/[^A-Za-z0-9]/g, '');
}

/** A template file with one bare resource (no properties) of each type. */
function bareTemplate(name: string, types: string[]): string {
  return writeTemplate(name, { Resources: Object.fromEntries(types.map((t) => [logicalIdOf(t), { Type: t, Properties: {} }])) });
}

/** A third of the named types, chosen by a small linear congruential generator from `seed`. */
function sample(seed: number): string[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  return namedTypes.filter(() => next() < 1 / 3);
}

/**
 * The full rule set on a template with one bare resource of every type any rule names (bare
 * resources violate most rules, so most rules fire): how many findings, those on a type the
 * violated rule's file does not name, and the types rules fired on that their file names after
 * another. Run once per file.
 */
let everyType: { fired: number; outside: string[]; firedOnLaterType: string[] } | undefined;
function everyTypeRun(): { fired: number; outside: string[]; firedOnLaterType: string[] } {
  if (everyType) {
    return everyType;
  }
  const report = new CfnGuardValidator().validate(contextOf(bareTemplate('EveryType', namedTypes)));
  const typeOf = new Map(namedTypes.map((t) => [logicalIdOf(t), t]));
  const fileOfRule = new Map(ruleFiles.flatMap((r) => r.rules.map((name) => [name, r] as const)));
  const result = { fired: 0, outside: [] as string[], firedOnLaterType: [] as string[] };
  for (const v of report.violations) {
    const named = fileOfRule.get(v.ruleName)?.types ?? [];
    for (const r of v.violatingResources) {
      const type = typeOf.get(r.resourceLogicalId)!;
      result.fired++;
      if (!named.includes(type)) {
        result.outside.push(`${v.ruleName} fired on ${r.resourceLogicalId} (${type})`);
      } else if (named.indexOf(type) > 0) {
        result.firedOnLaterType.push(type);
      }
    }
  }
  everyType = result;
  return result;
}

describe('the rule files of the Control Tower rule set', () => {
  test('are read: every file names at least one resource type and declares a rule', () => {
    expect(ruleFiles.length).toBeGreaterThan(200);
    expect(ruleFiles.filter((r) => r.types.length === 0).map((r) => r.file)).toEqual([]);
    expect(ruleFiles.filter((r) => r.rules.length === 0).map((r) => r.file)).toEqual([]);
  });

  test('no rule reports a resource of a type its file does not name (cfn-guard on every named type)', () => {
    const { fired, outside, firedOnLaterType } = everyTypeRun();
    expect(fired).toBeGreaterThan(100);
    expect(outside).toEqual([]);
    expect(firedOnLaterType).toContain('AWS::RDS::DBSecurityGroup');
  });
});

describe('applicableRuleFiles', () => {
  // a bucket without versioning, a queue without encryption and a function outside a VPC, beside
  // types no rule names
  const template = {
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler', Role: 'arn:aws:iam::123456789012:role/r', Code: { ZipFile: 'x' } } },
      Policy: { Type: 'AWS::DLM::LifecyclePolicy', Properties: {} },
    },
  };

  test('keeps only the files naming a type of the templates', () => {
    const file = writeTemplate('Mixed', template);
    const selected = applicableRuleFiles(rulePaths, [file], [])!;
    const named = (f: string) => ruleFiles.find((r) => r.file === f)!.types;
    expect(selected.length).toBeGreaterThan(5);
    expect(selected.length).toBeLessThan(ruleFiles.length / 2);
    expect(selected.filter((f) => !named(f).some((t) => ['AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::Lambda::Function'].includes(t)))).toEqual([]);
    // and drops none that names one
    expect(ruleFiles.filter((r) => r.types.includes('AWS::SQS::Queue')).every((r) => selected.includes(r.file))).toBe(true);
  });

  test('gives the same report as the full rule set', () => {
    const file = writeTemplate('Mixed', template);
    const full = new CfnGuardValidator().validate(contextOf(file));
    const filtered = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: applicableRuleFiles(rulePaths, [file], []) })
      .validate(contextOf(file));
    expect(findings(full).length).toBeGreaterThan(3);
    expect(findings(filtered)).toEqual(findings(full));
  });

  test.each<[string, () => string[], number]>([
    ['the last type named by each file naming several', () => ruleFiles.filter((r) => r.types.length > 1).map((r) => r.types[r.types.length - 1]), 10],
    // e.g. the rule on RDS security groups, whose file names AWS::RDS::DBInstance first
    ['the types rules fire on that their files do not name first', () => everyTypeRun().firedOnLaterType, 1],
    ['a seeded random third of all named types (seed 1)', () => sample(1), 10],
    ['a seeded random third of all named types (seed 2)', () => sample(2), 10],
  ])('gives the same report as the full rule set on %s', (_name, typesOf, atLeast) => {
    const types = [...new Set(typesOf())].sort();
    const file = bareTemplate('Subset', types);
    const full = new CfnGuardValidator().validate(contextOf(file));
    const filtered = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: applicableRuleFiles(rulePaths, [file], []) })
      .validate(contextOf(file));
    expect(findings(full).length).toBeGreaterThanOrEqual(atLeast);
    expect(findings(filtered)).toEqual(findings(full));
  });

  test('leaves out disabled rules, and selects nothing for types no rule names', () => {
    const file = writeTemplate('Mixed', template);
    const all = applicableRuleFiles(rulePaths, [file], [])!;
    const disabled = path.basename(all[0], '.guard');
    expect(applicableRuleFiles(rulePaths, [file], [disabled])).toEqual(all.slice(1));
    const dlmOnly = writeTemplate('DlmOnly', { Resources: { Policy: template.Resources.Policy } });
    expect(applicableRuleFiles(rulePaths, [dlmOnly], [])).toEqual([]);
  });
});

describe('ScopedCfnGuardValidator', () => {
  test('reads each template once per validation: the choice of rule files and the construct paths of the findings share it', () => {
    // a queue without encryption: its finding's construct path is looked up (nothing acknowledges it)
    const file = writeTemplate('ReadOnce', { Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: {}, Metadata: { 'aws:cdk:path': 'Stack/Queue' } } } });
    // the real module, which every importer's namespace object reads through
    const realFs = jest.requireActual<typeof fs>('fs');
    const original = realFs.readFileSync;
    const reads: string[] = [];
    const spy = jest.spyOn(realFs, 'readFileSync').mockImplementation(((p: fs.PathOrFileDescriptor, options?: any) => {
      if (p === file) {
        reads.push(String(p));
      }
      return original.call(realFs, p, options);
    }) as typeof realFs.readFileSync);
    let report: PolicyValidationPluginReport;
    try {
      report = new ScopedCfnGuardValidator().validate({ templatePaths: [file], appConstruct: new App() } as unknown as IPolicyValidationContext);
    } finally {
      spy.mockRestore();
    }
    expect(findings(report).filter((f) => f.endsWith(' Queue')).length).toBeGreaterThan(0);
    expect(reads).toEqual([file]);
  });
});
