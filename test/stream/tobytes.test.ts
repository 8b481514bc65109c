import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { tobytes, type ImageArray } from '../../src/stream/tobytes.ts';
import { DTYPES, bytesPerElement, typedArray, type DType, type TypedArray } from '../../src/core/dtype.ts';
import { SlabchunkError } from '../../src/core/errors.ts';
import type { Order, Vec3 } from '../../src/core/geometry.ts';

interface View {
  data: TypedArray;
  shape: Vec3;
  stride: Vec3;
  offset: number;
}

/**
 * Reference: numpy's `image[x0:x1, y0:y1, z0:z1].tobytes(order)` for every chunk, listed x fastest,
 * computed voxel by voxel from the raw bytes of `data` (so float payloads are never reinterpreted).
 */
function reference(view: View, chunk: Vec3, order: Order): Buffer[] {
  const es = view.data.BYTES_PER_ELEMENT;
  const bytes = new Uint8Array(view.data.buffer, view.data.byteOffset, view.data.byteLength);
  const out: Buffer[] = [];
  for (let gz = 0; gz < view.shape[2] / chunk[2]; gz++) {
    for (let gy = 0; gy < view.shape[1] / chunk[1]; gy++) {
      for (let gx = 0; gx < view.shape[0] / chunk[0]; gx++) {
        const buf = Buffer.alloc(chunk[0] * chunk[1] * chunk[2] * es);
        for (let x = 0; x < chunk[0]; x++) for (let y = 0; y < chunk[1]; y++) for (let z = 0; z < chunk[2]; z++) {
          const at = order === 'F' ? x + chunk[0] * (y + chunk[1] * z) : z + chunk[2] * (y + chunk[1] * x);
          const from = view.offset + (gx * chunk[0] + x) * view.stride[0] + (gy * chunk[1] + y) * view.stride[1] + (gz * chunk[2] + z) * view.stride[2];
          for (let e = 0; e < es; e++) buf[at * es + e] = bytes[from * es + e];
        }
        out.push(buf);
      }
    }
  }
  return out;
}

function randomTyped(dtype: DType, length: number, seed: number): TypedArray {
  const arr = typedArray(dtype, length);
  const bytes = new Uint8Array(arr.buffer);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    bytes[i] = s & 0xff;
  }
  return arr;
}

function dense(shape: Vec3, order: Order): Vec3 {
  return order === 'F' ? [1, shape[0], shape[0] * shape[1]] : [shape[1] * shape[2], shape[2], 1];
}

function assertSame(got: Buffer[], want: Buffer[], what: string): void {
  assert.is(got.length, want.length, `${what}: chunk count`);
  for (let i = 0; i < want.length; i++) {
    if (!got[i].equals(want[i])) assert.unreachable(`${what}: chunk ${i} differs`);
  }
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

const arbCase = fc
  .tuple(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }))
  .chain((shape) => fc.record({
    shape: fc.constant(shape as Vec3),
    chunk: fc.tuple(fc.constantFrom(...divisors(shape[0])), fc.constantFrom(...divisors(shape[1])), fc.constantFrom(...divisors(shape[2]))),
    dtype: fc.constantFrom(...DTYPES),
    layout: fc.constantFrom('C', 'F', 'strided', 'negative'),
    parentOrder: fc.constantFrom<Order>('C', 'F'),
    steps: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    starts: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    flips: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
    order: fc.constantFrom<Order>('C', 'F'),
    seed: fc.integer(),
  }));

test('tobytes equals the per-voxel reference: every dtype, C/F/strided/negative-stride layouts, both orders', () => {
  fc.assert(fc.property(arbCase, (c) => {
    const shape = c.shape;
    let image: ImageArray;
    let view: View;
    if (c.layout === 'C' || c.layout === 'F') {
      const data = randomTyped(c.dtype, shape[0] * shape[1] * shape[2], c.seed);
      image = { data, shape, order: c.layout };
      view = { data, shape, stride: dense(shape, c.layout), offset: 0 };
    } else {
      // A sub-view `parent[start::step, ...]` of a bigger dense parent; 'negative' walks some axes backwards.
      const steps = c.layout === 'negative' ? [1, 1, 1] : c.steps;
      const parent: Vec3 = [0, 1, 2].map((a) => c.starts[a] + (shape[a] - 1) * steps[a] + 1 + (a === 0 ? 1 : 0)) as unknown as Vec3;
      const ps = dense(parent, c.parentOrder);
      const data = randomTyped(c.dtype, parent[0] * parent[1] * parent[2], c.seed);
      const stride = [0, 0, 0];
      let offset = 0;
      for (let a = 0; a < 3; a++) {
        const flip = c.layout === 'negative' && c.flips[a];
        const first = flip ? c.starts[a] + (shape[a] - 1) * steps[a] : c.starts[a];
        offset += first * ps[a];
        stride[a] = (flip ? -1 : 1) * steps[a] * ps[a];
      }
      view = { data, shape, stride: stride as unknown as Vec3, offset };
      image = { data, shape, stride: view.stride, offset };
    }
    assertSame(tobytes(image, c.chunk, c.order), reference(view, c.chunk, c.order), JSON.stringify({ ...c, seed: undefined }));
  }), { numRuns: 500 });
});

