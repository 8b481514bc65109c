import type { BytesCodec } from './types.ts';

/** No compression: the chunk's bytes are stored as they are (no copy). */
export class RawCodec implements BytesCodec {
  readonly kind = 'bytes_to_bytes';

  static fromConfig(): RawCodec {
    return new RawCodec();
  }

  async encode(data: Buffer): Promise<Buffer> {
    return data;
  }
}
