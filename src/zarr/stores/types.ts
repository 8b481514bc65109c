/**
 * The store contract every backend meets (one conformance suite, test/zarr/stores/): a few methods on
 * `/`-separated string keys, a missing key is `undefined`, and `set` is atomic — a reader sees the old value
 * (or none) or all of the new one, never a torn one.
 */

/** Bytes of a value: `length` bytes from `offset`, or its last `suffixLength` bytes. */
export type ByteRange = { readonly offset: number; readonly length: number } | { readonly suffixLength: number };

export interface Store {
  /** Where the store lives, for messages (a path, or an `s3://` URL). */
  readonly location: string;
  get(key: string): Promise<Uint8Array | undefined>;
  /** The bytes `range` of a value (fewer where it ends); undefined when the key is missing. */
  getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  /**
   * Stores `value` under `key` atomically. A list of parts is stored as their concatenation, without the caller
   * concatenating them (a shard is its inner chunks and its index).
   */
  set(key: string, value: Uint8Array | readonly Uint8Array[]): Promise<void>;
  /**
   * Stores `value` under `key` only if no value is there: false, and nothing written, when one is. What a lock
   * is taken with; a backend that cannot do it atomically says how close it comes in its own docs.
   */
  create(key: string, value: Uint8Array): Promise<boolean>;
  /** The keys directly below `prefix` (a folder-like key; `''` for the root), as names relative to it; none when there are none. */
  list(prefix: string): Promise<string[]>;
  /** The folder-like names directly below `prefix` (`''` for the root) that hold keys further down. */
  folders(prefix: string): Promise<string[]>;
  /**
   * Every key below folder-like `prefix` (`''`: the whole store), however deep, relative to `prefix`, with its size
   * in bytes; in no set order. One listing request per 1000 keys on an object store, with no request per folder.
   */
  listAll(prefix: string): AsyncIterable<{ readonly key: string; readonly size: number }>;
  /** The size in bytes of `key`'s value without reading it; undefined when the key is missing. */
  size(key: string): Promise<number | undefined>;
  /** Deletes `key`; a missing key is no error. */
  delete(key: string): Promise<void>;
  /** Deletes every key below folder-like `prefix` (`''`: the whole store); a missing one is no error. */
  deleteAll(prefix: string): Promise<void>;
  /** The store of the keys below folder-like `prefix` (a pyramid level): same backend, same settings. */
  within(prefix: string): Store;
  /**
   * Removes what killed writers left behind and no reader sees (temporary files; unfinished multipart uploads),
   * never a value. Only for a store no other process is writing: a running writer's look the same. Resolves with
   * how many were removed.
   */
  removeTemporaries(): Promise<number>;
}
