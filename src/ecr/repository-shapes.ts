import type { CreationTemplateRecord, EncryptionType, ImageTagMutability, RepositorySettings, ResourceTag, TagMutabilityFilter, TemplateAppliedFor } from '../metadata/types.ts';
import { parseLifecyclePolicy } from '../lifecycle/policy.ts';
import { ACCOUNT_SETTINGS, type AccountSettingName, type RepositoryView } from '../registry/repositories.ts';
import type { EcrContext } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';
import { createValidator, Rules, type ErrorStyle, type Validator } from './validate.ts';
import { parseBoundedJson } from '../core/json.ts';

/**
 * Input rules and output shapes shared by the repository administration operations (CreateRepository,
 * DescribeRepositories, tag mutability, policies, tagging, creation templates). Members absent from a
 * shape are omitted, never null; timestamps are epoch seconds.
 */

export const TAG_MUTABILITY_VALUES: readonly ImageTagMutability[] = ['IMMUTABLE', 'MUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'];
export const ENCRYPTION_TYPES: readonly EncryptionType[] = ['AES256', 'KMS', 'KMS_DSSE'];
export const APPLIED_FOR_VALUES: readonly TemplateAppliedFor[] = ['REPLICATION', 'PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'];
const FILTER_RULES = { min: 1, max: 128, pattern: /^[0-9a-zA-Z._*-]{1,128}$/, patternText: '^[0-9a-zA-Z._*-]{1,128}$' };
const TAG_KEY_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const INVALID_TAG_MESSAGE =
  'An invalid parameter has been specified. Tag keys can have a maximum character length of 128 characters, and tag values can have a maximum length of 256 characters.';
export const TOO_MANY_TAGS_MESSAGE = 'The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50.';

/** Epoch seconds (fractional) as ECR sends timestamps. */
export function epochSeconds(d: Date): number {
  return d.getTime() / 1000;
}

/** A validator over a nested structure: its members are addressed as `<prefix>.<member>` (in messages too). */
export function nested(value: Record<string, unknown>, prefix: string, style: ErrorStyle = 'InvalidParameter'): Validator {
  return createValidator(Object.fromEntries(Object.entries(value).map(([k, v]) => [`${prefix}.${k}`, v])), style);
}

/**
 * `registryId` as given (validated) or the caller's. Repository operations naming another registry fail as
 * ECR does for a repository it cannot see: RepositoryNotFoundException.
 */
export function ownRegistry(v: Validator, ctx: EcrContext, repositoryName?: string): string {
  const registryId = v.string('registryId', Rules.registryId) ?? ctx.accountId;
  if (registryId !== ctx.accountId && repositoryName !== undefined) throw repositoryNotFound(repositoryName, registryId);
  return registryId;
}

export function repositoryNotFound(name: string, registryId: string): EcrError {
  return new EcrError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);
}

export function repositoryName(v: Validator): string {
  return v.string('repositoryName', { ...Rules.repositoryName, required: true });
}

/** imageTagMutability + imageTagMutabilityExclusionFilters, checked against each other as ECR does. */
export function tagMutabilityInput(v: Validator, options: { required: boolean; style?: ErrorStyle }): { mode?: ImageTagMutability; filters: TagMutabilityFilter[] } {
  const mode = options.required ? v.enumValue('imageTagMutability', TAG_MUTABILITY_VALUES, { required: true }) : v.enumValue('imageTagMutability', TAG_MUTABILITY_VALUES);
  const filters = v.list('imageTagMutabilityExclusionFilters', (x, where) => mutabilityFilter(x, where, options.style), { min: 1, max: 5 });
  const withExclusion = mode === 'MUTABLE_WITH_EXCLUSION' || mode === 'IMMUTABLE_WITH_EXCLUSION';
  if (withExclusion && !filters) {
    v.fail('imageTagMutabilityExclusionFilters', `ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as ${mode}`);
  }
  if (!withExclusion && filters) {
    v.fail('imageTagMutabilityExclusionFilters', 'ImageTagMutabilityExclusionFilters can only be specified when imageTagMutability is set as MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION');
  }
  return { mode, filters: filters ?? [] };
}

