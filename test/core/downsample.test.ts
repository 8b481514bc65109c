/**
 * The downsampling kernels against a naive reference written here: every voxel of a small 3-D volume visited by
 * its own coordinates, blocks gathered into plain arrays, integer means in BigInt. Every method × dtype × odd and
 * even shapes × factor combination, with value ranges that make ties (mode), negatives and 64-bit extremes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DTYPES, typedArray, type DType, type TypedArray } from '../../src/core/dtype.ts';
import { DOWNSAMPLE_METHODS, downsampledPlane, downsampleSlab, type DownsampleMethod } from '../../src/core/downsample.ts';

type V = number | bigint;

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Values of `dtype`: small ranges (ties) or the dtype's whole range (sums past 2^53 for 64-bit types). */
function values(dtype: DType, n: number, seed: number, narrow: boolean): V[] {
  const next = random(seed);
  const pick = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return Array.from({ length: n }, (): V => {
    switch (dtype) {
      case 'bool': return pick(0, 1);
      case 'int8': return narrow ? pick(-2, 2) : pick(-128, 127);
      case 'uint8': return narrow ? pick(0, 3) : pick(0, 255);
      case 'int16': return narrow ? pick(-3, 3) : pick(-32768, 32767);
      case 'uint16': return narrow ? pick(0, 3) : pick(0, 65535);
      case 'int32': return narrow ? pick(-3, 3) : pick(-(2 ** 31), 2 ** 31 - 1);
      case 'uint32': return narrow ? pick(0, 3) : pick(0, 2 ** 32 - 1);
      case 'int64': return narrow ? BigInt(pick(-3, 3)) : (BigInt(pick(-(2 ** 31), 2 ** 31 - 1)) << 32n) + BigInt(pick(0, 2 ** 32 - 1));
      case 'uint64': return narrow ? BigInt(pick(0, 3)) : (BigInt(pick(0, 2 ** 32 - 1)) << 32n) + BigInt(pick(0, 2 ** 32 - 1));
      case 'float32': return narrow ? pick(-2, 2) / 2 : Math.fround((next() - 0.5) * 1e6);
      case 'float64': return narrow ? pick(-2, 2) / 4 : (next() - 0.5) * 1e12;
    }
  });
}

const floorDiv = (a: bigint, b: bigint): bigint => (a < 0n && a % b !== 0n ? a / b - 1n : a / b);

/** One block's value by `method`, from its voxels in z, y, x order. */
function reduce(method: DownsampleMethod, dtype: DType, block: V[]): V {
  const n = block.length;
  switch (method) {
    case 'stride': return block[0]!;
    case 'min': return block.reduce((m, v) => (v < m ? v : m));
    case 'max': return block.reduce((m, v) => (v > m ? v : m));
    case 'mode': {
      const counts = new Map<V, number>();
      for (const v of block) counts.set(v, (counts.get(v) ?? 0) + 1);
      let best: V | undefined;
      for (const [v, c] of counts) if (best === undefined || c > counts.get(best)! || (c === counts.get(best)! && v < best)) best = v;
      return best!;
    }
    case 'mean': {
      if (dtype === 'bool') return 2 * block.filter((v) => v !== 0).length >= n ? 1 : 0;
      if (dtype === 'float32' || dtype === 'float64') {
        let sum = 0;
        for (const v of block) sum += v as number;
        return dtype === 'float32' ? Math.fround(sum / n) : sum / n;
      }
      const sum = block.reduce<bigint>((s, v) => s + BigInt(v), 0n);
      const mean = floorDiv(2n * sum + BigInt(n), 2n * BigInt(n));
      return typeof block[0] === 'bigint' ? mean : Number(mean);
    }
  }
}

/** The level below an F-ordered `[X, Y, Z]` volume, voxel by voxel. */
function reference(method: DownsampleMethod, dtype: DType, data: V[], [X, Y, Z]: [number, number, number], f: [number, number, number]): V[] {
  const [OX, OY, OZ] = [Math.ceil(X / f[0]), Math.ceil(Y / f[1]), Math.ceil(Z / f[2])];
  const out: V[] = [];
  for (let oz = 0; oz < OZ; oz++) for (let oy = 0; oy < OY; oy++) for (let ox = 0; ox < OX; ox++) {
    const block: V[] = [];
    for (let z = oz * f[2]; z < Math.min(Z, (oz + 1) * f[2]); z++) {
      for (let y = oy * f[1]; y < Math.min(Y, (oy + 1) * f[1]); y++) {
        for (let x = ox * f[0]; x < Math.min(X, (ox + 1) * f[0]); x++) block.push(data[x + X * (y + Y * z)]!);
      }
    }
    out.push(reduce(method, dtype, block));
  }
  return out;
}

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
