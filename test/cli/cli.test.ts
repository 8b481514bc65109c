import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { MAIN, slabchunk } from '../lib/cli.ts';

const cli = suite('cli');
let dir = '';
cli.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-cli-'));
});
cli.after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A volume with structure: `zeroSlabs` zero slabs first (skipped chunks), then ramps and a little noise. */
function volume(shape: readonly [number, number, number], bytesPerVoxel: number, seed = 7, zeroSlabs = 0): Buffer {
  const n = shape[0] * shape[1] * shape[2];
  const out = Buffer.alloc(n * bytesPerVoxel);
  let s = seed;
  for (let i = 0; i < n; i++) {
    const x = i % shape[0];
    const z = Math.floor(i / (shape[0] * shape[1]));
    if (z < zeroSlabs) continue;
    s = (s * 1103515245 + 12345) >>> 0;
    const v = (x * 3 + z * 5 + (s >>> 28)) & 0xff;
    out[i * bytesPerVoxel] = v;
    if (bytesPerVoxel > 1) out[i * bytesPerVoxel + 1] = (x + z) & 0x3f;
  }
  return out;
}

function writeRaw(name: string, data: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}

function listFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile()).sort();
}

for (const codec of ['raw', 'gzip:1', 'zstd:3', 'blosc:zstd:5:shuffle']) {
  for (const format of ['3', '2']) {
    cli(`convert → export round-trips byte-identical (${codec}, v${format}, non-dividing shape)`, async () => {
      const shape = [21, 13, 17] as const;
      const input = writeRaw(`rt-${codec}-${format}.raw`, volume(shape, 2, 7, 8));
      const store = path.join(dir, `rt-${codec.replaceAll(':', '_')}-${format}.zarr`);
      const converted = await slabchunk(['convert', input, store, '--shape', '21,13,17', '--dtype', 'uint16', '--chunk', '8,8,8', '--codec', codec, '--zarr-format', format, '--json']);
      assert.is(converted.code, 0, converted.stderr);
      const summary = JSON.parse(converted.stdout);
      assert.is(summary.bytesIn, 21 * 13 * 17 * 2);
      // 3×2×3 chunks; the first z-row (z < 8) is all zero: 6 chunks skipped.
      assert.is(summary.chunksWritten + summary.chunksSkipped, 18);
      assert.is(summary.chunksSkipped, 6);
      const out = path.join(dir, `rt-${codec}-${format}.out`);
      const exported = await slabchunk(['export', store, out]);
      assert.is(exported.code, 0, exported.stderr);
      assert.ok(fs.readFileSync(out).equals(fs.readFileSync(input)), 'export differs from the input');
      const verified = await slabchunk(['verify', input, store]);
      assert.is(verified.code, 0, verified.stderr);
      assert.match(verified.stderr, /all 18 chunks equal/);
    });
  }
}

