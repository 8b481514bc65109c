/** `exportStore()`: a store back out as the raw slabs it came from — the inverse of `convert()`. */
import type { Writable } from 'node:stream';
import { bytesPerElement } from '../core/dtype.ts';
import { invalid, wrapError } from '../core/errors.ts';
import { volumeBytes } from '../core/geometry.ts';
import { openLevel } from '../zarr/pyramid-reader.ts';
import type { OpenedStore, StoreSource } from '../zarr/reader.ts';
import { readSlabRows } from '../zarr/slab-rows.ts';
import { resolveOption } from './options.ts';

export interface ExportOptions {
  /** Chunks decoding at once. Default as `convert`'s concurrency. */
  concurrency?: number;
  /** The level of an OME-Zarr pyramid to write out: 0 (the default) is full resolution. A bare array has only level 0. */
  level?: number;
  /** An S3-compatible service's endpoint for an `s3://` store. Default: the SDK's (`AWS_ENDPOINT_URL`), else AWS. */
  s3Endpoint?: string;
  /** Called after each slab-row is written, with bytes out so far and in all. */
  onProgress?: (progress: { bytesOut: number; bytesTotal: number }) => void;
}

/**
 * Streams the array at `source` — a folder, an `s3://` URL, a {@link Store}, or an array already opened — (or
 * level `options.level` of the pyramid there) into `out` in C order of its
 * stored axes — for a store slabchunk wrote, exactly the raw input (F input: Z-slabs, x fastest; C input: z
 * fastest), little-endian; for a pyramid level, that level's voxels in the same order.
 * Memory: one chunk-row (inner chunks when sharded), filled while the previous row is being written. Each row gets
 * a buffer of its own, since a stream may hand the very Buffer it was given to its consumer (a PassThrough does).
 * Resolves with the bytes written; `out` is ended. EINVALID, before `out` is touched, for a level the store lacks.
 */
export async function exportStore(source: StoreSource | OpenedStore, out: Writable, options: ExportOptions = {}): Promise<number> {
  // An 'error' from `out` (a missing folder, a full disk) ends the export through its promise, never unhandled —
  // including one emitted while the store is still being opened.
  let failed: Error | undefined;
  const onError = (error: Error) => { failed ??= error; };
  out.on('error', onError);
  try {
    if (isOpened(source) && (options.level ?? 0) !== 0) {
      throw invalid(`an opened array is one level; open level ${options.level} of the pyramid (openLevel) or pass the store's path`);
    }
    const store = isOpened(source) ? source : await openLevel(source, options.level, options);
    return await exportTo(store, out, options, () => failed);
  } finally {
    out.off('error', onError);
  }
}

async function exportTo(store: OpenedStore, out: Writable, options: ExportOptions, failed: () => Error | undefined): Promise<number> {
  const { shape, chunk } = store.layout;
  const concurrency = resolveOption('concurrency', options.concurrency, { chunk, dtype: store.dtype })!;
  const bytesTotal = volumeBytes(shape, bytesPerElement(store.dtype));
  let bytesOut = 0;
  let pendingWrite: Promise<void> = Promise.resolve();
  try {
    for await (const { bytes: row } of readSlabRows(store, concurrency)) {
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

const isOpened = (source: StoreSource | OpenedStore): source is OpenedStore => typeof source !== 'string' && 'array' in source && 'layout' in source;

/** Resolves once `out` has taken `piece` (its write callback), so the buffer may be reused. */
function write(out: Writable, piece: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(piece, (error) => (error ? reject(error) : resolve()));
  });
}
