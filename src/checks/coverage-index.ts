import { AppTemplates, describeTags, glob, refersTo, tagsOf, TemplateResource } from './model';
import { BackupCoverage } from '../core/coverage';

/** What a coverage source protects. */
export type ProtectedKind = 'INSTANCE' | 'VOLUME';

/** A resource (or a would-be resource, for launch templates) that a backup mechanism may protect. */
export interface ProtectedTarget {
  readonly kind: ProtectedKind;
  /** The template resource, when the target is one (a volume or an instance). */
  readonly resource?: TemplateResource;
  /** The tags the resource will carry. */
  readonly tags: Record<string, string>;
  /** The EBS volume type, for default policies that exclude some. */
  readonly volumeType?: string;
}

/** One backup mechanism found in the templates, and what it protects. */
export interface CoverageSource {
  /** For messages: `DLM policy App/Db/Snapshots (target tags Backup=database)`. */
  readonly description: string;
  /** The resource that declares it. */
  readonly resource: TemplateResource;
  /** Whether it protects `target`. */
  covers(target: ProtectedTarget): boolean;
  /** For instance-level sources: whether a volume attached to a covered instance is left out. */
  excludesAttachedVolume(volumeTags: Record<string, string>): boolean;
}

/** Documents and state machines whose text names one of these calls take snapshots or images. */
const SNAPSHOT_TASK = /CreateVssSnapshot|CreateSnapshots?\b|createSnapshots?\b|CreateImage|createImage|fsfreeze/;
/** AWS's managed VSS document. */
export const VSS_TASK = /AWSEC2-CreateVssSnapshot|AWS_VSS_BACKUP/;

/**
 * Every backup mechanism in one environment of an app, and the questions the rules ask of it.
 */
export class CoverageIndex {
  public readonly sources: CoverageSource[];

  constructor(private readonly app: AppTemplates) {
    this.sources = [
      ...dlmSources(app),
      ...backupSelectionSources(app),
      ...maintenanceWindowSources(app, SNAPSHOT_TASK),
      ...metadataSources(app),
    ];
  }

  /** The sources that protect an `AWS::EC2::Volume`, directly or through the instances it is attached to. */
  public volumeCoverage(volume: TemplateResource): CoverageSource[] {
    const tags = tagsOf(volume.properties.Tags);
    const target: ProtectedTarget = { kind: 'VOLUME', resource: volume, tags, volumeType: stringOr(volume.properties.VolumeType, 'gp2') };
    const found = this.sources.filter((s) => s.covers(target));
    for (const instance of this.instancesOf(volume)) {
      const instanceTarget = this.instanceTarget(instance);
      found.push(...this.sources.filter((s) => s.covers(instanceTarget) && !s.excludesAttachedVolume(tags)));
    }
    return unique(found);
  }

  /**
   * The sources that protect an `AWS::EC2::Instance`: at the instance level, or its own block
   * devices at the volume level (tags propagated from the instance or the launch template).
   */
  public instanceCoverage(instance: TemplateResource): CoverageSource[] {
    const target = this.instanceTarget(instance);
    const found = this.sources.filter((s) => s.covers(target));
    const volumeTags = this.instanceVolumeTags(instance, target.tags);
    if (volumeTags !== undefined) {
      found.push(...this.sources.filter((s) => s.covers({ kind: 'VOLUME', tags: volumeTags })));
    }
    return unique(found);
  }

  /**
   * How instances launched from an `AWS::EC2::LaunchTemplate` are protected, per use: each Auto
   * Scaling group that launches it (with the tags it propagates), or the template alone.
   */
  public launchTemplateCoverage(template: TemplateResource): Array<{ readonly use: string; readonly sources: CoverageSource[] }> {
    const data = template.properties.LaunchTemplateData ?? {};
    const instanceTags = tagSpecification(data.TagSpecifications, 'instance');
    const volumeTags = tagSpecification(data.TagSpecifications, 'volume');
    const groups = this.app.referrers(template, 'AWS::AutoScaling::AutoScalingGroup');
    const uses = groups.length === 0
      ? [{ use: 'instances launched from it', tags: instanceTags }]
      : groups.map((g) => ({
        use: `instances of Auto Scaling group ${g.path}`,
        tags: { ...instanceTags, ...tagsOf((g.properties.Tags ?? []).filter((t: any) => t?.PropagateAtLaunch === true || t?.PropagateAtLaunch === 'true')) },
      }));
    return uses.map(({ use, tags }) => ({
      use,
      sources: unique([
        ...this.sources.filter((s) => s.covers({ kind: 'INSTANCE', tags })),
        ...this.sources.filter((s) => s.covers({ kind: 'VOLUME', tags: volumeTags })),
      ]),
    }));
  }

