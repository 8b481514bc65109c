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

test('float blocks with NaN: mode counts NaNs as one value after every number, mean/min/max propagate NaN; against the reference', () => {
  const X = 6, Y = 4, Z = 4;
  let seed = 3;
  for (const dtype of ['float32', 'float64'] as const) for (const method of DOWNSAMPLE_METHODS) for (let trial = 0; trial < 20; trial++) {
    const next = (() => { let s = seed++; return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648); })();
    // Few values, many NaNs: ties between NaN and numbers, and blocks of NaN alone.
    const data: V[] = Array.from({ length: X * Y * Z }, () => { const r = next(); return r < 0.45 ? NaN : Math.floor(r * 6) - 3; });
    const volume = typedArray(dtype, X * Y * Z);
    data.forEach((v, i) => { volume[i] = v as never; });
    const got: V[] = [];
    for (let z = 0; z < Z; z += 2) {
      const out = typedArray(dtype, 3 * 2);
      downsampleSlab(method, dtype, [volume.subarray(z * X * Y, (z + 1) * X * Y) as TypedArray, volume.subarray((z + 1) * X * Y, (z + 2) * X * Y) as TypedArray], [X, Y], 2, 2, out);
      got.push(...(out as unknown as Iterable<V>));
    }
    // uvu compares NaN equal to NaN (dequal).
    assert.equal(got, reference(method, dtype, data, [X, Y, Z], [2, 2, 2]), `${method} ${dtype} trial ${trial}`);
  }
  const block = new Float64Array([1, NaN, NaN, NaN, NaN, NaN, NaN, 2]);
  const out = new Float64Array(1);
  downsampleSlab('mode', 'float64', [block.subarray(0, 4), block.subarray(4)], [2, 2], 2, 2, out);
  assert.ok(Number.isNaN(out[0]), 'six NaNs outvote 1 and 2');
  downsampleSlab('mode', 'float64', [new Float64Array([NaN, 5, NaN, 5])], [2, 2], 2, 2, out);
  assert.is(out[0], 5, 'a tie between NaN and 5 goes to 5');
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
