import { crc32c } from '@node-rs/crc32';
import type { BytesCodec } from './types.ts';

/**
 * Zarr v3 `crc32c`: appends the CRC32C (Castagnoli) of the bytes, little-endian, 4 bytes.
 * The SIMD native checksum runs at memory speed, so it stays on the main thread.
 */
export class Crc32cCodec implements BytesCodec {
  readonly kind = 'bytes_to_bytes';

  static fromConfig(): Crc32cCodec {
    return new Crc32cCodec();
  }

  async encode(data: Buffer): Promise<Buffer> {
    const out = Buffer.allocUnsafe(data.length + 4);
    data.copy(out, 0);
    out.writeUInt32LE(crc32c(data) >>> 0, data.length);
    return out;
  }
}
