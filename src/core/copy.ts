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

// Views of whole buffers, indexed by absolute address / word size. Plain views (never the caller's
// Buffer subclass) keep every loop below monomorphic; they are cached per buffer because callers
// such as tobytes copy thousands of small blocks between the same two buffers.
interface Views {
  u8?: Uint8Array;
  u16?: Uint16Array;
  u32?: Uint32Array;
}
const viewCache = new WeakMap<ArrayBufferLike, Views>();

function views(b: ArrayBufferLike): Views {
  let v = viewCache.get(b);
  if (v === undefined) {
    v = {};
    viewCache.set(b, v);
  }
  return v;
}
function view8(b: ArrayBufferLike): Uint8Array {
  const v = views(b);
  return (v.u8 ??= new Uint8Array(b));
}
function view16(b: ArrayBufferLike): Uint16Array {
  const v = views(b);
  return (v.u16 ??= new Uint16Array(b, 0, Math.floor(b.byteLength / 2)));
}
function view32(b: ArrayBufferLike): Uint32Array {
  const v = views(b);
  return (v.u32 ??= new Uint32Array(b, 0, Math.floor(b.byteLength / 4)));
}

function longRuns(d: Uint8Array, s: Uint8Array, dB: number, sB: number, run: number,
  n1: number, n2: number, ds1: number, ds2: number, ss1: number, ss2: number): void {
  for (let c = 0; c < n2; c++) {
    for (let b = 0; b < n1; b++) {
      const so = sB + b * ss1 + c * ss2;
      d.set(s.subarray(so, so + run), dB + b * ds1 + c * ds2);
    }
  }
}

// The three run loops and the three element loops are the same code over different view types;
// one shared function would see three array maps and lose V8's monomorphic fast path. Runs are
// unrolled by sixteen words: measured ~1.5x over the plain loop for 64-byte runs.
function runs32(d: Uint32Array, s: Uint32Array, dB: number, sB: number, len: number,
  n1: number, n2: number, ds1: number, ds2: number, ss1: number, ss2: number): void {
  for (let c = 0; c < n2; c++) {
    let dO = dB + c * ds2, sO = sB + c * ss2;
    for (let b = 0; b < n1; b++) {
      let t = 0;
      for (; t + 16 <= len; t += 16) {
        const o = dO + t, i = sO + t;
        d[o] = s[i]; d[o + 1] = s[i + 1]; d[o + 2] = s[i + 2]; d[o + 3] = s[i + 3];
        d[o + 4] = s[i + 4]; d[o + 5] = s[i + 5]; d[o + 6] = s[i + 6]; d[o + 7] = s[i + 7];
        d[o + 8] = s[i + 8]; d[o + 9] = s[i + 9]; d[o + 10] = s[i + 10]; d[o + 11] = s[i + 11];
        d[o + 12] = s[i + 12]; d[o + 13] = s[i + 13]; d[o + 14] = s[i + 14]; d[o + 15] = s[i + 15];
      }
      for (; t + 4 <= len; t += 4) {
        const o = dO + t, i = sO + t;
        d[o] = s[i]; d[o + 1] = s[i + 1]; d[o + 2] = s[i + 2]; d[o + 3] = s[i + 3];
      }
      for (; t < len; t++) d[dO + t] = s[sO + t];
      dO += ds1;
      sO += ss1;
    }
  }
}
function runs16(d: Uint16Array, s: Uint16Array, dB: number, sB: number, len: number,
  n1: number, n2: number, ds1: number, ds2: number, ss1: number, ss2: number): void {
  for (let c = 0; c < n2; c++) {
    let dO = dB + c * ds2, sO = sB + c * ss2;
    for (let b = 0; b < n1; b++) {
      let t = 0;
      for (; t + 16 <= len; t += 16) {
        const o = dO + t, i = sO + t;
        d[o] = s[i]; d[o + 1] = s[i + 1]; d[o + 2] = s[i + 2]; d[o + 3] = s[i + 3];
        d[o + 4] = s[i + 4]; d[o + 5] = s[i + 5]; d[o + 6] = s[i + 6]; d[o + 7] = s[i + 7];
        d[o + 8] = s[i + 8]; d[o + 9] = s[i + 9]; d[o + 10] = s[i + 10]; d[o + 11] = s[i + 11];
        d[o + 12] = s[i + 12]; d[o + 13] = s[i + 13]; d[o + 14] = s[i + 14]; d[o + 15] = s[i + 15];
      }
      for (; t + 4 <= len; t += 4) {
        const o = dO + t, i = sO + t;
        d[o] = s[i]; d[o + 1] = s[i + 1]; d[o + 2] = s[i + 2]; d[o + 3] = s[i + 3];
      }
      for (; t < len; t++) d[dO + t] = s[sO + t];
      dO += ds1;
      sO += ss1;
    }
  }
}
function runs8(d: Uint8Array, s: Uint8Array, dB: number, sB: number, len: number,
  n1: number, n2: number, ds1: number, ds2: number, ss1: number, ss2: number): void {
  for (let c = 0; c < n2; c++) {
    let dO = dB + c * ds2, sO = sB + c * ss2;
    for (let b = 0; b < n1; b++) {
      let t = 0;
      for (; t + 16 <= len; t += 16) {
        const o = dO + t, i = sO + t;
        d[o] = s[i]; d[o + 1] = s[i + 1]; d[o + 2] = s[i + 2]; d[o + 3] = s[i + 3];
        d[o + 4] = s[i + 4]; d[o + 5] = s[i + 5]; d[o + 6] = s[i + 6]; d[o + 7] = s[i + 7];
        d[o + 8] = s[i + 8]; d[o + 9] = s[i + 9]; d[o + 10] = s[i + 10]; d[o + 11] = s[i + 11];
        d[o + 12] = s[i + 12]; d[o + 13] = s[i + 13]; d[o + 14] = s[i + 14]; d[o + 15] = s[i + 15];
      }
      for (; t + 4 <= len; t += 4) {
        const o = dO + t, i = sO + t;
        d[o] = s[i]; d[o + 1] = s[i + 1]; d[o + 2] = s[i + 2]; d[o + 3] = s[i + 3];
      }
      for (; t < len; t++) d[dO + t] = s[sO + t];
      dO += ds1;
      sO += ss1;
    }
  }
}

