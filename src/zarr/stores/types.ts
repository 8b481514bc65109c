/**
 * The store contract every backend meets (one conformance suite, test/zarr/stores/): a few methods on
 * `/`-separated string keys, a missing key is `undefined`, and `set` is atomic — a reader sees the old value
 * (or none) or all of the new one, never a torn one.
 */
export interface Store {
  /** Where the store lives, for messages (a path, or a URL). */
  readonly location: string;
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  /**
   * Stores `value` under `key` atomically. A list of parts is stored as their concatenation, without the caller
   * concatenating them (a shard is its inner chunks and its index).
   */
  set(key: string, value: Uint8Array | readonly Uint8Array[]): Promise<void>;
  /** The keys directly below `prefix` (a folder-like key), as names relative to it; none when there are none. */
  list(prefix: string): Promise<string[]>;
}
