/**
 * The convert engine: the main thread only schedules. Rows live in shared memory; worker threads fill them
 * (positioned reads of a raw file, or TIFF and HDF5 planes decoded straight into the row; a stream is copied in
 * here) and then cut, encode and write
 * their chunks or shards. With two row buffers the next row is read while the last one is encoded. A row's marker
 * is written once all its files are in place. The output is the Chunker → ZarrSink pipeline's, byte for byte.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { bytesPerElement } from '../../core/dtype.ts';
import { SlabchunkError, wrapError } from '../../core/errors.ts';
import { product } from '../../core/geometry.ts';
import type { StoredLayout } from '../../core/layout.ts';
import { alignOf, slabBlocks, type SlabSource, type SourceFile } from '../../input/slabs.ts';
import type { VolumeInput } from '../../input/types.ts';
import { inputSizeError, type ChunkerPlan } from '../../stream/plan.ts';
import { RowBuffer } from '../../stream/row-buffer.ts';
import { emptyStats, type SinkStats } from '../../zarr/chunk-files.ts';
import { checkUnchanged } from '../../input/identity.ts';
import { markRowDone } from '../../zarr/markers.ts';
import { storeAt } from '../../zarr/stores/open.ts';
import { S3_MULTIPART_THRESHOLD, S3_PART_SIZE, S3_QUEUE_SIZE } from '../../zarr/stores/s3.ts';
import type { ResolvedConvertOptions } from '../options.ts';
import { threadCpuSeconds } from './cpu.ts';
import { planMemory, type MemoryPlan } from './memory.ts';
import { parentRow, slabPairs } from '../../core/pyramid.ts';
import { levelLayouts, type LevelSpec } from '../levels.ts';
import { PROBE_PEAK, type CutTask, type EngineJob, type ErrorReply, type FillTask, type LoadTask, type ReduceTask, type Reply, type Task, type ToWorker } from './protocol.ts';

export interface EngineRun {
  readonly options: ResolvedConvertOptions;
  /** The whole plan of level `from` (its layout included), as `convert` checked it. */
  readonly plan: ChunkerPlan;
  /** From {@link planEngine}, checked before anything was written. */
  readonly memory: MemoryPlan;
  /** The store folder, already holding its metadata. */
  readonly store: string;
  /** The job record (how the input is read), as the metadata has it. */
  readonly record: Readonly<Record<string, unknown>>;
  /** The input, whose rows are written as level `from` (0); null: rows of level `from` are read back from the store. */
  readonly source: VolumeInput | null;
  /** Rows of level `from` to read, ascending; a stream input carries exactly their slabs, in order. */
  readonly rows: readonly number[];
  /** The store's arrays: a bare array, or the pyramid's levels. */
  readonly levels: readonly LevelSpec[];
  /** The level rows come in at. */
  readonly from: number;
  /** Per level after `from`, the rows this run makes from them (from {@link rowsToMake}). */
  readonly make: readonly (ReadonlySet<number> | undefined)[];
  readonly signal?: AbortSignal | undefined;
  /** Hears input bytes as they land in a row. */
  readonly onBytes?: (bytes: number) => void;
}

/** What the engine did and how: the scaling figures bench/convert.ts reports. */
export interface EngineStats extends SinkStats {
  readonly threads: number;
  /** 2 when the next row was read while the last one encoded. */
  readonly rowBuffers: 1 | 2;
  /** The memory estimate checked against `maxMemory`. */
  readonly memoryBytes: number;
  /** Most chunk encodes running at once. */
  readonly peakEncodes: number;
  /**
   * CPU seconds by stage: `main` the scheduling thread, `read`, `cut` and `reduce` (downsampling) the workers' own work on those tasks,
   * `other` the rest of the process (encodes and writes on libuv's pool, thread start-up). NaN off Linux.
   */
  readonly cpuSeconds: { readonly total: number; readonly main: number; readonly read: number; readonly cut: number; readonly reduce: number; readonly other: number };
}

/** How the engine ran, without the file counts. */
export type EngineReport = Omit<EngineStats, keyof SinkStats>;

/** Largest piece of a row one fill task reads. */
const PIECE_BYTES = 16 * 2 ** 20;
/** Cut tasks per thread per row (unsharded): enough to even out, few enough that messages cost nothing. */
const TASKS_PER_THREAD = 4;

/** Chunks each thread keeps in flight: `concurrency` spread over the threads. */
function depthOf(options: ResolvedConvertOptions): number {
  return Math.max(1, Math.ceil(options.concurrency / options.threads));
}

/**
 * The row buffers and threads a run of `options` over `rows` rows gets within `maxMemory`; EINVALID (nothing
 * written yet) naming the budget that would fit. A second buffer is worth its first touch (page faults over all of
 * it, paid once) only when at least three rows take turns in the two: with two rows it would overlap one read.
 * A `remote` store (an object store) adds each thread's upload buffers: a shard's joined body, or a multipart upload's parts.
 */
