/**
 * IAM-style identity management over the metadata `iam` store: users, access keys (secrets generated here,
 * sealed with the SecretBox before they reach the store) and inline identity policies (validated with the
 * policy parser). Used by `cargohold iam …`, the admin bootstrap and the access service.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { RegistryError } from '../core/errors.ts';
import type { AccessKeyRecord, AccessKeyStatus, IamStore, IamUserRecord, UserPolicyRecord } from '../metadata/types.ts';
import { parsePolicy } from './policy/index.ts';
import type { SecretBox } from './secrets.ts';

/** IAM's user name grammar. */
export const USER_NAME_RE = /^[\w+=,.@-]{1,64}$/;
/** IAM's policy name grammar. */
export const POLICY_NAME_RE = /^[\w+=,.@-]{1,128}$/;
/** AWS long-term access key ids: AKIA + 16 of [A-Z2-7]. Given keys may be any 16–128 word characters. */
export const ACCESS_KEY_ID_RE = /^[A-Z0-9]{16,128}$/;
/** Largest inline policy document (IAM allows 2,048 characters per user inline policy; ECR-sized repository policies go to 10,240). */
export const MAX_POLICY_LENGTH = 10_240;

/** The inline policy given to the bootstrap administrator: everything, through the same evaluator as everyone. */
export const ADMINISTRATOR_POLICY_NAME = 'AdministratorAccess';
export const ADMINISTRATOR_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'AdministratorAccess', Effect: 'Allow', Action: '*', Resource: '*' }] });

export interface NewAccessKey {
  accessKeyId: string;
  /** Only ever returned here, at creation. */
  secretAccessKey: string;
  userName: string;
  status: AccessKeyStatus;
  createdAt: Date;
}

export interface IdentityService {
  readonly accountId: string;
  userArn(name: string): string;
  createUser(name: string): Promise<IamUserRecord>;
  getUser(name: string): Promise<IamUserRecord | undefined>;
  listUsers(): Promise<IamUserRecord[]>;
  deleteUser(name: string): Promise<boolean>;
  /** Generates a key (or stores the given one) for an existing user. */
  createAccessKey(userName: string, given?: { accessKeyId: string; secretAccessKey: string }): Promise<NewAccessKey>;
  listAccessKeys(userName: string): Promise<AccessKeyRecord[]>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<boolean>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;
  /** The key's secret in clear (for SigV4 and Basic verification). */
  revealSecret(key: AccessKeyRecord): string;
  /** Validates (IAM grammar, identity policy) and stores an inline policy. @throws PolicyError */
  putUserPolicy(userName: string, policyName: string, document: string): Promise<void>;
  getUserPolicy(userName: string, policyName: string): Promise<UserPolicyRecord | undefined>;
  listUserPolicies(userName: string): Promise<UserPolicyRecord[]>;
  deleteUserPolicy(userName: string, policyName: string): Promise<boolean>;
}

export interface IdentityServiceOptions {
  iam: IamStore;
  box: SecretBox;
  accountId: string;
  clock: Clock;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += BASE32[randomInt(32)];
  return s;
}

/** `AKIA` + 16 random base32 characters, like AWS. */
export function generateAccessKeyId(): string {
  return `AKIA${base32(16)}`;
}

/** 40 characters of base64 (30 random bytes), like AWS secret access keys. */
export function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

function checkUserName(name: string): void {
  if (!USER_NAME_RE.test(name)) throw new RegistryError('NAME_INVALID', `invalid user name "${name.slice(0, 80)}": 1–64 characters of letters, digits and + = , . @ _ -`);
}

