/**
 * TIFF and HDF5 inputs against the bytes numpy drew: every format, dtype and compression is converted and the store,
 * read back through zarrita (`exportStore`), must equal the volume exactly. Fixtures are written by tifffile, h5py
 * and tiffcp (test/lib/formats.ts); the suite skips, saying why, where those are missing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { convert, prepareConvert } from '../../src/ops/convert.ts';
import { exportStore } from '../../src/ops/export.ts';
import { verifyStore } from '../../src/ops/verify.ts';
import { describeInput } from '../../src/input/index.ts';
import { fixturesMissing, makeFixtures, tiffcp, type FixtureSpec } from '../lib/formats.ts';
import { assertSameTree } from '../lib/trees.ts';

const missing = fixturesMissing();
const formats = suite('input formats');
let dir = '';
formats.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-formats-'));
});
formats.after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The store's volume read back by zarrita, as raw slabs. */
export async function storeBytes(store: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  await exportStore(store, new Writable({
    write(piece: Buffer, _e, callback) {
      parts.push(Buffer.from(piece));
      callback();
    },
  }));
  return Buffer.concat(parts);
}

/** An odd shape: partial chunks on every axis, planes that are not a whole number of strips. */
const SHAPE = [45, 37, 7] as const;
const CHUNK = [16, 16, 3] as const;

const FLOAT_PREDICTOR_CASES: readonly FixtureSpec[] = [
  { name: 'fp3-le.tif', kind: 'float-predictor', byteorder: '<' }, { name: 'fp3-be.tif', kind: 'float-predictor', byteorder: '>' },
];
const TIFF_CASES: readonly FixtureSpec[] = [
  { name: 'slices', kind: 'slices' },
  { name: 'slices-deflate', kind: 'slices', compression: 'zlib', predictor: true },
  { name: 'multi.tif', kind: 'multipage' },
  { name: 'big.tif', kind: 'bigtiff', compression: 'zlib', predictor: true },
  { name: 'tiled.tif', kind: 'tiled', compression: 'zlib' },
  { name: 'be.tif', kind: 'bigendian' },
];
const DTYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'] as const;

async function convertAndCompare(input: string, volume: Buffer, label: string, options: Record<string, unknown> = {}): Promise<string> {
  const store = path.join(dir, `out-${label.replace(/[^\w.-]+/g, '_')}.zarr`);
  const summary = await convert(input, store, { chunk: [...CHUNK], threads: 2, ...options });
  assert.equal(summary.options.shape, [...SHAPE], `${label}: shape read from the file`);
  const back = await storeBytes(store);
  assert.ok(back.equals(volume), `${label}: the store equals the volume numpy drew`);
  return store;
}

for (const dtype of DTYPES) {
  formats(`TIFF slices, multi-page, BigTIFF, tiled, big-endian, and LZW/zstd/PackBits/predictors by tiffcp: ${dtype}`, async () => {
    if (missing) {
      console.log(`  skipped: ${missing}`);
      return;
    }
    const at = path.join(dir, dtype);
    const cases = dtype.startsWith('float') ? [...TIFF_CASES, ...FLOAT_PREDICTOR_CASES] : TIFF_CASES;
    const volume = makeFixtures(at, SHAPE, dtype, cases, DTYPES.indexOf(dtype) + 1);
    for (const spec of cases) {
      const described = await describeInput(path.join(at, spec.name));
      assert.is(described?.dtype, dtype, `${spec.name}: dtype read from the file`);
      await convertAndCompare(path.join(at, spec.name), volume, `${dtype}-${spec.name}`);
    }
    const float = dtype.startsWith('float');
    const recompressed: [string, string[]][] = [
      ['lzw', ['-c', 'lzw']], ['zstd', ['-8', '-c', 'zstd']], ['packbits', ['-c', 'packbits']],
      ['predictor', ['-c', `zip:${float ? 3 : 2}`]],
      // Predictor 2 in both byte orders (geotiff undoes it in the machine's order: see tiff-read.ts). libtiff
      // writes big-endian float-predictor files it cannot read back itself: those are made by hand below.
      ...(float ? [] : [['be-predictor', ['-B', '-c', 'zip:2']] as [string, string[]]]),
      ['be-tiles-lzw', ['-B', '-c', float ? 'lzw' : 'lzw:2', '-t', '-w', '16', '-l', '16']],
    ];
    for (const [label, options] of recompressed) {
      const file = path.join(at, `${label}.tif`);
      tiffcp(path.join(at, 'multi.tif'), file, options);
      await convertAndCompare(file, volume, `${dtype}-${label}`);
    }
  });
}

formats('a glob picks files in natural order (slice_2 before slice_10), and verify reads a TIFF folder', async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const at = path.join(dir, 'natural');
  const shape = [20, 12, 12] as const;
  const volume = makeFixtures(at, shape, 'uint16', [{ name: 'slices', kind: 'slices' }], 9);
  // Noise files the glob must not take.
  fs.writeFileSync(path.join(at, 'slices', 'notes.txt'), 'x');
  const store = path.join(dir, 'natural.zarr');
  const summary = await convert(path.join(at, 'slices', 'slice_*.tif'), store, { chunk: [8, 8, 4] });
  assert.equal(summary.options.shape, [...shape]);
  assert.ok((await storeBytes(store)).equals(volume), 'planes 0…11 in numeric order');
  const result = await verifyStore(path.join(at, 'slices'), store);
  assert.equal(result.differing, []);
  assert.is(result.chunksCompared, 3 * 2 * 3);
});

