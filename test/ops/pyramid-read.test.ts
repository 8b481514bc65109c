/**
 * The read side of OME-Zarr pyramids — `info`, `verify`, `export --level` and `openPyramid` — on pyramids built
 * here without the convert engine: every level computed by the naive reference from the one above, written by the
 * public Chunker and ZarrSink, the group documents from `omeAttributes()`, the row markers by hand. v3 and v2,
 * sharded and not, F and C input. Then the same commands on a pyramid the real `convert --ome` wrote.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bytesPerElement, typedArray, typedView, type DType } from '../../src/core/dtype.ts';
import type { DownsampleMethod } from '../../src/core/downsample.ts';
import { SlabchunkError } from '../../src/core/errors.ts';
import type { Order, Vec3 } from '../../src/core/geometry.ts';
import { storedLayout, type StoredLayout } from '../../src/core/layout.ts';
import { planPyramid, type PyramidLevel } from '../../src/core/pyramid.ts';
import { exportStore } from '../../src/ops/export.ts';
import { inspectStore } from '../../src/ops/inspect.ts';
import { verifyStore } from '../../src/ops/verify.ts';
import { Chunker } from '../../src/stream/chunker.ts';
import { markRowDone } from '../../src/zarr/markers.ts';
import { omeAttributes } from '../../src/zarr/ome.ts';
import { openPyramid } from '../../src/zarr/pyramid-reader.ts';
import { openStore } from '../../src/zarr/reader.ts';
import { ZarrSink } from '../../src/zarr/sink.ts';
import { FileSystemStore } from '../../src/zarr/stores/filesystem.ts';
import { slabchunk } from '../lib/cli.ts';
import { reference, values, type V } from '../lib/downsample-reference.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-pyramid-read-'));
let seed = 11;

interface Case {
  format: 2 | 3;
  inputOrder: Order;
  dtype: DType;
  method: DownsampleMethod;
  shape: Vec3;
  chunk: Vec3;
  shard?: Vec3;
  voxel: Vec3;
  /** At most this many levels (default auto). */
  levels?: number;
  /** The method each level L ≥ 1 is really computed with, when it is not the one the metadata states. */
  computedWith?: (level: number) => DownsampleMethod;
}

interface Built {
  store: string;
  input: string;
  levels: readonly PyramidLevel[];
  /** Each level's voxels as raw file slabs: what `export --level` must give. */
  bytes: Buffer[];
  layouts: StoredLayout[];
}

const reverse = (v: Vec3): Vec3 => [v[2], v[1], v[0]];

