import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Vec3 } from '../../src/core/geometry.ts';
import { storedLayout } from '../../src/core/layout.ts';
import { RowMarkers } from '../../src/zarr/markers.ts';
import { readShardIndex, indexRange } from '../../src/zarr/shard.ts';
import { ShardAssembler } from '../../src/zarr/shard-assembler.ts';
import type { Store } from '../../src/zarr/stores/types.ts';

// 5×3×2 chunks of 2³ in shards of 2×2×2 chunks: shards at the far x and y edges hold fewer inner chunks.
const layout = storedLayout({ shape: [10, 6, 4], chunk: [2, 2, 2], shard: [4, 4, 4], inputOrder: 'F' });

function chunksOf(shard: Vec3): Vec3[] {
  const out: Vec3[] = [];
  for (let z = shard[2] * 2; z < Math.min(2, shard[2] * 2 + 2); z++)
    for (let y = shard[1] * 2; y < Math.min(3, shard[1] * 2 + 2); y++)
      for (let x = shard[0] * 2; x < Math.min(5, shard[0] * 2 + 2); x++) out.push([x, y, z]);
  return out;
}

test('a shard is handed back once its last inner chunk is in, whatever order they are encoded in', () => {
  const shards = new ShardAssembler(layout, 3, 'end');
  for (const shard of [[0, 0, 0], [2, 1, 0]] as Vec3[]) {
    const chunks = chunksOf(shard);
    const slots = chunks.map((c) => shards.claim(c));
    assert.ok(slots.every((s) => s.key === `c/${shard[2]}/${shard[1]}/${shard[0]}`));
    // Encodings finish in reverse order; the one that completes the shard gets its parts.
    const order = [...slots.keys()].reverse();
    for (const [n, i] of order.entries()) {
      const done = shards.fill(slots[i]!, i === 1 ? undefined : Uint8Array.of(i + 1));
      if (n < order.length - 1) {
        assert.is(done, null);
        continue;
      }
      const file = Buffer.concat(done!.parts!);
      const [start, end] = indexRange(file.length, layout.chunksPerShard, 'end');
      const entries = readShardIndex(file.subarray(start, end), layout.chunksPerShard);
      slots.forEach((slot, k) => {
        if (k === 1) assert.is(entries[slot.slot], undefined, 'all-fill chunk absent');
        else assert.equal([...file.subarray(entries[slot.slot]!.offset, entries[slot.slot]!.offset + entries[slot.slot]!.nbytes)], [k + 1]);
      });
    }
  }
  assert.equal(shards.incomplete(), []);
});

test('a shard whose every inner chunk is fill has no parts; a shard cut short stays incomplete', () => {
  const shards = new ShardAssembler(layout, 3, 'start');
  const slots = chunksOf([1, 0, 0]).map((c) => shards.claim(c));
  slots.slice(0, -1).forEach((s) => assert.is(shards.fill(s, undefined), null));
  assert.equal(shards.fill(slots.at(-1)!, undefined), { parts: undefined });
  shards.claim([0, 2, 0]);
  assert.equal(shards.incomplete(), ['c/0/1/0']);
});

test('row markers: written once, after the last file of the row, not before', async () => {
  const written: string[] = [];
  const store: Store = {
    location: 'memory', get: async () => undefined, has: async () => false, list: async () => [],
    set: async (key) => { written.push(key); },
  };
  const markers = new RowMarkers(store, layout);
  assert.is(layout.filesPerRow, 3 * 2);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) {
    assert.equal(written, []);
    await markers.fileDone([x, y, 0]);
  }
  assert.equal(written, ['.slabchunk/rows/0']);
});

test.run();
