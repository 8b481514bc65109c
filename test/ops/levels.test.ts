/**
 * The row arithmetic of pyramids, against brute force over slabs: which output slabs a row completes (and what it
 * carries), which rows feed which, which rows a run can make, how parts are aligned and what finish must read.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { Vec3 } from '../../src/core/geometry.ts';
import { childRows, parentRow, slabPairs, type LevelRows } from '../../src/core/pyramid.ts';
import { alignedPartRows, levelLayouts, levelSpecs, rangesOf, rowsToMake, rowsToRead } from '../../src/ops/levels.ts';
import { resolveConvertOptions } from '../../src/ops/options.ts';

test('slabPairs over consecutive rows: every output slab once, from slabs 2j and 2j+1 (or j), carried exactly across rows', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom<1 | 2>(1, 2), (Z, depth, fz) => {
    const seen: number[] = [];
    let carried: number | null = null;
    for (let z0 = 0; z0 < Z; z0 += depth) {
      const z1 = Math.min(Z, z0 + depth);
      const { pairs, keep } = slabPairs(z0, z1, Z, fz);
      for (const p of pairs) {
        seen.push(p.out);
        assert.is(p.first, fz * p.out);
        assert.is(p.second, fz === 2 && 2 * p.out + 1 < Z ? 2 * p.out + 1 : null);
        assert.is(p.carried, p.first < z0);
        if (p.carried) assert.is(carried, p.first, 'the carried slab is the one kept by the row before');
        else assert.ok(p.first >= z0 && p.first < z1);
        if (p.second !== null) assert.ok(p.second >= z0 && p.second < z1);
      }
      carried = keep;
    }
    assert.is(carried, null, 'nothing is left carried at the end');
    assert.equal(seen, Array.from({ length: Math.ceil(Z / fz) }, (_, j) => j));
  }));
});

/** The levels' rows of a pyramid as convert plans it. */
function levelRowsOf(shape: Vec3, chunk: Vec3, shard: Vec3 | undefined, voxel: Vec3): LevelRows[] {
  const o = resolveConvertOptions({ shape, chunk, ...(shard ? { shard } : {}), ome: true, voxelSize: voxel });
  return levelLayouts(o, levelSpecs(o).levels).map((l) => l.rows);
}

const pyramids = fc.record({
  shape: fc.tuple(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 90 })),
  chunk: fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })),
  shardZ: fc.integer({ min: 0, max: 3 }),
  voxelZ: fc.constantFrom(1, 1.2, 2, 5),
}).map(({ shape, chunk, shardZ, voxelZ }) => levelRowsOf(shape as Vec3, chunk as Vec3, shardZ > 0 ? [chunk[0], chunk[1], chunk[2] * shardZ] : undefined, [1, 1, voxelZ]));

const total = (r: LevelRows) => Math.ceil(r.slabs / r.depth);

test('childRows partitions the rows above; parentRow inverts it; a row\'s output slabs stay in its parent row', () => {
  fc.assert(fc.property(pyramids, (rows) => {
    for (let l = 1; l < rows.length; l++) {
      const covered: number[] = [];
      for (let p = 0; p < total(rows[l]!); p++) {
        const [c0, c1] = childRows(rows[l - 1]!, rows[l]!, p);
        for (let c = c0; c < c1; c++) {
          covered.push(c);
          assert.is(parentRow(rows[l - 1]!, rows[l]!, c), p);
          const z0 = c * rows[l - 1]!.depth;
          const z1 = Math.min(rows[l - 1]!.slabs, z0 + rows[l - 1]!.depth);
          for (const pair of slabPairs(z0, z1, rows[l - 1]!.slabs, rows[l]!.fz).pairs) {
            assert.is(Math.floor(pair.out / rows[l]!.depth), p, `level ${l}: slab ${pair.out} of row ${c} lands in row ${p}`);
          }
        }
      }
      assert.equal(covered, Array.from({ length: total(rows[l - 1]!) }, (_, i) => i));
    }
  }));
});

test('rowsToMake: all of level 0 makes every row; a row with one child already done (not fed) is not made', () => {
  fc.assert(fc.property(pyramids, fc.integer({ min: 0, max: 1000 }), (rows, pick) => {
    const none = rows.map(() => new Set<number>());
    const all = Array.from({ length: total(rows[0]!) }, (_, i) => i);
    const make = rowsToMake(rows, 0, all, none);
    for (let l = 1; l < rows.length; l++) assert.is(make[l]!.size, total(rows[l]!));
    const skip = pick % all.length;
    const partial = rowsToMake(rows, 0, all.filter((r) => r !== skip), none);
    for (let l = 1; l < rows.length; l++) {
      let lo = skip;
      for (let k = 1; k <= l; k++) lo = parentRow(rows[k - 1]!, rows[k]!, lo);
      assert.not.ok(partial[l]!.has(lo), `level ${l}: row ${lo} made without row ${skip} of level 0`);
      assert.is(partial[l]!.size, total(rows[l]!) - 1);
    }
  }));
});

test('alignedPartRows: parts partition level 0 on row boundaries of the coarsest level every part can complete', () => {
  fc.assert(fc.property(pyramids, fc.integer({ min: 1, max: 40 }), (rows, count) => {
    const none = rows.map(() => new Set<number>());
    const ranges = Array.from({ length: count }, (_, i) => alignedPartRows(rows, i, count));
    let at = 0;
    for (const [a, b] of ranges) {
      assert.is(a, at);
      assert.ok(b >= a);
      at = b;
    }
    assert.is(at, total(rows[0]!));
    // The levels the parts complete between them: every row made by exactly one part.
    const made = rows.map(() => 0);
    for (const [a, b] of ranges) {
      const make = rowsToMake(rows, 0, Array.from({ length: b - a }, (_, i) => a + i), none);
      make.forEach((m, l) => { made[l]! += m?.size ?? 0; });
    }
    const complete = rows.filter((r, l) => l > 0 && made[l] === total(r)).length;
    // As many levels as the count allows: the level above the last complete one has fewer rows than parts.
    if (complete + 1 < rows.length && count <= total(rows[0]!)) assert.ok(total(rows[complete + 1]!) < count, `level ${complete + 1} has rows enough for ${count} parts but was left`);
    // Then finish reads only the coarsest complete level's rows under unmade rows.
    const done = rows.map((r, l) => new Set(l <= complete ? Array.from({ length: total(r) }, (_, i) => i) : []));
    if (complete + 1 < rows.length) assert.ok(rowsToRead(rows, complete, done, 'store')!.length > 0);
  }));
});

test('rowsToRead refuses unfinished parts, naming the rows', () => {
  const rows = levelRowsOf([64, 64, 64], [8, 8, 8], undefined, [1, 1, 1]);
  const done = rows.map(() => new Set<number>());
  for (const r of [0, 1, 2, 5]) done[0]!.add(r);
  assert.throws(() => rowsToRead(rows, 0, done, 'S'), /rows 3-4,6-7 of level 0 are not converted yet/);
  assert.is(rangesOf([0, 1, 2, 4, 7, 8]), '0-2,4,7-8');
});

test.run();
