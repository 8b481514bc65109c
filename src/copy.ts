/**
 * Copy kernels: move a 3-D block of elements between two strided byte buffers.
 * Every chunk slabchunk makes (tobytes, the Chunker, export) goes through {@link copyBlock}.
 */
import type { ElementSize } from './dtype.ts';
import type { Vec3 } from './geometry.ts';

/** A strided view of elements inside a byte buffer. */
export interface StridedBytes {
  /** The bytes. Any byteOffset; aligned buffers take the faster typed paths. */
  readonly data: Uint8Array;
  /** Byte offset within `data` of element (0, 0, 0). */
  readonly offset: number;
  /** Element strides along x, y, z; may be negative or zero-free in any order. */
  readonly strides: Vec3;
}

/**
 * Copies the block of `shape` elements of `elementSize` bytes from `src` to `dst`.
 * Both views must hold every element the block addresses; the kernel does not check bounds.
 */
export function copyBlock(dst: StridedBytes, src: StridedBytes, shape: Vec3, elementSize: ElementSize): void {
  if (shape[0] === 0 || shape[1] === 0 || shape[2] === 0) return;
  // Iterate with the destination's fastest axis innermost so writes stream; the two outer axes follow
  // by decreasing destination stride.
  const axes = [0, 1, 2].sort((a, b) => Math.abs(dst.strides[a]) - Math.abs(dst.strides[b]));
  const [i, j, k] = axes as [number, number, number];
  const es = elementSize;
  const ni = shape[i], nj = shape[j], nk = shape[k];
  const dsi = dst.strides[i] * es, dsj = dst.strides[j] * es, dsk = dst.strides[k] * es;
  const ssi = src.strides[i] * es, ssj = src.strides[j] * es, ssk = src.strides[k] * es;
  const d = dst.data, s = src.data;
  if (dsi === es && ssi === es) {
    const run = ni * es;
    for (let c = 0; c < nk; c++) {
      for (let b = 0; b < nj; b++) {
        const so = src.offset + b * ssj + c * ssk;
        d.set(s.subarray(so, so + run), dst.offset + b * dsj + c * dsk);
      }
    }
    return;
  }
  for (let c = 0; c < nk; c++) {
    for (let b = 0; b < nj; b++) {
      let so = src.offset + b * ssj + c * ssk;
      let dO = dst.offset + b * dsj + c * dsk;
      for (let a = 0; a < ni; a++) {
        for (let e = 0; e < es; e++) d[dO + e] = s[so + e];
        so += ssi;
        dO += dsi;
      }
    }
  }
}

/** Fills `count` elements of `dst` from byte `offset` with the element `value` (its bytes). */
export function fillElements(dst: Uint8Array, offset: number, count: number, value: Uint8Array): void {
  if (value.every((b) => b === value[0])) {
    dst.fill(value[0] ?? 0, offset, offset + count * value.length);
    return;
  }
  const end = offset + count * value.length;
  dst.set(value, offset);
  // Doubling copies: log2(count) native copies instead of a per-element loop.
  let filled = value.length;
  while (offset + filled < end) {
    const n = Math.min(filled, end - offset - filled);
    dst.copyWithin(offset + filled, offset, offset + n);
    filled += n;
  }
}
