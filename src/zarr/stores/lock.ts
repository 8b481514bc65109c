/**
 * One writer per store: a whole-volume conversion holds `.slabchunk/lock` (host, boot, pid, start time) while it
 * writes, so a second one — or an `--overwrite` that would delete the store under it — is refused. Parts of an
 * array job write side by side and take no lock; they only check that no whole-volume run holds one. A lock
 * whose process is gone (killed, the machine rebooted) is stale: `--resume` takes it over.
 *
 * The lock is created only where none exists (`Store.create`), whole. Taking over a stale one goes through a claim
 * named after it, which only one run can create and which it keeps until its own lock is in place, so two runs
 * taking over the same stale lock never both win — where `create` is atomic (a filesystem; S3 with conditional
 * PUTs; not Swift, whose check-then-put leaves a window of a round trip). A claim left by a run that died while
 * taking over is judged like a lock, and removed when stale.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { messageOf, SlabchunkError } from '../../core/errors.ts';
import type { Store } from './types.ts';

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

/** Reads the lock of `store` and judges its holder: `live` or `stale` on this host, `unknown` on another. */
export function readLock(store: Store): Promise<LockState> {
  return readHolder(store, LOCK_KEY);
}

/** Reads the holder written at `key` (the lock, or a claim on it) and judges it. */
async function readHolder(store: Store, key: string): Promise<LockState> {
  const path = `${store.location}/${key}`;
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(key);
  } catch (error) {
    // A file where the store's folder should be holds no lock; the output checks say what is wrong with it.
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return { kind: 'none' };
    throw new SlabchunkError('ESTORE', `cannot read the lock ${path} (${messageOf(error)})`, { key, cause: error });
  }
  if (bytes === undefined) return { kind: 'none' };
  const holder = parse(Buffer.from(bytes).toString('utf8'));
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
 * Checks, without changing anything, that a run may write `store`: ESTORE when another run holds its lock. A stale
 * lock is no obstacle when `takeOver` (`--resume`, `--overwrite`, a part); the note saying it will be taken over
 * is returned for the caller to show.
 */
export async function checkLock(store: Store, takeOver: boolean): Promise<string | undefined> {
  const state = await readLock(store);
  if (state.kind === 'none') return undefined;
  const { holder, path } = state;
  const root = store.location;
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
 * Takes the lock of `store` after {@link checkLock}: creates it, or replaces a stale one. ESTORE when another run
 * holds it (it took it, or took over the same stale lock, in between).
 */
export async function takeLock(store: Store): Promise<HeldLock> {
  const root = store.location;
  const holder: LockHolder = { host: hostname(), boot: bootId(), pid: process.pid, started: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const bytes = Buffer.from(`${JSON.stringify(holder)}\n`);
  // From here our claims count as live, to other runs of this process too.
  held.add(holder.token);
  let claimed: string | undefined;
  try {
    // A released or replaced stale lock, or a dead claim removed, makes room between tries; more would be runs
    // taking the lock every time.
    for (let attempt = 0; attempt < 4; attempt++) {
      if (await store.create(LOCK_KEY, bytes)) {
        // Our lock is in place: whoever claims the stale lock now finds ours instead.
        if (claimed) await store.delete(claimed).catch(() => undefined);
        return { release: () => release(store, holder.token) };
      }
      const state = await readLock(store);
      if (state.kind === 'none') continue;
      if (state.kind !== 'stale') throw busy(root, state.holder);
      const claim = `${SLABCHUNK_DIR}/lock.${state.holder.token || 'unreadable'}.claim`;
      // Another stale lock than the one we claimed (rare: a third run came and died): not ours to delete.
      if (claimed !== undefined && claimed !== claim) throw busy(root);
      if (claimed === undefined) {
        if (!(await store.create(claim, bytes))) {
          const other = await readHolder(store, claim);
          if (other.kind === 'live' || other.kind === 'unknown') throw busy(root, other.holder);
          // The claim of a run that died taking over: removed, and the take-over tried again.
          await store.delete(claim);
          continue;
        }
        claimed = claim;
      }
      // Only the stale lock we claimed is deleted: a lock that is now someone else's is theirs.
      const now = await readLock(store);
      if (now.kind === 'none') continue;
      if (now.holder.token !== state.holder.token) throw busy(root, now.holder);
      await store.delete(LOCK_KEY);
    }
    throw busy(root);
  } catch (error) {
    held.delete(holder.token);
    if (claimed) await store.delete(claimed).catch(() => undefined);
    throw error;
  }
}

async function release(store: Store, token: string): Promise<void> {
  held.delete(token);
  const bytes = await store.get(LOCK_KEY).catch(() => undefined);
  // A lock that cannot be removed (a read-only folder, an unreachable server) is left stale, for --resume.
  if (bytes && parse(Buffer.from(bytes).toString('utf8')).token === token) await store.delete(LOCK_KEY).catch(() => undefined);
}
