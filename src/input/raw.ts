/**
 * Raw volumes: a file path, `-` for standard input, or any Readable. Checked once (exists, not a folder, the right
 * size for a regular file), then streamed with the header skipped.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import { SlabchunkError } from '../core/errors.ts';
import { identityOf } from './identity.ts';
import { checkInputSize } from './size.ts';
import type { VolumeGeometry, VolumeInput } from './types.ts';

/** Checks `input` against the volume's geometry; throws EINVALID / ESIZE (the caller's to fix) before anything is read. */
export async function openRawInput(input: string | Readable, { shape, dtype, header }: VolumeGeometry): Promise<VolumeInput> {
  if (typeof input !== 'string' || input === '-') {
    const stream = typeof input === 'string' ? process.stdin : input;
    return { name: typeof input === 'string' ? '-' : '<stream>', seekable: false, read: () => skipHeader(stream, header) };
  }
  const stat = await fsp.stat(input, { bigint: true }).catch((cause: NodeJS.ErrnoException) => {
    throw unreadableInput(input, cause);
  });
  if (stat.isDirectory()) throw new SlabchunkError('EINVALID', `input ${input} is a directory; give the raw volume file`);
  if (!stat.isFile()) {
    // A pipe or device (e.g. `<(zcat scan.raw.gz)`): it cannot seek, so it is read like standard input.
    return { name: input, seekable: false, read: () => skipHeader(fs.createReadStream(input, { highWaterMark: 1 << 20 }), header) };
  }
  checkInputSize(input, Number(stat.size), shape, dtype, header);
  return {
    name: input,
    seekable: true,
    file: { path: input, offset: header, identity: identityOf(stat) },
    read: (range) => fs.createReadStream(input, {
      start: header + (range?.[0] ?? 0),
      ...(range ? { end: header + range[1] - 1 } : {}),
      highWaterMark: 1 << 20,
    }),
  };
}

/** EINVALID for an input path that cannot be read (missing, no permission). */
export function unreadableInput(input: string, cause: NodeJS.ErrnoException): SlabchunkError {
  return new SlabchunkError('EINVALID', `cannot read input ${input}: ${cause.code ?? cause.message}; check the path`, { cause });
}

/**
 * `stream` without its first `count` bytes (a header where we cannot seek). Destroying the result destroys
 * `stream` at once, even while a read of it is pending (a stalled pipe).
 */
function skipHeader(stream: Readable, count: number): Readable {
  if (count === 0) return stream;
  let left = count;
  const skipped = new Readable({
    read() {
      stream.resume();
    },
    destroy(error, callback) {
      stream.destroy();
      callback(error);
    },
  });
  stream.on('data', (piece: Buffer) => {
    if (left >= piece.length) {
      left -= piece.length;
      return;
    }
    const rest = left > 0 ? piece.subarray(left) : piece;
    left = 0;
    if (!skipped.push(rest)) stream.pause();
  });
  stream.once('end', () => skipped.push(null));
  stream.once('error', (error) => skipped.destroy(error));
  return skipped;
}
