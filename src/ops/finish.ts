/**
 * Finishing a pyramid: the rows of levels after 0 that no run could make from its own rows (the parts of a split
 * job, a resumed run) are made from the level before them, read back from the store. Level by level, only the rows
 * of the finer level that the missing rows need are read.
 */
import { messageOf, SlabchunkError, wrapError } from '../core/errors.ts';
import { chunkerPlanOf } from '../stream/plan.ts';
import { emptyStats, type SinkStats } from '../zarr/chunk-files.ts';
import { checkJoinable } from '../zarr/join.ts';
import { readRowMarkers } from '../zarr/markers.ts';
import { isRemote, storeAt } from '../zarr/stores/open.ts';
import type { Store } from '../zarr/stores/types.ts';
import { takeLock } from '../zarr/stores/lock.ts';
import { levelBytes, planEngine, runEngine, type EngineStats } from './engine/engine.ts';
import { levelLayouts, levelOptions, rowsToMake, rowsToRead, type LevelSpec } from './levels.ts';
import { parseFill } from './option-values.ts';
import { resolveConvertOptions, type ConvertOptions, type ResolvedConvertOptions } from './options.ts';
import { storeTarget, type PyramidRecord } from './pyramid-store.ts';

export interface FinishRun {
  readonly options: ResolvedConvertOptions;
  readonly levels: readonly LevelSpec[];
  readonly store: string;
  readonly record: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal | undefined;
}

/** What finishing did: rows made per level, rows read back, and the engine's counts over all passes. */
export interface FinishStats extends SinkStats {
  /** Rows made, by level (index = level; level 0 is never made here). */
  readonly rowsMade: readonly number[];
  /** Rows read back from the store, by level. */
  readonly rowsRead: readonly number[];
  readonly passes: readonly EngineStats[];
}

/** Makes every unmade row of the levels after 0, reading the level before each back from the store. */
export async function finishLevels(run: FinishRun): Promise<FinishStats> {
  const { options, levels } = run;
  const layouts = levelLayouts(options, levels);
  const rows = layouts.map((l) => l.rows);
  const store = storeAt(run.store, options);
  const totals = emptyStats();
  const rowsMade = levels.map(() => 0);
  const rowsRead = levels.map(() => 0);
  const passes: EngineStats[] = [];
  for (let from = 0; from + 1 < levels.length; from++) {
    const done = await Promise.all(levels.map((_, l) => readRowMarkers(store, l)));
    const read = rowsToRead(rows, from, done, run.store);
    if (!read) continue;
    const make = rowsToMake(rows, from, read, done);
    const plan = chunkerPlanOf(levelOptions(options, levels[from]!), layouts[from]!.layout);
    const memory = planEngine(options, plan, read.length, undefined, levelBytes(options, levels, from, true), isRemote(run.store));
    const stats = await runEngine({
      options, plan, memory, store: run.store, record: run.record, source: null, rows: read, levels, from, make,
      signal: run.signal,
    });
    passes.push(stats);
    rowsRead[from]! += read.length;
    make.forEach((m, l) => { rowsMade[l]! += m?.size ?? 0; });
    for (const k of ['chunksWritten', 'chunksSkipped', 'bytesStored', 'shardsWritten'] as const) totals[k] += stats[k];
  }
  return { ...totals, rowsMade, rowsRead, passes };
}

/** Options of `finish`: how it runs; what it writes comes from the store's job record. */
export type FinishOptions = Pick<ConvertOptions, 'threads' | 'maxMemory' | 'concurrency' | 'fsync' | 's3Endpoint'> & {
  /** Aborting stops after the rows in flight; their markers are written, and `finish` again continues. */
  readonly signal?: AbortSignal;
};

/** What `finish` did. */
export interface FinishSummary extends FinishStats {
  readonly store: string;
  readonly levels: number;
  readonly seconds: number;
}

/**
 * Writes the pyramid levels that the parts of a split job (`--part`) could not: reads the finest level every part
 * finished back from the store and makes the rest. Idempotent: a finished pyramid is left as it is. ESTORE when the
 * store is not a pyramid slabchunk wrote, or when a part has not finished.
 */
export async function finish(storePath: string, options: FinishOptions = {}): Promise<FinishSummary> {
  const started = process.hrtime.bigint();
  const record = await readRecord(storeAt(storePath, options));
  const pyramid = record.pyramid as PyramidRecord | undefined;
  if (!pyramid) {
    throw new SlabchunkError('ESTORE', `${storePath} is not an OME-Zarr pyramid slabchunk wrote (its job record has no pyramid): finish is for stores converted with --ome`);
  }
  const resolved = resolveConvertOptions({
    ...pyramid, fill: parseFill(pyramid.fill), resume: true,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.maxMemory !== undefined ? { maxMemory: options.maxMemory } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.fsync !== undefined ? { fsync: options.fsync } : {}),
    ...(options.s3Endpoint !== undefined ? { s3Endpoint: options.s3Endpoint } : {}),
  });
  const target = storeTarget(resolved, record);
  const store = storeAt(storePath, resolved);
  // The documents this record makes must be the store's: a record edited by hand, or another version's, is refused.
  await checkJoinable(store, target.docs);
  const lock = await takeLock(store);
  try {
    // Temporaries are left alone: a part still writing coarser rows of its own (parts take no lock) owns some.
    const stats = await finishLevels({
      options: resolved, levels: target.levels, store: storePath, record, signal: options.signal,
    });
    return { ...stats, store: storePath, levels: target.levels.length, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } catch (error) {
    if (options.signal?.aborted) throw new SlabchunkError('EINTERRUPTED', 'interrupted; run slabchunk finish again to continue', { cause: error, resumable: true });
    throw wrapError(error, 'EWRITE', `could not finish ${storePath}`);
  } finally {
    await lock.release();
  }
}

/** The store's job record; ESTORE when there is none (not a store slabchunk wrote). */
async function readRecord(store: Store): Promise<Record<string, unknown>> {
  const key = '.slabchunk/job.json';
  const file = `${store.location}/${key}`;
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(key);
  } catch (error) {
    throw wrapError(error, 'EREAD', `could not read ${file}`);
  }
  if (bytes === undefined) throw new SlabchunkError('ESTORE', `${store.location} has no job record (${key}): give the store slabchunk convert --ome wrote`);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new SlabchunkError('ESTORE', `${file} is not valid JSON (${messageOf(cause)})`, { cause });
  }
}
