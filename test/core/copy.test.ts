import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { copyBlock, fillElements, type StridedBytes } from '../../src/core/copy.ts';
import type { ElementSize } from '../../src/core/dtype.ts';
import type { Vec3 } from '../../src/core/geometry.ts';

/** Reference: one element at a time, byte by byte, straight from the definition of the views. */
function naiveCopy(dst: StridedBytes, src: StridedBytes, shape: Vec3, es: number): void {
  for (let z = 0; z < shape[2]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[0]; x++) {
    const so = src.offset + (x * src.strides[0] + y * src.strides[1] + z * src.strides[2]) * es;
    const dO = dst.offset + (x * dst.strides[0] + y * dst.strides[1] + z * dst.strides[2]) * es;
    for (let e = 0; e < es; e++) dst.data[dO + e] = src.data[so + e];
  }
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/**
 * A view of `shape` inside a byte array: axes permuted by `perm` (fastest first), each axis padded by
 * `pad` elements, optionally reversed (negative stride), starting `lead` bytes in (misalignment).
 * Returns the view and the size of the buffer it needs.
 */
function layout(shape: Vec3, perm: readonly number[], pad: readonly number[], flip: readonly boolean[], lead: number, es: number) {
  const strides = [0, 0, 0];
  let step = 1;
  for (const a of perm) {
    strides[a] = step;
    step *= shape[a] + pad[a];
  }
  let origin = 0;
  for (let a = 0; a < 3; a++) {
    if (flip[a]) {
      origin += (shape[a] - 1) * strides[a];
      strides[a] = -strides[a];
    }
  }
  return { offset: lead + origin * es, strides: strides as unknown as Vec3, bytes: lead + step * es };
}

const arbShape = fc.tuple(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }));
const arbPerm = fc.constantFrom([0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1], [1, 2, 0], [2, 0, 1]);
const arbPad = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }));
const arbFlip = fc.tuple(fc.boolean(), fc.boolean(), fc.boolean());
const arbSide = fc.record({ perm: arbPerm, pad: arbPad, flip: arbFlip, lead: fc.integer({ min: 0, max: 9 }) });

test('copyBlock equals the per-element reference for every element size, layout and alignment', () => {
  fc.assert(fc.property(
    arbShape, fc.constantFrom<ElementSize>(1, 2, 4, 8), arbSide, arbSide, fc.integer(),
    (shape, es, sSide, dSide, seed) => {
      const s = layout(shape, sSide.perm, sSide.pad, sSide.flip, sSide.lead, es);
      const d = layout(shape, dSide.perm, dSide.pad, dSide.flip, dSide.lead, es);
      const srcData = randomBytes(s.bytes, seed);
      const got = randomBytes(d.bytes, seed + 1);
      const want = got.slice();
      copyBlock({ data: got, offset: d.offset, strides: d.strides }, { data: srcData, offset: s.offset, strides: s.strides }, shape, es);
      naiveCopy({ data: want, offset: d.offset, strides: d.strides }, { data: srcData, offset: s.offset, strides: s.strides }, shape, es);
      assert.equal(got, want);
    },
  ), { numRuns: 400 });
});

test('copyBlock handles subarray views with odd byteOffsets on both sides', () => {
  fc.assert(fc.property(
    arbShape, fc.constantFrom<ElementSize>(1, 2, 4, 8), arbPerm, arbPerm, fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }),
    (shape, es, sp, dp, sOff, dOff) => {
      const s = layout(shape, sp, [0, 0, 0], [false, false, false], 0, es);
      const d = layout(shape, dp, [0, 0, 0], [false, false, false], 0, es);
      const src = randomBytes(s.bytes + sOff, es * 31 + sOff).subarray(sOff);
      const gotBuf = new Uint8Array(d.bytes + dOff);
      const got = gotBuf.subarray(dOff);
      const want = new Uint8Array(d.bytes);
      copyBlock({ data: got, offset: 0, strides: d.strides }, { data: src, offset: 0, strides: s.strides }, shape, es);
      naiveCopy({ data: want, offset: 0, strides: d.strides }, { data: src, offset: 0, strides: s.strides }, shape, es);
      assert.equal(got, want);
      // Nothing before the view was touched.
      assert.ok(gotBuf.subarray(0, dOff).every((b) => b === 0));
    },
  ), { numRuns: 300 });
});

