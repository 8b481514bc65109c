/**
 * Golden stores: the exact bytes of every file `slabchunk convert` writes for a matrix of options, as SHA-256
 * digests recorded in test/e2e/golden.json. A refactor or a faster engine must reproduce them bit for bit.
 * The manifest was written by the code before the restructure (issue 9); regenerate it (GOLDEN_UPDATE=1 npm test)
 * only for a change that alters stores on purpose, and say so in the commit.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { slabchunk } from '../lib/cli.ts';
import { volumeBuffer } from '../../bench/lib/volume.ts';
import type { DType } from '../../src/core/dtype.ts';
import type { Vec3 } from '../../src/core/geometry.ts';

const MANIFEST = path.resolve('test/e2e/golden.json');
const UPDATE = process.env.GOLDEN_UPDATE === '1';

/** Not a multiple of the chunk on any axis: edge chunks are padded, and the volume has all-zero regions. */
const SHAPE: Vec3 = [37, 29, 23];

interface Case {
  readonly name: string;
  readonly dtype: DType;
  readonly args: readonly string[];
  /** How the raw input differs from the generated little-endian volume. */
  readonly input?: { readonly bigEndian?: boolean; readonly header?: number };
  /** Convert in this many parts (--part I/N, last part first). */
  readonly parts?: number;
}

const CHUNK = ['--chunk', '8,8,8'];
const CASES: readonly Case[] = [
  { name: 'v3-zstd-default', dtype: 'uint16', args: CHUNK },
  { name: 'v3-raw', dtype: 'uint16', args: [...CHUNK, '--codec', 'raw'] },
  { name: 'v3-gzip', dtype: 'uint16', args: [...CHUNK, '--codec', 'gzip:5'] },
  { name: 'v3-zstd1-crc32c', dtype: 'uint16', args: [...CHUNK, '--codec', 'zstd:1+crc32c'] },
  { name: 'v3-raw-crc32c', dtype: 'uint8', args: [...CHUNK, '--codec', 'raw+crc32c'] },
  { name: 'v3-blosc-default', dtype: 'uint16', args: [...CHUNK, '--codec', 'blosc'] },
  { name: 'v3-blosc-zlib-bitshuffle', dtype: 'float32', args: [...CHUNK, '--codec', 'blosc:zlib:3:bitshuffle'] },
  { name: 'v3-blosc-zstd-noshuffle-big-chunk', dtype: 'int32', args: ['--chunk', '37,29,23', '--codec', 'blosc:zstd:9:noshuffle'] },
  { name: 'v3-blosc-store', dtype: 'uint8', args: [...CHUNK, '--codec', 'blosc:zstd:0:shuffle'] },
  { name: 'v2-zstd', dtype: 'uint16', args: [...CHUNK, '--zarr-format', '2'] },
  { name: 'v2-gzip', dtype: 'int16', args: [...CHUNK, '--zarr-format', '2', '--codec', 'gzip:1'] },
  { name: 'v2-raw', dtype: 'uint8', args: [...CHUNK, '--zarr-format', '2', '--codec', 'raw'] },
  { name: 'v2-blosc-bitshuffle', dtype: 'uint16', args: [...CHUNK, '--zarr-format', '2', '--codec', 'blosc:zstd:5:bitshuffle'] },
  { name: 'v3-sharded-end', dtype: 'uint16', args: [...CHUNK, '--shard', '16,16,16'] },
  { name: 'v3-sharded-start-crc32c', dtype: 'uint16', args: [...CHUNK, '--shard', '16,24,8', '--shard-index', 'start', '--codec', 'zstd:2+crc32c'] },
  { name: 'v3-sharded-wide', dtype: 'uint8', args: ['--chunk', '8,4,4', '--shard', '40,32,8', '--codec', 'gzip:3'] },
  { name: 'v3-c-input', dtype: 'uint16', args: ['--chunk', '8,4,16', '--input-order', 'C'] },
  { name: 'v2-c-input', dtype: 'uint16', args: ['--chunk', '8,4,16', '--input-order', 'C', '--zarr-format', '2'] },
  { name: 'v3-c-input-sharded', dtype: 'uint16', args: ['--chunk', '8,4,16', '--shard', '16,8,16', '--input-order', 'C', '--codec', 'raw'] },
  { name: 'v3-big-endian-u16', dtype: 'uint16', args: [...CHUNK, '--endian', 'big'], input: { bigEndian: true } },
  { name: 'v3-big-endian-f64', dtype: 'float64', args: [...CHUNK, '--endian', 'big', '--codec', 'raw'], input: { bigEndian: true } },
  { name: 'v3-header', dtype: 'uint16', args: [...CHUNK, '--header', '100'], input: { header: 100 } },
  { name: 'v3-parts', dtype: 'uint16', args: CHUNK, parts: 3 },
  { name: 'v3-sharded-parts', dtype: 'uint16', args: [...CHUNK, '--shard', '16,16,8'], parts: 2 },
  { name: 'v3-fill-write-empty', dtype: 'uint16', args: [...CHUNK, '--fill', '7', '--write-empty-chunks', '--codec', 'raw'] },
  { name: 'v3-fill-nan', dtype: 'float32', args: [...CHUNK, '--fill', 'NaN', '--codec', 'zstd:1'] },
  { name: 'v2-fill-big-int', dtype: 'uint64', args: [...CHUNK, '--zarr-format', '2', '--fill', '18446744073709551615'] },
  { name: 'v3-bool', dtype: 'bool', args: [...CHUNK, '--codec', 'raw'] },
  { name: 'v3-int8', dtype: 'int8', args: [...CHUNK, '--codec', 'gzip:9'] },
  { name: 'v3-int64', dtype: 'int64', args: [...CHUNK, '--codec', 'zstd:5'] },
  { name: 'v3-uint32-default-chunk', dtype: 'uint32', args: ['--codec', 'raw'] },
];

