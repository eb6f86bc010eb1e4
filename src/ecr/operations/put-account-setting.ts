import type { EcrOperation } from '../context.ts';
import { accountSettingInput, accountSettingValue } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** PutAccountSetting: BASIC_SCAN_TYPE_VERSION (AWS_NATIVE|CLAIR), REGISTRY_POLICY_SCOPE (V1|V2), BLOB_MOUNTING (ENABLED|DISABLED). */
const putAccountSetting: EcrOperation = async (input, ctx) => {
  const v = createValidator(input, 'Validation');
  const name = accountSettingInput(v);
  const value = accountSettingValue(v, name);
  await ctx.authorize('PutAccountSetting');
  return { name, value: await ctx.registry.repositories.putAccountSetting(name, value) };
};

export default putAccountSetting;
