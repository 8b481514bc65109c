/**
 * Row markers: an empty object `.slabchunk/rows/<r>` says every file (chunk, or shard) of row `r` — the chunk-row
 * or shard-row along the input's slab axis — is in place; a pyramid's later levels have theirs under
 * `.slabchunk/levels/<L>/rows/`. `--resume` skips marked rows; Zarr readers ignore the hidden folder.
 */
import { SlabchunkError, messageOf } from '../core/errors.ts';
import type { Vec3 } from '../core/geometry.ts';
import type { StoredLayout } from '../core/layout.ts';
import type { Store } from './stores/types.ts';

const MARKER_DIR = '.slabchunk/rows';

/** Where level `level`'s markers are: level 0 (and a bare array) where they always were, later levels of a pyramid apart. */
function markerDir(level: number): string {
  return level === 0 ? MARKER_DIR : `.slabchunk/levels/${level}/rows`;
}

function rowMarkerKey(row: number, level: number): string {
  return `${markerDir(level)}/${row}`;
}

/** Rows of `level` marked done in `store` (none when it has no markers). */
export async function readRowMarkers(store: Store, level = 0): Promise<Set<number>> {
  const names = await store.list(markerDir(level));
  return new Set(names.filter((n) => /^\d+$/.test(n)).map(Number));
}

/** Counts the files of each row as they land, and marks a row once its last file is in place. */
export class RowMarkers {
  readonly #store: Store;
  readonly #layout: StoredLayout;
  /** Files of each row still to be written or skipped. */
  readonly #left = new Map<number, number>();

  constructor(store: Store, layout: StoredLayout) {
    this.#store = store;
    this.#layout = layout;
  }

  /** Counts the file at caller grid coords `file` as in place (or skipped); the row's last one writes its marker. */
  async fileDone(file: Vec3): Promise<void> {
    const row = this.#layout.rowOf(file);
    const left = (this.#left.get(row) ?? this.#layout.filesPerRow) - 1;
    if (left > 0) {
      this.#left.set(row, left);
      return;
    }
    this.#left.delete(row);
    await markRowDone(this.#store, row);
  }
}

/** Writes the marker of row `row` of `level`: call once every file of the row is in place. */
export async function markRowDone(store: Store, row: number, level = 0): Promise<void> {
  const key = rowMarkerKey(row, level);
  try {
    await store.set(key, new Uint8Array(0));
  } catch (cause) {
    throw new SlabchunkError('EWRITE', `could not mark row ${row}${level > 0 ? ` of level ${level}` : ''} done in ${store.location}: ${messageOf(cause)}`, { key, cause });
  }
}
