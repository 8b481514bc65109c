import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker, planChunker, type ChunkerOptions, type Edge, type Endian } from '../../src/stream/chunker.ts';
import { bytesPerElement, DTYPES, fillBytes, typedView, type DType } from '../../src/core/dtype.ts';
import { tobytes } from '../../src/stream/tobytes.ts';
import { SlabchunkError } from '../../src/core/errors.ts';
import type { Order, Vec3 } from '../../src/core/geometry.ts';
import type { ChunkRecord } from '../../src/stream/record.ts';
import { RowBuffer } from '../../src/stream/row-buffer.ts';

// ---- naive per-voxel reference, independent of src/copy.ts and src/geometry.ts ----

/** Pseudo-random volume bytes: F layout, little-endian elements, in the caller's [X, Y, Z] axes. */
function makeVolume(shape: Vec3, es: number, seed: number): Uint8Array {
  const out = new Uint8Array(shape[0] * shape[1] * shape[2] * es);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

/** The bytes a file of this volume holds, laid out as `inputOrder` with `endian` elements. */
function fileBytes(vol: Uint8Array, shape: Vec3, es: number, inputOrder: Order, endian: Endian): Uint8Array {
  const [X, Y, Z] = shape;
  const out = new Uint8Array(vol.length);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    const src = ((z * Y + y) * X + x) * es;
    const dst = (inputOrder === 'F' ? (z * Y + y) * X + x : (x * Y + y) * Z + z) * es;
    for (let b = 0; b < es; b++) out[dst + b] = vol[src + (endian === 'big' ? es - 1 - b : b)]!;
  }
  return out;
}

interface RefChunk { coords: Vec3; index: number; shape: Vec3; data: Uint8Array }

/** Every chunk by Fortran index: `vol[x0:x1, y0:y1, z0:z1].tobytes(order)`, padded with `fill` or cropped. */
function referenceChunks(vol: Uint8Array, shape: Vec3, es: number, chunk: Vec3, order: Order, edge: Edge, fill: Uint8Array): RefChunk[] {
  const [X, Y] = shape;
  const grid = [0, 1, 2].map((a) => Math.ceil(shape[a]! / chunk[a]!)) as unknown as Vec3;
  const out: RefChunk[] = [];
  for (let gz = 0; gz < grid[2]; gz++) for (let gy = 0; gy < grid[1]; gy++) for (let gx = 0; gx < grid[0]; gx++) {
    const start = [gx * chunk[0], gy * chunk[1], gz * chunk[2]];
    const real = [0, 1, 2].map((a) => Math.min(chunk[a]!, shape[a]! - start[a]!)) as unknown as Vec3;
    const dims = edge === 'crop' ? real : chunk;
    const n = dims[0] * dims[1] * dims[2];
    const data = new Uint8Array(n * es);
    for (let i = 0; i < n; i++) data.set(fill, i * es);
    for (let z = 0; z < real[2]; z++) for (let y = 0; y < real[1]; y++) for (let x = 0; x < real[0]; x++) {
      const src = (((start[2]! + z) * Y + start[1]! + y) * X + start[0]! + x) * es;
      const dst = (order === 'F' ? x + dims[0] * (y + dims[1] * z) : z + dims[2] * (y + dims[1] * x)) * es;
      for (let b = 0; b < es; b++) data[dst + b] = vol[src + b]!;
    }
    out.push({ coords: [gx, gy, gz], index: out.length, shape: real, data });
  }
  return out;
}

/** Emission order: Fortran over the file's grid (for C input the caller's z varies fastest). */
function emissionOrder(shape: Vec3, chunk: Vec3, inputOrder: Order): number[] {
  const g = [0, 1, 2].map((a) => Math.ceil(shape[a]! / chunk[a]!));
  const order: number[] = [];
  if (inputOrder === 'F') for (let i = 0; i < g[0]! * g[1]! * g[2]!; i++) order.push(i);
  else for (let gx = 0; gx < g[0]!; gx++) for (let gy = 0; gy < g[1]!; gy++) for (let gz = 0; gz < g[2]!; gz++) {
    order.push(gx + g[0]! * (gy + g[1]! * gz));
  }
  return order;
}

