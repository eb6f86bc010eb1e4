import { runKeyProviderContract } from '../key-provider.contract.ts';
import { createAwsKmsProvider } from './aws-kms.ts';

// The AWS KMS provider runs the same contract when credentials are configured (it creates KMS keys and
// schedules their deletion). CARGOHOLD_TEST_KMS_ENDPOINT points it at a KMS-compatible server instead.
const env = process.env;
const configured = !!(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.CARGOHOLD_TEST_KMS_ENDPOINT);
const skip = configured ? undefined : 'no AWS credentials configured (set AWS_ACCESS_KEY_ID/AWS_PROFILE, or CARGOHOLD_TEST_KMS_ENDPOINT for a KMS-compatible server)';

runKeyProviderContract('aws kms', async () => createAwsKmsProvider({
  region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
  ...(env.CARGOHOLD_TEST_KMS_ENDPOINT ? { endpoint: env.CARGOHOLD_TEST_KMS_ENDPOINT } : {}),
}), { skip });
