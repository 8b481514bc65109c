import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vec3 } from '../../src/core/geometry.ts';
import { storedLayout } from '../../src/core/layout.ts';
import { RowMarkers } from '../../src/zarr/markers.ts';
import { readShardIndex, indexRange } from '../../src/zarr/shard.ts';
import { ShardAssembler } from '../../src/zarr/shard-assembler.ts';
import { FileSystemStore } from '../../src/zarr/stores/filesystem.ts';
import type { Store } from '../../src/zarr/stores/types.ts';
import { withOverrides } from '../lib/stores.ts';

// 5×3×2 chunks of 2³ in shards of 2×2×2 chunks: shards at the far x and y edges hold fewer inner chunks.
const layout = storedLayout({ shape: [10, 6, 4], chunk: [2, 2, 2], shard: [4, 4, 4], inputOrder: 'F' });

function chunksOf(shard: Vec3): Vec3[] {
  const out: Vec3[] = [];
  for (let z = shard[2] * 2; z < Math.min(2, shard[2] * 2 + 2); z++)
    for (let y = shard[1] * 2; y < Math.min(3, shard[1] * 2 + 2); y++)
      for (let x = shard[0] * 2; x < Math.min(5, shard[0] * 2 + 2); x++) out.push([x, y, z]);
  return out;
}

/** Where an inner chunk sits in its shard's index, from the spec: C order over the stored (z, y, x) inner grid. */
const specSlot = (c: Vec3): number => ((c[2] % 2) * 2 + (c[1] % 2)) * 2 + (c[0] % 2);

test('property: a shard is handed back once its last inner chunk is in, whatever order they are encoded in', () => {
  const shard: Vec3 = [2, 1, 0];
  const chunks = chunksOf(shard);
  fc.assert(fc.property(fc.shuffledSubarray([...chunks.keys()], { minLength: chunks.length }), fc.integer({ min: 0, max: chunks.length - 1 }), (order, fill) => {
    const shards = new ShardAssembler(layout, 3, 'end');
    const slots = chunks.map((c) => shards.claim(c));
    assert.ok(slots.every((s) => s.key === 'c/0/1/2'));
    for (const [n, i] of order.entries()) {
      const done = shards.fill(slots[i]!, i === fill ? undefined : Uint8Array.of(i + 1));
      if (n < order.length - 1) {
        assert.is(done, null);
        continue;
      }
      const file = Buffer.concat(done!.parts!);
      const [start, end] = indexRange(file.length, layout.chunksPerShard, 'end');
      const entries = readShardIndex(file.subarray(start, end), layout.chunksPerShard);
      chunks.forEach((c, k) => {
        const entry = entries[specSlot(c)];
        if (k === fill) assert.is(entry, undefined, 'all-fill chunk absent');
        else assert.equal([...file.subarray(entry!.offset, entry!.offset + entry!.nbytes)], [k + 1]);
      });
      // Slots past the grid's edge (x = 5, y = 3 do not exist) stay absent.
      assert.is(entries.filter((e) => e !== undefined).length, chunks.length - 1);
    }
    assert.equal(shards.incomplete(), []);
    return true;
  }));
});

test('a shard whose every inner chunk is fill has no parts; a shard cut short stays incomplete', () => {
  const shards = new ShardAssembler(layout, 3, 'start');
  const slots = chunksOf([1, 0, 0]).map((c) => shards.claim(c));
  slots.slice(0, -1).forEach((s) => assert.is(shards.fill(s, undefined), null));
  assert.equal(shards.fill(slots.at(-1)!, undefined), { parts: undefined });
  shards.claim([0, 2, 0]);
  assert.equal(shards.incomplete(), ['c/0/1/0']);
});

test('row markers: each row marked once, right after its last file, with rows interleaved', async () => {
  const written: string[] = [];
  const store: Store = withOverrides(new FileSystemStore(join(tmpdir(), 'slabchunk-never-written')), {
    location: 'memory', set: async (key) => { written.push(key); },
  });
  const tall = storedLayout({ shape: [10, 6, 8], chunk: [2, 2, 2], shard: [4, 4, 4], inputOrder: 'F' });
  const markers = new RowMarkers(store, tall);
  assert.is(tall.filesPerRow, 3 * 2);
  const files: Vec3[] = [];
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) files.push([x, y, 0], [x, y, 1]);
  for (const [n, file] of files.entries()) {
    await markers.fileDone(file);
    // Row 0's sixth file is the eleventh done, row 1's the twelfth.
    assert.equal(written, n < 10 ? [] : n === 10 ? ['.slabchunk/rows/0'] : ['.slabchunk/rows/0', '.slabchunk/rows/1'], `after file ${n}`);
  }
});

test.run();
