import type { Clock } from '../core/clock.ts';
import { isRegistryError, RegistryError } from '../core/errors.ts';
import { parsePolicy, PolicyError, type PolicyDocument } from '../auth/policy/index.ts';
import type {
  CreationTemplateRecord,
  MetadataStore,
  RepositoryRecord,
  RepositorySettings,
  ResourceTag,
  TagMutabilityFilter,
} from '../metadata/types.ts';

/**
 * Repository administration shared by the ECR API, /v2/ (create on push, tag immutability) and the console:
 * repositories with their ECR settings, repository and registry policies, resource tags, account settings
 * and repository creation templates. Callers validate input shapes (names, enums, lengths); this service
 * owns the rules between values (policy grammar, tag limits, template matching, force delete) and throws
 * RegistryErrors worded like ECR.
 */

/** ECR's defaults for a repository created without settings (and for repositories that never had any). */
export const DEFAULT_SETTINGS: Readonly<RepositorySettings> = Object.freeze({
  imageTagMutability: 'MUTABLE',
  imageTagMutabilityExclusionFilters: [],
  scanOnPush: false,
  encryptionType: 'AES256',
  kmsKey: null,
});

/** ECR's limit on resource tags per repository. */
export const MAX_REPOSITORY_TAGS = 50;

/** The special template prefix that applies to every repository name. */
export const ROOT_PREFIX = 'ROOT';

/** Account settings cargohold knows, with their allowed values; the first is the default. */
export const ACCOUNT_SETTINGS = {
  BASIC_SCAN_TYPE_VERSION: ['AWS_NATIVE', 'CLAIR'],
  REGISTRY_POLICY_SCOPE: ['V1', 'V2'],
  BLOB_MOUNTING: ['DISABLED', 'ENABLED'],
} as const satisfies Record<string, readonly string[]>;

export type AccountSettingName = keyof typeof ACCOUNT_SETTINGS;

