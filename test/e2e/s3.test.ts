/**
 * `convert` to and from a real object store (a local OpenStack Swift with the S3 API, test/lib/object-store.ts),
 * each store compared object by object with the same conversion written to a folder: v2 and v3, sharded with shards
 * big enough for multipart uploads, parts in parallel processes, a SIGKILL then `--resume`, the server stopped
 * mid-run then restarted and resumed, `--overwrite` refusing a prefix that holds no Zarr store, and a raw input read
 * from a bucket with ranged GETs. Skipped with a message where no server can start.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { slabchunk, spawnSlabchunk } from '../lib/cli.ts';
import { fileTree } from '../lib/trees.ts';
import { objectStore, type ObjectStore } from '../lib/object-store.ts';
import { generateVolume } from '../../bench/lib/volume.ts';

const s3test = suite('s3');
let dir = '';
let s3: ObjectStore | null = null;
let input = '';
s3test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-s3-'));
  s3 = await objectStore();
  input = path.join(dir, 'in.raw');
  await generateVolume(input, SHAPE, 'uint16', 7);
});
s3test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const SHAPE = [96, 80, 128] as const;
const GEOMETRY = ['--shape', SHAPE.join(','), '--dtype', 'uint16'];

/** Every object below `prefix/` in `bucket`, by its key relative to the prefix, with its bytes (read with the SDK, not our store). */
async function objectTree(bucket: string, prefix: string): Promise<Map<string, Buffer>> {
  const tree = new Map<string, Buffer>();
  for (const key of await s3!.listKeys(bucket, `${prefix}/`)) {
    const body = (await s3!.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!;
    tree.set(key.slice(prefix.length + 1), Buffer.from(await body.transformToByteArray()));
  }
  return tree;
}

/** The store's objects are the folder's files, name for name and byte for byte (the lock and temporaries aside). */
function assertSameStore(objects: Map<string, Buffer>, folder: string, label: string): void {
  const files = new Map([...fileTree(folder)].map(([rel, bytes]) => [rel.split(path.sep).join('/'), bytes]));
  assert.equal([...objects.keys()].sort(), [...files.keys()].sort(), `${label}: keys differ from the folder's files`);
  for (const [key, bytes] of files) assert.ok(objects.get(key)!.equals(bytes), `${label}: ${key} differs`);
}

/** The same conversion into a folder: what the bucket must hold. */
async function reference(name: string, args: string[]): Promise<string> {
  const out = path.join(dir, `${name}.zarr`);
  const ran = await slabchunk(['convert', input, out, ...GEOMETRY, ...args]);
  assert.is(ran.code, 0, ran.stderr);
  return out;
}

/** Runs the CLI in a child process that finds the server through the environment, as a user's shell would. */
async function cli(args: string[]): Promise<{ code: number | null; stderr: string; signal: NodeJS.Signals | null }> {
  return spawnSlabchunk(args, { env: s3!.env, killAfterMs: 120_000 }).exited;
}

/**
 * Starts `convert` into `s3://bucket/prefix` as a child process and resolves once the bucket holds its first row
 * marker (or the child has ended): a run caught mid-way, with finished rows to keep.
 */
async function convertUntilFirstRow(bucket: string, prefix: string, args: string[], killAfterMs: number) {
  const run = spawnSlabchunk(['convert', input, `s3://${bucket}/${prefix}`, ...GEOMETRY, ...args], { env: s3!.env, killAfterMs });
  let ended = false;
  void run.exited.then(() => { ended = true; });
  while (!ended) {
    const page = await s3!.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/.slabchunk/rows/`, MaxKeys: 1 }));
    if ((page.Contents ?? []).length > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return run;
}

const CASES: Record<string, string[]> = {
  'v3 unsharded gzip, F input': ['--chunk', '32,32,16', '--codec', 'gzip:6'],
  'v3 sharded zstd+crc32c, index at the start': ['--chunk', '16,16,16', '--shard', '48,80,32', '--codec', 'zstd:3+crc32c', '--shard-index', 'start'],
  'v2 blosc, C input': ['--chunk', '32,16,32', '--zarr-format', '2', '--codec', 'blosc', '--input-order', 'C'],
  'OME-Zarr pyramid, sharded': ['--chunk', '16,16,16', '--shard', '32,32,32', '--codec', 'zstd:1', '--ome', '--levels', '3'],
};

for (const [name, args] of Object.entries(CASES)) {
  s3test(`convert to s3:// writes the objects the same conversion writes as files: ${name}`, async () => {
    if (!s3) return;
    const bucket = await s3.bucket();
    const ran = await cli(['convert', input, `s3://${bucket}/data/x.zarr`, ...GEOMETRY, ...args]);
    assert.is(ran.code, 0, ran.stderr);
    assertSameStore(await objectTree(bucket, 'data/x.zarr'), await reference(`case-${Object.keys(CASES).indexOf(name)}`, args), name);
  });
}

