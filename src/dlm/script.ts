import { Duration } from 'aws-cdk-lib';

/**
 * When DLM runs a script's document on the instance.
 */
export enum ScriptStage {
  /** Before the snapshots are started (`pre-script`): freeze the file system, enter hot backup mode. */
  PRE = 'PRE',
  /** After the snapshots are started (`post-script`): thaw, leave hot backup mode. */
  POST = 'POST',
}

/**
 * What DLM does with an instance whose pre script failed (after the retries).
 */
export enum ScriptFailureAction {
  /** Take a crash-consistent snapshot anyway: a backup of lesser quality beats none. */
  CRASH_CONSISTENT_SNAPSHOT = 'CRASH_CONSISTENT_SNAPSHOT',
  /** Skip the instance this time: only application-consistent snapshots are wanted. */
  SKIP_INSTANCE = 'SKIP_INSTANCE',
}

/**
 * Options shared by every script.
 */
export interface ScriptOptions {
  /**
   * How often DLM retries a failed script (0-3). A failed pre script retries the whole snapshot
   * creation; a failed post script retries the post script only.
   *
   * @default 0
   */
  readonly maxRetries?: number;

  /**
   * What to do when the pre script fails. Only with a pre stage.
   *
   * @default ScriptFailureAction.CRASH_CONSISTENT_SNAPSHOT
   */
  readonly onPreScriptFailure?: ScriptFailureAction;
}

/**
 * Options of a script run from an SSM command document.
 */
export interface SsmDocumentScriptOptions extends ScriptOptions {
  /**
   * Which stages run. DLM calls the document with `pre-script` and/or `post-script`.
   *
   * @default [ScriptStage.PRE, ScriptStage.POST]
   */
  readonly stages?: ScriptStage[];

  /**
   * How long each stage may run before DLM fails the attempt (10-120 seconds). Keep it short:
   * the application is frozen meanwhile.
   *
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
}

/**
 * A pre and/or post script that makes snapshots application-consistent. Only for policies
 * that target instances; the instances must be managed by Systems Manager.
 *
 * @example
 * SnapshotScript.windowsVss();
 * SnapshotScript.ssmDocument('fsfreeze-for-dlm', { timeout: Duration.seconds(30), maxRetries: 2 });
 */
export class SnapshotScript {
  /** The handler that makes DLM run AWS's `AWSEC2-CreateVssSnapshot` document. */
  public static readonly VSS_HANDLER = 'AWS_VSS_BACKUP';

  /** AWS's document for application-consistent snapshots of SAP HANA. */
  public static readonly SAP_HANA_DOCUMENT = 'AWSSystemsManagerSAP-CreateDLMSnapshotForSAPHANA';

  /**
   * Windows VSS snapshots (`AWS_VSS_BACKUP`): DLM runs `AWSEC2-CreateVssSnapshot`, which asks
   * VSS-aware applications (SQL Server, Exchange, AD) to flush before the snapshot, as the
   * guidance recommends for Windows. The instance's own role needs AWS's
   * `AWSEC2VssSnapshotPolicy`. DLM fixes the stages and timeout for VSS.
   */
  public static windowsVss(options: ScriptOptions = {}): SnapshotScript {
    return new SnapshotScript(SnapshotScript.VSS_HANDLER, 'vss', { ...options, stages: [ScriptStage.PRE] });
  }

  /**
   * SAP HANA data snapshots through AWS's `AWSSystemsManagerSAP-CreateDLMSnapshotForSAPHANA`.
   */
  public static sapHana(options: SsmDocumentScriptOptions = {}): SnapshotScript {
    return new SnapshotScript(SnapshotScript.SAP_HANA_DOCUMENT, 'aws-document', options);
  }

  /**
   * Your own SSM command document (name or ARN), called with `pre-script` and `post-script`:
   * `fsfreeze` on Linux, or a database's hot backup mode. Grant the execution role access to
   * it happens automatically.
   */
  public static ssmDocument(document: string, options: SsmDocumentScriptOptions = {}): SnapshotScript {
    return new SnapshotScript(document, 'document', options);
  }

  /** The `ExecutionHandler`: `AWS_VSS_BACKUP`, or an SSM document name or ARN. */
  public readonly handler: string;

  /**
   * The options of the script.
   */
  public readonly options: SsmDocumentScriptOptions;

  /** @internal */
  public readonly _kind: 'vss' | 'aws-document' | 'document';

  private constructor(handler: string, kind: 'vss' | 'aws-document' | 'document', options: SsmDocumentScriptOptions) {
    this.handler = handler;
    this._kind = kind;
    this.options = options;
  }

  /** True for Windows VSS (`AWS_VSS_BACKUP`). */
  public get isVss(): boolean {
    return this._kind === 'vss';
  }
}
