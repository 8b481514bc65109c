/**
 * Pyramid levels against the rule stated in issue 12, re-implemented here step by step on one axis at a time,
 * plus hand-worked examples (isotropic, anisotropic light-sheet, a thin volume) and the errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { SlabchunkError } from '../../src/core/errors.ts';
import type { Vec3 } from '../../src/core/geometry.ts';
import { planPyramid } from '../../src/core/pyramid.ts';

test('isotropic 1000×600×300 in 64³ chunks: every axis halved while larger than a chunk (z stops at 38)', () => {
  const { levels } = planPyramid({ shape: [1000, 600, 300], chunk: [64, 64, 64], voxelSize: [1, 1, 1], levels: 'auto' });
  assert.equal(levels.map((l) => l.shape), [[1000, 600, 300], [500, 300, 150], [250, 150, 75], [125, 75, 38], [63, 38, 38]]);
  assert.equal(levels.map((l) => l.factor), [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 1]]);
  assert.equal(levels[4]!.voxelSize, [16, 16, 8]);
  assert.equal(levels.map((l) => l.chunk), [[64, 64, 64], [64, 64, 64], [64, 64, 64], [64, 64, 38], [63, 38, 38]]);
});

test('anisotropic light-sheet 0.4,0.4,2.0: z waits until x and y are within 1.5× of it', () => {
  const { levels } = planPyramid({ shape: [2048, 2048, 512], chunk: [64, 64, 64], voxelSize: [0.4, 0.4, 2], levels: 'auto' });
  assert.equal(levels.map((l) => l.factor), [[1, 1, 1], [2, 2, 1], [2, 2, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]]);
  assert.equal(levels.map((l) => l.voxelSize), [[0.4, 0.4, 2], [0.8, 0.8, 2], [1.6, 1.6, 2], [3.2, 3.2, 4], [6.4, 6.4, 8], [12.8, 12.8, 16]]);
  assert.equal(levels.at(-1)!.shape, [64, 64, 64]);
});

test('levels N caps the count, with a note when auto stops sooner; shards clip to the chunk grid', () => {
  const base = { shape: [300, 300, 100] as Vec3, chunk: [64, 64, 64] as Vec3, shard: [256, 256, 128] as Vec3, voxelSize: [1, 1, 1] as Vec3 };
  assert.is(planPyramid({ ...base, levels: 2 }).levels.length, 2);
  assert.is(planPyramid({ ...base, levels: 2 }).note, undefined);
  const many = planPyramid({ ...base, levels: 9 });
  assert.is(many.levels.length, 4);
  assert.match(many.note!, /9 levels asked, 4 made: every axis of level 3 fits in one chunk/);
  // z fits one chunk from level 1 on and stays 50.
  assert.equal(many.levels.map((l) => l.shape), [[300, 300, 100], [150, 150, 50], [75, 75, 50], [38, 38, 50]]);
  assert.equal(many.levels.map((l) => l.chunk), [[64, 64, 64], [64, 64, 50], [64, 64, 50], [38, 38, 50]]);
  assert.equal(many.levels.map((l) => l.shard), [[256, 256, 128], [192, 192, 50], [128, 128, 50], [38, 38, 50]]);
  assert.is(planPyramid({ ...base, levels: 1 }).levels.length, 1);
});

test('errors name the bad levels or voxel size', () => {
  const base = { shape: [10, 10, 10] as Vec3, chunk: [4, 4, 4] as Vec3, voxelSize: [1, 1, 1] as Vec3 };
  for (const [levels, voxelSize, message] of [[0, [1, 1, 1], /levels must be auto or a whole number/], [1.5, [1, 1, 1], /levels must be/],
    ['auto', [1, 0, 1], /voxel size must be three positive numbers X,Y,Z. Got: 1,0,1/], ['auto', [1, Number.NaN, 1], /voxel size/]] as const) {
    assert.throws(() => planPyramid({ ...base, levels: levels as never, voxelSize: voxelSize as unknown as Vec3 }),
      (e: SlabchunkError) => e instanceof SlabchunkError && e.code === 'EINVALID' && message.test(e.message));
  }
});

/** The rule, written out per level and axis as the issue states it. */
function referenceLevels(shape: Vec3, chunk: Vec3, voxel: Vec3): { shape: number[]; voxel: number[] }[] {
  const out = [{ shape: [...shape], voxel: [...voxel] }];
  for (;;) {
    const prev = out[out.length - 1]!;
    const larger = [0, 1, 2].filter((a) => prev.shape[a]! > chunk[a]!);
    if (larger.length === 0) return out;
    const smallest = Math.min(...larger.map((a) => prev.voxel[a]!));
    const halve = (a: number) => prev.shape[a]! > chunk[a]! && prev.voxel[a]! < 1.5 * smallest;
    out.push({
      shape: [0, 1, 2].map((a) => (halve(a) ? Math.ceil(prev.shape[a]! / 2) : prev.shape[a]!)),
      voxel: [0, 1, 2].map((a) => (halve(a) ? prev.voxel[a]! * 2 : prev.voxel[a]!)),
    });
  }
}

test('property: auto levels follow the rule on any shape, chunk and voxel size, and end with every axis in one chunk', () => {
  const axis = fc.integer({ min: 1, max: 5000 });
  const size = fc.constantFrom(0.1, 0.25, 0.4, 1, 1.2, 2, 3, 5);
  fc.assert(fc.property(fc.tuple(axis, axis, axis), fc.tuple(fc.integer({ min: 1, max: 128 }), fc.integer({ min: 1, max: 128 }), fc.integer({ min: 1, max: 128 })),
    fc.tuple(size, size, size), (shape, chunk, voxel) => {
      const { levels } = planPyramid({ shape, chunk, voxelSize: voxel, levels: 'auto' });
      const want = referenceLevels(shape, chunk, voxel);
      assert.equal(levels.map((l) => [...l.shape]), want.map((w) => w.shape));
      assert.equal(levels.map((l) => [...l.voxelSize]), want.map((w) => w.voxel));
      assert.ok(levels.at(-1)!.shape.every((s, a) => s <= chunk[a]!));
    }));
});

test.run();
