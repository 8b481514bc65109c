/** `verifyStore()`: re-reads the input and the store and names every chunk that differs or cannot be read back. */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DOWNSAMPLE_METHODS, type DownsampleMethod } from '../core/downsample.ts';
import { bytesPerElement } from '../core/dtype.ts';
import type { DType } from '../core/dtype.ts';
import { invalid, SlabchunkError, wrapError } from '../core/errors.ts';
import { formatShape, volumeBytes, type Order, type Vec3 } from '../core/geometry.ts';
import type { PyramidLevel } from '../core/pyramid.ts';
import { describeInput, openInput, type DescribedInput, type PlaneSelection } from '../input/index.ts';
import { pyramidCascade } from '../stream/cascade.ts';
import { Chunker, type ChunkerOptions } from '../stream/chunker.ts';
import type { ChunkRecord } from '../stream/record.ts';
import { taskPool } from '../stream/task-pool.ts';
import { finishHint, isGroupAt, openPyramidAt, rowsDoneByLevel, type OpenedLevel, type OpenedPyramid } from '../zarr/pyramid-reader.ts';
import { joinLocation, locate, openArray, readChunkBytes, readJson, type LocatedStore, type OpenedStore, type StoreSource } from '../zarr/reader.ts';
import { readSlabRows } from '../zarr/slab-rows.ts';
import { SLABCHUNK_DIR } from '../zarr/stores/lock.ts';
import type { Store } from '../zarr/stores/types.ts';
import { resolveOption, type Endian } from './options.ts';

export interface VerifyOptions {
  /** Byte order of the input's elements. Default `little`. */
  endian?: Endian;
  /** Bytes to skip at the start of the input. Default 0. */
  header?: number;
  /** The channel and time point of a multi-channel or multi-time-point TIFF input. Default: those the store was converted from. */
  channel?: number;
  time?: number;
  /** Chunks compared at once. Default as `convert`'s concurrency. */
  concurrency?: number;
  /** An S3-compatible service's endpoint for an `s3://` store. Default: the SDK's (`AWS_ENDPOINT_URL`), else AWS. */
  s3Endpoint?: string;
  onProgress?: (progress: { bytesIn: number; bytesTotal: number }) => void;
}

export interface VerifyResult {
  chunksCompared: number;
  /**
   * Store keys of the chunks whose decoded bytes differ from the input's, in input order. For an OME-Zarr pyramid:
   * of every level, level by level, each key prefixed with its level's path (`1/c/0/0/0`).
   */
  differing: string[];
  /** Chunks that could not be read back (checksum mismatch, truncated, undecodable), in input order: the store is damaged there. */
  damaged: { key: string; message: string }[];
  /** For an OME-Zarr pyramid, each level's own result (keys without the prefix); absent for a bare array. */
  levels?: LevelVerifyResult[];
  /** What finishes the pyramid's unfinished levels, when it has some (their missing chunks read as fill, so they differ). */
  todo?: string;
}

/** One level of a pyramid, compared with the input (level 0) or with the level above downsampled again. */
export interface LevelVerifyResult {
  level: number;
  /** The level's path in the group. */
  path: string;
  /** What the level was compared with: `input`, or `level L-1` downsampled by the pyramid's method. */
  against: string;
  chunksCompared: number;
  differing: string[];
  damaged: { key: string; message: string }[];
  /** Fewer of the level's rows are marked done than it has: a split job not finished, or a run interrupted. */
  unfinished: boolean;
  /** Why the level was not compared: the level above it is damaged, so it cannot be downsampled again. */
  skipped?: string;
}

type Comparison = Omit<VerifyResult, 'levels' | 'todo'>;

