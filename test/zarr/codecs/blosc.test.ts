import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import Blosc from 'numcodecs/blosc';
import type { ElementSize } from '../../../src/core/dtype.ts';
import { bitShuffle, byteShuffle } from '../../../src/zarr/codecs/blosc.ts';
import { encode, sample } from './lib.ts';

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

test.run();
