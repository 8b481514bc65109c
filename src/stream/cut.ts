/** Cutting one chunk out of a complete row (the copy from the row's file layout into the chunk's byte order), and pasting one back. */
import { copyBlock, fillElements } from '../core/copy.ts';
import { denseStrides, product, type Vec3 } from '../core/geometry.ts';
import type { ChunkCut } from '../core/layout.ts';
import type { ChunkerPlan } from './plan.ts';
import type { ChunkRecord } from './record.ts';
import type { RowBuffer } from './row-buffer.ts';

/**
 * Copies chunk `cut` out of `row` (whose first slab is file slab `z0`) in the plan's chunk byte order and edge
 * mode, into `into` (a reused buffer of at least the chunk's size) or else a new Buffer of its own (safe to hand
 * to another thread).
 */
export function cutChunk(plan: ChunkerPlan, row: RowBuffer, z0: number, cut: ChunkCut, into?: Buffer): ChunkRecord {
  const es = plan.elementSize;
  const dims = plan.edge === 'crop' ? cut.shape : plan.chunk;
  const count = product(dims);
  const data = into ? into.subarray(0, count * es) : Buffer.allocUnsafeSlow(count * es);
  const full = cut.shape[0] === dims[0] && cut.shape[1] === dims[1] && cut.shape[2] === dims[2];
  if (!full) fillElements(data, 0, count, plan.fill);
  copyWithRow(plan, row, z0, cut, data, dims, 'cut');
  return { coords: cut.coords, index: cut.index, shape: cut.shape, data };
}

/**
 * The inverse of {@link cutChunk}: copies a whole chunk's bytes (`data`, in the plan's chunk byte order, padded to
 * the full chunk) into its place in `row` (whose first slab is file slab `z0`). Reading a level back from a store.
 */
export function pasteChunk(plan: ChunkerPlan, row: RowBuffer, z0: number, cut: ChunkCut, data: Uint8Array): void {
  copyWithRow(plan, row, z0, cut, data, plan.chunk, 'paste');
}

/**
 * Copies the voxels of chunk `cut` between `chunk` (of shape `dims`, in the plan's chunk byte order) and `row`:
 * out of the row (`cut`) or into it (`paste`). One copy per band the chunk's slabs fall in: one in all unless the
 * row is held in several bands.
 */
function copyWithRow(plan: ChunkerPlan, row: RowBuffer, z0: number, cut: ChunkCut, chunk: Uint8Array, dims: Vec3, direction: 'cut' | 'paste'): void {
  const es = plan.elementSize;
  // The chunk is described in the file frame, where the copy runs.
  const strides = plan.layout.toFile(denseStrides(dims, plan.order));
  const [X, Y] = plan.file.shape;
  const [x, y, z] = cut.start;
  for (let at = z - z0, end = at + cut.size[2]; at < end;) {
    const { band, slab, slabs } = row.locate(at);
    const depth = Math.min(end - at, slabs);
    const inChunk = { data: chunk, offset: (at - (z - z0)) * strides[2] * es, strides };
    const inRow = { data: band, offset: ((slab * Y + y) * X + x) * es, strides: [1, X, X * Y] as Vec3 };
    if (direction === 'cut') copyBlock(inChunk, inRow, [cut.size[0], cut.size[1], depth], es);
    else copyBlock(inRow, inChunk, [cut.size[0], cut.size[1], depth], es);
    at += depth;
  }
}
