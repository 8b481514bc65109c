/**
 * ZarrSink: the Writable end of the pipeline. Consumes ChunkRecords (full padded chunks in the stored
 * byte order), skips chunks that hold only the fill value, encodes the rest off the main thread and
 * writes each one atomically. At most `concurrency` chunks are encoding or writing at once, and
 * `_write` calls back only when its chunk has a slot, so backpressure reaches the reader.
 */
import { availableParallelism } from 'node:os';
import { Writable } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import { bytesPerElement, fillBytes, parseDType, type DType } from '../core/dtype.ts';
import { invalid, SlabchunkError } from '../core/errors.ts';
import { checkVec3, gridShape, parseOrder, product, reverse, type Order, type Vec3 } from '../core/geometry.ts';
import type { ChunkRecord } from '../stream/record.ts';
import { encodeWith, loadCodecs, type BytesCodec } from './codecs/index.ts';
import { checkCodecFits, parseCodec, type CodecSpec } from './codecs/spec.ts';
import { buildMetadata, checkLayout, chunkKey, type ArrayLayout, type FillValue, type ZarrFormat } from './metadata.ts';
import { rowMarkerKey } from './markers.ts';
import { assembleShard, innerIndex, type IndexLocation } from './shard.ts';
import { FileSystemStore, prepareStoreDir, type Store } from './stores/filesystem.ts';

/** The codec used when none is given (also the CLI's default). */
export const DEFAULT_CODEC = 'zstd:3';

/** Bytes of in-flight chunks the default concurrency aims to stay under. */
const DEFAULT_INFLIGHT_BYTES = 256 * 1024 * 1024;

export interface ZarrSinkOptions {
  /** Volume shape `[X, Y, Z]`. */
  readonly shape: Vec3;
  readonly dtype: DType;
  /** Chunk shape `[cx, cy, cz]`. */
  readonly chunk: Vec3;
  /** A codec string (`raw`, `gzip[:level]`, `zstd[:level]`, `blosc[:cname[:clevel[:shuffle]]]`, `+crc32c`) or a parsed spec. Default `zstd:3`. */
  readonly codec?: string | CodecSpec;
  /** Default 3. */
  readonly zarrFormat?: ZarrFormat;
  /** Fill value of padding and absent chunks. Default 0. */
  readonly fill?: FillValue;
  /** Write chunks that hold only the fill value. Default false. */
  readonly writeEmptyChunks?: boolean;
  /** Chunks encoding or writing at once. Default: 4 × cores, fewer when chunks are large (≤ 256 MiB in flight), at least 2. */
  readonly concurrency?: number;
  /** User attributes stored with the array. */
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** Layout of the input, which fixes the Zarr axes (DESIGN.md). Default 'F'. */
  readonly inputOrder?: Order;
  /** Replace an existing non-empty Zarr store at `path`. Default false. */
  readonly overwrite?: boolean;
  /**
   * Shard shape `[sx, sy, sz]`, a multiple of `chunk` (v3 only): records are then inner chunks, each shard is
   * written once, whole, when its last inner chunk arrives (the Chunker's `shard` option sends them shard by shard).
   */
  readonly shard?: Vec3;
  /** Where each shard keeps its index: `end` (default) or `start`. */
  readonly shardIndex?: IndexLocation;
  /** Flush every file to the disk before it is renamed into place (survives power loss; slower). Default false. */
  readonly fsync?: boolean;
  /**
   * Where to write instead of a FileSystemStore at `path` (tests inject failures this way). The caller
   * then owns preparing the location: `overwrite` and the non-empty check are skipped.
   */
  readonly store?: Store;
  /**
   * Join a store that another part of the same job (or an interrupted run) created: accept it when its
   * metadata is byte-identical to ours, keep its chunks, never clear it. Default false.
   */
  readonly join?: boolean;
  /** Write a marker `.slabchunk/rows/<r>` once every chunk (shard) of file row `r` is in place (for `--resume`). Default false. */
  readonly rowMarkers?: boolean;
  /**
   * How the input was read where the Zarr metadata cannot say (e.g. its byte order and header), stored as
   * `.slabchunk/job.json` and compared like the metadata when joining, so parts and resumed runs agree.
   */
  readonly job?: Readonly<Record<string, unknown>>;
}

