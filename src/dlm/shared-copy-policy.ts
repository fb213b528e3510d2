import { Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ExecutionGrants } from './grants';
import { DlmPolicyBase, DlmPolicyOptions } from './policy-base';
import { checkCopyRetain, renderCopyRetain, createPolicyResource, policyDescription } from './render';
import { CrossRegionCopy } from './schedule';
import { planRetention, registerPlan } from '../core/plan-report';
import { requirePrerequisite } from '../core/prerequisites';
import { BackupTagging } from '../core/tagging';
import { check, checkAccountId, checkCount, checkLength, checkPattern, checkRegion, isUnresolved } from '../core/validation';

/**
 * Properties of the archive account's event-based copy policy.
 */
export interface DlmSharedSnapshotCopyPolicyProps extends DlmPolicyOptions {
  /** Why the copies exist, for the policy description. */
  readonly purpose: string;

  /** The accounts whose shared snapshots are copied (12-digit ids). */
  readonly sourceAccounts: string[];

  /**
   * Where to copy each shared snapshot (1-3 regions, this stack's region included) and for how
   * long to keep it. The copies belong to this account, so the source account cannot delete them.
   */
  readonly copies: CrossRegionCopy[];

  /**
   * Copy only snapshots created by these DLM policies of the source accounts.
   *
   * @default - every snapshot the source accounts share (or those matching `descriptionRegex`)
   */
  readonly sourcePolicyIds?: string[];

  /**
   * Copy only snapshots whose description matches this regular expression.
   *
   * @default - every snapshot the source accounts share
   */
  readonly descriptionRegex?: string;

  /**
   * The source accounts' keys that encrypt the shared snapshots: the copy must decrypt them.
   * Their key policies must also allow this account.
   *
   * @default - snapshots are unencrypted or use keys already granted
   */
  readonly sourceKeys?: kms.IKey[];
}

/**
 * The event-based Data Lifecycle Manager policy of a backup archive account: when a source
 * account's policy shares a snapshot (`DlmSnapshotPolicy` with `share`), this policy copies it
 * into the archive account on arrival, so that a compromised source account cannot delete the
 * copy (the guidance's archive account).
 *
 * Deploy it in a stack of the archive account. DLM cannot add tags to these copies; they carry
 * DLM's own `aws:dlm:*` tags only.
 */
export class DlmSharedSnapshotCopyPolicy extends DlmPolicyBase {
  /** The L1 resource, for escape hatches. */
  public readonly resource: dlm.CfnLifecyclePolicy;

  /**
   * In alarm when the policy was changed, disabled or deleted (a CloudTrail management event
   * matched its change-detection rule; a deployment counts too).
   */
  public readonly changeAlarm?: cloudwatch.IAlarm;

  constructor(scope: Construct, id: string, props: DlmSharedSnapshotCopyPolicyProps) {
    super(scope, id, props);
    requirePrerequisite(this, 'dlm-customer-key');
    BackupTagging.validatePurpose(this, 'purpose', props.purpose);
    const own = Stack.of(this).account;
    checkCount(this, 'sourceAccounts', props.sourceAccounts, 1, 50);
    props.sourceAccounts.forEach((a, i) => {
      checkAccountId(this, `sourceAccounts[${i}]`, a);
      check(isUnresolved(a) || Token.isUnresolved(own) || a !== own, this, `sourceAccounts[${i}]`,
        "must be another account than the archive account's own", a);
    });
    checkCount(this, 'copies', props.copies, 1, 3);
    const seen = new Set<string>();
    props.copies.forEach((c, i) => {
      checkRegion(this, `copies[${i}].region`, c.region);
      check(isUnresolved(c.region) || !seen.has(c.region), this, `copies[${i}].region`, "must not repeat another copy's region", c.region);
      seen.add(c.region);
      checkCopyRetain(this, `copies[${i}].retain`, c.retain);
      check(!(c.encrypted === false && c.encryptionKey !== undefined), this, `copies[${i}].encrypted`,
        'must not be false when an encryptionKey is given', c.encrypted);
    });
    check(props.sourcePolicyIds === undefined || props.descriptionRegex === undefined, this, 'descriptionRegex',
      'must be omitted when sourcePolicyIds is given (the policy ids make the regex)', props.descriptionRegex);
    checkCount(this, 'sourcePolicyIds', props.sourcePolicyIds, 1, 50);
    props.sourcePolicyIds?.forEach((p, i) => checkPattern(this, `sourcePolicyIds[${i}]`, p, /^policy-[A-Za-z0-9]+$/, 'a DLM policy id such as policy-0123456789abcdef0'));
    checkLength(this, 'descriptionRegex', props.descriptionRegex, 1, 1000);
    const descriptionRegex = props.descriptionRegex
      ?? (props.sourcePolicyIds ? `^.*Created for policy: (${props.sourcePolicyIds.join('|')}).*$` : undefined);

    const grants = ExecutionGrants.of(this, this.executionRole);
    grants.sharedSnapshotCopies(props.copies.map((c) => (isUnresolved(c.region) ? '*' : c.region)));
    props.copies.forEach((c) => c.encryptionKey && grants.key(c.encryptionKey));
    props.sourceKeys?.forEach((k) => grants.key(k));

    this.resource = createPolicyResource(this, {
      description: policyDescription(this, props.description, 'copies of shared snapshots', props.purpose),
      policyDetails: {
        policyType: 'EVENT_BASED_POLICY',
        eventSource: {
          type: 'MANAGED_CWE',
          parameters: { eventType: 'shareSnapshot', snapshotOwner: props.sourceAccounts, descriptionRegex },
        },
        actions: [{
          name: 'copy-shared-snapshots',
          crossRegionCopy: props.copies.map((c) => ({
            target: c.region,
            encryptionConfiguration: { encrypted: c.encrypted ?? true, cmkArn: c.encryptionKey?.keyArn },
            retainRule: renderCopyRetain(c.retain),
          })),
        }],
      },
    }, this.executionRole, props.enabled);
    this.changeAlarm = this.detectChanges(props.alarmActions);
    registerPlan(this, 'DlmSharedSnapshotCopyPolicy', () => ({
      protects: [{
        mechanism: 'DLM copy of shared snapshots',
        selects: `snapshots shared by ${props.sourceAccounts.join(', ')}`,
        schedule: 'on arrival',
        copies: props.copies.map((c) => `${c.region} (${planRetention(c.retain)})`),
      }],
    }));
  }
}
