/** `inspectStore()`: what `slabchunk info` prints — geometry, codecs, and how much of the grid is on disk, per pyramid level. */
import pLimit from 'p-limit';
import type { DType } from '../core/dtype.ts';
import { errorAt, SlabchunkError, wrapError } from '../core/errors.ts';
import { product, type Order, type Vec3 } from '../core/geometry.ts';
import { readRowMarkers } from '../zarr/markers.ts';
import { finishHint, isGroupAt, openPyramidAt, rowsDoneByLevel, type OpenedLevel, type OpenedPyramid } from '../zarr/pyramid-reader.ts';
import { locate, openArray, type OpenedStore, type ReadSettings, type StoreSource } from '../zarr/reader.ts';
import { indexBytes, readShardIndex, type IndexLocation } from '../zarr/shard.ts';
import type { Store } from '../zarr/stores/types.ts';

/** One array's geometry and what of it is on disk: what a store's report and each pyramid level's share. */
export interface ArrayGeometry {
  /** Stored shape, slowest axis first. */
  shape: Vec3;
  /** The volume's shape `[X, Y, Z]` (the input's axes). */
  volumeShape: Vec3;
  /** Chunk shape (inner chunk when sharded), slowest first. */
  chunks: Vec3;
  shard?: Vec3;
  /** Chunk files the grid has room for (shard files when sharded). */
  filesTotal: number;
  /** Chunk (or shard) files present; absent ones read as the fill value. */
  filesPresent: number;
  /** Sharded stores: inner chunks the shards present hold, and room for in all. */
  innerChunksPresent?: number;
  innerChunksTotal?: number;
  /**
   * Bytes of every file (object) of the store (of the level's array, for a level), metadata included.
   */
  bytesOnDisk: number;
  /** Chunk-rows (shard-rows) along the input's slowest axis marked done, when slabchunk's markers are present. */
  rowsDone?: number;
  rowsTotal: number;
}

export interface StoreInfo extends ArrayGeometry {
  path: string;
  format: 2 | 3;
  dimensionNames?: readonly string[];
  dtype: DType;
  fill: number | bigint | boolean;
  inputOrder: Order;
  /** The codec chain as the metadata states it (v3 `codecs`, v2 `compressor`). */
  codecs: unknown;
  /** The levels of an OME-Zarr pyramid; absent for a bare array. */
  pyramid?: PyramidInfo;
}

/** One level of a pyramid: its array's geometry and files, its place in the multiscale, and its rows done. */
export interface LevelInfo extends ArrayGeometry {
  level: number;
  /** The level array's location (the group's and the dataset's path). */
  path: string;
  /** Scale and translation as the multiscale states them: the axes' order, slowest first. */
  scale: Vec3;
  translation?: Vec3;
  /** Reduction from the previous level per axis, slowest first (`[1, 1, 1]` for level 0). */
  factor: Vec3;
  /** Fewer rows marked done than the level has. */
  unfinished: boolean;
}

/** What the multiscale of an OME-Zarr image says, and each of its levels. */
export interface PyramidInfo {
  /** The OME-Zarr version the metadata states. */
  version?: string;
  /** Axis names, slowest first. */
  axes: readonly string[];
  unit?: string;
  /** The downsampling method (the multiscale's `type`). */
  method?: string;
  name?: string;
  levels: LevelInfo[];
  /** Levels not finished yet, ascending. */
  unfinished: number[];
  /** What finishes them, when some are unfinished. */
  todo?: string;
}

/**
 * What `slabchunk info` reports: geometry, codecs, and how much of the grid is stored. `source` is a folder, an
 * `s3://` URL (`settings.s3Endpoint` for a custom service) or a {@link Store}; everything is read through the
 * store, shard indexes with ranged reads. For an OME-Zarr pyramid the top-level fields describe level 0 (with the
 * whole store's bytes) and `pyramid` lists every level. EREAD names what failed.
 */
export async function inspectStore(source: StoreSource, settings: ReadSettings = {}): Promise<StoreInfo> {
  const located = locate(source, settings);
  const { store: root, at } = located;
  if (await isGroupAt(located)) return inspectPyramid(await openPyramidAt(located));
  const store = await openArray(located);
  let files: ArrayFiles;
  let rowsDone: number;
  try {
    files = await arrayFiles(store);
    rowsDone = (await readRowMarkers(root)).size;
  } catch (error) {
    throw wrapError(error, 'EREAD', `could not read ${at}`);
  }
  return arrayInfo(store, at, files, rowsDone > 0 ? rowsDone : undefined);
}

async function inspectPyramid(pyramid: OpenedPyramid): Promise<StoreInfo> {
  const at = pyramid.path;
  const levels: LevelInfo[] = [];
  let bytesOnDisk = 0;
  try {
    // One listing of the whole store: each level's objects are counted with their level, the rest (group documents,
    // job record, markers) here.
    const counters = pyramid.levels.map((level) => ({ prefix: `${level.datasetPath.replace(/\/+$/, '')}/`, files: fileCounter(level.store) }));
    for await (const { key, size } of pyramid.store.listAll('')) {
      const level = counters.find((c) => key.startsWith(c.prefix));
      if (level) level.files.add(key.slice(level.prefix.length), size);
      else bytesOnDisk += size;
    }
    const done = await rowsDoneByLevel(pyramid);
    for (const [l, level] of pyramid.levels.entries()) {
      const files = await counters[l]!.files.done();
      bytesOnDisk += files.bytesOnDisk;
      levels.push(levelInfo(level, files, done?.[level.level]));
    }
  } catch (error) {
    throw wrapError(error, 'EREAD', `could not read ${at}`);
  }
  const unfinished = levels.filter((l) => l.unfinished).map((l) => l.level);
  const todo = unfinished.length === 0 ? undefined : finishHint(at, unfinished);
  const level0 = levels[0]!;
  const { store } = pyramid.levels[0]!;
  return {
    ...arrayInfo(store, at, { filesPresent: level0.filesPresent, innerChunksPresent: level0.innerChunksPresent ?? 0, bytesOnDisk }, level0.rowsDone),
    pyramid: {
      ...(pyramid.version !== undefined ? { version: pyramid.version } : {}),
      axes: pyramid.axes,
      ...(pyramid.unit !== undefined ? { unit: pyramid.unit } : {}),
      ...(pyramid.method !== undefined ? { method: pyramid.method } : {}),
      ...(pyramid.name !== undefined ? { name: pyramid.name } : {}),
      levels,
      unfinished,
      ...(todo ? { todo } : {}),
    },
  };
}