/** Counters a run reports. */
export interface SinkStats {
  chunksWritten: number;
  /** Chunks not written because every voxel equals the fill value. */
  chunksSkipped: number;
  /** Bytes received in records. */
  bytesIn: number;
  /** Bytes stored for chunks or shards (after encoding), metadata excluded. */
  bytesStored: number;
  /** Shard files written (sharded arrays only). */
  shardsWritten: number;
}

/** Checked, defaulted options: what the sink and {@link buildMetadata} run on. */
export interface ResolvedSinkOptions extends ArrayLayout {
  readonly writeEmptyChunks: boolean;
  readonly concurrency: number;
  readonly overwrite: boolean;
  readonly join: boolean;
  readonly rowMarkers: boolean;
}

/** Checks and defaults the options (EINVALID on the first bad one). Pure; no I/O. */
export function resolveSinkOptions(options: ZarrSinkOptions): ResolvedSinkOptions {
  if (options === null || typeof options !== 'object') throw invalid('ZarrSink options must be an object with shape, dtype and chunk');
  const shape = checkVec3('shape', options.shape, 0);
  const chunk = checkVec3('chunk', options.chunk, 1);
  const dtype = parseDType(options.dtype);
  const codec = typeof options.codec === 'object' && options.codec !== null ? options.codec : parseCodec(options.codec ?? DEFAULT_CODEC);
  const chunkBytes = product(chunk) * bytesPerElement(dtype);
  checkCodecFits(codec, chunkBytes);
  let concurrency = options.concurrency;
  if (concurrency === undefined) {
    concurrency = Math.max(2, Math.min(4 * availableParallelism(), Math.floor(DEFAULT_INFLIGHT_BYTES / chunkBytes)));
  } else if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw invalid(`concurrency must be an integer ≥ 1. Got: ${String(concurrency)}`);
  }
  const resolved: ResolvedSinkOptions = {
    shape,
    chunk,
    dtype,
    codec,
    zarrFormat: options.zarrFormat ?? 3,
    inputOrder: parseOrder(options.inputOrder ?? 'F', 'inputOrder'),
    fill: options.fill ?? 0,
    attributes: options.attributes,
    ...(options.shard !== undefined ? { shard: options.shard, shardIndex: options.shardIndex ?? 'end' } : {}),
    writeEmptyChunks: options.writeEmptyChunks ?? false,
    concurrency,
    overwrite: options.overwrite ?? false,
    join: options.join ?? false,
    rowMarkers: options.rowMarkers ?? false,
  };
  if (resolved.join && resolved.overwrite) {
    throw invalid('overwrite cannot be combined with joining a store (--part, --resume): delete the old store first');
  }
  checkLayout(resolved);
  return resolved;
}

/** Every document a sink writes before its chunks: the Zarr metadata, and `.slabchunk/job.json` when given. */
export function storeDocs(options: ResolvedSinkOptions, job?: Readonly<Record<string, unknown>>): Record<string, string> {
  const docs = buildMetadata(options);
  if (job) docs[JOB_KEY] = `${JSON.stringify(job, null, 2)}\n`;
  return docs;
}

const JOB_KEY = '.slabchunk/job.json';

/**
 * Joining a store (another part of the job, or an earlier run, made it): metadata already there must be
 * byte-identical to `docs`, else this run's options differ from the store's (ESTORE).
 */
export async function checkJoinable(store: Store, path: string, docs: Readonly<Record<string, string>>): Promise<void> {
  for (const [key, text] of Object.entries(docs)) {
    const existing = await store.get(key);
    if (existing !== undefined && !Buffer.from(existing).equals(Buffer.from(text))) {
      throw new SlabchunkError('ESTORE', `${path} was written with other options (its ${key} differs from this run's); `
        + 'use the same --shape, --dtype, --chunk, --shard, --codec, --zarr-format, --fill, --input-order, --endian and --header, or another store', { key });
    }
  }
}

/** Writes a Zarr v3 or v2 array at `path` from a stream of ChunkRecords (object mode). */
export class ZarrSink extends Writable {
  readonly path: string;
  readonly options: ResolvedSinkOptions;
  readonly stats: SinkStats = { chunksWritten: 0, chunksSkipped: 0, bytesIn: 0, bytesStored: 0, shardsWritten: 0 };
  readonly #store: Store;
  readonly #ownStore: boolean;
  readonly #job: Readonly<Record<string, unknown>> | undefined;
  readonly #limit: LimitFunction;
  readonly #grid: Vec3;
  readonly #chunkBytes: number;
  /** A whole chunk of fill value: a chunk equal to it is empty (one memcmp, no per-voxel work). */
  readonly #fillChunk: Buffer;
  readonly #inflight = new Set<Promise<void>>();
  /** Files (chunks, or shards) of each file row still to be written or skipped; a row's marker follows its last. */
  readonly #rowLeft = new Map<number, number>();
  readonly #filesPerRow: number;
  /** Chunks per shard along each axis (1s without sharding). */
  readonly #per: Vec3;
  /** Shards being assembled: their encoded inner chunks (C order over the inner grid) and how many are still due. */
  readonly #shards = new Map<string, { chunks: (Buffer | undefined)[]; left: number }>();
  #codecs: readonly BytesCodec[] = [];

