import { App, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { FsfreezeMaintenanceWindow, FsfreezeMaintenanceWindowProps, MaintenanceTargets } from '../../src';
import { checkedTemplate, createCheckedApp, createTestStack } from '../support';

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
