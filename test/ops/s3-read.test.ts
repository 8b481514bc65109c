/**
 * The read side on an object store: stores written to a folder by `convert`, uploaded file by file (PutObject,
 * keys the relative paths) to a fresh bucket of a real S3 server (test/lib/object-store.ts), then read back from
 * `s3://bucket/x.zarr` by `info`, `verify`, `export`, `openStore`/`openPyramid` and `view` — each must give what it
 * gives on the folder. v3 sharded (index at the end and at the start), v2, and an OME-Zarr pyramid; the library
 * through an S3Store, the CLI through the location and `--s3-endpoint`. A sharded read is counted at the HTTP
 * level: shard indexes and inner chunks come with ranged GETs, never whole shards. Skipped where no server runs.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { generateVolume } from '../../bench/lib/volume.ts';
import type { Vec3 } from '../../src/core/geometry.ts';
import { exportStore } from '../../src/ops/export.ts';
import { inspectStore, type StoreInfo } from '../../src/ops/inspect.ts';
import { verifyStore } from '../../src/ops/verify.ts';
import { serveStore } from '../../src/ops/view.ts';
import { isGroup, openLevel, openPyramid } from '../../src/zarr/pyramid-reader.ts';
import { openStore, type OpenedStore } from '../../src/zarr/reader.ts';
import { S3Store } from '../../src/zarr/stores/s3.ts';
import { s3Client } from '../../src/zarr/stores/s3-client.ts';
import { slabchunk, spawnSlabchunk } from '../lib/cli.ts';
import { fileTree } from '../lib/trees.ts';
import { objectStore, type ObjectStore } from '../lib/object-store.ts';

const s3read = suite('s3 read');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-s3-read-'));
let s3: ObjectStore | null = null;
const SHAPE: Vec3 = [40, 36, 44];
const input = path.join(dir, 'in.raw');
const GEOMETRY = ['--shape', SHAPE.join(','), '--dtype', 'uint16'];

/** A store written to a folder and the same files uploaded to a bucket. */
interface Uploaded {
  folder: string;
  bucket: string;
  url: string;
  /** The bucket's store, through the test server's client (its credentials). */
  store: S3Store;
}

const CASES: Record<string, string[]> = {
  'v3 sharded, index at the end': ['--chunk', '8,8,8', '--shard', '16,16,16', '--codec', 'zstd:1'],
  'v3 sharded, index at the start': ['--chunk', '8,8,8', '--shard', '16,24,16', '--codec', 'gzip:1+crc32c', '--shard-index', 'start'],
  'v2 gzip': ['--chunk', '16,12,8', '--zarr-format', '2', '--codec', 'gzip:1'],
  'OME-Zarr pyramid, sharded': ['--chunk', '8,8,8', '--shard', '16,16,16', '--codec', 'zstd:1', '--ome', '--levels', '3'],
};
const built = new Map<string, Promise<Uploaded>>();

s3read.before(async () => {
  s3 = await objectStore();
  await generateVolume(input, SHAPE, 'uint16', 5);
});
s3read.after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Converts case `name` to a folder once, and uploads every file of it (`.slabchunk/` too) to a fresh bucket. */
function uploaded(name: string): Promise<Uploaded> {
  let found = built.get(name);
  if (!found) {
    found = (async () => {
      const folder = path.join(dir, `case-${Object.keys(CASES).indexOf(name)}.zarr`);
      const ran = await slabchunk(['convert', input, folder, ...GEOMETRY, ...CASES[name]!]);
      assert.is(ran.code, 0, ran.stderr);
      const bucket = await s3!.bucket();
      for (const [rel, bytes] of fileTree(folder)) {
        await s3!.client.send(new PutObjectCommand({ Bucket: bucket, Key: `data/x.zarr/${rel.split(path.sep).join('/')}`, Body: bytes }));
      }
      const url = `s3://${bucket}/data/x.zarr`;
      return { folder, bucket, url, store: new S3Store(url, { client: s3!.client }) };
    })();
    built.set(name, found);
  }
  return found;
}