function toBytes(dtype: DType, data: readonly V[]): Buffer {
  const array = typedArray(dtype, data.length);
  data.forEach((v, i) => { array[i] = v as never; });
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

function fromBytes(dtype: DType, bytes: Buffer): V[] {
  return [...(typedView(dtype, bytes.buffer, bytes.byteOffset, bytes.length / bytesPerElement(dtype)) as unknown as Iterable<V>)];
}

/** One level array, as a library user writes an array: raw file slabs through a Chunker into a ZarrSink. */
async function writeLevel(at: string, c: Case, level: PyramidLevel, bytes: Buffer): Promise<void> {
  const { shape, chunk, shard } = level;
  const geometry = { shape, dtype: c.dtype, chunk, inputOrder: c.inputOrder, ...(shard ? { shard } : {}) };
  await pipeline(
    Readable.from([bytes]),
    new Chunker({ ...geometry, order: c.inputOrder }),
    new ZarrSink(at, { ...geometry, zarrFormat: c.format, codec: 'zstd:1' }),
  );
}

/** A pyramid store as `convert --ome` lays it out: group documents, level arrays, job record and row markers. */
async function buildPyramid(name: string, c: Case): Promise<Built> {
  const store = path.join(dir, name);
  const input = path.join(dir, `${name}.raw`);
  const { levels } = planPyramid({ shape: c.shape, chunk: c.chunk, ...(c.shard ? { shard: c.shard } : {}), voxelSize: c.voxel, levels: c.levels ?? 'auto' });
  const file = (v: Vec3) => (c.inputOrder === 'F' ? v : reverse(v));
  const [X, Y, Z] = file(c.shape);
  let data = values(c.dtype, X * Y * Z, seed++, false);
  const bytes: Buffer[] = [toBytes(c.dtype, data)];
  for (let l = 1; l < levels.length; l++) {
    const above = file(levels[l - 1]!.shape);
    data = reference(c.computedWith?.(l) ?? c.method, c.dtype, data, [...above] as [number, number, number], [...file(levels[l]!.factor)] as [number, number, number]);
    bytes.push(toBytes(c.dtype, data));
  }
  fs.writeFileSync(input, bytes[0]!);
  const layouts: StoredLayout[] = [];
  for (const [l, level] of levels.entries()) {
    await writeLevel(path.join(store, String(l)), c, level, bytes[l]!);
    layouts.push(storedLayout({ shape: level.shape, chunk: level.chunk, shard: level.shard, inputOrder: c.inputOrder }));
  }
  const attributes = omeAttributes({
    levels, method: c.method, unit: 'micrometer', axes: c.inputOrder === 'F' ? ['z', 'y', 'x'] : ['x', 'y', 'z'], version: c.format === 3 ? '0.5' : '0.4',
  });
  if (c.format === 3) fs.writeFileSync(path.join(store, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes }));
  else {
    fs.writeFileSync(path.join(store, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
    fs.writeFileSync(path.join(store, '.zattrs'), JSON.stringify(attributes));
  }
  const root = new FileSystemStore(store);
  await root.set('.slabchunk/job.json', Buffer.from('{}\n'));
  for (const [l, layout] of layouts.entries()) for (let r = 0; r < layout.rowsTotal; r++) await markRowDone(root, r, l);
  return { store, input, levels, bytes, layouts };
}

async function exported(store: string, level?: number): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  await exportStore(store, out, level === undefined ? {} : { level });
  return Buffer.concat(parts);
}

async function rejection(promise: Promise<unknown>): Promise<SlabchunkError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  assert.instance(error, SlabchunkError);
  return error as SlabchunkError;
}

/** The multiscale's vectors in stored order. */
const stored = (c: Case, v: Vec3): Vec3 => (c.inputOrder === 'F' ? reverse(v) : v);

const CASES: (Case & { name: string })[] = [
  { name: 'v3-F-mean-u16', format: 3, inputOrder: 'F', dtype: 'uint16', method: 'mean', shape: [21, 17, 13], chunk: [4, 4, 2], voxel: [1, 1, 1] },
  { name: 'v3-C-sharded-mode-i8', format: 3, inputOrder: 'C', dtype: 'int8', method: 'mode', shape: [11, 18, 23], chunk: [2, 4, 4], shard: [4, 8, 8], voxel: [2, 0.4, 0.4] },
  { name: 'v3-F-sharded-min-i64', format: 3, inputOrder: 'F', dtype: 'int64', method: 'min', shape: [19, 9, 14], chunk: [4, 2, 3], shard: [8, 4, 6], voxel: [0.4, 0.4, 1] },
  { name: 'v2-F-mean-f32', format: 2, inputOrder: 'F', dtype: 'float32', method: 'mean', shape: [15, 22, 9], chunk: [4, 4, 2], voxel: [1, 1, 1.2] },
  { name: 'v2-C-max-u8', format: 2, inputOrder: 'C', dtype: 'uint8', method: 'max', shape: [10, 13, 17], chunk: [3, 3, 4], voxel: [1, 1, 1] },
  { name: 'v3-C-stride-u32', format: 3, inputOrder: 'C', dtype: 'uint32', method: 'stride', shape: [9, 12, 20], chunk: [3, 2, 5], voxel: [1, 1, 1] },
];