export function planEngine(options: ResolvedConvertOptions, plan: ChunkerPlan, rows: number, slabs?: SlabSource, levelBytes = 0, remote = false): MemoryPlan {
  const chunkBytes = product(plan.chunk) * plan.elementSize;
  // A file's encoded size is at most a little over its raw size, and the store decides by the encoded size. At or
  // below the multipart threshold a shard's parts are joined into one body; above it the upload holds its parts in
  // flight (lib-storage cuts each from the file's pieces, with up to one piece besides) and the next one being cut.
  const sharded = plan.layout.shard !== undefined;
  const fileBytes = sharded ? plan.layout.chunksPerShard * chunkBytes : chunkBytes;
  const parts = (S3_QUEUE_SIZE + 2) * (S3_PART_SIZE + chunkBytes);
  const uploadBytes = !remote ? 0 : fileBytes > S3_MULTIPART_THRESHOLD ? Math.max(S3_MULTIPART_THRESHOLD, parts) : sharded ? fileBytes : 0;
  return planMemory({
    rowBytes: plan.rowBytes, chunkBytes, threads: options.threads, depth: depthOf(options), maxMemory: options.maxMemory,
    rowBuffers: rows > 2 ? 2 : 1, readerBytes: slabs ? readerBytes(slabs) : 0, levelBytes,
    ...(plan.layout.shard ? { shardBytes: plan.layout.chunksPerShard * chunkBytes } : {}),
    uploadBytes,
  });
}

/**
 * What the levels after `from` hold at most in a run that makes rows of them: one row each, and one slab of the level above
 * carried between rows where reduce tasks make a level that halves the slab axis (rows `readBack` from the store).
 */
export function levelBytes(options: ResolvedConvertOptions, levels: readonly LevelSpec[], from: number, readBack: boolean): number {
  const layouts = levelLayouts(options, levels);
  const fusable = fusableLevels(layouts, levels);
  let bytes = 0;
  for (let l = from + 1; l < levels.length; l++) {
    const carried = layouts[l]!.rows.fz === 2 && (!fusable[l - 1] || (l - 1 === from && readBack));
    bytes += rowBufferBytes(options, layouts[l]!.layout) + (carried ? slabBytesOf(options, layouts[l - 1]!.layout) : 0);
  }
  return bytes;
}

/**
 * Per level: whether its chunks tile the next level's blocks (even along every halved axis), so its cut tasks
 * can reduce each chunk as they cut it, and no slab is carried between rows.
 */
function fusableLevels(layouts: readonly { readonly layout: StoredLayout }[], levels: readonly LevelSpec[]): boolean[] {
  return layouts.map(({ layout: l }, level) => {
    if (level + 1 >= levels.length) return false;
    const f = l.toFile(levels[level + 1]!.factor);
    return l.file.chunk.every((c, a) => f[a] === 1 || c % 2 === 0);
  });
}

const slabBytesOf = (options: ResolvedConvertOptions, layout: StoredLayout): number => layout.file.shape[0] * layout.file.shape[1] * bytesPerElement(options.dtype);
const rowBufferBytes = (options: ResolvedConvertOptions, layout: StoredLayout): number => slabBytesOf(options, layout) * Math.min(layout.rowDepth, layout.file.shape[2]);

/**
 * What one thread's reader holds, measured here (bench/RESULTS.md, "inputs"): geotiff's code and the strips or
 * tiles it decodes (~30–45 MiB a thread on the bench's BigTIFF); h5wasm's module (~34 MiB) and its WebAssembly
 * heap, which grows with the block of chunks read at once (~45 MiB + 7× the block) and never shrinks.
 */
function readerBytes(source: SlabSource): number {
  const MiB = 2 ** 20;
  if (source.kind === 'tiff') return 40 * MiB + 3 * source.blockBytes;
  const lineBytes = source.shape[0] * bytesPerElement(source.dtype);
  // A read is one chunk deep, or (chunks too deep for slabBlocks to keep whole) a piece of planes deep; one chunk high.
  const deep = source.chunkPlanes * lineBytes * source.shape[1] > 256 * MiB;
  const planes = deep ? Math.max(1, Math.floor(PIECE_BYTES / (lineBytes * source.shape[1]))) : source.chunkPlanes;
  // HDF5 decodes a whole chunk however little of it is read.
  const chunkBytes = source.chunkPlanes * source.chunkLines * source.chunkWidth * bytesPerElement(source.dtype);
  return 80 * MiB + 7 * planes * source.chunkLines * lineBytes + chunkBytes;
}

/**
 * Converts `run.rows` with worker threads, and makes the rows of later levels they complete; rejects with the
 * first failure once every task in flight has ended.
 */