/** `info` of the folder as it must read on the bucket: its locations the URL's, its bytes the same. */
function asRemote(info: StoreInfo, folder: string, url: string): unknown {
  const text = JSON.stringify(info, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
  return JSON.parse(text.split(JSON.stringify(folder).slice(1, -1)).join(url)) as Record<string, unknown>;
}

const plain = (info: StoreInfo): unknown => JSON.parse(JSON.stringify(info, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)));

/** What the reader makes of an opened array, without its store objects. */
const shapeOf = (s: OpenedStore) => ({ format: s.format, dtype: s.dtype, stored: s.layout.stored, shape: s.layout.shape, fill: s.fill, shardIndex: s.shardIndex, metadata: s.metadata });

/** `exportStore` into a file; its bytes. */
async function exported(source: Parameters<typeof exportStore>[0], name: string, level?: number): Promise<Buffer> {
  const out = path.join(dir, name);
  await exportStore(source, fs.createWriteStream(out), level === undefined ? {} : { level });
  return fs.readFileSync(out);
}

for (const name of Object.keys(CASES)) {
  s3read(`info, verify, export, openStore/openPyramid read the bucket as the folder: ${name}`, async () => {
    if (!s3) return;
    const { folder, url, store } = await uploaded(name);
    const remote = await inspectStore(store);
    assert.equal(plain(remote), asRemote(await inspectStore(folder), folder, url), 'info');
    assert.ok(remote.filesPresent > 0 && remote.filesPresent <= remote.filesTotal);

    const verified = await verifyStore(input, store);
    assert.equal(verified.differing, [], 'verify: differing chunks');
    assert.equal(verified.damaged, [], 'verify: damaged chunks');
    assert.equal(verified, await verifyStore(input, folder), 'verify: the folder\'s result');

    assert.ok((await exported(store, `${name}-0.raw`)).equals(fs.readFileSync(input)), 'export differs from the input');

    assert.is(await isGroup(store), await isGroup(folder));
    if (await isGroup(folder)) {
      const [a, b] = [await openPyramid(store), await openPyramid(folder)];
      assert.is(a.path, url);
      assert.equal(a.levels.map((l) => l.store.path), b.levels.map((l) => `${url}/${l.datasetPath}`));
      assert.equal(a.levels.map((l) => [l.scale, l.factor, shapeOf(l.store)]), b.levels.map((l) => [l.scale, l.factor, shapeOf(l.store)]));
      assert.equal({ ...a, store: 0, levels: 0, path: 0 }, { ...b, store: 0, levels: 0, path: 0 });
      // A lower level exports byte for byte as the folder's does.
      const last = a.levels.length - 1;
      assert.ok((await exported(store, `${name}-s3-${last}.raw`, last)).equals(await exported(folder, `${name}-fs-${last}.raw`, last)), `level ${last} differs`);
      assert.equal(shapeOf(await openLevel(store, last)), shapeOf(await openLevel(folder, last)));
    } else {
      const [a, b] = [await openStore(store), await openStore(folder)];
      assert.is(a.path, url);
      assert.equal(shapeOf(a), shapeOf(b));
    }
  });
}

/** GetObject requests the client sends: key and Range header. */
type Sent = { key: string; range?: string };

