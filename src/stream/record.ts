import type { Vec3 } from '../core/geometry.ts';

/** One chunk of the volume, as the Chunker emits it and the ZarrSink consumes it. */
export interface ChunkRecord {
  /** Grid coordinates `(gx, gy, gz)` in the volume's `[X, Y, Z]` axes. */
  readonly coords: Vec3;
  /** Fortran grid index `gx + GX*(gy + GY*gz)`. */
  readonly index: number;
  /** Voxels of real data in this chunk: the chunk size, smaller at the far edges. */
  readonly shape: Vec3;
  /**
   * The chunk's bytes in the chunk byte order, little-endian: the full chunk padded with the fill value
   * (edge `'pad'`), or only `shape` voxels (edge `'crop'`).
   */
  readonly data: Buffer;
}
