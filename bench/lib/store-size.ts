/** What a store written to a folder holds: its files and their bytes, as the benches report them. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export async function storeSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}
