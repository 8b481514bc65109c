/**
 * `convert()`: a volume (raw file or stream, TIFF, HDF5) to a Zarr store — the engine (worker threads over shared rows) plus
 * the checks, partitioning across array jobs, resume and interrupt handling around it. Options are resolved once,
 * by the option table; the plan and the sink config are projections of them.
 */
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { invalid, messageOf, SlabchunkError, wrapError } from '../core/errors.ts';
import { describeInput, openInput, type DescribedInput } from '../input/index.ts';
import { formatShape, type Vec3 } from '../core/geometry.ts';
import { parseUnit, type SpaceUnit } from '../zarr/ome.ts';
import { chunkerPlanOf } from '../stream/plan.ts';
import { loadSinkCodecs, readyStore } from '../zarr/chunk-files.ts';
import { checkJoinable } from '../zarr/join.ts';
import { readRowMarkers } from '../zarr/markers.ts';
import { sinkOptionsOf } from '../zarr/sink-options.ts';
import { isRemote, storeAt } from '../zarr/stores/open.ts';
import type { Store } from '../zarr/stores/types.ts';
import { checkJoinDir, checkStoreDir } from '../zarr/stores/folder.ts';
import { checkLock, takeLock, type HeldLock } from '../zarr/stores/lock.ts';
import { levelBytes, planEngine, runEngine, type EngineReport, type EngineStats } from './engine/engine.ts';
import { finishLevels, type FinishStats } from './finish.ts';
import { alignedPartRows, levelLayouts, levelOptions, rowsToMake, type LevelSpec } from './levels.ts';
import { pyramidRecord, storeTarget } from './pyramid-store.ts';
import { checkOption, OPTIONS, resolveConvertOptions, type ConvertOptions, type ResolvedConvertOptions } from './options.ts';
import type { Part } from './partition.ts';

/** Progress of a running conversion, reported to `onProgress`. */
export interface Progress {
  /** Volume bytes read so far (header excluded). */
  bytesIn: number;
  /** Volume bytes this run reads in all (header excluded; this part's rows not yet done). */
  bytesTotal: number;
}

export interface ConvertRunOptions extends ConvertOptions {
  /** Called as input bytes arrive (at most once per input piece). */
  onProgress?: (progress: Progress) => void;
  /**
   * Aborting stops reading, lets in-flight chunk writes finish, marks the rows that completed, and rejects
   * with `SlabchunkError('EINTERRUPTED')`; the store is kept for `resume`.
   */
  signal?: AbortSignal;
}

/** What a finished conversion did. */
export interface Summary {
  input: string;
  store: string;
  options: ResolvedConvertOptions;
  /** This process's part of an array job, when partitioned. */
  part?: Part;
  /** Chunk-rows (shard-rows when sharding) along the input's slowest axis this run owns: `[first, end)` of `rowsTotal`. */
  rows: readonly [number, number];
  rowsTotal: number;
  /** Rows of this run's range that were already done (`resume`) and not read again. */
  rowsSkipped: number;
  /** Volume bytes read (header excluded). */
  bytesIn: number;
  /** Bytes of chunk files written (encoded). */
  bytesWritten: number;
  chunksWritten: number;
  /** Shard files written (sharded stores; their inner chunks count in `chunksWritten`). */
  shardsWritten: number;
  /** Chunks not written because every voxel equals the fill value. */
  chunksSkipped: number;
  seconds: number;
  /** Input throughput in MB/s (10^6 bytes). */
  mbPerSecond: number;
  /** Peak resident memory of this process so far. */
  peakRssBytes: number;
  /** How the engine ran: threads, row buffers, the memory estimate, encodes at once and CPU by stage. */
  engine: EngineReport;
  /** The store's arrays: level 0 alone, or the pyramid's levels (`--ome`). */
  levels: readonly LevelSpec[];
  /** A pyramid's levels with rows still to make after this run (a part's: `slabchunk finish` makes them). */
  levelsLeft?: readonly number[];
}