export async function runEngine(run: EngineRun): Promise<EngineStats> {
  const { options, plan, from, make } = run;
  const { layout } = plan;
  const mainCpu = threadCpuSeconds();
  const processCpu = process.cpuUsage();
  const { memory } = run;
  if (run.rows.length === 0) {
    // A resumed run with every row done: no thread to start, no row to hold.
    return { ...emptyStats(), threads: 0, rowBuffers: memory.rowBuffers, memoryBytes: 0, peakEncodes: 0, cpuSeconds: { total: 0, main: 0, read: 0, cut: 0, reduce: 0, other: 0 } };
  }
  const depth = depthOf(options);
  const levels = levelLayouts(options, run.levels);
  const rowBuffers = Array.from({ length: memory.rowBuffers }, () => new RowBuffer(plan.slabBytes, plan.rowBytes / plan.slabBytes, undefined, 'shared'));
  const fusable = fusableLevels(levels, run.levels);
  /** The levels after `from` that this run makes rows of: one row buffer each, and a carried slab where needed. */
  const uppers = levels.map(({ layout: l, rows }, level): Upper | null => {
    if (level <= from || !make[level]?.size) return null;
    const slab = levels[level - 1]!.layout.file;
    // Reduce tasks carry a slab between rows; cut tasks that reduce their chunks never do. Rows read back from the
    // store are reduced by reduce tasks.
    const reducedByTasks = !fusable[level - 1] || (level - 1 === from && !run.source);
    const carry = rows.fz === 2 && reducedByTasks ? new SharedArrayBuffer(slab.shape[0] * slab.shape[1] * plan.elementSize) : null;
    const slabBytes = l.file.shape[0] * l.file.shape[1] * plan.elementSize;
    return {
      row: new RowBuffer(slabBytes, Math.min(l.rowDepth, l.file.shape[2]), undefined, 'shared'), carry, open: null, received: 0,
      free: Promise.resolve(), release: () => undefined, chain: Promise.resolve(),
    };
  });
  const probe = new SharedArrayBuffer(8);
  const stats = emptyStats();
  const cpu = { read: 0, cut: 0, reduce: 0 };
  const pool = new WorkerPool(memory.threads);
  const onAbort = () => pool.stop(new SlabchunkError('EINTERRUPTED', 'interrupted'));
  run.signal?.addEventListener('abort', onAbort);
  let fd: number | null = null;
  let stream: StreamFiller | null = null;
  /** Rows of every level whose files are being written: the run ends once none is left. */
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>): void => {
    inFlight.add(work);
    work.catch((error: unknown) => pool.stop(error)).finally(() => inFlight.delete(work));
  };
  try {
    const input = run.source;
    if (input?.file) {
      try {
        fd = fs.openSync(input.file.path, 'r');
      } catch (error) {
        throw wrapError(error, 'EREAD', `could not open ${input.name}`);
      }
    }
    const file = input?.file;
    const slabs = input?.slabs;
    // Before a row's marker: every byte of the row was read from the files that were checked, unchanged.
    const inputUnchanged = (row: number | null): void => {
      if (file && fd !== null) checkUnchanged(input.name, file.path, fd, file.identity);
      if (slabs) for (const f of filesOf(slabs, row === null ? null : layout.slabsOf(row, row + 1))) checkUnchanged(f.path, f.path, null, f.identity);
    };
    inputUnchanged(null);
    pool.start({
      options, store: run.store, record: run.record, inputName: input?.name ?? run.store, inputFd: fd, slabs: slabs ?? null,
      levels: run.levels, from,
      buffers: levels.map((_, l) => (l === from ? rowBuffers.map((r) => r.shared) : uppers[l] ? [uppers[l].row.shared] : [])),
      bandSlabs: levels.map((_, l) => (l === from ? rowBuffers[0]!.bandSlabs : uppers[l]?.row.bandSlabs ?? 1)),
      carries: uppers.map((u) => u?.carry ?? null),
      depth, probe,
    });
    if (run.signal?.aborted) onAbort();
    await pool.started;
    const count = (kind: 'read' | 'cut' | 'reduce') => (reply: Done) => {
      cpu[kind] += reply.cpuSeconds - reply.reduceSeconds;
      cpu.reduce += reply.reduceSeconds;
      for (const k of ['chunksWritten', 'chunksSkipped', 'bytesStored', 'shardsWritten'] as const) stats[k] += reply.stats[k];
    };
    const store = storeAt(run.store, options);

    /**
     * Row `row` of `level` is in its row buffer `buffer`: its chunks are cut and written (unless it was read back
     * from the store) and it is reduced into the next level's row — by the cut tasks themselves, chunk by chunk
     * while each is in cache, where the chunks tile the blocks (`fused`), else by reduce tasks over the row.
     * Resolves once the buffer may be reused.
     */
    const rowReady = (level: number, row: number, buffer: number, write: boolean): Promise<void> => {
      const next = level + 1 < levels.length ? parentRow(levels[level]!.rows, levels[level + 1]!.rows, row) : -1;
      const reduce = next >= 0 && make[level + 1]?.has(next) === true;
      const fused = reduce && write && fusable[level]!;
      const work: Promise<void>[] = [];
      if (write) {
        const cut = () => Promise.all(cutTasks(levels[level]!.layout, level, row, buffer, pool.threads, fused).map((task) => pool.submit(task).then(count('cut'))));
        // A row is marked only once every one of its files is in place.
        work.push((fused ? openRow(level + 1, next).then(cut) : cut()).then(() => {
          if (level === 0 && input) inputUnchanged(row);
          if (fused) received(level, row, next);
          return markRowDone(store, row, level);
        }));
      }
      if (reduce && !fused) work.push(reduceInto(level, row, buffer, next));
      return Promise.all(work).then(() => undefined);
    };

    /**
     * Readies the row buffer of `level` for its row `row`: after the rows opened before it, and once the buffer has
     * let go of its previous row (written and reduced further).
     */
    const openRow = (level: number, row: number): Promise<void> => {
      const up = uppers[level]!;
      const opened = up.chain.then(async () => {
        if (up.open === row) return;
        // A failed run never releases the row that failed: the wait ends with the failure instead.
        await Promise.race([up.free, pool.stopped]);
        up.open = row;
        up.received = 0;
        up.free = new Promise((resolve) => {
          up.release = resolve;
        });
      });
      up.chain = opened.catch(() => undefined);
      return opened;
    };

    /** Counts the slabs row `row` of `level` gave row `parent` of the next level; the last one hands the row on. */
    const received = (level: number, row: number, parent: number): void => {
      const up = uppers[level + 1]!;
      const above = levels[level]!.layout;
      const [z0, z1] = above.slabsOf(row, row + 1);
      up.received += slabPairs(z0, z1, above.file.shape[2], levels[level + 1]!.rows.fz).pairs.length;
      const [p0, p1] = levels[level + 1]!.layout.slabsOf(parent, parent + 1);
      if (up.received < p1 - p0) return;
      up.open = null;
      const ready = rowReady(level + 1, parent, 0, true);
      track(ready);
      // The row's failure is the run's (tracked above): the buffer is free once the row's work has ended either way.
      up.release(ready.catch(() => undefined));
    };

    /**
     * Downsamples row `row` of `level` into row `parent` of the next level with reduce tasks, after the rows before
     * it: they share the carried slab.
     */
    const reduceInto = (level: number, row: number, buffer: number, parent: number): Promise<void> => {
      const up = uppers[level + 1]!;
      const reduced = openRow(level + 1, parent).then(async () => {
        await Promise.all(reduceTasks(levels[level + 1]!.layout, level, row, buffer, pool.threads).map((task) => pool.submit(task).then(count('reduce'))));
        received(level, row, parent);
      });
      up.chain = reduced.catch(() => undefined);
      return reduced;
    };

    stream = !input || input.file || input.slabs ? null : new StreamFiller(input, plan, rowBuffers, pool.stopped, input.seekable ? rowRanges(layout, run.rows, plan.slabBytes) : null);
    const free = new Slots(rowBuffers.length);
    for (const row of run.rows) {
      const buffer = await free.take();
      if (pool.failure) break;
      const [z0, z1] = layout.slabsOf(row, row + 1);
      const bytes = (z1 - z0) * plan.slabBytes;
      let fills: (Omit<FillTask, 'id'> | Omit<LoadTask, 'id'>)[];
      if (!input) fills = loadTasks(layout, row, buffer, pool.threads);
      else if (stream) {
        await stream.fill(buffer, bytes);
        fills = options.endian === 'big' ? pieces(rowBuffers[buffer]!, buffer, bytes, null, pool.threads) : [];
      } else if (slabs) {
        fills = planeTasks(rowBuffers[buffer]!, buffer, slabs, z0, z1, pool.threads);
      } else {
        fills = pieces(rowBuffers[buffer]!, buffer, bytes, file!.offset + z0 * plan.slabBytes, pool.threads);
      }
      await Promise.all(fills.map((task) => pool.submit(task).then((reply) => {
        count('read')(reply);
        if (task.kind === 'fill' && (task.position !== null || task.block)) run.onBytes?.(task.length);
      })));
      if (stream || !input) run.onBytes?.(bytes);
      // A failed row stops the loop at the next take(), with the pool's failure.
      track(rowReady(from, row, buffer, input !== null).finally(() => free.give(buffer)));
    }
    if (stream && !pool.failure) await stream.end();
  } catch (error) {
    pool.stop(error);
  } finally {
    run.signal?.removeEventListener('abort', onAbort);
    // Markers of rows whose files all landed are written before the run reports anything, so the caller sees
    // the store as it will stay (its cleanup and its count of finished rows race nothing). Rows of later levels
    // start while earlier ones finish.
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    stream?.close();
    await pool.close();
    if (fd !== null) fs.closeSync(fd);
  }
  if (pool.failure) throw pool.failure;
  const used = process.cpuUsage(processCpu);
  const total = (used.user + used.system) / 1e6;
  const main = threadCpuSeconds() - mainCpu;
  return {
    ...stats,
    threads: pool.threads,
    rowBuffers: memory.rowBuffers,
    memoryBytes: memory.bytes,
    peakEncodes: new Int32Array(probe)[PROBE_PEAK]!,
    cpuSeconds: { total, main, read: cpu.read, cut: cpu.cut, reduce: cpu.reduce, other: total - main - cpu.read - cpu.cut - cpu.reduce },
  };
}

