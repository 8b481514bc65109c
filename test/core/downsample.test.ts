/**
 * The downsampling kernels against the naive reference of test/lib/downsample-reference.ts (voxel by voxel,
 * integer means in BigInt). Every method × dtype × odd and even shapes × factor combination, with value ranges
 * that make ties (mode), negatives and 64-bit extremes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DTYPES, typedArray, type TypedArray } from '../../src/core/dtype.ts';
import { DOWNSAMPLE_METHODS, downsampledPlane, downsampleSlab } from '../../src/core/downsample.ts';
import { reference, values, type V } from '../lib/downsample-reference.ts';

const SHAPES: [number, number, number][] = [[5, 4, 3], [6, 7, 2], [1, 1, 1], [9, 2, 5], [2, 9, 4], [8, 8, 8]];
const FACTORS: [1 | 2, 1 | 2, 1 | 2][] = [[2, 2, 2], [2, 2, 1], [1, 1, 2], [2, 1, 1], [1, 2, 2]];

test('every method, dtype, shape and factor equals the voxel-by-voxel reference', () => {
  let seed = 1;
  for (const dtype of DTYPES) for (const method of DOWNSAMPLE_METHODS) for (const shape of SHAPES) for (const f of FACTORS) for (const narrow of [true, false]) {
    const [X, Y, Z] = shape;
    const data = values(dtype, X * Y * Z, seed++, narrow);
    const volume = typedArray(dtype, X * Y * Z);
    data.forEach((v, i) => { volume[i] = v as never; });
    const plane = downsampledPlane([X, Y], f[0], f[1]);
    const got: V[] = [];
    for (let z = 0; z < Z; z += f[2]) {
      const slabs: TypedArray[] = [];
      for (let k = z; k < Math.min(Z, z + f[2]); k++) slabs.push(volume.subarray(k * X * Y, (k + 1) * X * Y) as TypedArray);
      const out = typedArray(dtype, plane[0] * plane[1]);
      downsampleSlab(method, dtype, slabs, [X, Y], f[0], f[1], out);
      got.push(...(out as unknown as Iterable<V>));
    }
    const want = reference(method, dtype, data, shape, f);
    const label = `${method} ${dtype} ${shape.join('×')} by ${f.join('×')}${narrow ? ' (narrow values)' : ''}`;
    assert.equal(got, want, label);
  }
});

test('mean rounds half up, exactly, at the edges of 64-bit and with negative sums', () => {
  const max = 2n ** 63n - 1n;
  const out = new BigInt64Array(1);
  downsampleSlab('mean', 'int64', [BigInt64Array.of(max, max - 1n)], [2, 1], 2, 1, out);
  assert.is(out[0], max, 'floor((2^64 - 3) / 2 + 1/2) = 2^63 - 1, past float64');
  const neg = new Int16Array(1);
  downsampleSlab('mean', 'int16', [Int16Array.of(-3, -4)], [2, 1], 2, 1, neg);
  assert.is(neg[0], -3, 'floor(-3.5 + 0.5) = -3');
  downsampleSlab('mean', 'int16', [Int16Array.of(-3, -6)], [2, 1], 2, 1, neg);
  assert.is(neg[0], -4, 'floor(-4.5 + 0.5) = -4');
  const bool = new Uint8Array(1);
  downsampleSlab('mean', 'bool', [Uint8Array.of(1, 0), Uint8Array.of(0, 0)], [2, 1], 2, 1, bool);
  assert.is(bool[0], 0, 'one true in four is not half');
  downsampleSlab('mean', 'bool', [Uint8Array.of(1, 0), Uint8Array.of(1, 0)], [2, 1], 2, 1, bool);
  assert.is(bool[0], 1, 'two true in four is half');
});

test.run();
