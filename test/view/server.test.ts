/**
 * The view server over real HTTP: byte ranges (normal, open-ended, suffix, past the end, unsatisfiable), HEAD,
 * CORS and its preflight, 404 and 403 (`..` in any spelling), the request log, the viewer's URL state, and the
 * errors for a folder that is not a store or a viewer that is not built. Bytes are checked against the files.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlabchunkError } from '../../src/core/errors.ts';
import { byteRange, serveStore, viewableStore, type ViewServer } from '../../src/ops/view.ts';

let dir: string;
let store: string;
let viewerDir: string;
let server: ViewServer;
const SHARD = 'level/0/c/0/0/0';

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slabchunk-view-'));
  store = join(dir, 'image.zarr');
  viewerDir = join(dir, 'viewer');
  await mkdir(join(store, 'level/0/c/0/0'), { recursive: true });
  await mkdir(viewerDir);
  await writeFile(join(store, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }));
  await writeFile(join(store, SHARD), randomBytes(10_000));
  await writeFile(join(store, 'empty'), '');
  await writeFile(join(viewerDir, 'index.html'), '<!doctype html><title>viewer</title>');
  await writeFile(join(dir, 'secret'), 'outside the store');
  await mkdir(join(store, '.slabchunk'));
  await writeFile(join(store, '.slabchunk', 'job.json'), '{}');
  server = await serveStore(store, { port: 0, viewerDir });
});
test.after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw request: `path` goes out exactly as given (fetch would resolve `..` before sending). */
function request(path: string, options: { method?: string; headers?: http.OutgoingHttpHeaders } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const shardBytes = () => readFile(join(store, SHARD));

test('GET a whole file: 200, its bytes, Accept-Ranges and Content-Length', async () => {
  const file = await shardBytes();
  const r = await request(`/store/${SHARD}`);
  assert.is(r.status, 200);
  assert.ok(r.body.equals(file));
  assert.is(r.headers['accept-ranges'], 'bytes');
  assert.is(r.headers['content-length'], String(file.length));
  assert.is(r.headers['cache-control'], 'no-store');
});

test('Range: bytes=A-B, A- and -N answer 206 with the bytes and Content-Range; B past the end is clipped', async () => {
  const file = await shardBytes();
  const size = file.length;
  const cases: [string, number, number][] = [
    ['bytes=100-199', 100, 199],
    ['bytes=0-0', 0, 0],
    ['bytes=9000-', 9000, size - 1],
    ['bytes=-16', size - 16, size - 1],
    ['bytes=-20000', 0, size - 1],
    ['bytes=9990-20000', 9990, size - 1],
  ];
  for (const [range, first, last] of cases) {
    const r = await request(`/store/${SHARD}`, { headers: { Range: range } });
    assert.is(r.status, 206, range);
    assert.is(r.headers['content-range'], `bytes ${first}-${last}/${size}`, range);
    assert.is(r.headers['content-length'], String(last - first + 1), range);
    assert.ok(r.body.equals(file.subarray(first, last + 1)), `${range}: the file's bytes`);
  }
});

test('Range: unsatisfiable ranges answer 416 with bytes */size; malformed or multiple ranges get the whole file', async () => {
  const size = (await shardBytes()).length;
  for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=-0']) {
    const r = await request(`/store/${SHARD}`, { headers: { Range: range } });
    assert.is(r.status, 416, range);
    assert.is(r.headers['content-range'], `bytes */${size}`, range);
    assert.is(r.body.length, 0);
  }
  for (const range of ['bytes=5-2', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-']) {
    const r = await request(`/store/${SHARD}`, { headers: { Range: range } });
    assert.is(r.status, 200, range);
    assert.is(r.body.length, size, range);
  }
});

test('byteRange: the range arithmetic, including an empty file', () => {
  assert.equal(byteRange(undefined, 10), undefined);
  assert.equal(byteRange('bytes=2-4', 10), [2, 4]);
  assert.equal(byteRange('bytes=2-', 10), [2, 9]);
  assert.equal(byteRange('bytes=-3', 10), [7, 9]);
  assert.equal(byteRange('bytes=-30', 10), [0, 9]);
  assert.equal(byteRange('bytes=10-', 10), 'unsatisfiable');
  assert.equal(byteRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(byteRange('bytes=-5', 0), undefined);
  assert.equal(byteRange('bytes=4-2', 10), undefined);
});

test('an empty file: 200 with no body', async () => {
  const r = await request('/store/empty');
  assert.is(r.status, 200);
  assert.is(r.headers['content-length'], '0');
  assert.is(r.body.length, 0);
});

test('HEAD: the headers of GET, no body; with a Range, the range headers', async () => {
  const size = (await shardBytes()).length;
  const whole = await request(`/store/${SHARD}`, { method: 'HEAD' });
  assert.is(whole.status, 200);
  assert.is(whole.headers['content-length'], String(size));
  assert.is(whole.headers['accept-ranges'], 'bytes');
  assert.is(whole.body.length, 0);
  const tail = await request(`/store/${SHARD}`, { method: 'HEAD', headers: { Range: 'bytes=-100' } });
  assert.is(tail.status, 206);
  assert.is(tail.headers['content-range'], `bytes ${size - 100}-${size - 1}/${size}`);
  assert.is(tail.body.length, 0);
  const missing = await request('/store/nope', { method: 'HEAD' });
  assert.is(missing.status, 404);
});

test('CORS: any origin, range headers exposed; a preflight for a suffix Range is answered', async () => {
  const r = await request(`/store/${SHARD}`, { headers: { Origin: 'https://neuroglancer-demo.appspot.com', Range: 'bytes=0-9' } });
  assert.is(r.headers['access-control-allow-origin'], '*');
  const exposed = String(r.headers['access-control-expose-headers']).split(/,\s*/);
  for (const header of ['Content-Range', 'Content-Length', 'Accept-Ranges']) assert.ok(exposed.includes(header), header);
  const pre = await request(`/store/${SHARD}`, {
    method: 'OPTIONS',
    headers: { Origin: 'https://example.org', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range', 'Access-Control-Request-Private-Network': 'true' },
  });
  assert.is(pre.status, 204);
  assert.is(pre.headers['access-control-allow-origin'], '*');
  assert.match(String(pre.headers['access-control-allow-headers']), /range/i);
  assert.match(String(pre.headers['access-control-allow-methods']), /GET/);
  assert.is(pre.headers['access-control-allow-private-network'], 'true');
});

test('404 for a missing key, a folder, or a path outside /store/ and /viewer/; 405 for other methods', async () => {
  assert.is((await request('/store/level/0/c/9/9/9')).status, 404);
  assert.is((await request('/store/level/0/c')).status, 404);
  assert.is((await request('/store/.slabchunk/job.json')).status, 404, 'slabchunk\'s own records are not served');
  assert.is((await request('/elsewhere')).status, 404);
  assert.is((await request('/store/zarr.json', { method: 'PUT' })).status, 405);
});

test('`..` is refused in every spelling, and nothing outside the store is served', async () => {
  for (const path of ['/store/../secret', '/store/level/../../secret', '/store/%2e%2e/secret', '/store/level%2f..%2f..%2fsecret', '/store/..%5csecret', '/viewer/../secret']) {
    const r = await request(path);
    assert.is(r.status, 403, path);
    assert.not.match(r.body.toString(), /outside the store/, path);
  }
  assert.is((await request('/store/%zz')).status, 400);
});

test('the viewer: /viewer/ is its index.html, / redirects to the URL with the store open', async () => {
  const index = await request('/viewer/');
  assert.is(index.status, 200);
  assert.match(index.headers['content-type'] ?? '', /text\/html/);
  assert.match(index.body.toString(), /<title>viewer<\/title>/);
  const root = await request('/');
  assert.is(root.status, 302);
  assert.is(`http://127.0.0.1:${server.port}${root.headers.location}`, server.url);
});

test('the URL opens neuroglancer with one image layer whose source is the store over HTTP', () => {
  const [origin, fragment] = server.url.split('#!') as [string, string];
  assert.is(origin, `http://127.0.0.1:${server.port}/viewer/`);
  assert.is(server.storeUrl, `http://127.0.0.1:${server.port}/store/`);
  const state = JSON.parse(decodeURIComponent(fragment)) as { layers: { type: string; source: string; name: string }[] };
  assert.equal(state.layers, [{ type: 'image', source: `zarr3://${server.storeUrl}`, name: 'image.zarr' }]);
});

test('the request log: method, decoded path, range and status of each answered request', async () => {
  await request('/store/level/0/c/0/0/%30', { headers: { Range: 'bytes=-8' } });
  await new Promise((resolve) => setImmediate(resolve));
  const last = server.requests.at(-1);
  assert.equal(last, { method: 'GET', path: `/store/${SHARD}`, range: 'bytes=-8', status: 206 });
  assert.ok(server.requests.some((r) => r.status === 403 && r.path === '/store/../secret'));
});

test('the log keeps the latest requests only', async () => {
  const small = await serveStore(store, { port: 0, viewerDir, logLimit: 3 });
  try {
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve) => http.get(`${small.storeUrl}k${i}`, (res) => res.resume().on('end', resolve)));
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(small.requests.length >= 3 && small.requests.length < 6, `kept ${small.requests.length}`);
    assert.is(small.requests.at(-1)!.path, '/store/k9');
  } finally {
    await small.close();
  }
});

test('a v2 store is opened as zarr2://', async () => {
  const v2 = join(dir, 'v2.zarr');
  await mkdir(v2);
  await writeFile(join(v2, '.zgroup'), '{"zarr_format":2}');
  assert.equal(await viewableStore(v2), { zarrFormat: 2, node: 'group' });
  const s = await serveStore(v2, { port: 0, viewerDir });
  try {
    assert.match(decodeURIComponent(s.url), new RegExp(`"source":"zarr2://${s.storeUrl}"`));
  } finally {
    await s.close();
  }
});

test('errors: ESTORE for a folder that is not a store or a path that does not exist, EINVALID for an unbuilt viewer or a taken port', async () => {
  const error = async (promise: Promise<unknown>): Promise<SlabchunkError> => {
    try {
      await promise;
    } catch (e) {
      return e as SlabchunkError;
    }
    throw new Error('expected an error');
  };
  let e = await error(serveStore(viewerDir, { viewerDir }));
  assert.instance(e, SlabchunkError);
  assert.is(e.code, 'ESTORE');
  assert.match(e.message, /not a Zarr store: it has no zarr.json, .zgroup or .zarray/);
  e = await error(serveStore(join(dir, 'missing'), { viewerDir }));
  assert.is(e.code, 'ESTORE');
  assert.match(e.message, /does not exist/);
  e = await error(serveStore(store, { viewerDir: join(dir, 'unbuilt') }));
  assert.is(e.code, 'EINVALID');
  assert.match(e.message, /viewer is not built .*run npm run build:viewer/);
  e = await error(serveStore(store, { viewerDir, port: server.port }));
  assert.is(e.code, 'EINVALID');
  assert.match(e.message, new RegExp(`port ${server.port} on 127.0.0.1 is in use`));
});

test.run();
