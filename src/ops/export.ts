/** `exportStore()`: a store back out as the raw slabs it came from — the inverse of `convert()`. */
import type { Writable } from 'node:stream';
import pLimit from 'p-limit';
import { copyBlock } from '../core/copy.ts';
import { bytesPerElement } from '../core/dtype.ts';
import { gridShape } from '../core/geometry.ts';
import { cOrderBytes, openStore, type OpenedStore } from '../zarr/reader.ts';

export interface ExportOptions {
  /** Chunks decoding at once. Default 8. */
  concurrency?: number;
  /** Called after each slab-row is written, with bytes out so far and in all. */
  onProgress?: (progress: { bytesOut: number; bytesTotal: number }) => void;
}

/**
 * Streams the array at `storePath` into `out` in C order of its stored axes — for a store slabchunk wrote,
 * exactly the raw input (F input: Z-slabs, x fastest; C input: z fastest), little-endian.
 * Memory: one row of chunks (the chunks sharing the slowest grid coordinate), filled while the previous row
 * is being written. Each row gets a buffer of its own, since a stream may hand the very Buffer it was given to
 * its consumer (a PassThrough does). Resolves with the bytes written; `out` is ended.
 */
export async function exportStore(source: string | OpenedStore, out: Writable, options: ExportOptions = {}): Promise<number> {
  const store = typeof source === 'string' ? await openStore(source) : source;
  const es = bytesPerElement(store.dtype);
  const [a0, a1, a2] = store.shape;
  const [c0, c1, c2] = store.chunks;
  // Our copy kernels name axes fastest first: x = stored axis 2, z = stored axis 0.
  const grid = gridShape([a2, a1, a0], [c2, c1, c0]);
  const rowStride = a1 * a2 * es;
  const limit = pLimit(options.concurrency ?? 8);
  const bytesTotal = a0 * rowStride;
  let bytesOut = 0;
  let pendingWrite: Promise<void> = Promise.resolve();
  // An 'error' from `out` (a missing folder, a full disk) ends the export through its promise, never unhandled.
  let failed: Error | undefined;
  const onError = (error: Error) => { failed ??= error; };
  out.on('error', onError);
  try {
    for (let g0 = 0; g0 < grid[2]; g0++) {
      const depth = Math.min(c0, a0 - g0 * c0);
      const row = Buffer.allocUnsafeSlow(depth * rowStride);
      const jobs: Promise<void>[] = [];
      for (let g1 = 0; g1 < grid[1]; g1++) {
        for (let g2 = 0; g2 < grid[0]; g2++) {
          jobs.push(limit(async () => {
            const chunk = await store.array.getChunk([g0, g1, g2]);
            const bytes = cOrderBytes(chunk, es);
            copyBlock(
              { data: row, offset: (g1 * c1 * a2 + g2 * c2) * es, strides: [1, a2, a1 * a2] },
              { data: bytes, offset: 0, strides: [1, c2, c1 * c2] },
              [Math.min(c2, a2 - g2 * c2), Math.min(c1, a1 - g1 * c1), depth],
              es,
            );
          }));
        }
      }
      await Promise.all(jobs);
      // At most one row waits in `out` while the next one is decoded: backpressure without buffering the volume.
      await pendingWrite;
      if (failed) throw failed;
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
    if (failed) throw failed;
    return bytesOut;
  } finally {
    out.off('error', onError);
  }
}

/** Resolves once `out` has taken `piece` (its write callback), so the buffer may be reused. */
function write(out: Writable, piece: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(piece, (error) => (error ? reject(error) : resolve()));
  });
}