formats('OME-TIFF: dimensions, channel and time point chosen, voxel size read; ImageJ hyperstacks too', async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const at = path.join(dir, 'ome');
  const volume = makeFixtures(at, SHAPE, 'uint16', [
    { name: 'plain.ome.tif', kind: 'ome', voxel: [0.4, 0.4, 2] },
    { name: 'multi.ome.tif', kind: 'ome', channels: 3, times: 2, c: 2, t: 1, compression: 'zlib' },
    { name: 'hyper.tif', kind: 'imagej', channels: 2, times: 3, c: 1, t: 2 },
  ], 5);
  const plain = await describeInput(path.join(at, 'plain.ome.tif'));
  assert.equal(plain?.voxelSize, [0.4, 0.4, 2]);
  assert.is(plain?.unit, 'µm');
  assert.match(plain!.summary, /OME-TIFF/);
  await convertAndCompare(path.join(at, 'plain.ome.tif'), volume, 'ome-plain');
  await convertAndCompare(path.join(at, 'multi.ome.tif'), volume, 'ome-multi', { channel: 2, time: 1 });
  await convertAndCompare(path.join(at, 'hyper.tif'), volume, 'imagej', { channel: 1, time: 2 });
  // Without a choice: channel 0, time 0 (another volume), and a note that says so.
  const other = await describeInput(path.join(at, 'multi.ome.tif'));
  assert.match(other!.notes.join('\n'), /3 channel\(s\) and 2 time point\(s\); converting channel 0, time point 0/);
  const refused = await convert(path.join(at, 'multi.ome.tif'), path.join(dir, 'bad-c.zarr'), { channel: 3 }).then(() => null, (error: Error) => error);
  assert.match(refused?.message ?? 'no error', /--channel 3 is outside .*channels 0…2/);
  assert.not.ok(fs.existsSync(path.join(dir, 'bad-c.zarr')));
  // --ome takes the voxel size and unit from the file; --unit alone would relabel the numbers, and is refused.
  const pyramid = path.join(dir, 'ome-pyramid.zarr');
  await convert(path.join(at, 'plain.ome.tif'), pyramid, { ome: true, chunk: [8, 8, 4] });
  const ome = JSON.parse(fs.readFileSync(path.join(pyramid, 'zarr.json'), 'utf8')).attributes.ome.multiscales[0];
  assert.equal(ome.datasets[0].coordinateTransformations[0].scale, [2, 0.4, 0.4]);
  assert.equal(ome.axes.map((a: { unit: string }) => a.unit), ['micrometer', 'micrometer', 'micrometer']);
  const relabel = await convert(path.join(at, 'plain.ome.tif'), path.join(dir, 'relabel.zarr'), { ome: true, unit: 'nanometer' }).then(() => null, (error: Error) => error);
  assert.match(relabel?.message ?? 'no error', /--unit nanometer would relabel the voxel size read from .*0\.4×0\.4×2 micrometer.*give --voxel-size in nanometer too/);
  assert.not.ok(fs.existsSync(path.join(dir, 'relabel.zarr')));
});

formats('HDF5: contiguous, chunked with gzip and shuffle, big-endian, every dtype', async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  for (const dtype of [...DTYPES, 'uint64', 'int64'] as const) {
    const at = path.join(dir, `h5-${dtype}`);
    const volume = makeFixtures(at, SHAPE, dtype, [
      { name: 'plain.h5', kind: 'h5' }, { name: 'chunked.h5', kind: 'h5-chunked' }, { name: 'be.h5', kind: 'h5-bigendian' },
    ], 30 + DTYPES.indexOf(dtype as never));
    for (const name of ['plain.h5', 'chunked.h5', 'be.h5']) {
      const input = `${path.join(at, name)}:/group/volume`;
      assert.is((await describeInput(input))?.dtype, dtype);
      await convertAndCompare(input, volume, `${dtype}-${name}`, { threads: 1 });
    }
  }
});

formats('parts and resume read only their planes: --part 0/3…2/3 of a TIFF folder equal one run', async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const at = path.join(dir, 'parts');
  const shape = [33, 21, 17] as const;
  const volume = makeFixtures(at, shape, 'uint16', [{ name: 'slices', kind: 'slices', compression: 'zlib' }, { name: 'v.h5', kind: 'h5-chunked' }], 12);
  // The HDF5 fixture is chunked 3 planes deep; rows of 4 decode some chunks twice, and the run says so first.
  const job = await prepareConvert(`${path.join(at, 'v.h5')}:/group/volume`, path.join(dir, 'parts-note.zarr'), { chunk: [16, 16, 4] });
  assert.match(job.notes.join('\n'), /chunked 3 planes deep and rows are 4: .* a multiple of 3 decodes each once/);
  for (const input of [path.join(at, 'slices'), `${path.join(at, 'v.h5')}:/group/volume`]) {
    const whole = path.join(dir, `parts-whole-${path.basename(input).slice(0, 4)}.zarr`);
    const joined = path.join(dir, `parts-joined-${path.basename(input).slice(0, 4)}.zarr`);
    await convert(input, whole, { chunk: [16, 16, 4] });
    for (const index of [2, 0, 1]) await convert(input, joined, { chunk: [16, 16, 4], part: { index, count: 3, source: 'test' } });
    assert.ok((await storeBytes(joined)).equals(volume));
    assertSameTree(joined, whole, (rel) => !rel.startsWith('.slabchunk'), `${input}: parts equal one run`);
  }
});
formats.run();
