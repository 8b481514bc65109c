/** Positioned reads of a file descriptor, the one loop every input format and the engine use. */
import fs from 'node:fs';

/**
 * Reads up to `length` bytes at file `position` into `dest` from `at`, looping over short reads; returns how many
 * were read, fewer only where the file ends.
 */
export function readAt(fd: number, dest: Uint8Array, at: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, dest, at + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