/**
 * Compares every chunk of the store at `source` (a folder, an `s3://` URL with `options.s3Endpoint` for a custom
 * service, or a {@link Store}) with the same chunk cut from `input` (a path, `-` or a Readable). Shape, dtype, chunking, fill and input layout come from the store's metadata; an absent chunk must
 * be all fill in the input. For an OME-Zarr pyramid, level 0 is compared with the input and each level after it
 * with the level above downsampled again by the multiscale's method, streaming: one chunk-row of the level above
 * and one row of the level in memory.
 */
export async function verifyStore(input: string | Readable, source: StoreSource, options: VerifyOptions = {}): Promise<VerifyResult> {
  const located = locate(source, options);
  const storePath = located.at;
  if (!(await isGroupAt(located))) {
    const store = await openArray(located);
    const bytesTotal = volumeBytes(store.layout.shape, bytesPerElement(store.dtype));
    return compareWithInput(input, store, located, options, progressOf(options, bytesTotal));
  }
  const pyramid = await openPyramidAt(located);
  const method = methodOf(pyramid);
  const { levels } = pyramid;
  const volume = (l: OpenedLevel) => volumeBytes(l.store.layout.shape, bytesPerElement(l.store.dtype));
  // The input, then every level but the last read back as the parent of the next.
  const progress = progressOf(options, levels.slice(0, -1).reduce((sum, l) => sum + volume(l), volume(levels[0]!)));
  const done = await rowsDoneByLevel(pyramid);
  const results: LevelVerifyResult[] = [];
  for (const level of levels) {
    const parent = levels[level.level - 1];
    const unfinished = done !== undefined && done[level.level]! < level.store.layout.rowsTotal;
    const head = { level: level.level, path: level.datasetPath, against: parent ? `level ${parent.level}` : 'input', unfinished };
    // A damaged level cannot be read back whole: the level after it is not compared (its own damage still is, below).
    const above = results.at(-1);
    if (parent && above && (above.damaged.length > 0 || above.skipped)) {
      results.push({ ...head, chunksCompared: 0, differing: [], damaged: [], skipped: `level ${parent.level} ${above.skipped ? 'was not checked' : 'is damaged'}` });
      continue;
    }
    const found = parent
      ? await compareWithParent(parent, level, method, options, progress)
      : await compareWithInput(input, level.store, located, options, progress);
    results.push({ ...head, ...found });
  }
  const prefixed = (r: LevelVerifyResult, key: string) => `${r.path}/${key}`;
  const unfinished = results.filter((r) => r.unfinished).map((r) => r.level);
  return {
    chunksCompared: results.reduce((sum, r) => sum + r.chunksCompared, 0),
    differing: results.flatMap((r) => r.differing.map((key) => prefixed(r, key))),
    damaged: results.flatMap((r) => r.damaged.map((d) => ({ ...d, key: prefixed(r, d.key) }))),
    levels: results,
    ...(unfinished.length > 0 ? { todo: finishHint(storePath, unfinished) } : {}),
  };
}

/** Counts bytes read towards `bytesTotal` for `onProgress`. */
interface ProgressCounter {
  add(bytes: number): void;
}

function progressOf(options: VerifyOptions, bytesTotal: number): ProgressCounter {
  let bytesIn = 0;
  return {
    add(bytes) {
      bytesIn += bytes;
      options.onProgress?.({ bytesIn, bytesTotal });
    },
  };
}

