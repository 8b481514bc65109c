/**
 * The row buffer: the slabs of one row (chunk-row, or shard-row), filled piece by piece and cut into chunks once
 * complete. A row larger than the largest Buffer (4 GiB on Node 20) is held as bands of whole slabs, one Buffer
 * each; the band arithmetic lives here and nowhere else. The convert engine's rows live in shared memory, so its
 * worker threads read into them and cut from them without a copy.
 */
import { constants as bufferConstants } from 'node:buffer';
import { swapElements, type ElementSize } from '../core/dtype.ts';
import { SlabchunkError } from '../core/errors.ts';

export class RowBuffer {
  readonly slabBytes: number;
  /** Bytes the buffer holds: the deepest row it is used for. */
  readonly capacity: number;
  /** Slabs per band: the whole row, or as many as the largest band allows. */
  readonly bandSlabs: number;
  readonly bands: readonly Buffer[];

  /**
   * Allocates room for `slabs` slabs of `slabBytes`; bands of at most `maxBandBytes` (Node's Buffer limit by
   * default). `memory`: `'shared'` allocates SharedArrayBuffers (for worker threads); a list of them is the
   * memory of a shared row buffer made elsewhere, viewed without allocating.
   */
  constructor(slabBytes: number, slabs: number, maxBandBytes: number = bufferConstants.MAX_LENGTH, memory: 'local' | 'shared' | readonly SharedArrayBuffer[] = 'local') {
    this.slabBytes = slabBytes;
    this.capacity = slabBytes * slabs;
    this.bandSlabs = Math.min(slabs, Math.floor(maxBandBytes / slabBytes));
    const band = this.bandSlabs * slabBytes;
    const allocate = (bytes: number, i: number): Buffer => {
      if (Array.isArray(memory)) return Buffer.from(memory[i] as SharedArrayBuffer);
      return memory === 'shared' ? Buffer.from(new SharedArrayBuffer(bytes)) : Buffer.allocUnsafeSlow(bytes);
    };
    try {
      this.bands = Array.from({ length: Math.ceil(this.capacity / band) }, (_, i) => allocate(Math.min(band, this.capacity - i * band), i));
    } catch (cause) {
      throw new SlabchunkError('EMEMORY', `cannot allocate a row buffer of ${this.capacity} bytes; use a smaller chunk (or shard) depth, or free memory`, { cause });
    }
  }

  /** The bands' memory, for a RowBuffer over the same bytes in another thread (shared buffers only). */
  get shared(): SharedArrayBuffer[] {
    return this.bands.map((band) => {
      if (!(band.buffer instanceof SharedArrayBuffer)) throw new TypeError('this row buffer is not in shared memory');
      return band.buffer;
    });
  }

  /** Copies `bytes` into the row from byte `at` (row-relative), across bands. */
  write(bytes: Uint8Array, at: number): void {
    const bandBytes = this.bandSlabs * this.slabBytes;
    for (let done = 0; done < bytes.length;) {
      const band = Math.floor((at + done) / bandBytes);
      const into = at + done - band * bandBytes;
      const n = Math.min(bytes.length - done, bandBytes - into);
      this.bands[band]!.set(bytes.subarray(done, done + n), into);
      done += n;
    }
  }

  /** Swaps the byte order of every element in the first `length` bytes (a big-endian input, once per row). */
  swap(length: number, elementSize: ElementSize): void {
    if (elementSize === 1) return;
    let left = length;
    for (const band of this.bands) {
      const part = band.subarray(0, Math.min(left, band.length));
      swapElements(part, elementSize);
      left -= part.length;
      if (left <= 0) break;
    }
  }

  /** The band holding slab `z` (row-relative), the slab's index in it, and how many slabs from `z` on it holds. */
  locate(z: number): { band: Buffer; slab: number; slabs: number } {
    const band = Math.floor(z / this.bandSlabs);
    const slab = z - band * this.bandSlabs;
    return { band: this.bands[band]!, slab, slabs: this.bandSlabs - slab };
  }
}
