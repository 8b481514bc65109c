/**
 * Synthetic microscopy-like volumes for benches, tests and the demo: smooth blob-like structures
 * (products of low-frequency sinusoids), a few bits of sensor noise, and about a third of the
 * volume empty (exactly zero) background in large coherent regions, so whole chunks are empty as
 * in real scans. Deterministic for a seed; each Z-slab is computed independently of the others,
 * so a slab can be regenerated on its own (tests compare against it without reading the file).
 */
import { open } from 'node:fs/promises';
import { bytesPerElement, type DType } from '../../src/core/dtype.ts';
import type { Vec3 } from '../../src/core/geometry.ts';

/** Highest foreground value before noise; integer dtypes get their value range's scale. */
function peakFor(dtype: DType): number {
  switch (dtype) {
    case 'bool': return 1;
    case 'int8': return 100;
    case 'uint8': return 200;
    // A 12-bit camera's range: the usual microscopy case, and what gives zstd:3 its ~2x.
    case 'int16': case 'uint16': case 'int32': case 'uint32': case 'int64': case 'uint64': return 4000;
    case 'float32': case 'float64': return 1;
  }
}

/** Bits of uniform noise added to foreground voxels of integer dtypes. */
function noiseBitsFor(dtype: DType): number {
  switch (dtype) {
    case 'bool': return 0;
    case 'int8': case 'uint8': return 2;
    default: return 4;
  }
}

/** One separable term `amp * sx(x) * sy(y) * sz(z)` of the smooth field, tabulated per axis. */
interface Term {
  amp: number;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
}

/** Everything needed to compute any slab of one volume. Build with {@link volumeSpec}. */
export interface VolumeSpec {
  readonly shape: Vec3;
  readonly dtype: DType;
  readonly seed: number;
  readonly terms: readonly Term[];
  /** Field values at or below this are background (zero). */
  readonly threshold: number;
  readonly peak: number;
  readonly noiseMask: number;
}

/** mulberry32: a tiny deterministic PRNG for the per-volume phases and per-slab noise seeds (and the tests' seeded choices). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function axisTable(n: number, wavelength: number, phase: number): Float64Array {
  const out = new Float64Array(n);
  const k = (2 * Math.PI) / wavelength;
  for (let i = 0; i < n; i++) out[i] = Math.sin(k * i + phase);
  return out;
}

/**
 * Tabulates the field of a volume. Large structures scale with the volume (so small test volumes
 * have both background and foreground); a fine texture term has a fixed ~24-voxel period, like cells.
 */
export function volumeSpec(shape: Vec3, dtype: DType, seed: number): VolumeSpec {
  const rand = mulberry32(seed);
  const phase = () => rand() * 2 * Math.PI;
  const terms: Term[] = [];
  // Wavelengths as fractions of each axis, and amplitudes: two large blobs, one medium, one fine texture.
  const specs: [number, number][] = [[1.3, 1.0], [0.7, 0.6], [0.35, 0.35]];
  for (const [frac, amp] of specs) {
    terms.push({
      amp,
      x: axisTable(shape[0], Math.max(4, shape[0] * frac), phase()),
      y: axisTable(shape[1], Math.max(4, shape[1] * frac), phase()),
      z: axisTable(shape[2], Math.max(4, shape[2] * frac), phase()),
    });
  }
  terms.push({
    amp: 0.15,
    x: axisTable(shape[0], 23, phase()),
    y: axisTable(shape[1], 29, phase()),
    z: axisTable(shape[2], 19, phase()),
  });
  const bits = noiseBitsFor(dtype);
  return { shape, dtype, seed, terms, threshold: -0.2, peak: peakFor(dtype), noiseMask: (1 << bits) - 1 };
}

/**
 * Writes slab `z` of the volume into `out` (at least `X*Y*bytesPerElement` bytes, little-endian).
 * Row by row: the smooth field of one row is a few multiply-adds over per-axis tables.
 */
