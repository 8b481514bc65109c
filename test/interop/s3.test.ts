/**
 * Interop in a bucket: stores `slabchunk convert` writes to a real object store (the local Swift with the S3 API of
 * test/lib/object-store.ts) are read back by tensorstore through its own `s3` kvstore on the same endpoint — no
 * download — and compared voxel for voxel with the raw volume they were written from (bench/peers/read_compare.py):
 * v3 sharded zstd, v3 sharded with a shard over the multipart threshold, v2 unsharded, and every level of an
 * `--ome` pyramid against the naive downsampling reference. A store with one flipped byte shows the check can fail.
 * Skipped with a message where tensorstore is absent or no server can start.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SETUP_HINT, tensorstorePython } from '../../bench/lib/python.ts';
import { volumeBuffer } from '../../bench/lib/volume.ts';
import type { Vec3 } from '../../src/core/geometry.ts';
import { S3_MULTIPART_THRESHOLD } from '../../src/zarr/stores/s3.ts';
import { spawnSlabchunk } from '../lib/cli.ts';
import { reference, type V } from '../lib/downsample-reference.ts';
import { objectStore, type ObjectStore } from '../lib/object-store.ts';
import { readBackS3, writeBatch, type Result } from '../lib/peers.ts';

interface Case {
  name: string;
  shape: Vec3;
  /** `convert` options beyond the geometry. */
  args: string[];
  /** The store is a pyramid: every level is compared with the reference. */
  ome?: true;
}

const CASES: Case[] = [
  { name: 'v3 sharded zstd:3', shape: [70, 60, 50], args: ['--chunk', '16,16,16', '--shard', '32,32,32', '--codec', 'zstd:3'] },
  // 256×256×520 uint16 raw is one 65 MiB shard: above the 64 MiB multipart threshold, so a multipart upload of
  // 8 MiB parts (checked below), which Swift stores as a manifest and segments that tensorstore reads by range.
  { name: 'v3 sharded raw, one shard over the multipart threshold', shape: [256, 256, 520], args: ['--chunk', '64,64,40', '--shard', '256,256,520', '--codec', 'raw'] },
  { name: 'v2 unsharded zstd:3', shape: [70, 60, 50], args: ['--zarr-format', '2', '--chunk', '16,16,16', '--codec', 'zstd:3'] },
  { name: 'v3 --ome pyramid (mean)', shape: [70, 60, 50], args: ['--chunk', '16,16,16', '--codec', 'zstd:3', '--ome'], ome: true },
  { name: 'v2 --ome pyramid (mean)', shape: [45, 38, 29], args: ['--zarr-format', '2', '--chunk', '8,8,8', '--codec', 'gzip:5', '--ome'], ome: true },
];
const MULTIPART = CASES[1]!;

const tensorstore = tensorstorePython();
if (!tensorstore) console.log(`s3 interop: skipping: tensorstore is not importable (${SETUP_HINT})`);
// The server starts only when there is a reader; objectStore() prints its own SKIP line when it cannot start.
const s3: ObjectStore | null = tensorstore ? await objectStore() : null;
if (tensorstore && !s3) console.log('s3 interop: skipping: no object store (see the SKIP line above)');
const run = tensorstore && s3 ? test : test.skip;

let dir = '';
let bucket = '';
/** Per case: the store URLs tensorstore compared (a pyramid's levels, else the store itself). */
const storesOf = new Map<Case, string[]>();
let results = new Map<string, Result>();
let flipped: { store: string; key: string } | null = null;

/** Runs `slabchunk ARGS` as a child process that finds the server through its environment; its stdout. */
async function cli(args: string[]): Promise<string> {
  const { child, exited } = spawnSlabchunk(args, { env: s3!.env, killAfterMs: 120_000 });
  let stdout = '';
  child.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
  const { code, signal, stderr } = await exited;
  assert.is(code, 0, `slabchunk ${args.join(' ')} failed (${signal ?? code}): ${stderr}`);
  return stdout;
}

interface Level { level: number; path: string; shape: Vec3; factor: Vec3 }

/** The uint16 F-order bytes of `data`. */
function u16Bytes(data: readonly V[]): Buffer {
  return Buffer.from(Uint16Array.from(data as number[]).buffer);
}

