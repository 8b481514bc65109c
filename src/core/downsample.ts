/**
 * Downsampling kernels: one output slab of a pyramid level from the one or two input slabs of the level above
 * that it covers. Slabs are `[X, Y]` planes, x fastest. A block is `fx × fy × (number of input slabs)` voxels,
 * fewer at the far edge of an odd size, where it uses the voxels present.
 *
 * Exact semantics: `mean` of integers rounds half up, `floor(sum / n + 1/2)`, in exact arithmetic (BigInt for
 * 64-bit types); floats average in float64 and round to the dtype; bool is true when at least half are true.
 * `mode` is the most frequent value, ties to the smallest (NaNs count as one value, after every number). `min`,
 * `max`. `stride` is the block's first voxel.
 * A NaN in a float block makes its mean, min and max NaN, as numpy's do. Each method and dtype family has its own
 * loop: no per-voxel callbacks.
 */
import type { DType, TypedArray } from './dtype.ts';

export type DownsampleMethod = 'mean' | 'mode' | 'min' | 'max' | 'stride';

export const DOWNSAMPLE_METHODS: readonly DownsampleMethod[] = ['mean', 'mode', 'min', 'max', 'stride'];

type Numbers = Exclude<TypedArray, BigInt64Array | BigUint64Array>;
type Bigints = BigInt64Array | BigUint64Array;

/** The output slab's shape `[ceil(X / fx), ceil(Y / fy)]`. */
export function downsampledPlane(plane: readonly [number, number], fx: 1 | 2, fy: 1 | 2): [number, number] {
  return [Math.ceil(plane[0] / fx), Math.ceil(plane[1] / fy)];
}

/**
 * Writes into `out` the slab that `slabs` (one or two consecutive input slabs of `plane` = `[X, Y]`, as typed
 * arrays of `dtype`) reduce to with factors `fx`, `fy` in-plane (and `slabs.length` along z).
 */
export function downsampleSlab(
  method: DownsampleMethod, dtype: DType, slabs: readonly TypedArray[], plane: readonly [number, number],
  fx: 1 | 2, fy: 1 | 2, out: TypedArray,
): void {
  const big = dtype === 'int64' || dtype === 'uint64';
  switch (method) {
    case 'stride':
      return stride(slabs[0]!, plane, fx, fy, out);
    case 'min':
    case 'max':
      return big
        ? extremeBig(slabs as readonly Bigints[], plane, fx, fy, out as Bigints, method === 'max')
        : extreme(slabs as readonly Numbers[], plane, fx, fy, out as Numbers, method === 'max');
    case 'mode':
      return big ? modeBig(slabs as readonly Bigints[], plane, fx, fy, out as Bigints) : mode(slabs as readonly Numbers[], plane, fx, fy, out as Numbers);
    case 'mean':
      if (big) return meanBig(slabs as readonly Bigints[], plane, fx, fy, out as Bigints);
      if (dtype === 'bool') return meanBool(slabs as readonly Uint8Array[], plane, fx, fy, out as Uint8Array);
      if (dtype === 'float32' || dtype === 'float64') return meanFloat(slabs as readonly Numbers[], plane, fx, fy, out as Numbers);
      return meanInt(slabs as readonly Numbers[], plane, fx, fy, out as Numbers);
  }
}

function stride(slab: TypedArray, [X, Y]: readonly [number, number], fx: number, fy: number, out: TypedArray): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  for (let oy = 0; oy < OY; oy++) {
    const row = oy * fy * X;
    const o = oy * OX;
    for (let ox = 0; ox < OX; ox++) out[o + ox] = slab[row + ox * fx]!;
  }
}

/**
 * Integer mean. Sums of at most 8 values of at most 32 bits are exact in float64, and so is
 * `floor((2 sum + n) / 2n)`: the quotient's distance from the next integer is at least 1/2n, far above the
 * rounding of one division.
 */
