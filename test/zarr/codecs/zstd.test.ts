import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decompress as fzstdDecompress } from 'fzstd';
import Zstd from 'numcodecs/zstd';
import { withContentSize } from '../../../src/zarr/codecs/zstd.ts';
import { refXxh64 } from '../../lib/xxh64.ts';
import { encode, sample } from './lib.ts';

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

test('zstd:L:checksum: the frame carries the low 32 bits of XXH64(content) and zstd decoders verify it', async () => {
  assert.is(refXxh64(new Uint8Array(0)), 0xef46db3751d8e999n, 'reference matches XXH64 of the empty input');
  assert.is(refXxh64(Buffer.from('a')), 0xd24ec4f1a98c6e5bn, 'reference matches XXH64("a")');
  const numcodecs = Zstd.fromConfig({ level: 3 });
  for (const n of [0, 3, 31, 32, 33, 70_000]) {
    const data = sample(n, 11 + n);
    const plain = await encode('zstd:3', data);
    const out = await encode('zstd:3:checksum', data);
    assert.is(out[4]! & 0b100, 0b100, `Content_Checksum_flag, n=${n}`);
    assert.is(out.length, plain.length + 4);
    assert.is(out.readUInt32LE(out.length - 4), Number(refXxh64(data) & 0xffff_ffffn), `checksum, n=${n}`);
    assert.ok(Buffer.from(fzstdDecompress(out)).equals(data), `fzstd decodes n=${n}`);
    assert.ok(Buffer.from(await numcodecs.decode(out)).equals(data), `numcodecs decodes n=${n}`);
    const bad = Buffer.from(out);
    bad[bad.length - 1]! ^= 0x10;
    await numcodecs.decode(bad).then(() => assert.unreachable(`flipped checksum accepted, n=${n}`), (e: Error) => assert.match(e.message, /checksum/));
  }
});

test.run();
