import { App, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { FsfreezeMaintenanceWindow, FsfreezeMaintenanceWindowProps, MaintenanceTargets } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';
import { pythonJsonBytes } from '../support/document-bytes';

function props(overrides: Partial<FsfreezeMaintenanceWindowProps> = {}): FsfreezeMaintenanceWindowProps {
  return {
    purpose: 'linux-app-consistent',
    schedule: events.Schedule.cron({ hour: '4', minute: '0' }),
    duration: Duration.hours(1),
    targets: MaintenanceTargets.tagged({ 'Fsfreeze-Snapshot': 'True' }),
    maxConcurrency: '100%',
    maxErrors: '10',
    mountPoints: ['/data', '/var/lib/mysql'],
    ...overrides,
  };
}

/** The document's runCommand lines, from a synthesized template. */
export function runCommandOf(template: any): string[] {
  const [doc] = Object.values(Template.fromJSON(template).findResources('AWS::SSM::Document')) as any[];
  return doc.Properties.Content.mainSteps[0].inputs.runCommand;
}

describe('FsfreezeMaintenanceWindow', () => {
  let app: App;
  let stack: Stack;
  beforeEach(() => {
    app = createCheckedApp();
    stack = createTestStack(app);
  });

  test('the same props shape as the Windows window, with its own Command document that embeds the script', () => {
    const window = new FsfreezeMaintenanceWindow(stack, 'LinuxFsfreeze', props({
      preFreezeCommand: "mysql -e 'FLUSH TABLES WITH READ LOCK'",
      postThawCommand: "mysql -e 'UNLOCK TABLES'",
    }));
    const template = checkedTemplate(stack);
    const t = Template.fromJSON(template);

    t.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Content: {
        schemaVersion: '2.2',
        mainSteps: [Match.objectLike({
          action: 'aws:runShellScript',
          precondition: { StringEquals: ['platformType', 'Linux'] },
        })],
      },
    });
    const lines = runCommandOf(template);
    expect(lines).toEqual(expect.arrayContaining([
      "export FSFREEZE_MOUNT_POINTS='/data /var/lib/mysql'",
      "export FSFREEZE_EXCLUDE_BOOT_VOLUME='true'",
      "export FSFREEZE_WATCHDOG_SECONDS='20'",
      "export FSFREEZE_API_TIMEOUT_SECONDS='15'",
      // expedited RCU grace periods for the freezes unless turned off (fsfreeze-expedite.test.ts runs both)
      "export FSFREEZE_EXPEDITE_GRACE_PERIODS='true'",
      `export FSFREEZE_PRE_COMMAND="$(echo '${Buffer.from("mysql -e 'FLUSH TABLES WITH READ LOCK'").toString('base64')}' | base64 -d)"`,
    ]));
    const tagLine = lines.find((l) => l.startsWith('export FSFREEZE_TAG_SPECIFICATIONS='))!;
    expect(JSON.parse(tagLine.slice("export FSFREEZE_TAG_SPECIFICATIONS='".length, -1))).toEqual([{
      ResourceType: 'snapshot',
      Tags: [
        { Key: 'backup:purpose', Value: 'linux-app-consistent' },
        { Key: 'backup:retention', Value: 'age:14d' },
        { Key: 'backup:managed-by', Value: 'TestStack/LinuxFsfreeze' },
        { Key: 'AppConsistent', Value: 'true' },
        // the window's id, from the task's {{WINDOW_ID}} pseudo parameter, through the document's parameter
        { Key: 'backup:window-id', Value: '{{ windowId }}' },
      ],
    }]);
    const [doc] = Object.values(t.findResources('AWS::SSM::Document')) as any[];
    expect(doc.Properties.Content.parameters.windowId.allowedPattern).toBe('^mw-[0-9a-f]{17}$');
    // the script is embedded verbatim; the only SSM {{ }} parameter is the window id
    expect(lines).toContain("  setsid bash -c '");
    expect(lines.join('\n').match(/\{\{[^}]*\}\}/g)).toEqual(['{{ windowId }}']);

    t.hasResourceProperties('AWS::SSM::MaintenanceWindowTask', {
      TaskType: 'RUN_COMMAND',
      TaskArn: { Ref: Match.stringLikeRegexp('LinuxFsfreezeDocument') },
      TaskInvocationParameters: { MaintenanceWindowRunCommandParameters: Match.objectLike({ Parameters: { windowId: ['{{WINDOW_ID}}'] } }) },
      MaxConcurrency: '100%',
      MaxErrors: '10',
    });
    expect(window.document).toBeDefined();
  });

  test('the document, the whole script embedded with 2,000-character pre and post commands, stays within SSM\'s 64 KB document size', () => {
    // Systems Manager service quotas: "Maximum size of a document" 64 KB (the content, as JSON)
    const long = 'x'.repeat(2000);
    new FsfreezeMaintenanceWindow(stack, 'LinuxFsfreeze', props({ preFreezeCommand: long, postThawCommand: long }));
    const [doc] = Object.values(Template.fromJSON(checkedTemplate(stack)).findResources('AWS::SSM::Document')) as any[];

    expect(Buffer.byteLength(JSON.stringify(doc.Properties.Content))).toBeLessThanOrEqual(64 * 1024);
  });

  describe('the 64 KB document limit, checked at synthesis', () => {
    // AWS Systems Manager API reference, CreateDocument, Content
    // (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html): "The
    // content of the document must not exceed 64KB. This quota also includes the content specified
    // for input parameters at runtime" (MaxDocumentSizeExceeded otherwise): 65,536 bytes with the
    // window's windowId parameter (mw- and 17 hex digits, 20 bytes). Sizes are measured here by an
    // independent serializer (Python's json, compact, UTF-8) on the synthesized template.
    const LIMIT = 65_536;
    const WINDOW_ID = 20;

    function documentBytes(overrides: Partial<FsfreezeMaintenanceWindowProps>): number {
      const s = createTestStack(new App());
      new FsfreezeMaintenanceWindow(s, 'LinuxFsfreeze', props(overrides));
      const [doc] = Object.values(Template.fromStack(s).findResources('AWS::SSM::Document')) as any[];
      return pythonJsonBytes(doc.Properties.Content);
    }

    test('a pre command that fills the document to the limit synthesizes; 3 bytes more (4 base64 bytes) fail, naming the prop, the size and the fix', () => {
      // the commands travel base64-encoded: 3 bytes of command take 4 bytes of document
      const empty = documentBytes({ preFreezeCommand: '' });
      const fits = 3 * Math.floor((LIMIT - WINDOW_ID - empty) / 4);
      const atLimit = documentBytes({ preFreezeCommand: 'x'.repeat(fits) });
      expect(atLimit + WINDOW_ID).toBeLessThanOrEqual(LIMIT);
      expect(atLimit + WINDOW_ID + 4).toBeGreaterThan(LIMIT);
      new FsfreezeMaintenanceWindow(stack, 'LinuxFsfreeze', props({ preFreezeCommand: 'x'.repeat(fits) }));
      expect(() => checkedTemplate(stack)).not.toThrow();

      const over = new App();
      new FsfreezeMaintenanceWindow(createTestStack(over), 'LinuxFsfreeze', props({ preFreezeCommand: 'x'.repeat(fits + 3) }));
      expect(() => over.synth()).toThrow(new RegExp(
        'TestStack/LinuxFsfreeze: preFreezeCommand must keep the Systems Manager document TestStack/LinuxFsfreeze/Document within 65,536 bytes .*' +
        `got ${(atLimit + WINDOW_ID + 4).toLocaleString('en-US')} bytes \\(preFreezeCommand ${(4 * (fits + 3) / 3).toLocaleString('en-US')}, mountPoints 40, .*` +
        'run-time parameters up to 20 \\(windowId: mw- and 17 hex digits\\)\\); keep the commands short: put the steps in a script on the instance and call it'));
    });

    test('a 60-tenant host\'s inline quiesce and restart scripts (stop each worker, checkpoint its database) exceed it: the larger command named (it alone covers the excess), each with its size', () => {
      const tenants = Array.from({ length: 60 }, (_, i) => `tenant_${String(i).padStart(3, '0')}`);
      const preFreezeCommand = ['set -euo pipefail', 'mkdir -p /run/backup',
        ...tenants.map((t) => `systemctl stop app-worker@${t}.service && psql -U backup -d ${t} -c "CHECKPOINT" && touch /run/backup/${t}.quiesced`)].join('\n');
      const postThawCommand = ['set -uo pipefail',
        ...tenants.map((t) => `systemctl start app-worker@${t}.service; rm -f /run/backup/${t}.quiesced`)].join('\n');
      new FsfreezeMaintenanceWindow(stack, 'LinuxFsfreeze', props({ preFreezeCommand, postThawCommand }));
      const b64 = (c: string) => Buffer.from(c, 'utf8').toString('base64').length.toLocaleString('en-US');
      expect(() => app.synth()).toThrow(new RegExp(
        'TestStack/LinuxFsfreeze: preFreezeCommand must keep the Systems Manager document .* within 65,536 bytes .*' +
        `got [0-9,]+ bytes \\(preFreezeCommand ${b64(preFreezeCommand)}, postThawCommand ${b64(postThawCommand)}, mountPoints 40, the rest [0-9,]+, .*\\); ` +
        'keep the commands short: put the steps in a script on the instance and call it .* \\([0-9,]+ bytes over\\)'));
    });
  });

  test('the instance may create snapshots of itself only, and only with the purpose tag', () => {
    new FsfreezeMaintenanceWindow(stack, 'Linux', props());
    const t = Template.fromJSON(checkedTemplate(stack));
    const policies = t.findResources('AWS::IAM::Policy');
    const id = Object.keys(policies).find((k) => k.startsWith('LinuxInstanceRoleDefaultPolicy'))!;
    const statements = policies[id].Properties.PolicyDocument.Statement;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Sid: 'SnapshotOwnInstanceOnly', Condition: { StringLike: { 'ec2:SourceInstanceARN': '*${ec2:InstanceID}' } } }),
      expect.objectContaining({
        Sid: 'CreateTaggedSnapshotsOnly',
        Condition: { StringEquals: { 'aws:RequestTag/backup:purpose': 'linux-app-consistent' } },
      }),
    ]));
    // the Linux window needs no Describe and no tagging after creation
    expect(statements.filter((s: any) => s.Resource === '*')).toEqual([]);
    t.resourceCountIs('AWS::SSM::Association', 0);
  });

  test('without mount points, the document leaves the choice to the instance: every EBS data file system', () => {
    new FsfreezeMaintenanceWindow(stack, 'Linux', props({ mountPoints: undefined }));
    expect(runCommandOf(checkedTemplate(stack))).toContain("export FSFREEZE_MOUNT_POINTS=''");
  });

  test('mount points given as tokens are not validated', () => {
    expect(() => new FsfreezeMaintenanceWindow(stack, 'Linux', props({ mountPoints: [Fn.importValue('Mount')] }))).not.toThrow();
  });

  test.each([
    ['no mount point', { mountPoints: [] }, 'mountPoints must have between 1 and 64 items'],
    ['the root file system', { mountPoints: ['/'] }, "mountPoints[0] must not be / (the SSM agent, the AWS CLI and the watchdog write to the root file system), got '/'"],
    ['a relative path', { mountPoints: ['data'] }, 'mountPoints[0] must be an absolute path'],
    ['a path with a quote', { mountPoints: ["/data'x"] }, 'mountPoints[0] must be an absolute path'],
    ['a freeze bound of 5 s', { maxFreeze: Duration.seconds(5) }, 'maxFreeze must be between 6 seconds and 10 minutes, got 5 seconds'],
    ['a freeze bound of 11 minutes', { maxFreeze: Duration.minutes(11) }, 'maxFreeze must be between 6 seconds and 10 minutes'],
    ['a fractional freeze bound', { maxFreeze: Duration.millis(7500) }, 'maxFreeze must be a whole number of seconds'],
    ['a token pre command', { preFreezeCommand: Fn.importValue('Cmd') }, 'preFreezeCommand must be known at synthesis'],
    ['a reserved tag', { tags: { AppConsistent: 'false' } }, "tags must not set 'AppConsistent'"],
    ['a tag with a quote', { tags: { Team: "o'brien" } }, 'must not contain a single quote'],
    ['maxErrors 101%', { maxErrors: '101%' }, "maxErrors must be a count from 0 or a percentage from 0% to 100% (e.g. 0 or 10%), got '101%'"],
  ])('rejects %s', (_name, overrides, message) => {
    expect(() => new FsfreezeMaintenanceWindow(stack, 'Bad', props(overrides as Partial<FsfreezeMaintenanceWindowProps>))).toThrow(message);
  });
});
