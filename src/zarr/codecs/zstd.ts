/**
 * Zstandard frames, as Zarr v3 `zstd` and numcodecs `Zstd`. The native binding (libzstd through napi-rs, prebuilt
 * per platform) compresses on the libuv thread pool; bench/RESULTS.md `## codecs` says why it beats WebAssembly
 * in a worker pool. `zstd:L:checksum` adds the frame's content checksum, which every zstd decoder verifies.
 */
import { createRequire } from 'node:module';
import { xxh64 } from '@node-rs/xxhash';
import { invalid, SlabchunkError } from '../../core/errors.ts';
import { parseLevel, type Compressor } from './types.ts';

export interface ZstdConfig {
  readonly name: 'zstd';
  readonly level: number;
  /** Each frame ends with the low 32 bits of the XXH64 of its content (Zarr v3 zstd `checksum`). */
  readonly checksum: boolean;
}

/** numcodecs' and zarr-python's default. */
const DEFAULT_LEVEL = 3;

interface Binding {
  compress(data: Buffer, level: number): Promise<Buffer>;
}
let binding: Binding | undefined;

/**
 * The napi-rs binding itself, loaded on first use: the package's `index.js` wrapper (1.2.2) drops the `level`
 * argument, so every level would silently compress at zstd's default. `bindings.js` passes it through.
 */
function zstdBinding(): Binding {
  binding ??= createRequire(import.meta.url)('@mongodb-js/zstd/bindings.js') as Binding;
  return binding;
}

/** One zstd frame of `data` at `level`, with its content size in the header (and its checksum at the end). */
export async function zstdCompress(data: Buffer, level: number, checksum = false): Promise<Buffer> {
  const frame = withContentSize(await zstdBinding().compress(data, level), data.length);
  return checksum ? withChecksum(frame, data) : frame;
}

export const zstd: Compressor<ZstdConfig> = {
  name: 'zstd',
  grammar: 'zstd[:level][:checksum]',
  maxArgs: 2,
  parse: (args) => {
    const checksum = args.at(-1) === 'checksum';
    const rest = checksum ? args.slice(0, -1) : args;
    if (rest.length > 1) throw invalid(`zstd takes a level and the word checksum, as zstd:3:checksum. Got: zstd:${args.join(':')}`);
    return { name: 'zstd', level: parseLevel(rest[0], 'zstd', -131072, 22, DEFAULT_LEVEL), checksum };
  },
  format: (c) => `zstd:${c.level}${c.checksum ? ':checksum' : ''}`,
  v3: (c) => ({ name: 'zstd', configuration: { level: c.level, checksum: c.checksum } }),
  // numcodecs before 0.13 (Debian's zarr-python 2 among them) refuses a `checksum` key, and it only steers
  // encoding: every zstd decoder verifies a frame's checksum whenever the frame carries one.
  v2: (c) => ({ id: 'zstd', level: c.level }),
  checkChunkBytes: () => undefined,
  load: async ({ level, checksum }) => {
    zstdBinding();
    return { kind: 'bytes_to_bytes', encode: (data) => zstdCompress(data, level, checksum) };
  },
};

const MAGIC = 0xfd2fb528;
const CHECKSUM_FLAG = 0b100;

/**
 * Adds Content_Checksum to a zstd frame that lacks it (RFC 8878 §3.1.1: the flag in the frame header, and the low
 * 4 bytes of XXH64(content, seed 0), little-endian, after the last block). The binding cannot ask libzstd for it.
 */
export function withChecksum(frame: Buffer, content: Uint8Array): Buffer {
  if (frame[4]! & CHECKSUM_FLAG) return frame;
  const out = Buffer.allocUnsafe(frame.length + 4);
  frame.copy(out, 0);
  out[4] = frame[4]! | CHECKSUM_FLAG;
  out.writeUInt32LE(Number(xxh64(content as Buffer, 0n) & 0xffff_ffffn), frame.length);
  return out;
}

/**
 * Adds Frame_Content_Size to a zstd frame header that lacks it (RFC 8878 §3.1.1.1). The binding compresses in
 * streaming mode, which leaves the size out, and numcodecs (zarr-python 2) refuses such frames ("invalid input
 * data"). The size lives only in the header; the blocks do not depend on it.
 */
export function withContentSize(frame: Buffer, contentSize: number): Buffer {
  if (frame.length < 6 || frame.readUInt32LE(0) !== MAGIC) {
    throw new SlabchunkError('EWRITE', 'libzstd returned something that is not a zstd frame; reinstall @mongodb-js/zstd');
  }
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