/** Splits `bytes` into pieces whose sizes cycle through `sizes` (views, no copies). */
function split(bytes: Uint8Array, sizes: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let off = 0, i = 0;
  while (off < bytes.length) {
    const n = Math.min(sizes[i++ % sizes.length]!, bytes.length - off);
    pieces.push(Buffer.from(bytes.buffer, bytes.byteOffset + off, n));
    off += n;
  }
  return pieces;
}

async function run(options: ChunkerOptions, pieces: Buffer[]): Promise<ChunkRecord[]> {
  const out: ChunkRecord[] = [];
  await pipeline(
    Readable.from(pieces),
    new Chunker(options),
    new Writable({ objectMode: true, write(record: ChunkRecord, _e, cb) { out.push(record); cb(); } }),
  );
  return out;
}

function sameRecords(actual: ChunkRecord[], expected: RefChunk[], order: number[]): void {
  assert.equal(actual.map((r) => r.index), order, 'emission order');
  for (const r of actual) {
    const ref = expected[r.index]!;
    assert.equal(r.coords, ref.coords, `coords of chunk ${r.index}`);
    assert.equal(r.shape, ref.shape, `shape of chunk ${r.index}`);
    assert.ok(Buffer.isBuffer(r.data));
    assert.ok(Buffer.from(ref.data).equals(r.data), `bytes of chunk ${r.index}`);
  }
}

const fillFor = (dtype: DType, v: number): number => (dtype === 'bool' ? v % 2 : v);

// ---- behaviour ----

test('dividing shape: chunks are tobytes(volume, chunk, order) exactly, in Fortran order', async () => {
  const shape: Vec3 = [8, 6, 9], chunk: Vec3 = [4, 3, 3];
  for (const order of ['F', 'C'] as const) {
    const vol = makeVolume(shape, 2, 7);
    const records = await run({ shape, chunk, dtype: 'uint16', order }, split(vol, [100]));
    sameRecords(records, referenceChunks(vol, shape, 2, chunk, order, 'pad', fillBytes('uint16', 0)), emissionOrder(shape, chunk, 'F'));
  }
});

test('property: for dividing shapes the chunks are tobytes(volume, chunk, order), in its Fortran order', async () => {
  const small = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }));
  await fc.assert(fc.asyncProperty(
    small, small, fc.constantFrom(...DTYPES), fc.constantFrom<Order>('F', 'C'), fc.constantFrom<Order>('F', 'C'),
    fc.integer({ min: 1, max: 700 }), fc.integer(),
    async (grid, chunk, dtype, order, inputOrder, piece, seed) => {
      const shape: Vec3 = [grid[0] * chunk[0], grid[1] * chunk[1], grid[2] * chunk[2]];
      const es = bytesPerElement(dtype);
      const vol = makeVolume(shape, es, seed);
      const input = fileBytes(vol, shape, es, inputOrder, 'little');
      const expected = tobytes({ data: typedView(dtype, input.buffer, input.byteOffset, input.length / es), shape, order: inputOrder }, chunk, order);
      const records = await run({ shape, chunk, dtype, order, inputOrder, edge: 'error' }, split(input, [piece]));
      assert.equal(records.map((r) => r.index), emissionOrder(shape, chunk, inputOrder));
      if (inputOrder === 'F') assert.equal(records.map((r) => r.index), expected.map((_, i) => i), 'same order as tobytes');
      for (const r of records) assert.ok(expected[r.index]!.equals(r.data), `chunk ${r.index}`);
    },
  ), { numRuns: 150 });
});

test('non-dividing shape: pad fills edges with the fill value, crop keeps only real voxels', async () => {
  const shape: Vec3 = [7, 5, 8], chunk: Vec3 = [3, 4, 3];
  const vol = makeVolume(shape, 4, 3);
  for (const edge of ['pad', 'crop'] as const) {
    const records = await run({ shape, chunk, dtype: 'int32', edge, fill: -5, order: 'C' }, split(vol, [17, 1, 333]));
    sameRecords(records, referenceChunks(vol, shape, 4, chunk, 'C', edge, fillBytes('int32', -5)), emissionOrder(shape, chunk, 'F'));
  }
  const padded = await run({ shape, chunk, dtype: 'int32', fill: -5 }, [Buffer.from(vol)]);
  assert.is(padded.at(-1)!.data.readInt32LE(padded.at(-1)!.data.length - 4), -5, 'far corner is fill');
});