/** A conversion whose arguments, input and output have been checked; nothing is created until `run()`. */
export interface PreparedConvert {
  readonly options: ResolvedConvertOptions;
  readonly part?: Part;
  /** Rows `[first, end)` this run owns, of `rowsTotal`; slabs `[z0, z1)` of the input they cover. */
  readonly rows: readonly [number, number];
  readonly rowsTotal: number;
  readonly slabs: readonly [number, number];
  /** The caller's name of the axis slabs run along: `z` for F input, `x` for C input. */
  readonly slabAxis: 'z' | 'x';
  /** Things the checks found that the user should hear of before the run starts (a stale lock taken over). */
  readonly notes: readonly string[];
  /** What was read from a TIFF or HDF5 input's headers; undefined for raw input. */
  readonly described?: DescribedInput;
  /** The store's arrays: level 0 alone, or the pyramid's levels. */
  readonly levels: readonly LevelSpec[];
  run(): Promise<Summary>;
}

/**
 * Converts a volume into a Zarr store at `output`.
 * `input` is a raw file's path, `-` for standard input, any Readable of the volume's bytes, a folder or glob of
 * TIFF slices, a (Big/OME-)TIFF file, or `file.h5:/dataset`; the last ones state their own shape and dtype.
 * A failed or interrupted run keeps the rows it finished (the error is `resumable`) and removes only
 * temporaries; a fresh run that finished no row removes the store it created.
 */
export async function convert(input: string | Readable, output: string, options: ConvertRunOptions): Promise<Summary> {
  return (await prepareConvert(input, output, options)).run();
}

/**
 * Every check `convert` makes before it creates anything: the options, the geometry, a file input's size
 * against the shape, and the output path. Errors thrown here are the caller's to fix (the CLI exits 2);
 * errors from `run()` are failures of the run (exit 1).
 */
