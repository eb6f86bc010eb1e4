import type { EcrOperation } from '../context.ts';
import { accountSettingInput } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** GetAccountSetting: the setting's value, or its default when never set. */
const getAccountSetting: EcrOperation = async (input, ctx) => {
  const v = createValidator(input, 'Validation');
  const name = accountSettingInput(v);
  await ctx.authorize('GetAccountSetting');
  return { name, value: await ctx.registry.repositories.getAccountSetting(name) };
};

export default getAccountSetting;