/** Actions a registry policy may name while REGISTRY_POLICY_SCOPE is V1 (ECR's default scope). */
export const REGISTRY_POLICY_V1_ACTIONS = ['ecr:ReplicateImage', 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'] as const;

/** A repository and its effective settings. */
export interface RepositoryView {
  record: RepositoryRecord;
  settings: RepositorySettings;
}

export interface CreateRepositoryInput {
  name: string;
  /** Missing members take ECR's defaults. */
  settings?: Partial<RepositorySettings>;
  tags?: ResourceTag[];
  /** Repository policy text (validated as a repository policy). */
  policyText?: string;
}

/** A template as the caller gives it; `prefix` may carry ECR's optional trailing `/`. */
export type TemplateInput = Omit<CreationTemplateRecord, 'createdAt' | 'updatedAt'>;

/** Template fields an update may change; absent members keep their value. */
export type TemplatePatch = Partial<Omit<TemplateInput, 'prefix'>> & { prefix: string };

export interface RepositoryServiceOptions {
  meta: MetadataStore;
  clock: Clock;
  /** 12-digit registry id used in messages. */
  accountId: string;
  /** Region for the AWS-managed KMS key ARN reported when KMS is chosen without a key. */
  region: string;
  /**
   * Encryption at rest (registry/encryption.ts): resolves a new repository's key before it is created
   * (KMS without kmsKey gets a key of its own) and releases it when the repository is deleted. Without it,
   * encryption settings are only stored and reported.
   */
  keys?: RepositoryKeys;
}

/** The part of the encryption service the repository service calls. */
export interface RepositoryKeys {
  prepare(name: string, requested: { encryptionType: RepositorySettings['encryptionType']; kmsKey: string | null }): Promise<{ encryptionType: string; kmsKey: string | null }>;
  released(settings: { encryptionType: string; kmsKey: string | null }): Promise<void>;
}

export interface RepositoryService {
  readonly accountId: string;
  /** Creates a repository with settings, tags and policy in one transaction. REPOSITORY_EXISTS, TOO_MANY_TAGS, POLICY_INVALID. */
  create(input: CreateRepositoryInput): Promise<RepositoryView>;
  /** The repository or NAME_UNKNOWN (ECR wording). */
  find(name: string): Promise<RepositoryRecord>;
  /** The repository with its settings, or NAME_UNKNOWN. */
  get(name: string): Promise<RepositoryView>;
  /** Each named repository, in the order given (duplicates once); NAME_UNKNOWN for the first that does not exist. */
  describe(names: string[]): Promise<RepositoryView[]>;
  /** Repositories in byte order of name after `after`; `next` is the last name returned when more remain. */
  list(page: { after?: string; limit: number }): Promise<{ items: RepositoryView[]; next?: string }>;
  /** Deletes a repository; without `force` one holding images is REPOSITORY_NOT_EMPTY. With force its images go too. */
  delete(name: string, options?: { force?: boolean }): Promise<RepositoryView>;
  putTagMutability(name: string, mode: RepositorySettings['imageTagMutability'], filters: TagMutabilityFilter[]): Promise<RepositoryView>;
  putScanOnPush(name: string, scanOnPush: boolean): Promise<RepositoryView>;
  /** Effective settings by repository id (ECR defaults when none stored). */
  settingsOf(repositoryId: number): Promise<RepositorySettings>;
  /** Whether `tag` may not be moved to another image in the repository (its mutability settings + exclusion filters). */
  isTagImmutable(repositoryId: number, tag: string): Promise<boolean>;

  getPolicy(name: string): Promise<string>;
  setPolicy(name: string, policyText: string): Promise<string>;
  deletePolicy(name: string): Promise<string>;

  listTags(name: string): Promise<ResourceTag[]>;
  tag(name: string, tags: ResourceTag[]): Promise<void>;
  untag(name: string, keys: string[]): Promise<void>;

  getRegistryPolicy(): Promise<string>;
  setRegistryPolicy(policyText: string): Promise<string>;
  deleteRegistryPolicy(): Promise<string>;

  getAccountSetting(name: AccountSettingName): Promise<string>;
  putAccountSetting(name: AccountSettingName, value: string): Promise<string>;

  createTemplate(input: TemplateInput): Promise<CreationTemplateRecord>;
  updateTemplate(patch: TemplatePatch): Promise<CreationTemplateRecord>;
  deleteTemplate(prefix: string): Promise<CreationTemplateRecord>;
  /** Templates in prefix order after `after`, optionally only the given prefixes. */
  listTemplates(page: { after?: string; limit: number; prefixes?: string[] }): Promise<{ items: CreationTemplateRecord[]; next?: string }>;
  /** The CREATE_ON_PUSH template that applies to a repository name (longest prefix; ROOT last), if any. */
  templateFor(name: string): Promise<CreationTemplateRecord | undefined>;
  /**
   * Creates `name` from its CREATE_ON_PUSH template (settings, tags, policy) and returns it; undefined when no
   * template applies. Race-safe: concurrent pushes end with the same repository.
   */
  createFromTemplate(name: string): Promise<RepositoryRecord | undefined>;
}

/** `*` matches any run of characters; the whole tag must match. */
export function wildcardMatches(filter: string, tag: string): boolean {
  const parts = filter.split('*');
  if (parts.length === 1) return filter === tag;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (tag.length < first.length + last.length || !tag.startsWith(first) || !tag.endsWith(last)) return false;
  let pos = first.length;
  const end = tag.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const i = tag.indexOf(middle, pos);
    if (i < 0 || i + middle.length > end) return false;
    pos = i + middle.length;
  }
  return true;
}

/**
 * Whether a tag is immutable under these settings: IMMUTABLE → every tag; IMMUTABLE_WITH_EXCLUSION → every tag
 * not matching a filter; MUTABLE_WITH_EXCLUSION → only tags matching a filter; MUTABLE → none.
 */
