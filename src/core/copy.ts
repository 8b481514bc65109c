/**
 * Copy kernels: move a 3-D block of elements between two strided byte buffers.
 * Every chunk slabchunk makes (tobytes, the Chunker, export) goes through {@link copyBlock}.
 *
 * The block is first reduced to a plan: axes ordered by destination stride (writes stream),
 * size-1 axes dropped, axes that are contiguous on both sides merged into longer runs. Then:
 * - contiguous runs on both sides: native `set` for long runs, a word loop for short ones
 *   (a native call costs more than moving a few dozen bytes by hand);
 * - otherwise an element loop, in cache-sized tiles when the source's fastest axis is another
 *   axis than the destination's (the C<->F transposing case).
 * Words are the widest of 4, 2, 1 bytes that every address and stride allows. Never a
 * Float64Array: 8-byte elements move as two 32-bit words so NaN payloads survive bit-exact.
 */
import type { ElementSize } from './dtype.ts';
import type { Vec3 } from './geometry.ts';
import { elems, longRuns, runs16, runs32, runs8, transposeBytes, view16, view32, view8 } from './copy-loops.ts';

/** A strided view of elements inside a byte buffer. */
export interface StridedBytes {
  /** The bytes. Any byteOffset; aligned buffers take the faster typed paths. */
  readonly data: Uint8Array;
  /** Byte offset within `data` of element (0, 0, 0). */
  readonly offset: number;
  /** Element strides along x, y, z; may be negative or zero-free in any order. */
  readonly strides: Vec3;
}

/** Runs at least this many bytes long go through native `set`; shorter ones through a word loop. */
const LONG_RUN_BYTES = 256;
/** Tile edge (elements) for the transposing case: two tiles of lines stay well inside L1. */
const TILE = 32;

/**
 * Copies the block of `shape` elements of `elementSize` bytes from `src` to `dst`.
 * Both views must hold every element the block addresses; the kernel does not check bounds.
 */
