/**
 * Row markers: an empty object `.slabchunk/rows/<r>` says every file (chunk, or shard) of row `r` — the chunk-row
 * or shard-row along the input's slab axis — is in place. `--resume` skips marked rows; Zarr readers ignore the
 * hidden folder.
 */
import { SlabchunkError, messageOf } from '../core/errors.ts';
import type { Vec3 } from '../core/geometry.ts';
import type { StoredLayout } from '../core/layout.ts';
import type { Store } from './stores/types.ts';

const MARKER_DIR = '.slabchunk/rows';

function rowMarkerKey(row: number): string {
  return `${MARKER_DIR}/${row}`;
}

/** Rows marked done in `store` (none when it has no markers). */
export async function readRowMarkers(store: Store): Promise<Set<number>> {
  const names = await store.list(MARKER_DIR);
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

/** Writes row `r`'s marker: call once every file of the row is in place. */
export async function markRowDone(store: Store, row: number): Promise<void> {
  const key = rowMarkerKey(row);
  try {
    await store.set(key, new Uint8Array(0));
  } catch (cause) {
    throw new SlabchunkError('EWRITE', `could not mark row ${row} done in ${store.location}: ${messageOf(cause)}`, { key, cause });
  }
}
