import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { Order, Vec3 } from '../../src/core/geometry.ts';
import { layoutOfStored, storedLayout } from '../../src/core/layout.ts';

// ---- a naive reference, written from DESIGN.md's words, per chunk ----

/** DESIGN.md: F input is stored as [Z, Y, X] named z,y,x; C input as [X, Y, Z] named x,y,z. */
function storedAxes(v: Vec3, order: Order): Vec3 {
  return order === 'F' ? [v[2], v[1], v[0]] : [v[0], v[1], v[2]];
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

interface Geometry { shape: Vec3; chunk: Vec3; per: Vec3; order: Order }

const geometry: fc.Arbitrary<Geometry> = fc.record({
  shape: fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 })),
  chunk: fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 })),
  per: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  order: fc.constantFrom<Order>('F', 'C'),
});

function eachChunk(shape: Vec3, chunk: Vec3, fn: (c: Vec3) => void): void {
  const g = [0, 1, 2].map((a) => ceilDiv(shape[a]!, chunk[a]!));
  for (let z = 0; z < g[2]!; z++) for (let y = 0; y < g[1]!; y++) for (let x = 0; x < g[0]!; x++) fn([x, y, z]);
}

test('property: stored shape, keys, shards, slots and rows match the per-chunk reference', () => {
  fc.assert(fc.property(geometry, fc.boolean(), ({ shape, chunk, per, order }, sharded) => {
    const shard: Vec3 | undefined = sharded ? [chunk[0] * per[0], chunk[1] * per[1], chunk[2] * per[2]] : undefined;
    const layout = storedLayout({ shape, chunk, shard, inputOrder: order });
    assert.equal(layout.stored.shape, storedAxes(shape, order));
    assert.equal(layout.stored.chunks, storedAxes(chunk, order));
    assert.equal(layout.stored.dimensionNames, order === 'F' ? ['z', 'y', 'x'] : ['x', 'y', 'z']);
    if (shard) assert.equal(layout.stored.shard, storedAxes(shard, order));
    const p: Vec3 = shard ? per : [1, 1, 1];
    const storedPer = storedAxes(p, order);
    // The slab axis: z for F input, x for C input; rows are chunk-rows (shard-rows) along it.
    const slab = order === 'F' ? 2 : 0;
    assert.is(layout.rowsTotal, ceilDiv(ceilDiv(shape[slab], chunk[slab]), p[slab]));
    const inShard = new Map<string, number>();
    const filesOfRow = new Map<number, Set<string>>();
    eachChunk(shape, chunk, (c) => {
      const s = storedAxes(c, order);
      assert.is(layout.key(c, 3), `c/${s.join('/')}`);
      assert.is(layout.key(c, 2), s.join('/'));
      assert.equal(layout.toStored(c), s);
      assert.equal(layout.fromStored(s), c);
      const file: Vec3 = [Math.floor(c[0] / p[0]), Math.floor(c[1] / p[1]), Math.floor(c[2] / p[2])];
      assert.equal(layout.fileOf(c), file);
      // The slot: C order over the inner grid in stored axes (sharding_indexed's index order).
      const inner = storedAxes([c[0] - file[0] * p[0], c[1] - file[1] * p[1], c[2] - file[2] * p[2]], order);
      assert.is(layout.slot(c), (inner[0] * storedPer[1] + inner[1]) * storedPer[2] + inner[2]);
      const key = layout.key(file, 3);
      inShard.set(key, (inShard.get(key) ?? 0) + 1);
      assert.is(layout.rowOf(file), file[slab]);
      if (!filesOfRow.has(file[slab])) filesOfRow.set(file[slab], new Set());
      filesOfRow.get(file[slab])!.add(key);
      assert.is(layout.describe(c, 3), shard ? `${key} inner ${inner.join('/')}` : key);
    });
    eachChunk(shape, shard ?? chunk, (f) => assert.is(layout.chunksIn(f), inShard.get(layout.key(f, 3)), `chunks in ${f}`));
    for (const files of filesOfRow.values()) assert.is(files.size, layout.filesPerRow);
    assert.is(layout.chunksPerShard, p[0] * p[1] * p[2]);
    return true;
  }));
});

