/**
 * One writer per store: a whole-volume conversion holds `.slabchunk/lock` (host, pid, start time) while it
 * writes, so a second one — or an `--overwrite` that would delete the store under it — is refused. Parts of an
 * array job write side by side and take no lock; they only check that no whole-volume run holds one. A lock
 * whose process is gone (killed, the node lost) is stale: `--resume` takes it over.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing, messageOf, SlabchunkError } from '../../core/errors.ts';

/** What a lock file says about the run holding it. */
export interface LockHolder {
  readonly host: string;
  readonly pid: number;
  /** ISO time the run took the lock. */
  readonly started: string;
  /** Tells this run's lock from a later one's, so a run never removes a lock it no longer holds. */
  readonly token: string;
}

/** What a store's lock file says: none, held by a live run, or left by one that is gone. */
export type LockState =
  | { readonly kind: 'none' }
  | { readonly kind: 'live' | 'stale' | 'unknown'; readonly holder: LockHolder; readonly path: string };

const LOCK_KEY = '.slabchunk/lock';

const lockPath = (root: string): string => join(root, LOCK_KEY);

/** Reads the lock of the store at `root` and judges its holder: `live` or `stale` on this host, `unknown` on another. */
export async function readLock(root: string): Promise<LockState> {
  const path = lockPath(root);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return { kind: 'none' };
    throw new SlabchunkError('ESTORE', `cannot read the lock ${path} (${messageOf(error)})`, { key: LOCK_KEY, cause: error });
  }
  let holder: LockHolder;
  try {
    holder = JSON.parse(text) as LockHolder;
  } catch {
    // A lock torn by a crash between create and write names nobody: nobody holds it.
    return { kind: 'stale', holder: { host: '?', pid: 0, started: '?', token: '' }, path };
  }
  if (holder.host !== hostname()) return { kind: 'unknown', holder, path };
  return { kind: isRunning(holder.pid) ? 'live' : 'stale', holder, path };
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const describe = (h: LockHolder): string => `pid ${h.pid} on ${h.host}, since ${h.started}`;

/**
 * Checks, without changing anything, that a run may write the store at `root`: ESTORE when another run holds
 * its lock. A stale lock is no obstacle to `--resume` or `--overwrite` (they take it over); the note saying so
 * is returned for the caller to show.
 */
export async function checkLock(root: string, takeOver: boolean): Promise<string | undefined> {
  const state = await readLock(root);
  if (state.kind === 'none') return undefined;
  const { holder, path } = state;
  if (state.kind === 'live') {
    throw new SlabchunkError('ESTORE', `${root} is being written by another slabchunk run (${describe(holder)}); wait for it to end, `
      + `or stop it and rerun with --resume`, { key: LOCK_KEY });
  }
  if (state.kind === 'unknown') {
    throw new SlabchunkError('ESTORE', `${root} is locked by a slabchunk run on another machine (${describe(holder)}), which cannot `
      + `be checked from here; if that run has ended, delete ${path} and rerun with --resume`, { key: LOCK_KEY });
  }
  if (!takeOver) {
    throw new SlabchunkError('ESTORE', `${root} was left by a run that no longer runs (${describe(holder)}); rerun with --resume `
      + 'to continue it, or --overwrite to start again', { key: LOCK_KEY });
  }
  return `taking over the lock of ${root} from a run that no longer runs (${describe(holder)})`;
}

/** A lock this run holds; `release` removes it (only while it is still ours). */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the lock of the store at `root` after {@link checkLock}: creates it, or replaces a stale one. ESTORE when
 * another run took it in between.
 */
export async function takeLock(root: string): Promise<HeldLock> {
  const path = lockPath(root);
  const holder: LockHolder = { host: hostname(), pid: process.pid, started: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const text = `${JSON.stringify(holder)}\n`;
  await mkdir(join(root, '.slabchunk'), { recursive: true });
  try {
    await writeFile(path, text, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const state = await readLock(root);
    if (state.kind !== 'stale') {
      throw new SlabchunkError('ESTORE', `${root} was locked by another slabchunk run as this one started`
        + `${state.kind === 'none' ? '' : ` (${describe(state.holder)})`}; wait for it to end, or stop it and rerun with --resume`, { key: LOCK_KEY });
    }
    // Replaced whole, by rename: a reader sees the old holder or the new, never a torn file.
    const temp = join(root, '.slabchunk', `.lock.${holder.token}.partial`);
    await writeFile(temp, text);
    await rename(temp, path);
  }
  return {
    // Never fails: a lock that cannot be removed (a read-only or vanished folder) is left stale, for --resume.
    async release() {
      const state = await readLock(root).catch(() => undefined);
      if (state && state.kind !== 'none' && state.holder.token === holder.token) await rm(path, { force: true }).catch(() => undefined);
    },
  };
}