  /** The sources of one kind (`which`) that protect an instance at the instance level. */
  public sourcesCovering(instance: TemplateResource, which: (source: CoverageSource) => boolean): CoverageSource[] {
    const target = this.instanceTarget(instance);
    return this.sources.filter((s) => which(s) && s.covers(target));
  }

  /** The launch templates that instances or Auto Scaling groups use (those are checked through them). */
  public instanceTarget(instance: TemplateResource): ProtectedTarget {
    return { kind: 'INSTANCE', resource: instance, tags: this.instanceTags(instance) };
  }

  /** The tags of an instance: its launch template's instance tags, overridden by its own. */
  public instanceTags(instance: TemplateResource): Record<string, string> {
    const lt = this.launchTemplateOf(instance);
    const fromTemplate = lt ? tagSpecification(lt.properties.LaunchTemplateData?.TagSpecifications, 'instance') : {};
    return { ...fromTemplate, ...tagsOf(instance.properties.Tags) };
  }

  /** The launch template an instance is launched from, in the same stack. */
  public launchTemplateOf(instance: TemplateResource): TemplateResource | undefined {
    const spec = instance.properties.LaunchTemplate;
    return spec ? this.app.target(instance, spec.LaunchTemplateId ?? spec.LaunchTemplateName) : undefined;
  }

  /** The instances a volume is attached to (`AWS::EC2::VolumeAttachment` or an instance's `Volumes`). */
  public instancesOf(volume: TemplateResource): TemplateResource[] {
    const instances: TemplateResource[] = [];
    for (const attachment of this.app.referrers(volume, 'AWS::EC2::VolumeAttachment')) {
      const instance = this.app.target(attachment, attachment.properties.InstanceId);
      if (instance) {
        instances.push(instance);
      }
    }
    for (const instance of this.app.resources('AWS::EC2::Instance')) {
      if (instance.stack === volume.stack && refersTo(instance.properties.Volumes ?? [], volume.logicalId)) {
        instances.push(instance);
      }
    }
    return instances;
  }

  /** The tags an instance's own block devices get, if it creates any. */
  private instanceVolumeTags(instance: TemplateResource, instanceTags: Record<string, string>): Record<string, string> | undefined {
    const lt = this.launchTemplateOf(instance);
    const fromTemplate = lt ? tagSpecification(lt.properties.LaunchTemplateData?.TagSpecifications, 'volume') : {};
    const propagated = instance.properties.PropagateTagsToVolumeOnCreation === true ? instanceTags : {};
    return { ...fromTemplate, ...propagated };
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function tagSpecification(specs: unknown, resourceType: string): Record<string, string> {
  if (!Array.isArray(specs)) {
    return {};
  }
  return Object.assign({}, ...specs.filter((s) => s?.ResourceType === resourceType).map((s) => tagsOf(s.Tags)));
}

function anyTag(tags: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).some(([k, v]) => tags[k] === v);
}

function allTags(tags: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([k, v]) => tags[k] === v);
}

function never(): boolean {
  return false;
}

