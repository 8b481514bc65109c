/**
 * The output folder of a filesystem store: checked before anything is written (missing or empty; a Zarr store to
 * replace with `overwrite`; a store to join for parts and resumed runs), then prepared. A mistyped path never
 * deletes unrelated files, and a path that cannot be used is ESTORE naming it.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing, messageOf, SlabchunkError } from '../../core/errors.ts';
import { SLABCHUNK_DIR, LOCK_NAME } from './lock.ts';

/** Files whose presence marks a directory as a Zarr node, so `--overwrite` may replace it. */
const ZARR_MARKERS = ['zarr.json', '.zarray', '.zgroup', '.zattrs'];

/** The entries of output folder `path` (none when it is missing); ESTORE when it is not a folder. */
async function outputEntries(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if (isMissing(error)) return [];
    throw unusable(path, error);
  }
  if (!info.isDirectory()) throw new SlabchunkError('ESTORE', `${path} exists and is not a directory; choose another output path`, { key: path });
  try {
    return await readdir(path);
  } catch (error) {
    throw unusable(path, error);
  }
}

function unusable(path: string, cause: unknown): SlabchunkError {
  return new SlabchunkError('ESTORE', `cannot use ${path} as the output (${messageOf(cause)}); choose another path`, { key: path, cause });
}

/**
 * Checks, without changing anything, that `path` may receive a new store: it is missing or an empty
 * directory, or (only with `overwrite`) a Zarr store. Anything else is refused (ESTORE), so a mistyped path
 * never deletes unrelated files. Resolves with the entries to clear.
 */
export async function checkStoreDir(path: string, overwrite: boolean): Promise<string[]> {
  const entries = await outputEntries(path);
  // Our own folder alone (a lock, markers of a store since deleted) holds no store: the folder counts as empty.
  if (entries.every((e) => e === SLABCHUNK_DIR)) return entries;
  if (!overwrite) {
    throw new SlabchunkError('ESTORE', `${path} already exists and is not empty; pass --overwrite to replace it, or choose another path`, { key: path });
  }
  if (!entries.some((e) => ZARR_MARKERS.includes(e))) {
    throw new SlabchunkError('ESTORE', `${path} is not empty and holds no Zarr store (no ${ZARR_MARKERS.join(', ')}); refusing to delete it even with --overwrite`, { key: path });
  }
  return entries;
}

/**
 * Checks, without changing anything, that `path` may be joined by another part of the same job (or resumed):
 * missing, or a folder holding only what a Zarr store holds (metadata, chunk folders, hidden files such as
 * another part's temporaries or our markers). A folder of other files is refused (ESTORE).
 */
export async function checkJoinDir(path: string): Promise<void> {
  const foreign = (await outputEntries(path)).filter((e) => !e.startsWith('.') && !ZARR_MARKERS.includes(e) && e !== 'c' && !/^\d+$/.test(e));
  if (foreign.length > 0) {
    throw new SlabchunkError('ESTORE', `${path} holds files that are not part of a Zarr store (${foreign.slice(0, 3).join(', ')}); `
      + 'give the store path every part shares', { key: path });
  }
}

/**
 * Makes `path` ready to receive a new store after {@link checkStoreDir}: creates it, or clears the old store. The
 * old store's row markers go first, so a clearing that fails half-way never leaves markers of rows whose chunks
 * are gone; the lock of the run doing the clearing stays.
 */
export async function prepareStoreDir(path: string, overwrite: boolean): Promise<void> {
  const entries = await checkStoreDir(path, overwrite);
  await mkdir(path, { recursive: true });
  if (entries.includes(SLABCHUNK_DIR)) {
    const ours = join(path, SLABCHUNK_DIR);
    for (const e of await readdir(ours)) if (e !== LOCK_NAME) await rm(join(ours, e), { recursive: true, force: true });
  }
  await Promise.all(entries.filter((e) => e !== SLABCHUNK_DIR).map((e) => rm(join(path, e), { recursive: true, force: true })));
}