test('property: any shape, chunk, dtype, piece sizes, orders, input order, endianness and edge', async () => {
  const vec = (max: number) => fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 1, max }), fc.integer({ min: 1, max }));
  await fc.assert(fc.asyncProperty(
    vec(9), vec(6), fc.constantFrom(...DTYPES), fc.constantFrom<Order>('F', 'C'), fc.constantFrom<Order>('F', 'C'),
    fc.constantFrom<Endian>('little', 'big'), fc.constantFrom<Edge>('pad', 'crop'), fc.integer({ min: 0, max: 100 }),
    fc.array(fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3000 })), { minLength: 1, maxLength: 4 }),
    fc.integer(),
    async (shape, chunk, dtype, order, inputOrder, endian, edge, fillValue, sizes, seed) => {
      const es = bytesPerElement(dtype);
      const fill = fillFor(dtype, fillValue);
      const vol = makeVolume(shape, es, seed);
      const input = fileBytes(vol, shape, es, inputOrder, endian);
      const records = await run({ shape, chunk, dtype, order, inputOrder, endian, edge, fill }, split(input, sizes));
      sameRecords(records, referenceChunks(vol, shape, es, chunk, order, edge, fillBytes(dtype, fill)), emissionOrder(shape, chunk, inputOrder));
    },
  ), { numRuns: 300 });
});

test('one piece spanning the whole volume and 1-byte pieces give the same chunks', async () => {
  const shape: Vec3 = [5, 4, 7], chunk: Vec3 = [2, 2, 2];
  const vol = makeVolume(shape, 8, 11);
  const options: ChunkerOptions = { shape, chunk, dtype: 'float64', endian: 'big', inputOrder: 'C' };
  const input = fileBytes(vol, shape, 8, 'C', 'big');
  const whole = await run(options, [Buffer.from(input)]);
  const bytewise = await run(options, split(input, [1]));
  sameRecords(whole, referenceChunks(vol, shape, 8, chunk, 'F', 'pad', fillBytes('float64', 0)), emissionOrder(shape, chunk, 'C'));
  sameRecords(bytewise, referenceChunks(vol, shape, 8, chunk, 'F', 'pad', fillBytes('float64', 0)), emissionOrder(shape, chunk, 'C'));
});

test('zRange parts together give exactly the whole volume\'s chunks', async () => {
  await fc.assert(fc.asyncProperty(
    fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 20 })),
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 })),
    fc.constantFrom<Order>('F', 'C'), fc.array(fc.boolean(), { maxLength: 30 }), fc.integer({ min: 1, max: 500 }),
    async (shape, chunk, inputOrder, cutsAt, piece) => {
      const vol = makeVolume(shape, 2, piece);
      const input = fileBytes(vol, shape, 2, inputOrder, 'little');
      const options: ChunkerOptions = { shape, chunk, dtype: 'uint16', inputOrder };
      const plan = planChunker(options);
      const depth = plan.file.shape[2], cz = plan.file.chunk[2];
      const bounds = [0];
      for (let z = cz; z < depth; z += cz) if (cutsAt[z / cz]) bounds.push(z);
      bounds.push(depth);
      const parts: ChunkRecord[] = [];
      for (let p = 0; p + 1 < bounds.length; p++) {
        const [z0, z1] = [bounds[p]!, bounds[p + 1]!];
        const bytes = input.subarray(z0 * plan.slabBytes, z1 * plan.slabBytes);
        parts.push(...await run({ ...options, zRange: [z0, z1] }, split(bytes, [piece])));
      }
      sameRecords(parts, referenceChunks(vol, shape, 2, chunk, 'F', 'pad', fillBytes('uint16', 0)), emissionOrder(shape, chunk, inputOrder));
    },
  ), { numRuns: 100 });
});