function mutabilityFilter(value: unknown, where: string, style: ErrorStyle = 'InvalidParameter'): TagMutabilityFilter {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new EcrError('SerializationException', `Value for '${where}' must be a structure`);
  const n = nested(value as Record<string, unknown>, where, style);
  const filterType = n.enumValue(`${where}.filterType`, ['WILDCARD'] as const, { required: true });
  const filter = n.string(`${where}.filter`, { ...FILTER_RULES, required: true });
  return { filterType, filter };
}

/** encryptionConfiguration {encryptionType*, kmsKey}; `templateKey` applies the template's full-ARN rule. */
export function encryptionInput(v: Validator, options: { templateKey?: boolean } = {}): { encryptionType: EncryptionType; kmsKey: string | null } | undefined {
  const raw = v.object('encryptionConfiguration');
  if (!raw) return undefined;
  const n = nested(raw, 'encryptionConfiguration', options.templateKey ? 'Validation' : 'InvalidParameter');
  const encryptionType = n.enumValue('encryptionConfiguration.encryptionType', ENCRYPTION_TYPES, { required: true });
  const kmsKey = options.templateKey
    ? n.string('encryptionConfiguration.kmsKey', { min: 0, max: 2048, pattern: /^$|^arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+$/, patternText: '^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\\/[a-z0-9-]+' })
    : n.string('encryptionConfiguration.kmsKey', { min: 1, max: 2048 });
  if (encryptionType === 'AES256' && kmsKey) {
    throw invalidParameter('encryptionConfiguration', 'kmsKey can only be specified when encryptionType is KMS or KMS_DSSE');
  }
  return { encryptionType, kmsKey: kmsKey || null };
}

/** A list of `Tag {Key, Value}`; lengths, characters and reserved keys are InvalidTagParameterException. */
export function tagsInput(v: Validator, field: string, options: { required?: boolean; max?: number } = {}): ResourceTag[] | undefined {
  const tags = options.required
    ? v.list(field, (x, where) => tagInput(x, where, v), { required: true })
    : v.list(field, (x, where) => tagInput(x, where, v));
  if (!tags) return undefined;
  if (options.max !== undefined && tags.length > options.max) throw new EcrError('TooManyTagsException', TOO_MANY_TAGS_MESSAGE);
  if (new Set(tags.map((t) => t.key)).size !== tags.length) throw new EcrError('InvalidTagParameterException', INVALID_TAG_MESSAGE);
  return tags;
}

function tagInput(value: unknown, where: string, v: Validator): ResourceTag {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new EcrError('SerializationException', `Value for '${where}' must be a structure`);
  const o = value as Record<string, unknown>;
  if (o.Key === undefined || o.Key === null) v.fail(`${where}.Key`, 'Member must not be null');
  if (o.Value === undefined || o.Value === null) v.fail(`${where}.Value`, 'Member must not be null');
  if (typeof o.Key !== 'string' || typeof o.Value !== 'string') throw new EcrError('SerializationException', `Value for '${where}' must hold strings`);
  return { key: tagKey(o.Key), value: tagValue(o.Value) };
}

export function tagKey(key: unknown): string {
  if (typeof key !== 'string') throw new EcrError('SerializationException', 'Tag keys must be strings');
  if (key.length < 1 || key.length > 128 || !TAG_KEY_PATTERN.test(key) || key.toLowerCase().startsWith('aws:')) {
    throw new EcrError('InvalidTagParameterException', INVALID_TAG_MESSAGE);
  }
  return key;
}

function tagValue(value: string): string {
  if (value.length > 256 || !TAG_KEY_PATTERN.test(value)) throw new EcrError('InvalidTagParameterException', INVALID_TAG_MESSAGE);
  return value;
}