/** The files of one array in its store. */
interface ArrayFiles {
  filesPresent: number;
  innerChunksPresent: number;
  bytesOnDisk: number;
}

/** Counts the chunk (shard) objects of the array, and the inner chunks their indexes list (one ranged read each). */
async function arrayFiles(store: OpenedStore): Promise<ArrayFiles> {
  const files = fileCounter(store);
  for await (const { key, size } of store.store.listAll('')) files.add(key, size);
  return files.done();
}

/** Shard indexes read at once: each is a round trip to an object store. */
const INDEX_READS = 16;

/**
 * Counts one array's objects as they are listed (keys relative to the array): bytes of all, chunk (shard) objects
 * apart from metadata (hidden keys, `zarr.json`), and the inner chunks each shard's index lists, read meanwhile.
 */
function fileCounter(store: OpenedStore): { add(key: string, size: number): void; done(): Promise<ArrayFiles> } {
  const files: ArrayFiles = { filesPresent: 0, innerChunksPresent: 0, bytesOnDisk: 0 };
  const limit = pLimit(INDEX_READS);
  const reads: Promise<void>[] = [];
  return {
    add(key, size) {
      files.bytesOnDisk += size;
      const parts = key.split('/');
      if (parts.some((p) => p.startsWith('.')) || parts.at(-1) === 'zarr.json') return;
      files.filesPresent++;
      if (!store.layout.stored.shard) return;
      const read = limit(async () => {
        try {
          // Read first, then added: `+= await` would add to the count as it was before the read.
          const inner = await countInner(store.store, key, store.layout.chunksPerShard, store.shardIndex!);
          files.innerChunksPresent += inner;
        } catch (error) {
          throw errorAt(error, 'EREAD', `shard ${key} of ${store.path}`, { key });
        }
      });
      // Reported by done(); until then a failed read must not count as unhandled.
      read.catch(() => undefined);
      reads.push(read);
    },
    async done() {
      await Promise.all(reads);
      return files;
    },
  };
}

/** One array's geometry, and its files and rows done as counted. */
function geometryOf(store: OpenedStore, files: ArrayFiles, rowsDone: number | undefined): ArrayGeometry {
  const { layout } = store;
  const { stored, file } = layout;
  return {
    shape: stored.shape,
    volumeShape: layout.shape,
    chunks: stored.chunks,
    ...(stored.shard ? { shard: stored.shard } : {}),
    filesTotal: product(file.fileGrid),
    filesPresent: files.filesPresent,
    ...(stored.shard ? { innerChunksPresent: files.innerChunksPresent, innerChunksTotal: product(file.grid) } : {}),
    bytesOnDisk: files.bytesOnDisk,
    ...(rowsDone !== undefined ? { rowsDone } : {}),
    rowsTotal: layout.rowsTotal,
  };
}

/** A store's report: its (level 0's) array's geometry, codecs, files and rows done, at `at`. */
function arrayInfo(store: OpenedStore, at: string, files: ArrayFiles, rowsDone: number | undefined): StoreInfo {
  return {
    path: at,
    format: store.format,
    ...(store.dimensionNames ? { dimensionNames: store.dimensionNames } : {}),
    dtype: store.dtype,
    fill: store.fill,
    inputOrder: store.layout.inputOrder,
    codecs: store.format === 3 ? store.metadata.codecs : { compressor: store.metadata.compressor, filters: store.metadata.filters },
    ...geometryOf(store, files, rowsDone),
  };
}

function levelInfo(level: OpenedLevel, files: ArrayFiles, rowsDone: number | undefined): LevelInfo {
  const { store } = level;
  return {
    level: level.level,
    path: store.path,
    scale: level.scale,
    ...(level.translation ? { translation: level.translation } : {}),
    factor: level.factor,
    ...geometryOf(store, files, rowsDone),
    unfinished: rowsDone !== undefined && rowsDone < store.layout.rowsTotal,
  };
}

/** Inner chunks present in the shard at `key`: its index entries that are not absent, the index read by range. */
async function countInner(store: Store, key: string, count: number, location: IndexLocation): Promise<number> {
  const length = indexBytes(count);
  const index = await store.getRange(key, location === 'start' ? { offset: 0, length } : { suffixLength: length });
  if (index === undefined) throw new SlabchunkError('EREAD', 'is listed but cannot be read: it was deleted while being counted');
  if (index.length < length) throw new SlabchunkError('EREAD', `is ${index.length} bytes, shorter than its index (${length} bytes): the file is truncated`);
  return readShardIndex(index, count).filter((entry) => entry !== undefined).length;
}