/** A client of the test server that records every GetObject it sends. */
function countingClient(sent: Sent[]) {
  const { env } = s3!;
  const client = s3Client({
    endpoint: s3!.endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  client.middlewareStack.add((next, context) => async (args) => {
    if (context.commandName === 'GetObjectCommand') {
      const { Key, Range } = args.input as { Key: string; Range?: string };
      sent.push({ key: Key, ...(Range !== undefined ? { range: Range } : {}) });
    }
    return next(args);
  }, { step: 'initialize', name: 'countGets' });
  return client;
}

s3read('a sharded array is read with ranged GETs: one per shard index, one per inner chunk, never a whole shard', async () => {
  if (!s3) return;
  for (const name of ['v3 sharded, index at the end', 'v3 sharded, index at the start']) {
    const { url, folder } = await uploaded(name);
    const sent: Sent[] = [];
    const store = new S3Store(url, { client: countingClient(sent) });
    assert.ok((await exported(store, `${name}-counted.raw`)).equals(fs.readFileSync(input)), `${name}: export differs`);
    const prefix = url.replace(/^s3:\/\/[^/]+\//, '');
    const shardGets = sent.filter((s) => s.key.startsWith(`${prefix}/c/`));
    const unranged = shardGets.filter((s) => s.range === undefined);
    assert.equal(unranged, [], `${name}: whole-shard GETs`);
    const info = await inspectStore(folder);
    // Every shard's index once (zarrita caches it), then each inner chunk present once.
    // (A shard that is all fill is absent: its index read finds nothing, and nothing more is asked of it.)
    const indexGets = shardGets.filter((s) => name.endsWith('end') ? s.range!.startsWith('bytes=-') : s.range!.startsWith('bytes=0-'));
    const indexed = new Set(indexGets.map((s) => s.key)).size;
    assert.is(indexGets.length, indexed, `${name}: a shard index read twice`);
    assert.ok(indexed >= info.filesPresent && indexed <= info.filesTotal, `${name}: ${indexed} shard index reads for ${info.filesPresent} shards`);
    assert.is(shardGets.length, indexed + info.innerChunksPresent!, `${name}: ranged GETs`);

    // info reads each shard's index with one ranged GET, the chunks not at all.
    sent.length = 0;
    await inspectStore(store);
    const infoGets = sent.filter((s) => s.key.startsWith(`${prefix}/c/`));
    assert.is(infoGets.length, info.filesPresent, `${name}: info's GETs of shards`);
    assert.ok(infoGets.every((s) => s.range !== undefined), `${name}: info read a whole shard`);
  }
});

s3read('view through the store: a range is one ranged GET, a HEAD no GET', async () => {
  if (!s3) return;
  const { folder, url } = await uploaded('v3 sharded, index at the end');
  const sent: Sent[] = [];
  const client = countingClient(sent);
  const server = await serveStore(new S3Store(url, { client }), { viewerDir: viewer() });
  try {
    const key = 'c/0/0/0';
    const file = fs.readFileSync(path.join(folder, 'c', '0', '0', '0'));
    sent.length = 0;
    const head = await fetch(`${server.storeUrl}${key}`, { method: 'HEAD' });
    assert.is(head.headers.get('content-length'), String(file.length));
    assert.equal(sent, [], 'HEAD read the object');
    const r = await fetch(`${server.storeUrl}${key}`, { headers: { Range: 'bytes=-20' } });
    assert.is(r.status, 206);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(file.subarray(-20)));
    assert.equal(sent.map((s) => s.range), [`bytes=${file.length - 20}-${file.length - 1}`]);
  } finally {
    await server.close();
  }
});

/** A stand-in for the built viewer. */
function viewer(): string {
  const viewerDir = path.join(dir, 'viewer');
  fs.mkdirSync(viewerDir, { recursive: true });
  fs.writeFileSync(path.join(viewerDir, 'index.html'), '<!doctype html><title>viewer</title>');
  return viewerDir;
}

s3read('view serves the bucket through the store: ranges, HEAD, CORS, .slabchunk hidden', async () => {
  if (!s3) return;
  const { folder, store } = await uploaded('v3 sharded, index at the end');
  const viewerDir = viewer();
  const [key] = [...fileTree(path.join(folder, 'c'))].map(([rel]) => `c/${rel.split(path.sep).join('/')}`);
  const file = fs.readFileSync(path.join(folder, ...key!.split('/')));
  const server = await serveStore(store, { viewerDir });
  try {
    assert.match(server.url, /zarr3:\/\//);
    assert.match(decodeURIComponent(server.url), /"name":"x\.zarr"/);
    const whole = await fetch(`${server.storeUrl}${key}`);
    assert.is(whole.status, 200);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(file), 'whole object');
    assert.is(whole.headers.get('access-control-allow-origin'), '*');
    for (const [range, first, last] of [['bytes=3-40', 3, 40], ['bytes=-20', file.length - 20, file.length - 1], [`bytes=10-`, 10, file.length - 1]] as const) {
      const r = await fetch(`${server.storeUrl}${key}`, { headers: { Range: range } });
      assert.is(r.status, 206, range);
      assert.is(r.headers.get('content-range'), `bytes ${first}-${last}/${file.length}`, range);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(file.subarray(first, last + 1)), range);
    }
    const head = await fetch(`${server.storeUrl}${key}`, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.headers.get('content-length'), String(file.length));
    const beyond = await fetch(`${server.storeUrl}${key}`, { headers: { Range: `bytes=${file.length}-` } });
    assert.is(beyond.status, 416);
    const meta = await fetch(`${server.storeUrl}zarr.json`);
    assert.equal(await meta.json(), JSON.parse(fs.readFileSync(path.join(folder, 'zarr.json'), 'utf8')));
    assert.is((await fetch(`${server.storeUrl}.slabchunk/job.json`)).status, 404);
    assert.is((await fetch(`${server.storeUrl}c/99/0/0`)).status, 404);
    assert.is((await fetch(`${server.storeUrl}`)).status, 404);
  } finally {
    await server.close();
  }
});

/** The server found through `--s3-endpoint`: the environment's endpoint is one where nothing listens. */
function cli(args: string[]) {
  const ran = spawnSlabchunk([...args, '--s3-endpoint', s3!.endpoint], { env: { ...s3!.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' }, killAfterMs: 120_000 });
  let stdout = '';
  ran.child.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
  return { ...ran, stdout: () => stdout };
}

s3read('the CLI reads s3:// locations with --s3-endpoint: info --json, verify, export --level, view', async () => {
  if (!s3) return;
  const { url, store, folder } = await uploaded('OME-Zarr pyramid, sharded');
  const info = cli(['info', url, '--json']);
  const ran = await info.exited;
  assert.is(ran.code, 0, ran.stderr);
  assert.equal(JSON.parse(info.stdout()), plain(await inspectStore(store)));

  const verified = await cli(['verify', input, url]).exited;
  assert.is(verified.code, 0, verified.stderr);
  assert.match(verified.stderr, /verified level 0 of s3:\/\//);

  const out = path.join(dir, 'cli-level1.raw');
  const exportedRun = await cli(['export', url, out, '--level', '1']).exited;
  assert.is(exportedRun.code, 0, exportedRun.stderr);
  assert.ok(fs.readFileSync(out).equals(await exported(folder, 'fs-level1.raw', 1)), 'export --level 1 differs');

  const missing = await cli(['info', `${url.replace(/x\.zarr$/, 'nothing.zarr')}`]).exited;
  assert.is(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /no Zarr array at s3:\/\/.*nothing\.zarr/);

  if (!fs.existsSync(path.join('dist', 'viewer', 'index.html'))) return;
  const view = cli(['view', url, '--no-open', '--port', '0']);
  try {
    for (let i = 0; i < 600 && !view.stdout().includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
    const viewerUrl = view.stdout().trim();
    assert.match(viewerUrl, /^http:\/\/127\.0\.0\.1:\d+\/viewer\/#!/);
    const storeUrl = `${new URL(viewerUrl).origin}/store/`;
    const meta = await fetch(`${storeUrl}zarr.json`);
    assert.is(meta.status, 200);
    assert.equal(await meta.json(), JSON.parse(fs.readFileSync(path.join(folder, 'zarr.json'), 'utf8')));
  } finally {
    view.child.kill('SIGINT');
    await view.exited;
  }
});

s3read.run();