export function tagsOutput(tags: ResourceTag[]): Array<{ Key: string; Value: string }> {
  return tags.map((t) => ({ Key: t.key, Value: t.value }));
}

export function encryptionOutput(s: { encryptionType: EncryptionType; kmsKey: string | null }): Record<string, unknown> {
  return { encryptionType: s.encryptionType, ...(s.kmsKey ? { kmsKey: s.kmsKey } : {}) };
}

/** Only present for the `*_WITH_EXCLUSION` modes. */
export function filtersOutput(s: Pick<RepositorySettings, 'imageTagMutabilityExclusionFilters'>): Record<string, unknown> {
  return s.imageTagMutabilityExclusionFilters.length ? { imageTagMutabilityExclusionFilters: s.imageTagMutabilityExclusionFilters.map((f) => ({ filterType: f.filterType, filter: f.filter })) } : {};
}

/** ECR's `Repository` shape. */
export function repositoryOutput(view: RepositoryView, ctx: EcrContext): Record<string, unknown> {
  const { record, settings } = view;
  return {
    repositoryArn: ctx.repositoryArn(record.name),
    registryId: ctx.accountId,
    repositoryName: record.name,
    repositoryUri: ctx.repositoryUri(record.name),
    createdAt: epochSeconds(record.createdAt),
    imageTagMutability: settings.imageTagMutability,
    ...filtersOutput(settings),
    imageScanningConfiguration: { scanOnPush: settings.scanOnPush },
    encryptionConfiguration: encryptionOutput(settings),
  };
}

/** ECR's `RepositoryCreationTemplate` shape. */
export function templateOutput(t: CreationTemplateRecord): Record<string, unknown> {
  return {
    prefix: t.prefix,
    ...(t.description !== null ? { description: t.description } : {}),
    encryptionConfiguration: encryptionOutput(t),
    resourceTags: tagsOutput(t.resourceTags),
    imageTagMutability: t.imageTagMutability,
    ...filtersOutput(t),
    ...(t.repositoryPolicy ? { repositoryPolicy: t.repositoryPolicy } : {}),
    ...(t.lifecyclePolicy ? { lifecyclePolicy: t.lifecyclePolicy } : {}),
    appliedFor: [...t.appliedFor],
    ...(t.customRoleArn ? { customRoleArn: t.customRoleArn } : {}),
    createdAt: epochSeconds(t.createdAt),
    updatedAt: epochSeconds(t.updatedAt),
  };
}

