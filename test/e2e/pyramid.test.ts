/**
 * `convert --ome`: every level of the pyramid, read back through zarrita, equals the naive reference applied level
 * by level to the input; the metadata passes our OME validator; parts + `finish` and resumed runs end
 * byte-identical to one run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';
import { convert, type ConvertOptions } from '../../src/index.ts';
import { typedArray, type DType } from '../../src/core/dtype.ts';
import { DOWNSAMPLE_METHODS, type DownsampleMethod } from '../../src/core/downsample.ts';
import type { Vec3 } from '../../src/core/geometry.ts';
import { finish } from '../../src/ops/finish.ts';
import { reference, values, type V } from '../lib/downsample-reference.ts';
import { checkOmeStore } from '../lib/ome-validator.ts';
import { mulberry32 } from '../../bench/lib/volume.ts';
import { slabchunk, spawnSlabchunk } from '../lib/cli.ts';
import { assertSameTree, fileTree, markedRows } from '../lib/trees.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-pyramid-'));
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A volume's values in F order of `[X, Y, Z]`, and the input file's bytes in `order`. */
function volume(dtype: DType, shape: Vec3, seed: number, order: 'F' | 'C'): { data: V[]; file: string } {
  const [X, Y, Z] = shape;
  const data = values(dtype, X * Y * Z, seed, seed % 2 === 0);
  const bytes = typedArray(dtype, X * Y * Z);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    bytes[order === 'F' ? x + X * (y + Y * z) : z + Z * (y + Y * x)] = data[x + X * (y + Y * z)] as never;
  }
  const file = path.join(dir, `input-${seed}.raw`);
  fs.writeFileSync(file, new Uint8Array(bytes.buffer));
  return { data, file };
}

/** Level `level`'s values in F order of its `[X, Y, Z]`, read with zarrita; its shape. */
async function readLevel(store: string, level: number, order: 'F' | 'C'): Promise<{ values: V[]; shape: Vec3 }> {
  const array = await zarr.open(new FileSystemStore(path.join(store, String(level))), { kind: 'array' });
  const { data } = await zarr.get(array);
  const stored = array.shape as [number, number, number];
  const shape: Vec3 = order === 'F' ? [stored[2], stored[1], stored[0]] : [stored[0], stored[1], stored[2]];
  const [X, Y, Z] = shape;
  const flat = Array.from(data as ArrayLike<V>, (v) => (typeof v === 'boolean' ? Number(v) : v));
  const out: V[] = new Array(X * Y * Z);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    out[x + X * (y + Y * z)] = flat[order === 'F' ? x + X * (y + Y * z) : z + Z * (y + Y * x)]!;
  }
  return { values: out, shape };
}

/** The multiscales entry of a pyramid's group (0.5 in zarr.json, 0.4 in .zattrs). */
function multiscalesOf(store: string): { datasets: { path: string; coordinateTransformations: { type: string; scale?: number[] }[] }[] } & Record<string, unknown> {
  const v3 = path.join(store, 'zarr.json');
  if (fs.existsSync(v3)) return JSON.parse(fs.readFileSync(v3, 'utf8')).attributes.ome.multiscales[0];
  return JSON.parse(fs.readFileSync(path.join(store, '.zattrs'), 'utf8')).multiscales[0];
}

interface Case {
  dtype: DType;
  method: DownsampleMethod;
  shape: Vec3;
  chunk: Vec3;
  voxel?: Vec3;
  shard?: Vec3;
  order?: 'F' | 'C';
  format?: 2 | 3;
  levels?: 'auto' | number;
}

let seed = 100;
async function check(c: Case): Promise<string> {
  const order = c.order ?? 'F';
  const label = `${c.method} ${c.dtype} ${c.shape.join('×')} chunk ${c.chunk.join('×')}${c.shard ? ` shard ${c.shard.join('×')}` : ''} ${order} v${c.format ?? 3}`;
  const { data, file } = volume(c.dtype, c.shape, seed++, order);
  const store = path.join(dir, `case-${seed}.zarr`);
  const options: ConvertOptions = {
    shape: c.shape, dtype: c.dtype, chunk: c.chunk, ome: true, downsample: c.method, inputOrder: order, threads: 2,
    ...(c.voxel ? { voxelSize: c.voxel } : {}), ...(c.shard ? { shard: c.shard } : {}), ...(c.format ? { zarrFormat: c.format } : {}),
    ...(c.levels !== undefined ? { levels: c.levels } : {}),
  };
  const summary = await convert(file, store, options);
  const ms = multiscalesOf(store);
  assert.equal(checkOmeStore(store), [], `${label}: OME rules`);
  assert.is(ms.datasets.length, summary.levels.length, `${label}: a dataset per level`);
  let want = data;
  let shape = c.shape;
  for (let l = 0; l < summary.levels.length; l++) {
    const spec = summary.levels[l]!;
    if (l > 0) {
      want = reference(c.method, c.dtype, want, [...shape] as [number, number, number], [...spec.factor] as [number, number, number]);
      shape = spec.shape;
    }
    const got = await readLevel(store, l, order);
    assert.equal(got.shape, spec.shape, `${label}: level ${l} shape`);
    assert.equal(got.values, want, `${label}: level ${l}`);
  }
  return store;
}

