import { compress } from '@mongodb-js/zstd';
import type { BytesCodec } from './types.ts';

/**
 * Zstandard frames, as Zarr v3 `zstd` and numcodecs `Zstd`. The native binding (libzstd through
 * napi-rs, prebuilt per platform) compresses on the libuv thread pool; see bench/RESULTS.md `## codecs`
 * for why it beats WebAssembly in a worker pool. Frames carry the content size, which numcodecs needs.
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

  encode(data: Buffer): Promise<Buffer> {
    return compress(data, this.level);
  }
}