test.before(async () => {
  if (!tensorstore || !s3) return;
  dir = await mkdtemp(join(tmpdir(), 'slabchunk-s3-interop-'));
  bucket = await s3.bucket();
  const jobs: { store: string; raw: string; shape: Vec3; dtype: 'uint16'; order: 'F' }[] = [];
  for (const [i, c] of CASES.entries()) {
    const data = volumeBuffer(c.shape, 'uint16', 31 + i);
    const raw = join(dir, `${i}.raw`);
    await writeFile(raw, data);
    const store = `s3://${bucket}/cases/${i}.zarr`;
    const stdout = await cli(['convert', raw, store, '--shape', c.shape.join(','), '--dtype', 'uint16', ...c.args, '--json']);
    if (!c.ome) {
      storesOf.set(c, [store]);
      jobs.push({ store, raw, shape: c.shape, dtype: 'uint16', order: 'F' });
      continue;
    }
    // Every level against the reference applied level by level to the input (as test/interop/pyramid.test.ts).
    const summary = JSON.parse(stdout.trim().split('\n').find((l) => l.startsWith('{')) ?? '{}') as { levels?: Level[] };
    const levels = summary.levels ?? [];
    let values: V[] = Array.from(new Uint16Array(data.buffer, data.byteOffset, data.length / 2));
    let shape = c.shape;
    const stores: string[] = [];
    for (const level of levels) {
      if (level.level > 0) {
        values = reference('mean', 'uint16', values, [...shape] as [number, number, number], [...level.factor] as [number, number, number]);
        shape = level.shape;
      }
      const levelRaw = join(dir, `${i}-level${level.level}.raw`);
      await writeFile(levelRaw, u16Bytes(values));
      const levelStore = `${store}/${level.path}`;
      stores.push(levelStore);
      jobs.push({ store: levelStore, raw: levelRaw, shape, dtype: 'uint16', order: 'F' });
    }
    storesOf.set(c, stores);
  }
  // Control: a raw-codec store with one byte of one chunk object flipped in the bucket.
  const shape: Vec3 = [40, 36, 20];
  const raw = join(dir, 'flip.raw');
  await writeFile(raw, volumeBuffer(shape, 'uint16', 99));
  const store = `s3://${bucket}/flip.zarr`;
  await cli(['convert', raw, store, '--shape', shape.join(','), '--dtype', 'uint16', '--chunk', '8,8,8', '--codec', 'raw']);
  const chunks = (await s3.listKeys(bucket, 'flip.zarr/c/'));
  const victim = chunks[Math.floor(chunks.length / 2)]!;
  const bytes = Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: victim }))).Body!.transformToByteArray());
  bytes[0] ^= 0x10;
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: victim, Body: bytes }));
  flipped = { store, key: victim.slice('flip.zarr/'.length) };
  jobs.push({ store, raw, shape, dtype: 'uint16', order: 'F' });
  results = await readBackS3(tensorstore, await writeBatch(dir, 's3', jobs), s3.env);
});

test.after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const c of CASES) {
  run(`tensorstore's s3 kvstore reads ${c.name} (${c.shape.join('×')}) from the bucket equal to the ${c.ome ? 'reference, every level' : 'volume'}`, () => {
    const stores = storesOf.get(c);
    assert.ok(stores, `${c.name} was not written`);
    if (c.ome) assert.ok(stores.length >= 3, `${c.name}: a pyramid of several levels, got ${stores.length}`);
    for (const store of stores) {
      const r = results.get(store);
      assert.ok(r, `tensorstore gave no result for ${store}`);
      assert.ok(r.ok, `tensorstore read ${store} differently: ${JSON.stringify(r)}`);
    }
  });
}

run('the shard over the multipart threshold was uploaded in parts (a multipart ETag)', async () => {
  const [store] = storesOf.get(MULTIPART)!;
  const key = `${store!.slice(`s3://${bucket}/`.length)}/c/0/0/0`;
  const head = await s3!.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  assert.ok(head.ContentLength! > S3_MULTIPART_THRESHOLD, `${key} holds ${head.ContentLength} bytes, not more than the multipart threshold`);
  assert.match(head.ETag ?? '', /-\d+"?$/, `${key}: ETag ${head.ETag} is not a multipart upload's`);
});

run('tensorstore names the chunk holding a flipped byte in the bucket (the check can fail)', () => {
  const r = results.get(flipped!.store);
  assert.ok(r && !r.ok, 'the flipped byte went unnoticed');
  assert.is(r.chunk, flipped!.key);
});

test.run();