cli('stdin input, C-layout input and big-endian input', async () => {
  const shape = [9, 10, 11] as const;
  const data = volume(shape, 2, 3);
  const store = path.join(dir, 'stdin.zarr');
  const viaStdin = await slabchunk(['convert', '-', store, '--shape', '9,10,11', '--dtype', 'uint16', '--chunk', '4,4,4'], { stdin: Readable.from([data.subarray(0, 7), data.subarray(7)]) });
  assert.is(viaStdin.code, 0, viaStdin.stderr);
  const out = path.join(dir, 'stdin.out');
  assert.is((await slabchunk(['export', store, out])).code, 0);
  assert.ok(fs.readFileSync(out).equals(data));

  // C layout: the same bytes read as z-fastest; the store is [X, Y, Z] and exports back to the same bytes.
  const cStore = path.join(dir, 'c.zarr');
  const input = writeRaw('c.raw', data);
  const c = await slabchunk(['convert', input, cStore, '--shape', '11,10,9', '--dtype', 'uint16', '--chunk', '4,4,4', '--input-order', 'C']);
  assert.is(c.code, 0, c.stderr);
  const zarrJson = JSON.parse(fs.readFileSync(path.join(cStore, 'zarr.json'), 'utf8'));
  assert.equal(zarrJson.shape, [11, 10, 9]);
  assert.equal(zarrJson.dimension_names, ['x', 'y', 'z']);
  const cOut = path.join(dir, 'c.out');
  assert.is((await slabchunk(['export', cStore, cOut])).code, 0);
  assert.ok(fs.readFileSync(cOut).equals(data));

  // Big-endian input: stored little-endian, so export gives the byte-swapped input.
  const big = Buffer.from(data).swap16();
  const bStore = path.join(dir, 'big.zarr');
  const b = await slabchunk(['convert', writeRaw('big.raw', big), bStore, '--shape', '9,10,11', '--dtype', 'uint16', '--chunk', '4,4,4', '--endian', 'big']);
  assert.is(b.code, 0, b.stderr);
  const bOut = path.join(dir, 'big.out');
  assert.is((await slabchunk(['export', bStore, bOut])).code, 0);
  assert.ok(fs.readFileSync(bOut).equals(data));
  assert.is((await slabchunk(['verify', path.join(dir, 'big.raw'), bStore, '--endian', 'big'])).code, 0);
});

cli('header bytes are skipped', async () => {
  const data = volume([8, 8, 8], 1, 5);
  const input = writeRaw('header.raw', Buffer.concat([Buffer.from('HEADER!!'), data]));
  const store = path.join(dir, 'header.zarr');
  const r = await slabchunk(['convert', input, store, '--shape', '8,8,8', '--header', '8', '--chunk', '4,4,4']);
  assert.is(r.code, 0, r.stderr);
  const out = path.join(dir, 'header.out');
  assert.is((await slabchunk(['export', store, out])).code, 0);
  assert.ok(fs.readFileSync(out).equals(data));
});

cli('verify names the chunk holding a flipped byte', async () => {
  const shape = [16, 16, 16] as const;
  const data = volume(shape, 1, 11);
  data.fill(9, 0, 16 * 16 * 8); // no all-fill chunks: every chunk file exists
  const input = writeRaw('flip.raw', data);
  const store = path.join(dir, 'flip.zarr');
  assert.is((await slabchunk(['convert', input, store, '--shape', '16,16,16', '--chunk', '8,8,8', '--codec', 'raw'])).code, 0);
  const key = 'c/1/0/1'; // gz=1, gy=0, gx=1
  const file = path.join(store, key);
  const bytes = fs.readFileSync(file);
  bytes[100] = (bytes[100] ?? 0) ^ 0xff;
  fs.writeFileSync(file, bytes);
  const r = await slabchunk(['verify', input, store]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /differs from .* in 1 of 8 chunks:\n {2}c\/1\/0\/1\n/);
});