s3test('shards above the multipart threshold go up as multipart uploads, byte-identical; verify and export read them back', async () => {
  if (!s3) return;
  const bucket = await s3.bucket();
  // One raw shard of 66 MiB and its index: above the 64 MiB threshold, nine parts of 8 MiB.
  const big = path.join(dir, 'big.raw');
  const geometry = ['--shape', '256,256,528', '--dtype', 'uint16', '--chunk', '64,64,48', '--shard', '256,256,528', '--codec', 'raw'];
  await generateVolume(big, [256, 256, 528], 'uint16', 3);
  const url = `s3://${bucket}/big.zarr`;
  const ran = await cli(['convert', big, url, ...geometry]);
  assert.is(ran.code, 0, ran.stderr);
  const folder = path.join(dir, 'big.zarr');
  const local = await slabchunk(['convert', big, folder, ...geometry]);
  assert.is(local.code, 0, local.stderr);
  assertSameStore(await objectTree(bucket, 'big.zarr'), folder, 'multipart');
  const head = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.zarr/c/0/0/0', Range: 'bytes=0-0' }));
  assert.match(head.ETag ?? '', /-9"?$/, `the shard was not a nine-part upload (ETag ${head.ETag})`);
  const verified = await cli(['verify', big, url]);
  assert.is(verified.code, 0, verified.stderr);
  const out = path.join(dir, 'exported.raw');
  const exported = await cli(['export', url, out]);
  assert.is(exported.code, 0, exported.stderr);
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(big)), 'export differs from the input');
});

s3test('three parts in parallel processes write the one store a single run writes', async () => {
  if (!s3) return;
  const bucket = await s3.bucket();
  const args = ['--chunk', '16,16,16', '--shard', '32,32,32', '--codec', 'zstd:3'];
  const url = `s3://${bucket}/parts.zarr`;
  const runs = await Promise.all([0, 1, 2].map((i) => cli(['convert', input, url, ...GEOMETRY, ...args, '--part', `${i}/3`])));
  for (const r of runs) assert.is(r.code, 0, r.stderr);
  assertSameStore(await objectTree(bucket, 'parts.zarr'), await reference('parts', args), 'parts');
});

s3test('a pyramid in two parts, then finish reading level rows back from the bucket: the single run\'s objects', async () => {
  if (!s3) return;
  const bucket = await s3.bucket();
  const args = ['--chunk', '16,16,16', '--codec', 'zstd:1', '--ome', '--levels', '3'];
  const url = `s3://${bucket}/pyramid.zarr`;
  const runs = await Promise.all([0, 1].map((i) => cli(['convert', input, url, ...GEOMETRY, ...args, '--part', `${i}/2`])));
  for (const r of runs) assert.is(r.code, 0, r.stderr);
  const finished = await cli(['finish', url]);
  assert.is(finished.code, 0, finished.stderr);
  assertSameStore(await objectTree(bucket, 'pyramid.zarr'), await reference('pyramid', args), 'parts + finish');
});

s3test('SIGKILL mid-run, then --resume: byte-identical', async () => {
  if (!s3) return;
  const bucket = await s3.bucket();
  const args = ['--chunk', '16,16,16', '--codec', 'gzip:1'];
  const url = `s3://${bucket}/killed.zarr`;
  const { child, exited } = await convertUntilFirstRow(bucket, 'killed.zarr', args, 120_000);
  child.kill('SIGKILL');
  const end = await exited;
  assert.is(end.signal, 'SIGKILL', `the run ended before it could be killed: ${end.stderr}`);
  const resumed = await cli(['convert', input, url, ...GEOMETRY, ...args, '--resume']);
  assert.is(resumed.code, 0, resumed.stderr);
  assertSameStore(await objectTree(bucket, 'killed.zarr'), await reference('killed', args), 'resumed');
});