test('slow consumer: the chunker pulls at most one row + one piece beyond the chunks the consumer holds', async () => {
  const shape: Vec3 = [40, 30, 50], chunk: Vec3 = [16, 16, 8];
  const dtype = 'uint16';
  for (const pieceSize of [1000, 5000, 30000]) {
    for (const hwm of [1, 3]) {
      const plan = planChunker({ shape, chunk, dtype, readableHighWaterMark: hwm });
      const total = plan.inputBytes;
      const perRow = plan.grid[0] * plan.grid[1];
      const rowEnd = (row: number) => Math.min(total, (row + 1) * plan.rowBytes);
      let pulled = 0, produced = 0, taken = 0, worst = -Infinity, buffered = 0;
      const source = new Readable({
        highWaterMark: pieceSize,
        read() {
          if (produced >= total) { this.push(null); return; }
          const n = Math.min(pieceSize, total - produced);
          produced += n;
          this.push(Buffer.alloc(n, produced & 0xff));
        },
      });
      const chunker = new Chunker({ shape, chunk, dtype, readableHighWaterMark: hwm });
      // Chunks the consumer has taken or that wait in the chunker's readable buffer (at most `hwm`):
      // whole rows among them, plus the one row being filled, plus one piece, bound what may have been pulled.
      const check = () => {
        const held = taken + hwm;
        const lastWholeRow = Math.floor(held / perRow) - 1;
        worst = Math.max(worst, pulled - (rowEnd(lastWholeRow + 1) + pieceSize));
        buffered = Math.max(buffered, chunker.readableLength);
      };
      source.on('data', (piece: Buffer) => { pulled += piece.length; check(); });
      source.pipe(chunker);
      await new Promise<void>((resolve, reject) => {
        chunker.on('error', reject);
        chunker.on('end', resolve);
        const take = () => {
          if (chunker.read() !== null) { taken++; check(); setTimeout(take, 0); }
          else chunker.once('readable', take);
        };
        take();
      });
      assert.is(taken, plan.grid[0] * plan.grid[1] * plan.grid[2]);
      assert.is(pulled, total);
      assert.ok(worst <= 0, `piece ${pieceSize}, hwm ${hwm}: pulled ${worst} bytes beyond one row + one piece`);
      assert.ok(buffered <= hwm, `piece ${pieceSize}, hwm ${hwm}: ${buffered} chunks buffered, more than the high-water mark`);
    }
  }
});

test('a fast source into a stalled consumer stops at one row + one piece', async () => {
  const shape: Vec3 = [64, 64, 64], chunk: Vec3 = [16, 16, 16];
  const plan = planChunker({ shape, chunk, dtype: 'uint8', readableHighWaterMark: 2 });
  let pulled = 0;
  const source = Readable.from(split(new Uint8Array(plan.inputBytes), [4096]));
  source.on('data', (p: Buffer) => { pulled += p.length; });
  const chunker = new Chunker({ shape, chunk, dtype: 'uint8', readableHighWaterMark: 2 });
  source.pipe(chunker);
  await new Promise((r) => setTimeout(r, 50));
  // Nobody reads: two chunks buffered, the first row not yet fully pushed, so nothing beyond row 0 + a piece.
  assert.ok(pulled >= plan.rowBytes, `pulled ${pulled}`);
  assert.ok(pulled <= plan.rowBytes + 4096, `pulled ${pulled} with row ${plan.rowBytes}`);
  assert.is(chunker.readableLength, 2, 'extraction stopped at the high-water mark');
  // Destroying while extraction is paused closes without an error.
  const closed = new Promise((resolve) => chunker.on('close', resolve));
  let errors = 0;
  chunker.on('error', () => errors++);
  source.destroy();
  chunker.destroy();
  await closed;
  assert.is(errors, 0);
  assert.ok(chunker.destroyed);
});

// ---- errors ----

async function streamError(options: ChunkerOptions, pieces: Buffer[]): Promise<SlabchunkError> {
  try {
    await run(options, pieces);
  } catch (error) {
    assert.instance(error, SlabchunkError);
    return error as SlabchunkError;
  }
  throw new Error('expected the stream to fail');
}

test('input ending early fails through the stream with the byte counts', async () => {
  const error = await streamError({ shape: [4, 3, 5], chunk: [2, 2, 2], dtype: 'uint16' }, [Buffer.alloc(50), Buffer.alloc(7)]);
  assert.is(error.code, 'ESIZE');
  assert.is(error.message, 'input ended after 57 bytes; shape 4×3×5 of uint16 needs 120 bytes');
  assert.is(error.expected, 120);
  assert.is(error.actual, 57);
  const empty = await streamError({ shape: [4, 3, 5], chunk: [2, 2, 2], dtype: 'uint8', zRange: [2, 4] }, []);
  assert.is(empty.message, 'input ended after 0 bytes; slabs [2, 4) of shape 4×3×5 of uint8 needs 24 bytes');
  // An empty range at the volume's end (a part with no rows) takes no bytes and emits nothing.
  assert.equal(await run({ shape: [4, 3, 5], chunk: [2, 2, 2], dtype: 'uint8', zRange: [5, 5] }, []), []);
});

