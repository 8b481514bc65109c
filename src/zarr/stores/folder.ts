/**
 * The output location of a store, a folder or an object-store prefix alike: checked before anything is written
 * (empty; a Zarr store to replace with `overwrite`; a store to join for parts and resumed runs), then prepared. A
 * mistyped path never deletes unrelated files or objects, and a location that cannot be used is ESTORE naming it.
 */
import { messageOf, SlabchunkError } from '../../core/errors.ts';
import { SLABCHUNK_DIR, LOCK_NAME } from './lock.ts';
import type { Store } from './types.ts';

/** Names whose presence marks a location as a Zarr node, so `--overwrite` may replace it. */
const ZARR_MARKERS = ['zarr.json', '.zarray', '.zgroup', '.zattrs'];

/** What is directly in a location: its keys, and its folder-like prefixes. */
interface Entries {
  readonly keys: readonly string[];
  readonly folders: readonly string[];
}

const namesOf = ({ keys, folders }: Entries): string[] => [...keys, ...folders];

/** The keys and folders directly in `store` (none when it is missing); ESTORE when it cannot be listed. */
async function outputEntries(store: Store): Promise<Entries> {
  try {
    const [keys, folders] = await Promise.all([store.list(''), store.folders('')]);
    return { keys, folders };
  } catch (error) {
    throw new SlabchunkError('ESTORE', `cannot use ${store.location} as the output (${messageOf(error)}); choose another path`, { key: store.location, cause: error });
  }
}

/**
 * Checks, without changing anything, that `store` may receive a new store: it is missing or empty, or (only with
 * `overwrite`) a Zarr store. Anything else is refused (ESTORE), so a mistyped path never deletes unrelated files.
 * Resolves with the keys and folders to clear.
 */
export async function checkStoreDir(store: Store, overwrite: boolean): Promise<Entries> {
  const found = await outputEntries(store);
  const entries = namesOf(found);
  const path = store.location;
  // Our own folder alone (a lock, markers of a store since deleted) holds no store: the location counts as empty.
  if (entries.every((e) => e === SLABCHUNK_DIR)) return found;
  if (!overwrite) {
    throw new SlabchunkError('ESTORE', `${path} already exists and is not empty; pass --overwrite to replace it, or choose another path`, { key: path });
  }
  if (!entries.some((e) => ZARR_MARKERS.includes(e))) {
    throw new SlabchunkError('ESTORE', `${path} is not empty and holds no Zarr store (no ${ZARR_MARKERS.join(', ')}); refusing to delete it even with --overwrite`, { key: path });
  }
  return found;
}

/**
 * Checks, without changing anything, that `store` may be joined by another part of the same job (or resumed):
 * missing, or holding only what a Zarr store holds (metadata, chunk folders, hidden names such as another part's
 * temporaries or our markers). A location of other files is refused (ESTORE).
 */
export async function checkJoinDir(store: Store): Promise<void> {
  const foreign = namesOf(await outputEntries(store)).filter((e) => !e.startsWith('.') && !ZARR_MARKERS.includes(e) && e !== 'c' && !/^\d+$/.test(e));
  if (foreign.length > 0) {
    throw new SlabchunkError('ESTORE', `${store.location} holds files that are not part of a Zarr store (${foreign.slice(0, 3).join(', ')}); `
      + 'give the store path every part shares', { key: store.location });
  }
}

/**
 * Makes `store` ready to receive a new store after {@link checkStoreDir}: clears the old store. The old store's row
 * markers go first, so a clearing that fails half-way never leaves markers of rows whose chunks are gone; the lock
 * of the run doing the clearing stays.
 */
export async function prepareStoreDir(store: Store, overwrite: boolean): Promise<void> {
  const { keys, folders } = await checkStoreDir(store, overwrite);
  if (folders.includes(SLABCHUNK_DIR)) {
    const own = store.within(SLABCHUNK_DIR);
    const ours = await outputEntries(own);
    await Promise.all([...ours.keys.filter((k) => k !== LOCK_NAME).map((k) => own.delete(k)), ...ours.folders.map((f) => own.deleteAll(f))]);
  }
  await Promise.all([...keys.map((k) => store.delete(k)), ...folders.filter((f) => f !== SLABCHUNK_DIR).map((f) => store.deleteAll(f))]);
}
