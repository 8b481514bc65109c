/**
 * Zarr v3 `crc32c`: appends the CRC32C (Castagnoli) of the bytes, little-endian, 4 bytes — the `+crc32c` flag of
 * `--codec`, and the checksum of every shard index. The SIMD native checksum runs at memory speed, so it stays on
 * the thread that encodes; reading checks it with {@link checkCrc32c}.
 */
import { crc32c } from '@node-rs/crc32';
import { SlabchunkError } from '../../core/errors.ts';
import type { BytesCodec } from './types.ts';

export const CRC32C_METADATA = { name: 'crc32c' } as const;

export async function loadCrc32c(): Promise<BytesCodec> {
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

/**
 * The bytes before the trailing CRC32C of `encoded`, once the checksum matches them; EREAD saying what (`the
 * chunk`, `the shard index`) is damaged otherwise.
 */
export function checkCrc32c(encoded: Uint8Array, what: string): Uint8Array {
  if (encoded.length < 4) {
    throw new SlabchunkError('EREAD', `${what} is ${encoded.length} bytes, too short to hold its CRC32C: the file is truncated or empty`);
  }
  const body = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.length - 4);
  const stored = new DataView(encoded.buffer, encoded.byteOffset + body.length, 4).getUint32(0, true);
  const computed = crc32c(body) >>> 0;
  if (stored !== computed) {
    throw new SlabchunkError('EREAD', `${what} fails its CRC32C check (stored ${hex(stored)}, computed ${hex(computed)}): its bytes were changed after writing`);
  }
  return body;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
