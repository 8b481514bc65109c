/**
 * Interop: neuroglancer's own OME-Zarr and Zarr metadata parsers (from the `neuroglancer` package, run in Node)
 * accept the stores `slabchunk convert --ome` writes — OME-Zarr 0.5 on Zarr v3 (plain and sharded with crc32c)
 * and 0.4 on Zarr v2 — for every level, and place the levels where we mean them: each level's scale is its
 * voxel size over level 0's, and every level's corner sits on level 0's corner (voxels are centred).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { omeStore, type OmeStoreCase } from '../lib/ome-store.ts';

// The codecs register themselves when imported, as neuroglancer's zarr frontend imports them.
for (const codec of ['blosc', 'zstd', 'bytes', 'crc32c', 'gzip', 'sharding_indexed', 'transpose']) {
  await import(`neuroglancer/unstable/datasource/zarr/codec/${codec}/resolve.js`);
}
const { parseOmeMetadata } = await import('neuroglancer/unstable/datasource/zarr/ome.js');
const { parseV2Metadata, parseV3Metadata } = await import('neuroglancer/unstable/datasource/zarr/metadata/parse.js');

interface NgScale { url: string; transform: Float64Array }
interface NgOme { multiscale: { coordinateSpace: { names: string[]; units: string[]; scales: Float64Array }; scales: NgScale[] } }
interface NgArray { shape: number[]; chunkShape: number[]; dimensionNames: string[] }

const URL = 'http://127.0.0.1:1/store/';
const CASES: (OmeStoreCase & { name: string })[] = [
  // Anisotropic light-sheet voxels (z kept until x and y catch up) on odd sizes.
  { name: 'v3-ome-0.5', format: 3, shape: [67, 45, 23], chunk: [16, 16, 8], voxelSize: [0.4, 0.4, 2] },
  { name: 'v3-ome-0.5-sharded-crc32c', format: 3, shape: [64, 64, 32], chunk: [16, 16, 16], shard: [32, 32, 32], codec: 'zstd+crc32c' },
  { name: 'v2-ome-0.4', format: 2, shape: [67, 45, 23], chunk: [16, 16, 8], voxelSize: [0.4, 0.4, 2] },
];

let dir: string;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slabchunk-ome-ng-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Decimal voxel sizes (0.4 µm) reach neuroglancer's matrices with float error in the last digits. */
const round = (v: number): number => +v.toPrecision(9);
const readJson = async (file: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

for (const c of CASES) {
  test(`neuroglancer parses ${c.name}: the OME multiscale and every level's array`, async () => {
    const store = await omeStore(dir, c.name, c);
    const attrs = c.format === 3
      ? (await readJson(join(store, 'zarr.json'))).attributes as Record<string, unknown>
      : await readJson(join(store, '.zattrs'));
    const ome = parseOmeMetadata(URL, attrs, c.format) as NgOme | undefined;
    assert.ok(ome, 'neuroglancer found no OME multiscale metadata');
    const { coordinateSpace, scales } = ome.multiscale;

    const levels = (await readdir(store)).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(a) - Number(b));
    assert.ok(levels.length >= 3, `expected a pyramid, got levels ${levels.join(', ')}`);
    assert.equal(scales.map((s) => s.url), levels.map((l) => `${URL}${l}/`), 'one dataset per level array, largest first');
    assert.equal(coordinateSpace.names, ['z', 'y', 'x']);
    assert.equal(coordinateSpace.units, ['m', 'm', 'm'], 'micrometer read as a length');
    const voxel = c.voxelSize ?? [0.5, 0.5, 1];
    assert.equal([...coordinateSpace.scales].map(round), [voxel[2], voxel[1], voxel[0]].map((v) => round(v * 1e-6)));

    // Stored shapes are [z, y, x]; each level's factor per axis is read off the shapes (a halved axis shrank).
    let shape: number[] = [c.shape[2], c.shape[1], c.shape[0]];
    let factor = [1, 1, 1];
    for (const [i, level] of levels.entries()) {
      const array = c.format === 3
        ? parseV3Metadata(await readJson(join(store, level, 'zarr.json')), 'array') as NgArray
        : parseV2Metadata(await readJson(join(store, level, '.zarray')), await readJson(join(store, level, '.zattrs')), undefined) as NgArray;
      assert.equal(array.dimensionNames, ['z', 'y', 'x'], `level ${level} dimension names`);
      if (i > 0) {
        factor = factor.map((f, a) => (array.shape[a] === shape[a] ? f : 2 * f));
        assert.equal(array.shape, shape.map((s, a) => (array.shape[a] === s ? s : Math.ceil(s / 2))), `level ${level} shape halves or keeps each axis`);
      }
      shape = array.shape;
      const t = scales[i]!.transform;
      // Homogeneous 4×4, column-major: diagonal = scale in level-0 voxels, last column = translation.
      assert.equal([t[0]!, t[5]!, t[10]!].map(round), factor, `level ${level} scale relative to level 0`);
      assert.equal([t[12]!, t[13]!, t[14]!].map(round), [-0.5, -0.5, -0.5], `level ${level}'s corner on level 0's corner`);
    }
    assert.ok(factor.every((f) => f > 1), `the coarsest level is reduced on every axis: ${factor.join(',')}`);
  });
}

test('neuroglancer refuses OME-Zarr 0.5 outside Zarr v3, which is why v2 stores get 0.4', async () => {
  const attrs = (await readJson(join(dir, 'v3-ome-0.5', 'zarr.json'))).attributes as Record<string, unknown>;
  assert.throws(() => parseOmeMetadata(URL, attrs, 2), /not supported for zarr v2/);
});

test.run();
