/**
 * Turning chunks into store files, the same way wherever it happens (the ZarrSink, the convert engine's worker
 * threads): chunks that hold only the fill value are skipped, the rest encoded, every file put atomically, and
 * failures named by key.
 */
import { fillBytes } from '../core/dtype.ts';
import { messageOf, SlabchunkError, wrapError } from '../core/errors.ts';
import { codecContext, encodeWith, loadCodecs, type BytesCodec } from './codecs/index.ts';
import { checkJoinable, storeDocs } from './join.ts';
import type { ResolvedSinkOptions } from './sink-options.ts';
import { prepareStoreDir } from './stores/folder.ts';
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

type Hooks = { stats?: SinkStats; onEncode?: (running: boolean) => void };

/** The encoders of `options`' codec; EWRITE naming it when one cannot load (a missing native binding). */
export async function loadSinkCodecs(options: ResolvedSinkOptions): Promise<BytesCodec[]> {
  try {
    return await loadCodecs(options.codec, codecContext(options.dtype));
  } catch (error) {
    throw wrapError(error, 'EWRITE', `could not load the ${options.codec.compressor.name} codec (reinstall slabchunk's dependencies)`);
  }
}

/**
 * Readies `store` for chunks and returns their writer. The codecs load first: one that cannot must fail before
 * --overwrite clears the old store. Then a joined store is checked (parts, resume), or the folder prepared when
 * `prepareFolder` (the store is a folder this run owns), and the metadata written.
 */
export async function openChunkFiles(store: Store, options: ResolvedSinkOptions, prepareFolder: boolean, hooks: Hooks = {}): Promise<ChunkFiles> {
  const files = new ChunkFiles(store, options, await loadSinkCodecs(options), hooks);
  await readyStore(store, storeDocs(options, options.job), options, prepareFolder);
  return files;
}

/**
 * Checks a joined store's documents against `docs` (parts, resume), or prepares the folder when `prepareFolder`
 * (a store this run owns), then writes `docs`.
 */
export async function readyStore(store: Store, docs: Readonly<Record<string, string>>, options: { readonly join: boolean; readonly overwrite: boolean }, prepareFolder: boolean): Promise<void> {
  try {
    if (options.join) await checkJoinable(store, docs);
    else if (prepareFolder) await prepareStoreDir(store, options.overwrite);
  } catch (error) {
    throw wrapError(error, 'EWRITE', `could not prepare ${store.location} for the store`);
  }
  for (const [key, text] of Object.entries(docs)) {
    try {
      await store.set(key, Buffer.from(text));
    } catch (cause) {
      throw new SlabchunkError('EWRITE', `could not write ${key} in ${store.location}: ${messageOf(cause)}`, { key, cause });
    }
  }
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
  constructor(store: Store, options: ResolvedSinkOptions, codecs: readonly BytesCodec[], hooks: Hooks = {}) {
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
