/**
 * Shapes, chunk grids and byte offsets. Pure functions; every axis triple is `[x, y, z]`
 * with x fastest in memory (F layout), as DESIGN.md fixes.
 */
import { invalid } from './errors.ts';

export type Vec3 = readonly [number, number, number];
export type Order = 'C' | 'F';

/** Checks an order argument exactly as fastremap does, with its message. */
export function parseOrder(value: unknown, name = 'order'): Order {
  if (value === 'C' || value === 'F') return value;
  throw invalid(`${name} must be C or F. Got: ${String(value)}`);
}

/**
 * Checks that `value` is three integers, each ≥ `min` (1 for chunk sizes, 0 for image shapes),
 * and returns it as a Vec3. The error names the argument and the offending value.
 */
export function checkVec3(name: string, value: unknown, min: 0 | 1 = 1): Vec3 {
  const arr = Array.isArray(value) || ArrayBuffer.isView(value) ? Array.from(value as ArrayLike<unknown>) : null;
  if (!arr || arr.length !== 3) {
    throw invalid(`${name} must have 3 entries [x, y, z]. Got: ${fmt(value)}`);
  }
  for (const v of arr) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      const what = min === 1 ? 'positive integers' : 'non-negative integers';
      throw invalid(`${name} must be ${what}. Got: ${fmt(value)}`);
    }
  }
  return [arr[0] as number, arr[1] as number, arr[2] as number];
}

/** Checks a shard shape: three positive integers, each a multiple of the chunk on its axis. */
export function checkShard(value: unknown, chunk: Vec3): Vec3 {
  const shard = checkVec3('shard', value, 1);
  if (shard.some((s, i) => s % chunk[i]! !== 0)) {
    const fit = shard.map((s, i) => Math.max(chunk[i]!, Math.round(s / chunk[i]!) * chunk[i]!)) as unknown as Vec3;
    throw invalid(`shard ${formatVec3(shard)} must be a multiple of the chunk ${formatVec3(chunk)} on every axis (e.g. ${formatVec3(fit)})`);
  }
  return shard;
}

function fmt(value: unknown): string {
  if (Array.isArray(value)) return `(${value.map(String).join(', ')})`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** `(a, b, c)` as fastremap prints shapes. */
export function formatVec3(v: Vec3): string {
  return `(${v[0]}, ${v[1]}, ${v[2]})`;
}

/** `a×b×c` as slabchunk's own messages print shapes. */
export function formatShape(v: Vec3): string {
  return `${v[0]}×${v[1]}×${v[2]}`;
}

export function product(v: Vec3): number {
  return v[0] * v[1] * v[2];
}

/** Number of chunks along each axis: `ceil(shape / chunk)`. */
export function gridShape(shape: Vec3, chunk: Vec3): Vec3 {
  return [Math.ceil(shape[0] / chunk[0]), Math.ceil(shape[1] / chunk[1]), Math.ceil(shape[2] / chunk[2])];
}

/** True when `chunk` divides `shape` on every axis. */
export function divides(shape: Vec3, chunk: Vec3): boolean {
  return shape[0] % chunk[0] === 0 && shape[1] % chunk[1] === 0 && shape[2] % chunk[2] === 0;
}

/** Fortran grid index of chunk `coords`: x fastest, then y, then z. */
export function fortranIndex(coords: Vec3, grid: Vec3): number {
  return coords[0] + grid[0] * (coords[1] + grid[1] * coords[2]);
}

/** Inverse of {@link fortranIndex}. */
export function fortranCoords(index: number, grid: Vec3): Vec3 {
  const x = index % grid[0];
  const rest = (index - x) / grid[0];
  const y = rest % grid[1];
  return [x, y, (rest - y) / grid[1]];
}

export interface ChunkBounds {
  /** First voxel of the chunk, `coords * chunk`. */
  readonly start: Vec3;
  /** Voxels of real data: `chunk`, clipped at the far edges of the volume. */
  readonly size: Vec3;
}

/** Where chunk `coords` sits in the volume, clipped to the volume's edges. */
export function chunkBounds(coords: Vec3, shape: Vec3, chunk: Vec3): ChunkBounds {
  const start: Vec3 = [coords[0] * chunk[0], coords[1] * chunk[1], coords[2] * chunk[2]];
  const size: Vec3 = [
    Math.min(chunk[0], shape[0] - start[0]),
    Math.min(chunk[1], shape[1] - start[1]),
    Math.min(chunk[2], shape[2] - start[2]),
  ];
  return { start, size };
}

/**
 * Element strides of a dense block of `shape` in `order`: F is x fastest
 * (`x + X*(y + Y*z)`), C is z fastest (`z + Z*(y + Y*x)`).
 */
export function denseStrides(shape: Vec3, order: Order): Vec3 {
  return order === 'F'
    ? [1, shape[0], shape[0] * shape[1]]
    : [shape[1] * shape[2], shape[2], 1];
}

/** Bytes in one Z-slab (one z-slice of `X*Y` voxels). */
export function slabBytes(shape: Vec3, bytesPerElement: number): number {
  return shape[0] * shape[1] * bytesPerElement;
}

/** Bytes of the whole volume. Exact while below 2^53 (8 PiB). */
export function volumeBytes(shape: Vec3, bytesPerElement: number): number {
  return product(shape) * bytesPerElement;
}