/** A level after `from` that the run makes rows of: its one row buffer, being filled by reduces from the level above. */
interface Upper {
  readonly row: RowBuffer;
  readonly carry: SharedArrayBuffer | null;
  /** The row being filled, or null between rows. */
  open: number | null;
  /** Slabs of the open row filled so far. */
  received: number;
  /** Resolves once the open (or last) row is written and reduced further: the buffer is free again. */
  free: Promise<void>;
  /** Resolves `free` with the open row's work, once the row is complete. */
  release: (work: Promise<void>) => void;
  /** The last opening of a row (or reduce task run, which share the carried slab): the next waits for it. */
  chain: Promise<void>;
}

/** Reduce tasks of a row into the next level (`below`): bands of the next level's lines, about two per thread. */
function reduceTasks(below: StoredLayout, level: number, row: number, buffer: number, threads: number): Omit<ReduceTask, 'id'>[] {
  const lines = below.file.shape[1];
  const per = Math.max(1, Math.ceil(lines / (2 * threads)));
  const tasks: Omit<ReduceTask, 'id'>[] = [];
  for (let y0 = 0; y0 < lines; y0 += per) tasks.push({ kind: 'reduce', level, buffer, row, y0, y1: Math.min(lines, y0 + per) });
  return tasks;
}

