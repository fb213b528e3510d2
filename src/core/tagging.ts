import { Annotations, Aspects, IAspect, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { Retention } from './retention';
import { checkLength, checkPattern, checkTagKey, reportFactoryProblems, TAG_CHARACTERS } from './validation';

/**
 * The three tag keys that every backup artefact (snapshot, AMI, recovery point) carries.
 */
export interface BackupTagKeys {
  /** Why the artefact exists, e.g. `database-dr`. */
  readonly purpose: string;
  /** How long it is kept, derived from the retention setting, e.g. `count:14`. */
  readonly retention: string;
  /** Which policy created it (its construct path). */
  readonly managedBy: string;
}

/**
 * How this app names the backup tags. Set once per app with `BackupTagging.configure()` or the
 * `cdk-ebs-backup:tagPrefix` context key.
 */
export interface BackupTaggingOptions {
  /**
   * Prefix of every key, so that a company can keep its own namespace (`acme:backup:`).
   *
   * @default 'backup:'
   */
  readonly prefix?: string;
  /**
   * Key of the purpose tag, without the prefix.
   *
   * @default 'purpose'
   */
  readonly purposeKey?: string;
  /**
   * Key of the retention tag, without the prefix.
   *
   * @default 'retention'
   */
  readonly retentionKey?: string;
  /**
   * Key of the managed-by tag, without the prefix.
   *
   * @default 'managed-by'
   */
  readonly managedByKey?: string;
}

/**
 * The values of the three tags for one kind of artefact.
 */
export interface BackupTagValues {
  /** The purpose, e.g. `database-dr`. */
  readonly purpose: string;
  /** The retention the artefact is actually kept under. */
  readonly retention: Retention;
  /**
   * Who manages it.
   *
   * @default - the construct path of the scope
   */
  readonly managedBy?: string;
}

/**
 * One kind of artefact that a construct of this library creates, with the tags it will carry.
 */
export interface BackupArtefactTagSet {
  /** What is created, for error messages: `snapshots of schedule 'nightly'`. */
  readonly artefact: string;
  /** The tags the service will put on it. */
  readonly tags: Record<string, string>;
}

/**
 * A construct that creates backup artefacts and can list the tags they will carry.
 */
export interface IBackupArtefactSource {
  /** Every kind of artefact the construct creates, with its tags. */
  artefactTagSets(): BackupArtefactTagSet[];
}

/** The context key that sets the tag prefix for a whole app (`BackupTagging.PREFIX_CONTEXT`). */
const TAG_PREFIX_CONTEXT = 'cdk-ebs-backup:tagPrefix';

/** The context prefixes already checked, per app root. */
const checkedContextPrefixes = new WeakMap<IConstruct, Set<string>>();

const configured = new WeakMap<IConstruct, BackupTaggingOptions>();
const SOURCES = Symbol.for('cdk-ebs-backup.artefactSources');
const aspectAdded = new WeakSet<Stack>();

/**
 * The tagging strategy of the guidance: every snapshot, AMI and recovery point carries a purpose
 * tag, a retention tag derived from the actual retention setting, and a managed-by tag.
 *
 * Without these tags, cleanup scripts delete snapshots that still matter, and nobody dares delete
 * the ones that no longer do.
 */
export class BackupTagging {
  /** The default prefix of every key. */
  public static readonly DEFAULT_PREFIX = 'backup:';

  /** The context key that sets the tag prefix for a whole app (e.g. in cdk.json). */
  public static readonly PREFIX_CONTEXT = TAG_PREFIX_CONTEXT;

  /**
   * Configure the tag keys for every construct of this library in the app that holds `scope`.
   *
   * Call it before creating the constructs.
   */
  public static configure(scope: IConstruct, options: BackupTaggingOptions): void {
    const root = scope.node.root;
    checkKeys(root, 'BackupTagging', resolveKeys(options));
    configured.set(root, options);
  }

  /** The tag keys in force for `scope`'s app. */
  public static keys(scope: IConstruct): BackupTagKeys {
    return resolveKeys({ ...configured.get(scope.node.root), prefix: BackupTagging.prefix(scope) });
  }

  /** The prefix of every tag key in force for `scope`'s app (e.g. `backup:`). */
  public static prefix(scope: IConstruct): string {
    const options = configured.get(scope.node.root);
    if (options) {
      return options.prefix ?? BackupTagging.DEFAULT_PREFIX;
    }
    const prefix = scope.node.tryGetContext(TAG_PREFIX_CONTEXT);
    if (typeof prefix !== 'string') {
      return BackupTagging.DEFAULT_PREFIX;
    }
    // the context key is the other way to set the prefix: held to the same rules as configure(),
    // once per app and value (keys are read once per tagged resource)
    const root = scope.node.root;
    const checked = checkedContextPrefixes.get(root) ?? new Set<string>();
    if (!checked.has(prefix)) {
      checkKeys(root, `context ${TAG_PREFIX_CONTEXT}:`, resolveKeys({ prefix }));
      checked.add(prefix);
      checkedContextPrefixes.set(root, checked);
    }
    return prefix;
  }

  /**
   * A further tag key in the library's namespace, for tags beyond the three (the execution id of
   * a job, the change reference of a runbook): `BackupTagging.key(scope, 'execution')`.
   */
  public static key(scope: IConstruct, name: string): string {
    return BackupTagging.prefix(scope) + name;
  }

  /**
   * The three tags for one kind of artefact. The retention tag is derived from `retention`, the
   * managed-by tag defaults to the construct path of `scope`.
   */
  public static tagsFor(scope: IConstruct, values: BackupTagValues): Record<string, string> {
    BackupTagging.validatePurpose(scope, 'purpose', values.purpose);
    reportFactoryProblems(scope, 'retention', values.retention);
    const keys = BackupTagging.keys(scope);
    return {
      [keys.purpose]: values.purpose,
      [keys.retention]: values.retention.toTagValue(),
      [keys.managedBy]: (values.managedBy ?? scope.node.path).slice(0, 256),
    };
  }

  /**
   * Check a purpose value: a tag value of 1-256 characters that a cleanup script can match on.
   */
  public static validatePurpose(scope: IConstruct, property: string, purpose: string): void {
    checkLength(scope, property, purpose, 1, 256);
    checkPattern(scope, property, purpose, TAG_CHARACTERS,
      'a tag value of letters, digits, spaces and _ . : / = + - @');
  }

  /**
   * Declare that `construct` creates backup artefacts. The `BackupTagsAspect` (added to its stack
   * once) then fails synthesis if any of them would be created without the three tags.
   */
  public static addArtefactSource(construct: IConstruct, source: IBackupArtefactSource): void {
    const holder = construct as unknown as { [SOURCES]?: IBackupArtefactSource[] };
    (holder[SOURCES] ??= []).push(source);
    const stack = Stack.of(construct);
    if (!aspectAdded.has(stack)) {
      aspectAdded.add(stack);
      Aspects.of(stack).add(new BackupTagsAspect());
    }
  }

  /** The artefact sources declared on `construct`. */
  public static artefactSources(construct: IConstruct): IBackupArtefactSource[] {
    return (construct as unknown as { [SOURCES]?: IBackupArtefactSource[] })[SOURCES] ?? [];
  }
}

/**
 * Reports a synth error for every construct of this library whose artefacts would be created
 * without the purpose, retention and managed-by tags.
 */
export class BackupTagsAspect implements IAspect {
  public visit(node: IConstruct): void {
    const sources = BackupTagging.artefactSources(node);
    if (sources.length === 0) {
      return;
    }
    const keys = BackupTagging.keys(node);
    const required = [keys.purpose, keys.retention, keys.managedBy];
    for (const source of sources) {
      for (const set of source.artefactTagSets()) {
        const missing = required.filter((key) => {
          const value = set.tags[key];
          return value === undefined || (!Token.isUnresolved(value) && value.trim() === '');
        });
        if (missing.length > 0) {
          Annotations.of(node).addError(
            `${node.node.path}: ${set.artefact} would be created without the tag(s) ${missing.join(', ')}; ` +
            'every backup artefact must carry purpose, retention and managed-by tags (see BackupTagging)',
          );
        }
      }
    }
  }
}

/** The tag keys as EC2 and AWS Backup accept them (tag restrictions); `source` names where they were set. */
function checkKeys(root: IConstruct, source: string, keys: BackupTagKeys): void {
  for (const [prop, key] of Object.entries(keys)) {
    checkTagKey(root, `${source} ${prop} key`, key, true);
  }
}

function resolveKeys(options: BackupTaggingOptions): BackupTagKeys {
  const prefix = options.prefix ?? BackupTagging.DEFAULT_PREFIX;
  return {
    purpose: prefix + (options.purposeKey ?? 'purpose'),
    retention: prefix + (options.retentionKey ?? 'retention'),
    managedBy: prefix + (options.managedByKey ?? 'managed-by'),
  };
}
