/**
 * An array read back as its file slabs, one chunk-row at a time: what `export` writes out and what `verify`
 * downsamples into the next pyramid level. Rows of chunks even in a sharded store, since a shard-row can be far
 * deeper than the memory a chunk-row needs.
 */
import { copyBlock } from '../core/copy.ts';
import { bytesPerElement } from '../core/dtype.ts';
import { slabBytes } from '../core/geometry.ts';
import { storedLayout } from '../core/layout.ts';
import { taskPool } from '../stream/task-pool.ts';
import { readChunkBytes, type OpenedStore } from './reader.ts';

/** One row of file slabs: `slabs` slabs of `slabBytes` each, the first at file slab `z0`. */
export interface SlabRow {
  readonly bytes: Buffer;
  readonly z0: number;
  readonly slabs: number;
  readonly slabBytes: number;
}

/**
 * The rows of `store`'s file slabs, in order (F input: Z-slabs, x fastest; C input: x-slices, z fastest), with
 * `concurrency` chunks decoding at once. Each row is a buffer of its own, free for the consumer to keep; the next
 * row is decoded only when asked for, so a consumer still writing the last one overlaps with its decoding.
 */
export async function* readSlabRows(store: OpenedStore, concurrency: number): AsyncGenerator<SlabRow> {
  const es = bytesPerElement(store.dtype);
  const { shape, chunk, inputOrder } = store.layout;
  const layout = storedLayout({ shape, chunk, inputOrder });
  const { file } = layout;
  const slab = slabBytes(file.shape, es);
  const pool = taskPool(concurrency);
  for (let r = 0; r < layout.rowsTotal; r++) {
    const z0 = r * layout.rowDepth;
    const slabs = Math.min(layout.rowDepth, file.shape[2] - z0);
    const row = Buffer.allocUnsafeSlow(slabs * slab);
    for (const cut of layout.rowCuts(r)) {
      pool.run(async () => {
        // A stored chunk in C order of the stored axes is in F order of the file frame.
        const bytes = await readChunkBytes(store, cut.coords);
        const [x, y, z] = cut.start;
        copyBlock(
          { data: row, offset: (((z - z0) * file.shape[1] + y) * file.shape[0] + x) * es, strides: [1, file.shape[0], file.shape[0] * file.shape[1]] },
          { data: bytes, offset: 0, strides: [1, file.chunk[0], file.chunk[0] * file.chunk[1]] },
          cut.size, es,
        );
      });
    }
    await pool.drain();
    if (pool.error) throw pool.error;
    yield { bytes: row, z0, slabs, slabBytes: slab };
  }
}