/** Template prefix: 1–256, ECR's prefix grammar (trailing `/` allowed) or `ROOT`. */
export const PREFIX_RULES = {
  min: 1,
  max: 256,
  pattern: /^(?:[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$/,
  patternText: '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$',
};

/**
 * The resource of a tagging call: a repository ARN of this registry. Malformed → InvalidParameterException;
 * well-formed but not a repository here (other account/region, missing) → RepositoryNotFoundException.
 */
export function repositoryFromArn(arn: string, ctx: EcrContext): string {
  const m = /^arn:aws[a-z-]*:ecr:([a-z0-9-]+):(\d{12}):repository\/(.+)$/.exec(arn);
  if (!m || !Rules.repositoryName.pattern.test(m[3]!) || m[3]!.length > 256) throw invalidParameter('resourceArn', 'Invalid ARN');
  const name = m[3]!;
  if (ctx.repositoryArn(name) !== arn) throw repositoryNotFound(name, m[2]!);
  return name;
}

/** An account setting name: 1–64 characters, one of the settings cargohold knows. */
export function accountSettingInput(v: Validator): AccountSettingName {
  const name = v.string('name', { required: true, min: 1, max: 64 });
  if (!Object.hasOwn(ACCOUNT_SETTINGS, name)) throw invalidParameter('name', `Member must satisfy enum value set: [${Object.keys(ACCOUNT_SETTINGS).join(', ')}]`);
  return name as AccountSettingName;
}

/** A value the named account setting accepts. */
export function accountSettingValue(v: Validator, name: AccountSettingName): string {
  const value = v.string('value', { required: true, min: 1, max: 64 });
  const allowed: readonly string[] = ACCOUNT_SETTINGS[name];
  if (!allowed.includes(value)) throw invalidParameter('value', `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  return value;
}

/** The members of Create/UpdateRepositoryCreationTemplate (ValidationException for model constraints). */
export interface TemplateMembers {
  prefix: string;
  description?: string;
  encryption?: { encryptionType: EncryptionType; kmsKey: string | null };
  resourceTags?: ResourceTag[];
  imageTagMutability?: ImageTagMutability;
  imageTagMutabilityExclusionFilters?: TagMutabilityFilter[];
  repositoryPolicy?: string;
  lifecyclePolicy?: string;
  appliedFor?: TemplateAppliedFor[];
  customRoleArn?: string;
}

export function templateInput(input: Record<string, unknown>, options: { create: boolean }): TemplateMembers {
  const v = createValidator(input, 'Validation');
  const prefix = v.string('prefix', { ...PREFIX_RULES, required: true });
  const description = v.string('description', { min: 0, max: 256 });
  const encryption = encryptionInput(v, { templateKey: true });
  const resourceTags = tagsInput(v, 'resourceTags');
  if (resourceTags && resourceTags.length > 50) v.fail('resourceTags', 'Member must have length less than or equal to 50');
  const hasMutability = v.input.imageTagMutability !== undefined && v.input.imageTagMutability !== null;
  const hasFilters = v.input.imageTagMutabilityExclusionFilters !== undefined && v.input.imageTagMutabilityExclusionFilters !== null;
  const mutability = hasMutability || hasFilters || options.create ? tagMutabilityInput(v, { required: false, style: 'Validation' }) : undefined;
  const repositoryPolicy = v.string('repositoryPolicy', { min: 0, max: 10_240 });
  const lifecyclePolicy = v.string('lifecyclePolicy', { min: 0, max: 30_720 });
  if (lifecyclePolicy) checkLifecycleJson(lifecyclePolicy);
  const appliedFor = options.create
    ? v.list('appliedFor', (x, where) => appliedForValue(x, where, v), { required: true, min: 1, max: 3 })
    : v.list('appliedFor', (x, where) => appliedForValue(x, where, v), { min: 1, max: 3 });
  const customRoleArn = v.string('customRoleArn', { min: 0, max: 2048, pattern: /^$|^arn:aws[-a-z0-9]*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,\-.@_]*$/, patternText: '^arn:aws[-a-z0-9]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,-.@_]*$' });
  return {
    prefix,
    ...(description !== undefined ? { description } : {}),
    ...(encryption ? { encryption } : {}),
    ...(resourceTags ? { resourceTags } : {}),
    ...(mutability?.mode ? { imageTagMutability: mutability.mode, imageTagMutabilityExclusionFilters: mutability.filters } : {}),
    ...(repositoryPolicy !== undefined ? { repositoryPolicy } : {}),
    ...(lifecyclePolicy !== undefined ? { lifecyclePolicy } : {}),
    ...(appliedFor ? { appliedFor: [...new Set(appliedFor)] } : {}),
    ...(customRoleArn !== undefined ? { customRoleArn } : {}),
  };
}

function appliedForValue(value: unknown, where: string, v: Validator): TemplateAppliedFor {
  if (typeof value !== 'string' || !(APPLIED_FOR_VALUES as readonly string[]).includes(value)) v.fail(where, `Member must satisfy enum value set: [${APPLIED_FOR_VALUES.join(', ')}]`);
  return value as TemplateAppliedFor;
}

/** A template's lifecycle policy is validated as PutLifecyclePolicy validates one (src/lifecycle/policy.ts). */
function checkLifecycleJson(text: string): void {
  parseLifecyclePolicy(text);
}
