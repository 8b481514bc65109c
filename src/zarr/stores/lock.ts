/**
 * One writer per store: a whole-volume conversion holds `.slabchunk/lock` (host, boot, pid, start time) while it
 * writes, so a second one — or an `--overwrite` that would delete the store under it — is refused. Parts of an
 * array job write side by side and take no lock; they only check that no whole-volume run holds one. A lock
 * whose process is gone (killed, the machine rebooted) is stale: `--resume` takes it over.
 *
 * The lock file is never seen half-written: it is written under a temporary name and hard-linked into place,
 * which fails when a lock exists. Taking over moves the stale file aside first, which only one run can do.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing, messageOf, SlabchunkError } from '../../core/errors.ts';

/** What a lock file says about the run holding it. */
export interface LockHolder {
  readonly host: string;
  /** The kernel's boot id: a pid from before a reboot names nothing. */
  readonly boot: string;
  readonly pid: number;
  /** ISO time the run took the lock. */
  readonly started: string;
  /** Tells one run's lock from another's with the same pid (a restarted container), and ours from theirs. */
  readonly token: string;
}

/** What a store's lock file says: none, held by a live run, left by one that is gone, or held on another host. */
export type LockState =
  | { readonly kind: 'none' }
  | { readonly kind: 'live' | 'stale' | 'unknown'; readonly holder: LockHolder; readonly path: string };

/** slabchunk's own hidden folder in a store (markers, job record, lock), and the lock's name in it. */
export const SLABCHUNK_DIR = '.slabchunk';
export const LOCK_NAME = 'lock';
const LOCK_KEY = `${SLABCHUNK_DIR}/${LOCK_NAME}`;
const NOBODY: LockHolder = { host: '?', boot: '', pid: 0, started: '?', token: '' };

/** Tokens of the locks this process holds: its own pid is no proof that a lock naming it is live. */
const held = new Set<string>();

const lockPath = (root: string): string => join(root, LOCK_KEY);

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function parse(text: string): LockHolder {
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? { ...NOBODY, ...holder } : NOBODY;
  } catch {
    return NOBODY;
  }
}

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
  const holder = parse(text);
  if (holder === NOBODY) return { kind: 'stale', holder, path };
  if (holder.host !== hostname()) return { kind: 'unknown', holder, path };
  return { kind: isLive(holder) ? 'live' : 'stale', holder, path };
}

function isLive(holder: LockHolder): boolean {
  if (holder.boot !== '' && holder.boot !== bootId()) return false;
  if (holder.pid === process.pid) return held.has(holder.token);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const describe = (h: LockHolder): string => `pid ${h.pid} on ${h.host}, since ${h.started}`;

function busy(root: string, holder?: LockHolder): SlabchunkError {
  return new SlabchunkError('ESTORE', `${root} is being written by another slabchunk run${holder ? ` (${describe(holder)})` : ''}; wait for it `
    + 'to end, or stop it and rerun with --resume', { key: LOCK_KEY });
}

/**
 * Checks, without changing anything, that a run may write the store at `root`: ESTORE when another run holds
 * its lock. A stale lock is no obstacle when `takeOver` (`--resume`, `--overwrite`, a part); the note saying it
 * will be taken over is returned for the caller to show.
 */
export async function checkLock(root: string, takeOver: boolean): Promise<string | undefined> {
  const state = await readLock(root);
  if (state.kind === 'none') return undefined;
  const { holder, path } = state;
  if (state.kind === 'live') throw busy(root, holder);
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

/** A lock this run holds; `release` removes it (only while it is still ours) and never fails. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the lock of the store at `root` after {@link checkLock}: creates it, or replaces a stale one. ESTORE when
 * another run holds it (it took it, or took over the same stale lock, in between).
 */
export async function takeLock(root: string): Promise<HeldLock> {
  const path = lockPath(root);
  const dir = join(root, SLABCHUNK_DIR);
  const holder: LockHolder = { host: hostname(), boot: bootId(), pid: process.pid, started: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.lock.${holder.token}.partial`);
  await writeFile(temp, `${JSON.stringify(holder)}\n`);
  try {
    // A released or moved-aside lock makes room between two tries; a third would be a run taking it every time.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await linkOrCreate(temp, path);
        held.add(holder.token);
        return { release: () => release(path, holder.token) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const state = await readLock(root);
      if (state.kind === 'none') continue;
      if (state.kind !== 'stale') throw busy(root, state.holder);
      const aside = join(dir, `.lock.${holder.token}.stale`);
      try {
        await rename(path, aside);
      } catch (error) {
        if (isMissing(error)) continue;
        throw error;
      }
      // Another run may have taken the stale lock over between our read and our move: its live lock is what we
      // moved, and it goes back.
      const moved = parse(await readFile(aside, 'utf8').catch(() => ''));
      if (moved.token !== state.holder.token) {
        await link(aside, path).catch(() => undefined);
        await rm(aside, { force: true });
        throw busy(root, moved);
      }
      await rm(aside, { force: true });
    }
    throw busy(root);
  } finally {
    await rm(temp, { force: true });
  }
}

/** Hard-links `temp` to `path` (EEXIST when it exists); where hard links are not supported, creates it exclusively. */
async function linkOrCreate(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await writeFile(path, await readFile(temp), { flag: 'wx' });
  }
}

async function release(path: string, token: string): Promise<void> {
  held.delete(token);
  const text = await readFile(path, 'utf8').catch(() => '');
  // A lock that cannot be removed (a read-only or vanished folder) is left stale, for --resume.
  if (parse(text).token === token) await rm(path, { force: true }).catch(() => undefined);
}