function meanInt(slabs: readonly Numbers[], [X, Y]: readonly [number, number], fx: number, fy: number, out: Numbers): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  if (fx !== 2 || fy !== 2) {
    meanIntBlocks(slabs, X, Y, fx, fy, out, 0, OY, 0, OX);
    return;
  }
  // Whole 2×2(×2) blocks, the bulk of every plane, without a branch per voxel; the odd last column and row after.
  const fullX = Math.floor(X / 2);
  const fullY = Math.floor(Y / 2);
  const a = slabs[0]!;
  const b = slabs[1];
  if (b !== undefined) {
    for (let oy = 0; oy < fullY; oy++) {
      const r0 = 2 * oy * X;
      const r1 = r0 + X;
      const o = oy * OX;
      // n = 8, a power of two: floor((sum + 4) / 8) is exact.
      for (let ox = 0, i = r0, j = r1; ox < fullX; ox++, i += 2, j += 2) {
        out[o + ox] = Math.floor((a[i]! + a[i + 1]! + a[j]! + a[j + 1]! + b[i]! + b[i + 1]! + b[j]! + b[j + 1]! + 4) * 0.125);
      }
    }
  } else {
    for (let oy = 0; oy < fullY; oy++) {
      const r0 = 2 * oy * X;
      const r1 = r0 + X;
      const o = oy * OX;
      for (let ox = 0, i = r0, j = r1; ox < fullX; ox++, i += 2, j += 2) out[o + ox] = Math.floor((a[i]! + a[i + 1]! + a[j]! + a[j + 1]! + 2) * 0.25);
    }
  }
  meanIntBlocks(slabs, X, Y, fx, fy, out, 0, fullY, fullX, OX);
  meanIntBlocks(slabs, X, Y, fx, fy, out, fullY, OY, 0, OX);
}

/** {@link meanInt} over output lines `[oy0, oy1)` and columns `[ox0, ox1)`, any block size. */
function meanIntBlocks(slabs: readonly Numbers[], X: number, Y: number, fx: number, fy: number, out: Numbers, oy0: number, oy1: number, ox0: number, ox1: number): void {
  const OX = Math.ceil(X / fx);
  const a = slabs[0]!;
  const b = slabs[1];
  const bz = slabs.length;
  for (let oy = oy0; oy < oy1; oy++) {
    const y0 = oy * fy;
    const by = Math.min(fy, Y - y0);
    const r0 = y0 * X;
    const r1 = by === 2 ? r0 + X : r0;
    const o = oy * OX;
    for (let ox = ox0; ox < ox1; ox++) {
      const x0 = ox * fx;
      const bx = Math.min(fx, X - x0);
      let sum = a[r0 + x0]!;
      if (bx === 2) sum += a[r0 + x0 + 1]!;
      if (by === 2) {
        sum += a[r1 + x0]!;
        if (bx === 2) sum += a[r1 + x0 + 1]!;
      }
      if (b !== undefined) {
        sum += b[r0 + x0]!;
        if (bx === 2) sum += b[r0 + x0 + 1]!;
        if (by === 2) {
          sum += b[r1 + x0]!;
          if (bx === 2) sum += b[r1 + x0 + 1]!;
        }
      }
      const n = bx * by * bz;
      out[o + ox] = Math.floor((2 * sum + n) / (2 * n));
    }
  }
}

function meanFloat(slabs: readonly Numbers[], [X, Y]: readonly [number, number], fx: number, fy: number, out: Numbers): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  for (let oy = 0; oy < OY; oy++) {
    const y0 = oy * fy;
    const y1 = Math.min(Y, y0 + fy);
    for (let ox = 0; ox < OX; ox++) {
      const x0 = ox * fx;
      const x1 = Math.min(X, x0 + fx);
      let sum = 0;
      for (const s of slabs) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += s[y * X + x]!;
      // Stored into a Float32Array, the float64 mean rounds to the nearest float32.
      out[oy * OX + ox] = sum / ((x1 - x0) * (y1 - y0) * slabs.length);
    }
  }
}

function meanBool(slabs: readonly Uint8Array[], [X, Y]: readonly [number, number], fx: number, fy: number, out: Uint8Array): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  for (let oy = 0; oy < OY; oy++) {
    const y0 = oy * fy;
    const y1 = Math.min(Y, y0 + fy);
    for (let ox = 0; ox < OX; ox++) {
      const x0 = ox * fx;
      const x1 = Math.min(X, x0 + fx);
      let trues = 0;
      for (const s of slabs) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (s[y * X + x] !== 0) trues++;
      out[oy * OX + ox] = 2 * trues >= (x1 - x0) * (y1 - y0) * slabs.length ? 1 : 0;
    }
  }
}