/** DLM custom policies (target tags, ORed), image policies and default policies. */
function dlmSources(app: AppTemplates): CoverageSource[] {
  const sources: CoverageSource[] = [];
  for (const policy of app.resources('AWS::DLM::LifecyclePolicy')) {
    const props = policy.properties;
    const details = props.PolicyDetails ?? {};
    if (props.State === 'DISABLED') {
      continue;
    }
    const defaultKind = props.DefaultPolicy ?? (details.PolicyLanguage === 'SIMPLIFIED' ? details.ResourceType : undefined);
    if (defaultKind === 'VOLUME' || defaultKind === 'INSTANCE') {
      const exclusions = props.Exclusions ?? details.Exclusions ?? {};
      const excludeTags = tagsOf(exclusions.ExcludeTags);
      const excludeTypes: unknown[] = Array.isArray(exclusions.ExcludeVolumeTypes) ? exclusions.ExcludeVolumeTypes : [];
      sources.push({
        description: `DLM default policy ${policy.path} (every ${defaultKind.toLowerCase()} of the region)`,
        resource: policy,
        covers: (t) => t.kind === defaultKind && !anyTag(t.tags, excludeTags) && !(t.volumeType && excludeTypes.includes(t.volumeType)),
        excludesAttachedVolume: never,
      });
      continue;
    }
    const policyType = details.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT';
    if (policyType !== 'EBS_SNAPSHOT_MANAGEMENT' && policyType !== 'IMAGE_MANAGEMENT') {
      continue;
    }
    const kinds: string[] = policyType === 'IMAGE_MANAGEMENT' ? ['INSTANCE'] : (Array.isArray(details.ResourceTypes) ? details.ResourceTypes : []);
    const targetTags = tagsOf(details.TargetTags);
    if (Object.keys(targetTags).length === 0 || (Array.isArray(details.Schedules) && details.Schedules.length === 0)) {
      continue;
    }
    const excludedData = tagsOf(details.Parameters?.ExcludeDataVolumeTags);
    sources.push({
      description: `DLM ${policyType === 'IMAGE_MANAGEMENT' ? 'AMI' : 'snapshot'} policy ${policy.path} (target tags ${describeTags(targetTags)})`,
      resource: policy,
      covers: (t) => kinds.includes(t.kind) && anyTag(t.tags, targetTags),
      excludesAttachedVolume: (volumeTags) => anyTag(volumeTags, excludedData),
    });
  }
  return sources;
}

/**
 * AWS Backup selections: (Resources OR ListOfTags, or everything when both are empty) AND every
 * condition, minus NotResources ("Assigning resources programmatically", AWS Backup guide).
 */
