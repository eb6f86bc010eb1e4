import type { EcrOperation } from '../context.ts';
import { EcrError } from '../errors.ts';
import { ecrImageError } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator, Rules } from '../validate.ts';

const MAX_PART_BYTES = 20_971_520;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * UploadLayerPart ≡ the /v2/ PATCH of a chunk: bytes [partFirstByte, partLastByte] (base64, ≤ 20 MiB)
 * appended to the session. The part must start right after the last byte received and its length must
 * match the range, else InvalidLayerPartException with lastValidByteReceived.
 */
const uploadLayerPart: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const uploadId = v.string('uploadId', { ...Rules.uploadId, required: true });
  const first = v.integer('partFirstByte', { required: true, min: 0 });
  const last = v.integer('partLastByte', { required: true, min: 0 });
  const encoded = v.string('layerPartBlob', { required: true });
  if (encoded.length % 4 !== 0 || !BASE64_RE.test(encoded)) throw new EcrError('SerializationException', "Value for 'layerPartBlob' must be base64-encoded");
  const data = Buffer.from(encoded, 'base64');
  if (data.length > MAX_PART_BYTES) v.fail('layerPartBlob', `Member must have length less than or equal to ${MAX_PART_BYTES}`);
  await ctx.authorize('UploadLayerPart', name);
  try {
    const r = await ctx.registry.images.uploadLayerPart(name, uploadId, first, last, data);
    return { registryId, repositoryName: name, uploadId, lastByteReceived: r.lastByteReceived };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId, { uploadId });
  }
};

export default uploadLayerPart;