/** floor(a / b) for b > 0 (BigInt division truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a < 0n && q * b !== a ? q - 1n : q;
}

function meanBig(slabs: readonly Bigints[], [X, Y]: readonly [number, number], fx: number, fy: number, out: Bigints): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  for (let oy = 0; oy < OY; oy++) {
    const y0 = oy * fy;
    const y1 = Math.min(Y, y0 + fy);
    for (let ox = 0; ox < OX; ox++) {
      const x0 = ox * fx;
      const x1 = Math.min(X, x0 + fx);
      let sum = 0n;
      for (const s of slabs) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += s[y * X + x]!;
      const n = BigInt((x1 - x0) * (y1 - y0) * slabs.length);
      out[oy * OX + ox] = floorDiv(2n * sum + n, 2n * n);
    }
  }
}

/** Like {@link meanInt}, unrolled over the block: the generic loops run at a quarter of the speed. */
function extreme(slabs: readonly Numbers[], [X, Y]: readonly [number, number], fx: number, fy: number, out: Numbers, max: boolean): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  const a = slabs[0]!;
  const b = slabs[1];
  for (let oy = 0; oy < OY; oy++) {
    const y0 = oy * fy;
    const r0 = y0 * X;
    const r1 = Math.min(fy, Y - y0) === 2 ? r0 + X : r0;
    const o = oy * OX;
    for (let ox = 0; ox < OX; ox++) {
      const x0 = ox * fx;
      // A block narrower than 2 reads its one column twice, which changes no minimum or maximum.
      const x1 = Math.min(fx, X - x0) === 2 ? x0 + 1 : x0;
      // Two call sites, each monomorphic: one shared through a variable runs at a fifth of the speed.
      if (max) {
        const m = Math.max(a[r0 + x0]!, a[r0 + x1]!, a[r1 + x0]!, a[r1 + x1]!);
        out[o + ox] = b === undefined ? m : Math.max(m, b[r0 + x0]!, b[r0 + x1]!, b[r1 + x0]!, b[r1 + x1]!);
      } else {
        const m = Math.min(a[r0 + x0]!, a[r0 + x1]!, a[r1 + x0]!, a[r1 + x1]!);
        out[o + ox] = b === undefined ? m : Math.min(m, b[r0 + x0]!, b[r0 + x1]!, b[r1 + x0]!, b[r1 + x1]!);
      }
    }
  }
}

function extremeBig(slabs: readonly Bigints[], [X, Y]: readonly [number, number], fx: number, fy: number, out: Bigints, max: boolean): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  for (let oy = 0; oy < OY; oy++) {
    const y0 = oy * fy;
    const y1 = Math.min(Y, y0 + fy);
    for (let ox = 0; ox < OX; ox++) {
      const x0 = ox * fx;
      const x1 = Math.min(X, x0 + fx);
      let m = slabs[0]![y0 * X + x0]!;
      for (const s of slabs) {
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const v = s[y * X + x]!;
            if (max ? v > m : v < m) m = v;
          }
        }
      }
      out[oy * OX + ox] = m;
    }
  }
}

/**
 * The most frequent of `values[0..n)` (sorted here, in place), ties to the smallest. NaNs count as one value that
 * sorts after every number (as numpy sorts them), so a tie with NaN goes to the number.
 */
function modeOf<T extends number | bigint>(values: T[], n: number): T {
  // Labels: most blocks hold one value.
  let same = 1;
  while (same < n && values[same] === values[0]) same++;
  if (same === n) return values[0]!;
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    let j = i - 1;
    for (; j >= 0 && (values[j]! > v || (v === v && values[j] !== values[j])); j--) values[j + 1] = values[j]!;
    values[j + 1] = v;
  }
  let best = values[0]!;
  let bestCount = 0;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && (values[j] === values[i] || (values[j] !== values[j] && values[i] !== values[i]))) j++;
    // Ascending order: a later run wins only with strictly more votes.
    if (j - i > bestCount) {
      best = values[i]!;
      bestCount = j - i;
    }
    i = j;
  }
  return best;
}

function mode(slabs: readonly Numbers[], [X, Y]: readonly [number, number], fx: number, fy: number, out: Numbers): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  const values: number[] = new Array<number>(8).fill(0);
  for (let oy = 0; oy < OY; oy++) {
    const y0 = oy * fy;
    const y1 = Math.min(Y, y0 + fy);
    for (let ox = 0; ox < OX; ox++) {
      const x0 = ox * fx;
      const x1 = Math.min(X, x0 + fx);
      let n = 0;
      for (const s of slabs) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) values[n++] = s[y * X + x]!;
      out[oy * OX + ox] = modeOf(values, n);
    }
  }
}

function modeBig(slabs: readonly Bigints[], [X, Y]: readonly [number, number], fx: number, fy: number, out: Bigints): void {
  const OX = Math.ceil(X / fx);
  const OY = Math.ceil(Y / fy);
  const values: bigint[] = new Array<bigint>(8).fill(0n);
  for (let oy = 0; oy < OY; oy++) {
    const y0 = oy * fy;
    const y1 = Math.min(Y, y0 + fy);
    for (let ox = 0; ox < OX; ox++) {
      const x0 = ox * fx;
      const x1 = Math.min(X, x0 + fx);
      let n = 0;
      for (const s of slabs) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) values[n++] = s[y * X + x]!;
      out[oy * OX + ox] = modeOf(values, n);
    }
  }
}
