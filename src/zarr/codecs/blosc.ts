/**
 * Blosc 1 frames (the format c-blosc 1.x, numcodecs `Blosc` and Zarr v3 `blosc` read), written here because the
 * WebAssembly build in numcodecs.js hard-codes `typesize = 4`, which makes byte shuffle wrong for every other
 * element size. The container is simple; the compression inside it is libzstd (native, libuv pool) or zlib
 * (node:zlib, libuv pool), so it runs off the main thread; only the shuffle (word-wise, GB/s) runs on it.
 *
 * Layout (c-blosc README_CHUNK_FORMAT): a 16-byte header
 *   version=2, versionlz=1, flags, typesize, nbytes u32, blocksize u32, cbytes u32
 * then one u32 start offset per block, then per block one stream: u32 csize + csize bytes
 * (csize == block size means the block is stored uncompressed). Flags: bit 0 byte shuffle,
 * bit 2 bitshuffle, bit 4 "do not split blocks into typesize streams", bits 5-7 the compressor.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { invalid } from '../../core/errors.ts';
import { parseLevel, type BytesCodec, type Compressor } from './types.ts';
import { zstdCompress } from './zstd.ts';

export type BloscCname = 'zstd' | 'zlib';
export type BloscShuffle = 'noshuffle' | 'shuffle' | 'bitshuffle';

export interface BloscConfig {
  readonly name: 'blosc';
  readonly cname: BloscCname;
  readonly clevel: number;
  readonly shuffle: BloscShuffle;
}

/** Largest chunk Blosc 1 can hold (BLOSC_MAX_BUFFERSIZE: 2^31 - 1 less its 16-byte header). */
const BLOSC_MAX_BYTES = 2 ** 31 - 1 - 16;

const CNAMES: readonly BloscCname[] = ['zstd', 'zlib'];
const SHUFFLES: readonly BloscShuffle[] = ['noshuffle', 'shuffle', 'bitshuffle'];
/** Blosc compressors other libraries offer that we cannot encode: named in the error. */
const OTHER_CNAMES = ['lz4', 'lz4hc', 'blosclz', 'snappy'];
/** zstd level 5 with byte shuffle, as numcodecs' Blosc default but with zstd (lz4 is not available here). */
const DEFAULTS = { cname: 'zstd', clevel: 5, shuffle: 'shuffle' } as const;
const SHUFFLE_V2: Record<BloscShuffle, number> = { noshuffle: 0, shuffle: 1, bitshuffle: 2 };

const deflate = promisify(zlib.deflate);

const HEADER = 16;
const FLAG_SHUFFLE = 0x01;
const FLAG_BITSHUFFLE = 0x04;
const FLAG_DONT_SPLIT = 0x10;
const FORMAT: Record<BloscCname, number> = { zlib: 3, zstd: 4 };
/** Target block size: large enough for zstd/zlib to find long matches, small enough to parallelise. */
const BLOCK_BYTES = 256 * 1024;

function parse(args: readonly string[]): BloscConfig {
  const cname = args[0] === undefined || args[0] === '' ? DEFAULTS.cname : args[0];
  if (OTHER_CNAMES.includes(cname)) {
    throw invalid(`blosc compressor ${cname} is not available: slabchunk encodes blosc with zstd or zlib (e.g. blosc:zstd:5:shuffle)`);
  }
  if (!CNAMES.includes(cname as BloscCname)) throw invalid(`unknown blosc compressor ${JSON.stringify(cname)}; use one of ${CNAMES.join(', ')}`);
  const shuffle = args[2] === undefined || args[2] === '' ? DEFAULTS.shuffle : args[2];
  if (!SHUFFLES.includes(shuffle as BloscShuffle)) throw invalid(`unknown blosc shuffle ${JSON.stringify(shuffle)}; use one of ${SHUFFLES.join(', ')}`);
  return { name: 'blosc', cname: cname as BloscCname, clevel: parseLevel(args[1], 'blosc', 0, 9, DEFAULTS.clevel), shuffle: shuffle as BloscShuffle };
}

