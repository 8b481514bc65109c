/** Shared by the codec tests: structured sample bytes, and encoding through the registry as the sink does. */
import type { ElementSize } from '../../../src/core/dtype.ts';
import { encodeWith, loadCodecs, parseCodec } from '../../../src/zarr/codecs/index.ts';

/** Bytes with structure (a slow ramp plus noise), so shuffles and compressors have something to do. */
export function sample(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((i >> 6) + (s & 3)) & 0xff;
  }
  return out;
}

/** `data` encoded with the codec string `codec`, for elements of `elementSize` bytes. */
export async function encode(codec: string, data: Buffer, elementSize: ElementSize = 1): Promise<Buffer> {
  return encodeWith(await loadCodecs(parseCodec(codec), { elementSize }), data);
}