/** `store` (an array, or level 0 of the pyramid in `root`) against the input, chunk by chunk. */
async function compareWithInput(input: string | Readable, store: OpenedStore, { store: root, at: storePath }: LocatedStore, options: VerifyOptions, progress: ProgressCounter): Promise<Comparison> {
  const { layout, dtype } = store;
  const { shape, chunk, inputOrder } = layout;
  const header = resolveOption('header', options.header)!;
  const concurrency = resolveOption('concurrency', options.concurrency, { chunk, dtype })!;
  const described = await describeInput(input, { ...await convertedPlanes(root), ...definedOf(options) });
  if (described) checkDescribed(described, storePath, shape, dtype, inputOrder, options);
  else if (options.channel !== undefined || options.time !== undefined) throw invalid('--channel and --time pick planes of a TIFF input; the input is raw bytes: drop them');
  const opened = described?.input ?? await openInput(input, { shape, dtype, header, s3Endpoint: options.s3Endpoint });
  const source = opened.read();
  const chunker = new Chunker({ ...chunkerOptionsOf(store), endian: resolveOption('endian', options.endian)! });
  source.on('data', (piece: Buffer) => progress.add(piece.length));
  const comparer = chunkComparer(store, concurrency);
  try {
    await pipeline(source, chunker, comparer.sink);
  } catch (error) {
    throw wrapError(error, 'EREAD', `could not read ${opened.name}`);
  } finally {
    await comparer.drain();
  }
  return comparer.result();
}

/**
 * Level `child` against `parent` read back row by row and downsampled again by the same cascade `convert --ome`
 * runs, in the file frame both arrays share: one chunk-row of the parent and the child Chunker's row in memory.
 */
async function compareWithParent(parent: OpenedLevel, child: OpenedLevel, method: DownsampleMethod, options: VerifyOptions, progress: ProgressCounter): Promise<Comparison> {
  const { layout, dtype } = child.store;
  const concurrency = resolveOption('concurrency', options.concurrency, { chunk: layout.chunk, dtype })!;
  // The factor in the file frame: the stored axes reversed.
  const f = child.factor;
  // The cascade reads only the levels' shapes and factors.
  const level = (shape: Vec3, factor: Vec3): PyramidLevel => ({ shape, factor, chunk: shape, voxelSize: [1, 1, 1] });
  const cascade = [level(parent.store.layout.file.shape, [1, 1, 1]), level(layout.file.shape, [f[2], f[1], f[0]])];
  async function* childSlabs(): AsyncGenerator<Buffer> {
    const ready: Buffer[] = [];
    // Slabs are valid only during the call: each is copied, since the Chunker may hold the piece it was given.
    const levels = pyramidCascade(cascade, dtype, method, (_level, _z, slab) => ready.push(Buffer.from(slab)));
    for await (const row of readSlabRows(parent.store, concurrency)) {
      for (let s = 0; s < row.slabs; s++) levels.push(row.bytes.subarray(s * row.slabBytes, (s + 1) * row.slabBytes));
      progress.add(row.bytes.length);
      yield* ready.splice(0);
    }
    levels.end();
    yield* ready.splice(0);
  }
  const comparer = chunkComparer(child.store, concurrency);
  try {
    await pipeline(Readable.from(childSlabs(), { highWaterMark: 1 }), new Chunker(chunkerOptionsOf(child.store)), comparer.sink);
  } catch (error) {
    throw wrapError(error, 'EREAD', `could not read ${parent.store.path} (level ${parent.level}) back`);
  } finally {
    await comparer.drain();
  }
  return comparer.result();
}

/** A Chunker cutting `store`'s chunks, padded with its fill value, from its file slabs. */
function chunkerOptionsOf(store: OpenedStore): ChunkerOptions {
  const { shape, chunk, inputOrder } = store.layout;
  return { shape, dtype: store.dtype, chunk, order: inputOrder, edge: 'pad', fill: typeof store.fill === 'boolean' ? Number(store.fill) : store.fill, inputOrder };
}

/**
 * The multiscale's method, which verify recomputes the levels with. ESTORE, before anything is read, for a
 * method slabchunk does not compute.
 */
function methodOf(pyramid: OpenedPyramid): DownsampleMethod {
  const method = pyramid.method;
  if (pyramid.levels.length > 1 && !DOWNSAMPLE_METHODS.includes(method as DownsampleMethod)) {
    throw new SlabchunkError('ESTORE', `the multiscale of ${pyramid.path} says its levels were made by ${method === undefined ? 'an unnamed method (no type)' : JSON.stringify(method)}; `
      + `verify recomputes levels by ${DOWNSAMPLE_METHODS.join(', ')} only, so it cannot check this pyramid past level 0: verify ${joinLocation(pyramid.path, pyramid.levels[0]!.datasetPath)} instead`);
  }
  return method as DownsampleMethod;
}

