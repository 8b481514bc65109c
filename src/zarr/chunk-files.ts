/**
 * Turning chunks into store files, the same way wherever it happens (the ZarrSink, the convert engine's worker
 * threads): chunks that hold only the fill value are skipped, the rest encoded, every file put atomically, and
 * failures named by key.
 */
import { fillBytes } from '../core/dtype.ts';
import { messageOf, SlabchunkError } from '../core/errors.ts';
import type { BytesCodec } from './codecs/index.ts';
import { encodeWith } from './codecs/index.ts';
import type { ResolvedSinkOptions } from './sink-options.ts';
import type { Store } from './stores/types.ts';

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

export function emptyStats(): SinkStats {
  return { chunksWritten: 0, chunksSkipped: 0, bytesIn: 0, bytesStored: 0, shardsWritten: 0 };
}

export class ChunkFiles {
  readonly stats: SinkStats;
  readonly #store: Store;
  readonly #codecs: readonly BytesCodec[];
  readonly #writeEmpty: boolean;
  /** A whole chunk of fill value: a chunk equal to it is empty (one memcmp, no per-voxel work). */
  readonly #fillChunk: Buffer;
  readonly #onEncode: ((running: boolean) => void) | undefined;

  /**
   * Counts into `stats` (new counters by default). `onEncode` hears each encode start (true) and end (false): the
   * engine counts the encodes running at once.
   */
  constructor(store: Store, options: ResolvedSinkOptions, codecs: readonly BytesCodec[], hooks: { stats?: SinkStats; onEncode?: (running: boolean) => void } = {}) {
    this.stats = hooks.stats ?? emptyStats();
    this.#store = store;
    this.#codecs = codecs;
    this.#writeEmpty = options.writeEmptyChunks;
    this.#fillChunk = Buffer.alloc(options.chunkBytes, fillBytes(options.dtype, options.fill));
    this.#onEncode = hooks.onEncode;
  }

  /** Encodes a chunk (or an inner chunk of shard `key`) unless it is all fill (then undefined, counted as skipped). */
  async encode(key: string, data: Buffer): Promise<Buffer | undefined> {
    if (!this.#writeEmpty && data.equals(this.#fillChunk)) {
      this.stats.chunksSkipped++;
      return undefined;
    }
    this.#onEncode?.(true);
    try {
      const encoded = await encodeWith(this.#codecs, data);
      this.stats.chunksWritten++;
      return encoded;
    } catch (cause) {
      throw new SlabchunkError('EWRITE', `could not encode chunk ${key} in ${this.#store.location}: ${messageOf(cause)}`, { key, cause });
    } finally {
      this.#onEncode?.(false);
    }
  }

  /** Puts one file; `count` adds its bytes to `bytesStored` (chunks and shards, not metadata). */
  async put(key: string, bytes: Buffer | readonly Uint8Array[], count = true): Promise<void> {
    try {
      await this.#store.set(key, bytes);
    } catch (cause) {
      throw new SlabchunkError('EWRITE', `could not write ${key} in ${this.#store.location}: ${messageOf(cause)}`, { key, cause });
    }
    if (count) this.stats.bytesStored += Buffer.isBuffer(bytes) ? bytes.length : bytes.reduce((n, part) => n + part.length, 0);
  }
}
