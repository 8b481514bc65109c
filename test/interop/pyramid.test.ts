/**
 * Interop of pyramids: every level of stores `convert --ome` wrote is read by tensorstore (v3 and v2) and
 * zarr-python 2 (v2) and compared voxel for voxel with the naive reference applied level by level to the input.
 * Absent readers skip with a message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETUP_HINT, tensorstorePython, zarr2Python } from '../../bench/lib/python.ts';
import { typedArray, type DType } from '../../src/core/dtype.ts';
import type { DownsampleMethod } from '../../src/core/downsample.ts';
import type { Order, Vec3 } from '../../src/core/geometry.ts';
import { convert } from '../../src/ops/convert.ts';
import { reference, values, type V } from '../lib/downsample-reference.ts';
import { readBack, writeBatch, type Result } from '../lib/peers.ts';

interface Case { name: string; shape: Vec3; chunk: Vec3; shard?: Vec3; dtype: DType; method: DownsampleMethod; order: Order; format: 2 | 3; voxel: Vec3 }

const CASES: Case[] = [
  { name: 'v3 sharded light-sheet uint16 mean', shape: [45, 38, 29], chunk: [8, 8, 4], shard: [16, 16, 8], dtype: 'uint16', method: 'mean', order: 'F', format: 3, voxel: [0.4, 0.4, 2] },
  { name: 'v3 C-layout int16 mode', shape: [30, 21, 26], chunk: [8, 4, 8], dtype: 'int16', method: 'mode', order: 'C', format: 3, voxel: [1, 1, 1] },
  { name: 'v2 float32 mean', shape: [33, 27, 19], chunk: [8, 8, 5], dtype: 'float32', method: 'mean', order: 'F', format: 2, voxel: [1, 1, 1] },
  { name: 'v2 uint8 max', shape: [26, 26, 26], chunk: [4, 4, 4], dtype: 'uint8', method: 'max', order: 'F', format: 2, voxel: [1, 1, 1] },
];

/** Values in F order of `[X, Y, Z]` as a file in `order`. */
function fileBytes(dtype: DType, data: readonly V[], [X, Y, Z]: Vec3, order: Order): Uint8Array {
  const out = typedArray(dtype, X * Y * Z);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    out[order === 'F' ? x + X * (y + Y * z) : z + Z * (y + Y * x)] = data[x + X * (y + Y * z)] as never;
  }
  return new Uint8Array(out.buffer);
}

const tensorstore = tensorstorePython();
const zarr2 = zarr2Python();
if (!tensorstore) console.log(`pyramid interop: skipping tensorstore reads (${SETUP_HINT})`);
if (!zarr2) console.log(`pyramid interop: skipping zarr-python 2 reads (${SETUP_HINT})`);

let dir = '';
const levelsOf = new Map<Case, string[]>();
const results = { tensorstore: new Map<string, Result>(), zarr: new Map<string, Result>() };

test.before(async () => {
  if (!tensorstore && !zarr2) return;
  dir = await mkdtemp(join(tmpdir(), 'slabchunk-pyramid-interop-'));
  const jobs: { store: string; raw: string; shape: Vec3; dtype: DType; order: Order; format: 2 | 3 }[] = [];
  for (const [i, c] of CASES.entries()) {
    const [X, Y, Z] = c.shape;
    let data = values(c.dtype, X * Y * Z, 40 + i, false);
    const input = join(dir, `${i}.raw`);
    await writeFile(input, fileBytes(c.dtype, data, c.shape, c.order));
    const store = join(dir, `${i}.zarr`);
    const summary = await convert(input, store, {
      shape: c.shape, chunk: c.chunk, ...(c.shard ? { shard: c.shard } : {}), dtype: c.dtype, downsample: c.method,
      inputOrder: c.order, zarrFormat: c.format, voxelSize: c.voxel, ome: true, threads: 2,
    });
    const stores: string[] = [];
    let shape = c.shape;
    for (const level of summary.levels) {
      if (level.level > 0) {
        data = reference(c.method, c.dtype, data, [...shape] as [number, number, number], [...level.factor] as [number, number, number]);
        shape = level.shape;
      }
      const raw = join(dir, `${i}-level${level.level}.raw`);
      await writeFile(raw, fileBytes(c.dtype, data, shape, c.order));
      const levelStore = join(store, String(level.level));
      stores.push(levelStore);
      jobs.push({ store: levelStore, raw, shape, dtype: c.dtype, order: c.order, format: c.format });
    }
    levelsOf.set(c, stores);
  }
  if (tensorstore) results.tensorstore = await readBack(tensorstore, 'tensorstore', await writeBatch(dir, 'ts', jobs));
  if (zarr2) results.zarr = await readBack(zarr2, 'zarr', await writeBatch(dir, 'zarr', jobs.filter((j) => j.format === 2)));
});

test.after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const c of CASES) {
  const check = (reader: 'tensorstore' | 'zarr') => {
    const stores = levelsOf.get(c)!;
    assert.ok(stores.length >= 3, `${c.name}: a pyramid of several levels`);
    for (const store of stores) {
      const r = results[reader].get(store);
      assert.ok(r?.ok, `${c.name}, ${store}: ${JSON.stringify(r)}`);
    }
  };
  (tensorstore ? test : test.skip)(`tensorstore reads every level of ${c.name} equal to the reference`, () => check('tensorstore'));
  if (c.format === 2) (zarr2 ? test : test.skip)(`zarr-python 2 reads every level of ${c.name} equal to the reference`, () => check('zarr'));
}

test.run();
