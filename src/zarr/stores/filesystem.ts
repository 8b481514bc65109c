/**
 * The store layer: three methods on string keys (a missing key is `undefined`), with an atomic `set`.
 * The filesystem implementation writes each value to a dot-prefixed temporary file in the key's own
 * directory (Zarr readers ignore dot files) and renames it over the final name, so a reader or a
 * crashed run never sees a torn file under a final name.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SlabchunkError } from '../../core/errors.ts';

export interface Store {
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  /**
   * Stores `value` under `key` atomically: readers see the old value (or none) or all of the new one.
   * A list of parts is stored as their concatenation, without the caller concatenating them (a shard).
   */
  set(key: string, value: Uint8Array | readonly Uint8Array[]): Promise<void>;
}

export interface FileSystemStoreOptions {
  /**
   * Test hook: the `failOnSet`-th call of `set` (1-based) writes half its bytes to the temporary file,
   * then fails as a full disk would. Lets tests prove that failures leave no torn or temporary files.
   */
  readonly failOnSet?: number;
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
    if (entry.isFile() && entry.name.startsWith('.') && entry.name.endsWith(TEMP_SUFFIX)) {
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

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** A store in a directory; keys are `/`-separated paths below it. */
export class FileSystemStore implements Store {
  readonly root: string;
  readonly #failOnSet: number;
  readonly #fsync: boolean;
  #sets = 0;
  /** Directories created (or being created) by this store: one mkdir per chunk directory, not per chunk. */
  readonly #dirs = new Map<string, Promise<unknown>>();

  constructor(root: string, options: FileSystemStoreOptions = {}) {
    this.root = resolve(root);
    this.#failOnSet = options.failOnSet ?? 0;
    this.#fsync = options.fsync ?? false;
  }

  #path(key: string): string {
    if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      throw new TypeError(`invalid store key ${JSON.stringify(key)}`);
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

  async set(key: string, value: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const path = this.#path(key);
    const dir = dirname(path);
    let made = this.#dirs.get(dir);
    if (!made) {
      // With fsync the new directories' entries are flushed too, else a power loss could drop a chunk directory.
      made = mkdir(dir, { recursive: true }).then((first) => (first && this.#fsync ? syncDir(dirname(first)) : undefined));
      this.#dirs.set(dir, made);
      made.catch(() => this.#dirs.delete(dir));
    }
    await made;
    const n = ++this.#sets;
    // Parts of an array job on other machines (or containers) share the directory and may share our pid.
    const temp = join(dir, `.${basename(path)}.${process.pid}.${TEMP_TAG}.${++tempCounter}${TEMP_SUFFIX}`);
    const handle = await open(temp, 'wx');
    try {
      if (n === this.#failOnSet) {
        const whole = value instanceof Uint8Array ? value : Buffer.concat(value);
        await handle.write(whole, 0, whole.length >> 1);
        throw Object.assign(new Error(`injected failure on write ${n} (${key})`), { code: 'ENOSPC' });
      }
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

/** Files whose presence marks a directory as a Zarr node, so `--overwrite` may replace it. */
const ZARR_MARKERS = ['zarr.json', '.zarray', '.zgroup', '.zattrs'];

/** The entries of output folder `path` (none when it is missing); ESTORE when it is not a folder. */
async function outputEntries(path: string): Promise<string[]> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) {
      throw new SlabchunkError('ESTORE', `${path} exists and is not a directory; choose another output path`, { key: path });
    }
    return await readdir(path);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/**
 * Checks, without changing anything, that `path` may receive a new store: it is missing or an empty
 * directory, or (only with `overwrite`) a Zarr store. Anything else is refused (ESTORE), so a mistyped path
 * never deletes unrelated files. Resolves with the entries to clear.
 */
export async function checkStoreDir(path: string, overwrite: boolean): Promise<string[]> {
  const entries = await outputEntries(path);
  if (entries.length === 0) return [];
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

/** Makes `path` ready to receive a new store after {@link checkStoreDir}: creates it, or clears the old store. */
export async function prepareStoreDir(path: string, overwrite: boolean): Promise<void> {
  const entries = await checkStoreDir(path, overwrite);
  await mkdir(path, { recursive: true });
  await Promise.all(entries.map((e) => rm(join(path, e), { recursive: true, force: true })));
}
