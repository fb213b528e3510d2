/**
 * Issue 16, "machinery is protected like data": the guard's machinery statements protect what
 * carries the managed-by tag, so every job resource the library creates must carry it from its
 * creation (CloudFormation passes `Tags` in the create call). Checked on every example app.
 */
import { listExamples, loadExample } from '../../examples/catalogue';
import { BackupTagging } from '../../src';
import { MACHINERY_RESOURCE_TYPES } from '../../src/core/destructive-actions';
import { MACHINERY_TAG_VALUE } from '../../src/core/machinery';
import { createCheckedApp, synthesizeChecked } from '../support';

/** Not the library's jobs, and why. */
const NOT_MACHINERY: Array<[RegExp, string]> = [
  // CDK's singleton provider of AwsCustomResource (block public access for AMIs): deployment-time
  // only, it runs when CloudFormation creates, updates or deletes that resource
  [/^AWS679f53fac002430cb0da5b7982bd2287/, 'the AwsCustomResource provider singleton, at stack level'],
  // the example apps' own resources, given to the library: the app tags them if it wants them guarded
  [/^FsFreeze/, 'dlm-guidance: the app\'s own pre/post script document, given to DLM'],
  [/^OnCall/, 'vss-maintenance-windows: the app\'s own on-call topic and its key'],
  [/^(Pause|Resume)Intake/, 'consistent-snapshot-job: the app\'s own hook functions, invoked by the job'],
  [/^(AlarmKey|DrillAlarms)/, 'restore-drill: the app\'s own alarm topic and its key'],
];

/** A key is machinery when it encrypts one of the library's topics; vault keys are data keys (keys, sourceKeys, purpose tag). */
function isTopicKey(template: any, id: string): boolean {
  return Object.values<any>(template.Resources).some((r) => r.Type === 'AWS::SNS::Topic'
    && JSON.stringify(r.Properties?.KmsMasterKeyId ?? null).includes(`"${id}"`));
}

const totals = { tagged: 0, pinnedTasks: 0 };

test.each(listExamples())('%s: every job resource carries the managed-by tag from its creation; windows run their document\'s pinned version', (name) => {
  const app = createCheckedApp();
  loadExample(name).build(app);
  const assembly = synthesizeChecked(app);
  const untagged: string[] = [];
  const key = BackupTagging.keys(app).managedBy;
  for (const stack of assembly.stacksRecursively) {
    const resources = stack.template.Resources ?? {};
    for (const [id, r] of Object.entries<any>(resources)) {
      if (!MACHINERY_RESOURCE_TYPES.includes(r.Type) || NOT_MACHINERY.some(([pattern]) => pattern.test(id))
        || (r.Type === 'AWS::KMS::Key' && !isTopicKey(stack.template, id))) {
        continue;
      }
      const tags: Array<{ Key: string; Value: string }> = Array.isArray(r.Properties?.Tags) ? r.Properties.Tags
        : Object.entries<string>(r.Properties?.Tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      if (tags.some((t) => t.Key === key && t.Value === MACHINERY_TAG_VALUE)) {
        totals.tagged++;
      } else {
        untagged.push(`${stack.hierarchicalId}/${id} (${r.Type})`);
      }
    }
    // The window runs the version of the stack's own document it was deployed with: '1', since the
    // document has a generated name and CloudFormation's default UpdateMethod (Replace) makes every
    // content change a new document (AWS CloudFormation User Guide, AWS::SSM::Document,
    // UpdateMethod: Replace is the default, NewVersion would add versions). A version published
    // later with ssm:UpdateDocument and made the default is never run.
    for (const [id, task] of Object.entries<any>(resources)) {
      const documentId = task.Type === 'AWS::SSM::MaintenanceWindowTask' ? task.Properties.TaskArn?.Ref : undefined;
      if (documentId === undefined || resources[documentId]?.Type !== 'AWS::SSM::Document') {
        continue;
      }
      const document = resources[documentId].Properties;
      expect([id, task.Properties.TaskInvocationParameters.MaintenanceWindowRunCommandParameters.DocumentVersion]).toEqual([id, '1']);
      expect([documentId, document.Name, document.UpdateMethod ?? 'Replace']).toEqual([documentId, undefined, 'Replace']);
      totals.pinnedTasks++;
    }
  }
  expect(untagged).toEqual([]);
});

test('the examples hold machinery and stack-owned window documents (the checks above saw something)', () => {
  expect(totals.tagged).toBeGreaterThan(20);
  expect(totals.pinnedTasks).toBeGreaterThan(0);
});