cli('info reports geometry, codecs and chunks present', async () => {
  const input = writeRaw('info.raw', volume([20, 20, 12], 2, 1, 4));
  const store = path.join(dir, 'info.zarr');
  assert.is((await slabchunk(['convert', input, store, '--shape', '20,20,12', '--dtype', 'uint16', '--chunk', '10,10,4'])).code, 0);
  const r = await slabchunk(['info', store, '--json']);
  assert.is(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal([info.shape, info.chunks, info.dtype, info.format], [[12, 20, 20], [4, 10, 10], 'uint16', 3]);
  assert.is(info.filesTotal, 12);
  // The first z-row of chunks (z < 4) is all zero and was skipped.
  assert.is(info.filesPresent, 8);
  assert.is(info.filesPresent, listFiles(path.join(store, 'c')).length);
  const text = await slabchunk(['info', store]);
  assert.match(text.stdout, /chunks present: 8 of 12/);
});

const argumentErrors: [string, string[], RegExp][] = [
  ['wrong file size', ['--shape', '10,10,10', '--dtype', 'uint16'], /holds 1000 bytes, but shape 10×10×10 of uint16 needs 2000 bytes.*--dtype int8 or --dtype uint8/],
  ['unknown dtype', ['--shape', '10,10,10', '--dtype', 'u8'], /unknown dtype "u8"/],
  ['bad shape', ['--shape', '10,10'], /shape must have 3 entries/],
  ['zero chunk', ['--shape', '10,10,10', '--chunk', '0,4,4'], /chunk must be positive integers/],
  ['bad codec', ['--shape', '10,10,10', '--codec', 'lzma'], /codec/],
  ['missing shape', [], /shape is required/],
  ['unknown flag', ['--shape', '10,10,10', '--colour'], /Unknown option '--colour'/],
];
for (const [name, flags, re] of argumentErrors) {
  cli(`bad arguments exit 2 and leave no store: ${name}`, async () => {
    const input = writeRaw('small.raw', Buffer.alloc(1000, 1));
    const store = path.join(dir, `bad-${name.replaceAll(' ', '-')}.zarr`);
    const r = await slabchunk(['convert', input, store, ...flags]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.not.ok(fs.existsSync(store), 'a store was left behind');
  });
}

cli('an existing store is refused (exit 2, untouched) unless --overwrite; a non-Zarr folder always', async () => {
  const input = writeRaw('small.raw', Buffer.alloc(1000, 1));
  const store = path.join(dir, 'existing.zarr');
  assert.is((await slabchunk(['convert', input, store, '--shape', '10,10,10', '--codec', 'raw'])).code, 0);
  const before = listFiles(store);
  const refused = await slabchunk(['convert', input, store, '--shape', '10,10,10']);
  assert.is(refused.code, 2);
  assert.match(refused.stderr, /already exists and is not empty; pass --overwrite/);
  assert.equal(listFiles(store), before);
  const replaced = await slabchunk(['convert', input, store, '--shape', '10,10,10', '--codec', 'gzip', '--overwrite']);
  assert.is(replaced.code, 0, replaced.stderr);
  assert.match(fs.readFileSync(path.join(store, 'zarr.json'), 'utf8'), /gzip/);

  const folder = path.join(dir, 'not-a-store');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'precious.txt'), 'keep me');
  const never = await slabchunk(['convert', input, folder, '--shape', '10,10,10', '--overwrite']);
  assert.is(never.code, 2);
  assert.match(never.stderr, /holds no Zarr store/);
  assert.equal(listFiles(folder), ['precious.txt']);
});