  constructor(path: string, options: ZarrSinkOptions) {
    // checked before super(): Writable schedules _construct as soon as it exists, even if we then throw
    const resolved = resolveSinkOptions(options);
    super({ objectMode: true, highWaterMark: 1 });
    this.path = path;
    this.options = resolved;
    const { chunk, dtype, fill, shape, concurrency } = this.options;
    this.#ownStore = options.store === undefined;
    this.#store = options.store ?? new FileSystemStore(path, { fsync: options.fsync ?? false });
    this.#job = options.job;
    this.#limit = pLimit(concurrency);
    this.#grid = gridShape(shape, chunk);
    this.#chunkBytes = product(chunk) * bytesPerElement(dtype);
    this.#fillChunk = Buffer.alloc(this.#chunkBytes, fillBytes(dtype, fill));
    const s = this.options.shard ?? chunk;
    this.#per = [s[0] / chunk[0], s[1] / chunk[1], s[2] / chunk[2]];
    const files = gridShape(this.#grid, this.#per);
    this.#filesPerRow = this.options.inputOrder === 'F' ? files[0] * files[1] : files[1] * files[2];
  }

  /** The store key of the chunk at grid coordinates `(gx, gy, gz)`. */
  keyOf(coords: Vec3): string {
    return chunkKey(coords, this.options.inputOrder, this.options.zarrFormat);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#open().then(() => callback(), callback);
  }

  async #open(): Promise<void> {
    const docs = storeDocs(this.options, this.#job);
    // Codecs load first: a codec that cannot load (a missing native binding) must fail before --overwrite
    // clears the old store.
    this.#codecs = await loadCodecs(this.options.codec, { elementSize: bytesPerElement(this.options.dtype) });
    if (this.options.join) await checkJoinable(this.#store, this.path, docs);
    else if (this.#ownStore) await prepareStoreDir(this.path, this.options.overwrite);
    for (const [key, text] of Object.entries(docs)) {
      try {
        await this.#store.set(key, Buffer.from(text));
      } catch (cause) {
        throw new SlabchunkError('EWRITE', `could not write ${key} in ${this.path}: ${(cause as Error).message}`, { key, cause });
      }
    }
  }

  override _write(record: ChunkRecord, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const problem = this.#check(record);
    if (problem) {
      callback(problem);
      return;
    }
    this.stats.bytesIn += record.data.length;
    const write = this.options.shard === undefined ? this.#writeChunk(record) : this.#writeInner(record);
    const task = this.#limit(async () => {
      if (this.destroyed) return;
      callback();
      const file = await write();
      if (file !== undefined && this.options.rowMarkers) await this.#fileDone(file);
    }).catch((error: unknown) => {
      this.destroy(error as Error);
    });
    this.#inflight.add(task);
    void task.finally(() => this.#inflight.delete(task));
  }

  #check(record: ChunkRecord): SlabchunkError | null {
    const [gx, gy, gz] = record.coords;
    const grid = this.#grid;
    if (!(gx >= 0 && gx < grid[0] && gy >= 0 && gy < grid[1] && gz >= 0 && gz < grid[2])) {
      return invalid(`chunk coordinates (${record.coords.join(', ')}) are outside the grid ${grid.join('×')}`);
    }
    if (record.data.length !== this.#chunkBytes) {
      return invalid(`chunk ${this.keyOf(record.coords)} has ${record.data.length} bytes, expected ${this.#chunkBytes} (a full chunk padded with the fill value)`, {
        key: this.keyOf(record.coords),
        expected: this.#chunkBytes,
        actual: record.data.length,
      });
    }
    return null;
  }

  /** Encodes a chunk (or an inner chunk of shard `key`) unless it is all fill (then undefined, counted as skipped). */
  async #encode(key: string, data: Buffer): Promise<Buffer | undefined> {
    if (!this.options.writeEmptyChunks && data.equals(this.#fillChunk)) {
      this.stats.chunksSkipped++;
      return undefined;
    }
    try {
      const encoded = await encodeWith(this.#codecs, data);
      this.stats.chunksWritten++;
      return encoded;
    } catch (cause) {
      throw new SlabchunkError('EWRITE', `could not encode chunk ${key} in ${this.path}: ${(cause as Error).message}`, { key, cause });
    }
  }

  async #put(key: string, bytes: Buffer | readonly Uint8Array[]): Promise<void> {
    try {
      await this.#store.set(key, bytes);
      this.stats.bytesStored += Buffer.isBuffer(bytes) ? bytes.length : bytes.reduce((n, part) => n + part.length, 0);
    } catch (cause) {
      throw new SlabchunkError('EWRITE', `could not write ${key} in ${this.path}: ${(cause as Error).message}`, { key, cause });
    }
  }

  /** Unsharded: the task that writes one chunk; resolves with the file's coordinates once it is done. */
  #writeChunk(record: ChunkRecord): () => Promise<Vec3> {
    return async () => {
      const key = this.keyOf(record.coords);
      const encoded = await this.#encode(key, record.data);
      if (encoded !== undefined) await this.#put(key, encoded);
      return record.coords;
    };
  }

