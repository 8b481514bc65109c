import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import * as zarr from 'zarrita';
import { openStore } from '../../src/zarr/reader.ts';
import { inspectStore } from '../../src/ops/inspect.ts';
import { convert } from '../../src/ops/convert.ts';
import { ZarrSink } from '../../src/zarr/sink.ts';
import { exportStore } from '../../src/ops/export.ts';
import { bytesPerElement, DTYPES, type DType } from '../../src/core/dtype.ts';
import type { Vec3 } from '../../src/core/geometry.ts';
import { refCrc32c } from '../lib/crc32c.ts';

const sharding = suite('sharding');
let dir = '';
sharding.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-shard-'));
});
sharding.after(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * A raw F-layout volume: pseudo-random bytes inside `box` ([x0, y0, z0, x1, y1, z1)), zero elsewhere, so some
 * inner chunks and whole shards are empty.
 */
function volume(shape: Vec3, dtype: DType, box: readonly number[], seed: number): Buffer {
  const es = bytesPerElement(dtype);
  const out = Buffer.alloc(shape[0] * shape[1] * shape[2] * es);
  let s = seed >>> 0 || 1;
  for (let z = box[2]!; z < box[5]!; z++) for (let y = box[1]!; y < box[4]!; y++) for (let x = box[0]!; x < box[3]!; x++) {
    const at = ((z * shape[1] + y) * shape[0] + x) * es;
    for (let b = 0; b < es; b++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      out[at + b] = s & 0xff;
    }
    if (dtype === 'bool') out[at] = (out[at] ?? 0) & 1;
    // Keep floats finite so equality means equal bytes.
    if (dtype === 'float32') out[at + 3] = (out[at + 3] ?? 0) & 0x3f;
    if (dtype === 'float64') out[at + 7] = (out[at + 7] ?? 0) & 0x3f;
  }
  return out;
}

/** The inner chunks of one shard file per the sharding-indexed spec: undefined for absent ones. */
function shardEntries(bytes: Buffer, count: number, location: 'start' | 'end'): ({ offset: number; nbytes: number } | undefined)[] {
  const size = count * 16 + 4;
  const at = location === 'start' ? 0 : bytes.length - size;
  assert.is(bytes.readUInt32LE(at + count * 16), refCrc32c(bytes.subarray(at, at + count * 16)), 'index CRC32C');
  return Array.from({ length: count }, (_, i) => {
    const offset = bytes.readBigUInt64LE(at + i * 16);
    const nbytes = bytes.readBigUInt64LE(at + i * 16 + 8);
    return offset === 2n ** 64n - 1n ? undefined : { offset: Number(offset), nbytes: Number(nbytes) };
  });
}

async function readAll(store: string): Promise<Buffer> {
  const { array: arr } = await openStore(store);
  const got = await zarr.get(arr);
  const data = got.data as unknown as ArrayBufferView;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

interface Case { dtype: DType; codec: string; shape: Vec3; chunk: Vec3; shard: Vec3; box: number[]; index: 'start' | 'end' }
const CASES: Case[] = [
  ...DTYPES.map((dtype, i): Case => ({
    dtype, codec: ['raw', 'zstd:3', 'gzip:1+crc32c', 'zstd:1+crc32c'][i % 4]!, shape: [23, 17, 19], chunk: [4, 4, 4], shard: [8, 8, 12],
    box: [3, 0, 5, 23, 12, 19], index: i % 2 ? 'start' : 'end',
  })),
  { dtype: 'uint16', codec: 'raw', shape: [16, 16, 16], chunk: [4, 4, 4], shard: [8, 16, 8], box: [0, 0, 0, 16, 16, 16], index: 'end' },
  { dtype: 'uint8', codec: 'zstd:3', shape: [30, 30, 30], chunk: [5, 5, 5], shard: [10, 10, 10], box: [0, 0, 0, 0, 0, 0], index: 'end' },
];

for (const c of CASES) {
  sharding(`${c.dtype} ${c.codec} index ${c.index}: zarrita and export read back the input; shards as the spec says`, async () => {
    const raw = volume(c.shape, c.dtype, c.box, c.shape[0] * 31 + c.dtype.length);
    const input = path.join(dir, `${c.dtype}-${c.codec}-${c.shape.join("x")}.raw`);
    fs.writeFileSync(input, raw);
    const store = path.join(dir, `${c.dtype}-${c.codec}-${c.index}-${c.shape.join("x")}.zarr`.replaceAll(':', '_').replaceAll('+', '_'));
    const summary = await convert(input, store, { shape: c.shape, dtype: c.dtype, chunk: c.chunk, shard: c.shard, codec: c.codec, shardIndex: c.index });
    assert.ok((await readAll(store)).equals(raw), 'zarrita reads the input back');
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on('data', (b: Buffer) => parts.push(b));
    await exportStore(store, out);
    await finished(out);
    assert.ok(Buffer.concat(parts).equals(raw), 'export round-trips');

    // Independently of the writer: which shards and inner chunks must exist, and their bytes.
    const es = bytesPerElement(c.dtype);
    const grid = [0, 1, 2].map((a) => Math.ceil(c.shape[a]! / c.chunk[a]!));
    const per = [0, 1, 2].map((a) => c.shard[a]! / c.chunk[a]!);
    const sgrid = [0, 1, 2].map((a) => Math.ceil(grid[a]! / per[a]!));
    let shardsExpected = 0;
    let innerExpected = 0;
    for (let sz = 0; sz < sgrid[2]!; sz++) for (let sy = 0; sy < sgrid[1]!; sy++) for (let sx = 0; sx < sgrid[0]!; sx++) {
      const file = path.join(store, 'c', String(sz), String(sy), String(sx));
      const present: boolean[] = [];
      // Index order: C order over the inner grid in stored axes (z, y, x), z slowest.
      for (let iz = 0; iz < per[2]!; iz++) for (let iy = 0; iy < per[1]!; iy++) for (let ix = 0; ix < per[0]!; ix++) {
        const g = [sx * per[0]! + ix, sy * per[1]! + iy, sz * per[2]! + iz];
        let any = false;
        if (g[0]! < grid[0]! && g[1]! < grid[1]! && g[2]! < grid[2]!) {
          for (let z = g[2]! * c.chunk[2]; z < Math.min(c.shape[2], (g[2]! + 1) * c.chunk[2]) && !any; z++)
            for (let y = g[1]! * c.chunk[1]; y < Math.min(c.shape[1], (g[1]! + 1) * c.chunk[1]) && !any; y++)
              for (let x = g[0]! * c.chunk[0]; x < Math.min(c.shape[0], (g[0]! + 1) * c.chunk[0]) && !any; x++) {
                const at = ((z * c.shape[1] + y) * c.shape[0] + x) * es;
                for (let b = 0; b < es; b++) if (raw[at + b] !== 0) any = true;
              }
        }
        present.push(any);
      }
      if (!present.some(Boolean)) {
        assert.not.ok(fs.existsSync(file), `an all-fill shard is not written (${file})`);
        continue;
      }
      shardsExpected++;
      const entries = shardEntries(fs.readFileSync(file), present.length, c.index);
      assert.equal(entries.map((e) => e !== undefined), present, `inner chunks present in shard ${sz}/${sy}/${sx}`);
      innerExpected += present.filter(Boolean).length;
      if (c.codec === 'raw') {
        for (const e of entries) if (e) assert.is(e.nbytes, c.chunk[0] * c.chunk[1] * c.chunk[2] * es, 'raw inner chunks are whole chunks');
      }
    }
    assert.is(summary.shardsWritten, shardsExpected);
    assert.is(summary.chunksWritten, innerExpected);
    const info = await inspectStore(store);
    assert.equal([info.filesPresent, info.filesTotal, info.innerChunksPresent, info.innerChunksTotal],
      [shardsExpected, sgrid[0]! * sgrid[1]! * sgrid[2]!, innerExpected, grid[0]! * grid[1]! * grid[2]!]);
  });
}

sharding('parts and resume work in shard-rows and give the single-process store', async () => {
  const shape: Vec3 = [24, 20, 40];
  const raw = volume(shape, 'uint16', [0, 0, 0, 24, 20, 40], 9);
  const input = path.join(dir, 'parts.raw');
  fs.writeFileSync(input, raw);
  const options = { shape, dtype: 'uint16' as const, chunk: [8, 8, 4] as Vec3, shard: [16, 16, 12] as Vec3, codec: 'zstd:1' };
  const single = path.join(dir, 'single.zarr');
  const whole = await convert(input, single, options);
  // 40 slabs in shard-rows of 12: 4 rows.
  assert.equal([whole.rowsTotal, whole.rows], [4, [0, 4]]);
  const parted = path.join(dir, 'parted.zarr');
  for (const index of [2, 0, 1]) await convert(input, parted, { ...options, part: { index, count: 3, source: 'test' } });
  const list = (root: string) => (fs.readdirSync(root, { recursive: true }) as string[]).sort();
  assert.equal(list(parted), list(single));
  for (const f of list(single)) {
    const p = path.join(single, f);
    if (fs.statSync(p).isFile()) assert.ok(fs.readFileSync(p).equals(fs.readFileSync(path.join(parted, f))), f);
  }
  const resumed = await convert(input, parted, { ...options, resume: true });
  assert.equal([resumed.rowsSkipped, resumed.bytesIn], [4, 0]);
});

sharding('bad shard options are refused before anything is written', async () => {
  const input = path.join(dir, 'small.raw');
  fs.writeFileSync(input, Buffer.alloc(1000));
  const store = path.join(dir, 'refused.zarr');
  for (const [options, re] of [
    [{ shard: [6, 10, 10] as Vec3, chunk: [4, 5, 5] as Vec3 }, /shard \(6, 10, 10\) must be a multiple of the chunk \(4, 5, 5\)/],
    [{ shard: [10, 10, 10] as Vec3, chunk: [5, 5, 5] as Vec3, zarrFormat: 2 as const }, /sharding needs Zarr v3/],
  ] as const) {
    try {
      await convert(input, store, { shape: [10, 10, 10], ...options });
      assert.unreachable('accepted');
    } catch (error) {
      assert.match((error as Error).message, re);
    }
    assert.not.ok(fs.existsSync(store));
  }
});

sharding('a sink fed part of a shard fails instead of dropping the shard', async () => {
  const store = path.join(dir, 'incomplete.zarr');
  const sink = new ZarrSink(store, { shape: [8, 8, 8], dtype: 'uint8', chunk: [4, 4, 4], shard: [8, 8, 8], codec: 'raw' });
  // Four of the shard's eight inner chunks: a stream that stopped on a chunk-row, not a shard-row.
  const records = [0, 1, 2, 3].map((i) => ({
    coords: [i % 2, Math.floor(i / 2), 0] as Vec3, index: i, shape: [4, 4, 4] as Vec3, data: Buffer.alloc(64, i + 1),
  }));
  try {
    await pipeline(Readable.from(records), sink);
    assert.unreachable('the sink finished with a shard missing');
  } catch (error) {
    assert.match((error as Error).message, /the input ended with 1 shard\(s\) missing inner chunks \(c\/0\/0\/0\)/);
    assert.is((error as { code?: string }).code, 'ERECORD');
  }
  assert.not.ok(fs.existsSync(path.join(store, 'c/0/0/0')));
});

sharding.run();
