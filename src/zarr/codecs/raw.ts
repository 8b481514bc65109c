/** No compression: the chunk's bytes are stored as they are (no copy). Zarr v3 needs no codec entry for it. */
import type { BytesCodec, Compressor } from './types.ts';

export interface RawConfig {
  readonly name: 'raw';
}

const encoder: BytesCodec = { kind: 'bytes_to_bytes', encode: async (data) => data };

export const raw: Compressor<RawConfig> = {
  name: 'raw',
  grammar: 'raw',
  maxArgs: 0,
  parse: () => ({ name: 'raw' }),
  format: () => 'raw',
  v3: () => null,
  v2: () => null,
  checkChunkBytes: () => undefined,
  load: async () => encoder,
};
