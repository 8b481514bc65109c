import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { BytesCodec } from './types.ts';

const gzip = promisify(zlib.gzip);

/**
 * gzip (RFC 1952), as Zarr v3 `gzip` and numcodecs `GZip`. node:zlib's async API runs on the
 * libuv thread pool, so several chunks compress at once on every core.
 */
export class GzipCodec implements BytesCodec {
  readonly kind = 'bytes_to_bytes';
  readonly level: number;

  constructor(level: number) {
    this.level = level;
  }

  static fromConfig(config: { level: number }): GzipCodec {
    return new GzipCodec(config.level);
  }

  encode(data: Buffer): Promise<Buffer> {
    return gzip(data, { level: this.level });
  }
}
