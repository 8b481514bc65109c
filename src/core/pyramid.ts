/**
 * The levels of a multiscale pyramid: shapes, factors, voxel sizes and chunking, computed from level 0 alone.
 * Pure arithmetic; every triple is `[x, y, z]` as elsewhere. Each level is the previous one reduced by 2 or 1
 * per axis: an axis is halved while it is larger than one chunk and its voxels are not much coarser than the
 * finest axis still being halved, so anisotropic z waits until x and y catch up.
 */
import { invalid } from './errors.ts';
import type { Vec3 } from './geometry.ts';

/** One level of the pyramid. */
export interface PyramidLevel {
  /** Shape `[X, Y, Z]`: `ceil(previous / factor)`. */
  readonly shape: Vec3;
  /** Reduction from the previous level, 2 or 1 per axis (`[1, 1, 1]` for level 0). */
  readonly factor: Vec3;
  /** Voxel size in the pyramid's unit. */
  readonly voxelSize: Vec3;
  /** The level-0 chunk clipped to this level's shape. */
  readonly chunk: Vec3;
  /** The level-0 shard clipped to this level's chunk grid, when sharding. */
  readonly shard?: Vec3;
}

export interface PyramidRequest {
  readonly shape: Vec3;
  readonly chunk: Vec3;
  readonly shard?: Vec3;
  readonly voxelSize: Vec3;
  /** `auto`: until every axis fits in one chunk; a number: at most that many levels, level 0 included. */
  readonly levels: 'auto' | number;
}

export interface PyramidPlan {
  readonly levels: readonly PyramidLevel[];
  /** Said when fewer levels than asked were made. */
  readonly note?: string;
}

/** A voxel size this much coarser than the finest axis still being halved waits for the others. */
const ANISOTROPY = 1.5;

/** The levels of `request`, level 0 first. EINVALID for a level count or voxel size that cannot be used. */
export function planPyramid(request: PyramidRequest): PyramidPlan {
  const { shape, chunk, shard, voxelSize, levels } = request;
  if (levels !== 'auto' && (!Number.isSafeInteger(levels) || levels < 1)) {
    throw invalid(`levels must be auto or a whole number of levels from 1 up. Got: ${String(levels)}`);
  }
  if (voxelSize.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw invalid(`voxel size must be three positive numbers X,Y,Z. Got: ${voxelSize.join(',')}`);
  }
  const out: PyramidLevel[] = [level(shape, [1, 1, 1], voxelSize, chunk, shard)];
  const cap = levels === 'auto' ? Infinity : levels;
  while (out.length < cap) {
    const previous = out[out.length - 1]!;
    const factor = factorOf(previous.shape, chunk, previous.voxelSize);
    if (factor === undefined) break;
    const next = previous.shape.map((s, a) => Math.ceil(s / factor[a]!)) as unknown as Vec3;
    const size = previous.voxelSize.map((v, a) => v * factor[a]!) as unknown as Vec3;
    out.push(level(next, factor, size, chunk, shard));
  }
  const note = levels !== 'auto' && out.length < levels
    ? `${levels} levels asked, ${out.length} made: every axis of level ${out.length - 1} fits in one chunk`
    : undefined;
  return note ? { levels: out, note } : { levels: out };
}

/** The factor from a level of `shape` to the next, or undefined when every axis fits in one chunk. */
function factorOf(shape: Vec3, chunk: Vec3, voxelSize: Vec3): Vec3 | undefined {
  const open = [0, 1, 2].filter((a) => shape[a]! > chunk[a]!);
  if (open.length === 0) return undefined;
  const finest = Math.min(...open.map((a) => voxelSize[a]!));
  return [0, 1, 2].map((a) => (open.includes(a) && voxelSize[a]! < ANISOTROPY * finest ? 2 : 1)) as unknown as Vec3;
}

function level(shape: Vec3, factor: Vec3, voxelSize: Vec3, chunk0: Vec3, shard0: Vec3 | undefined): PyramidLevel {
  const chunk = shape.map((s, a) => Math.max(1, Math.min(chunk0[a]!, s))) as unknown as Vec3;
  if (!shard0) return { shape, factor, voxelSize, chunk };
  // A multiple of the chunk still, no larger than the level's chunk grid needs.
  const shard = shard0.map((s, a) => Math.min(s, Math.ceil(shape[a]! / chunk[a]!) * chunk[a]!)) as unknown as Vec3;
  return { shape, factor, voxelSize, chunk, shard };
}

/** One output slab of a level: the input slabs it reduces (`first` is the carried slab when `carried`). */
export interface SlabPair {
  /** The output slab's z. */
  readonly out: number;
  readonly first: number;
  /** The first input slab is the one carried over from the row before. */
  readonly carried: boolean;
  /** The second input slab, or null when the level keeps z (`fz` 1) or this is the odd last slab. */
  readonly second: number | null;
}

/**
 * The output slabs that input slabs `[z0, z1)` of a level `Z` slabs deep complete, with factor `fz` along z, and
 * the slab to carry to the next rows (the first of a pair whose second is further on), or null. A slab `z0 - 1`
 * carried from before pairs with `z0` when `z0` is odd.
 */
export function slabPairs(z0: number, z1: number, Z: number, fz: 1 | 2): { pairs: SlabPair[]; keep: number | null } {
  const pairs: SlabPair[] = [];
  if (fz === 1) {
    for (let z = z0; z < z1; z++) pairs.push({ out: z, first: z, carried: false, second: null });
    return { pairs, keep: null };
  }
  let keep: number | null = null;
  for (let j = Math.floor(z0 / 2); 2 * j < z1; j++) {
    const a = 2 * j;
    const b = a + 1;
    if (b < Z && b >= z1) keep = a;
    else pairs.push({ out: j, first: a, carried: a < z0, second: b < Z ? b : null });
  }
  return { pairs, keep };
}

/** Rows of a level as slab ranges: what {@link parentRow} and {@link childRows} relate. */
export interface LevelRows {
  /** Slabs of the level (its depth along the slab axis). */
  readonly slabs: number;
  /** Slabs per row (the last may hold fewer). */
  readonly depth: number;
  /** The level's factor along the slab axis, from the level above (1 for level 0). */
  readonly fz: 1 | 2;
}

/** The row of level `parent` that row `row` of the level above it (`child`) feeds. */
export function parentRow(child: LevelRows, parent: LevelRows, row: number): number {
  return Math.floor(Math.floor((row * child.depth) / parent.fz) / parent.depth);
}

/** Rows `[first, end)` of the level above (`child`) that row `row` of `parent` is computed from. */
export function childRows(child: LevelRows, parent: LevelRows, row: number): readonly [number, number] {
  const a = row * parent.depth;
  const b = Math.min(parent.slabs, (row + 1) * parent.depth);
  return [Math.floor((a * parent.fz) / child.depth), Math.ceil(Math.min(child.slabs, b * parent.fz) / child.depth)];
}
