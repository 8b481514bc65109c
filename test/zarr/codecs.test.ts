import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import Blosc from 'numcodecs/blosc';
import { SlabchunkError } from '../../src/core/errors.ts';
import { encodeWith, loadCodecs } from '../../src/zarr/codecs/index.ts';
import { formatCodec, parseCodec, type CodecSpec } from '../../src/zarr/codecs/spec.ts';
import { withContentSize } from '../../src/zarr/codecs/zstd.ts';
import { bitShuffle, byteShuffle } from '../../src/zarr/codecs/blosc.ts';
import type { ElementSize } from '../../src/core/dtype.ts';
import { refCrc32c } from '../lib/crc32c.ts';

/** Bytes with structure (a slow ramp plus noise), so shuffles and compressors have something to do. */
function sample(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((i >> 6) + (s & 3)) & 0xff;
  }
  return out;
}

async function encode(codec: string, data: Buffer, elementSize: ElementSize = 1): Promise<Buffer> {
  return encodeWith(await loadCodecs(parseCodec(codec), { elementSize }), data);
}

// ---- codec strings ----

test('parseCodec: the grammar, defaults and canonical form', () => {
  const cases: [string, string][] = [
    ['raw', 'raw'], ['gzip', 'gzip:5'], ['gzip:9', 'gzip:9'], ['zstd', 'zstd:3'], ['ZSTD:-5', 'zstd:-5'],
    ['zstd:19+crc32c', 'zstd:19+crc32c'], ['raw+crc32c', 'raw+crc32c'], ['blosc', 'blosc:zstd:5:shuffle'],
    ['blosc:zlib', 'blosc:zlib:5:shuffle'], ['blosc:zstd:9:bitshuffle', 'blosc:zstd:9:bitshuffle'], ['blosc::1:noshuffle', 'blosc:zstd:1:noshuffle'],
  ];
  for (const [text, canonical] of cases) assert.is(formatCodec(parseCodec(text)), canonical, text);
});

test('parseCodec: clear EINVALID errors', () => {
  const cases: [string, RegExp][] = [
    ['', /raw \| gzip/], ['lz4', /unknown codec "lz4"/], ['gzip:10', /gzip level must be an integer from 0 to 9/],
    ['gzip:x', /gzip level/], ['zstd:23', /zstd level/], ['raw:1', /too many parts/], ['blosc:lz4', /blosc compressor lz4 is not available/],
    ['blosc:foo', /unknown blosc compressor/], ['blosc:zstd:5:byteshuffle', /unknown blosc shuffle/], ['zstd+md5', /unknown codec flag \+md5/],
    ['blosc:zstd:10', /blosc level/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseCodec(text), (e: SlabchunkError) => e instanceof SlabchunkError && e.code === 'EINVALID' && message.test(e.message), text);
  }
});

test('formatCodec and parseCodec are inverse (property)', () => {
  const spec: fc.Arbitrary<CodecSpec> = fc.record({
    compressor: fc.oneof(
      fc.constant({ name: 'raw' as const }),
      fc.record({ name: fc.constant('gzip' as const), level: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ name: fc.constant('zstd' as const), level: fc.integer({ min: -131072, max: 22 }) }),
      fc.record({
        name: fc.constant('blosc' as const), cname: fc.constantFrom('zstd' as const, 'zlib' as const),
        clevel: fc.integer({ min: 0, max: 9 }), shuffle: fc.constantFrom('noshuffle' as const, 'shuffle' as const, 'bitshuffle' as const),
      }),
    ),
    crc32c: fc.boolean(),
  });
  // fast-check builds null-prototype records; compare plain copies
  fc.assert(fc.property(spec, (s) => { assert.equal(parseCodec(formatCodec(s)), { compressor: { ...s.compressor }, crc32c: s.crc32c }); }));
});

// ---- gzip: RFC 1952, decoded by zlib ----

test('gzip: an RFC 1952 member that zlib.gunzipSync decodes', async () => {
  for (const n of [1, 1000, 300_000]) {
    const data = sample(n, n);
    for (const level of [0, 1, 9]) {
      const out = await encode(`gzip:${level}`, data);
      assert.equal([out[0], out[1], out[2]], [0x1f, 0x8b, 8], 'gzip magic, deflate');
      assert.ok(zlib.gunzipSync(out).equals(data));
    }
  }
});