  /**
   * Sharded: the task that encodes one inner chunk into its shard; the shard's last inner chunk writes the shard
   * (all of it, once) and resolves with the shard's coordinates, the others with undefined.
   */
  #writeInner(record: ChunkRecord): () => Promise<Vec3 | undefined> {
    const per = this.#per;
    const c = record.coords;
    const shard: Vec3 = [Math.floor(c[0] / per[0]), Math.floor(c[1] / per[1]), Math.floor(c[2] / per[2])];
    const key = this.keyOf(shard);
    let pending = this.#shards.get(key);
    if (pending === undefined) {
      // Inner chunks past the array's end never arrive: they stay absent in the index.
      const due = [0, 1, 2].map((a) => Math.min(per[a]!, this.#grid[a]! - shard[a]! * per[a]!));
      pending = { chunks: new Array<Buffer | undefined>(product(per)), left: due[0]! * due[1]! * due[2]! };
      this.#shards.set(key, pending);
    }
    const inner: Vec3 = [c[0] - shard[0] * per[0], c[1] - shard[1] * per[1], c[2] - shard[2] * per[2]];
    const slot = this.options.inputOrder === 'F' ? innerIndex(reverse(inner), reverse(per)) : innerIndex(inner, per);
    const state = pending;
    return async () => {
      state.chunks[slot] = await this.#encode(key, record.data);
      if (--state.left > 0) return undefined;
      this.#shards.delete(key);
      const bytes = assembleShard(state.chunks, this.options.shardIndex ?? 'end');
      if (bytes !== undefined) {
        await this.#put(key, bytes);
        this.stats.shardsWritten++;
      }
      return shard;
    };
  }

  /** Counts a finished file (chunk or shard) toward its row; the row's last one writes the row's marker. */
  async #fileDone(file: Vec3): Promise<void> {
    const row = this.options.inputOrder === 'F' ? file[2] : file[0];
    const left = (this.#rowLeft.get(row) ?? this.#filesPerRow) - 1;
    if (left > 0) {
      this.#rowLeft.set(row, left);
      return;
    }
    this.#rowLeft.delete(row);
    try {
      await this.#store.set(rowMarkerKey(row), new Uint8Array(0));
    } catch (cause) {
      throw new SlabchunkError('EWRITE', `could not mark row ${row} done in ${this.path}: ${(cause as Error).message}`, { key: rowMarkerKey(row), cause });
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    Promise.all(this.#inflight).then(() => {
      // A shard still waiting for inner chunks would be dropped without a word: the stream did not carry
      // whole shard-rows (a Chunker without the same `shard`, or a zRange off a shard-row boundary).
      if (this.#shards.size === 0) return callback();
      const keys = [...this.#shards.keys()];
      callback(invalid(`the input ended with ${keys.length} shard(s) missing inner chunks (${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', …' : ''}); `
        + 'feed the sink from a Chunker with the same shard option and whole shard-rows', { key: keys[0]! }));
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // No chunk may still be writing once 'error' or 'close' is seen: callers may inspect the store then.
    // Queued tasks are not cleared (p-limit would never settle them); each starts, sees `destroyed`, returns.
    Promise.allSettled(this.#inflight).then(() => callback(error));
  }
}