export function copyBlock(dst: StridedBytes, src: StridedBytes, shape: Vec3, elementSize: ElementSize): void {
  if (shape[0] === 0 || shape[1] === 0 || shape[2] === 0) return;
  const es = elementSize;

  // Plan: up to three axes, byte strides, destination-fastest first.
  const n = [0, 0, 0];
  const ds = [0, 0, 0];
  const ss = [0, 0, 0];
  let dims = 0;
  const axes = axesByStride(dst.strides);
  for (let i = 0; i < 3; i++) {
    const a = axes[i];
    if (shape[a] === 1) continue;
    const dStride = dst.strides[a] * es;
    const sStride = src.strides[a] * es;
    const last = dims - 1;
    // Merge into the previous axis when this one continues it on both sides.
    if (dims > 0 && dStride === n[last] * ds[last] && sStride === n[last] * ss[last]) {
      n[last] *= shape[a];
      continue;
    }
    n[dims] = shape[a];
    ds[dims] = dStride;
    ss[dims] = sStride;
    dims++;
  }
  if (dims === 0) {
    n[0] = 1;
    ds[0] = es;
    ss[0] = es;
    dims = 1;
  }
  for (let a = dims; a < 3; a++) n[a] = 1;

  const dAddr = dst.data.byteOffset + dst.offset;
  const sAddr = src.data.byteOffset + src.offset;
  const contiguous = ds[0] === es && ss[0] === es;
  // A contiguous run moves as raw bytes, so the element size does not constrain its words.
  let w = fit(fit(fit(fit(fit(fit(4, dAddr), sAddr), ds[1]), ds[2]), ss[1]), ss[2]);
  w = contiguous ? fit(w, n[0] * es) : fit(fit(fit(w, es), ds[0]), ss[0]);
  const dBuf = dst.data.buffer;
  const sBuf = src.data.buffer;

  if (contiguous) {
    const run = n[0] * es;
    if (run >= LONG_RUN_BYTES || n[1] * n[2] === 1) {
      longRuns(view8(dBuf), view8(sBuf), dAddr, sAddr, run, n[1], n[2], ds[1], ds[2], ss[1], ss[2]);
    } else if (w === 4) {
      runs32(view32(dBuf), view32(sBuf), dAddr / 4, sAddr / 4, run / 4, n[1], n[2], ds[1] / 4, ds[2] / 4, ss[1] / 4, ss[2] / 4);
    } else if (w === 2) {
      runs16(view16(dBuf), view16(sBuf), dAddr / 2, sAddr / 2, run / 2, n[1], n[2], ds[1] / 2, ds[2] / 2, ss[1] / 2, ss[2] / 2);
    } else {
      runs8(view8(dBuf), view8(sBuf), dAddr, sAddr, run, n[1], n[2], ds[1], ds[2], ss[1], ss[2]);
    }
    return;
  }

  // The source's fastest axis; when it is not the destination's, tile that pair of axes.
  let p = 0;
  for (let a = 1; a < dims; a++) if (Math.abs(ss[a]) < Math.abs(ss[p])) p = a;
  const r = 3 - p;
  if (es === 1 && p !== 0 && ds[0] === 1 && ss[p] === 1 && fit(fit(fit(fit(fit(fit(4, dAddr), sAddr), ss[0]), ss[r]), ds[p]), ds[r]) === 4) {
    // Byte transpose: 4×4 blocks move as four 32-bit loads and stores instead of sixteen byte moves.
    const d8 = view8(dBuf), s8 = view8(sBuf), d32 = view32(dBuf), s32 = view32(sBuf);
    for (let tp = 0; tp < n[p]; tp += TILE) {
      const np = Math.min(TILE, n[p] - tp);
      for (let t0 = 0; t0 < n[0]; t0 += TILE) {
        const n0 = Math.min(TILE, n[0] - t0);
        transposeBytes(d8, s8, d32, s32, dAddr + t0 + tp * ds[p], sAddr + t0 * ss[0] + tp, n0, np, n[r], ds[p], ds[r], ss[0], ss[r]);
      }
    }
    return;
  }
  const d = w === 4 ? view32(dBuf) : w === 2 ? view16(dBuf) : view8(dBuf);
  const s = w === 4 ? view32(sBuf) : w === 2 ? view16(sBuf) : view8(sBuf);
  const k = es / w;
  if (p === 0 || (n[0] <= TILE && n[p] <= TILE)) {
    elems(w, d, s, dAddr / w, sAddr / w, k, n[0], n[1], n[2], ds[0] / w, ds[1] / w, ds[2] / w, ss[0] / w, ss[1] / w, ss[2] / w);
    return;
  }
  // Axes (0, p, r): tiles over 0 and p, the remaining axis r outermost inside each tile call.
  const d0 = ds[0] / w, dp = ds[p] / w, dr = ds[r] / w;
  const s0 = ss[0] / w, sp = ss[p] / w, sr = ss[r] / w;
  for (let tp = 0; tp < n[p]; tp += TILE) {
    const np = Math.min(TILE, n[p] - tp);
    for (let t0 = 0; t0 < n[0]; t0 += TILE) {
      const n0 = Math.min(TILE, n[0] - t0);
      elems(w, d, s, dAddr / w + t0 * d0 + tp * dp, sAddr / w + t0 * s0 + tp * sp, k, n0, np, n[r], d0, dp, dr, s0, sp, sr);
    }
  }
}

/** Axes 0, 1, 2 ordered by increasing |stride| (stable), without a sort and its comparator closure. */
export function axesByStride(st: Vec3): [number, number, number] {
  const a = Math.abs(st[0]), b = Math.abs(st[1]), c = Math.abs(st[2]);
  if (a <= b) {
    if (b <= c) return [0, 1, 2];
    return a <= c ? [0, 2, 1] : [2, 0, 1];
  }
  if (a <= c) return [1, 0, 2];
  return b <= c ? [1, 2, 0] : [2, 1, 0];
}

/** The widest word (4, 2 or 1 bytes) no wider than `w` that divides `v` (an address, length or stride). */
function fit(w: 1 | 2 | 4, v: number): 1 | 2 | 4 {
  if (v % w === 0) return w;
  return w === 4 && v % 2 === 0 ? 2 : 1;
}

/** Fills `count` elements of `dst` from byte `offset` with the element `value` (its bytes). */
export function fillElements(dst: Uint8Array, offset: number, count: number, value: Uint8Array): void {
  if (count <= 0) return;
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