test('copyBlock into a padded destination writes the block and leaves the padding alone', () => {
  fc.assert(fc.property(
    arbShape, fc.constantFrom<ElementSize>(1, 2, 4, 8), fc.constantFrom('F', 'C'), arbPad, fc.integer(),
    (shape, es, order, extra, seed) => {
      // Destination is a bigger chunk (block + extra on each axis), dense in `order`.
      const outer: Vec3 = [shape[0] + extra[0], shape[1] + extra[1], shape[2] + extra[2]];
      const dStrides: Vec3 = order === 'F' ? [1, outer[0], outer[0] * outer[1]] : [outer[1] * outer[2], outer[2], 1];
      const s = layout(shape, [0, 1, 2], [0, 0, 0], [false, false, false], 0, es);
      const src = randomBytes(s.bytes, seed);
      const got = new Uint8Array(outer[0] * outer[1] * outer[2] * es).fill(0xee);
      const want = got.slice();
      copyBlock({ data: got, offset: 0, strides: dStrides }, { data: src, offset: 0, strides: s.strides }, shape, es);
      naiveCopy({ data: want, offset: 0, strides: dStrides }, { data: src, offset: 0, strides: s.strides }, shape, es);
      assert.equal(got, want);
    },
  ), { numRuns: 200 });
});

test('large transposing blocks (tiled paths) match the reference', () => {
  for (const es of [1, 2, 4, 8] as const) {
    for (const shape of [[70, 33, 9], [64, 64, 5], [5, 41, 67]] as Vec3[]) {
      for (const lead of [0, 1, 4]) {
        const s = layout(shape, [2, 1, 0], [0, 0, 0], [false, false, false], lead, es);
        const d = layout(shape, [0, 1, 2], [1, 0, 0], [false, false, false], 0, es);
        const src = randomBytes(s.bytes, es + lead);
        const got = new Uint8Array(d.bytes);
        const want = new Uint8Array(d.bytes);
        copyBlock({ data: got, offset: d.offset, strides: d.strides }, { data: src, offset: s.offset, strides: s.strides }, shape, es);
        naiveCopy({ data: want, offset: d.offset, strides: d.strides }, { data: src, offset: s.offset, strides: s.strides }, shape, es);
        assert.equal(got, want, `es ${es} shape ${shape.join('x')} lead ${lead}`);
      }
    }
  }
});

test('8-byte elements keep NaN payloads bit-exact', () => {
  const n = 40;
  const src = new Uint8Array(n * 8);
  const dv = new DataView(src.buffer);
  // Signalling and quiet NaNs with distinct payloads, which a Float64Array round trip may canonicalise.
  for (let i = 0; i < n; i++) {
    dv.setUint32(i * 8, 0x00000001 + i, true);
    dv.setUint32(i * 8 + 4, i % 2 ? 0x7ff00000 : 0xfff80000, true);
  }
  const got = new Uint8Array(n * 8);
  // Reverse order via a negative stride: not a plain run, so the element path runs.
  copyBlock({ data: got, offset: 0, strides: [1, n, n] }, { data: src, offset: (n - 1) * 8, strides: [-1, n, n] }, [n, 1, 1], 8);
  for (let i = 0; i < n; i++) {
    assert.equal(got.subarray(i * 8, i * 8 + 8), src.subarray((n - 1 - i) * 8, (n - i) * 8));
  }
});

test('an empty block copies nothing', () => {
  const dst = new Uint8Array(8).fill(7);
  copyBlock({ data: dst, offset: 0, strides: [1, 1, 1] }, { data: new Uint8Array(8), offset: 0, strides: [1, 1, 1] }, [0, 4, 2], 1);
  assert.ok(dst.every((b) => b === 7));
});

test('fillElements repeats the element bytes exactly over the range', () => {
  fc.assert(fc.property(
    fc.constantFrom(1, 2, 4, 8), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 9 }), fc.uint8Array({ minLength: 8, maxLength: 8 }),
    (size, count, offset, bytes) => {
      const value = bytes.subarray(0, size);
      const dst = new Uint8Array(offset + count * size + 5).fill(0xab);
      fillElements(dst, offset, count, value);
      for (let i = 0; i < dst.length; i++) {
        const inside = i >= offset && i < offset + count * size;
        assert.is(dst[i], inside ? value[(i - offset) % size] : 0xab);
      }
    },
  ));
});

test.run();