type Words = Uint8Array | Uint16Array | Uint32Array;

/** Element loop in `w`-byte words, `k` words per element; strides in words. */
function elems(w: 1 | 2 | 4, d: Words, s: Words, dB: number, sB: number, k: number,
  n0: number, n1: number, n2: number, ds0: number, ds1: number, ds2: number, ss0: number, ss1: number, ss2: number): void {
  if (w === 4) elems32(d as Uint32Array, s as Uint32Array, dB, sB, k, n0, n1, n2, ds0, ds1, ds2, ss0, ss1, ss2);
  else if (w === 2) elems16(d as Uint16Array, s as Uint16Array, dB, sB, k, n0, n1, n2, ds0, ds1, ds2, ss0, ss1, ss2);
  else elems8(d as Uint8Array, s as Uint8Array, dB, sB, k, n0, n1, n2, ds0, ds1, ds2, ss0, ss1, ss2);
}

function elems32(d: Uint32Array, s: Uint32Array, dB: number, sB: number, k: number,
  n0: number, n1: number, n2: number, ds0: number, ds1: number, ds2: number, ss0: number, ss1: number, ss2: number): void {
  for (let c = 0; c < n2; c++) {
    for (let b = 0; b < n1; b++) {
      let dO = dB + b * ds1 + c * ds2, sO = sB + b * ss1 + c * ss2;
      if (k === 1) {
        for (let a = 0; a < n0; a++) { d[dO] = s[sO]; dO += ds0; sO += ss0; }
      } else if (k === 2) {
        for (let a = 0; a < n0; a++) { d[dO] = s[sO]; d[dO + 1] = s[sO + 1]; dO += ds0; sO += ss0; }
      } else {
        for (let a = 0; a < n0; a++) { for (let e = 0; e < k; e++) d[dO + e] = s[sO + e]; dO += ds0; sO += ss0; }
      }
    }
  }
}
function elems16(d: Uint16Array, s: Uint16Array, dB: number, sB: number, k: number,
  n0: number, n1: number, n2: number, ds0: number, ds1: number, ds2: number, ss0: number, ss1: number, ss2: number): void {
  for (let c = 0; c < n2; c++) {
    for (let b = 0; b < n1; b++) {
      let dO = dB + b * ds1 + c * ds2, sO = sB + b * ss1 + c * ss2;
      if (k === 1) {
        for (let a = 0; a < n0; a++) { d[dO] = s[sO]; dO += ds0; sO += ss0; }
      } else {
        for (let a = 0; a < n0; a++) { for (let e = 0; e < k; e++) d[dO + e] = s[sO + e]; dO += ds0; sO += ss0; }
      }
    }
  }
}
function elems8(d: Uint8Array, s: Uint8Array, dB: number, sB: number, k: number,
  n0: number, n1: number, n2: number, ds0: number, ds1: number, ds2: number, ss0: number, ss1: number, ss2: number): void {
  for (let c = 0; c < n2; c++) {
    for (let b = 0; b < n1; b++) {
      let dO = dB + b * ds1 + c * ds2, sO = sB + b * ss1 + c * ss2;
      if (k === 1) {
        for (let a = 0; a < n0; a++) { d[dO] = s[sO]; dO += ds0; sO += ss0; }
      } else {
        for (let a = 0; a < n0; a++) { for (let e = 0; e < k; e++) d[dO + e] = s[sO + e]; dO += ds0; sO += ss0; }
      }
    }
  }
}