export function isTagImmutable(settings: Pick<RepositorySettings, 'imageTagMutability' | 'imageTagMutabilityExclusionFilters'>, tag: string): boolean {
  const matched = () => settings.imageTagMutabilityExclusionFilters.some((f) => wildcardMatches(f.filter, tag));
  switch (settings.imageTagMutability) {
    case 'IMMUTABLE':
      return true;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !matched();
    case 'MUTABLE_WITH_EXCLUSION':
      return matched();
    default:
      return false;
  }
}

/** `team/` ≡ `team`: templates are stored without ECR's optional trailing slash. */
export function normalizePrefix(prefix: string): string {
  return prefix !== '/' && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

/** Template prefixes that could apply to `name`, most specific first: each parent path, then ROOT. */
export function candidatePrefixes(name: string): string[] {
  const out: string[] = [];
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) out.push(name.slice(0, i));
  out.push(ROOT_PREFIX);
  return out;
}

/** Parses a resource policy with ECR's size limit; grammar errors become ECR's "Invalid … policy provided". */
function parseEcrPolicy(policyText: string, what: 'repository' | 'registry'): { doc: PolicyDocument; invalid: (detail: string) => RegistryError } {
  const invalid = (detail: string) =>
    new RegistryError('POLICY_INVALID', `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid ${what} policy provided'`, { reason: detail });
  try {
    return { doc: parsePolicy(policyText, { kind: 'resource', maxLength: 10_240 }), invalid };
  } catch (e) {
    if (e instanceof PolicyError) throw invalid(e.message);
    throw e;
  }
}

/** Parses a repository policy the way ECR accepts it; POLICY_INVALID otherwise. */
export function checkRepositoryPolicy(policyText: string): PolicyDocument {
  const { doc, invalid } = parseEcrPolicy(policyText, 'repository');
  for (const st of doc.statements) {
    for (const action of st.action ?? st.notAction ?? []) {
      if (action !== '*' && !/^ecr:/i.test(action)) throw invalid(`action ${action} is not an ECR action`);
    }
  }
  return doc;
}

/** Parses a registry policy; with scope V1 only the replication / pull-through / create actions may appear. */
export function checkRegistryPolicy(policyText: string, scope: string): PolicyDocument {
  const { doc, invalid } = parseEcrPolicy(policyText, 'registry');
  const allowed = new Set(REGISTRY_POLICY_V1_ACTIONS.map((a) => a.toLowerCase()));
  for (const st of doc.statements) {
    if (st.notAction) throw invalid('NotAction is not supported in registry policies');
    for (const action of st.action ?? []) {
      if (scope === 'V2' ? !/^ecr:/i.test(action) : !allowed.has(action.toLowerCase())) throw invalid(`action ${action} is not allowed in a registry policy (scope ${scope})`);
    }
  }
  return doc;
}

