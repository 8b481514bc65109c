/**
 * Our {@link Store} as zarrita's `AsyncReadable`, so zarrita reads any backend — a folder or an `s3://` bucket —
 * through the one interface. zarrita's keys are absolute (`/zarr.json`, `/c/0/1/2`), ours relative to the store.
 * A sharded array reads its shard indexes and inner chunks with `getRange`: one ranged read each, never a whole
 * shard, which is what makes reading from object storage cheap.
 */
import type { AbsolutePath, AsyncReadable, GetOptions, RangeQuery } from '@zarrita/storage';
import type { Store } from './types.ts';

export interface ZarritaStoreOptions {
  /**
   * The array's shards keep their index at the start. zarrita 0.7 reads a shard's index from the end whatever
   * `index_location` says; with this set, its suffix reads (only ever the index) are served from the object's
   * start instead. The index's offsets are absolute, so inner chunk reads need no change.
   */
  readonly indexAtStart?: boolean;
}

/** A readable zarrita store with ranged reads, over `store`. */
export type ZarritaReadable = AsyncReadable & Required<Pick<AsyncReadable, 'getRange'>>;

/** zarrita's view of `store`. Keys outside the store (zarrita's root `/` itself) read as absent. */
export function zarritaStore(store: Store, options: ZarritaStoreOptions = {}): ZarritaReadable {
  const keyOf = (key: AbsolutePath): string | undefined => {
    const relative = key.replace(/^\/+/, '');
    return relative === '' ? undefined : relative;
  };
  return {
    async get(key: AbsolutePath, _opts?: GetOptions) {
      const relative = keyOf(key);
      return relative === undefined ? undefined : store.get(relative);
    },
    async getRange(key: AbsolutePath, range: RangeQuery, _opts?: GetOptions) {
      const relative = keyOf(key);
      if (relative === undefined) return undefined;
      const asked = options.indexAtStart && 'suffixLength' in range ? { offset: 0, length: range.suffixLength } : range;
      return store.getRange(relative, asked);
    },
  };
}