/**
 * One tile of a byte transpose: the destination is contiguous along axis 0, the source along axis p,
 * r is the third axis. Addresses and strides other than the two unit ones are multiples of 4.
 */
function transposeBytes(d8: Uint8Array, s8: Uint8Array, d32: Uint32Array, s32: Uint32Array, dA: number, sA: number,
  n0: number, np: number, nr: number, dsp: number, dsr: number, ss0: number, ssr: number): void {
  const m0 = n0 - (n0 % 4), mp = np - (np % 4);
  const dq = dsp / 4, sq = ss0 / 4;
  for (let c = 0; c < nr; c++) {
    const dR = dA + c * dsr, sR = sA + c * ssr;
    for (let b = 0; b < mp; b += 4) {
      let di = (dR + b * dsp) / 4, si = (sR + b) / 4;
      for (let a = 0; a < m0; a += 4) {
        // r_i holds four p-neighbours of row i; w_j gathers byte j of every r_i.
        const r0 = s32[si], r1 = s32[si + sq], r2 = s32[si + 2 * sq], r3 = s32[si + 3 * sq];
        const t0 = (r0 & 0x00ff00ff) | ((r1 & 0x00ff00ff) << 8);
        const t1 = ((r0 >>> 8) & 0x00ff00ff) | (r1 & 0xff00ff00);
        const t2 = (r2 & 0x00ff00ff) | ((r3 & 0x00ff00ff) << 8);
        const t3 = ((r2 >>> 8) & 0x00ff00ff) | (r3 & 0xff00ff00);
        d32[di] = (t0 & 0xffff) | (t2 << 16);
        d32[di + dq] = (t1 & 0xffff) | (t3 << 16);
        d32[di + 2 * dq] = (t0 >>> 16) | (t2 & 0xffff0000);
        d32[di + 3 * dq] = (t1 >>> 16) | (t3 & 0xffff0000);
        di += 1;
        si += ss0;
      }
    }
    // The ragged edges (n0 or np not multiples of 4), byte by byte.
    for (let b = 0; b < np; b++) {
      for (let a = b < mp ? m0 : 0; a < n0; a++) d8[dR + b * dsp + a] = s8[sR + a * ss0 + b];
    }
  }
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