export function createIdentityService(options: IdentityServiceOptions): IdentityService {
  const { iam, box, accountId, clock } = options;
  const userArn = (name: string) => `arn:aws:iam::${accountId}:user/${name}`;

  return {
    accountId,
    userArn,

    async createUser(name) {
      checkUserName(name);
      return iam.createUser({ name, userId: `AIDA${base32(17)}`, arn: userArn(name), createdAt: clock.now() });
    },

    getUser: (name) => iam.getUser(name),

    async listUsers() {
      const out: IamUserRecord[] = [];
      let last: string | undefined;
      for (;;) {
        const page = await iam.listUsers({ last, limit: 500 });
        out.push(...page);
        if (page.length < 500) return out;
        last = page[page.length - 1]!.name;
      }
    },

    deleteUser: (name) => iam.deleteUser(name),

    async createAccessKey(userName, given) {
      checkUserName(userName);
      const accessKeyId = given?.accessKeyId ?? generateAccessKeyId();
      const secretAccessKey = given?.secretAccessKey ?? generateSecretAccessKey();
      if (!ACCESS_KEY_ID_RE.test(accessKeyId)) throw new RegistryError('NAME_INVALID', 'access key ids are 16–128 upper-case letters and digits');
      if (secretAccessKey.length < 16 || secretAccessKey.length > 128 || /[\s:]/.test(secretAccessKey)) {
        throw new RegistryError('NAME_INVALID', 'secret access keys are 16–128 characters without whitespace or ":"');
      }
      const createdAt = clock.now();
      await iam.createAccessKey({ accessKeyId, userName, secretCiphertext: box.seal(accessKeyId, secretAccessKey), status: 'Active', createdAt, lastUsedAt: null });
      return { accessKeyId, secretAccessKey, userName, status: 'Active', createdAt };
    },

    listAccessKeys: (userName) => iam.listAccessKeys(userName),
    getAccessKey: (id) => iam.getAccessKey(id),
    setAccessKeyStatus: (id, status) => iam.setAccessKeyStatus(id, status),
    deleteAccessKey: (id) => iam.deleteAccessKey(id),
    revealSecret: (key) => box.open(key.accessKeyId, key.secretCiphertext),

    async putUserPolicy(userName, policyName, document) {
      if (!POLICY_NAME_RE.test(policyName)) throw new RegistryError('NAME_INVALID', `invalid policy name "${policyName.slice(0, 80)}"`);
      parsePolicy(document, { kind: 'identity', name: policyName, maxLength: MAX_POLICY_LENGTH });
      await iam.putUserPolicy({ userName, policyName, document, updatedAt: clock.now() });
    },

    getUserPolicy: (u, p) => iam.getUserPolicy(u, p),
    listUserPolicies: (u) => iam.listUserPolicies(u),
    deleteUserPolicy: (u, p) => iam.deleteUserPolicy(u, p),
  };
}

/** What the bootstrap did. */
export interface BootstrapResult {
  userName: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** True when the key was generated (and must be shown once); false when it came from the environment. */
  generated: boolean;
}

/**
 * Creates the administrator (user `admin` with the AdministratorAccess inline policy and one access key) when no
 * user exists yet; returns undefined otherwise. `given` supplies the key (CARGOHOLD_ADMIN_ACCESS_KEY_ID/…SECRET…).
 */
export async function bootstrapAdministrator(identity: IdentityService, iam: IamStore, given?: { accessKeyId: string; secretAccessKey: string }): Promise<BootstrapResult | undefined> {
  if ((await iam.countUsers()) > 0) return undefined;
  try {
    await identity.createUser('admin');
  } catch (e) {
    // Another node bootstrapped at the same moment.
    if (e instanceof RegistryError && e.kind === 'CONFLICT') return undefined;
    throw e;
  }
  await identity.putUserPolicy('admin', ADMINISTRATOR_POLICY_NAME, ADMINISTRATOR_POLICY);
  const key = await identity.createAccessKey('admin', given);
  return { userName: 'admin', accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, generated: !given };
}

/** The AWS shared-credentials file for a key (profile `default`). */
export function sharedCredentialsFile(accessKeyId: string, secretAccessKey: string, region: string): string {
  return `[default]\naws_access_key_id=${accessKeyId}\naws_secret_access_key=${secretAccessKey}\nregion=${region}\n`;
}
