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
