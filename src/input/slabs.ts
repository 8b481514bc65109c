/**
 * Self-describing inputs (TIFF, HDF5) are read by plane, not by byte offset: a {@link SlabSource} says where each
 * z-plane lives, is structured-cloneable (the convert engine sends it to every worker thread, which opens its own
 * {@link SlabReader}) and is the same for the main thread's streaming readers (`verify`).
 */
import { Readable } from 'node:stream';
import { bytesPerElement, type DType } from '../core/dtype.ts';
import type { Vec3 } from '../core/geometry.ts';
import type { FileIdentity } from './types.ts';

/** A file the volume is read from, with what identified it when it was checked. */
export interface SourceFile {
  readonly path: string;
  readonly identity: FileIdentity;
}

/** Planes of TIFF files: plane z is page `planes[z][1]` of file `planes[z][0]`. */
export interface TiffSource {
  readonly kind: 'tiff';
  readonly shape: Vec3;
  readonly dtype: DType;
  readonly files: readonly SourceFile[];
  readonly planes: readonly (readonly [file: number, page: number])[];
  /** Lines per strip or tile of the first page: reads of part of a plane keep to whole strips. */
  readonly blockLines: number;
  /** Decoded bytes of the largest strip or tile: what a reader holds at once besides its output. */
  readonly blockBytes: number;
}

/** A 3-D dataset of an HDF5 file, stored (Z, Y, X) in C order: its z-planes are the volume's slabs. */
export interface Hdf5Source {
  readonly kind: 'hdf5';
  readonly shape: Vec3;
  readonly dtype: DType;
  readonly files: readonly [SourceFile];
  readonly dataset: string;
  /** Planes per chunk of a chunked dataset (1 when contiguous): reads keep to whole chunks, each decoded once. */
  readonly chunkPlanes: number;
  /** Lines per chunk (the plane's height when contiguous): whole planes are read a band of chunks at a time. */
  readonly chunkLines: number;
}

export type SlabSource = TiffSource | Hdf5Source;

/** Reads a {@link SlabSource}'s voxels, little-endian, x fastest. */
export interface SlabReader {
  /**
   * Fills `dest` with the volume's bytes from `start` on. The range is whole x-lines, within one plane or whole
   * planes ({@link slabPieces} cuts such ranges).
   */
  read(dest: Uint8Array, start: number): Promise<void>;
  close(): void;
}

/**
 * Lines `[y0, y1)` of planes `[z0, z1)` into `dest`: what a format module implements. Either one plane
 * (`z1 = z0 + 1`) or whole planes (`y0 = 0`, `y1` = the plane's height).
 */
export type PlaneReader = (z0: number, z1: number, y0: number, y1: number, dest: Uint8Array) => Promise<void>;

/** A {@link SlabReader} over a format's plane reader: a range is read as its whole planes at once, plus partial ones. */
export function planeSlabReader(source: SlabSource, readPlanes: PlaneReader, close: () => void): SlabReader {
  const height = source.shape[1];
  const lineBytes = source.shape[0] * bytesPerElement(source.dtype);
  const planeBytes = lineBytes * height;
  return {
    async read(dest, start) {
      for (let at = 0; at < dest.length;) {
        const z = Math.floor((start + at) / planeBytes);
        const y0 = ((start + at) % planeBytes) / lineBytes;
        const left = dest.length - at;
        if (y0 === 0 && left >= planeBytes) {
          const planes = Math.floor(left / planeBytes);
          await readPlanes(z, z + planes, 0, height, dest.subarray(at, at + planes * planeBytes));
          at += planes * planeBytes;
          continue;
        }
        const y1 = Math.min(height, y0 + left / lineBytes);
        const n = (y1 - y0) * lineBytes;
        await readPlanes(z, z + 1, y0, y1, dest.subarray(at, at + n));
        at += n;
      }
    },
    close,
  };
}

/** Opens a reader of `source` (the format's library is loaded on first use). */
export async function openSlabReader(source: SlabSource): Promise<SlabReader> {
  if (source.kind === 'tiff') return (await import('./tiff-read.ts')).openTiffReader(source);
  return (await import('./hdf5.ts')).openHdf5Reader(source);
}