for (const c of CASES) {
  test(`${c.name}: export --level L gives the reference level; verify passes; info and openPyramid list the levels`, async () => {
    const built = await buildPyramid(c.name, c);
    assert.ok(built.levels.length >= 3, 'a pyramid of a few levels to test');
    for (const l of built.levels.keys()) assert.ok((await exported(built.store, l)).equals(built.bytes[l]!), `level ${l} exports the reference's bytes`);
    assert.ok((await exported(built.store)).equals(built.bytes[0]!), 'no level: level 0');

    const result = await verifyStore(built.input, built.store);
    assert.equal([result.differing, result.damaged], [[], []]);
    assert.equal(result.levels!.map((l) => [l.level, l.against]), built.levels.map((_, l) => [l, l === 0 ? 'input' : `level ${l - 1}`]));
    built.layouts.forEach((layout, l) => assert.is(result.levels![l]!.chunksCompared, layout.grid[0] * layout.grid[1] * layout.grid[2], `level ${l}: every chunk compared`));

    const info = await inspectStore(built.store);
    const pyramid = info.pyramid!;
    assert.equal([pyramid.version, pyramid.method, pyramid.unit, pyramid.axes], [c.format === 3 ? '0.5' : '0.4', c.method, 'micrometer', c.inputOrder === 'F' ? ['z', 'y', 'x'] : ['x', 'y', 'z']]);
    assert.equal(pyramid.levels.map((l) => l.shape), built.levels.map((l) => stored(c, l.shape)));
    assert.equal(pyramid.levels.map((l) => l.volumeShape), built.levels.map((l) => l.shape));
    assert.equal(pyramid.levels.map((l) => l.scale), built.levels.map((l) => stored(c, l.voxelSize)));
    assert.equal(pyramid.levels.map((l) => l.chunks), built.levels.map((l) => stored(c, l.chunk)));
    assert.equal(pyramid.levels.map((l) => l.shard), built.levels.map((l) => (l.shard ? stored(c, l.shard) : undefined)));
    assert.equal(pyramid.levels.map((l) => l.translation === undefined), built.levels.map((_, l) => l === 0 || c.method === 'stride'));
    assert.equal(pyramid.levels.map((l) => [l.rowsDone, l.rowsTotal]), built.layouts.map((l) => [l.rowsTotal, l.rowsTotal]));
    assert.equal([pyramid.unfinished, pyramid.todo, info.shape, info.path], [[], undefined, stored(c, c.shape), built.store]);

    const opened = await openPyramid(built.store);
    assert.equal(opened.levels.map((l) => l.factor), built.levels.map((l) => stored(c, l.factor)));
    assert.equal(opened.levels.map((l) => l.store.path), built.levels.map((_, l) => path.join(built.store, String(l))));
  });
}

test('verify names exactly the chunk rewritten in level 2 (unsharded v3, and an inner chunk of a sharded C-input store)', async () => {
  for (const c of [
    { format: 3, inputOrder: 'F', dtype: 'uint16', method: 'mean', shape: [20, 18, 16], chunk: [4, 4, 2], voxel: [1, 1, 1], levels: 3 },
    { format: 3, inputOrder: 'C', dtype: 'uint16', method: 'mean', shape: [16, 18, 20], chunk: [2, 4, 4], shard: [4, 8, 8], voxel: [1, 1, 1], levels: 3 },
  ] as Case[]) {
    const name = `corrupt-${c.inputOrder}${c.shard ? '-sharded' : ''}`;
    const built = await buildPyramid(name, c);
    const level = built.levels[2]!;
    const layout = built.layouts[2]!;
    // Chunk (1, 1, 1): one voxel of it changed, the level written again elsewhere and that one file copied over.
    const coords: Vec3 = [1, 1, 1];
    const [fx, fy, fz] = layout.toFile(coords.map((g, a) => g * level.chunk[a]!) as unknown as Vec3);
    const [FX, FY] = layout.file.shape;
    const changed = fromBytes(c.dtype, built.bytes[2]!);
    const at = fx + FX * (fy + FY * fz);
    changed[at] = (changed[at] as number) + 1;
    const scratch = path.join(dir, `${name}-rewritten`);
    await writeLevel(scratch, c, level, toBytes(c.dtype, changed));
    const key = layout.key(layout.fileOf(coords), c.format);
    fs.copyFileSync(path.join(scratch, key), path.join(built.store, '2', key));

    const result = await verifyStore(built.input, built.store);
    const described = layout.describe(coords, c.format);
    assert.equal(result.differing, [`2/${described}`], name);
    assert.equal(result.levels!.map((l) => l.differing), [[], [], [described]]);
    const ran = await slabchunk(['verify', built.input, built.store]);
    assert.is(ran.code, 1, ran.stderr);
    assert.match(ran.stderr, `level 2 of ${built.store} differs from level 1 downsampled again in 1 of`);
    assert.ok(ran.stderr.includes(`  2/${described}\n`), ran.stderr);
    assert.match(ran.stderr, `verified level 1 of ${built.store}`);
  }
});