test('more bytes than the shape holds fails through the stream, not from write()', async () => {
  const error = await streamError({ shape: [4, 3, 5], chunk: [2, 2, 2], dtype: 'uint8' }, [Buffer.alloc(50), Buffer.alloc(11)]);
  assert.is(error.code, 'ESIZE');
  assert.match(error.message, /more than 60 bytes \(at least 61\); shape 4×3×5 of uint8 needs 60 bytes/);
  const chunker = new Chunker({ shape: [1, 1, 1], chunk: [1, 1, 1], dtype: 'uint8' });
  const failed = new Promise<Error>((resolve) => chunker.on('error', resolve));
  chunker.write(Buffer.alloc(2));
  assert.is(((await failed) as SlabchunkError).code, 'ESIZE');
});

function invalidMessage(options: unknown): string {
  try {
    planChunker(options as ChunkerOptions);
  } catch (error) {
    assert.instance(error, SlabchunkError);
    assert.is((error as SlabchunkError).code, 'EINVALID');
    assert.throws(() => new Chunker(options as ChunkerOptions), (e: unknown) => e instanceof SlabchunkError && e.message === (error as Error).message);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

test('invalid options are refused at construction with a message naming the fix', () => {
  const base: ChunkerOptions = { shape: [10, 10, 10], chunk: [4, 4, 4], dtype: 'uint8' };
  assert.match(invalidMessage({ ...base, shape: [10, 0, 10] }), /shape must be positive integers/);
  assert.match(invalidMessage({ ...base, shape: [10, 10] }), /shape must have 3 entries/);
  assert.match(invalidMessage({ ...base, chunk: [4, 4.5, 4] }), /chunk must be positive integers/);
  assert.match(invalidMessage({ ...base, dtype: 'uint12' }), /unknown dtype "uint12"; use one of bool, int8/);
  assert.match(invalidMessage({ ...base, order: 'X' }), /order must be C or F/);
  assert.match(invalidMessage({ ...base, inputOrder: 'f' }), /inputOrder must be C or F/);
  assert.match(invalidMessage({ ...base, edge: 'wrap' }), /edge must be 'pad', 'crop' or 'error'/);
  assert.match(invalidMessage({ ...base, endian: 'middle' }), /endian must be 'little' or 'big'/);
  assert.match(invalidMessage({ ...base, fill: 256 }), /fill value 256 does not fit dtype uint8/);
  assert.match(invalidMessage({ ...base, edge: 'error' }), /chunk \(4, 4, 4\) does not divide shape \(10, 10, 10\) and edge is 'error'/);
  assert.match(invalidMessage({ ...base, zRange: [2, 8] }), /zRange start 2 is not on a chunk-row boundary; use a multiple of the chunk z-size 4 \(e\.g\. 0 or 4\)/);
  assert.match(invalidMessage({ ...base, zRange: [4, 6] }), /zRange end 6 is not on a chunk-row boundary/);
  assert.match(invalidMessage({ ...base, zRange: [8, 4] }), /0 ≤ z0 ≤ z1 ≤ 10/);
  assert.match(invalidMessage({ ...base, zRange: [0, 12] }), /0 ≤ z0 ≤ z1 ≤ 10/);
  assert.match(invalidMessage({ ...base, inputOrder: 'C', zRange: [1, 4] }), /chunk x-size 4/);
  assert.match(invalidMessage({ ...base, maxRowBytes: 0 }), /maxRowBytes must be a positive integer/);
  assert.match(invalidMessage({ ...base, readableHighWaterMark: 0 }), /readableHighWaterMark must be a positive integer/);
  assert.match(invalidMessage(null), /options must be an object/);
  // Valid corner cases are accepted: a dividing edge 'error', an empty zRange, zRange ending at the volume's end.
  planChunker({ ...base, shape: [8, 8, 8], edge: 'error' });
  planChunker({ ...base, zRange: [4, 4] });
  planChunker({ ...base, zRange: [8, 10] });
  assert.equal(planChunker({ ...base, zRange: [10, 10] }).rows, [3, 3]);
});

test('a row over maxRowBytes names the largest chunk z-size that fits, and that size does fit', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 2, max: 64 }),
    fc.constantFrom<DType>('uint8', 'uint16', 'float64'), fc.integer({ min: 1, max: 100000 }),
    (X, Y, cz, dtype, maxRowBytes) => {
      const options = { shape: [X, Y, 200] as Vec3, chunk: [8, 8, cz] as Vec3, dtype, maxRowBytes };
      const row = X * Y * cz * bytesPerElement(dtype);
      if (row <= maxRowBytes) return planChunker(options).rowBytes === row;
      const message = invalidMessage(options);
      const fits = /chunk z-size of at most (\d+)/.exec(message);
      if (!fits) return /even one slab/.test(message) && X * Y * bytesPerElement(dtype) > maxRowBytes;
      const k = Number(fits[1]);
      planChunker({ ...options, chunk: [8, 8, k] });
      assert.throws(() => planChunker({ ...options, chunk: [8, 8, k + 1] }));
      return message.includes(`is ${row} bytes`);
    },
  ));
});

