/** `exportStore()`: a store back out as the raw slabs it came from — the inverse of `convert()`. */
import type { Writable } from 'node:stream';
import { copyBlock } from '../core/copy.ts';
import { bytesPerElement } from '../core/dtype.ts';
import { wrapError } from '../core/errors.ts';
import { slabBytes } from '../core/geometry.ts';
import { storedLayout } from '../core/layout.ts';
import { taskPool } from '../stream/task-pool.ts';
import { openStore, readChunkBytes, type OpenedStore } from '../zarr/reader.ts';
import { resolveOption } from './options.ts';

export interface ExportOptions {
  /** Chunks decoding at once. Default as `convert`'s concurrency. */
  concurrency?: number;
  /** Called after each slab-row is written, with bytes out so far and in all. */
  onProgress?: (progress: { bytesOut: number; bytesTotal: number }) => void;
}

/**
 * Streams the array at `storePath` into `out` in C order of its stored axes — for a store slabchunk wrote,
 * exactly the raw input (F input: Z-slabs, x fastest; C input: z fastest), little-endian.
 * Memory: one chunk-row (inner chunks when sharded), filled while the previous row is being written. Each row gets
 * a buffer of its own, since a stream may hand the very Buffer it was given to its consumer (a PassThrough does).
 * Resolves with the bytes written; `out` is ended.
 */
export async function exportStore(source: string | OpenedStore, out: Writable, options: ExportOptions = {}): Promise<number> {
  // An 'error' from `out` (a missing folder, a full disk) ends the export through its promise, never unhandled —
  // including one emitted while the store is still being opened.
  let failed: Error | undefined;
  const onError = (error: Error) => { failed ??= error; };
  out.on('error', onError);
  try {
    return await exportTo(typeof source === 'string' ? await openStore(source) : source, out, options, () => failed);
  } finally {
    out.off('error', onError);
  }
}

async function exportTo(store: OpenedStore, out: Writable, options: ExportOptions, failed: () => Error | undefined): Promise<number> {
  const es = bytesPerElement(store.dtype);
  // Rows of chunks, even in a sharded store: shard-rows could be far deeper than the memory a chunk-row needs.
  const { shape, chunk, inputOrder } = store.layout;
  const layout = storedLayout({ shape, chunk, inputOrder });
  const { file } = layout;
  const slab = slabBytes(file.shape, es);
  const pool = taskPool(resolveOption('concurrency', options.concurrency, { chunk, dtype: store.dtype })!);
  const bytesTotal = file.shape[2] * slab;
  let bytesOut = 0;
  let pendingWrite: Promise<void> = Promise.resolve();
  try {
    for (let r = 0; r < layout.rowsTotal; r++) {
      const z0 = r * layout.rowDepth;
      const row = Buffer.allocUnsafeSlow(Math.min(layout.rowDepth, file.shape[2] - z0) * slab);
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
      // At most one row waits in `out` while the next one is decoded: backpressure without buffering the volume.
      await pendingWrite;
      if (failed()) throw failed();
      pendingWrite = write(out, row).then(() => {
        bytesOut += row.length;
        options.onProgress?.({ bytesOut, bytesTotal });
      });
      // Observed here so a failure while the next row decodes is not an unhandled rejection; awaited above.
      pendingWrite.catch(() => undefined);
    }
    await pendingWrite;
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      out.end(() => resolve());
    });
    if (failed()) throw failed();
    return bytesOut;
  } catch (error) {
    throw wrapError(error, 'EWRITE', `could not export ${store.path}`);
  }
}

/** Resolves once `out` has taken `piece` (its write callback), so the buffer may be reused. */
function write(out: Writable, piece: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(piece, (error) => (error ? reject(error) : resolve()));
  });
}