/** Load tasks of a row read back from the store: runs of its chunks, a few per thread. */
function loadTasks(layout: StoredLayout, row: number, buffer: number, threads: number): Omit<LoadTask, 'id'>[] {
  const cuts = layout.rowCuts(row).length;
  const per = Math.max(1, Math.ceil(cuts / (threads * TASKS_PER_THREAD)));
  const tasks: Omit<LoadTask, 'id'>[] = [];
  for (let from = 0; from < cuts; from += per) tasks.push({ kind: 'load', buffer, row, from, to: Math.min(cuts, from + per) });
  return tasks;
}

/** Fill tasks for `bytes` of row buffer `buffer`: pieces within one band, a multiple of 8 bytes, about two per thread. */
function pieces(row: RowBuffer, buffer: number, bytes: number, position: number | null, threads: number): Omit<FillTask, 'id'>[] {
  const size = Math.max(2 ** 20, Math.min(PIECE_BYTES, Math.ceil(bytes / (2 * threads) / 8) * 8));
  const bandBytes = row.bandSlabs * row.slabBytes;
  const tasks: Omit<FillTask, 'id'>[] = [];
  for (let at = 0; at < bytes;) {
    const band = Math.floor(at / bandBytes);
    const into = at - band * bandBytes;
    const length = Math.min(size, bytes - at, bandBytes - into);
    tasks.push({ kind: 'fill', buffer, band, at: into, length, position: position === null ? null : position + at });
    at += length;
  }
  return tasks;
}

/**
 * Fill tasks of a TIFF or HDF5 input's planes `[z0, z1)`, band by band: blocks of planes (or of their lines) of
 * about two per thread, keeping to the input's chunks, strips and tiles.
 */
function planeTasks(row: RowBuffer, buffer: number, source: SlabSource, z0: number, z1: number, threads: number): Omit<FillTask, 'id'>[] {
  const lineBytes = row.slabBytes / source.shape[1];
  const size = Math.max(2 ** 20, Math.min(PIECE_BYTES, Math.ceil(((z1 - z0) * row.slabBytes) / (2 * threads))));
  const tasks: Omit<FillTask, 'id'>[] = [];
  for (let band = 0; z0 + band * row.bandSlabs < z1; band++) {
    const from = z0 + band * row.bandSlabs;
    for (const block of slabBlocks(source.shape, source.dtype, from, Math.min(z1, from + row.bandSlabs), size, alignOf(source))) {
      const at = (block.z0 - from) * row.slabBytes + block.y0 * lineBytes;
      tasks.push({ kind: 'fill', buffer, band, at, length: (block.z1 - block.z0) * (block.y1 - block.y0) * lineBytes, position: null, block });
    }
  }
  return tasks;
}

