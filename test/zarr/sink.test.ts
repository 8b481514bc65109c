import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zarr from 'zarrita';
import { FileSystemStore as ZarritaStore } from '@zarrita/storage';
import { DTYPES, type DType } from '../../src/core/dtype.ts';
import { SlabchunkError } from '../../src/core/errors.ts';
import type { Order, Vec3 } from '../../src/core/geometry.ts';
import type { ChunkRecord } from '../../src/stream/record.ts';
import { buildMetadata } from '../../src/zarr/metadata.ts';
import { FileSystemStore } from '../../src/zarr/stores/filesystem.ts';
import type { Store } from '../../src/zarr/stores/types.ts';
import { ZarrSink } from '../../src/zarr/sink.ts';
import { resolveSinkOptions, type ZarrSinkOptions } from '../../src/zarr/sink-options.ts';
import { failingStore, withOverrides } from '../lib/stores.ts';

// ---- independent reference: volumes, chunks and keys computed per voxel here ----

const SIZE: Record<DType, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8,
};

/** Little-endian bytes of one element holding `fill` (written here, not with src/dtype.ts). */
function fillElement(dtype: DType, fill: number | bigint | boolean): Uint8Array {
  const out = new Uint8Array(SIZE[dtype]);
  const v = new DataView(out.buffer);
  if (dtype === 'float32') v.setFloat32(0, Number(fill), true);
  else if (dtype === 'float64') v.setFloat64(0, Number(fill), true);
  else if (dtype === 'bool') out[0] = fill ? 1 : 0;
  // two's complement little-endian, truncated: BigInt64Array wraps values ≥ 2^63 as uint64 needs
  else out.set(new Uint8Array(new BigInt64Array([BigInt(fill)]).buffer).subarray(0, SIZE[dtype]));
  return out;
}

interface Volume { shape: Vec3; es: number; bytes: Uint8Array }

/**
 * A pseudo-random volume (F layout, voxel (x,y,z) at `(z*Y + y)*X + x`) whose first chunk and the
 * chunk at the far corner hold only `fill`, so the sink must skip them.
 */
function makeVolume(dtype: DType, shape: Vec3, chunk: Vec3, fill: Uint8Array, seed: number): Volume {
  const es = SIZE[dtype];
  const [X, Y, Z] = shape;
  const bytes = new Uint8Array(X * Y * Z * es);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    bytes[i] = dtype === 'bool' ? s & 1 : s & 0xff;
  }
  const grid = [0, 1, 2].map((a) => Math.ceil(shape[a] / chunk[a]));
  for (const g of [[0, 0, 0], [grid[0] - 1, grid[1] - 1, grid[2] - 1]]) {
    for (let z = g[2] * chunk[2]; z < Math.min(Z, (g[2] + 1) * chunk[2]); z++)
      for (let y = g[1] * chunk[1]; y < Math.min(Y, (g[1] + 1) * chunk[1]); y++)
        for (let x = g[0] * chunk[0]; x < Math.min(X, (g[0] + 1) * chunk[0]); x++) bytes.set(fill, ((z * Y + y) * X + x) * es);
  }
  return { shape, es, bytes };
}

/** The chunk records the Chunker would emit: Fortran grid order, full chunks padded with `fill`, in `order` bytes. */
function makeRecords(vol: Volume, chunk: Vec3, fill: Uint8Array, order: Order): ChunkRecord[] {
  const [X, Y, Z] = vol.shape;
  const [cx, cy, cz] = chunk;
  const es = vol.es;
  const grid = [Math.ceil(X / cx), Math.ceil(Y / cy), Math.ceil(Z / cz)];
  const out: ChunkRecord[] = [];
  let index = 0;
  for (let gz = 0; gz < grid[2]; gz++) for (let gy = 0; gy < grid[1]; gy++) for (let gx = 0; gx < grid[0]; gx++) {
    const data = Buffer.alloc(cx * cy * cz * es);
    for (let z = 0; z < cz; z++) for (let y = 0; y < cy; y++) for (let x = 0; x < cx; x++) {
      const vx = gx * cx + x, vy = gy * cy + y, vz = gz * cz + z;
      const dst = (order === 'F' ? x + cx * (y + cy * z) : z + cz * (y + cy * x)) * es;
      if (vx < X && vy < Y && vz < Z) data.set(vol.bytes.subarray(((vz * Y + vy) * X + vx) * es, ((vz * Y + vy) * X + vx + 1) * es), dst);
      else data.set(fill, dst);
    }
    out.push({ coords: [gx, gy, gz], index: index++, shape: [Math.min(cx, X - gx * cx), Math.min(cy, Y - gy * cy), Math.min(cz, Z - gz * cz)], data });
  }
  return out;
}

