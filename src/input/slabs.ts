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

/**
 * Planes of TIFF files: plane z is page `planes[z][1]` of file `planes[z][0]`, its IFD at byte `planes[z][2]`
 * (readers parse the one IFD they need: memory stays flat however many pages a file has).
 */
export interface TiffSource {
  readonly kind: 'tiff';
  readonly shape: Vec3;
  readonly dtype: DType;
  readonly files: readonly SourceFile[];
  readonly planes: readonly (readonly [file: number, page: number, ifd: number])[];
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
  /** Voxels per chunk along x (the plane's width when contiguous). */
  readonly chunkWidth: number;
}

export type SlabSource = TiffSource | Hdf5Source;

/** Lines `[y0, y1)` of planes `[z0, z1)`: what one read of a TIFF or HDF5 input fills. */
export interface PlaneBlock {
  readonly z0: number;
  readonly z1: number;
  readonly y0: number;
  readonly y1: number;
}

/** Reads a {@link SlabSource}'s voxels, little-endian, x fastest. */
export interface SlabReader {
  /**
   * Fills `block` into `dest`: line `y` of plane `z` at `(z - z0) * planeStride + (y - y0) * lineBytes`. With a
   * stride of the plane's bytes a block lands where it sits in a row of slabs; with `(y1 - y0) * lineBytes`, packed.
   */
  read(block: PlaneBlock, dest: Uint8Array, planeStride: number): Promise<void>;
  close(): void;
}

/** Opens a reader of `source` (the format's library is loaded on first use). */
export async function openSlabReader(source: SlabSource): Promise<SlabReader> {
  if (source.kind === 'tiff') return (await import('./tiff-read.ts')).openTiffReader(source);
  return (await import('./hdf5.ts')).openHdf5Reader(source);
}

/** Largest run of whole chunks of planes a block may take to keep to a dataset's chunks. */
const MAX_ALIGNED_BYTES = 256 * 2 ** 20;

/** How a source is stored: blocks keep its chunks, strips and tiles whole, so none is decoded twice. */
export interface BlockAlignment {
  /** Planes per stored block (an HDF5 chunk's depth; 1 for TIFF). */
  readonly planes: number;
  /** Lines per stored block (an HDF5 chunk's or a TIFF strip's or tile's height). */
  readonly lines: number;
}

/**
 * Planes `[z0, z1)` cut into blocks of about `size` bytes for readers. Runs of planes keep to `align.planes`
 * (whole chunks of planes, as long as such a run stays under 256 MiB); a run larger than `size` is cut into bands
 * of lines that keep to `align.lines`, so that threads share the decoding of even one deep chunk. `contiguous`
 * blocks (a stream's pieces) are whole planes or lines of one plane: a run of several planes is not cut in y.
 */
export function slabBlocks(shape: Vec3, dtype: DType, z0: number, z1: number, size: number, align: BlockAlignment = { planes: 1, lines: 1 }, contiguous = false): PlaneBlock[] {
  const height = shape[1];
  const lineBytes = shape[0] * bytesPerElement(dtype);
  const planeBytes = lineBytes * height;
  const aligned = align.planes > 1 && align.planes * planeBytes <= MAX_ALIGNED_BYTES;
  // Planes per run: whole chunks of planes, or as many planes as fit in `size` (at least one).
  const run = aligned ? Math.max(1, Math.floor(size / (align.planes * planeBytes))) * align.planes : Math.max(1, Math.floor(size / planeBytes));
  const lines = Math.max(1, Math.min(align.lines, height));
  const blocks: PlaneBlock[] = [];
  for (let a = z0; a < z1;) {
    const b = Math.min(z1, aligned ? (Math.floor(a / align.planes) * align.planes) + run : a + run);
    const depth = b - a;
    if (depth * planeBytes <= size || (contiguous && depth > 1)) blocks.push({ z0: a, z1: b, y0: 0, y1: height });
    else {
      const band = Math.max(1, Math.floor(size / (depth * lines * lineBytes))) * lines;
      for (let y = 0; y < height; y += band) blocks.push({ z0: a, z1: b, y0: y, y1: Math.min(height, y + band) });
    }
    a = b;
  }
  return blocks;
}

/** How `source` is stored, for {@link slabBlocks}. */
export function alignOf(source: SlabSource): BlockAlignment {
  return source.kind === 'hdf5' ? { planes: source.chunkPlanes, lines: source.chunkLines } : { planes: 1, lines: source.blockLines };
}

/** Largest piece a streaming read of a slab source asks for at once. */
const STREAM_PIECE = 4 * 2 ** 20;

/**
 * The volume's bytes `[start, end)` (whole planes; all of them by default) as a stream, read block by block, one
 * block ahead.
 */
export function slabStream(source: SlabSource, range?: readonly [number, number]): Readable {
  const lineBytes = source.shape[0] * bytesPerElement(source.dtype);
  const planeBytes = lineBytes * source.shape[1];
  if (range && (range[0] % planeBytes !== 0 || range[1] % planeBytes !== 0)) throw new RangeError(`a TIFF or HDF5 input is read by whole planes of ${planeBytes} bytes; got bytes ${range[0]}…${range[1]}`);
  const [z0, z1] = range ? [range[0] / planeBytes, range[1] / planeBytes] : [0, source.shape[2]];
  const blocks = slabBlocks(source.shape, source.dtype, z0, z1, STREAM_PIECE, alignOf(source), true);
  let reader: Promise<SlabReader> | undefined;
  /** The read in progress: the reader is closed only after it, never under it. */
  let reading: Promise<unknown> = Promise.resolve();
  let next = 0;
  return new Readable({
    read() {
      reader ??= openSlabReader(source);
      const block = blocks[next++];
      if (!block) {
        this.push(null);
        return;
      }
      const stride = (block.y1 - block.y0) * lineBytes;
      const dest = Buffer.allocUnsafe((block.z1 - block.z0) * stride);
      reading = reader.then((r) => r.read(block, dest, stride)).then(() => this.push(dest), (error: unknown) => this.destroy(error as Error));
    },
    destroy(error, callback) {
      if (!reader) return callback(error);
      const opened = reader;
      void reading.finally(() => opened.then((r) => r.close(), () => undefined)).finally(() => callback(error));
    },
  });
}