// ---- zstd: RFC 8878 frames, decoded by fzstd (a separate pure-JS decoder) ----

/** Frame_Content_Size from a frame header, per RFC 8878 §3.1.1.1 (undefined when absent). */
function frameContentSize(frame: Uint8Array): number | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  assert.is(view.getUint32(0, true), 0xfd2fb528, 'zstd magic');
  const fhd = frame[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const dict = [0, 1, 2, 4][fhd & 3];
  const at = 5 + (single ? 0 : 1) + dict;
  const size = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  if (size === 0) return undefined;
  if (size === 1) return frame[at];
  if (size === 2) return view.getUint16(at, true) + 256;
  if (size === 4) return view.getUint32(at, true);
  return Number(view.getBigUint64(at, true));
}

test('zstd: frames that record their content size (numcodecs needs it) and decode with fzstd', async () => {
  for (const n of [1, 255, 256, 70_000, (1 << 20) + 3]) {
    const data = sample(n, 7 + n);
    for (const level of [1, 3, 19]) {
      const out = await encode(`zstd:${level}`, data);
      assert.is(frameContentSize(out), n, `content size, n=${n}`);
      assert.ok(Buffer.from(fzstdDecompress(out)).equals(data), `n=${n} level=${level}`);
    }
  }
});

test('zstd: the level reaches libzstd (higher levels give smaller frames on compressible data)', async () => {
  const data = sample(1 << 18, 5);
  const sizes = await Promise.all([1, 9, 19].map(async (level) => (await encode(`zstd:${level}`, data)).length));
  assert.ok(sizes[0] > sizes[1] && sizes[1] > sizes[2], `sizes by level 1, 9, 19: ${sizes.join(', ')}`);
});

test('withContentSize writes an 8-byte size for sizes past 4 GiB and leaves framed sizes alone', () => {
  // a frame header without a size: FHD 0 (window descriptor, no dictionary, no checksum) + one empty raw block
  const bare = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x01, 0x00, 0x00]);
  const big = withContentSize(bare, 2 ** 33 + 5);
  assert.is(big[4] >> 6, 3);
  assert.is(frameContentSize(big), 2 ** 33 + 5);
  assert.equal([...big.subarray(14)], [0x01, 0x00, 0x00], 'block bytes follow unchanged');
  const small = withContentSize(bare, 0);
  assert.is(frameContentSize(small), 0);
  assert.ok(Buffer.from(fzstdDecompress(small)).length === 0, 'fzstd accepts the rewritten header');
  assert.is(withContentSize(small, 0), small, 'a frame with a size is returned as is');
});

// ---- blosc: header fields per the c-blosc format, shuffle checked per byte/bit, decoded by c-blosc ----

function refByteShuffle(block: Uint8Array, ts: number): Uint8Array {
  const n = Math.floor(block.length / ts);
  const out = Uint8Array.from(block);
  for (let i = 0; i < n; i++) for (let j = 0; j < ts; j++) out[j * n + i] = block[i * ts + j];
  return out;
}

function refBitShuffle(block: Uint8Array, ts: number): Uint8Array {
  const n = Math.floor(block.length / ts);
  if (n % 8 !== 0) return Uint8Array.from(block);
  // bytes past the last whole element are copied as they are
  const out = Uint8Array.from(block).fill(0, 0, n * ts);
  for (let i = 0; i < n; i++) for (let j = 0; j < ts; j++) for (let b = 0; b < 8; b++) {
    const bit = (block[i * ts + j] >> b) & 1;
    out[(j * 8 + b) * (n / 8) + (i >> 3)] |= bit << (i & 7);
  }
  return out;
}

const cblosc = new Blosc();

