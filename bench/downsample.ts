/**
 * Downsampling kernels' throughput: input bytes per second on one core, for each method on uint16 slabs of a
 * 2048 × 2048 plane reduced 2×2×2, next to a copy of the same bytes (Buffer.copy) in the same run, as a ratio.
 * Issue 12's target: `mean` on uint16 at ≥ 1 GB/s of input per core.
 *
 *   node --import tsx bench/downsample.ts
 */
import { DOWNSAMPLE_METHODS, downsampleSlab } from '../src/core/downsample.ts';

const X = 2048;
const Y = 2048;
const a = new Uint16Array(X * Y);
const b = new Uint16Array(X * Y);
for (let i = 0; i < a.length; i++) {
  a[i] = (i * 2654435761) >>> 20;
  b[i] = (i * 40503) >>> 4;
}
const out = new Uint16Array((X / 2) * (Y / 2));
const inputBytes = a.byteLength + b.byteLength;

/** Median seconds of `runs` calls of `fn`, after a warm-up. */
function time(fn: () => void, runs = 9): number {
  for (let i = 0; i < 3; i++) fn();
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    seconds.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return seconds.sort((x, y) => x - y)[runs >> 1]!;
}

const src = Buffer.from(a.buffer);
const src2 = Buffer.from(b.buffer);
const dst = Buffer.allocUnsafe(inputBytes);
const copy = time(() => {
  src.copy(dst, 0);
  src2.copy(dst, src.length);
});
console.log(`copy of the same ${(inputBytes / 2 ** 20).toFixed(0)} MiB: ${(inputBytes / copy / 1e9).toFixed(2)} GB/s`);
console.log('method  | GB/s of input | ÷ copy');
for (const method of DOWNSAMPLE_METHODS) {
  const s = time(() => downsampleSlab(method, 'uint16', [a, b], [X, Y], 2, 2, out));
  console.log(`${method.padEnd(7)} | ${(inputBytes / s / 1e9).toFixed(2).padStart(13)} | ${(copy / s).toFixed(3)}`);
}
