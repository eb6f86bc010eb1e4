import { RegistryError } from './errors.ts';

/** OCI distribution spec repository name grammar (path components separated by `/`). */
export const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** OCI tag grammar. */
export const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Distribution limits the whole name to 255 characters (ECR: 256); we take the stricter. */
export const MAX_NAME_LENGTH = 255;

export function isRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

export function parseRepositoryName(name: string): string {
  if (!isRepositoryName(name)) {
    throw new RegistryError('NAME_INVALID', `invalid repository name "${name.slice(0, 300)}": must match ${NAME_RE.source} and be at most ${MAX_NAME_LENGTH} characters`, { name: name.slice(0, 300) });
  }
  return name;
}

export function isTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function parseTag(tag: string): string {
  if (!isTag(tag)) {
    throw new RegistryError('TAG_INVALID', `invalid tag "${tag.slice(0, 200)}": must match ${TAG_RE.source}`, { tag: tag.slice(0, 200) });
  }
  return tag;
}