export function createRepositoryService(options: RepositoryServiceOptions): RepositoryService {
  const { meta, clock, accountId } = options;

  const notFound = (name: string) =>
    new RegistryError('NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry with id '${accountId}'`, { name });

  async function find(name: string): Promise<RepositoryRecord> {
    const repo = await meta.repositories.get(name);
    if (!repo) throw notFound(name);
    return repo;
  }

  async function settingsOf(repositoryId: number): Promise<RepositorySettings> {
    return (await meta.ecr.getSettings(repositoryId)) ?? { ...DEFAULT_SETTINGS, imageTagMutabilityExclusionFilters: [] };
  }

  async function view(record: RepositoryRecord): Promise<RepositoryView> {
    return { record, settings: await settingsOf(record.id) };
  }

  function resolveSettings(partial: Partial<RepositorySettings> = {}): RepositorySettings {
    const s: RepositorySettings = { ...DEFAULT_SETTINGS, imageTagMutabilityExclusionFilters: [], ...partial };
    if (s.encryptionType === 'AES256') s.kmsKey = null;
    // ECR reports the AWS-managed key when KMS is chosen without one.
    else if (!s.kmsKey) s.kmsKey = `arn:aws:kms:${options.region}:${accountId}:alias/aws/ecr`;
    if (s.imageTagMutability === 'MUTABLE' || s.imageTagMutability === 'IMMUTABLE') s.imageTagMutabilityExclusionFilters = [];
    return s;
  }

  function repositoryExists(name: string): RegistryError {
    return new RegistryError('REPOSITORY_EXISTS', `The repository with name '${name}' already exists in the registry with id '${accountId}'`, { name });
  }

  /** Resolves the key of a repository about to be created (a no-op without encryption at rest). */
  async function withKey(name: string, partial: Partial<RepositorySettings> = {}): Promise<Partial<RepositorySettings>> {
    if (!options.keys) return partial;
    const resolved = await options.keys.prepare(name, { encryptionType: partial.encryptionType ?? 'AES256', kmsKey: partial.kmsKey ?? null });
    return { ...partial, encryptionType: resolved.encryptionType as RepositorySettings['encryptionType'], kmsKey: resolved.kmsKey };
  }

  /** Creates a repository with a key prepared for it; a key made for a repository that then failed to be created is released. */
  async function insertWithKey(name: string, settings: RepositorySettings, tags: ResourceTag[], policyText: string | null, lifecyclePolicyText: string | null = null): Promise<RepositoryRecord> {
    try {
      return await insert(name, settings, tags, policyText, lifecyclePolicyText);
    } catch (e) {
      await options.keys?.released(settings);
      throw e;
    }
  }

  async function applyTags(tx: MetadataStore, repositoryId: number, tags: ResourceTag[]): Promise<void> {
    if (!tags.length) return;
    const r = await tx.ecr.putTags(repositoryId, tags, MAX_REPOSITORY_TAGS);
    if (!r.applied) throw tooManyTags();
  }

  /** Creates a repository row plus its ECR rows; REPOSITORY_EXISTS when the name is taken. */
  async function insert(name: string, settings: RepositorySettings, tags: ResourceTag[], policyText: string | null, lifecyclePolicyText: string | null = null): Promise<RepositoryRecord> {
    const now = clock.now();
    try {
      return await meta.transaction(async (tx) => {
        const record = await tx.repositories.create(name, now);
        await tx.ecr.putSettings(record.id, settings, now);
        await applyTags(tx, record.id, tags);
        if (policyText !== null) await tx.ecr.setRepositoryPolicy(record.id, policyText, now);
        // A template's lifecycle policy (validated when the template was stored) applies from the first push.
        if (lifecyclePolicyText) await tx.lifecycle.putPolicy(record.id, lifecyclePolicyText, now);
        return record;
      });
    } catch (e) {
      if (isRegistryError(e) && e.kind === 'REPOSITORY_EXISTS') throw repositoryExists(name);
      throw e;
    }
  }

  async function templateFor(name: string): Promise<CreationTemplateRecord | undefined> {
    for (const prefix of candidatePrefixes(name)) {
      const t = await meta.ecr.getTemplate(prefix);
      if (t && t.appliedFor.includes('CREATE_ON_PUSH')) return t;
    }
    return undefined;
  }

  function templateNotFound(prefix: string): RegistryError {
    return new RegistryError('TEMPLATE_NOT_FOUND', `The repository creation template with prefix '${prefix}' does not exist in the registry with id '${accountId}'`, { prefix });
  }

  function checkTemplate(t: TemplateInput): void {
    if (t.repositoryPolicy) checkRepositoryPolicy(t.repositoryPolicy);
    if (t.resourceTags.length > MAX_REPOSITORY_TAGS) throw tooManyTags();
  }

  return {
    accountId,

    async create(input) {
      const tags = input.tags ?? [];
      if (tags.length > MAX_REPOSITORY_TAGS) throw tooManyTags();
      if (input.policyText !== undefined) checkRepositoryPolicy(input.policyText);
      if (options.keys && (await meta.repositories.get(input.name))) throw repositoryExists(input.name); // before any key is made
      const settings = resolveSettings(await withKey(input.name, input.settings));
      const record = await insertWithKey(input.name, settings, tags, input.policyText ?? null);
      return { record, settings };
    },

    find,

    async get(name) {
      return view(await find(name));
    },

    async describe(names) {
      const out: RepositoryView[] = [];
      for (const name of new Set(names)) out.push(await view(await find(name)));
      return out;
    },

    async list({ after, limit }) {
      const names = await meta.repositories.list({ last: after, limit: limit + 1 });
      const page = names.slice(0, limit);
      const items: RepositoryView[] = [];
      for (const name of page) {
        const record = await meta.repositories.get(name);
        if (record) items.push(await view(record)); // deleted since the listing: skip
      }
      return names.length > limit ? { items, next: page[page.length - 1] } : { items };
    },

    async delete(name, opts = {}) {
      const record = await find(name);
      const settings = await settingsOf(record.id);
      await meta.transaction(async (tx) => {
        if (!opts.force && (await tx.manifests.list(record.id, { limit: 1 })).length > 0) {
          throw new RegistryError('REPOSITORY_NOT_EMPTY', `The repository with name '${name}' in registry with id '${accountId}' cannot be deleted because it still contains images`, { name });
        }
        // Cascades: manifests, tags, blob links, uploads, settings, policy, resource tags.
        if (!(await tx.repositories.delete(record.id))) throw notFound(name);
      });
      // Crypto-shredding: the last repository using a key of its own takes the key (and its data) along.
      await options.keys?.released(settings);
      return { record, settings };
    },

    async putTagMutability(name, mode, filters) {
      const record = await find(name);
      const settings = resolveSettings({ ...(await settingsOf(record.id)), imageTagMutability: mode, imageTagMutabilityExclusionFilters: filters });
      await meta.ecr.putSettings(record.id, settings, clock.now());
      return { record, settings };
    },

    async putScanOnPush(name, scanOnPush) {
      const record = await find(name);
      const settings = { ...(await settingsOf(record.id)), scanOnPush };
      await meta.ecr.putSettings(record.id, settings, clock.now());
      return { record, settings };
    },

    settingsOf,

    async isTagImmutable(repositoryId, tag) {
      const s = await meta.ecr.getSettings(repositoryId);
      return s ? isTagImmutable(s, tag) : false;
    },

    async getPolicy(name) {
      const record = await find(name);
      const text = await meta.ecr.getRepositoryPolicy(record.id);
      if (text === undefined) throw repositoryPolicyNotFound(name, accountId);
      return text;
    },

    async setPolicy(name, policyText) {
      const record = await find(name);
      checkRepositoryPolicy(policyText);
      await meta.ecr.setRepositoryPolicy(record.id, policyText, clock.now());
      return policyText;
    },

    async deletePolicy(name) {
      const record = await find(name);
      const text = await meta.ecr.deleteRepositoryPolicy(record.id);
      if (text === undefined) throw repositoryPolicyNotFound(name, accountId);
      return text;
    },

    async listTags(name) {
      return meta.ecr.getTags((await find(name)).id);
    },

    async tag(name, tags) {
      const record = await find(name);
      if (tags.length > MAX_REPOSITORY_TAGS) throw tooManyTags();
      await applyTags(meta, record.id, tags);
    },

    async untag(name, keys) {
      const record = await find(name);
      await meta.ecr.removeTags(record.id, keys);
    },

    async getRegistryPolicy() {
      const text = await meta.ecr.getRegistryPolicy();
      if (text === undefined) throw registryPolicyNotFound(accountId);
      return text;
    },

    async setRegistryPolicy(policyText) {
      const scope = (await meta.ecr.getAccountSetting('REGISTRY_POLICY_SCOPE')) ?? ACCOUNT_SETTINGS.REGISTRY_POLICY_SCOPE[0];
      checkRegistryPolicy(policyText, scope);
      await meta.ecr.setRegistryPolicy(policyText, clock.now());
      return policyText;
    },

    async deleteRegistryPolicy() {
      const text = await meta.ecr.deleteRegistryPolicy();
      if (text === undefined) throw registryPolicyNotFound(accountId);
      return text;
    },

    async getAccountSetting(name) {
      return (await meta.ecr.getAccountSetting(name)) ?? ACCOUNT_SETTINGS[name][0];
    },

    async putAccountSetting(name, value) {
      await meta.ecr.putAccountSetting(name, value, clock.now());
      return value;
    },

    async createTemplate(input) {
      const t = { ...input, prefix: normalizePrefix(input.prefix) };
      checkTemplate(t);
      const now = clock.now();
      const record: CreationTemplateRecord = { ...t, createdAt: now, updatedAt: now };
      if (!(await meta.ecr.createTemplate(record))) {
        throw new RegistryError('TEMPLATE_EXISTS', `The repository creation template with prefix '${t.prefix}' already exists in the registry with id '${accountId}'`, { prefix: t.prefix });
      }
      return record;
    },

    async updateTemplate(patch) {
      const prefix = normalizePrefix(patch.prefix);
      const current = await meta.ecr.getTemplate(prefix);
      if (!current) throw templateNotFound(prefix);
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<TemplateInput>;
      const next: CreationTemplateRecord = { ...current, ...defined, prefix, createdAt: current.createdAt, updatedAt: clock.now() };
      if (next.encryptionType === 'AES256') next.kmsKey = null;
      if (next.imageTagMutability === 'MUTABLE' || next.imageTagMutability === 'IMMUTABLE') next.imageTagMutabilityExclusionFilters = [];
      checkTemplate(next);
      if (!(await meta.ecr.updateTemplate(next))) throw templateNotFound(prefix);
      return next;
    },

    async deleteTemplate(prefix) {
      const p = normalizePrefix(prefix);
      const t = await meta.ecr.deleteTemplate(p);
      if (!t) throw templateNotFound(p);
      return t;
    },

    async listTemplates({ after, limit, prefixes }) {
      const items = await meta.ecr.listTemplates({ last: after, limit: limit + 1, prefixes: prefixes?.map(normalizePrefix) });
      return items.length > limit ? { items: items.slice(0, limit), next: items[limit - 1]!.prefix } : { items };
    },

    templateFor,

    async createFromTemplate(name) {
      const t = await templateFor(name);
      if (!t) return undefined;
      const existing = await meta.repositories.get(name);
      if (existing) return existing; // a concurrent push created it first
      const settings = resolveSettings(await withKey(name, {
        imageTagMutability: t.imageTagMutability,
        imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters,
        encryptionType: t.encryptionType,
        kmsKey: t.kmsKey,
      }));
      try {
        return await insertWithKey(name, settings, t.resourceTags, t.repositoryPolicy || null, t.lifecyclePolicy || null);
      } catch (e) {
        if (!isRegistryError(e) || e.kind !== 'REPOSITORY_EXISTS') throw e;
        return find(name); // a concurrent push created it first
      }
    },
  };
}

function tooManyTags(): RegistryError {
  return new RegistryError('TOO_MANY_TAGS', `The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is ${MAX_REPOSITORY_TAGS}.`);
}

function repositoryPolicyNotFound(name: string, accountId: string): RegistryError {
  return new RegistryError('REPOSITORY_POLICY_NOT_FOUND', `Repository policy does not exist for the repository with name '${name}' in the registry with id '${accountId}'`, { name });
}

function registryPolicyNotFound(accountId: string): RegistryError {
  return new RegistryError('REGISTRY_POLICY_NOT_FOUND', `Registry policy does not exist in the registry with id '${accountId}'`);
}
