import { createRequire } from 'node:module';
import type { BytesCodec } from './types.ts';

/**
 * The napi-rs binding itself: the package's `index.js` wrapper (1.2.2) drops the `level` argument,
 * so every level would silently compress at zstd's default. `bindings.js` passes it through.
 */
const binding = createRequire(import.meta.url)('@mongodb-js/zstd/bindings.js') as {
  compress(data: Buffer, level: number): Promise<Buffer>;
};

/**
 * Zstandard frames, as Zarr v3 `zstd` and numcodecs `Zstd`. The native binding (libzstd through
 * napi-rs, prebuilt per platform) compresses on the libuv thread pool; bench/RESULTS.md `## codecs`
 * says why it beats WebAssembly in a worker pool.
 */
export class ZstdCodec implements BytesCodec {
  readonly kind = 'bytes_to_bytes';
  readonly level: number;

  constructor(level: number) {
    this.level = level;
  }

  static fromConfig(config: { level: number }): ZstdCodec {
    return new ZstdCodec(config.level);
  }

  async encode(data: Buffer): Promise<Buffer> {
    return withContentSize(await binding.compress(data, this.level), data.length);
  }
}

const MAGIC = 0xfd2fb528;

/**
 * Adds Frame_Content_Size to a zstd frame header that lacks it (RFC 8878 §3.1.1.1). The binding
 * compresses in streaming mode, which leaves the size out, and numcodecs (zarr-python 2) refuses such
 * frames ("invalid input data"). The size lives only in the header; the blocks do not depend on it.
 */
export function withContentSize(frame: Buffer, contentSize: number): Buffer {
  if (frame.length < 6 || frame.readUInt32LE(0) !== MAGIC) throw new Error('zstd returned something that is not a zstd frame');
  const fhd = frame[4];
  const singleSegment = (fhd >> 5) & 1;
  if (fhd >> 6 !== 0 || singleSegment) return frame; // the size is already there
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const at = 5 + 1 + dictBytes; // magic, FHD, Window_Descriptor, Dictionary_ID
  const wide = contentSize > 0xffffffff;
  const sizeBytes = wide ? 8 : 4;
  const out = Buffer.allocUnsafe(frame.length + sizeBytes);
  frame.copy(out, 0, 0, at);
  out[4] = fhd | ((wide ? 3 : 2) << 6);
  if (wide) out.writeBigUInt64LE(BigInt(contentSize), at);
  else out.writeUInt32LE(contentSize, at);
  frame.copy(out, at + sizeBytes, at);
  return out;
}
