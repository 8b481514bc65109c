/**
 * The filesystem store: each value is written to a dot-prefixed temporary file in the key's own directory (Zarr
 * readers ignore dot files) and renamed over the final name, so a reader or a crashed run never sees a torn file
 * under a final name.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isMissing, SlabchunkError } from '../../core/errors.ts';
import type { Store } from './types.ts';

export interface FileSystemStoreOptions {
  /**
   * Flush each file to the disk before renaming it into place, and the directory after, so a power loss
   * leaves every final name whole too (a process crash never tears one either way). Slower: one disk flush
   * per file. Default false.
   */
  readonly fsync?: boolean;
}

let tempCounter = 0;
const TEMP_TAG = randomBytes(6).toString('hex');
const TEMP_SUFFIX = '.partial';
const isTemp = (name: string): boolean => name.startsWith('.') && name.endsWith(TEMP_SUFFIX);

/**
 * Deletes the temporary files a killed writer left under `root` (never a final name). Only for a store no other
 * process is writing: a running writer's temporaries look the same.
 */
export async function removeTempFiles(root: string): Promise<number> {
  let removed = 0;
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return 0;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isFile() && isTemp(entry.name)) {
      await rm(join(entry.parentPath ?? entry.path, entry.name), { force: true });
      removed++;
    }
  }
  return removed;
}

/** Flushes a directory's entries (a rename) to the disk. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A store in a directory; keys are `/`-separated paths below it. */
export class FileSystemStore implements Store {
  readonly root: string;
  readonly location: string;
  readonly #fsync: boolean;
  /** Directories created (or being created) by this store: one mkdir per chunk directory, not per chunk. */
  readonly #dirs = new Map<string, Promise<unknown>>();

  constructor(root: string, options: FileSystemStoreOptions = {}) {
    this.root = resolve(root);
    this.location = root;
    this.#fsync = options.fsync === true;
  }

  #path(key: string): string {
    if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      throw new SlabchunkError('ESTORE', `invalid store key ${JSON.stringify(key)}: keys are /-separated names without . or .. parts`, { key });
    }
    return join(this.root, key);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.#path(key));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await stat(this.#path(key))).isFile();
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    try {
      const entries = await readdir(this.#path(prefix), { withFileTypes: true });
      return entries.filter((e) => e.isFile() && !isTemp(e.name)).map((e) => e.name);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  async set(key: string, value: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const path = this.#path(key);
    const dir = dirname(path);
    let made = this.#dirs.get(dir);
    if (!made) {
      // With fsync the new directories' entries are flushed too, else a power loss could drop a chunk directory.
      made = mkdir(dir, { recursive: true }).then(
        (first) => (first && this.#fsync ? syncDir(dirname(first)) : undefined),
        // A recursive mkdir on a read-only filesystem reports ENOENT; the store's own folder says why (EROFS, EACCES).
        async (error: unknown) => {
          throw await access(this.root, constants.W_OK).then(() => error, (cause: unknown) => cause);
        },
      );
      this.#dirs.set(dir, made);
      made.catch(() => this.#dirs.delete(dir));
    }
    await made;
    // Parts of an array job on other machines (or containers) share the directory and may share our pid.
    const temp = join(dir, `.${basename(path)}.${process.pid}.${TEMP_TAG}.${++tempCounter}${TEMP_SUFFIX}`);
    const handle = await open(temp, 'wx');
    try {
      // writeFile on an open handle writes at its position, so the parts land one after the other.
      for (const part of value instanceof Uint8Array ? [value] : value) await handle.writeFile(part);
      if (this.#fsync) await handle.sync();
      await handle.close();
      await rename(temp, path);
      if (this.#fsync) await syncDir(dir);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }
}