cli('a short stdin fails with exit 1 and names the sizes; the row that did arrive is kept, with the command that continues', async () => {
  const store = path.join(dir, 'short.zarr');
  const r = await slabchunk(['convert', '-', store, '--shape', '10,10,10', '--chunk', '5,5,5'], { stdin: Readable.from([Buffer.alloc(700, 3)]) });
  assert.is(r.code, 1);
  assert.match(r.stderr, /input ended after 700 bytes; shape 10×10×10 of uint8 needs 1000 bytes/);
  assert.match(r.stderr, /1 of 2 rows of .*short\.zarr are finished and kept; once the cause is fixed, rerun with --resume to continue:\n  slabchunk convert --resume - \S+short\.zarr --shape 10,10,10 --chunk 5,5,5\n\(with the input as a file in place of -/);
  assert.equal(fs.readdirSync(path.join(store, '.slabchunk', 'rows')), ['0']);
  // Too short to finish a row: nothing is kept.
  const none = path.join(dir, 'shorter.zarr');
  const s = await slabchunk(['convert', '-', none, '--shape', '10,10,10', '--chunk', '5,5,5'], { stdin: Readable.from([Buffer.alloc(300, 3)]) });
  assert.is(s.code, 1);
  assert.match(s.stderr, /no row was finished, so nothing is kept/);
  assert.not.ok(fs.existsSync(none));
});

cli('export: a mistyped store leaves the output alone; an unwritable output fails cleanly', async () => {
  const precious = writeRaw('precious.raw', Buffer.from('keep me'));
  const r = await slabchunk(['export', path.join(dir, 'no-such.zarr'), precious]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /no Zarr array at/);
  assert.is(fs.readFileSync(precious, 'utf8'), 'keep me');
  const store = path.join(dir, 'export-src.zarr');
  assert.is((await slabchunk(['convert', writeRaw('e.raw', volume([8, 8, 8], 1, 2)), store, '--shape', '8,8,8'])).code, 0);
  const nowhere = await slabchunk(['export', store, path.join(dir, 'missing-folder', 'out.raw')]);
  assert.is(nowhere.code, 1);
  assert.match(nowhere.stderr, /ENOENT/);
});

cli('a named pipe as input (no seeking), and --header on stdin for verify', async () => {
  const data = volume([8, 8, 8], 2, 4);
  const fifo = path.join(dir, 'pipe.raw');
  spawnSync('mkfifo', [fifo]);
  const writer = new Promise<void>((resolve) => {
    const stream = fs.createWriteStream(fifo);
    stream.end(Buffer.concat([Buffer.alloc(16, 0xee), data]), () => resolve());
  });
  const store = path.join(dir, 'fifo.zarr');
  const r = await slabchunk(['convert', fifo, store, '--shape', '8,8,8', '--dtype', 'uint16', '--chunk', '4,4,4', '--header', '16']);
  await writer;
  assert.is(r.code, 0, r.stderr);
  const verified = await slabchunk(['verify', '-', store, '--header', '16'], { stdin: Readable.from([Buffer.alloc(16, 0xee), data]) });
  assert.is(verified.code, 0, verified.stderr);
  const missing = await slabchunk(['verify', path.join(dir, 'nope.raw'), store]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /cannot read input .*nope\.raw: ENOENT/);
});

cli('a failed run into an existing empty folder empties it again and keeps the folder', async () => {
  const folder = path.join(dir, 'empty-target');
  fs.mkdirSync(folder);
  const r = await slabchunk(['convert', '-', folder, '--shape', '10,10,10', '--chunk', '5,5,5'], { stdin: Readable.from([Buffer.alloc(300)]) });
  assert.is(r.code, 1);
  assert.ok(fs.existsSync(folder));
  assert.equal(fs.readdirSync(folder), []);
});

cli('--attributes stores a JSON object with the array; anything else is exit 2 before anything is written', async () => {
  const input = path.join(dir, 'attrs.raw');
  fs.writeFileSync(input, Buffer.alloc(4 * 4 * 4, 1));
  const store = path.join(dir, 'attrs.zarr');
  const ok = await slabchunk(['convert', input, store, '--shape', '4,4,4', '--attributes', '{"sample": "brain 3", "n": 2}']);
  assert.is(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(store, 'zarr.json'), 'utf8')).attributes, { sample: 'brain 3', n: 2 });
  for (const bad of ['[1]', '{nope', '3']) {
    const r = await slabchunk(['convert', input, path.join(dir, 'attrs-bad.zarr'), '--shape', '4,4,4', '--attributes', bad]);
    assert.is(r.code, 2, bad);
    assert.match(r.stderr, /attributes must be a JSON object/);
    assert.not.ok(fs.existsSync(path.join(dir, 'attrs-bad.zarr')));
  }
});

cli('the real binary: exit codes and --help', () => {
  const help = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--help'], { encoding: 'utf8' });
  assert.is(help.status, 0);
  assert.match(help.stdout, /--shape X,Y,Z/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'convert', 'nope.raw', path.join(dir, 'nope.zarr'), '--shape', '1,1,1'], { encoding: 'utf8' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /cannot read input nope\.raw: ENOENT/);
  const unknown = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'frobnicate'], { encoding: 'utf8' });
  assert.is(unknown.status, 2);
});

cli.run();
