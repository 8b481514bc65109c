/**
 * Row completion markers: an empty file `.slabchunk/rows/<r>` says every chunk of file row `r` (the chunk-row
 * along the input's slowest axis) is renamed into place. `--resume` skips marked rows; Zarr readers ignore the
 * hidden folder.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const MARKER_DIR = '.slabchunk/rows';

export function rowMarkerKey(row: number): string {
  return `${MARKER_DIR}/${row}`;
}

/** Rows marked done in the store at `storePath` (none when the store or the folder is missing). */
export async function readRowMarkers(storePath: string): Promise<Set<number>> {
  try {
    const names = await readdir(join(storePath, MARKER_DIR));
    return new Set(names.filter((n) => /^\d+$/.test(n)).map(Number));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
}
