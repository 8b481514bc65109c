/**
 * A naive downsampling reference for the tests: every voxel of a small 3-D volume visited by its own coordinates,
 * blocks gathered into plain arrays, integer means in BigInt; and seeded values that make ties, negatives and
 * 64-bit extremes.
 */
import type { DType } from '../../src/core/dtype.ts';
import type { DownsampleMethod } from '../../src/core/downsample.ts';
import { mulberry32 } from '../../bench/lib/volume.ts';

export type V = number | bigint;

/** Values of `dtype`: small ranges (ties) or the dtype's whole range (sums past 2^53 for 64-bit types). */
export function values(dtype: DType, n: number, seed: number, narrow: boolean): V[] {
  const next = mulberry32(seed);
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
    // numpy's min and max: NaN wins.
    case 'min': return block.some((v) => v !== v) ? NaN : block.reduce((m, v) => (v < m ? v : m));
    case 'max': return block.some((v) => v !== v) ? NaN : block.reduce((m, v) => (v > m ? v : m));
    case 'mode': {
      const counts = new Map<V, number>();
      for (const v of block) counts.set(v, (counts.get(v) ?? 0) + 1);
      let best: V | undefined;
      // Map keys are SameValueZero: NaNs are one value, which sorts after every number.
      const before = (v: V, b: V) => v < b || (b !== b && v === v);
      for (const [v, c] of counts) if (best === undefined || c > counts.get(best)! || (c === counts.get(best)! && before(v, best))) best = v;
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
export function reference(method: DownsampleMethod, dtype: DType, data: V[], [X, Y, Z]: [number, number, number], f: [number, number, number]): V[] {
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

