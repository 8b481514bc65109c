/**
 * The pyramid cascade against the naive reference applied level by level to whole volumes: every level's slabs
 * arrive once, in z order, equal to the reference; odd depths at every level, anisotropic voxels (z kept while x
 * and y catch up), every method, integer, float and 64-bit dtypes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytesPerElement, typedArray, typedView, type DType } from '../../src/core/dtype.ts';
import { DOWNSAMPLE_METHODS } from '../../src/core/downsample.ts';
import type { Vec3 } from '../../src/core/geometry.ts';
import { planPyramid } from '../../src/core/pyramid.ts';
import { pyramidCascade } from '../../src/stream/cascade.ts';
import { reference, values, type V } from '../lib/downsample-reference.ts';

const CASES: { shape: Vec3; chunk: Vec3; voxel: Vec3 }[] = [
  { shape: [13, 11, 9], chunk: [2, 2, 2], voxel: [1, 1, 1] },
  { shape: [17, 6, 23], chunk: [4, 4, 2], voxel: [0.4, 0.4, 2] },
  { shape: [8, 8, 1], chunk: [2, 2, 1], voxel: [1, 1, 1] },
  { shape: [5, 30, 7], chunk: [1, 3, 1], voxel: [1, 1, 1.2] },
];

test('every level equals the reference reduced level by level; slabs once each, in z order', () => {
  let seed = 7;
  for (const dtype of ['uint16', 'int8', 'float32', 'int64', 'bool'] as DType[]) for (const method of DOWNSAMPLE_METHODS) for (const c of CASES) {
    const plan = planPyramid({ shape: c.shape, chunk: c.chunk, voxelSize: c.voxel, levels: 'auto' });
    assert.ok(plan.levels.length >= 2, 'a pyramid to test');
    const [X, Y, Z] = c.shape;
    const data = values(dtype, X * Y * Z, seed++, seed % 2 === 0);
    const volume = typedArray(dtype, X * Y * Z);
    data.forEach((v, i) => { volume[i] = v as never; });
    const size = bytesPerElement(dtype);
    const got = plan.levels.map(() => [] as V[]);
    const order = plan.levels.map(() => [] as number[]);
    const cascade = pyramidCascade(plan.levels, dtype, method, (level, z, slab) => {
      order[level]!.push(z);
      got[level]!.push(...(typedView(dtype, slab.buffer, slab.byteOffset, slab.length / size) as unknown as Iterable<V>));
    });
    const bytes = new Uint8Array(volume.buffer);
    for (let z = 0; z < Z; z++) cascade.push(bytes.subarray(z * X * Y * size, (z + 1) * X * Y * size));
    cascade.end();
    let want = data;
    for (let l = 1; l < plan.levels.length; l++) {
      const previous = plan.levels[l - 1]!.shape;
      want = reference(method, dtype, want, [previous[0], previous[1], previous[2]], [...plan.levels[l]!.factor] as [number, number, number]);
      const label = `${method} ${dtype} ${c.shape.join('×')} level ${l}`;
      assert.equal(order[l], Array.from({ length: plan.levels[l]!.shape[2] }, (_, z) => z), `${label}: slabs in order, once`);
      assert.equal(got[l], want, label);
    }
  }
});

test.run();
