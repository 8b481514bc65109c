/**
 * gzip (RFC 1952), as Zarr v3 `gzip` and numcodecs `GZip`. node:zlib's async API runs on the libuv thread pool,
 * so several chunks compress at once on every core.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { parseLevel, type Compressor } from './types.ts';

export interface GzipConfig {
  readonly name: 'gzip';
  readonly level: number;
}

/** numcodecs' and zarr-python's default. */
const DEFAULT_LEVEL = 5;
const gzipAsync = promisify(zlib.gzip);

export const gzip: Compressor<GzipConfig> = {
  name: 'gzip',
  grammar: 'gzip[:level]',
  maxArgs: 1,
  parse: (args) => ({ name: 'gzip', level: parseLevel(args[0], 'gzip', 0, 9, DEFAULT_LEVEL) }),
  format: (c) => `gzip:${c.level}`,
  v3: (c) => ({ name: 'gzip', configuration: { level: c.level } }),
  v2: (c) => ({ id: 'gzip', level: c.level }),
  checkChunkBytes: () => undefined,
  load: async ({ level }) => ({ kind: 'bytes_to_bytes', encode: (data) => gzipAsync(data, { level }) }),
};