/** The files planes `[z0, z1)` of `source` are read from (all of them for null). */
function filesOf(source: SlabSource, planes: readonly [number, number] | null): SourceFile[] {
  if (source.kind === 'hdf5' || !planes) return [...source.files];
  const files = new Set<number>();
  for (let z = planes[0]; z < planes[1]; z++) files.add(source.planes[z]![0]);
  return [...files].map((i) => source.files[i]!);
}

/** Cut tasks of a row of `level` (that also `reduce` each chunk into the next level): one per shard, or runs of chunks, a few per thread. */
function cutTasks(layout: StoredLayout, level: number, row: number, buffer: number, threads: number, reduce: boolean): Omit<CutTask, 'id'>[] {
  const cuts = layout.rowCuts(row);
  const tasks: Omit<CutTask, 'id'>[] = [];
  if (layout.shard) {
    // A row's cuts come shard by shard; a task is one whole shard.
    const fileKey = (i: number) => layout.fileOf(cuts[i]!.coords).join(',');
    for (let from = 0; from < cuts.length;) {
      let to = from + 1;
      while (to < cuts.length && fileKey(to) === fileKey(from)) to++;
      tasks.push({ kind: 'cut', level, buffer, row, from, to, reduce });
      from = to;
    }
    return tasks;
  }
  const per = Math.max(1, Math.ceil(cuts.length / (threads * TASKS_PER_THREAD)));
  for (let from = 0; from < cuts.length; from += per) tasks.push({ kind: 'cut', level, buffer, row, from, to: Math.min(cuts.length, from + per), reduce });
  return tasks;
}

/** Row buffers free for the next row; `take` waits for one. */
class Slots {
  readonly #free: number[];
  readonly #waiting: ((slot: number) => void)[] = [];

  constructor(count: number) {
    this.#free = Array.from({ length: count }, (_, i) => i);
  }

  take(): Promise<number> {
    const slot = this.#free.shift();
    return slot !== undefined ? Promise.resolve(slot) : new Promise((resolve) => this.#waiting.push(resolve));
  }

  give(slot: number): void {
    const next = this.#waiting.shift();
    if (next) next(slot);
    else this.#free.push(slot);
  }
}

/** Copies a stream's bytes into rows, in order; ESIZE when it carries fewer or more bytes than the volume. */
class StreamFiller {
  readonly #source: VolumeInput;
  /** Byte ranges still to read, after the current one (a seekable source); null: the whole stream is one. */
  readonly #ranges: (readonly [number, number])[] | null;
  #stream: Readable;
  #pieces: AsyncIterator<Buffer>;
  /** Bytes the current range has still to give (a seekable source). */
  #rangeLeft = 0;
  readonly #plan: ChunkerPlan;
  readonly #rows: readonly RowBuffer[];
  readonly #name: string;
  #left: Buffer | null = null;
  #received = 0;

  /** Rejects the read in progress: set while one waits. */
  #cancel: ((error: unknown) => void) | null = null;

