/**
 * Bad TIFF and HDF5 input is refused before anything is written (exit 2, the file and the problem named), and a
 * file that goes bad mid-run fails the run cleanly, keeps the finished rows, and `--resume` completes it once the
 * file is whole again: byte-identical to a clean run.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SlabchunkError } from '../../src/core/errors.ts';
import { convert } from '../../src/ops/convert.ts';
import { slabchunk, spawnSlabchunk } from '../lib/cli.ts';
import { fixturesMissing, makeFixtures } from '../lib/formats.ts';
import { assertSameTree, markedRows } from '../lib/trees.ts';

const missing = fixturesMissing();
const bad = suite('bad TIFF and HDF5 input');
let dir = '';
bad.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-bad-input-'));
  if (missing) return;
  makeFixtures(dir, [24, 20, 6], 'uint16', [
    { name: 'slices', kind: 'slices' }, { name: 'multi.tif', kind: 'multipage' },
    { name: 'v.h5', kind: 'h5-chunked' }, { name: 'ome.tif', kind: 'ome', channels: 2 },
  ]);
  makeFixtures(path.join(dir, 'other'), [24, 21, 1], 'uint16', [{ name: 'slices', kind: 'slices' }]);
});
bad.after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `slabchunk convert ARGS` must exit 2 with a message matching every pattern, and leave `store` absent. */
async function refused(args: string[], patterns: RegExp[]): Promise<void> {
  const store = path.join(dir, `refused-${Math.random().toString(36).slice(2)}.zarr`);
  const ran = await slabchunk(['convert', ...args, store, '--no-progress']);
  assert.is(ran.code, 2, `exit 2 for ${args.join(' ')}: ${ran.stderr}`);
  for (const pattern of patterns) assert.match(ran.stderr, pattern);
  assert.not.ok(fs.existsSync(store), 'nothing written');
}

bad('truncated TIFF, non-TIFF named .tif, a slice of another size, 2-D / 4-D / missing HDF5 datasets', async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const truncated = path.join(dir, 'truncated.tif');
  const whole = fs.readFileSync(path.join(dir, 'multi.tif'));
  fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
  await refused([truncated], [/truncated\.tif/, /truncated|damaged/]);

  const fake = path.join(dir, 'fake.tif');
  fs.writeFileSync(fake, 'P5 this is a PGM, not a TIFF');
  await refused([fake], [/fake\.tif is named like a TIFF but is not one/]);

  const mixed = path.join(dir, 'mixed');
  fs.cpSync(path.join(dir, 'slices'), mixed, { recursive: true });
  fs.copyFileSync(path.join(dir, 'other', 'slices', 'slice_0.tif'), path.join(mixed, 'slice_3.tif'));
  await refused([mixed], [/slice_3\.tif is 24×21 uint16, but .*slice_0\.tif is 24×20 uint16/]);

  const gone = path.join(dir, 'gone');
  fs.cpSync(path.join(dir, 'slices'), gone, { recursive: true });
  fs.chmodSync(path.join(gone, 'slice_2.tif'), 0o000);
  // Root reads files whatever their mode: an unreadable file is then made by truncating it to nothing.
  if (process.getuid?.() === 0) fs.writeFileSync(path.join(gone, 'slice_2.tif'), '');
  await refused([gone], [/slice_2\.tif/]);

  await refused([path.join(dir, 'empty-folder-that-is-missing')], [/cannot read input .*ENOENT/]);
  fs.mkdirSync(path.join(dir, 'empty'));
  await refused([path.join(dir, 'empty')], [/holds no \.tif or \.tiff files/]);
  await refused([path.join(dir, 'nothing_*.tif')], [/no file matches/]);

  const h5 = path.join(dir, 'v.h5');
  await refused([`${h5}:/flat`], [/v\.h5:\/flat is 2-D/]);
  await refused([`${h5}:/four`], [/v\.h5:\/four is 4-D/]);
  await refused([`${h5}:/group/missing`], [/has no dataset \/group\/missing/, /\/group\/volume \(24×20×6\)/]);
  await refused([`${h5}:/group`], [/is a group, not a dataset/]);
  await refused([h5], [/name the dataset as .*v\.h5:\/path\/to\/dataset/, /\/group\/volume/]);
  await refused([`${path.join(dir, 'multi.tif')}:/x`], [/multi\.tif is not an HDF5 file/]);
});

