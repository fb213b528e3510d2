/**
 * Values built once per test process (a Jest worker) instead of once per test file.
 *
 * Jest gives every test file a fresh module registry, so a module-level cache lives for one file
 * only. Two read-only engines cost seconds to build and are the same for every file:
 * - CloudFormation Validate, the WebAssembly engine aws-cdk-lib runs on every synthesis under
 *   `@aws-cdk/core:validateAgainstDefaultRules`: about 4 s to build its rules and 3 s more on its
 *   first template. aws-cdk-lib itself keeps one engine per process
 *   (`CloudFormationValidatePlugin._singletonInstance`), as `cdk synth` does; here the process
 *   outlives the test file's copy of aws-cdk-lib, so the engine is handed to each new copy.
 * - the CloudFormation registry schemas of `@aws-cdk/aws-service-spec` (about 1 s to load).
 *
 * The store hangs on a Node core module object: Jest hands every test file the process's own
 * core modules, so it is the one object the files of a worker share. Keys name the producing
 * package and its version, so two versions (the newest-aws-cdk-lib leg) never share a value.
 */
import { createHash } from 'crypto';
// `import * as` would hand this file a copy of the module object (esModuleInterop), one per file
// eslint-disable-next-line @typescript-eslint/no-require-imports
import os = require('os');

const STORE = Symbol.for('cdk-ebs-backup/test/worker-shared');

/** The value under `key`, built by `create` the first time this process asks for it. */
export function workerShared<T>(key: string, create: () => T): T {
  const holder = os as unknown as { [STORE]?: Map<string, unknown> };
  const store = (holder[STORE] ??= new Map<string, unknown>());
  if (!store.has(key)) {
    store.set(key, create());
  }
  return store.get(key) as T;
}

/** What the tests rely on of aws-cdk-lib's (internal) CloudFormation Validate singleton. */
interface ValidatePluginClass {
  _instance?: object;
  _singletonInstance?: () => object;
  readonly PLUGIN_NAME?: string;
  readonly prototype: object;
}

const PATCHED = Symbol.for('cdk-ebs-backup/test/shared-validate-engine');

/**
 * Give this file's aws-cdk-lib the CloudFormation Validate engine of the first file the process
 * ran, built with the same (default) rules: the plugin aws-cdk-lib runs is still its own
 * `CloudFormationValidatePlugin` with its own `validate`, only the engine behind it is shared.
 * When aws-cdk-lib's singleton is no longer shaped as expected (a plugin of exactly `name` and
 * `engine`), nothing is shared and every file builds its own engine, as without this.
 */
export function shareCloudFormationValidateEngine(pluginClass: unknown): void {
  if (typeof pluginClass !== 'function') {
    return; // an aws-cdk-lib without the plugin: nothing to share
  }
  const cls = pluginClass as ValidatePluginClass & { [PATCHED]?: true };
  const original = cls._singletonInstance;
  const version = (pluginClass as unknown as { [k: symbol]: { version?: string } | undefined })[Symbol.for('jsii.rtti')]?.version;
  if (typeof original !== 'function' || !version || !cls.PLUGIN_NAME || cls[PATCHED]) {
    return;
  }
  cls[PATCHED] = true;
  cls._singletonInstance = function singletonWithSharedEngine(): object {
    if (!cls._instance) {
      let built: object | undefined;
      const engine = workerShared(`aws-cdk-lib@${version} CloudFormationValidatePlugin default-rules engine`, () => {
        built = original.call(cls);
        const own = built as { name?: unknown; engine?: ValidateEngine };
        return Object.keys(own).sort().join() === 'engine,name' && typeof own.engine?.validateDetailed === 'function'
          ? withReportsByContent(own.engine) : undefined;
      });
      if (engine === undefined) {
        cls._instance = built ?? original.call(cls);
      } else {
        cls._instance = Object.assign(built ?? Object.create(cls.prototype), { name: cls.PLUGIN_NAME, engine });
      }
    }
    return cls._instance!;
  };
}

/** The part of the engine (`@aws/cloudformation-validate`'s RegoEngine) the plugin calls per template. */
interface ValidateEngine {
  validateDetailed(template: { readonly path: string; readBytes(): Uint8Array }, config?: unknown): unknown;
}

/**
 * The engine, answering a template it has already validated with the same options from its
 * report of then: the engine is a pure function of the template's bytes and the options (its
 * diagnostics do not depend on the file's path; the plugin reads nothing else of the report),
 * and the examples and several tests synthesize byte-identical templates in one process. The key
 * is the SHA-256 of the options and the bytes, so two different templates never share a report.
 */
function withReportsByContent(engine: ValidateEngine): ValidateEngine {
  const reports = new Map<string, unknown>();
  return Object.assign(Object.create(engine), {
    validateDetailed(template: { readonly path: string; readBytes(): Uint8Array }, config?: unknown): unknown {
      const bytes = template.readBytes();
      const key = createHash('sha256').update(JSON.stringify(config ?? {})).update('\0').update(bytes).digest('hex');
      if (!reports.has(key)) {
        reports.set(key, engine.validateDetailed({ path: template.path, readBytes: () => bytes }, config));
      }
      return reports.get(key);
    },
  });
}