/** SHA-256 of every file under `root` (hidden ones included), by relative path. */
function digests(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of (fs.readdirSync(root, { recursive: true }) as string[]).sort()) {
    const full = path.join(root, rel);
    if (fs.statSync(full).isFile()) out[rel.split(path.sep).join('/')] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
  }
  return out;
}

function inputBytes(c: Case): Buffer {
  // The generator's bool volumes are all false: threshold a uint8 one instead, so bool chunks hold data.
  const volume = c.dtype === 'bool' ? Buffer.from(volumeBuffer(SHAPE, 'uint8', 11).map((v) => (v > 100 ? 1 : 0))) : volumeBuffer(SHAPE, c.dtype, 11);
  if (c.input?.bigEndian) {
    const size = volume.length / (SHAPE[0] * SHAPE[1] * SHAPE[2]);
    if (size === 2) volume.swap16();
    else if (size === 4) volume.swap32();
    else if (size === 8) volume.swap64();
  }
  return c.input?.header ? Buffer.concat([Buffer.alloc(c.input.header, 0xab), volume]) : volume;
}

const golden = suite('golden stores');
let dir = '';
const actual: Record<string, Record<string, string>> = {};
golden.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-golden-'));
});
golden.after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  if (UPDATE) fs.writeFileSync(MANIFEST, `${JSON.stringify(actual, null, 1)}\n`);
});

const expected: Record<string, Record<string, string>> = UPDATE ? {} : JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));

for (const c of CASES) {
  golden(c.name, async () => {
    const input = path.join(dir, `${c.name}.raw`);
    fs.writeFileSync(input, inputBytes(c));
    const store = path.join(dir, `${c.name}.zarr`);
    const common = ['--shape', SHAPE.join(','), '--dtype', c.dtype, ...c.args];
    const parts = c.parts ?? 1;
    for (let i = parts - 1; i >= 0; i--) {
      const r = await slabchunk(['convert', input, store, ...common, ...(c.parts ? ['--part', `${i}/${parts}`] : [])]);
      assert.is(r.code, 0, r.stderr);
    }
    actual[c.name] = digests(store);
    if (UPDATE) return;
    const want = expected[c.name];
    assert.ok(want, `no golden digests for ${c.name}: run GOLDEN_UPDATE=1 npm test`);
    assert.equal(Object.keys(actual[c.name]!), Object.keys(want!), `${c.name}: the store's file list changed`);
    for (const [file, digest] of Object.entries(want!)) assert.is(actual[c.name]![file], digest, `${c.name}: ${file} changed`);
  });
}

golden.run();