test('verify: a level computed with another method than the metadata states differs in every chunk, the levels around it do not', async () => {
  const c: Case = {
    format: 2, inputOrder: 'F', dtype: 'uint16', method: 'mean', shape: [24, 20, 12], chunk: [4, 4, 4], voxel: [1, 1, 1],
    computedWith: (l) => (l === 1 ? 'max' : 'mean'),
  };
  const built = await buildPyramid('wrong-method', c);
  const result = await verifyStore(built.input, built.store);
  const [zero, one, ...rest] = result.levels!;
  assert.equal(zero!.differing, []);
  assert.is(one!.differing.length, one!.chunksCompared, 'max is not mean in any chunk of random data');
  assert.ok(one!.chunksCompared > 1);
  for (const l of rest) assert.equal(l.differing, [], `level ${l.level} is mean of level ${l.level - 1}`);
  assert.ok(result.differing.every((k) => k.startsWith('1/')), 'keys carry their level');
  assert.is((await slabchunk(['verify', built.input, built.store])).code, 1);
});

test('info: a level missing row markers is unfinished, with what to run; level 0 unfinished asks for --resume', async () => {
  const c: Case = { format: 3, inputOrder: 'F', dtype: 'uint8', method: 'mean', shape: [16, 16, 16], chunk: [4, 4, 2], voxel: [1, 1, 1] };
  const built = await buildPyramid('unfinished', c);
  fs.rmSync(path.join(built.store, '.slabchunk', 'levels', '2', 'rows', '1'));
  let info = await inspectStore(built.store);
  assert.equal(info.pyramid!.unfinished, [2]);
  assert.equal([info.pyramid!.levels[2]!.rowsDone, info.pyramid!.levels[2]!.unfinished], [built.layouts[2]!.rowsTotal - 1, true]);
  assert.match(info.pyramid!.todo!, `slabchunk finish ${built.store}`);
  const text = await slabchunk(['info', built.store]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, `rows done ${built.layouts[2]!.rowsTotal - 1} of ${built.layouts[2]!.rowsTotal} (unfinished)`);
  assert.match(text.stdout, `unfinished: level 2; run slabchunk finish ${built.store}`);
  const json = JSON.parse((await slabchunk(['info', built.store, '--json'])).stdout) as { pyramid: { unfinished: number[]; levels: { shape: number[] }[] } };
  assert.equal(json.pyramid.unfinished, [2]);
  assert.equal(json.pyramid.levels.map((l) => l.shape), built.levels.map((l) => reverse(l.shape)));
  // Its chunks are all there, so they verify; the level is still named unfinished.
  const verified = await verifyStore(built.input, built.store);
  assert.equal([verified.differing, verified.levels!.map((l) => l.unfinished)], [[], built.levels.map((_, l) => l === 2)]);
  assert.match(verified.todo!, `slabchunk finish ${built.store}`);

  fs.rmSync(path.join(built.store, '.slabchunk', 'rows', '0'));
  info = await inspectStore(built.store);
  assert.equal(info.pyramid!.unfinished, [0, 2]);
  assert.match(info.pyramid!.todo!, '--resume');
});

test('export --level: a level that does not exist and --level on a bare array are EINVALID naming the levels, exit 2, no output', async () => {
  const c: Case = { format: 3, inputOrder: 'F', dtype: 'uint16', method: 'mean', shape: [12, 12, 12], chunk: [4, 4, 4], voxel: [1, 1, 1] };
  const built = await buildPyramid('levels', c);
  const count = built.levels.length;
  const error = await rejection(exportStore(built.store, new PassThrough(), { level: count }));
  assert.is(error.code, 'EINVALID');
  assert.match(error.message, `has no level ${count}: its levels are 0 to ${count - 1}`);
  const out = path.join(dir, 'levels-out.raw');
  const ran = await slabchunk(['export', built.store, out, '--level', String(count + 3)]);
  assert.is(ran.code, 2, ran.stderr);
  assert.match(ran.stderr, `its levels are 0 to ${count - 1}`);
  assert.not.ok(fs.existsSync(out), 'no output for a level that does not exist');
  const good = await slabchunk(['export', built.store, out, '--level', '1']);
  assert.is(good.code, 0, good.stderr);
  assert.ok(fs.readFileSync(out).equals(built.bytes[1]!));

  const bare = path.join(built.store, '0');
  const onBare = await rejection(exportStore(bare, new PassThrough(), { level: 1 }));
  assert.is(onBare.code, 'EINVALID');
  assert.match(onBare.message, 'its only level is 0');
  assert.ok((await exported(bare, 0)).equals(built.bytes[0]!), 'level 0 of a bare array is the array');
});

