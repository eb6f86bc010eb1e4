/**
 * AWS credentials and region the way the AWS CLI and SDKs find them, for the credential helper:
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), else the profile (AWS_PROFILE, default
 * `default`) in AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); region from AWS_REGION,
 * AWS_DEFAULT_REGION, the profile's `region` in the credentials file or in AWS_CONFIG_FILE (~/.aws/config).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Parses an INI file into sections of key → value (comments and blank lines ignored). */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current) current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return sections;
}

function readIni(path: string): Map<string, Map<string, string>> {
  try {
    return parseIni(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}

/** Resolves credentials and region from `env` (process.env by default). Throws when none are found. */
export function resolveAwsCredentials(env: NodeJS.ProcessEnv = process.env): { credentials: AwsCredentials; region: string; profile: string } {
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  const home = env.HOME || homedir();
  const credentialsFile = readIni(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'));
  const configFile = readIni(env.AWS_CONFIG_FILE || join(home, '.aws', 'config'));
  const fromCredentials = credentialsFile.get(profile);
  const fromConfig = configFile.get(profile === 'default' ? 'default' : `profile ${profile}`) ?? configFile.get(profile);
  let credentials: AwsCredentials | undefined;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  } else {
    for (const section of [fromCredentials, fromConfig]) {
      const id = section?.get('aws_access_key_id');
      const secret = section?.get('aws_secret_access_key');
      if (id && secret) {
        const token = section?.get('aws_session_token');
        credentials = { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
        break;
      }
    }
  }
  if (!credentials) throw new Error(`no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or profile "${profile}" in the shared credentials file`);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || fromCredentials?.get('region') || fromConfig?.get('region') || 'us-east-1';
  return { credentials, region, profile };
}