  /**
   * `stopped` rejects when the run fails or is aborted: a stalled stream must not hold the run. `ranges` are the
   * byte ranges of the rows to read, in order, from a seekable source (an object in a bucket: one ranged GET each);
   * null reads the whole stream.
   */
  constructor(source: VolumeInput, plan: ChunkerPlan, rows: readonly RowBuffer[], stopped: Promise<never>, ranges: (readonly [number, number])[] | null) {
    this.#source = source;
    this.#ranges = ranges && ranges.slice(1);
    const first = ranges?.[0];
    this.#stream = first ? source.read(first) : source.read();
    this.#rangeLeft = first ? first[1] - first[0] : 0;
    this.#pieces = (this.#stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.#plan = plan;
    this.#rows = rows;
    this.#name = source.name;
    stopped.catch((error: unknown) => this.#cancel?.(error));
  }

  /**
   * Stops reading: the source stream is destroyed (its iterator's `return` would wait behind a pending read of a
   * stalled stream).
   */
  close(): void {
    this.#stream.destroy();
  }

  async #next(): Promise<Buffer | null> {
    if (this.#left) {
      const piece = this.#left;
      this.#left = null;
      return piece;
    }
    const next = this.#pieces.next().catch((cause: unknown) => {
      throw new SlabchunkError('EREAD', `could not read ${this.#name}: ${(cause as Error).message}`, { cause });
    });
    // Not Promise.race with `stopped`: every race would leave a handler (and its piece) on the pending
    // `stopped` promise for the whole run.
    const result = await new Promise<IteratorResult<Buffer>>((resolve, reject) => {
      this.#cancel = reject;
      next.then(resolve, reject);
    }).finally(() => {
      this.#cancel = null;
    });
    if (result.done) return this.#nextRange();
    this.#received += result.value.length;
    this.#rangeLeft -= result.value.length;
    // A range that gives more than asked would shift every later byte into the wrong voxel.
    if (this.#ranges && this.#rangeLeft < 0) {
      throw new SlabchunkError('EREAD', `could not read ${this.#source.name}: a range gave ${-this.#rangeLeft} bytes more than asked (a server that ignores Range?)`);
    }
    return result.value;
  }

  /** At the end of a range, the next one's first piece (null after the last); EREAD for a range that ended short. */
  async #nextRange(): Promise<Buffer | null> {
    if (!this.#ranges) return null;
    if (this.#rangeLeft > 0) throw new SlabchunkError('EREAD', `could not read ${this.#source.name}: a range ended ${this.#rangeLeft} bytes short (was the object changed?)`);
    const range = this.#ranges.shift();
    if (!range) return null;
    this.#stream = this.#source.read(range);
    this.#rangeLeft = range[1] - range[0];
    this.#pieces = (this.#stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    return this.#next();
  }

  /** Copies the next `bytes` of the stream into row buffer `buffer`. */
  async fill(buffer: number, bytes: number): Promise<void> {
    const row = this.#rows[buffer]!;
    for (let at = 0; at < bytes;) {
      const piece = await this.#next();
      if (piece === null) throw inputSizeError(this.#plan, this.#received);
      const n = Math.min(piece.length, bytes - at);
      row.write(n === piece.length ? piece : piece.subarray(0, n), at);
      if (n < piece.length) this.#left = piece.subarray(n);
      at += n;
    }
  }

  /** Checks that the stream has nothing left. */
  async end(): Promise<void> {
    for (let piece = await this.#next(); piece !== null; piece = await this.#next()) {
      if (piece.length > 0) throw inputSizeError(this.#plan, this.#plan.inputBytes + piece.length);
    }
  }
}

/**
 * The byte ranges of the volume's rows `rows`, one each: a GET per row, so no request stays open (and idle, while
 * the row buffers are busy) long enough for a server to drop it.
 */
function rowRanges(layout: StoredLayout, rows: readonly number[], slabBytes: number): (readonly [number, number])[] {
  return rows.map((row) => {
    const [z0, z1] = layout.slabsOf(row, row + 1);
    return [z0 * slabBytes, z1 * slabBytes] as const;
  });
}

/** Idle workers of earlier runs, kept a while: a process converting many volumes starts its threads once. */
const idle: Worker[] = [];
/** Idle workers end after this long unused. */
const IDLE_MS = 5000;
let reaper: NodeJS.Timeout | undefined;

/** An idle worker, or a new one. */
function lease(): Worker {
  const worker = idle.pop() ?? startWorker();
  worker.removeAllListeners('exit');
  worker.ref();
  return worker;
}

function giveBack(worker: Worker): void {
  worker.postMessage({ type: 'release' } satisfies ToWorker);
  worker.unref();
  idle.push(worker);
  // A worker that dies while idle must not be leased to the next run, whose job it would never answer.
  worker.once('exit', () => {
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
  });
  clearTimeout(reaper);
  reaper = setTimeout(() => {
    for (const w of idle.splice(0)) void w.terminate();
  }, IDLE_MS).unref();
}

/**
 * A worker thread running worker.ts beside this file: compiled, or (running from source, as the tests do) through
 * tsx, whose loader does not reach worker threads by itself.
 */
function startWorker(): Worker {
  // geotiff imports the web-worker package, which, loaded in a worker thread whose workerData is not an object,
  // takes the thread for one of its own and fails; an empty object tells it this thread is not.
  const options = { workerData: {} };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), options);
  const source = new URL('./worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`, { ...options, eval: true });
}

type Done = Extract<Reply, { type: 'done' }>;

/** A run's worker threads: tasks queue here (fills first: they free the next row) and go to whichever worker is idle. */
class WorkerPool {
  readonly threads: number;
  /** Resolves once every worker has taken the job (loaded its codecs); rejects with the first that could not. */
  started: Promise<void> = Promise.resolve();
  /** Rejects with the failure once the run has failed or been aborted (never resolves). */
  readonly stopped: Promise<never>;
  failure: SlabchunkError | undefined;
  readonly #workers: Worker[] = [];
  readonly #lost = new Set<Worker>();
  readonly #idle: Worker[] = [];
  readonly #fills: Task[] = [];
  readonly #cuts: Task[] = [];
  readonly #waiting = new Map<number, { resolve: (reply: Done) => void; reject: (error: SlabchunkError) => void }>();
  readonly #running = new Map<Worker, Task>();
  /** Every worker's answer to the job, whatever it was: a worker is handed back only after it. */
  #answered: Promise<unknown> = Promise.resolve();
  #onStop: (error: SlabchunkError) => void = () => undefined;
  #nextId = 0;

  constructor(threads: number) {
    this.threads = threads;
    this.stopped = new Promise<never>((_, reject) => {
      this.#onStop = reject;
    });
    this.stopped.catch(() => undefined);
  }

  /** Leases the threads and gives each the job. */
  start(job: EngineJob): void {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.threads; i++) {
      const worker = lease();
      this.#workers.push(worker);
      ready.push(new Promise((resolve, reject) => {
        worker.on('message', (reply: Reply) => {
          if (reply.type === 'ready') {
            this.#idle.push(worker);
            resolve();
            this.#dispatch();
          } else if (reply.type === 'failed' && reply.id === null) reject(fromReply(reply.error));
          else this.#settle(worker, reply);
        });
        worker.on('error', (error) => {
          const failure = this.#lose(worker, error);
          reject(failure);
        });
        worker.on('exit', () => reject(this.#lose(worker, new Error('it exited unexpectedly'))));
      }));
      worker.postMessage({ type: 'job', job } satisfies ToWorker);
    }
    this.started = Promise.all(ready).then(() => undefined);
    this.#answered = Promise.allSettled(ready);
  }

  submit(task: Omit<FillTask, 'id'> | Omit<LoadTask, 'id'> | Omit<CutTask, 'id'> | Omit<ReduceTask, 'id'>): Promise<Done> {
    if (this.failure) return Promise.reject(this.failure);
    const full = { ...task, id: this.#nextId++ } as Task;
    return new Promise((resolve, reject) => {
      this.#waiting.set(full.id, { resolve, reject });
      // Reads and reduces free row buffers: they go first.
      (full.kind === 'cut' ? this.#cuts : this.#fills).push(full);
      this.#dispatch();
    });
  }

  /** Records the first failure: queued tasks are dropped (their promises reject), tasks in flight finish. */
  stop(error: unknown): void {
    if (!this.failure) {
      this.failure = error instanceof SlabchunkError ? error : new SlabchunkError('EWRITE', (error as Error).message, { cause: error });
      this.#onStop(this.failure);
    }
    for (const task of [...this.#fills.splice(0), ...this.#cuts.splice(0)]) {
      this.#waiting.get(task.id)?.reject(this.failure);
      this.#waiting.delete(task.id);
    }
  }

  /** Waits for every worker's answer to the job and for the tasks in flight, then hands the threads back (a thread that failed is ended). */
  async close(): Promise<void> {
    await this.#answered;
    while (this.#running.size > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    for (const worker of this.#workers) {
      worker.removeAllListeners('message').removeAllListeners('error').removeAllListeners('exit');
      if (this.#lost.has(worker)) void worker.terminate();
      else giveBack(worker);
    }
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && !this.failure) {
      const task = this.#fills.shift() ?? this.#cuts.shift();
      if (!task) return;
      const worker = this.#idle.pop()!;
      this.#running.set(worker, task);
      worker.postMessage({ type: 'task', task } satisfies ToWorker);
    }
  }

  #settle(worker: Worker, reply: Reply): void {
    if (reply.type === 'ready') return;
    this.#running.delete(worker);
    this.#idle.push(worker);
    const waiter = reply.id === null ? undefined : this.#waiting.get(reply.id);
    if (reply.id !== null) this.#waiting.delete(reply.id);
    if (reply.type === 'done') waiter?.resolve(reply);
    else {
      const error = fromReply(reply.error);
      this.stop(error);
      waiter?.reject(error);
    }
    this.#dispatch();
  }

  /**
   * A worker that died: its task fails as a read (fill) or a write (cut), or EMEMORY when it ran out of memory,
   * and the run with it.
   */
  #lose(worker: Worker, cause: Error): SlabchunkError {
    this.#lost.add(worker);
    const task = this.#running.get(worker);
    this.#running.delete(worker);
    const outOfMemory = (cause as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
    const reading = task?.kind === 'fill' || task?.kind === 'load';
    const code = outOfMemory ? 'EMEMORY' : reading ? 'EREAD' : 'EWRITE';
    const failure = new SlabchunkError(code, `a worker thread failed${task ? ` ${reading ? 'reading' : 'writing'} row data` : ''}: ${cause.message}`
      + (outOfMemory ? '; lower --threads or --concurrency, or use a smaller chunk (shard)' : ''), { cause });
    this.stop(failure);
    if (task) {
      this.#waiting.get(task.id)?.reject(failure);
      this.#waiting.delete(task.id);
    }
    return failure;
  }
}

function fromReply(error: ErrorReply): SlabchunkError {
  return new SlabchunkError(error.code, error.message, error.key !== undefined ? { key: error.key } : {});
}