test('matched layouts with big slices: slices that do not divide the chunk depth', () => {
  // 64×64 uint8 slices are 4 KiB, so the walk copies a few slices at a time; a depth of 5 leaves a remainder.
  for (const dtype of ['uint8', 'int16'] as const) {
    for (const order of ['F', 'C'] as const) {
      const shape: Vec3 = order === 'F' ? [128, 64, 10] : [10, 64, 128];
      const chunk: Vec3 = order === 'F' ? [64, 64, 5] : [5, 64, 64];
      const data = randomTyped(dtype, shape[0] * shape[1] * shape[2], 11);
      assertSame(tobytes({ data, shape, order }, chunk, order), reference({ data, shape, stride: dense(shape, order), offset: 0 }, chunk, order), `${dtype} ${order}`);
    }
  }
});

test('default order is C, as fastremap and numpy', () => {
  const data = randomTyped('uint16', 6 * 4 * 2, 9);
  const view: View = { data, shape: [6, 4, 2], stride: dense([6, 4, 2], 'C'), offset: 0 };
  assertSame(tobytes({ data, shape: [6, 4, 2] }, [3, 2, 2]), reference(view, [3, 2, 2], 'C'), 'default');
});

// fastremap automated_test.py `test_tobytes`: np.arange(size**3).reshape((size,)*3, order=input_order),
// cubic chunks, every dtype, both input and output orders; compared with per-cutout tobytes.
test('fastremap test_tobytes: arange volumes, cubic chunks, every dtype and order pair', () => {
  const cases: [number, number][] = [[16, 4], [16, 8], [16, 16], [64, 16]];
  for (const dtype of DTYPES) {
    for (const [size, cs] of cases) {
      const n = size ** 3;
      const data = typedArray(dtype, n);
      const bits = BigInt(bytesPerElement(dtype) * 8);
      for (let i = 0; i < n; i++) {
        if (data instanceof BigInt64Array) data[i] = BigInt.asIntN(64, BigInt(i));
        else if (data instanceof BigUint64Array) data[i] = BigInt.asUintN(Number(bits), BigInt(i));
        else if (dtype === 'bool') data[i] = i & 1;
        else data[i] = i;
      }
      for (const input of ['C', 'F'] as const) {
        for (const output of ['F', 'C'] as const) {
          const shape: Vec3 = [size, size, size];
          const got = tobytes({ data, shape, order: input }, [cs, cs, cs], output);
          const want = reference({ data, shape, stride: dense(shape, input), offset: 0 }, [cs, cs, cs], output);
          assertSame(got, want, `${dtype} ${size}/${cs} ${input}->${output}`);
        }
      }
    }
  }
});

// fastremap `test_tobytes_misaligned`: 128³ uint8 splits by 32 and refuses 17.
test('fastremap test_tobytes_misaligned: 32 divides 128, 17 is refused', () => {
  for (const order of ['C', 'F'] as const) {
    const data = new Uint8Array(128 ** 3);
    for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
    const image = { data, shape: [128, 128, 128] as Vec3, order };
    const got = tobytes(image, [32, 32, 32]);
    assert.is(got.length, 64);
    assertSame(got, reference({ data, shape: image.shape, stride: dense(image.shape, order), offset: 0 }, [32, 32, 32], 'C'), order);
    assert.throws(() => tobytes(image, [17, 17, 17]), /chunk_size \(17, 17, 17\) must evenly divide the image shape \(128, 128, 128\)/);
  }
});