bad('unsupported compression, RGB pixels, conflicting --shape / --dtype, raw-only options', async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const jpeg = path.join(dir, 'jpeg.tif');
  // A compression code geotiff does not decode for us: written by hand into the Compression tag's value.
  const bytes = fs.readFileSync(path.join(dir, 'multi.tif'));
  const patched = Buffer.from(bytes);
  patchCompression(patched, 34712);
  fs.writeFileSync(jpeg, patched);
  await refused([jpeg], [/jpeg\.tif page 0 uses TIFF compression 34712/, /tiffcp -c zip/]);

  const fill = path.join(dir, 'fill2.tif');
  execFileSync('tiffcp', ['-f', 'lsb2msb', path.join(dir, 'multi.tif'), fill]);
  await refused([fill], [/fill2\.tif page 0 has FillOrder 2/, /tiffcp -f msb2lsb/]);

  const rgb = path.join(dir, 'rgb.tif');
  fs.writeFileSync(rgb, rgbTiff());
  await refused([rgb], [/3 samples per pixel/]);

  await refused([path.join(dir, 'multi.tif'), '--shape', '24,20,7'], [/--shape 24×20×7 differs from the shape read from .*multi\.tif, 24×20×6/]);
  await refused([path.join(dir, 'multi.tif'), '--dtype', 'uint8'], [/--dtype uint8 differs from the type read from .*uint16/]);
  await refused([path.join(dir, 'multi.tif'), '--header', '8'], [/--header describes raw input/]);
  await refused([path.join(dir, 'multi.tif'), '--channel', '1'], [/one channel and one time point/]);
  await refused([path.join(dir, 'slices'), '--time', '1'], [/a folder of slices has one plane per file/]);
  await refused([path.join(dir, 'ome.tif'), '--channel', '2'], [/--channel 2 is outside .*channels 0…1/]);
  const ok = await slabchunk(['convert', path.join(dir, 'multi.tif'), path.join(dir, 'same.zarr'), '--shape', '24,20,6', '--dtype', 'uint16', '--no-progress']);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /read from .*multi\.tif: multi-page TIFF, 6 of 6 pages \(uncompressed\), 24×20×6 uint16/);
});

bad('damage the headers do not show: a plugin filter, a corrupt HDF5 chunk, a TIFF cut at its tail, a corrupt LZW strip', async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const at = path.join(dir, 'damage');
  fs.mkdirSync(at);
  execFileSync('/usr/bin/python3', ['-c', `
import numpy as np, h5py
v = (np.arange(8 * 40 * 40) % 4099).astype('<u2').reshape(8, 40, 40)
with h5py.File('${at}/lzf.h5', 'w') as f: f.create_dataset('d', data=v, chunks=(4, 16, 16), compression='lzf')
with h5py.File('${at}/gz.h5', 'w') as f: f.create_dataset('d', data=v, chunks=(4, 16, 16), compression='gzip')
`]);
  // h5wasm lacks lzf: refused by its filter id, before anything is written (h5wasm would return garbage).
  await refused([`${path.join(at, 'lzf.h5')}:/d`], [/compressed with lzf \(filter 32000\), which slabchunk cannot decode/, /h5repack/]);

  const whole = fs.readFileSync(path.join(at, 'gz.h5'));
  fs.writeFileSync(path.join(at, 'cut.h5'), whole.subarray(0, Math.floor(whole.length / 3)));
  await refused([`${path.join(at, 'cut.h5')}:/d`], [/cut\.h5 cannot be opened as HDF5 \(HDF5: truncated file/]);

  // A chunk past the first one damaged: the run fails naming HDF5's reason, and no row holding it is marked.
  const gz = fs.readFileSync(path.join(at, 'gz.h5'));
  for (let i = Math.floor(gz.length / 2); i < Math.floor(gz.length / 2) + 200; i++) gz[i]! ^= 0x5a;
  fs.writeFileSync(path.join(at, 'gzbad.h5'), gz);
  const store = path.join(at, 'gzbad.zarr');
  const ran = await slabchunk(['convert', `${path.join(at, 'gzbad.h5')}:/d`, store, '--chunk', '16,16,4', '--no-progress']);
  assert.is(ran.code, 1, ran.stderr);
  assert.match(ran.stderr, /could not read .*gzbad\.h5:\/d planes z=\d…\d+: HDF5: /);
  if (fs.existsSync(store)) assert.ok(markedRows(store).length < 2, 'the row with the damaged chunk is not marked');

  // libtiff writes pixels first and the IFD last: cut at the tail, the strip offsets are gone.
  const tail = path.join(at, 'tail.tif');
  execFileSync('tiffcp', ['-r', '1', path.join(dir, 'multi.tif'), path.join(at, 'rows.tif')]);
  const rows = fs.readFileSync(path.join(at, 'rows.tif'));
  fs.writeFileSync(tail, rows.subarray(0, rows.length - 20));
  await refused([tail], [/tail\.tif/, /truncated|damaged/]);

  // A deflate strip of a later page with flipped bytes: the run fails naming the file and the plane.
  const zip = path.join(at, 'zip.tif');
  execFileSync('tiffcp', ['-c', 'zip', '-r', '4', path.join(dir, 'multi.tif'), zip]);
  const zipped = fs.readFileSync(zip);
  for (let i = Math.floor(zipped.length * 0.6); i < Math.floor(zipped.length * 0.6) + 64; i++) zipped[i]! ^= 0xa5;
  fs.writeFileSync(zip, zipped);
  const inflated = await slabchunk(['convert', zip, path.join(at, 'zip.zarr'), '--chunk', '24,20,1', '--no-progress']);
  assert.ok(inflated.code === 1 || inflated.code === 2, `a clean failure (exit ${inflated.code}): ${inflated.stderr}`);
  assert.match(inflated.stderr, /zip\.tif.*(deflate|damaged|truncated)/);

  // A damaged LZW strip fails the run with a message; geotiff's own decoder looped until V8 aborted the process.
  const lzw = path.join(at, 'lzw.tif');
  execFileSync('tiffcp', ['-c', 'lzw', path.join(dir, 'multi.tif'), lzw]);
  const bytes = fs.readFileSync(lzw);
  const firstStrip = bytes.readUInt32LE(4) > 64 ? 8 : 0;
  for (let i = firstStrip + 40; i < firstStrip + 400 && i < bytes.length; i++) bytes[i]! = (i * 37) & 0xff;
  fs.writeFileSync(lzw, bytes);
  const child = spawnSlabchunk(['convert', lzw, path.join(at, 'lzw.zarr'), '--no-progress'], { killAfterMs: 60_000 });
  const exit = await child.exited;
  assert.is(exit.signal, null, `no crash: ${exit.stderr.slice(-400)}`);
  assert.ok(exit.code === 1 || exit.code === 2, `a clean failure (exit ${exit.code}): ${exit.stderr.slice(-400)}`);
  assert.match(exit.stderr, /lzw\.tif/);
});