test('openStore on a pyramid root names --level; broken pyramids are ESTORE naming the level and the fix', async () => {
  const c: Case = { format: 3, inputOrder: 'F', dtype: 'uint16', method: 'mean', shape: [12, 12, 12], chunk: [4, 4, 4], voxel: [1, 1, 1] };
  const root = await rejection(openStore((await buildPyramid('open', c)).store));
  assert.is(root.code, 'ESTORE');
  assert.match(root.message, /OME-Zarr pyramid \(levels 0, 1, 2\).*--level L/);

  const doc = (store: string) => JSON.parse(fs.readFileSync(path.join(store, 'zarr.json'), 'utf8'));
  const broken = async (name: string, edit: (store: string) => void): Promise<SlabchunkError> => {
    const { store } = await buildPyramid(name, c);
    edit(store);
    const error = await rejection(openPyramid(store));
    assert.is(error.code, 'ESTORE', name);
    // Every command that reads the pyramid stops on it: a configuration error, exit 2.
    assert.is((await slabchunk(['info', store])).code, 2, name);
    return error;
  };
  let e = await broken('missing-level', (store) => fs.rmSync(path.join(store, '2'), { recursive: true }));
  assert.match(e.message, /level 2 of .* \(dataset 2\) cannot be opened/);
  e = await broken('wrong-shape', (store) => {
    const group = doc(store);
    // Level 1 claims level 0's scale, so its halved shape no longer follows.
    group.attributes.ome.multiscales[0].datasets[1].coordinateTransformations[0].scale = [1, 1, 1];
    fs.writeFileSync(path.join(store, 'zarr.json'), JSON.stringify(group));
  });
  assert.match(e.message, 'level 1 of');
  assert.match(e.message, 'has shape [6, 6, 6], but its scale makes it level 0\'s [12, 12, 12] reduced by [1, 1, 1], shape [12, 12, 12]');
  e = await broken('odd-scale', (store) => {
    const group = doc(store);
    group.attributes.ome.multiscales[0].datasets[2].coordinateTransformations[0].scale = [3, 3, 3];
    fs.writeFileSync(path.join(store, 'zarr.json'), JSON.stringify(group));
  });
  assert.match(e.message, 'not level 1\'s [2, 2, 2] times 1 or 2 per axis');
  e = await broken('no-multiscales', (store) => fs.writeFileSync(path.join(store, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} })));
  assert.match(e.message, 'a Zarr group without attributes.ome.multiscales');

  const gauss = await buildPyramid('gaussian', c);
  const group = doc(gauss.store);
  group.attributes.ome.multiscales[0].type = 'gaussian';
  fs.writeFileSync(path.join(gauss.store, 'zarr.json'), JSON.stringify(group));
  const v = await rejection(verifyStore(gauss.input, gauss.store));
  assert.is(v.code, 'ESTORE');
  assert.match(v.message, '"gaussian"');
});

test('the real convert --ome: verify passes, every level exports as the reference, info lists them; a deleted marker shows as unfinished', async () => {
  const shape: Vec3 = [26, 19, 15];
  const chunk: Vec3 = [4, 4, 2];
  const voxel: Vec3 = [0.5, 0.5, 1];
  const data = values('uint16', shape[0] * shape[1] * shape[2], 99, false);
  const input = path.join(dir, 'real.raw');
  fs.writeFileSync(input, toBytes('uint16', data));
  const store = path.join(dir, 'real.zarr');
  const converted = await slabchunk(['convert', input, store, '--shape', shape.join(','), '--dtype', 'uint16', '--chunk', chunk.join(','),
    '--ome', '--voxel-size', voxel.join(','), '--unit', 'um', '--downsample', 'mean', '--no-progress']);
  assert.is(converted.code, 0, converted.stderr);

  const verified = await slabchunk(['verify', input, store, '--json']);
  assert.is(verified.code, 0, verified.stderr);
  const { levels } = planPyramid({ shape, chunk, voxelSize: voxel, levels: 'auto' });
  assert.is((JSON.parse(verified.stdout) as { levels: unknown[] }).levels.length, levels.length);

  let want = data;
  for (let l = 0; l < levels.length; l++) {
    if (l > 0) want = reference('mean', 'uint16', want, [...levels[l - 1]!.shape] as [number, number, number], [...levels[l]!.factor] as [number, number, number]);
    const out = path.join(dir, `real-${l}.raw`);
    const ran = await slabchunk(['export', store, out, '--level', String(l)]);
    assert.is(ran.code, 0, ran.stderr);
    assert.ok(fs.readFileSync(out).equals(toBytes('uint16', want)), `level ${l} as the reference`);
  }

  const info = await inspectStore(store);
  assert.equal(info.pyramid!.levels.map((l) => [l.volumeShape, l.scale]), levels.map((l) => [l.shape, reverse(l.voxelSize)]));
  assert.equal(info.pyramid!.unfinished, []);
  const last = levels.length - 1;
  fs.rmSync(path.join(store, '.slabchunk', 'levels', String(last), 'rows', '0'));
  assert.equal((await inspectStore(store)).pyramid!.unfinished, [last]);
});

