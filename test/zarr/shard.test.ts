import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { assembleShard, indexBytes, indexRange, readShardIndex } from '../../src/zarr/shard.ts';
import { refCrc32c } from '../lib/crc32c.ts';

/** Parses a shard per the sharding-indexed spec, independently of the writer: the inner chunks' bytes by index. */
function parseShard(shard: Buffer, count: number, location: 'start' | 'end'): (Buffer | undefined)[] {
  const size = indexBytes(count);
  const at = location === 'start' ? 0 : shard.length - size;
  const view = new DataView(shard.buffer, shard.byteOffset + at, size);
  const crc = view.getUint32(count * 16, true);
  assert.is(crc, refCrc32c(shard.subarray(at, at + count * 16)), 'index CRC32C');
  const out: (Buffer | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const offset = view.getBigUint64(i * 16, true);
    const nbytes = view.getBigUint64(i * 16 + 8, true);
    if (offset === 0xffffffffffffffffn) {
      assert.is(nbytes, 0xffffffffffffffffn, 'absent entries have both fields 2^64-1');
      out.push(undefined);
      continue;
    }
    out.push(shard.subarray(Number(offset), Number(offset + nbytes)));
  }
  return out;
}

test('property: a shard parses back to its inner chunks, index at start or end, absent ones marked; readShardIndex agrees', () => {
  fc.assert(fc.property(
    fc.array(fc.option(fc.uint8Array({ minLength: 0, maxLength: 40 }), { nil: undefined }), { minLength: 1, maxLength: 30 }),
    fc.constantFrom<'start' | 'end'>('start', 'end'),
    (chunks, location) => {
      const parts = assembleShard(chunks, location);
      const shard = parts && Buffer.concat(parts);
      if (chunks.every((c) => c === undefined)) return shard === undefined;
      assert.ok(shard);
      const parsed = parseShard(shard, chunks.length, location);
      chunks.forEach((c, i) => {
        if (c === undefined) assert.is(parsed[i], undefined);
        else assert.ok(Buffer.from(c).equals(parsed[i]!), `inner chunk ${i}`);
      });
      const total = chunks.reduce((n, c) => n + (c?.length ?? 0), 0);
      assert.is(shard.length, total + indexBytes(chunks.length), 'no bytes besides the chunks and the index');
      // Our own reader of the index (what `info` uses) finds the same chunks as the independent parse.
      const [start, end] = indexRange(shard.length, chunks.length, location);
      readShardIndex(shard.subarray(start, end), chunks.length).forEach((entry, i) => {
        if (entry === undefined) assert.is(parsed[i], undefined);
        else assert.ok(shard.subarray(entry.offset, entry.offset + entry.nbytes).equals(parsed[i]!));
      });
      return true;
    },
  ));
});

test('exact bytes of a small shard (index at the end)', () => {
  const shard = Buffer.concat(assembleShard([Buffer.from([1, 2]), undefined, Buffer.from([3])], 'end')!);
  const expected = Buffer.alloc(3 + 3 * 16 + 4);
  expected.set([1, 2, 3], 0);
  expected.writeBigUInt64LE(0n, 3); expected.writeBigUInt64LE(2n, 11);
  expected.writeBigUInt64LE(2n ** 64n - 1n, 19); expected.writeBigUInt64LE(2n ** 64n - 1n, 27);
  expected.writeBigUInt64LE(2n, 35); expected.writeBigUInt64LE(1n, 43);
  expected.writeUInt32LE(refCrc32c(expected.subarray(3, 51)), 51);
  assert.ok(shard.equals(expected));
});

test.run();