/** Naive shard-grouped emission: shards in Fortran order over the file's shard grid, chunks in Fortran order in each. */
function shardedOrder(shape: Vec3, chunk: Vec3, shard: Vec3, inputOrder: Order): number[] {
  const g = [0, 1, 2].map((a) => Math.ceil(shape[a]! / chunk[a]!));
  const k = [0, 1, 2].map((a) => shard[a]! / chunk[a]!);
  const axes = inputOrder === 'F' ? [0, 1, 2] : [2, 1, 0]; // file axes x, y, z in the caller's numbering
  const [a0, a1, a2] = axes as [number, number, number];
  const order: number[] = [];
  for (let s2 = 0; s2 * k[a2]! < g[a2]!; s2++) for (let s1 = 0; s1 * k[a1]! < g[a1]!; s1++) for (let s0 = 0; s0 * k[a0]! < g[a0]!; s0++) {
    for (let c2 = s2 * k[a2]!; c2 < Math.min(g[a2]!, (s2 + 1) * k[a2]!); c2++)
      for (let c1 = s1 * k[a1]!; c1 < Math.min(g[a1]!, (s1 + 1) * k[a1]!); c1++)
        for (let c0 = s0 * k[a0]!; c0 < Math.min(g[a0]!, (s0 + 1) * k[a0]!); c0++) {
          const c = [0, 0, 0];
          c[a0] = c0; c[a1] = c1; c[a2] = c2;
          order.push(c[0]! + g[0]! * (c[1]! + g[1]! * c[2]!));
        }
  }
  return order;
}

test('property: with a shard, the same chunks come out grouped shard by shard, one shard-row buffered', async () => {
  await fc.assert(fc.asyncProperty(
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 })),
    fc.constantFrom<Order>('F', 'C'), fc.constantFrom<Order>('F', 'C'), fc.integer({ min: 1, max: 500 }),
    async (chunk, mult, shape, order, inputOrder, piece) => {
      const shard: Vec3 = [chunk[0] * mult[0], chunk[1] * mult[1], chunk[2] * mult[2]];
      const vol = makeVolume(shape, 2, piece);
      const file = fileBytes(vol, shape, 2, inputOrder, 'little');
      const options: ChunkerOptions = { shape, dtype: 'uint16', chunk, order, inputOrder, shard };
      const records = await run(options, split(file, [piece]));
      sameRecords(records, referenceChunks(vol, shape, 2, chunk, order, 'pad', fillBytes('uint16', 0)), shardedOrder(shape, chunk, shard, inputOrder));
      const depth = (inputOrder === 'F' ? shard[2] : shard[0]);
      const fileZ = inputOrder === 'F' ? shape[2] : shape[0];
      assert.is(planChunker(options).rowBytes, Math.min(depth, fileZ) * (file.length / fileZ));
    },
  ), { numRuns: 120 });
});