/**
 * A Writable comparing each ChunkRecord with the chunk `store` holds, `concurrency` at a time: the next record
 * is admitted once this one has a slot, so the stream feeding it waits for the comparisons.
 */
function chunkComparer(store: OpenedStore, concurrency: number): { sink: Writable; drain(): Promise<void>; result(): Comparison } {
  const { layout, format } = store;
  const differing = new Map<number, string>();
  const damaged = new Map<number, { key: string; message: string }>();
  let chunksCompared = 0;
  const compare = async (record: ChunkRecord): Promise<void> => {
    let stored: Uint8Array;
    try {
      stored = await readChunkBytes(store, record.coords);
    } catch (error) {
      // A chunk that cannot be decoded is reported with the others; a failing read (EIO, EMFILE) or a store that
      // cannot be read at all stops the run.
      if (!(error instanceof SlabchunkError && error.code === 'EREAD' && error.key !== undefined) || systemCause(error)) throw error;
      damaged.set(record.index, { key: error.key, message: error.message });
      return;
    }
    chunksCompared++;
    // Sharded stores: the shard file and the inner chunk within it.
    if (!record.data.equals(stored)) differing.set(record.index, layout.describe(record.coords, format));
  };
  const sink: Writable = new Writable({
    objectMode: true,
    write(record: ChunkRecord, _encoding, callback) {
      pool.run(async () => {
        callback();
        await compare(record);
      });
    },
    final(callback) {
      void pool.drain().then(() => callback(pool.error as Error | undefined));
    },
  });
  const pool = taskPool(concurrency, (error) => sink.destroy(error as Error));
  const inOrder = <T>(found: Map<number, T>): T[] => [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  return {
    sink,
    drain: () => pool.drain(),
    result: () => ({ chunksCompared, differing: inOrder(differing), damaged: inOrder(damaged) }),
  };
}

/** The channel and time point the store was converted from (its job record), so verify reads the same planes. */
async function convertedPlanes(root: Store): Promise<PlaneSelection> {
  const job = await readJson(root, `${SLABCHUNK_DIR}/job.json`).catch(() => undefined) as { inputFormat?: string; inputChannel?: number; inputTime?: number } | undefined;
  if (job === undefined) return {};
  return job.inputFormat === 'tiff' && (job.inputChannel || job.inputTime) ? { channel: job.inputChannel ?? 0, time: job.inputTime ?? 0 } : {};
}

function definedOf({ channel, time }: VerifyOptions): PlaneSelection {
  return { ...(channel !== undefined ? { channel } : {}), ...(time !== undefined ? { time } : {}) };
}

/** A TIFF or HDF5 input must hold the store's volume: ESIZE / EINVALID naming both. */
function checkDescribed(described: DescribedInput, store: string, shape: Vec3, dtype: DType, inputOrder: Order, options: VerifyOptions): void {
  const name = described.input.name;
  if (options.header !== undefined || options.endian !== undefined) throw invalid(`--header and --endian describe raw input; ${name} states its own layout: drop them`);
  if (inputOrder !== 'F') throw invalid(`${store} was converted from C-order input; ${name} is read x fastest, so it cannot be compared`);
  if (described.shape.some((n, i) => n !== shape[i]) || described.dtype !== dtype) {
    throw new SlabchunkError('ESIZE', `${name} holds ${formatShape(described.shape)} ${described.dtype}, but ${store} holds ${formatShape(shape)} ${dtype}: it was converted from another input`);
  }
}

/** True when an operating-system error (EIO, EMFILE, …) is among the causes of `error`: a failed read, not damage. */
function systemCause(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) if ('syscall' in e) return true;
  return false;
}