test('every method × dtype, odd sizes and odd chunk depths: every level equals the naive reference', async () => {
  for (const method of DOWNSAMPLE_METHODS) {
    for (const dtype of ['uint8', 'int16', 'uint32', 'float64', 'int64', 'bool'] as DType[]) {
      await check({ dtype, method, shape: [19, 14, 11], chunk: [4, 4, 3] });
    }
  }
});

test('anisotropic voxels (z kept until x and y catch up), sharded, C input, v2, levels capped', async () => {
  const cases: Case[] = [
    { dtype: 'uint16', method: 'mean', shape: [67, 50, 37], chunk: [16, 16, 8], voxel: [0.4, 0.4, 2] },
    { dtype: 'int8', method: 'mode', shape: [33, 20, 45], chunk: [8, 8, 5], shard: [16, 16, 10] },
    { dtype: 'float32', method: 'min', shape: [30, 17, 21], chunk: [8, 8, 4], order: 'C', format: 2 },
    { dtype: 'uint16', method: 'max', shape: [40, 24, 31], chunk: [8, 8, 3], voxel: [1, 1, 1.2], order: 'C', shard: [16, 8, 6] },
    { dtype: 'uint8', method: 'stride', shape: [32, 32, 32], chunk: [4, 4, 4], levels: 3 },
  ];
  for (const c of cases) {
    const store = await check(c);
    if (c === cases[0]) {
      const scale = multiscalesOf(store).datasets.map((d) => d.coordinateTransformations[0]!.scale);
      // Stored axes z, y, x; z (2 µm) waits while x and y halve from 0.4 to 0.8 and 1.6; then y (13 voxels) fits
      // in its chunk and stays, while x and z (within 1.5× of x's 1.6) halve.
      assert.equal(scale.slice(0, 4), [[2, 0.4, 0.4], [2, 0.8, 0.8], [2, 1.6, 1.6], [4, 1.6, 3.2]]);
    }
  }
});

const PARTS_CASE = { dtype: 'uint16' as DType, shape: [40, 36, 50] as Vec3, chunk: [8, 8, 4] as Vec3 };

test('--part 0..N-1/N (N up to the level-0 rows) then finish: byte-identical to one run; finish again changes nothing', async () => {
  const { file } = volume(PARTS_CASE.dtype, PARTS_CASE.shape, 7, 'F');
  const options: ConvertOptions = { shape: PARTS_CASE.shape, dtype: PARTS_CASE.dtype, chunk: PARTS_CASE.chunk, ome: true, threads: 2 };
  const single = path.join(dir, 'single.zarr');
  await convert(file, single, options);
  const rows = Math.ceil(PARTS_CASE.shape[2] / PARTS_CASE.chunk[2]);
  for (const count of [2, 3, 5, rows]) {
    const store = path.join(dir, `parts-${count}.zarr`);
    let left: readonly number[] = [];
    for (let index = count - 1; index >= 0; index--) {
      const summary = await convert(file, store, { ...options, part: { index, count, source: '--part' } });
      left = summary.levelsLeft ?? [];
    }
    assert.ok(left.length > 0, `${count} parts: the coarsest levels are left for finish`);
    const result = await finish(store, { threads: 2 });
    assert.ok(result.rowsMade.some((n) => n > 0), `${count} parts: finish made rows`);
    assertSameTree(store, single, (rel) => !rel.includes('lock'), `${count} parts + finish`);
    const again = await finish(store, { threads: 2 });
    assert.equal(again.rowsMade.reduce((a, b) => a + b, 0), 0, `${count} parts: a second finish makes nothing`);
    // Parts of at least four level-0 rows leave finish to read at most 1/16 of the volume back.
    if (rows / count >= 4) assert.ok(result.rowsRead[0] === 0, `${count} parts: finish read level 0 back`);
  }
});

test('finish refuses a pyramid whose parts are not all done, naming the rows', async () => {
  const { file } = volume(PARTS_CASE.dtype, PARTS_CASE.shape, 7, 'F');
  const store = path.join(dir, 'unfinished.zarr');
  await convert(file, store, { shape: PARTS_CASE.shape, dtype: PARTS_CASE.dtype, chunk: PARTS_CASE.chunk, ome: true, part: { index: 0, count: 3, source: '--part' } });
  const error = await finish(store).then(() => undefined, (e: Error) => e);
  assert.match(String(error?.message), /rows \d+-\d+ of level 0 are not converted yet/);
});