test('the real split job: before finish, info and verify name the unfinished levels and what to run; after it, all verify', async () => {
  const shape: Vec3 = [37, 29, 23];
  const input = path.join(dir, 'split.raw');
  fs.writeFileSync(input, toBytes('uint16', values('uint16', shape[0] * shape[1] * shape[2], 5, false)));
  const store = path.join(dir, 'split.zarr');
  const options = ['--shape', shape.join(','), '--dtype', 'uint16', '--chunk', '8,8,4', '--ome', '--no-progress'];
  for (let part = 0; part < 3; part++) {
    const ran = await slabchunk(['convert', input, store, ...options, '--part', `${part}/3`]);
    assert.is(ran.code, 0, ran.stderr);
  }
  const info = await inspectStore(store);
  const { unfinished } = info.pyramid!;
  assert.ok(unfinished.length > 0 && !unfinished.includes(0), `three parts leave coarse levels to finish (${unfinished.join(', ')})`);
  assert.match(info.pyramid!.todo!, `slabchunk finish ${store}`);
  const before = await slabchunk(['verify', input, store]);
  assert.is(before.code, 1, 'missing chunks of unfinished levels read as fill');
  for (const l of unfinished) assert.match(before.stderr, `level ${l} of ${store} (unfinished)`);
  assert.match(before.stderr, `has unfinished levels, whose missing chunks read as fill: run slabchunk finish ${store}`);

  const finished = await slabchunk(['finish', store]);
  assert.is(finished.code, 0, finished.stderr);
  assert.equal((await inspectStore(store)).pyramid!.unfinished, []);
  const after = await slabchunk(['verify', input, store]);
  assert.is(after.code, 0, after.stderr);
  assert.not.match(after.stderr, 'unfinished');
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('verify: a damaged chunk of level 0 is listed with its level, and the level below it is reported not checked', async () => {
  const shape: Vec3 = [32, 24, 20];
  const input = path.join(dir, 'damaged.raw');
  fs.writeFileSync(input, toBytes('uint16', values('uint16', shape[0] * shape[1] * shape[2], 5, false)));
  const store = path.join(dir, 'damaged.zarr');
  const converted = await slabchunk(['convert', input, store, '--shape', shape.join(','), '--dtype', 'uint16', '--chunk', '8,8,4', '--ome', '--codec', 'raw+crc32c']);
  assert.is(converted.code, 0, converted.stderr);
  const victim = path.join(store, '0', 'c', '1', '1', '1');
  const bytes = fs.readFileSync(victim);
  bytes[10] ^= 0x40;
  fs.writeFileSync(victim, bytes);
  const result = await verifyStore(input, store);
  assert.equal(result.damaged.map((d) => d.key), ['0/c/1/1/1']);
  assert.ok(result.levels!.length >= 3);
  assert.equal(result.levels!.map((l) => l.skipped ?? ''), result.levels!.map((l) => (l.level === 0 ? '' : l.level === 1 ? 'level 0 is damaged' : `level ${l.level - 1} was not checked`)));
  const ran = await slabchunk(['verify', input, store]);
  assert.is(ran.code, 1);
  assert.match(ran.stderr, /level 0 of .* is damaged: 1 chunk cannot be read back/);
  assert.match(ran.stderr, /level 1 of .* not checked: level 0 is damaged/);
});

test.run();