export const blosc: Compressor<BloscConfig> = {
  name: 'blosc',
  grammar: 'blosc[:cname[:clevel[:shuffle]]]',
  maxArgs: 3,
  parse,
  format: (c) => `blosc:${c.cname}:${c.clevel}:${c.shuffle}`,
  v3: (c, ctx) => ({
    name: 'blosc',
    configuration: { cname: c.cname, clevel: c.clevel, shuffle: c.shuffle, typesize: ctx.elementSize, blocksize: 0 },
  }),
  v2: (c) => ({ id: 'blosc', cname: c.cname, clevel: c.clevel, shuffle: SHUFFLE_V2[c.shuffle], blocksize: 0 }),
  checkChunkBytes: (_c, chunkBytes) => {
    if (chunkBytes > BLOSC_MAX_BYTES) {
      throw invalid(`a chunk of ${chunkBytes} bytes is too large for blosc (at most ${BLOSC_MAX_BYTES}); use smaller chunks or zstd`);
    }
  },
  load: async (c, ctx) => bloscEncoder(c, ctx.elementSize),
};

/** The inner compressor's level for blosc `clevel` 1-9, mapped as c-blosc maps it, so sizes match c-blosc's. */
function innerLevel(cname: BloscCname, clevel: number): number {
  if (cname === 'zlib') return clevel;
  return clevel < 9 ? clevel * 2 - 1 : 22;
}

/** Block size for `nbytes`: a multiple of 8 elements, so bitshuffle covers whole blocks. */
function blockSize(nbytes: number, typesize: number): number {
  const unit = 8 * typesize;
  return nbytes <= BLOCK_BYTES ? nbytes : Math.floor(BLOCK_BYTES / unit) * unit;
}

/**
 * The encoder: blocks are shuffled and compressed one after the other, so a chunk holds at most one job on the
 * thread pool, as every codec does, and the sink's concurrency stays the whole budget.
 */
function bloscEncoder(config: BloscConfig, typesize: number): BytesCodec {
  const level = innerLevel(config.cname, config.clevel);
  const inner: (block: Buffer) => Promise<Buffer> =
    // clevel 0 means "store": returning the block itself marks it uncompressed
    config.clevel === 0 ? async (block) => block
    : config.cname === 'zstd' ? (block) => zstdCompress(block, level)
    : (block) => deflate(block, { level });
  let flags = FLAG_DONT_SPLIT | (FORMAT[config.cname] << 5);
  let filter: ((s: Uint8Array, d: Uint8Array, t: number) => void) | null = null;
  if (config.shuffle === 'shuffle') {
    flags |= FLAG_SHUFFLE;
    // c-blosc skips byte shuffle for 1-byte elements (it is the identity), but still sets the flag
    if (typesize > 1) filter = byteShuffle;
  } else if (config.shuffle === 'bitshuffle') {
    flags |= FLAG_BITSHUFFLE;
    filter = bitShuffle;
  }
  return {
    kind: 'bytes_to_bytes',
    async encode(data) {
      const nbytes = data.length;
      const blocksize = blockSize(nbytes, typesize);
      const nblocks = nbytes === 0 ? 0 : Math.ceil(nbytes / blocksize);
      const shuffled = filter ? Buffer.allocUnsafe(nbytes) : data;
      const streams: Buffer[] = [];
      let pending: Promise<Buffer> | undefined;
      for (let k = 0; k < nblocks; k++) {
        const start = k * blocksize;
        const end = Math.min(start + blocksize, nbytes);
        // Block k is shuffled while block k-1 compresses.
        if (filter) filter(data.subarray(start, end), shuffled.subarray(start, end), typesize);
        if (pending) streams.push(await pending);
        pending = inner(shuffled.subarray(start, end));
      }
      if (pending) streams.push(await pending);
      let cbytes = HEADER + 4 * nblocks;
      for (let k = 0; k < nblocks; k++) cbytes += 4 + Math.min(streams[k].length, Math.min(blocksize, nbytes - k * blocksize));
      const out = Buffer.allocUnsafe(cbytes);
      out[0] = 2;
      out[1] = 1;
      out[2] = flags;
      out[3] = typesize;
      out.writeUInt32LE(nbytes, 4);
      out.writeUInt32LE(blocksize, 8);
      out.writeUInt32LE(cbytes, 12);
      let pos = HEADER + 4 * nblocks;
      for (let k = 0; k < nblocks; k++) {
        const start = k * blocksize;
        const size = Math.min(blocksize, nbytes - start);
        out.writeUInt32LE(pos, HEADER + 4 * k);
        // an incompressible block is stored as is: csize == block size tells readers so
        const body = streams[k].length < size ? streams[k] : shuffled.subarray(start, start + size);
        out.writeUInt32LE(body.length, pos);
        body.copy(out, pos + 4);
        pos += 4 + body.length;
      }
      return out;
    },
  };
}