export async function prepareConvert(input: string | Readable, output: string, options: ConvertRunOptions): Promise<PreparedConvert> {
  // A TIFF or HDF5 input says its own shape and dtype; the options may only repeat them.
  const selection = {
    channel: options.channel === undefined ? undefined : checkOption('channel', options.channel),
    time: options.time === undefined ? undefined : checkOption('time', options.time),
  };
  const described = await describeInput(input, selection);
  const opts = resolveConvertOptions(described ? optionsFromFile(options, described) : rawOptions(options));
  // How the input is read where the Zarr metadata cannot say: parts and resumed runs must agree on it too. A
  // pyramid's record also keeps the options that made it, for `finish`.
  const job = {
    inputEndian: opts.endian, inputHeader: opts.header,
    ...(described ? { inputFormat: described.input.slabs.kind, inputChannel: opts.channel ?? 0, inputTime: opts.time ?? 0 } : {}),
    ...(opts.ome ? { pyramid: pyramidRecord(opts) } : {}),
  };
  const target = storeTarget(opts, job);
  const { levels } = target;
  const layouts = levelLayouts(opts, levels);
  // One layout for the plan, the store and every worker.
  const { layout } = layouts[0]!;
  // The whole volume's plan checks the geometry (row sizes, slabs) before anything is opened.
  const plan = chunkerPlanOf(levelOptions(opts, levels[0]!), layout);
  const sinkOptions = sinkOptionsOf(opts, layout, job);
  const { join } = sinkOptions;

  // Rows are chunk-rows, or shard-rows when sharding: the unit parts own and markers record. A pyramid's parts own
  // whole rows of its coarsest level that still gives each part some, so each completes the levels up to it.
  const rows = opts.part ? alignedPartRows(layouts.map((l) => l.rows), opts.part.index, opts.part.count) : ([0, layout.rowsTotal] as const);

  const memory = planEngine(opts, plan, rows[1] - rows[0], described?.input.slabs, levelBytes(opts, levels, 0, false), isRemote(output));
  const source = described?.input ?? await openInput(input, opts);
  if (join && !source.seekable) {
    throw new SlabchunkError('EINVALID', `--part and --resume read byte ranges of the input, so it must be a regular file, not ${typeof input === 'string' && input !== '-' ? `${input} (a pipe or device)` : 'standard input or a stream'}`);
  }
  const store = storeAt(output, opts);
  // Parts share the store and take no lock; a whole-volume run may take over a stale one only to resume or replace.
  const lockNote = await checkLock(store, opts.part !== undefined || opts.resume || opts.overwrite);
  const notes = [
    ...described?.notes ?? [], ...chunkingNotes(described, layout.slabsOf(0, 1)[1]), ...(target.note ? [target.note] : []),
    ...(lockNote && !opts.part ? [lockNote] : []),
  ];
  if (join) {
    await checkJoinDir(store);
    await checkJoinable(store, target.docs);
  } else await checkStoreDir(store, opts.overwrite);

  return {
    options: opts,
    ...(opts.part ? { part: opts.part } : {}),
    rows,
    rowsTotal: layout.rowsTotal,
    slabs: layout.slabsOf(rows[0], rows[1]),
    slabAxis: layout.slabAxis,
    notes,
    ...(described ? { described } : {}),
    levels,
    async run() {
      // A folder this run creates is removed whole if the run finishes nothing; an object store has no folders.
      const before = isRemote(output) ? 'folder' : await fsp.readdir(output).then(() => 'folder' as const, () => 'missing' as const);
      const started = process.hrtime.bigint();
      let bytesIn = 0;
      let rowsSkipped = 0;
      let stats: EngineStats;
      let finished: FinishStats | undefined;
      let lock: HeldLock | undefined;
      /** The store (its documents, or the old store under --overwrite) may have been changed by this run. */
      let touched = false;
      let prepared = false;
      try {
        // The lock comes first: nothing of the store is removed or rewritten by a run that does not hold it.
        if (!opts.part) lock = await takeLock(store);
        let done = levels.map(() => new Set<number>());
        if (opts.resume) {
          try {
            done = await Promise.all(levels.map((_, l) => readRowMarkers(store, l)));
            // A killed run may have left temporaries; with parts, other writers may be using theirs.
            if (!opts.part) await store.removeTemporaries();
          } catch (error) {
            throw wrapError(error, 'EREAD', `could not read what an earlier run left in ${output}`);
          }
        }
        const todo = pendingRows(rows, done[0]!);
        rowsSkipped = rows[1] - rows[0] - todo.length;
        const bytesTotal = todo.reduce((n, r) => {
          const [z0, z1] = layout.slabsOf(r, r + 1);
          return n + (z1 - z0) * plan.slabBytes;
        }, 0);
        const onBytes = (bytes: number) => {
          bytesIn += bytes;
          options.onProgress?.({ bytesIn, bytesTotal });
        };
        // The workers write chunks only: the store is readied here, as the ZarrSink readies its own (codecs load
        // first: one that cannot must fail before --overwrite clears the old store).
        // Every level has level 0's codec and dtype: loading it once checks them all.
        await loadSinkCodecs(sinkOptions);
        touched = true;
        await readyStore(store, target.docs, sinkOptions, true);
        prepared = true;
        const make = rowsToMake(layouts.map((l) => l.rows), 0, todo, done);
        stats = await runEngine({ options: opts, plan, memory, store: output, record: job, source, rows: todo, levels, from: 0, make, signal: options.signal, onBytes });
        // One process owns the whole volume: the levels its rows could not make alone (rows an earlier run made) are
        // made now from the store. A part leaves them to `slabchunk finish`.
        if (opts.ome && !opts.part) finished = await finishLevels({ options: opts, levels, store: output, record: job, signal: options.signal });
      } catch (error) {
        // A refusal, ESTORE, means the folder changed under us since the check: it is not ours to clean.
        if (error instanceof SlabchunkError && error.code === 'ESTORE') throw error;
        throw await keepFinished(error, prepared);
      } finally {
        await lock?.release();
      }
      /**
       * What a failed or interrupted run leaves: its finished rows, with the command that continues, or — when
       * no row of the store is finished — nothing (the folder it made, or what it put in an empty one). A part
       * keeps the store its neighbours share, and a store whose markers cannot be read is kept too.
       */
      async function keepFinished(error: unknown, prepared: boolean): Promise<SlabchunkError> {
        const interrupted = options.signal?.aborted === true;
        const failure = interrupted ? new SlabchunkError('EINTERRUPTED', 'interrupted', { cause: error }) : wrapError(error, 'EWRITE', `could not write ${output}`);
        const outcome = (message: string, resumable: boolean) => new SlabchunkError(failure.code, `${failure.message}${interrupted ? '; ' : '\n'}${message}`, {
          cause: failure.cause ?? error, ...(resumable ? { resumable } : {}), ...(failure.key !== undefined ? { key: failure.key } : {}),
          ...(failure.expected !== undefined ? { expected: failure.expected } : {}), ...(failure.actual !== undefined ? { actual: failure.actual } : {}),
        });
        const resume = interrupted ? 'rerun with --resume to continue' : 'once the cause is fixed, rerun with --resume to continue';
        // Only under the lock: a part's neighbours, or the run whose lock we failed to take, have temporaries of their
        // own, which look the same.
        if (lock) await store.removeTemporaries().catch(() => 0);
        // Failed before it changed anything (taking the lock, loading the codecs): the location is left as it was,
        // but for the folder this run made to hold its lock.
        if (!touched && !join) {
          if (before === 'missing') await fsp.rm(output, { recursive: true, force: true }).catch(() => undefined);
          return outcome(`nothing was written; ${output} is as it was`, false);
        }
        // Before the store was readied, its markers are an old store's (or half-cleared by --overwrite).
        const finished = prepared || join ? await readRowMarkers(store).then((marked) => marked.size, (cause: unknown) => messageOf(cause)) : 0;
        if (typeof finished === 'string') return outcome(`its finished rows could not be counted (${finished}), so ${output} is kept; ${resume}`, true);
        if (join || finished > 0) return outcome(`${finished} of ${layout.rowsTotal} rows of ${output} are finished and kept; ${resume}`, true);
        await removeUnfinished(store, before, failure);
        return outcome(`no row was finished, so nothing is kept${opts.overwrite ? ` (the store that was at ${output} had been removed by --overwrite)` : ''}`, false);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return {
        input: source.name,
        store: output,
        options: opts,
        ...(opts.part ? { part: opts.part } : {}),
        rows,
        rowsTotal: layout.rowsTotal,
        rowsSkipped,
        bytesIn,
        bytesWritten: stats.bytesStored + (finished?.bytesStored ?? 0),
        chunksWritten: stats.chunksWritten + (finished?.chunksWritten ?? 0),
        chunksSkipped: stats.chunksSkipped + (finished?.chunksSkipped ?? 0),
        shardsWritten: stats.shardsWritten + (finished?.shardsWritten ?? 0),
        levels,
        ...(opts.ome ? { levelsLeft: opts.part ? await unfinishedLevels(store, layouts) : [] } : {}),
        engine: {
          threads: stats.threads, rowBuffers: stats.rowBuffers, memoryBytes: stats.memoryBytes,
          peakEncodes: stats.peakEncodes, cpuSeconds: stats.cpuSeconds,
        },
        seconds,
        mbPerSecond: seconds > 0 ? bytesIn / 1e6 / seconds : 0,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
      };
    },
  };
}

/**
 * Removes what a failed fresh run created: the folder it made, or what it put in an empty one. If that fails
 * too, the error says so, so the user knows a partial store is left.
 */
async function removeUnfinished(store: Store, before: 'folder' | 'missing', failure: SlabchunkError): Promise<void> {
  const output = store.location;
  try {
    await store.deleteAll('');
    if (before === 'missing') await fsp.rm(output, { recursive: true, force: true });
  } catch (cause) {
    throw new SlabchunkError(failure.code, `${failure.message}; and the unfinished store at ${output} could not be removed (${messageOf(cause)}): delete it by hand`, {
      cause: failure, ...(failure.key !== undefined ? { key: failure.key } : {}),
    });
  }
}

/** Options that only describe a raw input's bytes: a TIFF or HDF5 file states its own. */
const RAW_ONLY = ['header', 'endian', 'inputOrder'] as const;

/**
 * The options with the shape and dtype read from the file; EINVALID when the options give others, or give what
 * only raw input takes.
 */
function optionsFromFile(options: ConvertOptions, described: DescribedInput): ConvertOptions {
  const name = described.input.name;
  for (const key of RAW_ONLY) {
    if (options[key] !== undefined) throw invalid(`--${OPTIONS[key].flag} describes raw input; ${name} states its own layout: drop --${OPTIONS[key].flag}`);
  }
  if (options.shape !== undefined) {
    const given = checkOption('shape', options.shape);
    if (given.some((n, i) => n !== described.shape[i])) {
      throw invalid(`--shape ${formatShape(given)} differs from the shape read from ${name}, ${formatShape(described.shape)}: drop --shape, or check the input`);
    }
  }
  if (options.dtype !== undefined && checkOption('dtype', options.dtype) !== described.dtype) {
    throw invalid(`--dtype ${String(options.dtype)} differs from the type read from ${name}, ${described.dtype}: drop --dtype, or check the input`);
  }
  return { ...options, shape: described.shape, dtype: described.dtype, ...voxelOf(options, described) };
}

/**
 * A pyramid's voxel size and unit from an OME-TIFF, where the options do not give them (a unit OME-Zarr cannot name
 * is left out). EINVALID for `--unit` alone: it would relabel the file's numbers without converting them.
 */
function voxelOf(options: ConvertOptions, described: DescribedInput): Pick<ConvertOptions, 'voxelSize' | 'unit'> {
  if (!(options.ome === true || options.levels !== undefined) || options.voxelSize !== undefined || !described.voxelSize) return {};
  let unit: SpaceUnit;
  try {
    unit = parseUnit(described.unit ?? 'micrometer');
  } catch {
    return {};
  }
  if (options.unit !== undefined && checkOption('unit', options.unit) !== unit) {
    throw invalid(`--unit ${String(options.unit)} would relabel the voxel size read from ${described.input.name} (${described.voxelSize.join('×')} ${unit}) without converting it: `
      + `give --voxel-size in ${String(options.unit)} too, or drop --unit`);
  }
  return { voxelSize: [...described.voxelSize] as Vec3, unit };
}

/**
 * An HDF5 dataset chunked deeper than, or across, the rows: each of its chunks is decoded once for every row it
 * reaches into. Said before the run, with the chunking that avoids it.
 */
function chunkingNotes(described: DescribedInput | undefined, rowDepth: number): string[] {
  const source = described?.input.slabs;
  if (source?.kind !== 'hdf5' || source.chunkPlanes <= 1 || rowDepth % source.chunkPlanes === 0) return [];
  return [`${described!.input.name} is chunked ${source.chunkPlanes} planes deep and rows are ${rowDepth}: its chunks are decoded once for each row they reach into; `
    + `a --chunk (or --shard) depth that is a multiple of ${source.chunkPlanes} decodes each once`];
}

/** Raw input has one volume: `--channel` and `--time` are for files that hold several. */
function rawOptions(options: ConvertOptions): ConvertOptions {
  for (const key of ['channel', 'time'] as const) {
    if (options[key] !== undefined) throw invalid(`--${key} picks a plane set of a multi-channel OME-TIFF or ImageJ TIFF; the input is raw bytes: drop --${key}`);
  }
  return options;
}

/** The levels with rows not marked done. */
async function unfinishedLevels(store: Store, layouts: readonly { readonly layout: { readonly rowsTotal: number } }[]): Promise<number[]> {
  const left: number[] = [];
  for (let l = 0; l < layouts.length; l++) if ((await readRowMarkers(store, l)).size < layouts[l]!.layout.rowsTotal) left.push(l);
  return left;
}

/** The rows of `[first, end)` not in `done`, ascending. */
function pendingRows(rows: readonly [number, number], done: ReadonlySet<number>): number[] {
  const todo: number[] = [];
  for (let r = rows[0]; r < rows[1]; r++) if (!done.has(r)) todo.push(r);
  return todo;
}

