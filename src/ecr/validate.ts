import { EcrError, invalidParameter, validationError } from './errors.ts';

/**
 * Input validation for ECR operations: every min/max/pattern/enum of the model, enforced on the server
 * (clients validate almost nothing). Failures are InvalidParameterException (classic operations) or
 * ValidationException (operations whose model lists it), worded like ECR.
 */
export type ErrorStyle = 'InvalidParameter' | 'Validation';

export interface Validator {
  /** The raw input object. */
  readonly input: Record<string, unknown>;
  string(field: string, rules: StringRules & { required: true }): string;
  string(field: string, rules?: StringRules): string | undefined;
  integer(field: string, rules: { required: true; min?: number; max?: number }): number;
  integer(field: string, rules?: { required?: boolean; min?: number; max?: number }): number | undefined;
  boolean(field: string): boolean | undefined;
  enumValue<T extends string>(field: string, values: readonly T[], rules: { required: true }): T;
  enumValue<T extends string>(field: string, values: readonly T[], rules?: { required?: boolean }): T | undefined;
  list<T>(field: string, item: (value: unknown, where: string) => T, rules: { required: true; min?: number; max?: number }): T[];
  list<T>(field: string, item: (value: unknown, where: string) => T, rules?: { required?: boolean; min?: number; max?: number }): T[] | undefined;
  object(field: string, rules: { required: true }): Record<string, unknown>;
  object(field: string, rules?: { required?: boolean }): Record<string, unknown> | undefined;
  /** Fails with the operation's error style. */
  fail(field: string, reason: string): never;
}

export interface StringRules {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** Text used in the message for the pattern (defaults to the regex source). */
  patternText?: string;
}

export function createValidator(input: Record<string, unknown>, style: ErrorStyle = 'InvalidParameter'): Validator {
  const fail = (field: string, reason: string): never => {
    if (style === 'Validation') throw validationError(`1 validation error detected: Value at '${field}' failed to satisfy constraint: ${reason}`);
    throw invalidParameter(field, reason);
  };
  const missing = (field: string): never => {
    if (style === 'Validation') throw validationError(`1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
    throw invalidParameter(field, 'Member must not be null');
  };
  const v: Validator = {
    input,
    fail,
    string(field: string, rules: StringRules = {}): any {
      const value = input[field];
      if (value === undefined || value === null) {
        if (rules.required) missing(field);
        return undefined;
      }
      return checkString(value, field, rules, fail);
    },
    integer(field: string, rules: { required?: boolean; min?: number; max?: number } = {}): any {
      const value = input[field];
      if (value === undefined || value === null) {
        if (rules.required) missing(field);
        return undefined;
      }
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new EcrError('SerializationException', `Value for '${field}' must be an integer`);
      if (rules.min !== undefined && value < rules.min) fail(field, `must be greater than or equal to ${rules.min}`);
      if (rules.max !== undefined && value > rules.max) fail(field, `must be less than or equal to ${rules.max}`);
      return value;
    },
    boolean(field) {
      const value = input[field];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'boolean') throw new EcrError('SerializationException', `Value for '${field}' must be a boolean`);
      return value;
    },
    enumValue(field: string, values: readonly string[], rules: { required?: boolean } = {}): any {
      const value = input[field];
      if (value === undefined || value === null) {
        if (rules.required) missing(field);
        return undefined;
      }
      if (typeof value !== 'string' || !values.includes(value)) fail(field, `Member must satisfy enum value set: [${values.join(', ')}]`);
      return value;
    },
    list(field: string, item: (value: unknown, where: string) => unknown, rules: { required?: boolean; min?: number; max?: number } = {}): any {
      const value = input[field];
      if (value === undefined || value === null) {
        if (rules.required) missing(field);
        return undefined;
      }
      if (!Array.isArray(value)) throw new EcrError('SerializationException', `Value for '${field}' must be a list`);
      if (rules.min !== undefined && value.length < rules.min) fail(field, `Member must have length greater than or equal to ${rules.min}`);
      if (rules.max !== undefined && value.length > rules.max) fail(field, `Member must have length less than or equal to ${rules.max}`);
      return value.map((x, i) => item(x, `${field}.${i + 1}`));
    },
    object(field: string, rules: { required?: boolean } = {}): any {
      const value = input[field];
      if (value === undefined || value === null) {
        if (rules.required) missing(field);
        return undefined;
      }
      if (typeof value !== 'object' || Array.isArray(value)) throw new EcrError('SerializationException', `Value for '${field}' must be a structure`);
      return value;
    },
  };
  return v;
}

/** Validates a string value found at `where` (also for list items and nested members). */
export function checkString(value: unknown, where: string, rules: StringRules, fail: (field: string, reason: string) => never = (f, r) => { throw invalidParameter(f, r); }): string {
  if (typeof value !== 'string') throw new EcrError('SerializationException', `Value for '${where}' must be a string`);
  if (rules.min !== undefined && value.length < rules.min) fail(where, `must have length greater than or equal to ${rules.min}`);
  if (rules.max !== undefined && value.length > rules.max) fail(where, `must have length less than or equal to ${rules.max}`);
  if (rules.pattern && !rules.pattern.test(value)) fail(where, `must satisfy regular expression '${rules.patternText ?? rules.pattern.source}'`);
  return value;
}

/** Common ECR field rules. */
export const Rules = {
  // Matched with the current model's grammar (`__` and runs of `-` allowed); messages quote the form real ECR echoes.
  repositoryName: { min: 2, max: 256, pattern: /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/, patternText: '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*' },
  registryId: { pattern: /^[0-9]{12}$/, patternText: '[0-9]{12}' },
  imageTag: { min: 1, max: 300 },
  imageDigest: { pattern: /^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$/, patternText: '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+' },
  uploadId: { pattern: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, patternText: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}' },
  nextToken: { min: 1, max: 8192 },
} satisfies Record<string, StringRules>;