test('property: rowCuts lists every chunk of the row once, files in Fortran order over the file grid, chunks in Fortran order inside', () => {
  fc.assert(fc.property(geometry, fc.boolean(), ({ shape, chunk, per, order }, sharded) => {
    const shard: Vec3 | undefined = sharded ? [chunk[0] * per[0], chunk[1] * per[1], chunk[2] * per[2]] : undefined;
    const layout = storedLayout({ shape, chunk, shard, inputOrder: order });
    // The file frame: the caller's axes for F input, reversed for C input.
    const toFile = (v: Vec3): Vec3 => (order === 'F' ? v : [v[2], v[1], v[0]]);
    const fShape = toFile(shape), fChunk = toFile(chunk), fPer = toFile(shard ? per : [1, 1, 1]);
    const fGrid = [0, 1, 2].map((a) => ceilDiv(fShape[a]!, fChunk[a]!)) as unknown as Vec3;
    const seen: string[] = [];
    for (let row = 0; row < layout.rowsTotal; row++) {
      // Reference order: files (x fastest, then y) of this row, each file's chunks x fastest, then y, then z.
      const expected: Vec3[] = [];
      for (let sy = 0; sy < ceilDiv(fGrid[1], fPer[1]); sy++) for (let sx = 0; sx < ceilDiv(fGrid[0], fPer[0]); sx++) {
        for (let gz = row * fPer[2]; gz < Math.min(fGrid[2], (row + 1) * fPer[2]); gz++)
          for (let gy = sy * fPer[1]; gy < Math.min(fGrid[1], (sy + 1) * fPer[1]); gy++)
            for (let gx = sx * fPer[0]; gx < Math.min(fGrid[0], (sx + 1) * fPer[0]); gx++) expected.push([gx, gy, gz]);
      }
      const cuts = layout.rowCuts(row);
      assert.equal(cuts.map((c) => toFile(c.coords)), expected);
      for (const cut of cuts) {
        const f = toFile(cut.coords);
        assert.equal(cut.start, [f[0] * fChunk[0], f[1] * fChunk[1], f[2] * fChunk[2]]);
        assert.equal(cut.size, [0, 1, 2].map((a) => Math.min(fChunk[a]!, fShape[a]! - cut.start[a]!)));
        assert.equal(cut.shape, toFile(cut.size));
        const g = [0, 1, 2].map((a) => ceilDiv(shape[a]!, chunk[a]!));
        assert.is(cut.index, cut.coords[0] + g[0]! * (cut.coords[1] + g[1]! * cut.coords[2]), 'Fortran index over the caller grid');
        seen.push(cut.coords.join(','));
      }
    }
    assert.is(new Set(seen).size, seen.length, 'no chunk twice');
    let total = 0;
    eachChunk(shape, chunk, () => total++);
    assert.is(seen.length, total, 'every chunk');
    return true;
  }));
});

test('layoutOfStored reads back what storedLayout made; dimension names x,y,z mean a C input', () => {
  fc.assert(fc.property(geometry, fc.boolean(), ({ shape, chunk, per, order }, sharded) => {
    const shard: Vec3 | undefined = sharded ? [chunk[0] * per[0], chunk[1] * per[1], chunk[2] * per[2]] : undefined;
    const a = storedLayout({ shape, chunk, shard, inputOrder: order });
    const b = layoutOfStored({ ...a.stored });
    assert.equal([b.shape, b.chunk, b.shard, b.inputOrder], [shape, chunk, shard, order]);
    return true;
  }));
  // A store with other (or no) dimension names is read as F: its stored axes reversed.
  const other = layoutOfStored({ shape: [4, 5, 6], chunks: [2, 2, 2], dimensionNames: ['t', 'y', 'x'] });
  assert.equal([other.shape, other.inputOrder], [[6, 5, 4], 'F']);
});

test.run();