test('property: a row larger than the largest Buffer is held in bands of whole slabs, same chunks', async () => {
  // Bands only appear past Node 20's 4 GiB Buffer limit, so the Chunker is given a row buffer with a small band
  // limit (the way convert hands its runs one row buffer).
  await fc.assert(fc.asyncProperty(
    fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 20 })),
    fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 })),
    fc.integer({ min: 1, max: 9 }), fc.constantFrom<Order>('F', 'C'), fc.constantFrom<Endian>('little', 'big'),
    fc.integer({ min: 1, max: 300 }),
    async (shape, chunk, bandSlabs, inputOrder, endian, piece) => {
      const es = 4;
      const fileShape = inputOrder === 'F' ? shape : [shape[2], shape[1], shape[0]];
      const slab = fileShape[0]! * fileShape[1]! * es;
      const maxBandBytes = slab * bandSlabs;
      const vol = makeVolume(shape, es, piece);
      const plan = planChunker({ shape, dtype: 'float32', chunk, order: 'C', inputOrder, endian });
      const row = new RowBuffer(plan.slabBytes, plan.rowBytes / plan.slabBytes, maxBandBytes);
      assert.is(row.bandSlabs, Math.min(plan.rowBytes / slab, Math.floor(maxBandBytes / slab)));
      const records: ChunkRecord[] = [];
      await pipeline(
        Readable.from(split(fileBytes(vol, shape, es, inputOrder, endian), [piece])),
        new Chunker(plan, row),
        new Writable({ objectMode: true, write(record: ChunkRecord, _e, cb) { records.push(record); cb(); } }),
      );
      sameRecords(records, referenceChunks(vol, shape, es, chunk, 'C', 'pad', fillBytes('float32', 0)), emissionOrder(shape, chunk, inputOrder));
    },
  ), { numRuns: 150 });
});

test('a row buffer of the wrong size is refused', () => {
  const plan = planChunker({ shape: [4, 4, 8], dtype: 'uint8', chunk: [2, 2, 4] });
  assert.throws(() => new Chunker(plan, new RowBuffer(16, 3)), /needs 64 in slabs of 16/);
  assert.throws(() => new Chunker(plan, new RowBuffer(8, 8)), /in slabs of 8; this Chunker needs/);
});

test('the shard-depth hint is a multiple of the chunk depth that fits', () => {
  const options = { shape: [100, 100, 100] as Vec3, dtype: 'uint8' as const, chunk: [10, 10, 10] as Vec3, shard: [10, 10, 50] as Vec3, maxRowBytes: 250_000 };
  assert.match(invalidMessage(options), /use a shard z-size of at most 20,/);
  planChunker({ ...options, shard: [10, 10, 20] });
  assert.throws(() => planChunker({ ...options, shard: [10, 10, 30] }), /of at most 20/);
});

test('shard options: multiples of the chunk, shard-row boundaries, shard-depth hints', () => {
  assert.match(invalidMessage({ shape: [10, 10, 10], dtype: 'uint8', chunk: [4, 4, 4], shard: [8, 6, 8] }), /shard \(8, 6, 8\) must be a multiple of the chunk \(4, 4, 4\) on every axis \(e\.g\. \(8, 8, 8\)\)/);
  assert.match(invalidMessage({ shape: [10, 10, 10], dtype: 'uint8', chunk: [2, 2, 2], shard: [4, 4, 4], zRange: [2, 10] }), /zRange start 2 is not on a shard-row boundary; use a multiple of the shard z-size 4/);
  assert.match(invalidMessage({ shape: [100, 100, 100], dtype: 'uint8', chunk: [10, 10, 10], shard: [10, 10, 50], maxRowBytes: 200_000 }), /a shard-row of 100×100×50 uint8 is 500000 bytes.*use a shard z-size of at most 20/);
});

test('plan reports the geometry the CLI needs before opening anything', () => {
  const plan = planChunker({ shape: [100, 50, 30], chunk: [64, 64, 8], dtype: 'uint16', inputOrder: 'C', zRange: [64, 100] });
  assert.equal(plan.grid, [2, 1, 4]);
  assert.equal(plan.file.shape, [30, 50, 100]);
  assert.equal(plan.file.chunk, [8, 64, 64]);
  assert.equal(plan.rows, [1, 2]);
  assert.is(plan.slabBytes, 30 * 50 * 2);
  assert.is(plan.rowBytes, 30 * 50 * 2 * 36);
  assert.is(plan.inputBytes, 30 * 50 * 2 * 36);
  // The readable side buffers up to 16 MiB of chunks by default: 16 small ones, fewer large ones, at least one.
  assert.is(plan.readableHighWaterMark, 16);
  assert.is(planChunker({ shape: [9, 9, 9], chunk: [128, 128, 128], dtype: 'uint16' }).readableHighWaterMark, 4);
  assert.is(planChunker({ shape: [9, 9, 9], chunk: [256, 256, 256], dtype: 'uint16' }).readableHighWaterMark, 1);
});

test.run();
