import { after, before } from 'node:test';
import { motoServerPath, startMoto, type RunningMoto } from '../../../../test/helpers/moto.ts';
import { runKeyProviderContract } from '../key-provider.contract.ts';
import { createAwsKmsProvider } from './aws-kms.ts';

// The AWS KMS provider runs the KeyProvider contract against real AWS KMS when credentials are configured
// (it creates keys and schedules their deletion), else against moto's KMS emulator when moto_server is
// installed, else it is skipped with the reason.
const env = process.env;
const realAws = !!(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE);
const moto = realAws ? undefined : motoServerPath();
const skip = realAws || moto ? undefined : 'no AWS credentials configured (AWS_ACCESS_KEY_ID / AWS_PROFILE) and no moto_server to emulate KMS';
const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';

let emulator: RunningMoto | undefined;
if (moto) {
  before(async () => {
    emulator = await startMoto(moto);
  });
  after(async () => {
    await emulator?.stop();
  });
}

runKeyProviderContract(realAws ? 'aws kms' : 'aws kms (moto emulator)', async () => createAwsKmsProvider({
  region,
  ...(emulator ? { endpoint: emulator.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } } : {}),
}), { skip, skipDestroy: emulator || moto ? 'moto keeps decrypting with a key pending deletion (real KMS refuses: KMSInvalidStateException)' : undefined });
