/**
 * Zarr v3 `crc32c`: appends the CRC32C (Castagnoli) of the bytes, little-endian, 4 bytes — the `+crc32c` flag of
 * `--codec`. The SIMD native checksum runs at memory speed, so it stays on the main thread.
 */
import type { BytesCodec } from './types.ts';

export const CRC32C_METADATA = { name: 'crc32c' } as const;

export async function loadCrc32c(): Promise<BytesCodec> {
  const { crc32c } = await import('@node-rs/crc32');
  return {
    kind: 'bytes_to_bytes',
    async encode(data) {
      const out = Buffer.allocUnsafe(data.length + 4);
      data.copy(out, 0);
      out.writeUInt32LE(crc32c(data) >>> 0, data.length);
      return out;
    },
  };
}