/** Largest run of whole chunks of planes a piece may take to keep to a dataset's chunks. */
const MAX_ALIGNED_BYTES = 256 * 2 ** 20;

/** How a source is stored: pieces keep its blocks (chunks, strips, tiles) whole, so none is decoded twice. */
export interface PieceAlignment {
  /** Planes per block (an HDF5 chunk's depth; 1 for TIFF). */
  readonly planes: number;
  /** Lines per block (an HDF5 chunk's or a TIFF strip's or tile's height). */
  readonly lines: number;
}

/**
 * Byte ranges `[start, end)` of the volume bytes `[from, to)` (plane-aligned) for readers: whole planes up to
 * about `size` bytes, or runs of lines of one plane when a plane is larger. Pieces keep to `align`'s blocks: runs
 * of whole blocks of planes (as long as such a block stays under 256 MiB), and runs of lines of whole blocks.
 */
export function slabPieces(shape: Vec3, dtype: DType, from: number, to: number, size: number, align: PieceAlignment = { planes: 1, lines: 1 }): [number, number][] {
  const lineBytes = shape[0] * bytesPerElement(dtype);
  const planeBytes = lineBytes * shape[1];
  const pieces: [number, number][] = [];
  if (align.planes > 1 && align.planes * planeBytes <= MAX_ALIGNED_BYTES) {
    const chunkBytes = align.planes * planeBytes;
    const step = Math.max(1, Math.floor(size / chunkBytes)) * chunkBytes;
    for (let at = from; at < to;) {
      const end = Math.min(to, (Math.floor(at / chunkBytes) * chunkBytes) + step);
      pieces.push([at, end]);
      at = end;
    }
    return pieces;
  }
  if (planeBytes <= size) {
    const step = Math.floor(size / planeBytes) * planeBytes;
    for (let at = from; at < to; at = Math.min(to, at + step)) pieces.push([at, Math.min(to, at + step)]);
    return pieces;
  }
  const blockBytes = Math.max(1, Math.min(align.lines, shape[1])) * lineBytes;
  const step = Math.max(1, Math.floor(size / blockBytes)) * blockBytes;
  for (let at = from; at < to;) {
    const plane = Math.floor(at / planeBytes) * planeBytes;
    const end = Math.min(to, plane + planeBytes, plane + Math.floor((at - plane) / blockBytes) * blockBytes + step);
    pieces.push([at, end]);
    at = end;
  }
  return pieces;
}

/** How `source` is stored, for {@link slabPieces}. */
export function alignOf(source: SlabSource): PieceAlignment {
  return source.kind === 'hdf5' ? { planes: source.chunkPlanes, lines: source.chunkLines } : { planes: 1, lines: source.blockLines };
}

/** Largest piece a streaming read of a slab source asks for at once. */
const STREAM_PIECE = 4 * 2 ** 20;

/** The volume's bytes `[start, end)` as a stream, read piece by piece (backpressure honoured: one piece ahead). */
export function slabStream(source: SlabSource, range?: readonly [number, number]): Readable {
  const total = source.shape[0] * source.shape[1] * source.shape[2] * bytesPerElement(source.dtype);
  const pieces = slabPieces(source.shape, source.dtype, range?.[0] ?? 0, range?.[1] ?? total, STREAM_PIECE, alignOf(source));
  let reader: Promise<SlabReader> | undefined;
  /** The read in progress: the reader is closed only after it, never under it. */
  let reading: Promise<unknown> = Promise.resolve();
  let next = 0;
  return new Readable({
    read() {
      reader ??= openSlabReader(source);
      const piece = pieces[next++];
      if (!piece) {
        this.push(null);
        return;
      }
      const dest = Buffer.allocUnsafe(piece[1] - piece[0]);
      reading = reader.then((r) => r.read(dest, piece[0])).then(() => this.push(dest), (error: unknown) => this.destroy(error as Error));
    },
    destroy(error, callback) {
      if (!reader) return callback(error);
      const opened = reader;
      void reading.finally(() => opened.then((r) => r.close(), () => undefined)).finally(() => callback(error));
    },
  });
}
