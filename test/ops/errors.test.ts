/** Faults of a run reach the user as SlabchunkErrors with a code that says what failed and a message that says where. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SlabchunkError } from '../../src/core/errors.ts';
import { convert } from '../../src/ops/convert.ts';
import { exportStore } from '../../src/ops/export.ts';
import { verifyStore } from '../../src/ops/verify.ts';
import { ZarrSink } from '../../src/zarr/sink.ts';
import { slabchunk } from '../lib/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-errors-'));
const input = path.join(dir, 'vol.raw');
fs.writeFileSync(input, Buffer.from(Array.from({ length: 8 * 8 * 8 }, (_, i) => (i * 13) & 0xff)));

async function freshStore(name: string): Promise<string> {
  const store = path.join(dir, name);
  await convert(input, store, { shape: [8, 8, 8], chunk: [4, 4, 4], codec: 'zstd:1' });
  return store;
}

async function rejection(promise: Promise<unknown>): Promise<SlabchunkError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  assert.instance(error, SlabchunkError);
  return error as SlabchunkError;
}

test('a chunk that does not decode: verify names it as damaged, export fails with EREAD naming the key, exit 1', async () => {
  const store = await freshStore('damaged.zarr');
  fs.writeFileSync(path.join(store, 'c/1/0/1'), Buffer.from('not a zstd frame'));
  const { damaged, differing } = await verifyStore(input, store);
  assert.equal(differing, []);
  assert.equal(damaged.map((d) => d.key), ['c/1/0/1']);
  assert.match(damaged[0]!.message, /^chunk c\/1\/0\/1 of .*damaged\.zarr: .*zstd/);
  const out = path.join(dir, 'out.raw');
  const x = await rejection(exportStore(store, fs.createWriteStream(out)));
  assert.is(x.code, 'EREAD');
  assert.is(x.key, 'c/1/0/1');
  const r = await slabchunk(['verify', input, store]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /c\/1\/0\/1/);
});

test('metadata that is not JSON: EREAD naming the file', async () => {
  const store = await freshStore('bad-json.zarr');
  fs.writeFileSync(path.join(store, 'zarr.json'), '{ nope');
  const e = await rejection(verifyStore(input, store));
  assert.is(e.code, 'EREAD');
  assert.match(e.message, /bad-json\.zarr\/zarr\.json: not valid JSON/);
  const r = await slabchunk(['info', store]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /zarr\.json: not valid JSON/);
});

test('an output that cannot be written: EWRITE, not a bare errno error', async () => {
  const store = await freshStore('ok.zarr');
  const e = await rejection(exportStore(store, fs.createWriteStream(path.join(dir, 'missing-folder', 'out.raw'))));
  assert.is(e.code, 'EWRITE');
  assert.match(e.message, /ENOENT/);
});

test('an input stream that fails mid-read: EREAD naming the input, and the fresh store is removed', async () => {
  const store = path.join(dir, 'broken-input.zarr');
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent++ === 0) this.push(Buffer.alloc(100));
      else this.destroy(Object.assign(new Error('input/output error'), { code: 'EIO' }));
    },
  });
  const e = await rejection(convert(source, store, { shape: [8, 8, 8], chunk: [4, 4, 4] }));
  assert.is(e.code, 'EREAD');
  assert.match(e.message, /could not read <stream>: input\/output error/);
  assert.is((e.cause as NodeJS.ErrnoException).code, 'EIO');
  assert.not.ok(fs.existsSync(store));
});

test('a v2 store whose fill_value is null (legal in v2) verifies: absent chunks and padding read as 0', async () => {
  const store = path.join(dir, 'null-fill.zarr');
  await convert(input, store, { shape: [8, 8, 8], chunk: [4, 4, 4], zarrFormat: 2, codec: 'raw' });
  const zarray = JSON.parse(fs.readFileSync(path.join(store, '.zarray'), 'utf8'));
  fs.writeFileSync(path.join(store, '.zarray'), JSON.stringify({ ...zarray, fill_value: null }));
  assert.equal((await verifyStore(input, store)).differing, []);
});

test('bad arguments found before anything is written are SlabchunkErrors with exit 2, never bare errno or TypeErrors', async () => {
  assert.throws(() => new ZarrSink(path.join(dir, 'never.zarr'), { dtype: 'uint8', chunk: [2, 2, 2] } as never),
    (e: SlabchunkError) => e instanceof SlabchunkError && e.code === 'EINVALID' && /shape must have 3 entries/.test(e.message));
  // An output path below a file: ENOTDIR from the filesystem becomes ESTORE naming the path.
  const r = await slabchunk(['convert', input, path.join(input, 'sub.zarr'), '--shape', '8,8,8']);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot use .*vol\.raw\/sub\.zarr as the output \(ENOTDIR/);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