test('a resumed pyramid (markers of some rows of every level removed) ends byte-identical', async () => {
  const { file } = volume(PARTS_CASE.dtype, PARTS_CASE.shape, 7, 'F');
  const options: ConvertOptions = { shape: PARTS_CASE.shape, dtype: PARTS_CASE.dtype, chunk: PARTS_CASE.chunk, ome: true, threads: 2 };
  const single = path.join(dir, 'single.zarr');
  const store = path.join(dir, 'resumed.zarr');
  await convert(file, store, options);
  // As a killed run leaves it: rows past some point of each level unmarked, their files possibly stale.
  const drop = (marker: string) => fs.rmSync(path.join(store, '.slabchunk', marker), { force: true });
  for (const r of [7, 8, 9, 10, 11, 12]) drop(`rows/${r}`);
  for (const r of [3, 4, 5, 6]) drop(`levels/1/rows/${r}`);
  for (const r of [1, 2, 3]) drop(`levels/2/rows/${r}`);
  fs.rmSync(path.join(store, '0', 'c', '9'), { recursive: true, force: true });
  fs.rmSync(path.join(store, '2', 'c', '2'), { recursive: true, force: true });
  const summary = await convert(file, store, { ...options, resume: true });
  assert.is(summary.rowsSkipped, 7);
  assertSameTree(store, single, (rel) => !rel.includes('lock'), 'resumed');
});

test('SIGKILL at random moments, then --resume: every level byte-identical to one run, nothing torn', async () => {
  const shape: Vec3 = [160, 144, 192];
  const { file } = volume('uint16', shape, 11, 'F');
  const args = [file, '--shape', shape.join(','), '--dtype', 'uint16', '--chunk', '32,32,16', '--ome', '--voxel-size', '0.5,0.5,1', '--threads', '2'];
  const reference = path.join(dir, 'kill-reference.zarr');
  const started = Date.now();
  const clean = spawnSlabchunk(['convert', args[0]!, reference, ...args.slice(1)], { killAfterMs: 120_000 });
  assert.is((await clean.exited).code, 0);
  const span = Date.now() - started;
  const next = mulberry32(5);
  const final = (rel: string) => !rel.endsWith('.partial') && !rel.includes('lock');
  let unfinished = 0;
  for (let trial = 0; trial < 4; trial++) {
    const delay = Math.round((0.3 + 0.7 * next()) * span);
    const store = path.join(dir, `killed-${trial}.zarr`);
    const { child, exited } = spawnSlabchunk(['convert', args[0]!, store, ...args.slice(1)], { killAfterMs: 120_000 });
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    await exited;
    const label = `kill after ${delay} of ${span} ms`;
    const want = fileTree(reference, final);
    for (const [name, bytes] of fileTree(store, final)) {
      if (name.startsWith('.slabchunk')) continue;
      assert.ok(want.get(name)?.equals(bytes), `${label}: ${name} is torn or not the reference's`);
    }
    if (markedRows(store).length < shape[2] / 16) unfinished++;
    if (fs.existsSync(path.join(store, 'zarr.json'))) {
      const resumed = await slabchunk(['convert', args[0]!, store, ...args.slice(1), '--resume']);
      assert.is(resumed.code, 0, `${label}: ${resumed.stderr}`);
    } else assert.is((await slabchunk(['convert', args[0]!, store, ...args.slice(1)])).code, 0);
    assertSameTree(store, reference, final, label);
  }
  assert.ok(unfinished >= 2, `only ${unfinished} of 4 runs were killed before level 0 was done`);
});

test('a write that fails in a coarser level, or in level 0 while the next parent row waits: exit 1 with --resume (no crash, no hang); --resume ends byte-identical', async () => {
  const shape: Vec3 = [96, 96, 64];
  const { file } = volume('uint16', shape, 13, 'F');
  const args = ['convert', file, '', '--shape', shape.join(','), '--dtype', 'uint16', '--chunk', '16,16,8', '--ome', '--threads', '2'];
  const at = (store: string) => args.map((a) => (a === '' ? store : a));
  const reference = path.join(dir, 'fail-reference.zarr');
  assert.is((await slabchunk(at(reference))).code, 0);
  const final = (rel: string) => !rel.endsWith('.partial') && !rel.includes('lock');
  // Level 1's chunk 1/1/2 (z, y, x), and level 0's row 5 (z = 5), the second of parent row 2's two rows, while row 6
  // waits for parent row 2's buffer.
  for (const key of ['1/c/2/1/1', '0/c/5/3/3']) {
    const store = path.join(dir, `fail-${key.replaceAll('/', '-')}.zarr`);
    fs.mkdirSync(path.join(store, key, 'in-the-way'), { recursive: true });
    // --resume joins the folder that holds only the blocker (a fresh run refuses a non-empty folder).
    const { exited } = spawnSlabchunk(at(store).concat('--resume'), { killAfterMs: 120_000 });
    const end = await exited;
    assert.is(end.signal, null, `${key}: the run hung and was killed`);
    assert.is(end.code, 1, `${key}: ${end.stderr}`);
    assert.match(end.stderr, new RegExp(`could not write ${key.split('/').slice(1).join('/')}[^]*rerun with --resume`), key);
    assert.not.match(end.stderr, /\n\s+at /, `${key}: a stack trace`);
    fs.rmSync(path.join(store, key), { recursive: true });
    const resumed = await slabchunk(at(store).concat('--resume'));
    assert.is(resumed.code, 0, `${key}: ${resumed.stderr}`);
    assertSameTree(store, reference, final, key);
  }
});

test.run();
