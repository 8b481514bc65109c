/**
 * ZarrSink: the Writable end of the pipeline. Consumes ChunkRecords (full padded chunks in the stored byte order),
 * skips chunks that hold only the fill value, encodes the rest off the main thread and writes each file
 * atomically. At most `concurrency` chunks are encoding or writing at once, and `_write` calls back only when its
 * chunk has a slot, so backpressure reaches the reader.
 */
import { Writable } from 'node:stream';
import { SlabchunkError } from '../core/errors.ts';
import type { Vec3 } from '../core/geometry.ts';
import type { ChunkRecord } from '../stream/record.ts';
import { taskPool, type TaskPool } from '../stream/task-pool.ts';
import { emptyStats, openChunkFiles, type ChunkFiles, type SinkStats } from './chunk-files.ts';
import { RowMarkers } from './markers.ts';
import { ShardAssembler } from './shard-assembler.ts';
import { isResolvedSinkOptions, resolveSinkOptions, type ResolvedSinkOptions, type ZarrSinkOptions } from './sink-options.ts';
import { storeAt } from './stores/open.ts';
import type { Store } from './stores/types.ts';

export type { SinkStats } from './chunk-files.ts';

/**
 * Writes a Zarr v3 or v2 array from a stream of ChunkRecords (object mode) to `target`: a folder path (checked to
 * be empty, or a Zarr store with `overwrite`), or any {@link Store} (then preparing it is the caller's).
 */
export class ZarrSink extends Writable {
  /** Where the store lives (the folder path, or the store's location). */
  readonly path: string;
  readonly options: ResolvedSinkOptions;
  readonly stats: SinkStats = emptyStats();
  readonly #store: Store;
  readonly #ownsLocation: boolean;
  readonly #pool: TaskPool;
  readonly #shards: ShardAssembler | undefined;
  readonly #markers: RowMarkers | undefined;
  /** Set once the codecs have loaded (`_construct`), before the first write. */
  #files: ChunkFiles | undefined;

  constructor(target: string | Store, options: ZarrSinkOptions | ResolvedSinkOptions) {
    // checked before super(): Writable schedules _construct as soon as it exists, even if we then throw
    const resolved = isResolvedSinkOptions(options) ? options : resolveSinkOptions(options);
    super({ objectMode: true, highWaterMark: 1 });
    this.options = resolved;
    this.#ownsLocation = typeof target === 'string';
    this.#store = typeof target === 'string' ? storeAt(target, resolved) : target;
    this.path = this.#store.location;
    this.#pool = taskPool(resolved.concurrency, (error) => this.destroy(error as Error));
    this.#shards = resolved.layout.shard ? new ShardAssembler(resolved.layout, resolved.zarrFormat, resolved.shardIndex) : undefined;
    this.#markers = resolved.rowMarkers ? new RowMarkers(this.#store, resolved.layout) : undefined;
  }

  /** The store key of the file at grid coordinates `(gx, gy, gz)` (a chunk, or a shard when sharding). */
  keyOf(coords: Vec3): string {
    return this.options.layout.key(coords, this.options.zarrFormat);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#open().then(() => callback(), callback);
  }

  async #open(): Promise<void> {
    this.#files = await openChunkFiles(this.#store, this.options, this.#ownsLocation, { stats: this.stats });
  }

  override _write(record: ChunkRecord, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const problem = this.#check(record);
    if (problem) {
      callback(problem);
      return;
    }
    this.stats.bytesIn += record.data.length;
    const write = this.#shards ? this.#writeInner(this.#shards, record) : this.#writeChunk(record);
    this.#pool.run(async () => {
      // Queued tasks still start after a failure destroyed the sink (p-limit cannot drop them): they do nothing.
      if (this.destroyed) return;
      callback();
      const file = await write();
      if (file !== undefined) await this.#markers?.fileDone(file);
    });
  }

  #check(record: ChunkRecord): SlabchunkError | null {
    const { grid } = this.options.layout;
    const [gx, gy, gz] = record.coords;
    if (!(gx >= 0 && gx < grid[0] && gy >= 0 && gy < grid[1] && gz >= 0 && gz < grid[2])) {
      return new SlabchunkError('ERECORD', `chunk coordinates (${record.coords.join(', ')}) are outside the grid ${grid.join('×')}`);
    }
    const expected = this.options.chunkBytes;
    if (record.data.length !== expected) {
      const key = this.options.layout.describe(record.coords, this.options.zarrFormat);
      return new SlabchunkError('ERECORD', `chunk ${key} has ${record.data.length} bytes, expected ${expected} (a full chunk padded with the fill value)`, {
        key, expected, actual: record.data.length,
      });
    }
    return null;
  }

  /** Unsharded: the task that writes one chunk; resolves with the file's coordinates once it is done. */
  #writeChunk(record: ChunkRecord): () => Promise<Vec3> {
    return async () => {
      const key = this.keyOf(record.coords);
      const files = this.#files!;
      const encoded = await files.encode(key, record.data);
      if (encoded !== undefined) await files.put(key, encoded);
      return record.coords;
    };
  }

  /**
   * Sharded: the task that encodes one inner chunk into its shard; the shard's last inner chunk writes the shard
   * (all of it, once) and resolves with the shard's coordinates, the others with undefined.
   */
  #writeInner(shards: ShardAssembler, record: ChunkRecord): () => Promise<Vec3 | undefined> {
    const slot = shards.claim(record.coords);
    return async () => {
      const files = this.#files!;
      const done = shards.fill(slot, await files.encode(slot.key, record.data));
      if (done === null) return undefined;
      if (done.parts !== undefined) {
        await files.put(slot.key, done.parts);
        this.stats.shardsWritten++;
      }
      return slot.shard;
    };
  }

  override _final(callback: (error?: Error | null) => void): void {
    void this.#pool.drain().then(() => {
      // A shard still waiting for inner chunks would be dropped without a word: the stream did not carry
      // whole shard-rows (a Chunker without the same `shard`, or a zRange off a shard-row boundary).
      const keys = this.#shards?.incomplete() ?? [];
      if (keys.length === 0) return callback();
      callback(new SlabchunkError('ERECORD', `the input ended with ${keys.length} shard(s) missing inner chunks (${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', …' : ''}); `
        + 'feed the sink from a Chunker with the same shard option and whole shard-rows', { key: keys[0]! }));
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // No chunk may still be writing once 'error' or 'close' is seen: callers may inspect the store then.
    void this.#pool.drain().then(() => callback(error));
  }
}