export function volumeSlab(spec: VolumeSpec, z: number, out: Uint8Array): void {
  const [X, Y] = spec.shape;
  const { dtype, terms, threshold, peak, noiseMask } = spec;
  const size = bytesPerElement(dtype);
  const row = new Float64Array(X);
  const ints = new Int32Array(X);
  const scale = peak / (terms.reduce((s, t) => s + t.amp, 0) - threshold);
  // xorshift32 seeded per slab so slabs are independent of each other and of generation order.
  let state = (Math.imul(spec.seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(z + 1, 0xc2b2ae35)) | 1;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const u16 = size === 2 && out.byteOffset % 2 === 0 ? new Uint16Array(out.buffer, out.byteOffset, X * Y) : null;
  const u32 = size >= 4 && out.byteOffset % 4 === 0 ? new Uint32Array(out.buffer, out.byteOffset, (X * Y * size) / 4) : null;
  const f32 = dtype === 'float32' && u32 ? new Float32Array(u32.buffer, u32.byteOffset, X * Y) : null;
  const f64 = dtype === 'float64' && out.byteOffset % 8 === 0 ? new Float64Array(out.buffer, out.byteOffset, X * Y) : null;
  for (let y = 0; y < Y; y++) {
    row.fill(0);
    for (const t of terms) {
      const c = t.amp * t.y[y] * t.z[z];
      const tx = t.x;
      for (let x = 0; x < X; x++) row[x] += c * tx[x];
    }
    const base = y * X;
    if (dtype === 'float32' || dtype === 'float64') {
      for (let x = 0; x < X; x++) {
        state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
        const v = row[x] <= threshold ? 0 : (row[x] - threshold) * scale / peak + (state & 0xffff) * 1e-7;
        row[x] = v;
      }
      if (f32) f32.set(row, base);
      else if (f64) f64.set(row, base);
      else for (let x = 0; x < X; x++) {
        if (dtype === 'float32') view.setFloat32((base + x) * 4, row[x], true);
        else view.setFloat64((base + x) * 8, row[x], true);
      }
      continue;
    }
    for (let x = 0; x < X; x++) {
      state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
      const f = row[x];
      ints[x] = f <= threshold ? 0 : Math.min(peak, ((f - threshold) * scale) | 0) + (state & noiseMask);
    }
    if (dtype === 'bool') {
      for (let x = 0; x < X; x++) out[base + x] = ints[x] > 0 ? 1 : 0;
    } else if (size === 1) {
      for (let x = 0; x < X; x++) out[base + x] = ints[x];
    } else if (u16) {
      u16.set(ints, base);
    } else if (size === 2) {
      for (let x = 0; x < X; x++) view.setUint16((base + x) * 2, ints[x], true);
    } else if (size === 4 && u32) {
      u32.set(ints, base);
    } else if (size === 8 && u32) {
      // Values are small and non-negative: low word holds them, high word stays zero.
      for (let x = 0; x < X; x++) { u32[(base + x) * 2] = ints[x]; u32[(base + x) * 2 + 1] = 0; }
    } else {
      for (let x = 0; x < X; x++) {
        view.setUint32((base + x) * size, ints[x], true);
        if (size === 8) view.setUint32((base + x) * 8 + 4, 0, true);
      }
    }
  }
}

/** The whole volume in memory (F layout). For small test volumes only. */
export function volumeBuffer(shape: Vec3, dtype: DType, seed: number): Buffer {
  const spec = volumeSpec(shape, dtype, seed);
  const slab = shape[0] * shape[1] * bytesPerElement(dtype);
  const out = Buffer.alloc(slab * shape[2]);
  for (let z = 0; z < shape[2]; z++) volumeSlab(spec, z, out.subarray(z * slab, (z + 1) * slab));
  return out;
}

/**
 * Writes a raw F-layout volume (x fastest, Z-slab after Z-slab) to `path`, one slab in memory at a
 * time. Returns the bytes written.
 */
export async function generateVolume(path: string, shape: Vec3, dtype: DType, seed = 1): Promise<number> {
  const spec = volumeSpec(shape, dtype, seed);
  const slabBytes = shape[0] * shape[1] * bytesPerElement(dtype);
  const file = await open(path, 'w');
  try {
    // Two buffers: compute the next slab while the previous one is being written.
    const buffers = [Buffer.alloc(slabBytes), Buffer.alloc(slabBytes)];
    let pending: Promise<unknown> = Promise.resolve();
    for (let z = 0; z < shape[2]; z++) {
      const buf = buffers[z % 2];
      volumeSlab(spec, z, buf);
      await pending;
      pending = file.write(buf, 0, slabBytes, z * slabBytes);
    }
    await pending;
  } finally {
    await file.close();
  }
  return slabBytes * shape[2];
}