bad('a TIFF truncated mid-run fails the run, keeps finished rows; --resume after the file is whole ends byte-identical', async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const at = path.join(dir, 'midrun');
  makeFixtures(at, [64, 48, 40], 'uint16', [{ name: 'stack.tif', kind: 'bigtiff', compression: 'zlib' }], 3);
  const input = path.join(at, 'stack.tif');
  const original = fs.readFileSync(input);
  const clean = path.join(dir, 'midrun-clean.zarr');
  await convert(input, clean, { chunk: [32, 32, 4], threads: 2 });
  const store = path.join(dir, 'midrun.zarr');
  const rowBytes = 64 * 48 * 4 * 2;
  let cut = false;
  const error = await convert(input, store, {
    chunk: [32, 32, 4], threads: 2,
    onProgress: ({ bytesIn }) => {
      // Three rows read: with two row buffers, row 0 is marked before row 2 is read.
      if (!cut && bytesIn >= 3 * rowBytes) {
        cut = true;
        fs.truncateSync(input, Math.floor(original.length / 2));
      }
    },
  }).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof SlabchunkError, 'the run fails');
  assert.is(error.code, 'EREAD');
  assert.match(error.message, /stack\.tif/);
  assert.match(error.message, /rows of .* are finished and kept; once the cause is fixed, rerun with --resume/);
  const kept = markedRows(store);
  assert.ok(kept.length >= 1 && kept.length < 10, `finished rows kept: ${kept.join(',')}`);
  fs.writeFileSync(input, original);
  await convert(input, store, { chunk: [32, 32, 4], threads: 2, resume: true });
  assertSameTree(store, clean, (rel) => !rel.startsWith('.slabchunk'), 'resumed store equals a clean run');
});

/** Sets the Compression tag (259) of the first IFD of a little-endian classic TIFF. */
function patchCompression(tiff: Buffer, code: number): void {
  const ifd = tiff.readUInt32LE(4);
  const count = tiff.readUInt16LE(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (tiff.readUInt16LE(entry) === 259) {
      tiff.writeUInt16LE(code, entry + 8);
      return;
    }
  }
  throw new Error('no Compression tag');
}

/** A 2×2 RGB TIFF (three 8-bit samples per pixel), written field by field. */
function rgbTiff(): Buffer {
  const entries: [number, number, number, number][] = [
    [256, 3, 1, 2], [257, 3, 1, 2], [258, 3, 1, 8], [259, 3, 1, 1], [262, 3, 1, 2],
    [273, 4, 1, 8 + 2 + 10 * 12 + 4], [277, 3, 1, 3], [278, 3, 1, 2], [279, 4, 1, 12], [284, 3, 1, 1],
  ];
  const ifdBytes = 2 + entries.length * 12 + 4;
  const out = Buffer.alloc(8 + ifdBytes + 12);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, n, value], i) => {
    const at = 10 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(n, at + 4);
    if (type === 3) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
  });
  return out;
}

bad.run();
