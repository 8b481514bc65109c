/**
 * What the convert engine's main thread and its worker threads say to each other. Everything here is structured-
 * cloneable; row buffers and the probe are SharedArrayBuffers, so they are shared, not copied.
 */
import type { ErrorCode } from '../../core/errors.ts';
import type { SinkStats } from '../../zarr/chunk-files.ts';
import type { PlaneBlock, SlabSource } from '../../input/slabs.ts';
import type { LevelSpec } from '../levels.ts';
import type { ResolvedConvertOptions } from '../options.ts';

/** What every worker of a run is given before its tasks. */
export interface EngineJob {
  readonly options: ResolvedConvertOptions;
  /** The store folder. */
  readonly store: string;
  /** How the input is read where the Zarr metadata cannot say (the `.slabchunk/job.json` record). */
  readonly record: Readonly<Record<string, unknown>>;
  /** How messages name the input. */
  readonly inputName: string;
  /**
   * The input file's descriptor (the main thread's: descriptors are per process) that fill tasks read with
   * positioned reads; null for a stream, which the main thread copies into rows.
   */
  readonly inputFd: number | null;
  /** A TIFF or HDF5 input: each worker opens its own reader, and fill tasks decode planes straight into rows. */
  readonly slabs: SlabSource | null;
  /** The store's arrays: one bare array, or a pyramid's levels. */
  readonly levels: readonly LevelSpec[];
  /**
   * The level rows come in at: 0 (read from the input), or a level read back from the store to make the levels
   * after it (finishing a pyramid).
   */
  readonly from: number;
  /** Per level, its row buffers (each a list of bands): those of `from`, and one for each level after it. */
  readonly buffers: readonly (readonly (readonly SharedArrayBuffer[])[])[];
  /** Per level, slabs per band of its row buffers. */
  readonly bandSlabs: readonly number[];
  /** Per level after `from`: one slab of the level above, the first of a pair whose second is in the next row. */
  readonly carries: readonly (SharedArrayBuffer | null)[];
  /** Chunks each worker keeps in flight (cut, encoding or writing). */
  readonly depth: number;
  /** `Int32Array` [encodes running now, most running at once]: the engine's concurrency, counted. */
  readonly probe: SharedArrayBuffer;
}

/**
 * Fill `length` bytes of band `band` of row buffer `buffer` from byte `at`: read from file byte `position` (null:
 * the bytes are already there, copied in from a stream), then swap them to little-endian if the input is
 * big-endian. A TIFF or HDF5 input's task names a `block` of planes to decode.
 */
export interface FillTask {
  readonly kind: 'fill';
  readonly id: number;
  readonly buffer: number;
  readonly band: number;
  readonly at: number;
  readonly length: number;
  readonly position: number | null;
  /**
   * A TIFF or HDF5 input's planes and lines to decode instead (`position` is then null): line `y` of plane `z`
   * goes to byte `at + (z - z0) * slabBytes + (y - y0) * lineBytes` of the band; `length` counts its bytes.
   */
  readonly block?: PlaneBlock;
}

/** Cut, encode and write chunks `[from, to)` of row `row` of level `level` (in its layout's `rowCuts` order), held in that level's row buffer `buffer`. */
export interface CutTask {
  readonly kind: 'cut';
  readonly id: number;
  readonly level: number;
  readonly buffer: number;
  readonly row: number;
  readonly from: number;
  readonly to: number;
  /** Also downsample each chunk into the next level's row buffer as it is cut (its chunks tile the blocks). */
  readonly reduce: boolean;
}

/** Read chunks `[from, to)` of row `row` of level `job.from` back from the store into its row buffer `buffer`. */
export interface LoadTask {
  readonly kind: 'load';
  readonly id: number;
  readonly buffer: number;
  readonly row: number;
  readonly from: number;
  readonly to: number;
}

/**
 * Downsample row `row` of level `level` (in its row buffer `buffer`) into the next level's row buffer: lines
 * `[y0, y1)` of every slab of the next level it completes, with the carried slab of that band.
 */
export interface ReduceTask {
  readonly kind: 'reduce';
  readonly id: number;
  readonly level: number;
  readonly buffer: number;
  readonly row: number;
  readonly y0: number;
  readonly y1: number;
}

export type Task = FillTask | LoadTask | CutTask | ReduceTask;

/** Messages to a worker: a run's job (answered with `ready`), its tasks, and `release` when the run ends. */
export type ToWorker = { readonly type: 'job'; readonly job: EngineJob } | { readonly type: 'release' } | { readonly type: 'task'; readonly task: Task };

/** A SlabchunkError, cloned across threads. */
export interface ErrorReply {
  readonly code: ErrorCode;
  readonly message: string;
  readonly key?: string;
}

export type Reply =
  | { readonly type: 'ready' }
  /**
   * `cpuSeconds`: CPU the worker thread spent on the task (the encodes and writes it awaited ran on libuv's pool),
   * `reduceSeconds` of it downsampling (a cut task that reduces its chunks, or a reduce task).
   */
  | { readonly type: 'done'; readonly id: number; readonly stats: SinkStats; readonly cpuSeconds: number; readonly reduceSeconds: number }
  | { readonly type: 'failed'; readonly id: number | null; readonly error: ErrorReply };

/** Index of the probe's counters. */
export const PROBE_RUNNING = 0;
export const PROBE_PEAK = 1;