test('byteShuffle and bitShuffle equal the per-byte/per-bit references at any length and alignment (property)', () => {
  fc.assert(fc.property(
    fc.constantFrom(1, 2, 4, 8), fc.integer({ min: 0, max: 7 }), fc.uint8Array({ minLength: 0, maxLength: 300 }),
    (ts, offset, bytes) => {
      const padded = new Uint8Array(offset + bytes.length);
      padded.set(bytes, offset);
      const src = padded.subarray(offset);
      for (const [shuffle, ref] of [[byteShuffle, refByteShuffle], [bitShuffle, refBitShuffle]] as const) {
        const dst = new Uint8Array(src.length);
        shuffle(src, dst, ts);
        assert.equal([...dst], [...ref(src, ts)]);
      }
    },
  ));
});

test('blosc: header fields, typesize = element size, shuffle as specified, c-blosc decodes it', async () => {
  for (const ts of [1, 2, 4, 8] as ElementSize[]) {
    for (const elements of [13, 64, 4096, 100_003]) {
      const data = sample(elements * ts, ts * elements);
      for (const cname of ['zstd', 'zlib'] as const) {
        for (const shuffle of ['noshuffle', 'shuffle', 'bitshuffle'] as const) {
          const label = `ts=${ts} n=${elements} ${cname} ${shuffle}`;
          const out = await encode(`blosc:${cname}:5:${shuffle}`, data, ts);
          const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
          assert.is(out[0], 2, 'format version');
          assert.is(out[3], ts, `${label}: typesize`);
          const flags = out[2];
          assert.is(flags & 1, shuffle === 'shuffle' ? 1 : 0, `${label}: byte-shuffle flag`);
          assert.is((flags >> 2) & 1, shuffle === 'bitshuffle' ? 1 : 0, `${label}: bitshuffle flag`);
          assert.is(flags >> 5, cname === 'zstd' ? 4 : 3, `${label}: compressor code`);
          assert.is(view.getUint32(4, true), data.length, 'nbytes');
          const blocksize = view.getUint32(8, true);
          assert.is(blocksize % ts, 0, 'block size a multiple of typesize');
          assert.is(view.getUint32(12, true), out.length, 'cbytes');
          // first block: its one stream, inflated by an independent decoder, is the shuffled block
          const block = data.subarray(0, Math.min(blocksize, data.length));
          const start = view.getUint32(16, true);
          const csize = view.getUint32(start, true);
          const stream = out.subarray(start + 4, start + 4 + csize);
          const inner = csize === block.length ? stream : cname === 'zstd' ? fzstdDecompress(stream) : zlib.inflateSync(stream);
          const want = shuffle === 'noshuffle' || (shuffle === 'shuffle' && ts === 1) ? block
            : shuffle === 'shuffle' ? refByteShuffle(block, ts) : refBitShuffle(block, ts);
          assert.ok(Buffer.from(inner).equals(Buffer.from(want)), `${label}: first block filtered as specified`);
          const decoded = await cblosc.decode(out);
          assert.ok(Buffer.from(decoded).equals(data), `${label}: c-blosc decodes`);
        }
      }
    }
  }
});

test('blosc: clevel 0 stores blocks uncompressed, still a valid frame', async () => {
  const data = sample(40_000, 3);
  const out = await encode('blosc:zstd:0:shuffle', data, 4);
  assert.ok(out.length > data.length);
  assert.ok(Buffer.from(await cblosc.decode(out)).equals(data));
});

// ---- crc32c: checked against the tests' bitwise CRC-32C (test/lib/crc32c.ts) ----

test('crc32c: appends the little-endian CRC-32C of the encoded bytes', async () => {
  assert.is(refCrc32c(Buffer.from('123456789')), 0xe3069283, 'reference matches the CRC-32C check value');
  for (const codec of ['raw+crc32c', 'zstd:3+crc32c', 'gzip:1+crc32c']) {
    const data = sample(5000, 9);
    const out = await encode(codec, data);
    const body = out.subarray(0, out.length - 4);
    assert.is(out.readUInt32LE(out.length - 4), refCrc32c(body), codec);
    if (codec.startsWith('raw')) assert.ok(body.equals(data));
    if (codec.startsWith('zstd')) assert.ok(Buffer.from(fzstdDecompress(body)).equals(data));
  }
});

test('raw: the bytes as they are, no copy', async () => {
  const data = sample(100, 1);
  assert.is(await encode('raw', data), data);
});

test.run();