s3test('the server stopped mid-run: the run fails naming --resume, keeps its rows; restarted, --resume completes byte-identical', async () => {
  if (!s3) return;
  const bucket = await s3.bucket();
  const args = ['--chunk', '16,16,16', '--codec', 'gzip:1'];
  const url = `s3://${bucket}/stopped.zarr`;
  const { exited } = await convertUntilFirstRow(bucket, 'stopped.zarr', args, 300_000);
  await s3.stop();
  let end;
  try {
    end = await exited;
  } finally {
    await s3.start();
  }
  assert.is(end.code, 1, `the run did not fail: ${end.stderr}`);
  assert.match(end.stderr, /--resume/);
  const resumed = await cli(['convert', input, url, ...GEOMETRY, ...args, '--resume']);
  assert.is(resumed.code, 0, resumed.stderr);
  assertSameStore(await objectTree(bucket, 'stopped.zarr'), await reference('stopped', args), 'resumed after restart');
});

s3test('--overwrite replaces a Zarr prefix, never a prefix of other objects, and never a sibling sharing its name\'s start', async () => {
  if (!s3) return;
  const bucket = await s3.bucket();
  const put = (key: string, body: string) => s3!.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  await put('photos/cat.jpg', 'meow');
  const refused = await cli(['convert', input, `s3://${bucket}/photos`, ...GEOMETRY, '--overwrite']);
  assert.is(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /holds no Zarr store/);
  assert.equal([...(await objectTree(bucket, 'photos')).keys()], ['cat.jpg']);

  const args = ['--chunk', '32,32,32'];
  const url = `s3://${bucket}/x.zarr`;
  await put('x.zarr.bak/keep', 'sibling');
  await put('x.zarr/zarr.json', '{"zarr_format":3,"node_type":"group"}');
  await put('x.zarr/c/9/9/9', 'stale chunk of the old store');
  const notEmpty = await cli(['convert', input, url, ...GEOMETRY, ...args]);
  assert.is(notEmpty.code, 2, notEmpty.stderr);
  assert.match(notEmpty.stderr, /--overwrite/);
  const replaced = await cli(['convert', input, url, ...GEOMETRY, ...args, '--overwrite']);
  assert.is(replaced.code, 0, replaced.stderr);
  assertSameStore(await objectTree(bucket, 'x.zarr'), await reference('overwrite', args), 'overwritten');
  assert.equal([...(await objectTree(bucket, 'x.zarr.bak')).keys()], ['keep'], 'a sibling prefix was touched');
});

s3test('a raw input in a bucket, read with ranged GETs: whole, and as two parts, equal to the file\'s conversion', async () => {
  if (!s3) return;
  const bucket = await s3.bucket();
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/vol.raw', Body: fs.readFileSync(input) }));
  const args = ['--chunk', '32,32,32', '--codec', 'zstd:3'];
  const expected = await reference('raw-input', args);
  const whole = path.join(dir, 'from-s3.zarr');
  const ran = await cli(['convert', `s3://${bucket}/in/vol.raw`, whole, ...GEOMETRY, ...args]);
  assert.is(ran.code, 0, ran.stderr);
  assert.equal(fileTree(whole), fileTree(expected));
  const parted = path.join(dir, 'from-s3-parts.zarr');
  const parts = await Promise.all([0, 1].map((i) => cli(['convert', `s3://${bucket}/in/vol.raw`, parted, ...GEOMETRY, ...args, '--part', `${i}/2`])));
  for (const r of parts) assert.is(r.code, 0, r.stderr);
  assert.equal(fileTree(parted), fileTree(expected));
  const short = await cli(['convert', `s3://${bucket}/in/vol.raw`, path.join(dir, 'short.zarr'), '--shape', '96,80,129', '--dtype', 'uint16']);
  assert.is(short.code, 2, short.stderr);
  const missing = await cli(['convert', `s3://${bucket}/in/none.raw`, path.join(dir, 'none.zarr'), ...GEOMETRY]);
  assert.is(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /s3:\/\/.*none\.raw/);
});

s3test.run();