function backupSelectionSources(app: AppTemplates): CoverageSource[] {
  const sources: CoverageSource[] = [];
  for (const selection of app.resources('AWS::Backup::BackupSelection')) {
    const s = selection.properties.BackupSelection ?? {};
    const resources: unknown[] = Array.isArray(s.Resources) ? s.Resources : [];
    const notResources: unknown[] = Array.isArray(s.NotResources) ? s.NotResources : [];
    const listOfTags: any[] = Array.isArray(s.ListOfTags) ? s.ListOfTags : [];
    const conditions = s.Conditions ?? {};
    const matchesArn = (entry: unknown, t: ProtectedTarget): boolean => {
      if (typeof entry === 'string') {
        const kind = t.kind === 'VOLUME' ? 'volume' : 'instance';
        return glob(entry).test(`arn:aws:ec2:region:account:${kind}/${t.resource?.logicalId ?? '?'}`) && (entry.includes('*') || !!t.resource);
      }
      return !!t.resource && t.resource.stack === selection.stack && refersTo(entry, t.resource.logicalId);
    };
    const tagKey = (k: unknown) => String(k).replace(/^aws:ResourceTag\//, '');
    const condition = (op: string, test: (value: string | undefined, wanted: string) => boolean) =>
      (t: ProtectedTarget) => (Array.isArray(conditions[op]) ? conditions[op] : []).every(
        (c: any) => test(t.tags[tagKey(c?.ConditionKey)], String(c?.ConditionValue)));
    const checks = [
      condition('StringEquals', (v, w) => v === w),
      condition('StringNotEquals', (v, w) => v !== w),
      condition('StringLike', (v, w) => v !== undefined && glob(w).test(v)),
      condition('StringNotLike', (v, w) => v === undefined || !glob(w).test(v)),
    ];
    const what = [
      ...resources.map((r) => (typeof r === 'string' ? r : 'a resource of the app')),
      ...listOfTags.map((t) => `${tagKey(t?.ConditionKey)}=${t?.ConditionValue}`),
    ];
    sources.push({
      description: `AWS Backup selection ${selection.path} (${what.length > 0 ? what.join(', ') : 'every resource'})`,
      resource: selection,
      covers: (t) => {
        const base = (resources.length === 0 && listOfTags.length === 0)
          || resources.some((r) => matchesArn(r, t))
          || listOfTags.some((c) => t.tags[tagKey(c?.ConditionKey)] === String(c?.ConditionValue));
        return base && checks.every((c) => c(t)) && !notResources.some((r) => matchesArn(r, t));
      },
      excludesAttachedVolume: never,
    });
  }
  return sources;
}

/**
 * Maintenance window tasks that take snapshots or images, with the targets they run on (window
 * targets by tag or instance id; several target keys are ANDed).
 */
export function maintenanceWindowSources(app: AppTemplates, taskPattern: RegExp): CoverageSource[] {
  const sources: CoverageSource[] = [];
  for (const task of app.resources('AWS::SSM::MaintenanceWindowTask')) {
    const taskArn = task.properties.TaskArn;
    const referenced = app.target(task, taskArn);
    const text = JSON.stringify(taskArn ?? '') + (referenced ? JSON.stringify(referenced.properties) : '');
    if (!taskPattern.test(text)) {
      continue;
    }
    const targetSets: any[][] = [];
    for (const t of Array.isArray(task.properties.Targets) ? task.properties.Targets : []) {
      if (t?.Key === 'WindowTargetIds') {
        for (const id of Array.isArray(t.Values) ? t.Values : []) {
          const windowTarget = app.target(task, id);
          if (windowTarget?.type === 'AWS::SSM::MaintenanceWindowTarget') {
            targetSets.push(Array.isArray(windowTarget.properties.Targets) ? windowTarget.properties.Targets : []);
          }
        }
      } else if (t?.Key) {
        targetSets.push([t]);
      }
    }
    const name = typeof taskArn === 'string' ? taskArn : referenced?.path ?? 'a document';
    for (const targets of targetSets) {
      sources.push({
        description: `maintenance window task ${task.path} (${name} on ${targets.map((x) => `${x?.Key}=${(x?.Values ?? []).map(String).join('|')}`).join(' and ')})`,
        resource: task,
        covers: (t) => t.kind === 'INSTANCE' && targets.length > 0 && targets.every((x) => windowTargetMatches(x, t, task)),
        excludesAttachedVolume: never,
      });
    }
  }
  return sources;
}

function windowTargetMatches(target: any, t: ProtectedTarget, task: TemplateResource): boolean {
  const values: unknown[] = Array.isArray(target?.Values) ? target.Values : [];
  const key = String(target?.Key ?? '');
  if (key.startsWith('tag:')) {
    return values.includes(t.tags[key.slice(4)]);
  }
  if (key === 'tag-key') {
    return values.some((v) => typeof v === 'string' && v in t.tags);
  }
  if (key === 'InstanceIds') {
    return !!t.resource && t.resource.stack === task.stack && values.some((v) => refersTo(v, t.resource!.logicalId));
  }
  return false;
}

/** Resources that declare coverage with the `cdk-ebs-backup:coverage` metadata convention. */
function metadataSources(app: AppTemplates): CoverageSource[] {
  const sources: CoverageSource[] = [];
  for (const resource of app.resources()) {
    const raw = resource.metadata[BackupCoverage.METADATA_KEY];
    for (const entry of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
      const kinds: unknown[] = Array.isArray(entry?.resourceTypes) ? entry.resourceTypes : [];
      const tags = entry?.tags && typeof entry.tags === 'object' ? entry.tags as Record<string, string> : {};
      if (kinds.length === 0 || Object.keys(tags).length === 0) {
        continue;
      }
      sources.push({
        description: `${resource.type} ${resource.path} (declared coverage of ${kinds.join(' and ').toLowerCase()}s tagged ${describeTags(tags)})`,
        resource,
        covers: (t) => kinds.includes(t.kind) && allTags(t.tags, tags),
        excludesAttachedVolume: never,
      });
    }
  }
  return sources;
}
