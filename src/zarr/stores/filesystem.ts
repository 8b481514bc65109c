/**
 * The filesystem store: each value is written to a dot-prefixed temporary file in the key's own directory (Zarr
 * readers ignore dot files) and renamed over the final name, so a reader or a crashed run never sees a torn file
 * under a final name.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { isMissing, SlabchunkError } from '../../core/errors.ts';
import type { ByteRange, Store } from './types.ts';

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
 * Throws ESTORE unless `key` is a store key: `/`-separated names, none empty, `.` or `..`, no leading `/` — what
 * every store accepts, so a key cannot leave the store's folder and means the same on every backend.
 */
export function checkStoreKey(key: string): void {
  if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new SlabchunkError('ESTORE', `invalid store key ${JSON.stringify(key)}: keys are /-separated names without . or .. parts`, { key });
  }
}

/** Throws EINVALID unless the offsets and lengths of `range` are whole numbers ≥ 0. */
export function checkByteRange(key: string, range: ByteRange): void {
  const numbers = 'suffixLength' in range ? { 'suffix length': range.suffixLength } : { offset: range.offset, length: range.length };
  for (const [what, n] of Object.entries(numbers)) {
    if (!Number.isSafeInteger(n) || n < 0) throw new SlabchunkError('EINVALID', `byte range ${what} ${n} of ${key} is not a whole number ≥ 0`, { key });
  }
}

/** Errors meaning the filesystem cannot make hard links (FAT, some network and FUSE filesystems). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * Deletes the temporary files a killed writer left under `root` (never a final name). Only for a store no other
 * process is writing: a running writer's temporaries look the same.
 */
async function removeTempFiles(root: string): Promise<number> {
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

/** Writes `parts` one after the other at the handle's position, then flushes them to the disk if asked. */
async function writeParts(handle: FileHandle, parts: Iterable<Uint8Array>, fsync: boolean): Promise<void> {
  // writeFile on an open handle writes at its position, so the parts land one after the other.
  for (const part of parts) await handle.writeFile(part);
  if (fsync) await handle.sync();
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
    checkStoreKey(key);
    return join(this.root, key);
  }

  /** The directory of a folder-like prefix (`''`: the root). */
  #dir(prefix: string): string {
    return prefix === '' ? this.root : this.#path(prefix);
  }

  /** Creates `dir` (and its parents) once per store; with fsync their entries are flushed too. */
  #makeDir(dir: string): Promise<unknown> {
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
    return made;
  }

  /**
   * Opens a new temporary file beside `path`, creating its directory. A directory this store made may have been
   * deleted since (deleteAll, here or through another store on the same folder): then it is made again, once.
   */
  async #openTemp(path: string): Promise<{ temp: string; handle: FileHandle }> {
    const dir = dirname(path);
    await this.#makeDir(dir);
    // Parts of an array job on other machines (or containers) share the directory and may share our pid.
    const temp = join(dir, `.${basename(path)}.${process.pid}.${TEMP_TAG}.${++tempCounter}${TEMP_SUFFIX}`);
    try {
      return { temp, handle: await open(temp, 'wx') };
    } catch (error) {
      if (!isMissing(error)) throw error;
      this.#dirs.delete(dir);
      await this.#makeDir(dir);
      return { temp, handle: await open(temp, 'wx') };
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.#path(key));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Positioned reads of the range (a suffix from the file's size); past the end, fewer bytes or none. */
  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    const path = this.#path(key);
    checkByteRange(key, range);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      // Cut to the file's size first, so a range far past the end allocates nothing.
      const size = (await handle.stat()).size;
      const offset = 'suffixLength' in range ? Math.max(0, size - range.suffixLength) : Math.min(range.offset, size);
      const length = 'suffixLength' in range ? size - offset : Math.min(range.length, size - offset);
      const bytes = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? bytes : bytes.subarray(0, filled);
    } finally {
      await handle.close();
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
      const entries = await readdir(this.#dir(prefix), { withFileTypes: true });
      return entries.filter((e) => e.isFile() && !isTemp(e.name)).map((e) => e.name);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  async folders(prefix: string): Promise<string[]> {
    try {
      const entries = await readdir(this.#dir(prefix), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  async *listAll(prefix: string): AsyncIterable<{ readonly key: string; readonly size: number }> {
    const root = this.#dir(prefix);
    let entries;
    try {
      entries = await readdir(root, { recursive: true, withFileTypes: true });
    } catch (error) {
      // A prefix below a key (a file) holds no keys, as on an object store; the root itself must be a folder.
      if (isMissing(error) || (prefix !== '' && (error as NodeJS.ErrnoException).code === 'ENOTDIR')) return;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isFile() || isTemp(entry.name)) continue;
      const full = join(entry.parentPath ?? entry.path, entry.name);
      // A file removed between the listing and its stat (another writer's replaced value) is not listed.
      const info = await stat(full).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (info) yield { key: relative(root, full).split(sep).join('/'), size: info.size };
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const info = await stat(this.#path(key));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async set(key: string, value: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const path = this.#path(key);
    const { temp, handle } = await this.#openTemp(path);
    try {
      await writeParts(handle, value instanceof Uint8Array ? [value] : value, this.#fsync);
      await handle.close();
      await rename(temp, path);
      if (this.#fsync) await syncDir(dirname(path));
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }

  /**
   * Atomic: the value is written whole to a temporary file, then hard-linked to the final name, which fails with
   * EEXIST when the name exists — so exactly one of racing creators wins, even across machines on NFS, and a reader
   * never sees a torn value. Where the filesystem has no hard links, the final name is opened with O_EXCL instead:
   * still exactly one winner, but a reader may see the value before it is whole.
   */
  async create(key: string, value: Uint8Array): Promise<boolean> {
    const path = this.#path(key);
    const { temp, handle } = await this.#openTemp(path);
    try {
      await writeParts(handle, [value], this.#fsync);
      await handle.close();
      try {
        await link(temp, path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code === 'EEXIST') return false;
        if (!NO_LINKS.has(code)) throw error;
        return await this.#createExclusive(path, value);
      }
      if (this.#fsync) await syncDir(dirname(path));
      return true;
    } finally {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }

  /** `create` without hard links: O_EXCL on the final name. */
  async #createExclusive(path: string, value: Uint8Array): Promise<boolean> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      await writeParts(handle, [value], this.#fsync);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
      throw error;
    }
    await handle.close();
    if (this.#fsync) await syncDir(dirname(path));
    return true;
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  /** Removes the prefix's folder and everything in it; `''` empties the root but keeps it. */
  async deleteAll(prefix: string): Promise<void> {
    const dir = this.#dir(prefix);
    if (prefix !== '') {
      await rm(dir, { recursive: true, force: true });
    } else {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      await Promise.all(names.map((name) => rm(join(dir, name), { recursive: true, force: true })));
    }
    // Directories this store made below are gone: make them again when next written.
    for (const made of this.#dirs.keys()) if (made === dir || made.startsWith(dir + sep)) this.#dirs.delete(made);
  }

  /** The store in the folder `prefix` below this one, with the same fsync setting. */
  within(prefix: string): FileSystemStore {
    checkStoreKey(prefix);
    return new FileSystemStore(join(this.location, prefix), { fsync: this.#fsync });
  }

  /** Deletes the temporary files killed writers left in this store's folder (see {@link removeTempFiles}). */
  removeTemporaries(): Promise<number> {
    return removeTempFiles(this.root);
  }
}