test('a chunk equal to the shape returns one buffer: the whole image in that order', () => {
  const data = randomTyped('float64', 3 * 5 * 7, 3);
  for (const order of ['C', 'F'] as const) {
    const got = tobytes({ data, shape: [3, 5, 7], order: 'F' }, [3, 5, 7], order);
    assert.is(got.length, 1);
    assertSame(got, reference({ data, shape: [3, 5, 7], stride: dense([3, 5, 7], 'F'), offset: 0 }, [3, 5, 7], order), order);
  }
  // Same layout in and out: the bytes are the input's own.
  const same = tobytes({ data, shape: [3, 5, 7], order: 'F' }, [3, 5, 7], 'F')[0];
  assert.ok(same.equals(Buffer.from(data.buffer)));
});

test('an empty image gives no chunks', () => {
  assert.equal(tobytes({ data: new Uint8Array(0), shape: [0, 4, 4] }, [2, 2, 2]), []);
  assert.equal(tobytes({ data: new Float32Array(0), shape: [4, 4, 0], order: 'F' }, [1, 1, 1], 'F'), []);
});

function throwsInvalid(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, SlabchunkError);
    assert.is((err as SlabchunkError).code, 'EINVALID');
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected an error matching ${message}`);
}

test('errors: order, chunk sizes, shape/data mismatch, strides outside the data', () => {
  const data = new Uint8Array(4 * 4 * 4);
  const image = { data, shape: [4, 4, 4] as Vec3 };
  for (const bad of ['c', 'K', '', undefined, null, 1]) {
    if (bad === undefined) continue; // undefined means the default, 'C'
    throwsInvalid(() => tobytes(image, [2, 2, 2], bad as unknown as Order), new RegExp(`^order must be C or F\\. Got: ${String(bad)}$`));
  }
  throwsInvalid(() => tobytes(image, [3, 2, 2]), /^chunk_size \(3, 2, 2\) must evenly divide the image shape \(4, 4, 4\)$/);
  throwsInvalid(() => tobytes(image, [0, 2, 2]), /chunk_size must be positive integers/);
  throwsInvalid(() => tobytes(image, [-2, 2, 2]), /chunk_size must be positive integers/);
  throwsInvalid(() => tobytes(image, [1.5, 2, 2]), /chunk_size must be positive integers/);
  throwsInvalid(() => tobytes(image, [2, 2] as unknown as Vec3), /chunk_size must have 3 entries/);
  throwsInvalid(() => tobytes(image, [2, 2, 2, 2] as unknown as Vec3), /chunk_size must have 3 entries/);
  throwsInvalid(() => tobytes({ data, shape: [4, 4, 5] }, [2, 2, 1]), /data holds 64 elements but shape \(4, 4, 5\) needs 80/);
  throwsInvalid(() => tobytes({ data, shape: [4, 4, 3] }, [2, 2, 1]), /data holds 64 elements but shape \(4, 4, 3\) needs 48/);
  throwsInvalid(() => tobytes({ data, shape: [4, -4, 4] as Vec3 }, [2, 2, 2]), /shape must be non-negative integers/);
  throwsInvalid(() => tobytes({ data, shape: [4, 4, 4], order: 'X' as Order }, [2, 2, 2]), /image\.order must be C or F/);
  throwsInvalid(() => tobytes({ data, shape: [4, 4, 4], stride: [1, 4, 17] }, [2, 2, 2]), /outside data of 64 elements/);
  throwsInvalid(() => tobytes({ data, shape: [4, 4, 4], stride: [-1, 4, 16] }, [2, 2, 2]), /outside data of 64 elements/);
  throwsInvalid(() => tobytes({ data, shape: [4, 4, 4], stride: [1, 4, 16], offset: 1 }, [2, 2, 2]), /outside data/);
  throwsInvalid(() => tobytes({ data, shape: [4, 4, 4], stride: [1, 4, 0.5] as unknown as Vec3 }, [2, 2, 2]), /stride must be 3 integers/);
  throwsInvalid(() => tobytes({ data: [1, 2] as unknown as Uint8Array, shape: [2, 1, 1] }, [1, 1, 1]), /image must be an object/);
  throwsInvalid(() => tobytes({ data: new DataView(data.buffer) as unknown as Uint8Array, shape: [4, 4, 4] }, [2, 2, 2]), /cannot infer a dtype/);
});

test.run();