/** The volume as Zarr holds it: F input -> C order of [Z,Y,X] (the F bytes); C input -> C order of [X,Y,Z]. */
function zarrOrderBytes(vol: Volume, inputOrder: Order): Uint8Array {
  if (inputOrder === 'F') return vol.bytes;
  const [X, Y, Z] = vol.shape;
  const es = vol.es;
  const out = new Uint8Array(vol.bytes.length);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    out.set(vol.bytes.subarray(((z * Y + y) * X + x) * es, ((z * Y + y) * X + x + 1) * es), ((x * Y + y) * Z + z) * es);
  }
  return out;
}

function isAllFill(data: Uint8Array, fill: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== fill[i % fill.length]) return false;
  return true;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'slabchunk-sink-'));
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(join(dir, e.name), rel));
    else out.push(rel);
  }
  return out.sort();
}

async function readWithZarrita(dir: string): Promise<{ shape: number[]; bytes: Uint8Array }> {
  const arr = await zarr.open(new ZarritaStore(dir), { kind: 'array' });
  const got = await zarr.get(arr, null);
  const d = got.data as unknown as ArrayBufferView;
  return { shape: arr.shape, bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
}

async function write(target: string | Store, records: ChunkRecord[], options: ZarrSinkOptions): Promise<ZarrSink> {
  const sink = new ZarrSink(target, options);
  await pipeline(Readable.from(records), sink);
  return sink;
}

// ---- round trips through zarrita: every dtype × codec × format, non-dividing shape ----

const CODECS = ['raw', 'gzip:1', 'zstd:3', 'blosc:zstd:3:shuffle', 'blosc:zlib:1:bitshuffle', 'blosc:zstd:1:noshuffle', 'zstd:1+crc32c'];
const FILLS: Record<DType, number | bigint | boolean> = {
  bool: true, int8: -3, uint8: 7, int16: -300, uint16: 65535, int32: -70000, uint32: 4000000000,
  // 64-bit fills a double holds exactly: zarrita parses fill_value with JSON.parse
  int64: -(2n ** 62n), uint64: 2n ** 63n + 2n ** 40n, float32: NaN, float64: -0,
};

for (const zarrFormat of [3, 2] as const) {
  for (const dtype of DTYPES) {
    test(`zarrita reads back every codec, ${dtype}, Zarr v${zarrFormat}, non-dividing shape, fill chunks skipped`, async () => {
      const shape: Vec3 = [10, 9, 7];
      const chunk: Vec3 = [4, 4, 3];
      const fill = FILLS[dtype];
      const fillEl = fillElement(dtype, fill);
      const vol = makeVolume(dtype, shape, chunk, fillEl, DTYPES.indexOf(dtype) + 1);
      const records = makeRecords(vol, chunk, fillEl, 'F');
      const empty = records.filter((r) => isAllFill(r.data, fillEl));
      assert.ok(empty.length >= 2, 'fixture has empty chunks');
      for (const codec of CODECS) {
        if (zarrFormat === 2 && codec.includes('crc32c')) continue;
        const dir = tempDir();
        try {
          const sink = await write(dir, records, { shape, dtype, chunk, codec, zarrFormat, fill, concurrency: 3 });
          const got = await readWithZarrita(dir);
          assert.equal(got.shape, [7, 9, 10], codec);
          assert.ok(Buffer.from(got.bytes).equals(Buffer.from(vol.bytes)), `${codec}: data differs`);
          assert.is(sink.stats.chunksSkipped, empty.length, codec);
          assert.is(sink.stats.chunksWritten, records.length - empty.length, codec);
          for (const r of records) {
            const [gx, gy, gz] = r.coords;
            const key = zarrFormat === 3 ? `c/${gz}/${gy}/${gx}` : `${gz}/${gy}/${gx}`;
            assert.is(existsSync(join(dir, key)), !empty.includes(r), `${codec}: ${key} presence`);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    });
  }
}

test('inputOrder C: Zarr shape [X,Y,Z], names x,y,z, keys c/gx/gy/gz, C-order records read back', async () => {
  const shape: Vec3 = [6, 5, 9];
  const chunk: Vec3 = [4, 2, 3];
  const fillEl = fillElement('uint16', 0);
  const vol = makeVolume('uint16', shape, chunk, fillEl, 99);
  const dir = tempDir();
  try {
    await write(dir, makeRecords(vol, chunk, fillEl, 'C'), { shape, dtype: 'uint16', chunk, codec: 'zstd', inputOrder: 'C' });
    const meta = JSON.parse(readFileSync(join(dir, 'zarr.json'), 'utf8'));
    assert.equal(meta.shape, [6, 5, 9]);
    assert.equal(meta.chunk_grid.configuration.chunk_shape, [4, 2, 3]);
    assert.equal(meta.dimension_names, ['x', 'y', 'z']);
    assert.ok(existsSync(join(dir, 'c/1/1/2')), 'chunk (gx=1, gy=1, gz=2) at c/1/1/2');
    assert.not.ok(existsSync(join(dir, 'c/2')), 'grid x extent is 2: no key starts with gz');
    const got = await readWithZarrita(dir);
    assert.ok(Buffer.from(got.bytes).equals(Buffer.from(zarrOrderBytes(vol, 'C'))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeEmptyChunks keeps fill-only chunks', async () => {
  const shape: Vec3 = [8, 8, 8];
  const chunk: Vec3 = [4, 4, 4];
  const fillEl = fillElement('uint8', 0);
  const vol = makeVolume('uint8', shape, chunk, fillEl, 5);
  const dir = tempDir();
  try {
    const sink = await write(dir, makeRecords(vol, chunk, fillEl, 'F'), { shape, dtype: 'uint8', chunk, codec: 'gzip', writeEmptyChunks: true });
    assert.is(sink.stats.chunksSkipped, 0);
    assert.is(walk(dir).filter((f) => f.startsWith('c/')).length, 8);
    assert.ok(Buffer.from((await readWithZarrita(dir)).bytes).equals(Buffer.from(vol.bytes)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- metadata against the spec fields ----

test('zarr.json: spec fields, explicit bytes codec, fill values as Zarr JSON', () => {
  const doc = (dtype: DType, fill: number | bigint | boolean, codec = 'zstd:3') =>
    buildMetadata(resolveSinkOptions({ shape: [100, 50, 20], chunk: [64, 32, 16], dtype, fill, codec, zarrFormat: 3, inputOrder: 'F', attributes: { units: 'nm' } }))['zarr.json'];
  const meta = JSON.parse(doc('uint16', 3));
  assert.equal(meta, {
    zarr_format: 3,
    node_type: 'array',
    shape: [20, 50, 100],
    data_type: 'uint16',
    chunk_grid: { name: 'regular', configuration: { chunk_shape: [16, 32, 64] } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 3,
    codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'zstd', configuration: { level: 3, checksum: false } }],
    attributes: { units: 'nm' },
    dimension_names: ['z', 'y', 'x'],
  });
  assert.equal(JSON.parse(doc('uint8', 0, 'raw')).codecs, [{ name: 'bytes' }], '1-byte types: no endian');
  assert.is(JSON.parse(doc('float32', NaN)).fill_value, 'NaN');
  assert.is(JSON.parse(doc('float64', -Infinity)).fill_value, '-Infinity');
  assert.is(JSON.parse(doc('float64', -1.5)).fill_value, -1.5);
  assert.match(doc('float32', -0), /"fill_value": -0.0,/, '-0 keeps its sign bit');
  assert.is(JSON.parse(doc('bool', true)).fill_value, true);
  assert.match(doc('int64', -(2n ** 63n)), /"fill_value": -9223372036854775808,/);
  assert.match(doc('uint64', 2n ** 64n - 1n), /"fill_value": 18446744073709551615,/);
  assert.equal(JSON.parse(doc('int32', 0, 'blosc:zlib:4:bitshuffle+crc32c')).codecs, [
    { name: 'bytes', configuration: { endian: 'little' } },
    { name: 'blosc', configuration: { cname: 'zlib', clevel: 4, shuffle: 'bitshuffle', typesize: 4, blocksize: 0 } },
    { name: 'crc32c' },
  ]);
  assert.is(doc('uint16', 3), doc('uint16', 3), 'deterministic');
  assert.is.not(doc('uint16', 3), doc('uint16', 4));
});

test('.zarray/.zattrs: numcodecs compressor configs, order C, "/" separator, _ARRAY_DIMENSIONS', () => {
  const docs = (codec: string, fill: number | boolean = 0, dtype: DType = 'uint16') =>
    buildMetadata(resolveSinkOptions({ shape: [100, 50, 20], chunk: [64, 32, 16], dtype, fill, codec, zarrFormat: 2, inputOrder: 'F' }));
  const d = docs('gzip:6');
  assert.equal(JSON.parse(d['.zarray']), {
    zarr_format: 2, shape: [20, 50, 100], chunks: [16, 32, 64], dtype: '<u2', compressor: { id: 'gzip', level: 6 },
    fill_value: 0, order: 'C', filters: null, dimension_separator: '/',
  });
  assert.equal(JSON.parse(d['.zattrs']), { _ARRAY_DIMENSIONS: ['z', 'y', 'x'] });
  assert.equal(JSON.parse(docs('zstd:7')['.zarray']).compressor, { id: 'zstd', level: 7 });
  assert.equal(JSON.parse(docs('raw')['.zarray']).compressor, null);
  assert.equal(JSON.parse(docs('blosc:zstd:5:bitshuffle')['.zarray']).compressor, { id: 'blosc', cname: 'zstd', clevel: 5, shuffle: 2, blocksize: 0 });
  assert.equal(JSON.parse(docs('blosc:zlib:1:noshuffle')['.zarray']).compressor.shuffle, 0);
  assert.is(JSON.parse(docs('raw', true, 'bool')['.zarray']).dtype, '|b1');
  assert.is(JSON.parse(docs('raw', true, 'bool')['.zarray']).fill_value, true);
  assert.throws(() => docs('zstd+crc32c'), (e: SlabchunkError) => e.code === 'EINVALID' && /zarr-format 3/.test(e.message));
});

// ---- bad input, refusals, failures ----

test('refuses a non-empty path without overwrite, names it and --overwrite, touches nothing', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const err = await write(dir, [], { shape: [4, 4, 4], dtype: 'uint8', chunk: [4, 4, 4] }).then(() => null, (e: unknown) => e);
    assert.instance(err, SlabchunkError);
    assert.is((err as SlabchunkError).code, 'ESTORE');
    assert.ok((err as SlabchunkError).message.includes(dir) && (err as SlabchunkError).message.includes('--overwrite'));
    assert.equal(walk(dir), ['precious.txt']);
    const err2 = await write(dir, [], { shape: [4, 4, 4], dtype: 'uint8', chunk: [4, 4, 4], overwrite: true }).then(() => null, (e: unknown) => e);
    assert.is((err2 as SlabchunkError).code, 'ESTORE', 'a non-Zarr directory is not deleted even with overwrite');
    assert.equal(walk(dir), ['precious.txt']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overwrite replaces an existing store', async () => {
  const dir = tempDir();
  const fillEl = fillElement('uint8', 0);
  try {
    const big = makeVolume('uint8', [8, 8, 8], [4, 4, 4], fillEl, 1);
    await write(dir, makeRecords(big, [4, 4, 4], fillEl, 'F'), { shape: [8, 8, 8], dtype: 'uint8', chunk: [4, 4, 4] });
    const small = makeVolume('uint8', [4, 4, 4], [2, 2, 2], fillEl, 2);
    await write(dir, makeRecords(small, [2, 2, 2], fillEl, 'F'), { shape: [4, 4, 4], dtype: 'uint8', chunk: [2, 2, 2], overwrite: true, zarrFormat: 2 });
    assert.not.ok(existsSync(join(dir, 'zarr.json')) || existsSync(join(dir, 'c')), 'old store gone');
    assert.ok(Buffer.from((await readWithZarrita(dir)).bytes).equals(Buffer.from(small.bytes)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing write ends with EWRITE naming the chunk; no torn file under a final name, no temp files left', async () => {
  const shape: Vec3 = [16, 8, 8];
  const chunk: Vec3 = [4, 4, 4];
  const fillEl = fillElement('uint16', 0);
  const vol = makeVolume('uint16', shape, chunk, fillEl, 11);
  const records = makeRecords(vol, chunk, fillEl, 'F');
  for (const failOnSet of [1, 2, 5, 9]) {
    const dir = tempDir();
    try {
      const err = await write(failingStore(new FileSystemStore(dir), failOnSet), records, { shape, dtype: 'uint16', chunk, codec: 'zstd', concurrency: 4 })
        .then(() => null, (e: unknown) => e);
      assert.instance(err, SlabchunkError, `failOnSet ${failOnSet}`);
      const e = err as SlabchunkError;
      const files = walk(dir);
      assert.equal(files.filter((f) => f.split('/').pop()!.startsWith('.')), [], 'no temporary files');
      if (failOnSet === 1) {
        assert.is(e.key, 'zarr.json');
        assert.equal(files, []);
        continue;
      }
      assert.is(e.code, 'EWRITE');
      assert.match(e.key ?? '', /^c\/\d+\/\d+\/\d+$/);
      assert.ok(e.message.includes(e.key!) && e.message.includes('injected failure'), e.message);
      assert.is((e.cause as NodeJS.ErrnoException).code, 'ENOSPC');
      assert.not.ok(files.includes(e.key!), 'the failed chunk has no file');
      // every chunk that is there is whole: it decodes to exactly its expected bytes
      const arr = await zarr.open(new ZarritaStore(dir), { kind: 'array' });
      for (const f of files.filter((f) => f.startsWith('c/'))) {
        const [gz, gy, gx] = f.slice(2).split('/').map(Number);
        const got = await zarr.get(arr, [zarr.slice(gz * 4, gz * 4 + 4), zarr.slice(gy * 4, gy * 4 + 4), zarr.slice(gx * 4, gx * 4 + 4)]);
        const want = records.find((r) => r.coords[0] === gx && r.coords[1] === gy && r.coords[2] === gz)!.data;
        const d = got.data as Uint16Array;
        assert.ok(Buffer.from(d.buffer, d.byteOffset, d.byteLength).equals(want), `${f} intact`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('records of the wrong size or outside the grid are refused with ERECORD (a run-time fault, not an option)', async () => {
  const dir = tempDir();
  try {
    const bad: ChunkRecord = { coords: [0, 0, 0], index: 0, shape: [2, 2, 2], data: Buffer.alloc(8) };
    const err = await write(dir, [bad], { shape: [4, 4, 4], dtype: 'uint16', chunk: [2, 2, 2] }).then(() => null, (e: unknown) => e);
    assert.is((err as SlabchunkError).code, 'ERECORD');
    assert.is((err as SlabchunkError).expected, 16);
    rmSync(dir, { recursive: true, force: true });
    const out: ChunkRecord = { coords: [2, 0, 0], index: 2, shape: [2, 2, 2], data: Buffer.alloc(16) };
    const err2 = await write(dir, [out], { shape: [4, 4, 4], dtype: 'uint16', chunk: [2, 2, 2] }).then(() => null, (e: unknown) => e);
    assert.match((err2 as SlabchunkError).message, /outside the grid/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are EINVALID before any I/O', () => {
  const dir = join(tempDir(), 'never');
  const base = { shape: [4, 4, 4] as Vec3, dtype: 'uint8' as DType, chunk: [2, 2, 2] as Vec3 };
  for (const extra of [{ codec: 'lz5' }, { codec: 'zstd:99' }, { zarrFormat: 4 as 3 }, { concurrency: 0 }, { fill: 256 }, { chunk: [0, 2, 2] as Vec3 }, { codec: 'gzip+crc32c', zarrFormat: 2 as const }, { codec: 'blosc', dtype: 'uint64' as DType, chunk: [1024, 1024, 256] as Vec3 }]) {
    assert.throws(() => new ZarrSink(dir, { ...base, ...extra }), (e: SlabchunkError) => e.code === 'EINVALID', JSON.stringify(extra));
  }
  assert.not.ok(existsSync(dir));
});

// ---- concurrency and backpressure ----

test('at most `concurrency` chunks in flight, and the source is not drained ahead of the writes', async () => {
  const concurrency = 3;
  const shape: Vec3 = [16, 16, 8];
  const chunk: Vec3 = [4, 4, 4];
  const fillEl = fillElement('uint8', 0);
  const records = makeRecords(makeVolume('uint8', shape, chunk, fillEl, 3), chunk, fillEl, 'F');
  const dir = tempDir();
  const inner = new FileSystemStore(dir);
  let active = 0, maxActive = 0, done = 0, pulled = 0, maxAhead = 0;
  const slow: Store = withOverrides(inner, {
    async set(key, value) {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 3));
      await inner.set(key, value);
      active--;
      if (key.startsWith('c/')) done++;
    },
  });
  async function* source() {
    for (const r of records) {
      pulled++;
      maxAhead = Math.max(maxAhead, pulled - done);
      yield r;
    }
  }
  try {
    const sink = new ZarrSink(slow, { shape, dtype: 'uint8', chunk, codec: 'raw', concurrency, writeEmptyChunks: true });
    await pipeline(Readable.from(source(), { highWaterMark: 1 }), sink);
    assert.is(done, records.length);
    assert.ok(maxActive <= concurrency && maxActive >= 2, `max in flight ${maxActive}`);
    // in flight + the sink's one buffered record + the one being handed over + the source's readahead
    assert.ok(maxAhead <= concurrency + 4, `source ran ${maxAhead} records ahead`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- zarr-python 2 as the independent reader of v2 stores ----

function findZarrPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import zarr, numcodecs; print(zarr.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

const PY = findZarrPython();

test('zarr-python 2 reads our v2 stores (every codec, several dtypes)', async () => {
  if (!PY) {
    console.log('  skipped: zarr-python 2 not installed (apt-get install python3-zarr)');
    return;
  }
  const shape: Vec3 = [10, 9, 7];
  const chunk: Vec3 = [4, 4, 3];
  const root = tempDir();
  try {
    const cases: { dir: string; want: string }[] = [];
    for (const dtype of ['uint8', 'int16', 'uint16', 'float32', 'float64', 'int64', 'bool'] as DType[]) {
      for (const codec of CODECS.filter((c) => !c.includes('crc32c'))) {
        const fill = FILLS[dtype];
        const fillEl = fillElement(dtype, fill);
        const vol = makeVolume(dtype, shape, chunk, fillEl, 7);
        const dir = join(root, `${dtype}-${codec.replace(/:/g, '_')}`);
        await write(dir, makeRecords(vol, chunk, fillEl, 'F'), { shape, dtype, chunk, codec, zarrFormat: 2, fill });
        cases.push({ dir, want: Buffer.from(vol.bytes).toString('hex') });
      }
    }
    const script = [
      'import sys, json, zarr, numpy as np',
      'for d in sys.argv[1:]:',
      '    a = zarr.open(d, mode="r")',
      '    print(json.dumps([list(a.shape), np.ascontiguousarray(a[...]).astype(a.dtype.newbyteorder("<")).tobytes().hex()]))',
    ].join('\n');
    const out = execFileSync(PY, ['-c', script, ...cases.map((c) => c.dir)], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim().split('\n');
    assert.is(out.length, cases.length);
    out.forEach((line, i) => {
      const [pyShape, hex] = JSON.parse(line) as [number[], string];
      assert.equal(pyShape, [7, 9, 10]);
      assert.ok(hex === cases[i].want, `zarr-python read ${cases[i].dir} differently`);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('temp files are dot-prefixed in the chunk directory and the directory is empty of them after a run', async () => {
  const dir = tempDir();
  const fillEl = fillElement('int32', 0);
  try {
    const vol = makeVolume('int32', [8, 8, 8], [4, 4, 4], fillEl, 4);
    await write(dir, makeRecords(vol, [4, 4, 4], fillEl, 'F'), { shape: [8, 8, 8], dtype: 'int32', chunk: [4, 4, 4], codec: 'blosc' });
    assert.ok(walk(dir).every((f) => !f.split('/').pop()!.startsWith('.')));
    assert.ok(statSync(join(dir, 'zarr.json')).isFile());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