/** Element words can be read with typed arrays only on little-endian hosts (all Node targets today). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Byte shuffle of one block: byte j of element i goes to `j*n + i`. Bytes past the last whole element stay.
 * 2-, 4- and 8-byte elements are read a word at a time (2-4× faster than per byte: this runs on the main thread).
 */
export function byteShuffle(src: Uint8Array, dst: Uint8Array, typesize: number): void {
  const n = Math.floor(src.length / typesize);
  const aligned = LITTLE_ENDIAN && src.byteOffset % Math.min(typesize, 4) === 0;
  if (aligned && typesize === 2) {
    const w = new Uint16Array(src.buffer, src.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const v = w[i];
      dst[i] = v;
      dst[n + i] = v >>> 8;
    }
  } else if (aligned && typesize === 4) {
    const w = new Uint32Array(src.buffer, src.byteOffset, n);
    const n2 = 2 * n, n3 = 3 * n;
    for (let i = 0; i < n; i++) {
      const v = w[i];
      dst[i] = v;
      dst[n + i] = v >>> 8;
      dst[n2 + i] = v >>> 16;
      dst[n3 + i] = v >>> 24;
    }
  } else if (aligned && typesize === 8) {
    const w = new Uint32Array(src.buffer, src.byteOffset, 2 * n);
    for (let i = 0; i < n; i++) {
      const a = w[2 * i], b = w[2 * i + 1];
      dst[i] = a;
      dst[n + i] = a >>> 8;
      dst[2 * n + i] = a >>> 16;
      dst[3 * n + i] = a >>> 24;
      dst[4 * n + i] = b;
      dst[5 * n + i] = b >>> 8;
      dst[6 * n + i] = b >>> 16;
      dst[7 * n + i] = b >>> 24;
    }
  } else {
    for (let j = 0; j < typesize; j++) {
      const base = j * n;
      for (let i = 0, s = j; i < n; i++, s += typesize) dst[base + i] = src[s];
    }
  }
  dst.set(src.subarray(n * typesize), n * typesize);
}

/**
 * Bitshuffle of one block as c-blosc 1.x: for a block of n elements (n a multiple of 8), bit b of
 * byte j of element i goes to bit `i % 8` of byte `(j*8 + b)*n/8 + i/8`. Blocks whose element count
 * is not a multiple of 8 are copied unchanged, as c-blosc 1.x does.
 */
export function bitShuffle(src: Uint8Array, dst: Uint8Array, typesize: number): void {
  const n = Math.floor(src.length / typesize);
  if (n % 8 !== 0) {
    dst.set(src);
    return;
  }
  const rowBytes = n / 8;
  for (let j = 0; j < typesize; j++) {
    for (let g = 0; g < rowBytes; g++) {
      let s = g * 8 * typesize + j;
      const b0 = src[s], b1 = src[(s += typesize)], b2 = src[(s += typesize)], b3 = src[(s += typesize)];
      const b4 = src[(s += typesize)], b5 = src[(s += typesize)], b6 = src[(s += typesize)], b7 = src[(s += typesize)];
      let lo = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
      let hi = b4 | (b5 << 8) | (b6 << 16) | (b7 << 24);
      // 8×8 bit transpose of the 64-bit word hi:lo (byte k, bit b) -> (byte b, bit k), in three
      // block swaps (4×4, 2×2, 1×1) on 32-bit halves: the bitboard "flip about the diagonal"
      let t = (hi ^ (lo >>> 4)) & 0x0f0f0f0f;
      hi ^= t;
      lo ^= t << 4;
      t = (lo ^ (lo << 14)) & 0x33330000;
      lo ^= t ^ (t >>> 14);
      t = (hi ^ (hi << 14)) & 0x33330000;
      hi ^= t ^ (t >>> 14);
      t = (lo ^ (lo << 7)) & 0x55005500;
      lo ^= t ^ (t >>> 7);
      t = (hi ^ (hi << 7)) & 0x55005500;
      hi ^= t ^ (t >>> 7);
      const out = j * 8 * rowBytes + g;
      dst[out] = lo;
      dst[out + rowBytes] = lo >>> 8;
      dst[out + 2 * rowBytes] = lo >>> 16;
      dst[out + 3 * rowBytes] = lo >>> 24;
      dst[out + 4 * rowBytes] = hi;
      dst[out + 5 * rowBytes] = hi >>> 8;
      dst[out + 6 * rowBytes] = hi >>> 16;
      dst[out + 7 * rowBytes] = hi >>> 24;
    }
  }
  dst.set(src.subarray(n * typesize), n * typesize);
}
