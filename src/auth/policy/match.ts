/**
 * Wildcard matching for actions, resources and ARNs, with IAM policy-variable expansion
 * (`${aws:username}`, `${key, 'default'}`, and the literal escapes `${*}`, `${?}`, `${$}`).
 */

/** Resolves a context key (case-insensitively) to a single value, or `undefined` if absent or multivalued. */
export type VariableLookup = (key: string) => string | undefined;

/** Result of expanding a template: either tokens ready to compile, or the variable that could not be resolved. */
type Token = { literal: string } | { wildcard: '*' | '?' };
type Expanded = { tokens: Token[] } | { unresolved: string };

const VAR_BODY = /^\s*([^,\s]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$/;

/**
 * Splits a policy string into literal text and wildcards, expanding `${...}` variables when `lookup` is given
 * (2012-10-17 documents). Expanded values are always literal, never wildcards.
 */
export function expandTemplate(template: string, lookup?: VariableLookup): Expanded {
  const tokens: Token[] = [];
  let text = '';
  const flush = () => {
    if (text) tokens.push({ literal: text });
    text = '';
  };
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (lookup && ch === '$' && template[i + 1] === '{') {
      const end = template.indexOf('}', i + 2);
      if (end > 0) {
        const body = template.slice(i + 2, end);
        i = end;
        if (body === '*' || body === '?' || body === '$') {
          text += body;
          continue;
        }
        const m = VAR_BODY.exec(body);
        const value = m ? lookup(m[1]!) ?? (m[2] !== undefined ? m[2].replace(/''/g, "'") : undefined) : undefined;
        if (value === undefined) return { unresolved: body.trim() };
        text += value;
        continue;
      }
    }
    if (ch === '*' || ch === '?') {
      flush();
      tokens.push({ wildcard: ch });
    } else {
      text += ch;
    }
  }
  flush();
  return { tokens };
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compiles tokens to an anchored RegExp. With `arnSegments`, wildcards in the first five colon-separated ARN
 * components cannot cross a colon (IAM checks each component separately); the sixth may contain anything.
 */
function compile(tokens: Token[], options: { ignoreCase?: boolean; arnSegments?: boolean }): RegExp {
  let colons = 0;
  let source = '';
  for (const t of tokens) {
    if ('literal' in t) {
      source += escapeRegex(t.literal);
      colons += t.literal.split(':').length - 1;
    } else {
      const bounded = options.arnSegments && colons < 5;
      source += t.wildcard === '*' ? (bounded ? '[^:]*' : '.*') : bounded ? '[^:]' : '.';
    }
  }
  return new RegExp(`^${source}$`, options.ignoreCase ? 'is' : 's');
}

const staticCache = new Map<string, RegExp>();

/** Pattern compiled for one evaluation, or the name of the variable that had no value. */
export type CompiledPattern = { regex: RegExp } | { unresolved: string };

/** Compiles a wildcard pattern (with variables when `lookup` is given). Patterns without variables are cached. */
export function compilePattern(pattern: string, options: { ignoreCase?: boolean; arnSegments?: boolean; lookup?: VariableLookup } = {}): CompiledPattern {
  const hasVars = options.lookup !== undefined && pattern.includes('${');
  const cacheKey = `${options.ignoreCase ? 'i' : ''}${options.arnSegments ? 'a' : ''}|${pattern}`;
  if (!hasVars) {
    const hit = staticCache.get(cacheKey);
    if (hit) return { regex: hit };
  }
  const expanded = expandTemplate(pattern, hasVars ? options.lookup : undefined);
  if ('unresolved' in expanded) return expanded;
  const regex = compile(expanded.tokens, options);
  if (!hasVars && staticCache.size < 10_000) staticCache.set(cacheKey, regex);
  return { regex };
}

/** Expands variables in a literal (non-wildcard) value; `undefined` when a variable has no value. */
export function expandLiteral(value: string, lookup?: VariableLookup): string | undefined {
  if (!lookup || !value.includes('${')) return value;
  const expanded = expandTemplate(value, lookup);
  if ('unresolved' in expanded) return undefined;
  return expanded.tokens.map((t) => ('literal' in t ? t.literal : t.wildcard)).join('');
}

/** `ecr:Put*` style match: case-insensitive, `*` and `?` wildcards. */
export function actionMatches(pattern: string, action: string): boolean {
  const c = compilePattern(pattern, { ignoreCase: true });
  return 'regex' in c && c.regex.test(action);
}

/** Is `value` a six-component ARN (`arn:partition:service:region:account:resource`)? */
export function isArn(value: string): boolean {
  return /^arn:[^:]*:[^:]*:[^:]*:[^:]*:.+$/s.test(value);
}

/** Account component of an ARN, if it has one. */
export function arnAccount(value: string): string | undefined {
  if (!isArn(value)) return undefined;
  const account = value.split(':')[4];
  return account ? account : undefined;
}

/**
 * Matches an ARN pattern (wildcards per component, variables expanded). `"*"` matches everything; otherwise the
 * value must itself be an ARN. Returns `unresolved` when a policy variable had no value (the element then matches nothing).
 */
export function arnMatches(pattern: string, value: string, lookup?: VariableLookup): boolean | { unresolved: string } {
  if (pattern === '*') return true;
  if (!isArn(value)) return pattern === value;
  const c = compilePattern(pattern, { arnSegments: true, lookup });
  if ('unresolved' in c) return c;
  return c.regex.test(value);
}
