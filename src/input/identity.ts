/**
 * Inputs that change under us: a file is identified when it is checked (device, inode, size, modification time)
 * and compared again before any row read from it is marked finished, so a truncated, appended, rewritten or
 * replaced input fails the run instead of leaving rows converted from bytes that are no longer there.
 */
import fs from 'node:fs';
import { SlabchunkError } from '../core/errors.ts';
import type { FileIdentity } from './types.ts';

export function identityOf(stat: fs.BigIntStats): FileIdentity {
  return { dev: stat.dev, ino: stat.ino, size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs };
}

/** How the file at `path`, open as `fd` (null: not held open), differs from `identity`; undefined when it does not. */
function changeOf(path: string, fd: number | null, identity: FileIdentity): string | undefined {
  let there: fs.BigIntStats;
  try {
    there = fs.statSync(path, { bigint: true });
  } catch {
    if (fd === null) return 'it was removed or renamed';
    there = fs.fstatSync(fd, { bigint: true });
    if (there.size !== identity.size) return `its size went from ${identity.size} to ${there.size} bytes`;
    return 'it was removed or renamed';
  }
  const open = fd === null ? there : fs.fstatSync(fd, { bigint: true });
  if (open.size !== identity.size) return `its size went from ${identity.size} to ${open.size} bytes`;
  // Before the times: unlinking the file we read (replaced by a rename) changes its ctime too.
  if (there.dev !== identity.dev || there.ino !== identity.ino) return 'another file replaced it';
  if (open.mtimeNs !== identity.mtimeNs) return 'it was written to';
  if (open.ctimeNs !== identity.ctimeNs) return 'it was written to, or its times or permissions were set';
  return undefined;
}

/** Throws EREAD, naming the change, when the input file `name` is no longer the file that was checked. */
export function checkUnchanged(name: string, path: string, fd: number | null, identity: FileIdentity): void {
  const change = changeOf(path, fd, identity);
  if (change === undefined) return;
  throw new SlabchunkError('EREAD', `input ${name} changed while it was being read (${change}); no row read since is marked `
    + 'finished. Wait until nothing writes it, then rerun (with --resume if only its end was still being written)', { key: name });
}
